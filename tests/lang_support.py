"""Helpers of the per-language tests (test_lang_*.py): grade submissions in the real
sandbox a few at a time, read the shipped challenges' known-bad submissions."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import tomllib
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
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


def not_passed(report: Report) -> dict[str, str]:
    """Counted tests that did not pass: id -> outcome."""
    return {t.id: t.outcome for t in report.tests if t.counted and t.outcome != "passed"}


def outcomes(report: Report) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


def flag_codes(report: Report) -> set[str]:
    return {f.code for f in report.flags}


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
