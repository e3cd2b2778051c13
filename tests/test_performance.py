"""Performance figures on the host side: statistics, growth fits, ratios, case outcomes."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from typing import Any

import pytest

from grader import performance
from grader.junit import CaseResult
from runners.harness import grader_contract as C

SIZES = [1_000, 2_000, 4_000, 8_000, 16_000]


def noisy(f: Callable[[float], float], sizes: list[int], noise: float, seed: int) -> list[float]:
    """``f(n)`` seconds with multiplicative noise of about ``noise`` (seeded)."""
    rng = random.Random(seed)
    return [f(n) * math.exp(rng.gauss(0, noise)) for n in sizes]


@pytest.mark.parametrize(
    ("label", "f", "sizes"),
    [
        ("O(1)", lambda n: 2e-6, SIZES),
        ("O(log n)", lambda n: 1e-6 * math.log2(n), [10, 100, 1_000, 10_000, 100_000, 1_000_000]),
        ("O(n)", lambda n: 1e-7 * n, SIZES),
        ("O(n)", lambda n: 5e-4 + 1e-7 * n, SIZES),  # a fixed cost on top
        ("O(n log n)", lambda n: 1e-8 * n * math.log2(n), [100, 1_000, 10_000, 100_000, 1_000_000]),
        ("O(n²)", lambda n: 1e-9 * n * n, SIZES),
        ("O(n²)", lambda n: 1e-7 * n + 2e-9 * n * n, SIZES),  # linear part, quadratic dominates
        ("O(2ⁿ)", lambda n: 1e-7 * 2.0**n, [10, 12, 14, 16, 18]),
    ],
)
def test_growth_fits_the_model_that_made_the_times(
    label: str, f: Callable[[float], float], sizes: list[int]
) -> None:
    for seed in range(5):
        fit = performance.fit_growth(sizes, noisy(f, sizes, 0.04, seed))
        assert fit is not None
        assert fit.model == label, (seed, fit)
        # (R² says how much of the change with n the model explains: none for O(1).)
        assert fit.r2 > 0.9 or label == "O(1)"


def test_a_near_tie_goes_to_the_simpler_model() -> None:
    # Linear times with a little noise: O(n log n) may fit as well; O(n) is chosen.
    for seed in range(20):
        fit = performance.fit_growth(SIZES, noisy(lambda n: 3e-7 * n, SIZES, 0.06, seed))
        assert fit is not None and fit.model == "O(n)", (seed, fit)


def test_growth_needs_three_sizes_and_skips_exponential_for_large_sizes() -> None:
    assert performance.fit_growth([1_000, 2_000], [1.0, 2.0]) is None
    fit = performance.fit_growth(SIZES, [1e-7 * n for n in SIZES])
    assert fit is not None and "O(2ⁿ)" not in fit.errors
    assert set(fit.errors) == {"O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n²)"}


def test_median_and_interquartile_range() -> None:
    assert performance.median([3.0, 1.0, 2.0]) == 2.0
    assert performance.iqr([1.0]) == 0.0
    assert performance.iqr([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(2.0)


# --- one case from its record -------------------------------------------------------------


def record(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "v": 1,
        "kind": "bench",
        "function": "logagg.aggregate",
        "check": "equal",
        "stopped": None,
        "elapsed_s": 3.5,
        "sizes": [
            {"n": 1000, "k": 4, "empty": [1e-4, 1e-4], "c": [0.02, 0.021, 0.019], "r": [0.01] * 3},
            {"n": 2000, "k": 2, "empty": [1e-4, 1e-4], "c": [0.04, 0.05, 0.041], "r": [0.02] * 3},
            {
                "n": 4000,
                "k": 1,
                "empty": [1e-4, 9e-5],
                "c": [0.09, 0.07, 0.1, 0.08, 0.2],
                "r": [0.04, 0.04, 0.04, 0.05, 0.04],
            },
        ],
    }
    base.update(extra)
    return base


def result(rec: dict[str, Any] | None, outcome: str = "passed", message: str | None = None):  # type: ignore[no-untyped-def]
    props = () if rec is None else ((C.PERF_PROPERTY, json.dumps(rec)),)
    return CaseResult("tests/perf/test_p.py::test_a", outcome, 3.6, message, None, props)


def test_the_ratio_is_the_median_of_paired_repetitions_at_the_largest_size() -> None:
    case, flags = performance.build_case("tests/perf/test_p.py::test_a", result(record()))
    assert flags == []
    assert case.outcome == "measured" and case.target == "logagg.aggregate"
    # pairs at n=4000: 2.25, 1.75, 2.5, 1.6, 5.0 → median 2.25
    assert case.ratio == 2.25 and case.ratio_at == 4000 and not case.ratio_is_lower_bound
    assert case.ratios == [2.25, 1.75, 2.5, 1.6, 5.0] and case.repetitions == 5
    c, ref = case.candidate, case.reference
    assert c is not None and ref is not None
    assert c.sizes == [1000, 2000, 4000] and c.median_s == [0.02, 0.041, 0.09]
    assert c.calls == [4, 2, 1] and ref.empty_crossing_s == [1e-4, 1e-4, 9e-5]
    assert ref.growth == "O(n)" and case.elapsed_s == 3.5


def test_an_abandoned_candidate_is_scored_on_a_lower_bound() -> None:
    rec = record(stopped={"why": "slow", "n": 8000, "lower_bound_s": 1.2, "reference_s": 0.08})
    case, _ = performance.build_case("tests/perf/test_p.py::test_a", result(rec))
    assert case.outcome == "measured"
    assert case.ratio == 15.0 and case.ratio_is_lower_bound and case.ratio_at == 8000
    assert case.candidate is not None and case.candidate.stopped_at == 8000
    assert case.candidate.lower_bound_s == 1.2


def test_a_result_that_differs_fails_the_case() -> None:
    rec = record(check="differs at n=1000")
    message = "AssertionError: under benchmark, the candidate's result for n=1000 differs"
    case, _ = performance.build_case("x::y", result(rec, "failed", message))
    assert case.outcome == "failed" and case.check == "differs at n=1000"
    assert "differs" in (case.message or "")


@pytest.mark.parametrize(
    ("rec", "outcome", "expected", "why"),
    [
        (None, "passed", "error", "measured nothing"),
        (None, None, "not_reported", "not reported"),
        (record(sizes=[]), "passed", "error", "no repetition"),
        (None, "error", "error", "boom"),
    ],
)
def test_cases_that_measured_nothing(
    rec: dict[str, Any] | None, outcome: str | None, expected: str, why: str
) -> None:
    given = (
        None if outcome is None else result(rec, outcome, "boom" if outcome != "passed" else None)
    )
    case, _ = performance.build_case("x::y", given)
    assert case.outcome == expected and why in (case.message or "")


def test_an_unreachable_reference_is_flagged_for_the_reviewer() -> None:
    rec = record(sizes=[], reference_error="the server did not prove it holds the run's secret")
    case, flags = performance.build_case("x::y", result(rec, "error", "RuntimeError: ..."))
    assert case.outcome == "error"
    assert [f.code for f in flags] == ["perf-reference-unavailable"]
    assert "secret" in flags[0].message


def test_two_measurements_in_one_test_are_refused() -> None:
    props = ((C.PERF_PROPERTY, json.dumps(record())),) * 2
    given = CaseResult("x::y", "passed", 1.0, None, None, props)
    case, _ = performance.build_case("x::y", given)
    assert case.outcome == "error" and "once" in (case.message or "")


@pytest.mark.parametrize("text", ["", "[]", "{}", '{"kind": "other"}', "not json"])
def test_records_that_are_not_records(text: str) -> None:
    assert performance.parse_record(text) is None


def test_hostile_numbers_in_a_record_are_dropped() -> None:
    rec = record()
    rec["sizes"][2]["c"] = [0.09, -1, "x", None, True, 0.08]
    case, _ = performance.build_case("x::y", result(rec))
    assert case.candidate is not None and case.candidate.samples_s[2] == [0.09, 0.08]


def test_a_load_case_compares_throughput_round_by_round() -> None:
    def figures(rps: float, p95: float) -> dict[str, Any]:
        return {"requests": 500, "concurrency": 8, "throughput_rps": rps, "p50_ms": 2.0,
                "p95_ms": p95, "p99_ms": p95 * 2, "errors": 0, "error_rate": 0.0}  # fmt: skip

    rec = {
        "v": 1,
        "kind": "load",
        "target": "GET /kv/k1",
        "rounds": [
            {"c": figures(500, 9), "r": figures(1000, 5)},
            {"c": figures(400, 11), "r": figures(1000, 5)},
            {"c": figures(600, 8), "r": figures(900, 6)},
        ],
    }
    case, _ = performance.build_case("x::y", result(rec))
    assert case.kind == "load" and case.target == "GET /kv/k1"
    assert case.ratios == [2.0, 2.5, 1.5] and case.ratio == 2.0 and case.repetitions == 3
    assert case.candidate_load is not None and case.candidate_load.throughput_rps == 500
    assert case.reference_load is not None and case.reference_load.p95_ms in (5, 6)


def test_validate_names_a_performance_case_that_measured_nothing() -> None:
    from grader.report import ChallengeRef, PerfCase, PerformanceSection, Report, SubmissionRef
    from grader.validate import _performance_problems

    ref = Report(
        challenge=ChallengeRef(slug="c", version=1), submission=SubmissionRef(id="s", sha256="")
    )
    assert _performance_problems(ref) == []
    ref.performance = PerformanceSection(reason="the performance run reported no case")
    assert _performance_problems(ref) == [
        "performance: no case was measured (the performance run reported no case)"
    ]
    ref.performance.cases = [
        PerfCase(id="tests/perf/test_p.py::test_a", ratio=1.0),
        PerfCase(id="tests/perf/test_p.py::test_b", outcome="error", message="TypeError: x\nmore"),
    ]
    assert _performance_problems(ref) == [
        "performance case tests/perf/test_p.py::test_b: error: TypeError: x"
    ]
