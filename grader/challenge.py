"""The challenge model: a folder under ``challenges/`` and its ``challenge.toml``."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, replace
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
    # Counted only when weighted: a challenge without tests/perf/ keeps 0.
    performance: Annotated[float, Field(ge=0, le=100)] = 0

    @model_validator(mode="after")
    def _sum_to_100(self) -> Weights:
        total = self.correctness + self.style + self.complexity + self.docs + self.performance
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


class PerformanceConfig(_Strict):
    """How the performance cases (``tests/perf/``) are measured and scored.

    A case scores 100 up to ``full_at_ratio`` (candidate time / reference time) and 0
    from ``zero_at_ratio`` on (see ``grader.scoring``). ``case_seconds`` is each case's
    time budget, ``repetitions`` the repetitions per input size (both overridable per
    case), ``min_time_ms`` the least time one measurement takes (calls are repeated
    within it), ``wall_seconds`` the whole performance run's limit.
    """

    full_at_ratio: Annotated[float, Field(ge=1.0, le=100)] = 1.2
    zero_at_ratio: Annotated[float, Field(gt=1.0, le=1000)] = 5.0
    case_seconds: Annotated[float, Field(gt=0, le=600)] = 20.0
    repetitions: Annotated[int, Field(ge=3, le=31)] = 7
    min_time_ms: Annotated[float, Field(gt=0, le=10_000)] = 50.0
    wall_seconds: Annotated[float, Field(gt=0, le=3600)] = 180.0

    @model_validator(mode="after")
    def _zero_past_full(self) -> PerformanceConfig:
        if self.zero_at_ratio <= self.full_at_ratio:
            raise ValueError("zero_at_ratio must be larger than full_at_ratio")
        return self


class Feedback(_Strict):
    """What a candidate sees of their own result."""

    public_tests: Literal["full", "pass-fail", "none"] = "full"
    hidden_tests: Literal["count", "pass-fail", "none"] = "count"
    score: bool = False
    # While an invited candidate's time window is open, show nothing of the hidden tests
    # (nor the score, which holds them): resubmissions cannot probe them.
    hide_hidden_until_deadline: bool = False


class SimilarityConfig(_Strict):
    """When two submissions count as alike (``grader.similarity``)."""

    threshold: Annotated[float, Field(ge=0, le=1)] = 0.4
    enabled: bool = True


class RankingConfig(_Strict):
    """How rankings pick one row per candidate."""

    per_candidate: Literal["best", "last"] = "best"


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


# Ports of a service run's loopback the service cannot take: the launcher's control
# port and the databases'.
RESERVED_PORTS = frozenset({7412, 5432, 3306, 6379})
SERVICE_LANGUAGE_KEYS = "[service.start] and [service.build]"


class ServiceConfig(_Strict):
    """``[service]``: where the service listens and how it is started, per language."""

    port: Annotated[int, Field(ge=1024, le=65535)] = 8080
    # Polled until it answers 2xx; None: until the port accepts connections.
    ready: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    ready_seconds: Annotated[float, Field(gt=0, le=600)] = 30
    # Shell commands per language (run by sh -c in the submission's folder); a language
    # left out gets its default (see ``grader.languages``). build = "" skips the build.
    start: dict[str, Annotated[str, Field(min_length=1, max_length=2000)]] = Field(
        default_factory=dict
    )
    build: dict[str, Annotated[str, Field(max_length=2000)]] = Field(default_factory=dict)

    @field_validator("port")
    @classmethod
    def _port_is_free(cls, value: int) -> int:
        if value in RESERVED_PORTS:
            taken = ", ".join(str(p) for p in sorted(RESERVED_PORTS))
            raise ValueError(f"port {value} is taken by the run (reserved: {taken})")
        return value

    @field_validator("ready")
    @classmethod
    def _ready_is_a_path(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("/") or any(c.isspace() for c in value)):
            raise ValueError("ready must be a URL path starting with / (e.g. /healthz)")
        return value


class DatabaseConfig(_Strict):
    """A SQL database of a service run; ``schema`` (a file of the challenge) is loaded
    before the service starts."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_file: str | None = Field(default=None, alias="schema")
    memory_mb: Annotated[int, Field(ge=64, le=4096)] = 256

    @field_validator("schema_file")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None:
            p = Path(value)
            if p.is_absolute() or ".." in p.parts or not value.strip():
                raise ValueError("schema must be a relative path inside the challenge folder")
        return value


class RedisConfig(_Strict):
    """Redis for a service run (in memory, empty at start)."""

    memory_mb: Annotated[int, Field(ge=32, le=4096)] = 128


class Databases(_Strict):
    """``[databases]``: each one fresh per run, private to it, with random credentials."""

    postgres: DatabaseConfig | None = None
    mysql: DatabaseConfig | None = None
    redis: RedisConfig | None = None

    def names(self) -> list[str]:
        return [n for n in ("postgres", "mysql", "redis") if getattr(self, n) is not None]


class ChallengeConfig(_Strict):
    """The parsed ``challenge.toml``."""

    title: Annotated[str, Field(min_length=1, max_length=200)]
    # "tests": the tests import the candidate's code; "service": they reach the
    # candidate's HTTP service (see docs: Service challenges).
    kind: Literal["tests", "service"] = "tests"
    # A tests challenge's language; a service challenge names ``languages`` instead.
    language: str | None = None
    languages: list[str] | None = None
    service: ServiceConfig | None = None
    databases: Databases = Field(default_factory=Databases)
    version: Annotated[int, Field(ge=1)] = 1
    entrypoint: str | None = None
    # None: the language's default (process isolation for Python).
    isolation: Isolation | None = None
    limits: Limits = Field(default_factory=Limits)
    scoring: Weights = Field(default_factory=Weights)
    style: StyleConfig = Field(default_factory=StyleConfig)
    complexity: ComplexityConfig = Field(default_factory=ComplexityConfig)
    performance: PerformanceConfig = Field(default_factory=PerformanceConfig)
    tests: TestsConfig = Field(default_factory=TestsConfig)
    feedback: Feedback = Field(default_factory=Feedback)
    similarity: SimilarityConfig = Field(default_factory=SimilarityConfig)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)

    @field_validator("language")
    @classmethod
    def _language_is_known(cls, value: str | None) -> str | None:
        if value is not None and value not in languages.LANGUAGES:
            known = ", ".join(languages.names())
            raise ValueError(f"unknown language {value!r} (known: {known})")
        return value

    @field_validator("languages")
    @classmethod
    def _languages_are_known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return value
        if not value:
            raise ValueError("name at least one language")
        known = ", ".join(languages.names())
        for name in value:
            if name not in languages.LANGUAGES:
                raise ValueError(f"unknown language {name!r} (known: {known})")
        if len(set(value)) != len(value):
            raise ValueError("a language is listed twice")
        return value

    @model_validator(mode="after")
    def _kind_fits(self) -> ChallengeConfig:
        if self.kind == "tests":
            if self.language is None:
                raise ValueError("language: Field required (the challenge's language, e.g. python)")
            for key, value in (("languages", self.languages), ("service", self.service)):
                if value is not None:
                    raise ValueError(f'{key}: only a service challenge (kind = "service") has it')
            if self.databases.names():
                raise ValueError('databases: only a service challenge (kind = "service") has them')
            return self
        if self.language is not None:
            raise ValueError("language: a service challenge names languages = [...] instead")
        if self.languages is None:
            raise ValueError('languages: Field required (e.g. languages = ["python", "go"])')
        if self.isolation is not None:
            raise ValueError("isolation: a service challenge's tests always run apart from it")
        svc = self.service or ServiceConfig()
        for table, commands in (("start", svc.start), ("build", svc.build)):
            for name in commands:
                if name not in self.languages:
                    raise ValueError(
                        f"service.{table}.{name}: {name} is not in languages "
                        f"({', '.join(self.languages)})"
                    )
        return self

    @field_validator("isolation")
    @classmethod
    def _isolation_fits_the_language(
        cls, value: Isolation | None, info: ValidationInfo
    ) -> Isolation | None:
        language = info.data.get("language")
        if value is None or not isinstance(language, str) or language not in languages.LANGUAGES:
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
    """A loaded, validated challenge folder.

    A service challenge is graded in one of its ``languages`` at a time: ``chosen``
    (see :meth:`for_language`; the first listed until one is chosen) decides the
    starter, the reference, the image and the analysis; its tests are always pytest.
    """

    slug: str
    root: Path
    config: ChallengeConfig
    chosen: str | None = None

    @property
    def is_service(self) -> bool:
        return self.config.kind == "service"

    @property
    def languages(self) -> list[str]:
        """Every language a submission may be in."""
        if self.config.languages is not None:
            return list(self.config.languages)
        return [self.config.language] if self.config.language else []

    @property
    def language(self) -> Language:
        """The submission's language (a service challenge's chosen one)."""
        if self.is_service:
            return languages.get(self.chosen or self.languages[0])
        return languages.get(self.config.language or "")

    @property
    def tests_language(self) -> Language:
        """The language of the test files: a service challenge's tests are pytest."""
        return languages.get("python") if self.is_service else self.language

    @property
    def service(self) -> ServiceConfig:
        return self.config.service or ServiceConfig()

    def for_language(self, name: str) -> Challenge:
        """This challenge graded in ``name`` (one of its languages)."""
        if name not in self.languages:
            raise ChallengeError(
                f"{self.slug} is not offered in {name!r} (languages: {', '.join(self.languages)})"
            )
        if not self.is_service:
            return self
        return replace(self, chosen=name)

    def ignores(self, rel_path: str) -> bool:
        """A submitted file that never reaches the sandbox: a service's own configuration
        (package.json, go.mod, pyproject.toml) is its business, as its tests run apart."""
        from grader.languages.base import is_os_metadata

        return is_os_metadata(rel_path) if self.is_service else self.language.ignores(rel_path)

    @property
    def isolation(self) -> str:
        """The isolation mode runs use: the challenge's, or its language's default
        (a service: "service", its tests reach it over HTTP from their own container)."""
        if self.is_service:
            return "service"
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
        base = self.root / "starter"
        return base / self.language.name if self.is_service else base

    @property
    def solution_dir(self) -> Path:
        base = self.root / "solution"
        return base / self.language.name if self.is_service else base

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
        return self.tests_language.test_files(self.root)

    @property
    def perf_dir(self) -> Path:
        return self.root / "tests" / "perf"

    def perf_files(self) -> list[str]:
        """Relative paths of the performance cases' test files (``tests/perf/``), sorted."""
        if not self.perf_dir.is_dir():
            return []
        found = [
            p
            for p in self.perf_dir.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and self.language.is_test_file(p.name)
        ]
        return sorted(p.relative_to(self.root).as_posix() for p in found)

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
            # A check of the whole file names its key itself.
            problems.append(f"{_format_loc(err['loc'])}: {msg}" if err["loc"] else msg)
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
    for problem in ch.language.layout_problems(ch.root):
        raise ChallengeError(f"{ch.root / problem.split(':', 1)[0]}: {problem.split(': ', 1)[1]}")
    for sub in ("solution", "starter"):
        if not (ch.root / sub).is_dir():
            raise ChallengeError(f"{ch.root / sub}: missing folder ({sub}/ is required)")
        if ch.is_service:
            for name in ch.languages:
                if not (ch.root / sub / name).is_dir():
                    raise ChallengeError(
                        f"{ch.root / sub / name}: missing folder (a service challenge has "
                        f"{sub}/<language>/ for each of its languages)"
                    )
    toml_path = ch.root / "challenge.toml"
    for name in ("postgres", "mysql"):
        db = getattr(ch.config.databases, name)
        if db is not None and db.schema_file and not (ch.root / db.schema_file).is_file():
            raise ChallengeError(
                f"{toml_path}: databases.{name}.schema: {db.schema_file} is not a file "
                "of the challenge"
            )
    if not ch.test_files():
        patterns = " or ".join(ch.tests_language.test_patterns)
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
    _check_performance(ch)
    entry = ch.config.entrypoint
    for variant in [ch.for_language(n) for n in ch.languages] if ch.is_service else [ch]:
        if entry and not (variant.solution_dir / entry).is_file():
            where = variant.solution_dir.relative_to(ch.root).as_posix()
            raise ChallengeError(f"{toml_path}: entrypoint: {entry} is not in {where}/")


def _check_performance(ch: Challenge) -> None:
    """Performance cases need a language that can time its code from outside it."""
    toml = ch.root / "challenge.toml"
    weight = ch.config.scoring.performance
    files = ch.perf_files()
    if weight > 0 and not files:
        raise ChallengeError(
            f"{toml}: scoring.performance is {weight:g} but {ch.perf_dir} holds no test "
            f"files (expected {' or '.join(ch.language.test_patterns)})"
        )
    if not files:
        return
    if not ch.language.supports_performance:
        raise ChallengeError(
            f"{ch.perf_dir}: performance cases are not available for {ch.language.name} "
            "challenges (they are for Python, under process isolation)"
        )
    if ch.isolation != "process":
        raise ChallengeError(
            f'{toml}: isolation: performance cases (tests/perf/) need isolation = "process" '
            "(in one process the candidate's code could patch the clock that times it)"
        )
