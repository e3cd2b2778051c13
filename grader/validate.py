"""``grader validate``: a challenge proves itself against its reference and starter."""

from __future__ import annotations

import tempfile
from pathlib import Path

from grader.challenge import Challenge
from grader.engine import Progress, expected_tests, grade
from grader.errors import ChallengeError
from grader.report import Report
from grader.submission import open_submission
from runners.base import Runner


def _quiet(_: str) -> None:
    return None


def _failing(report: Report) -> list[str]:
    return [f"{t.id} ({t.outcome})" for t in report.tests if t.counted and t.outcome != "passed"]


def validate_challenge(
    challenge: Challenge,
    runner: Runner,
    *,
    cache_dir: Path | None = None,
    progress: Progress = _quiet,
) -> tuple[list[str], str]:
    """Return (problems, summary). No problems means the challenge is sound:
    the reference scores 100 on correctness, the starter less, and every weighted
    test exists."""
    problems: list[str] = []
    try:
        expected = expected_tests(challenge, runner, cache_dir=cache_dir, progress=progress)
    except ChallengeError as exc:
        return [str(exc)], ""
    ids = set(expected.ids)
    for key in challenge.config.tests.weights:
        if key not in ids:
            problems.append(f"tests.weights: {key!r} matches no test")
    not_passing = {
        i: o for i, o in expected.reference_outcomes.items() if o not in ("passed", "skipped")
    }
    if not_passing:
        shown = ", ".join(f"{i} ({o})" for i, o in list(not_passing.items())[:5])
        problems.append(f"reference does not pass: {shown}")
    with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
        progress(f"grading the reference of {challenge.slug}")
        ref = grade(
            challenge,
            open_submission(challenge.solution_dir, tmp),
            runner,
            expected=expected,
            progress=progress,
            cache_dir=cache_dir,
        )
        if ref.scores.correctness != 100:
            shown = ", ".join(_failing(ref)[:5])
            problems.append(
                f"reference scores {ref.scores.correctness} on correctness "
                f"({challenge.config.isolation.value} isolation): {shown}"
            )
        progress(f"grading the starter of {challenge.slug}")
        starter = grade(
            challenge,
            open_submission(challenge.starter_dir, tmp),
            runner,
            expected=expected,
            progress=progress,
            cache_dir=cache_dir,
        )
        if starter.scores.correctness >= 100:
            problems.append("starter scores 100 on correctness: it must not pass the tests")
    public = sum(1 for i in expected.ids if challenge.visibility(i) == "public")
    skipped = len(expected.author_skipped)
    summary = (
        f"{len(expected.ids)} tests ({public} public, {len(expected.ids) - public} hidden"
        f"{f', {skipped} skipped by the author' if skipped else ''}); "
        f"reference {ref.scores.correctness:g} correctness / {ref.scores.total:g} total; "
        f"starter {starter.scores.correctness:g}"
    )
    return problems, summary
