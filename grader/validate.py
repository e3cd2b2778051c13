"""``grader validate``: a challenge proves itself against its reference and starter.

When the reference fails tests, validate says why per test: the harness's own note
(the test patches something in the test process, hands the code a path or an object
that exists only there...), or, failing that, whether the test passes when the tests
import the reference directly (``isolation = "in-process"``).
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from grader.challenge import Challenge, Isolation
from grader.engine import ExpectedTests, Progress, expected_tests, grade
from grader.errors import ChallengeError
from grader.report import Report, TestResult
from grader.submission import open_submission
from runners.base import Runner

IN_PROCESS_CAUSE = (
    "passes when the tests import the reference directly (in-process isolation) but not "
    "across the process boundary: the test hands the code something that exists only in "
    "the test process, or patches something the code uses"
)
IN_PROCESS_FIX = (
    'set isolation = "in-process" in challenge.toml, or have the test pass data (values, '
    "file contents) to the code and check what it returns"
)


def _quiet(_: str) -> None:
    return None


def _first_line(text: str | None) -> str:
    line = (text or "").strip().split("\n", 1)[0]
    return line[:200]


def _failing(report: Report) -> list[TestResult]:
    return [t for t in report.tests if t.counted and t.outcome != "passed"]


def explain_failures(
    challenge: Challenge,
    ref: Report,
    runner: Runner,
    expected: ExpectedTests,
    *,
    cache_dir: Path | None = None,
    progress: Progress = _quiet,
) -> list[str]:
    """Lines that say, per failing test of the reference, the cause and the fix."""
    lines: list[str] = []
    unexplained: list[TestResult] = []
    for t in _failing(ref):
        if t.portability:
            lines.append(f"  {t.id} ({t.outcome})")
            for note in t.portability:
                lines += [f"    cause: {note.cause}", f"    fix:   {note.fix}"]
        else:
            unexplained.append(t)
    if not unexplained:
        return lines
    in_process: dict[str, str] = {}
    if challenge.isolation == "process":
        progress(f"grading the reference of {challenge.slug} under in-process isolation")
        config = challenge.config.model_copy(update={"isolation": Isolation.IN_PROCESS})
        variant = dataclasses.replace(challenge, config=config)
        with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
            sub = open_submission(challenge.solution_dir, tmp, ignore=challenge.ignores)
            again = grade(variant, sub, runner, expected=expected, cache_dir=cache_dir)
        in_process = {t.id: t.outcome for t in again.tests}
    for t in unexplained:
        lines.append(f"  {t.id} ({t.outcome})")
        if in_process.get(t.id) == "passed":
            lines += [f"    cause: {IN_PROCESS_CAUSE}", f"    fix:   {IN_PROCESS_FIX}"]
        else:
            where = " under in-process isolation too" if in_process else ""
            lines.append(
                f"    cause: the reference fails it{where}: {_first_line(t.message) or t.outcome}"
            )
            lines.append("    fix:   correct the reference solution or the test")
    return lines


def validate_challenge(
    challenge: Challenge,
    runner: Runner,
    *,
    cache_dir: Path | None = None,
    progress: Progress = _quiet,
) -> tuple[list[str], str]:
    """Return (problems, summary). No problems means the challenge is sound:
    the reference scores 100 on correctness, the starter less, and every weighted
    test exists. A problem may span several lines (the explanation per test).
    A service challenge is proven in each of its languages."""
    if not challenge.is_service:
        return _validate_one(challenge, runner, cache_dir=cache_dir, progress=progress)
    problems: list[str] = []
    summaries: list[str] = []
    for name in challenge.languages:
        progress(f"validating {challenge.slug} in {name}")
        found, summary = _validate_one(
            challenge.for_language(name), runner, cache_dir=cache_dir, progress=progress
        )
        problems += [f"[{name}] {p}" for p in found]
        if summary:
            summaries.append(f"{name}: {summary}")
    return problems, "\n".join(summaries)


def _validate_one(
    challenge: Challenge,
    runner: Runner,
    *,
    cache_dir: Path | None = None,
    progress: Progress = _quiet,
) -> tuple[list[str], str]:
    problems: list[str] = []
    try:
        expected = expected_tests(challenge, runner, cache_dir=cache_dir, progress=progress)
    except ChallengeError as exc:
        return [str(exc)], ""
    ids = set(expected.ids)
    for key in challenge.config.tests.weights:
        if key not in ids:
            problems.append(f"tests.weights: {key!r} matches no test")
    ignore = challenge.ignores
    with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
        progress(f"grading the reference of {challenge.slug}")
        ref = grade(
            challenge,
            open_submission(challenge.solution_dir, tmp, ignore=ignore),
            runner,
            expected=expected,
            progress=progress,
            cache_dir=cache_dir,
        )
        if ref.scores.correctness != 100:
            failing = _failing(ref)
            head = (
                f"reference scores {ref.scores.correctness} on correctness "
                f"({challenge.isolation} isolation): {len(failing)} test"
                f"{'s' if len(failing) != 1 else ''} fail"
            )
            why = explain_failures(
                challenge, ref, runner, expected, cache_dir=cache_dir, progress=progress
            )
            problems.append("\n".join([head, *why]))
        problems += _performance_problems(ref)
        progress(f"grading the starter of {challenge.slug}")
        starter = grade(
            challenge,
            open_submission(challenge.starter_dir, tmp, ignore=ignore),
            runner,
            expected=expected,
            progress=progress,
            cache_dir=cache_dir,
        )
        if starter.scores.correctness >= 100:
            problems.append("starter scores 100 on correctness: it must not pass the tests")
    public = sum(1 for i in expected.ids if challenge.visibility(i) == "public")
    skipped = len(expected.author_skipped)
    perf = ""
    if ref.performance is not None:
        perf = (
            f"; {len(ref.performance.cases)} performance case(s), the reference against "
            f"itself scores {ref.scores.performance:g}"
        )
    summary = (
        f"{len(expected.ids)} tests ({public} public, {len(expected.ids) - public} hidden"
        f"{f', {skipped} skipped by the author' if skipped else ''}); "
        f"reference {ref.scores.correctness:g} correctness / {ref.scores.total:g} total; "
        f"starter {starter.scores.correctness:g}{perf}"
    )
    return problems, summary


def _performance_problems(ref: Report) -> list[str]:
    """Performance cases that measured nothing when the reference ran against itself
    (the test is broken, the sizes do not fit the budget...)."""
    perf = ref.performance
    if perf is None:
        return []
    if not perf.cases:
        return [f"performance: no case was measured ({perf.reason or 'no case reported'})"]
    return [
        f"performance case {c.id}: {c.outcome}: {_first_line(c.message) or 'measured nothing'}"
        for c in perf.cases
        if c.outcome != "measured"
    ]
