"""The challenge model: a folder under ``challenges/`` and its ``challenge.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from grader import languages
from grader.errors import ChallengeError
from grader.languages import Language
from runners.base import RunLimits


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    """Resource limits the sandbox enforces; each one hit is reported."""

    wall_seconds: Annotated[float, Field(gt=0, le=3600)] = 60
    test_seconds: Annotated[float, Field(gt=0, le=600)] = 5
    memory_mb: Annotated[int, Field(ge=32, le=16384)] = 256
    cpus: Annotated[float, Field(gt=0, le=16)] = 1.0
    pids: Annotated[int, Field(ge=8, le=4096)] = 64
    output_kb: Annotated[int, Field(ge=1, le=65536)] = 256
    disk_mb: Annotated[int, Field(ge=1, le=4096)] = 64


class Weights(_Strict):
    """Score weights; they sum to 100."""

    correctness: Annotated[float, Field(ge=0, le=100)] = 70
    style: Annotated[float, Field(ge=0, le=100)] = 15
    complexity: Annotated[float, Field(ge=0, le=100)] = 10
    docs: Annotated[float, Field(ge=0, le=100)] = 5

    @model_validator(mode="after")
    def _sum_to_100(self) -> Weights:
        total = self.correctness + self.style + self.complexity + self.docs
        if abs(total - 100) > 1e-9:
            raise ValueError(f"weights must sum to 100, they sum to {total:g}")
        return self


RUFF_DEFAULT_SELECT = ("E", "F", "W", "B", "SIM", "UP", "N", "C4")


class StyleConfig(_Strict):
    """How linter findings become a style score.

    ``select``/``ignore`` are rule-code prefixes of the language's linter. ``select``
    unset means the project's default rule set for that linter (for ruff:
    ``RUFF_DEFAULT_SELECT``; for the others, their image's configuration).
    """

    select: list[str] | None = None
    ignore: list[str] = Field(default_factory=list)
    zero_at_per_100_lines: Annotated[float, Field(gt=0)] = 10.0

    def ruff_select(self) -> list[str]:
        return list(self.select) if self.select is not None else list(RUFF_DEFAULT_SELECT)


class ComplexityConfig(_Strict):
    """How cyclomatic complexity and maintainability become a complexity score."""

    max_rank: Literal["A", "B", "C", "D", "E", "F"] = "B"
    hotspots: Annotated[int, Field(ge=1, le=100)] = 5


class Feedback(_Strict):
    """What a candidate sees of their own result."""

    public_tests: Literal["full", "pass-fail", "none"] = "full"
    hidden_tests: Literal["count", "pass-fail", "none"] = "count"
    score: bool = False


_MUTANT_ID = re.compile(r"^[^#\s]+#[0-9a-f]{8}$")


class HealthConfig(_Strict):
    """What ``grader validate --strict`` demands of the challenge's tests."""

    # Share of the reference's mutants the tests must kill (accepted ones left out).
    min_mutation_score: Annotated[float, Field(ge=0, le=100)] = 80
    # How many times the reference runs to find tests whose outcome changes.
    flaky_runs: Annotated[int, Field(ge=2, le=50)] = 5
    # Below this ratio of limit to time taken, the time margins check warns.
    min_time_margin: Annotated[float, Field(ge=1, le=1000)] = 3
    # Known-bad submissions (bad/<name>/ with expect.toml) the challenge must have.
    min_known_bad: Annotated[int, Field(ge=0, le=100)] = 2
    # Surviving mutants accepted as equivalent: mutant id (file#hash) → why.
    accepted: dict[str, str] = Field(default_factory=dict)

    @field_validator("accepted")
    @classmethod
    def _accepted_ids_and_reasons(cls, value: dict[str, str]) -> dict[str, str]:
        for key, reason in value.items():
            if not _MUTANT_ID.match(key):
                raise ValueError(
                    f"{key!r} is not a mutant id (ids look like solution.py#1a2b3c4d, "
                    "as grader validate --strict prints them)"
                )
            if len(reason.strip()) < 10:
                raise ValueError(f"{key!r}: give the reason the mutant is accepted (a sentence)")
        return value


class Isolation(StrEnum):
    """How the tests reach the candidate's code."""

    PROCESS = "process"
    IN_PROCESS = "in-process"


class TestsConfig(_Strict):
    """Per-test weights, keyed by test id (``tests/hidden/test_x.py::test_y``)."""

    weights: dict[str, Annotated[float, Field(gt=0, le=1000)]] = Field(default_factory=dict)


class ChallengeConfig(_Strict):
    """The parsed ``challenge.toml``."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    language: str
    version: Annotated[int, Field(ge=1)] = 1
    entrypoint: str | None = None
    # None: the language's default (process isolation for Python).
    isolation: Isolation | None = None
    limits: Limits = Field(default_factory=Limits)
    scoring: Weights = Field(default_factory=Weights)
    style: StyleConfig = Field(default_factory=StyleConfig)
    complexity: ComplexityConfig = Field(default_factory=ComplexityConfig)
    tests: TestsConfig = Field(default_factory=TestsConfig)
    feedback: Feedback = Field(default_factory=Feedback)
    health: HealthConfig = Field(default_factory=HealthConfig)

    @field_validator("language")
    @classmethod
    def _language_is_known(cls, value: str) -> str:
        if value not in languages.LANGUAGES:
            known = ", ".join(languages.names())
            raise ValueError(f"unknown language {value!r} (known: {known})")
        return value

    @field_validator("isolation")
    @classmethod
    def _isolation_fits_the_language(
        cls, value: Isolation | None, info: ValidationInfo
    ) -> Isolation | None:
        language = info.data.get("language")
        if value is None or language not in languages.LANGUAGES:
            return value
        modes = languages.get(language).isolation_modes
        if value.value not in modes:
            raise ValueError(
                f"{language} supports {' and '.join(repr(m) for m in modes)}, not {value.value!r}"
            )
        return value

    @model_validator(mode="after")
    def _entrypoint_is_relative(self) -> ChallengeConfig:
        if self.entrypoint is not None:
            p = Path(self.entrypoint)
            if p.is_absolute() or ".." in p.parts or not self.entrypoint.strip():
                raise ValueError("entrypoint must be a relative path inside the submission")
        return self


@dataclass(frozen=True)
class Challenge:
    """A loaded, validated challenge folder."""

    slug: str
    root: Path
    config: ChallengeConfig

    @property
    def language(self) -> Language:
        return languages.get(self.config.language)

    @property
    def isolation(self) -> str:
        """The isolation mode runs use: the challenge's, or its language's default."""
        chosen = self.config.isolation
        return chosen.value if chosen is not None else self.language.default_isolation()

    def run_limits(self) -> RunLimits:
        lim = self.config.limits
        return RunLimits(
            wall_seconds=lim.wall_seconds,
            test_seconds=lim.test_seconds,
            memory_mb=lim.memory_mb,
            cpus=lim.cpus,
            pids=lim.pids,
            output_kb=lim.output_kb,
            disk_mb=lim.disk_mb,
        )

    @property
    def statement(self) -> Path:
        return self.root / "README.md"

    @property
    def starter_dir(self) -> Path:
        return self.root / "starter"

    @property
    def solution_dir(self) -> Path:
        return self.root / "solution"

    @property
    def tests_dir(self) -> Path:
        return self.root / "tests"

    @property
    def bad_dir(self) -> Path:
        """Known-bad submissions, one folder each with its ``expect.toml``."""
        return self.root / "bad"

    def test_files(self) -> list[str]:
        """Relative paths (``tests/public/test_a.py``) of every test file: public ones
        first, each side sorted; which files are tests is the language's rule."""
        return self.language.test_files(self.root)

    def visibility(self, test_id: str) -> Literal["public", "hidden"]:
        """Which side a test id belongs to; anything not under tests/public is hidden."""
        return "public" if test_id.startswith("tests/public/") else "hidden"

    def weight(self, test_id: str) -> float:
        return self.config.tests.weights.get(test_id, 1.0)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def parse_config(text: str, path: Path) -> ChallengeConfig:
    """Parse and validate ``challenge.toml`` text; errors name the file and the key."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChallengeError(f"{path}: not valid TOML: {exc}") from None
    try:
        return ChallengeConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            problems.append(f"{_format_loc(err['loc'])}: {msg}")
        raise ChallengeError(f"{path}: " + "; ".join(problems)) from None


def load_challenge(path: str | Path) -> Challenge:
    """Load a challenge folder, checking its layout and its ``challenge.toml``."""
    root = Path(path)
    if not root.exists():
        raise ChallengeError(f"{root}: no such challenge folder")
    if not root.is_dir():
        raise ChallengeError(f"{root}: not a folder (a challenge is a folder with challenge.toml)")
    root = root.resolve()
    toml_path = root / "challenge.toml"
    if not toml_path.is_file():
        raise ChallengeError(f"{toml_path}: missing (every challenge folder needs one)")
    try:
        text = toml_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ChallengeError(f"{toml_path}: cannot be read: {exc}") from None
    config = parse_config(text, toml_path)
    challenge = Challenge(slug=root.name, root=root, config=config)
    _check_layout(challenge)
    return challenge


def _check_layout(ch: Challenge) -> None:
    for sub in ("solution", "starter"):
        if not (ch.root / sub).is_dir():
            raise ChallengeError(f"{ch.root / sub}: missing folder ({sub}/ is required)")
    if not ch.test_files():
        patterns = " or ".join(ch.language.test_patterns)
        raise ChallengeError(
            f"{ch.tests_dir}: no test files (expected files named {patterns} "
            "under tests/public/ or tests/hidden/)"
        )
    for key in ch.config.tests.weights:
        file_part = key.split("::", 1)[0]
        if "::" not in key or not (ch.root / file_part).is_file():
            raise ChallengeError(
                f'{ch.root / "challenge.toml"}: tests.weights."{key}": no such test file '
                f"(keys look like tests/hidden/test_x.py::test_name)"
            )
    if ch.config.entrypoint and not (ch.solution_dir / ch.config.entrypoint).is_file():
        raise ChallengeError(
            f"{ch.root / 'challenge.toml'}: entrypoint: {ch.config.entrypoint} is not in solution/"
        )
