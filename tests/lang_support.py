"""Helpers of the per-language end-to-end tests (tests/test_lang_*.py): submissions made
from a challenge's reference with a few edits, graded a few at a time in the real
sandbox, and the CLI run as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.challenge import Challenge
from grader.engine import ExpectedTests, expected_tests, grade
from grader.report import Report
from grader.submission import open_submission
from runners.base import Runner

REPO = Path(__file__).resolve().parents[1]


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


def outcomes(report: Report) -> dict[str, str]:
    return {t.id: t.outcome for t in report.tests}


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


def grader_cli(*args: str | Path, cache: Path) -> subprocess.CompletedProcess[str]:
    """The ``grader`` command in a subprocess: none of the caller's GRADER_* settings
    but the container prefix (so the session's cleanup finds its containers)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    env["GRADER_CONTAINER_PREFIX"] = os.environ.get("GRADER_CONTAINER_PREFIX", "grader-test")
    env["GRADER_CACHE_DIR"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "grader.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=600,
        check=False,
    )
