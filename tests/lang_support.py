"""Helpers of the per-language tests (test_lang_*.py): grade submissions in the real
sandbox a few at a time (also as variants of a challenge's reference), read the shipped
challenges' known-bad submissions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
import tomllib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.challenge import Challenge, load_challenge
from grader.engine import ExpectedTests, expected_tests, grade
from grader.report import Report
from grader.submission import open_submission
from runners.base import Runner

REPO = Path(__file__).resolve().parents[1]
CHALLENGES = REPO / "challenges"


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``files`` (path -> text, dedented) under ``root``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def challenge_from(root: Path, files: Mapping[str, str]) -> Challenge:
    """A challenge written from ``files`` into ``root``."""
    return load_challenge(write_tree(root, files))


class Grader:
    """Grades submissions of some challenges against one runner and one cache."""

    def __init__(self, runner: Runner, work: Path) -> None:
        self.runner = runner
        self.work = work
        self.cache = work / "cache"
        self._expected: dict[Path, ExpectedTests] = {}
        self._lock = threading.Lock()

    def expected(self, challenge: Challenge) -> ExpectedTests:
        """The challenge's tests, from one run of its reference (once, whatever the threads)."""
        with self._lock:
            if challenge.root not in self._expected:
                self._expected[challenge.root] = expected_tests(
                    challenge, self.runner, cache_dir=self.cache
                )
            return self._expected[challenge.root]

    def grade(self, challenge: Challenge, folder: Path, name: str) -> Report:
        """Grade the submission in ``folder`` as an upload of it would be graded."""
        workdir = self.work / f"sub-{name}"
        workdir.mkdir(parents=True)
        sub = open_submission(folder, workdir, ignore=challenge.language.ignores)
        return grade(
            challenge, sub, self.runner, expected=self.expected(challenge), cache_dir=self.cache
        )

    def grade_files(self, challenge: Challenge, files: Mapping[str, str], name: str) -> Report:
        return self.grade(challenge, write_tree(self.work / f"files-{name}", files), name)

    def grade_all(
        self, jobs: Mapping[str, Callable[[], Report]], workers: int = 3
    ) -> dict[str, Report]:
        """Run the jobs a few at a time (most of a run is the sandbox's own start-up)."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {name: pool.submit(fn) for name, fn in jobs.items()}
            return {name: fut.result() for name, fut in futures.items()}


@dataclass(frozen=True)
class Variant:
    """A submission: the reference solution with edits (``replace``: file → [(old, new)],
    each ``old`` must occur), files dropped, and files added or overwritten."""

    replace: Mapping[str, list[tuple[str, str]]] = field(default_factory=dict)
    drop: tuple[str, ...] = ()
    add: Mapping[str, str] = field(default_factory=dict)

    def write(self, solution: Path, dest: Path) -> Path:
        shutil.copytree(solution, dest)
        for rel, edits in self.replace.items():
            path = dest / rel
            text = path.read_text()
            for old, new in edits:
                assert old in text, f"{rel}: {old!r} not found"
                text = text.replace(old, new)
            path.write_text(text)
        for rel in self.drop:
            (dest / rel).unlink()
        for rel, text in self.add.items():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            (dest / rel).write_text(text)
        return dest


def grade_variants(
    challenge: Challenge,
    variants: Mapping[str, Variant],
    runner: Runner,
    work: Path,
    *,
    workers: int = 3,
) -> tuple[ExpectedTests, dict[str, Report]]:
    """The challenge's expected tests, and every variant graded (a few at a time: the
    machine has two cores, and most of a run is Docker's own work)."""
    cache = work / "cache"
    expected = expected_tests(challenge, runner, cache_dir=cache)

    def one(name: str) -> Report:
        folder = variants[name].write(challenge.solution_dir, work / "in" / name)
        (work / "open" / name).mkdir(parents=True)
        sub = open_submission(folder, work / "open" / name, ignore=challenge.language.ignores)
        return grade(challenge, sub, runner, expected=expected, cache_dir=cache)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {name: pool.submit(one, name) for name in variants}
        return expected, {name: f.result() for name, f in futures.items()}


def not_passed(report: Report) -> dict[str, str]:
    """Counted tests that did not pass: id -> outcome."""
    return {t.id: t.outcome for t in report.tests if t.counted and t.outcome != "passed"}


def outcomes(report: Report) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def flag_codes(report: Report) -> set[str]:
    return {f.code for f in report.flags}


def failing(report: Report) -> set[str]:
    """Ids of the counted tests that did not pass."""
    return {t.id for t in report.tests if t.counted and t.outcome != "passed"}


def flags(report: Report, code: str) -> list[str]:
    return [f.message for f in report.flags if f.code == code]


def weighted_share(report: Report, passing: set[str]) -> float:
    """The correctness a report should have when exactly ``passing`` pass, unrounded
    (the report rounds to one decimal: compare with ``abs=0.051``)."""
    counted = [t for t in report.tests if t.counted]
    total = sum(t.weight for t in counted)
    return 100 * sum(t.weight for t in counted if t.id in passing) / total


def bad_submissions(slug: str) -> dict[str, float]:
    """The known-bad submissions of a shipped challenge: name -> max_correctness."""
    out: dict[str, float] = {}
    for folder in sorted((CHALLENGES / slug / "bad").iterdir()):
        expect = tomllib.loads((folder / "expect.toml").read_text(encoding="utf-8"))
        out[folder.name] = float(expect["max_correctness"])
    return out


def grader_cli(
    *args: str | Path, cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """The ``grader`` command, run as a user runs it (its own cache under ``cwd``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["GRADER_CONTAINER_PREFIX"] = os.environ.get("GRADER_CONTAINER_PREFIX", "grader-test")
    env["GRADER_CACHE_DIR"] = str(cwd / ".grader-cache")
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )
