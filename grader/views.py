"""What a candidate may see of their own report, under the challenge's ``[feedback]``.

The rules, whatever the policy: no hidden test ids, names, messages or output; no
flags; no run output (it holds hidden tests' output too); no style findings,
complexity, docs or performance details (only the scores, and only when ``score =
true``: the performance cases are hidden tests of a kind, and their figures and
inputs would show them); our own errors are reduced to their code. On top of that,
public messages and output shown under ``public_tests = "full"`` have every hidden
test id and name, and every line of a hidden test's message or output, cut out
(ignoring case): a submission could
otherwise print what it saw during a hidden test while a public test runs. That
scrubbing is best-effort defence in depth (an encoded echo gets through), not the
boundary itself: hidden tests should not run before public ones in the same process.

Under ``isolation = "in-process"`` the candidate's code can read the hidden test
files and return or print them during a public test, so there public messages and
output are never shown: ``full`` is served as ``pass-fail``. Under ``process``
isolation the candidate's container never holds the tests and public tests run
before hidden ones, so nothing of the hidden tests can reach a public message.

``limits_hit`` is shown unless ``hidden_tests = "none"``: a limit can be hit during a
hidden test, so under "none" it would be a signal out of the hidden tests.
"""

from __future__ import annotations

import re
from typing import Any

from grader.challenge import Feedback
from grader.report import Report, TestResult

REDACTED = "[hidden]"
_MIN_NEEDLE = 8
_MIN_NAME = 6
_MAX_NEEDLES = 5000
_CANDIDATE_ERRORS = frozenset({"invalid-submission"})


def candidate_view(report: Report, feedback: Feedback) -> dict[str, Any]:
    """The JSON-ready part of ``report`` that ``feedback`` lets the candidate see."""
    public = [t for t in report.tests if t.visibility == "public"]
    if (
        report.run is not None
        and report.run.isolation == "in-process"
        and (feedback.public_tests == "full")
    ):
        feedback = feedback.model_copy(update={"public_tests": "pass-fail"})
    hidden = [t for t in report.tests if t.visibility != "public" and t.counted]
    view: dict[str, Any] = {
        "schema_version": report.schema_version,
        "challenge": {"slug": report.challenge.slug, "version": report.challenge.version},
        "submission": {"id": report.submission.id, "sha256": report.submission.sha256},
        "status": report.status,
        "error": _error(report),
        "public_tests": _public(public, feedback, _scrubber(report)),
        "hidden_tests": _hidden(hidden, feedback),
        "limits_hit": list(report.limits_hit) if feedback.hidden_tests != "none" else [],
        "scores": report.scores.model_dump() if feedback.score else None,
        "weights": dict(report.weights) if feedback.score else None,
    }
    return view


def _error(report: Report) -> dict[str, str] | None:
    if report.error is None:
        return None
    if report.error.code in _CANDIDATE_ERRORS:
        return {"code": report.error.code, "message": report.error.message}
    return {
        "code": report.error.code,
        "message": "grading failed on our side; the submission will be graded again",
    }


def _passed(t: TestResult) -> bool:
    return t.counted and t.outcome == "passed"


def _public(
    tests: list[TestResult], feedback: Feedback, scrub: re.Pattern[str] | None
) -> dict[str, Any] | None:
    if feedback.public_tests == "none":
        return None
    counted = [t for t in tests if t.counted]
    out: dict[str, Any] = {
        "shown": feedback.public_tests,
        "passed": sum(_passed(t) for t in counted),
        "total": len(counted),
    }
    if feedback.public_tests == "pass-fail":
        out["tests"] = [
            {
                "id": t.id,
                "outcome": "not counted" if not t.counted else "passed" if _passed(t) else "failed",
            }
            for t in tests
        ]
    else:
        out["tests"] = [
            {
                "id": t.id,
                "outcome": t.outcome,
                "counted": t.counted,
                "weight": t.weight,
                "duration_s": t.duration_s,
                "message": _scrub(t.message, scrub),
                "output": _scrub(t.output, scrub),
            }
            for t in tests
        ]
    return out


def _hidden(tests: list[TestResult], feedback: Feedback) -> dict[str, Any] | None:
    if feedback.hidden_tests == "none":
        return None
    out: dict[str, Any] = {
        "shown": feedback.hidden_tests,
        "passed": sum(_passed(t) for t in tests),
        "total": len(tests),
    }
    if feedback.hidden_tests == "pass-fail":
        out["tests"] = [
            {"label": f"hidden test {n}", "outcome": "passed" if _passed(t) else "failed"}
            for n, t in enumerate(tests, start=1)
        ]
    return out


def _scrubber(report: Report) -> re.Pattern[str] | None:
    """One pattern matching everything of the hidden tests that must not show."""
    needles: set[str] = set()
    for t in report.tests:
        if t.visibility == "public":
            continue
        needles.add(t.id)
        name = re.split(r"::|\[", t.id.rpartition("::")[2])[0]
        if len(name) >= _MIN_NAME:
            needles.add(name)
        for text in (t.message, t.output):
            needles.update(
                s for line in (text or "").splitlines() if len(s := line.strip()) >= _MIN_NEEDLE
            )
    if not needles:
        return None
    ordered = sorted(needles, key=len, reverse=True)[:_MAX_NEEDLES]
    return re.compile("|".join(map(re.escape, ordered)), re.IGNORECASE)


def _scrub(text: str | None, pattern: re.Pattern[str] | None) -> str | None:
    if text is None or pattern is None:
        return text
    return pattern.sub(REDACTED, text)
