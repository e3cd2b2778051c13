"""Scores against hand-computed figures, and recomputation from the report's inputs."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from grader import scoring
from grader.challenge import ChallengeConfig, ComplexityConfig, StyleConfig
from grader.report import (
    ChallengeRef,
    ComplexitySection,
    DocItem,
    DocsSection,
    FileMetrics,
    FileProblem,
    FunctionComplexity,
    Outcome,
    PerfCase,
    PerformanceSection,
    Report,
    StyleFinding,
    StyleSection,
    SubmissionRef,
)
from grader.report import (
    TestResult as Result,
)


def tr(outcome: Outcome, weight: float = 1, counted: bool = True, n: int = 0) -> Result:
    return Result(
        id=f"tests/hidden/test_x.py::test_{outcome}_{n}",
        visibility="hidden",
        weight=weight,
        outcome=outcome,
        counted=counted,
    )


def fn(rank: str, complexity: int = 1, name: str = "f") -> FunctionComplexity:
    return FunctionComplexity(file="a.py", name=name, line=1, complexity=complexity, rank=rank)


def findings(n: int) -> list[StyleFinding]:
    return [StyleFinding(file="a.py", line=i + 1, code="F401", message="unused") for i in range(n)]


# --- rounding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (92.25, 92.3),
        (92.75, 92.8),
        (0.05, 0.1),
        (42.857142, 42.9),
        (100.0, 100.0),
        (0.0, 0.0),
        (float("nan"), 0.0),
    ],
)
def test_round1_is_half_up(value: float, expected: float) -> None:
    assert scoring.round1(value) == expected


# --- correctness -----------------------------------------------------------------------


def test_correctness_is_the_weighted_share_of_passing_counted_tests() -> None:
    tests = [
        tr("passed", 3),
        tr("failed", 1),
        tr("not_reported", 1),
        tr("skipped", 2),  # skipped for this submission only: failed
        tr("skipped", 5, counted=False),  # the author's skip: left out
        tr("error", 0.5),
    ]
    score, inputs = scoring.correctness(tests)
    assert score == pytest.approx(100 * 3 / 7.5)  # 40.0
    assert inputs["passed_weight"] == 3 and inputs["counted_weight"] == 7.5
    assert inputs["tests_counted"] == 5 and inputs["tests_passed"] == 1
    assert inputs["tests_not_counted"] == 1
    assert inputs["failed_by_outcome"] == {"error": 1, "failed": 1, "not_reported": 1, "skipped": 1}


def test_correctness_without_counted_tests_is_zero() -> None:
    assert scoring.correctness([])[0] == 0.0
    assert scoring.correctness([tr("passed", counted=False)])[0] == 0.0


def test_correctness_all_passing_is_100() -> None:
    assert scoring.correctness([tr("passed", n=i) for i in range(4)])[0] == 100.0


# --- style -----------------------------------------------------------------------------


def test_style_is_linear_in_findings_per_100_lines() -> None:
    section = StyleSection(findings=findings(5), findings_total=5, lines_of_code=200)
    score, inputs = scoring.style_score(section, StyleConfig(zero_at_per_100_lines=10))
    # 5 findings / 200 lines = 2.5 per 100 lines; 2.5 of the 10 that score 0 → 75
    assert score == pytest.approx(75.0)
    assert inputs["per_100_lines"] == pytest.approx(2.5)
    assert inputs["findings"] == 5 and inputs["zero_at_per_100_lines"] == 10


def test_style_counts_findings_beyond_the_listed_ones() -> None:
    section = StyleSection(findings=findings(2), findings_total=10, lines_of_code=100)
    assert scoring.style_score(section, StyleConfig(zero_at_per_100_lines=20))[0] == 50.0


def test_style_bottoms_out_at_zero_and_tops_at_100() -> None:
    cfg = StyleConfig(zero_at_per_100_lines=10)
    assert (
        scoring.style_score(
            StyleSection(findings=findings(30), findings_total=30, lines_of_code=100), cfg
        )[0]
        == 0.0
    )
    assert scoring.style_score(StyleSection(lines_of_code=100), cfg)[0] == 100.0
    assert scoring.style_score(StyleSection(lines_of_code=0), cfg)[0] == 100.0


def test_style_counts_unanalysable_lines_at_the_zero_density() -> None:
    section = StyleSection(
        findings=findings(5),
        findings_total=5,
        lines_of_code=200,
        unanalysable=[FileProblem(file="b.py", reason="x", lines=100)],
    )
    score, inputs = scoring.style_score(section, StyleConfig(zero_at_per_100_lines=10))
    # (5 + 10 * 100 / 100) findings over 300 lines = 5 per 100 lines → 50
    assert score == pytest.approx(50.0)
    assert inputs["unanalysable_lines"] == 100


def test_style_not_analysable_scores_zero_and_says_why() -> None:
    score, inputs = scoring.style_score(
        StyleSection(analysable=False, reason="too deep"), StyleConfig()
    )
    assert score == 0.0
    assert inputs["analysable"] is False and inputs["reason"] == "too deep"


# --- complexity ------------------------------------------------------------------------


def test_complexity_mixes_rank_credit_and_capped_maintainability() -> None:
    section = ComplexitySection(
        functions=[fn("A"), fn("A"), fn("B"), fn("C"), fn("F")],
        files=[
            FileMetrics(file="a.py", maintainability_index=50, sloc=100),
            FileMetrics(file="b.py", maintainability_index=10, sloc=50),
        ],
    )
    score, inputs = scoring.complexity_score(section, ComplexityConfig(max_rank="B"))
    # credits 1 + 1 + 1 + 0.75 (one rank beyond B) + 0 (four beyond) = 3.75 of 5 → 0.75
    # MI: (100 × min(50, 20)/20 + 50 × 10/20) / 150 = 125 / 150
    # 100 × (0.7 × 0.75 + 0.3 × 125/150) = 52.5 + 25 = 77.5
    assert score == pytest.approx(77.5)
    assert inputs["rank_credit"] == 3.75 and inputs["rank_count"] == 5
    assert inputs["mi_weighted"] == pytest.approx(125) and inputs["mi_weight"] == 150
    assert inputs["functions_by_rank"] == {"A": 2, "B": 1, "C": 1, "F": 1}


def test_complexity_counts_an_unanalysable_file_as_the_worst_case() -> None:
    section = ComplexitySection(
        functions=[fn("A"), fn("A"), fn("B"), fn("C"), fn("F")],
        files=[
            FileMetrics(file="a.py", maintainability_index=50, sloc=100),
            FileMetrics(file="b.py", maintainability_index=10, sloc=50),
        ],
        unanalysable=[FileProblem(file="c.py", reason="syntax error", lines=50)],
    )
    score, _ = scoring.complexity_score(section, ComplexityConfig(max_rank="B"))
    # 3.75 / 6 = 0.625; MI 125 / 200 = 0.625 → 62.5
    assert score == pytest.approx(62.5)


def test_complexity_without_functions_rests_on_maintainability() -> None:
    section = ComplexitySection(files=[FileMetrics(file="a.py", maintainability_index=100, sloc=3)])
    assert scoring.complexity_score(section, ComplexityConfig())[0] == pytest.approx(100.0)


def test_complexity_max_rank_is_configurable() -> None:
    section = ComplexitySection(
        functions=[fn("D")], files=[FileMetrics(file="a.py", maintainability_index=20)]
    )
    assert scoring.complexity_score(section, ComplexityConfig(max_rank="D"))[0] == 100.0
    assert scoring.complexity_score(section, ComplexityConfig(max_rank="A"))[0] == pytest.approx(
        100 * (0.7 * 0.25 + 0.3)
    )


def test_complexity_not_analysable_scores_zero() -> None:
    section = ComplexitySection(analysable=False, reason="20,000 functions")
    assert scoring.complexity_score(section, ComplexityConfig())[0] == 0.0


# --- docs ------------------------------------------------------------------------------


def items(documented: int, total: int) -> list[DocItem]:
    return [
        DocItem(file="a.py", name=f"f{i}", kind="function", line=i + 1, documented=i < documented)
        for i in range(total)
    ]


def test_docs_is_the_documented_share() -> None:
    section = DocsSection(documented=3, total=4, items=items(3, 4))
    assert scoring.docs_score(section)[0] == 75.0


def test_docs_counts_unanalysable_files_as_undocumented() -> None:
    section = DocsSection(
        documented=3,
        total=4,
        items=items(3, 4),
        unanalysable=[FileProblem(file="b.py", reason="NUL byte")],
    )
    assert scoring.docs_score(section)[0] == 60.0


def test_docs_with_nothing_public_is_100_and_unanalysable_is_0() -> None:
    assert scoring.docs_score(DocsSection())[0] == 100.0
    assert scoring.docs_score(DocsSection(analysable=False, reason="x"))[0] == 0.0


# --- total and the whole report --------------------------------------------------------


def test_total_is_the_weighted_mean() -> None:
    scores = {"correctness": 100.0, "style": 75.0, "complexity": 77.5, "docs": 75.0}
    weights = {"correctness": 70, "style": 15, "complexity": 10, "docs": 5}
    # 70 + 11.25 + 7.75 + 3.75 = 92.75
    assert scoring.total(scores, weights) == pytest.approx(92.75)
    assert scoring.total(scores, {k: 0 for k in weights}) == 0.0


def make_report() -> Report:
    return Report(
        challenge=ChallengeRef(slug="demo", version=1),
        submission=SubmissionRef(id="s1", sha256="0" * 64),
        tests=[
            tr("passed", 2, n=1),
            tr("passed", 1, n=2),
            tr("failed", 1, n=3),
            tr("skipped", 4, counted=False, n=4),
        ],
        style=StyleSection(findings=findings(3), findings_total=3, lines_of_code=120),
        complexity=ComplexitySection(
            functions=[fn("A", 2, "a"), fn("B", 7, "b"), fn("C", 12, "c")],
            files=[FileMetrics(file="a.py", maintainability_index=35.5, sloc=120)],
        ),
        docs=DocsSection(documented=2, total=3, items=items(2, 3)),
    )


def config(**scoring_weights: float) -> ChallengeConfig:
    return ChallengeConfig.model_validate(
        {
            "title": "Demo",
            "language": "python",
            "scoring": scoring_weights
            or {"correctness": 70, "style": 15, "complexity": 10, "docs": 5},
            "style": {"zero_at_per_100_lines": 5},
            "complexity": {"max_rank": "B"},
        }
    )


def test_apply_scores_fills_scores_weights_and_inputs() -> None:
    report = scoring.apply_scores(make_report(), config())
    s = report.scores
    # correctness: 3 of 4 → 75.0
    # style: 3 / 120 lines = 2.5 per 100; zero at 5 → 50.0
    # complexity: credits 1 + 1 + 0.75 = 2.75 / 3; MI min(35.5, 20)/20 = 1
    #   → 100 × (0.7 × 2.75/3 + 0.3) = 94.1666… → 94.2
    # docs: 2 / 3 → 66.666… → 66.7
    assert (s.correctness, s.style, s.complexity, s.docs) == (75.0, 50.0, 94.2, 66.7)
    # total over the rounded scores: (70×75 + 15×50 + 10×94.2 + 5×66.7) / 100 = 72.755 → 72.8
    assert s.total == 72.8
    assert report.weights == {
        "correctness": 70.0,
        "style": 15.0,
        "complexity": 10.0,
        "docs": 5.0,
        "performance": 0.0,
    }
    assert set(report.score_inputs) == {
        "correctness",
        "style",
        "complexity",
        "docs",
        "performance",
        "total",
    }
    assert report.score_inputs["performance"]["measured"] is False
    assert report.score_inputs["complexity"]["unrounded"] == pytest.approx(94.1666666)
    assert report.complexity.reference is None


def recompute(report_json: str) -> dict[str, float]:
    """Recompute every score from the report's JSON alone, as a reviewer would."""
    data: dict[str, Any] = json.loads(report_json)
    inp = data["score_inputs"]
    c, st, cx, d = inp["correctness"], inp["style"], inp["complexity"], inp["docs"]
    out = {
        "correctness": 100 * c["passed_weight"] / c["counted_weight"],
        "style": max(0.0, 100 * (1 - st["per_100_lines"] / st["zero_at_per_100_lines"])),
        "complexity": 100
        * (0.7 * cx["rank_credit"] / cx["rank_count"] + 0.3 * cx["mi_weighted"] / cx["mi_weight"]),
        "docs": 100 * d["documented"] / (d["total"] + d["unanalysable_files"]),
        "performance": _perf_from_inputs(inp["performance"]),
    }
    out = {k: scoring.round1(v) for k, v in out.items()}
    w = data["weights"]
    out["total"] = scoring.round1(sum(w[k] * out[k] for k in w) / sum(w.values()))
    return out


def _perf_from_inputs(inp: dict[str, Any]) -> float:
    """The performance score from its inputs: each case from its ratio, then the mean."""
    cases = inp.get("cases") or {}
    if inp.get("zeroed") or not cases:
        return 0.0
    full, zero = inp["full_at_ratio"], inp["zero_at_ratio"]
    scores = []
    for case in cases.values():
        r = case["ratio"]
        if case["outcome"] != "measured" or r is None or r >= zero:
            scores.append(0.0)
        elif r <= full:
            scores.append(100.0)
        else:
            scores.append(scoring.round1(100 * math.log(zero / r) / math.log(zero / full)))
    return sum(scores) / len(scores)


def test_a_reviewer_can_recompute_every_score_from_the_report() -> None:
    report = scoring.apply_scores(
        make_report(), config(correctness=50, style=20, complexity=20, docs=10)
    )
    assert recompute(report.to_json()) == report.scores.model_dump()


def test_reference_comparison_is_attached() -> None:
    reference = ComplexitySection(
        functions=[fn("A", 3, "a"), fn("A", 4, "b")],
        files=[FileMetrics(file="ref.py", maintainability_index=60.0, sloc=40)],
        maintainability_index=60.0,
    )
    report = scoring.apply_scores(make_report(), config(), reference)
    ref = report.complexity.reference
    assert ref is not None
    # 2 + 7 + 12 = 21 against 3 + 4 = 7
    assert ref["ratio"] == 3.0
    assert ref["summary"].startswith("3.0× more complex than the reference")
    assert ref["submission"]["total_complexity"] == 21 and ref["reference"]["functions"] == 2
    assert ref["reference"]["sloc"] == 40 and ref["submission"]["max_complexity"] == 12


def test_reference_comparison_for_simpler_and_equal_code() -> None:
    sub = ComplexitySection(functions=[fn("A", 2)])
    assert (
        "simpler"
        in scoring.compare_to_reference(sub, ComplexitySection(functions=[fn("A", 4)]))["summary"]
    )
    assert (
        "about as complex"
        in scoring.compare_to_reference(sub, ComplexitySection(functions=[fn("A", 2)]))["summary"]
    )
    assert scoring.compare_to_reference(sub, ComplexitySection())["ratio"] is None


def test_unanalysable_sections_score_zero_in_the_report() -> None:
    report = make_report()
    report.style = StyleSection(analysable=False, reason="NUL byte")
    scoring.apply_scores(report, config())
    assert report.scores.style == 0.0
    assert report.score_inputs["style"]["reason"] == "NUL byte"


def test_no_passing_test_zeroes_style_complexity_and_docs_and_says_why() -> None:
    report = make_report()
    report.tests = [tr("failed", n=1), tr("error", n=2), tr("skipped", counted=False, n=3)]
    scoring.apply_scores(report, config())
    s = report.scores
    assert (s.correctness, s.style, s.complexity, s.docs, s.total) == (0, 0, 0, 0, 0)
    for key in ("style", "complexity", "docs"):
        assert "no test passes" in report.score_inputs[key]["zeroed"]
        assert report.score_inputs[key]["score_before_zeroing"] > 0
    assert "correctness" not in [k for k, v in report.score_inputs.items() if "zeroed" in v]


def test_a_submission_without_code_scores_zero_on_quality() -> None:
    report = make_report()
    report.style = StyleSection(lines_of_code=0)
    report.complexity = ComplexitySection()
    report.docs = DocsSection()
    scoring.apply_scores(report, config())
    assert (report.scores.style, report.scores.complexity, report.scores.docs) == (0, 0, 0)
    assert "no code" in report.score_inputs["docs"]["zeroed"]
    # Correctness still counts what passed.
    assert report.scores.correctness == 75.0


def test_one_passing_test_keeps_the_quality_scores() -> None:
    report = make_report()
    report.tests = [tr("passed", n=1), tr("failed", n=2)]
    scoring.apply_scores(report, config())
    assert report.scores.style == 50.0
    assert all("zeroed" not in report.score_inputs[k] for k in ("style", "complexity", "docs"))


# --- performance -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (0.5, 100.0),
        (1.2, 100.0),
        (2.0, 64.2),  # ln(5/2) / ln(5/1.2)
        (3.0, 35.8),
        (4.99, 0.1),
        (5.0, 0.0),
        (50.0, 0.0),
        (None, 0.0),
        (math.inf, 0.0),
    ],
)
def test_a_case_scores_log_linearly_between_full_and_zero(
    ratio: float | None, expected: float
) -> None:
    assert scoring.round1(scoring.case_score(ratio, 1.2, 5.0)) == expected


def perf_section(*ratios: float | None) -> PerformanceSection:
    cases = [
        PerfCase(
            id=f"tests/perf/test_p.py::test_{i}",
            outcome="measured" if r is not None else "error",
            ratio=r,
            message=None if r is not None else "boom",
        )
        for i, r in enumerate(ratios)
    ]
    return PerformanceSection(cases=cases, measured=True)


def test_performance_is_the_mean_of_the_case_scores_and_counts_in_the_total() -> None:
    report = make_report()
    report.performance = perf_section(1.0, 2.0, None)
    weights = {"correctness": 60, "style": 15, "complexity": 10, "docs": 5, "performance": 10}
    scoring.apply_scores(report, config(**weights))
    # cases: 100, 64.2, 0 (an error) → 54.733… → 54.7
    assert [c.score for c in report.performance.cases] == [100.0, 64.2, 0.0]
    assert report.scores.performance == 54.7
    inputs = report.score_inputs["performance"]
    assert inputs["cases"]["tests/perf/test_p.py::test_1"]["ratio"] == 2.0
    assert (inputs["full_at_ratio"], inputs["zero_at_ratio"]) == (1.2, 5.0)
    # (60×75 + 15×50 + 10×94.2 + 5×66.7 + 10×54.7) / 100 = 70.725 → 70.7
    assert report.scores.total == 70.7
    assert recompute(report.to_json()) == report.scores.model_dump()


def test_no_passing_test_zeroes_performance_too() -> None:
    report = make_report()
    report.tests = [tr("failed", n=1)]
    report.performance = perf_section(1.0)
    scoring.apply_scores(report, config())
    assert report.scores.performance == 0.0
    assert report.score_inputs["performance"]["zeroed"].startswith("no test passes")


def test_weights_with_performance_still_sum_to_100() -> None:
    with pytest.raises(ValueError, match="sum to 110"):
        config(correctness=70, style=15, complexity=10, docs=5, performance=10)
