"""Performance cases: run them against the reference, and read what they measured.

A challenge's ``tests/perf/`` cases run in their own sandbox job, after the
correctness run and only when the submission passes a test: three containers on one
loopback, the tests (pytest with ``runners/harness/grader_perf.py``), the candidate's
code and the reference solution, each behind the RPC server (see the language's
``perf_job``). The correctness run never has a reference to reach.

Each case's raw figures come back in the run's authenticated JUnit XML (the
``grader_perf`` property, written by the tests container, which holds no candidate
code). Here they become, per side and input size, the median time of one call and
its spread (interquartile range), a growth model fitted to the medians, and the
ratio candidate / reference that the score follows (``grader.scoring``).

Growth: each model ``f`` (O(1), O(log n), O(n), O(n log n), O(n²), and O(2ⁿ) when
every size is at most 64) is fitted as ``t ≈ a + b·f(n)`` (``a, b ≥ 0``) by least
squares on times normalised to the largest, weighted so that every point counts by
its relative error. Its goodness is the relative RMS error of the fit. The model
chosen is the simplest whose error is within ``FIT_TOLERANCE_ABS + (1 + FIT_TOLERANCE_REL)
×`` the best error: a near tie goes to the simpler model (O(n) and O(n log n) are told
apart only over a wide range of sizes). Three measured sizes at least, else no growth
is given (a lower bound where the candidate was abandoned is not a point: it would
pull the fit towards slower growth).

Ratio: at the largest size both sides were measured at, the median over repetitions
of (candidate time / reference time) of the same repetition (the two ran next to each
other, so a burst of machine load hits both). When the candidate was abandoned (it
took more than the stop ratio times the reference's time), the ratio is the time it
had taken by then over the reference's time at that size: a lower bound.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from grader import service
from grader.junit import CaseResult
from grader.report import (
    Flag,
    LoadFigures,
    PerfCase,
    PerformanceSection,
    PerfSeries,
)
from runners.harness import grader_contract as C

if TYPE_CHECKING:
    from grader.challenge import Challenge
    from grader.submission import Submission
    from runners.base import Runner

Progress = Callable[[str], None]

FIT_TOLERANCE_ABS = 0.03
FIT_TOLERANCE_REL = 0.25
MIN_SIZES_TO_FIT = 3
MAX_EXPONENTIAL_SIZE = 64
MAX_SIZES = 12
# Repetitions read per size and side: grader_perf.py measures at most 62 (2 × MAX_REPEAT).
MAX_SAMPLES = 64
# The ratio recorded when the candidate completed nothing the reference did.
MAX_RATIO = 1e6


def _log2(n: float) -> float:
    return math.log2(max(n, 2.0))


# (label, f(n, n_max) normalised so that f(n_max, n_max) == 1), simplest first.
MODELS: tuple[tuple[str, Callable[[float, float], float]], ...] = (
    ("O(1)", lambda n, m: 1.0),
    ("O(log n)", lambda n, m: _log2(n) / _log2(m)),
    ("O(n)", lambda n, m: n / m),
    ("O(n log n)", lambda n, m: (n * _log2(n)) / (m * _log2(m))),
    ("O(n²)", lambda n, m: (n / m) ** 2),
    ("O(2ⁿ)", lambda n, m: 2.0 ** (n - m)),
)


# --- statistics ----------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else 0.0


def iqr(values: Sequence[float]) -> float:
    """The interquartile range (0 for fewer than two values)."""
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return float(q3 - q1)


@dataclass(frozen=True)
class Fit:
    """The growth model chosen for a series, its R² and every model's error."""

    model: str
    r2: float
    errors: dict[str, float]


def _fit_one(xs: list[float], ys: list[float]) -> tuple[float, float]:
    """``a, b ≥ 0`` minimising Σ ((y − a − b·x) / y)²."""
    w = [1.0 / (y * y) for y in ys]
    s = sum(w)
    sx = sum(wi * x for wi, x in zip(w, xs, strict=True))
    sy = sum(wi * y for wi, y in zip(w, ys, strict=True))
    sxx = sum(wi * x * x for wi, x in zip(w, xs, strict=True))
    sxy = sum(wi * x * y for wi, x, y in zip(w, xs, ys, strict=True))
    det = s * sxx - sx * sx
    if abs(det) > 1e-12 * max(s * sxx, 1e-300):
        b = (s * sxy - sx * sy) / det
        a = (sy - b * sx) / s
        if a >= 0 and b >= 0:
            return a, b
    options = [(sy / s, 0.0)]  # a constant
    if sxx > 0:
        options.append((0.0, max(sxy / sxx, 0.0)))  # through the origin
    return min(options, key=lambda ab: _rel_error(xs, ys, *ab))


def _rel_error(xs: list[float], ys: list[float], a: float, b: float) -> float:
    return math.sqrt(sum(((y - a - b * x) / y) ** 2 for x, y in zip(xs, ys, strict=True)) / len(ys))


def fit_growth(sizes: Sequence[int], times: Sequence[float]) -> Fit | None:
    """The growth model of ``times`` (seconds per call) over ``sizes`` (see the module)."""
    points = [(float(n), float(t)) for n, t in zip(sizes, times, strict=True) if n > 0]
    if len(points) < MIN_SIZES_TO_FIT:
        return None
    top = max(t for _, t in points)
    if top <= 0:
        return None
    floor = top * 1e-6  # a zero time (faster than the clock) still weighs something
    m = max(n for n, _ in points)
    ns = [n for n, _ in points]
    ys = [max(t, floor) / top for _, t in points]
    errors: dict[str, float] = {}
    r2s: dict[str, float] = {}
    mean_y = sum(ys) / len(ys)
    ss_tot = sum((y - mean_y) ** 2 for y in ys)
    for label, f in MODELS:
        if label == "O(2ⁿ)" and m > MAX_EXPONENTIAL_SIZE:
            continue
        xs = [f(n, m) for n in ns]
        a, b = _fit_one(xs, ys)
        errors[label] = _rel_error(xs, ys, a, b)
        ss_res = sum((y - a - b * x) ** 2 for x, y in zip(xs, ys, strict=True))
        r2s[label] = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    best = min(errors.values())
    limit = FIT_TOLERANCE_ABS + (1 + FIT_TOLERANCE_REL) * best
    chosen = next(label for label, _ in MODELS if errors.get(label, math.inf) <= limit)
    return Fit(chosen, r2s[chosen], {k: round(v, 4) for k, v in errors.items()})


# --- the figures of one case -----------------------------------------------------------


def _floats(value: object, limit: int = MAX_SAMPLES) -> list[float]:
    if not isinstance(value, list):
        return []
    out = []
    for v in value[:limit]:
        if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0:
            out.append(float(v))
    return out


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def parse_record(text: str) -> dict[str, Any] | None:
    """The ``grader_perf`` JSON of a case, or None when it is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("bench", "load"):
        return None
    return data


def _series(entries: list[dict[str, Any]], side: int, key: str) -> PerfSeries:
    series = PerfSeries()
    for entry in entries:
        samples = _floats(entry.get(key))
        if not samples:
            continue
        series.sizes.append(int(entry["n"]))
        series.samples_s.append(samples)
        series.median_s.append(median(samples))
        series.spread_s.append(iqr(samples))
        k = entry.get("k")
        series.calls.append(k if isinstance(k, int) and k > 0 else 1)
        empty = _floats(entry.get("empty"), 2)
        series.empty_crossing_s.append(empty[side] if len(empty) == 2 else 0.0)
    fit = fit_growth(series.sizes, series.median_s)
    if fit is not None:
        series.growth, series.growth_r2, series.growth_errors = fit.model, fit.r2, fit.errors
    return series


def _bench_case(case: PerfCase, record: dict[str, Any]) -> None:
    raw = record.get("sizes")
    entries = [
        e
        for e in (raw if isinstance(raw, list) else [])[:MAX_SIZES]
        if isinstance(e, dict) and isinstance(e.get("n"), int)
    ]
    case.target = str(record.get("function", ""))[:200]
    case.check = str(record.get("check", ""))[:100]
    case.candidate = _series(entries, 0, "c")
    case.reference = _series(entries, 1, "r")
    paired = [e for e in entries if _floats(e.get("c")) and _floats(e.get("r"))]
    if paired:
        last = paired[-1]
        cs, rs = _floats(last.get("c")), _floats(last.get("r"))
        ratios = [c / r for c, r in zip(cs, rs, strict=False) if r > 0]
        if ratios:
            case.ratios = [round(x, 4) for x in ratios]
            case.ratio = median(ratios)
            case.ratio_at = int(last["n"])
            case.repetitions = len(ratios)
    stopped = record.get("stopped")
    if isinstance(stopped, dict) and stopped.get("why") == "slow":
        bound, ref = _number(stopped.get("lower_bound_s")), _number(stopped.get("reference_s"))
        n = stopped.get("n")
        case.candidate.stopped_at = n if isinstance(n, int) else None
        case.candidate.lower_bound_s = bound
        if bound is not None and ref is not None and ref > 0:
            lower = bound / ref
            if case.ratio is None or lower >= case.ratio:
                case.ratio, case.ratio_is_lower_bound = lower, True
                case.ratio_at = case.candidate.stopped_at
    if case.ratio is not None:
        case.ratio = round(case.ratio, 4)


def _load_figures(value: object) -> LoadFigures | None:
    if not isinstance(value, dict):
        return None
    fields: dict[str, Any] = {}
    for key, field in LoadFigures.model_fields.items():
        raw = value.get(key)
        if field.annotation is int and isinstance(raw, int) and not isinstance(raw, bool):
            fields[key] = raw
        elif (number := _number(raw)) is not None and field.annotation is not int:
            fields[key] = number
    return LoadFigures(**fields)


def _load_case(case: PerfCase, record: dict[str, Any]) -> None:
    """A service's ``load`` case: rounds of candidate and reference, paired by round.

    The ratio is the reference's throughput over the candidate's (how much longer the
    candidate takes for the same requests), the median over rounds.
    """
    case.target = str(record.get("target", ""))[:200]
    rounds = [r for r in (record.get("rounds") or [])[:MAX_SAMPLES] if isinstance(r, dict)]
    pairs = [(_load_figures(r.get("c")), _load_figures(r.get("r"))) for r in rounds]
    done = [(c, r) for c, r in pairs if c is not None and r is not None]
    if not done:
        return
    ratios = [r.throughput_rps / c.throughput_rps for c, r in done if c.throughput_rps > 0]
    case.repetitions = len(done)
    case.ratios = [round(x, 4) for x in ratios]
    if ratios and len(ratios) == len(done):
        case.ratio = round(median(ratios), 4)
    elif done:
        case.ratio, case.ratio_is_lower_bound = MAX_RATIO, True  # nothing got through

    def middle(side: int) -> LoadFigures:
        ranked = sorted((pair[side] for pair in done), key=lambda f: f.throughput_rps)
        return ranked[len(ranked) // 2]

    case.candidate_load, case.reference_load = middle(0), middle(1)


def build_case(test_id: str, result: CaseResult | None) -> tuple[PerfCase, list[Flag]]:
    """One performance case from its test's reported outcome and ``grader_perf`` record."""
    case = PerfCase(id=test_id)
    flags: list[Flag] = []
    if result is None:
        case.outcome, case.message = "not_reported", "not reported"
        return case, flags
    records = [r for v in result.property_values(C.PERF_PROPERTY) if (r := parse_record(v))]
    for what in result.property_values(C.TAMPER_PROPERTY):
        flags.append(Flag(code="tamper-suspect", message=f"{test_id}: {what}"))
    if len(records) > 1:
        case.outcome = "error"
        case.message = "a performance case measures once (bench or load once per test)"
        return case, flags
    record = records[0] if records else None
    if record is not None:
        elapsed = _number(record.get("elapsed_s"))
        case.elapsed_s = elapsed or 0.0
        case.kind = "load" if record.get("kind") == "load" else "bench"
        if case.kind == "bench":
            _bench_case(case, record)
        else:
            _load_case(case, record)
        if record.get("reference_error"):
            why = str(record["reference_error"])[:300]
            flags.append(
                Flag(
                    code="perf-reference-unavailable",
                    message=f"{test_id}: the reference solution could not be measured: {why}",
                )
            )
    if result.outcome != "passed":
        case.outcome = "failed" if result.outcome == "failed" else "error"
        case.message = result.message or result.outcome
    elif record is None:
        case.outcome = "error"
        case.message = "the test measured nothing (it must call bench or load once)"
    elif case.ratio is None:
        case.outcome = "error"
        case.message = "no repetition of both sides was measured (the budget is too short?)"
    return case, flags


# --- the run ---------------------------------------------------------------------------


def run_performance(
    challenge: Challenge,
    submission: Submission,
    runner: Runner,
    *,
    label: str,
    progress: Progress,
) -> tuple[PerformanceSection, list[Flag]]:
    """Time the challenge's performance cases, the submission against the reference."""
    lang = challenge.language
    cfg = challenge.config.performance
    section = PerformanceSection(full_at_ratio=cfg.full_at_ratio, zero_at_ratio=cfg.zero_at_ratio)
    files = challenge.perf_files()
    token = lang.new_token()
    progress(f"measuring performance against the reference ({len(files)} file(s) of cases)")
    # A service's cases run in the tests container (Python's pytest), whatever the
    # service's language.
    make_job = service.perf_job if challenge.is_service else lang.perf_job
    job = make_job(
        challenge,
        submission.root,
        tuple(f for f in submission.files if not challenge.ignores(f)),
        token=token,
        # Deterministic, so a retry of the same grade removes a crashed attempt's
        # containers (as for the correctness run's label).
        label=f"{label}-perf",
    )
    started = time.monotonic()
    result = runner.run(job)
    section.run_s = round(time.monotonic() - started, 3)
    section.limits_hit = list(result.limits_hit)  # type: ignore[arg-type]
    res = challenge.tests_language.read_results(result, token, files)
    flags: list[Flag] = []
    if res.problem is not None:
        code = "tamper-suspect" if res.tampered else "results-missing"
        flags.append(Flag(code=code, message=f"performance run: {res.problem}"))
        section.reason = f"the performance run's results were not usable: {res.problem}"
        return section, flags
    for limit in section.limits_hit:
        flags.append(Flag(code="limit-hit", message=f"the performance run hit the {limit} limit"))
    collected = result.collected if result.collected is not None else sorted(res.cases)
    for file, why in res.file_errors.items():
        section.cases.append(
            PerfCase(id=file, outcome="error", message=f"collection error: {why}"[:4000])
        )
    for test_id in collected:
        case, case_flags = build_case(test_id, res.cases.get(test_id))
        section.cases.append(case)
        flags += case_flags
    section.measured = any(c.outcome == "measured" for c in section.cases)
    if not section.cases:
        section.reason = "the performance run reported no case" + (
            f" (it hit a limit: {', '.join(section.limits_hit)})" if section.limits_hit else ""
        )
    return section, flags
