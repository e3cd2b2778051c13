"""The candidate's view: only what the challenge's feedback policy allows, never hidden tests."""

from __future__ import annotations

import itertools
import json

import pytest

from grader.challenge import Feedback
from grader.report import (
    ChallengeRef,
    ComplexitySection,
    DocItem,
    DocsSection,
    ErrorInfo,
    Flag,
    FunctionComplexity,
    Report,
    RunInfo,
    Scores,
    SourceFile,
    StyleFinding,
    StyleSection,
    SubmissionRef,
)
from grader.report import TestResult as Result
from grader.views import candidate_view

MARKER = "HIDDEN-MARKER-42"
HIDDEN_LINE = f"expected bucket {MARKER} to refill"

POLICIES = [
    Feedback(public_tests=p, hidden_tests=h, score=s)  # type: ignore[arg-type]
    for p, h, s in itertools.product(
        ("full", "pass-fail", "none"), ("count", "pass-fail", "none"), (True, False)
    )
]


def policy_id(f: Feedback) -> str:
    return f"public={f.public_tests},hidden={f.hidden_tests},score={f.score}"


def marked_report() -> Report:
    """A report where every reviewer-only place carries the marker."""
    return Report(
        challenge=ChallengeRef(slug="rate-limiter", version=1),
        submission=SubmissionRef(id="sub-1", sha256="cd" * 32),
        limits_hit=["timeout"],
        flags=[Flag(code="tamper-suspect", message=f"patched pytest {MARKER}")],
        tests=[
            Result(
                id="tests/public/test_a.py::test_ok",
                visibility="public",
                weight=1,
                outcome="passed",
                duration_s=0.1,
            ),
            Result(
                id="tests/public/test_a.py::test_bad",
                visibility="public",
                weight=1,
                outcome="failed",
                message="assert 1 == 2",
                # A submission echoing what it saw during a hidden test.
                output=f"saw: {HIDDEN_LINE}\ncalled test_{MARKER.lower()}_refill\n",
            ),
            Result(
                id="tests/public/test_a.py::test_author_skip",
                visibility="public",
                weight=1,
                outcome="skipped",
                counted=False,
            ),
            Result(
                id=f"tests/hidden/test_{MARKER}.py::test_{MARKER}_refill",
                visibility="hidden",
                weight=3,
                outcome="failed",
                message=f"AssertionError: {MARKER}\n{HIDDEN_LINE}",
                output=f"{MARKER} in stdout\n{HIDDEN_LINE}\n",
            ),
            Result(
                id="tests/hidden/test_b.py::test_x",
                visibility="hidden",
                weight=1,
                outcome="passed",
                output=f"{MARKER} printed by a passing test\n",
            ),
            Result(
                id="tests/hidden/test_b.py::test_y",
                visibility="hidden",
                weight=1,
                outcome="not_reported",
            ),
            Result(
                id=f"tests/hidden/test_b.py::test_skip_{MARKER}",
                visibility="hidden",
                weight=1,
                outcome="skipped",
                counted=False,
            ),
        ],
        style=StyleSection(
            findings=[StyleFinding(file=f"{MARKER}.py", line=1, code="F401", message=MARKER)],
            lines_of_code=3,
        ),
        complexity=ComplexitySection(
            functions=[FunctionComplexity(file="a.py", name=MARKER, line=1, complexity=1, rank="A")]
        ),
        docs=DocsSection(
            items=[DocItem(file="a.py", name=MARKER, kind="function", line=1, documented=False)],
            total=1,
        ),
        scores=Scores(correctness=33.3, style=90.0, complexity=100.0, docs=0.0, total=47.8),
        weights={"correctness": 70, "style": 15, "complexity": 10, "docs": 5},
        score_inputs={"correctness": {"note": MARKER}},
        run=RunInfo(
            runner="docker",
            isolation="process",
            stdout_tail=MARKER,
            stderr_tail=MARKER,
            candidate_stdout_tail=MARKER,
        ),
        sources=[SourceFile(path="a.py", text=MARKER)],
    )


@pytest.mark.parametrize("feedback", POLICIES, ids=policy_id)
def test_hidden_marker_never_reaches_the_candidate(feedback: Feedback) -> None:
    dumped = json.dumps(candidate_view(marked_report(), feedback))
    assert MARKER not in dumped
    assert MARKER.lower() not in dumped.lower()
    assert "tests/hidden" not in dumped and "tamper" not in dumped


def test_error_details_stay_with_reviewers() -> None:
    report = marked_report()
    report.status = "error"
    report.error = ErrorInfo(code="sandbox-error", message=f"docker said {MARKER}")
    view = candidate_view(report, Feedback())
    assert view["error"]["code"] == "sandbox-error" and MARKER not in json.dumps(view)


def test_public_full_shows_messages_and_scrubbed_output() -> None:
    view = candidate_view(marked_report(), Feedback(public_tests="full"))
    pub = view["public_tests"]
    assert (pub["shown"], pub["passed"], pub["total"]) == ("full", 1, 2)
    bad = next(t for t in pub["tests"] if t["id"].endswith("test_bad"))
    assert bad["message"] == "assert 1 == 2" and bad["outcome"] == "failed"
    assert bad["output"].startswith("saw: [hidden]")
    assert [t["id"].rsplit("::", 1)[1] for t in pub["tests"]] == [
        "test_ok",
        "test_bad",
        "test_author_skip",
    ]


def test_public_pass_fail_shows_outcomes_only() -> None:
    view = candidate_view(marked_report(), Feedback(public_tests="pass-fail"))
    assert view["public_tests"]["tests"] == [
        {"id": "tests/public/test_a.py::test_ok", "outcome": "passed"},
        {"id": "tests/public/test_a.py::test_bad", "outcome": "failed"},
        {"id": "tests/public/test_a.py::test_author_skip", "outcome": "not counted"},
    ]


def test_public_none_and_hidden_none_show_nothing() -> None:
    view = candidate_view(marked_report(), Feedback(public_tests="none", hidden_tests="none"))
    assert view["public_tests"] is None and view["hidden_tests"] is None
    assert view["limits_hit"] == []  # a limit can be hit in a hidden test


def test_hidden_count_is_counted_tests_only() -> None:
    view = candidate_view(marked_report(), Feedback(hidden_tests="count"))
    assert view["hidden_tests"] == {"shown": "count", "passed": 1, "total": 3}
    assert view["limits_hit"] == ["timeout"]


def test_hidden_pass_fail_uses_opaque_labels() -> None:
    view = candidate_view(marked_report(), Feedback(hidden_tests="pass-fail"))
    assert view["hidden_tests"]["tests"] == [
        {"label": "hidden test 1", "outcome": "failed"},
        {"label": "hidden test 2", "outcome": "passed"},
        {"label": "hidden test 3", "outcome": "failed"},
    ]


def test_scores_only_when_the_policy_says_so() -> None:
    report = marked_report()
    assert candidate_view(report, Feedback(score=False))["scores"] is None
    shown = candidate_view(report, Feedback(score=True))
    assert shown["scores"]["total"] == 47.8 and shown["weights"]["correctness"] == 70
    for key in ("style", "complexity", "docs", "flags", "sources", "run", "score_inputs"):
        assert key not in shown


def test_view_is_json_ready() -> None:
    for feedback in POLICIES:
        view = candidate_view(marked_report(), feedback)
        assert json.loads(json.dumps(view)) == view


def test_in_process_isolation_never_shows_public_messages() -> None:
    """In-process code can read hidden test files, so public messages could carry them."""
    from grader.challenge import Feedback
    from grader.report import ChallengeRef, Report, RunInfo, SubmissionRef, TestResult

    report = Report(
        challenge=ChallengeRef(slug="s", version=1),
        submission=SubmissionRef(id="i", sha256="0" * 64),
        tests=[
            TestResult(
                id="tests/public/test_a.py::test_a",
                visibility="public",
                weight=1,
                outcome="failed",
                message="assert 'def test_secret(): ...' == 3",
                output="leaked",
            )
        ],
        run=RunInfo(runner="docker", isolation="in-process"),
    )
    view = candidate_view(report, Feedback(public_tests="full"))
    assert "test_secret" not in str(view) and "leaked" not in str(view)
    assert view["public_tests"]["shown"] == "pass-fail"


def test_performance_shows_only_as_a_score() -> None:
    from grader.report import PerfCase, PerformanceSection

    report = Report(
        challenge=ChallengeRef(slug="c", version=1),
        submission=SubmissionRef(id="s", sha256="0" * 64),
        scores=Scores(correctness=100, performance=64.2, total=96.4),
        weights={"correctness": 90, "performance": 10},
        performance=PerformanceSection(
            cases=[PerfCase(id=f"tests/perf/test_p.py::test_{MARKER}", ratio=2.0, score=64.2)],
            measured=True,
        ),
    )
    shown = candidate_view(report, Feedback(score=True))
    assert shown["scores"]["performance"] == 64.2 and shown["weights"]["performance"] == 10
    assert "performance" not in shown and MARKER not in json.dumps(shown)
    hidden = candidate_view(report, Feedback(score=False))
    assert hidden["scores"] is None and MARKER not in json.dumps(hidden)
