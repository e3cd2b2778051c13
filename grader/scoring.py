"""The five scores and the total, each with the inputs it was computed from.

Every score is 0–100 and is stored rounded half-up to one decimal. The formulas:

correctness
    ``100 × Σ weight(passed) / Σ weight(counted)``. Tests with ``counted=False`` (the
    author's skips) are left out; every other outcome than ``passed`` (``failed``,
    ``error``, ``skipped`` for this submission only, ``not_reported``) counts as failed.
    No counted test at all scores 0.

style
    ``max(0, 100 × (1 − per_100_lines / zero_at_per_100_lines))`` where
    ``per_100_lines = 100 × (findings + zero_at_per_100_lines × U / 100) / (sloc + U)``,
    ``findings`` counts every ruff finding (listed or not), ``sloc`` the source lines
    of the analysed files and ``U`` the lines of files that could not be analysed:
    those lines sit exactly at the density that scores 0. No findings scores 100.

complexity
    ``100 × (0.7 × rank_part + 0.3 × mi_part)``.
    ``rank_part`` is the mean credit per function: 1 for a radon rank at or better
    than ``max_rank``, 0.25 less for each rank beyond it (so three ranks beyond gives
    0); a file that could not be analysed counts as one function with credit 0. No
    function at all gives 1.
    ``mi_part`` is the SLOC-weighted mean (weight ``max(sloc, 1)``) over files of
    ``min(MI, 20) / 20``: radon ranks MI ≥ 20 as "A" (very maintainable) and MI falls
    with file length, so anything ranked A earns full marks; an unanalysable file
    counts with MI 0 and weight ``max(lines, 1)``.

docs
    ``100 × documented / (public items + unanalysable files)``; each unanalysable file
    counts as one undocumented item. No items scores 100.

performance
    The mean of the case scores over the cases of ``tests/perf/`` (see
    ``grader.performance`` for how each is measured). A case scores
    ``100 × clamp(ln(zero_at_ratio / ratio) / ln(zero_at_ratio / full_at_ratio), 0, 1)``:
    100 up to ``full_at_ratio``, 0 from ``zero_at_ratio`` on, and in between linear in
    the logarithm of the ratio (1.2 and 5 by default: 2× the reference's time scores
    64.2, 3× scores 35.8), where ``ratio`` is the candidate's time over the reference's
    at the largest size both were measured at (a lower bound when the candidate was
    abandoned as too slow: it scores as that bound). A case that failed (its result
    differs from the reference's, the test failed or errored, it was not reported, the
    reference could not be measured) scores 0. No case, or no performance run (the
    challenge has none), scores 0; the weight defaults to 0.

total
    ``Σ weight × score / Σ weight`` over the five *rounded* scores (weights from
    ``[scoring]``, which sum to 100), so the total can be recomputed from the report.

A section with ``analysable=False`` scores 0 and its inputs say why; scoring it 0
(rather than leaving it out) means breaking the analysers never pays.

Style, complexity and docs describe a *working* solution: when the submission has no
code (no source lines at all) or passes no counted test, each of them scores 0 and its
inputs carry ``zeroed`` with the reason (an empty file is not 100 % stylish). So does
performance (the engine does not even measure it then: an empty function is fast).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from grader.report import (
    ComplexitySection,
    DocsSection,
    PerformanceSection,
    Report,
    Scores,
    StyleSection,
    TestResult,
)

if TYPE_CHECKING:
    from grader.challenge import ChallengeConfig, ComplexityConfig, StyleConfig

SECTIONS = ("correctness", "style", "complexity", "docs", "performance")
RANKS = "ABCDEF"
RANK_STEP_PENALTY = 0.25
COMPLEXITY_RANK_SHARE = 0.7
COMPLEXITY_MI_SHARE = 0.3
MI_FULL_MARKS = 20.0

Inputs = dict[str, Any]


def round1(x: float) -> float:
    """Round half-up to one decimal (92.25 → 92.3), the rounding of every score."""
    if not math.isfinite(x):
        return 0.0
    return float(Decimal(repr(x)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _not_analysable(reason: str | None, formula: str) -> tuple[float, Inputs]:
    return 0.0, {"analysable": False, "reason": reason or "not analysable", "formula": formula}


def correctness(tests: Sequence[TestResult]) -> tuple[float, Inputs]:
    """Weighted share of passing tests among the counted ones."""
    counted = [t for t in tests if t.counted]
    counted_weight = sum(t.weight for t in counted)
    passed = [t for t in counted if t.outcome == "passed"]
    passed_weight = sum(t.weight for t in passed)
    score = 100.0 * passed_weight / counted_weight if counted_weight > 0 else 0.0
    outcomes = Counter(t.outcome for t in counted if t.outcome != "passed")
    return score, {
        "formula": "100 * passed_weight / counted_weight",
        "passed_weight": passed_weight,
        "counted_weight": counted_weight,
        "tests_counted": len(counted),
        "tests_passed": len(passed),
        "tests_not_counted": len(tests) - len(counted),
        "failed_by_outcome": dict(sorted(outcomes.items())),
    }


STYLE_FORMULA = (
    "max(0, 100 * (1 - per_100_lines / zero_at_per_100_lines)); per_100_lines = "
    "100 * (findings + zero_at_per_100_lines * unanalysable_lines / 100) "
    "/ (lines_of_code + unanalysable_lines)"
)


def style_score(section: StyleSection, cfg: StyleConfig) -> tuple[float, Inputs]:
    """Findings per 100 source lines, mapped linearly onto 100 (none) .. 0 (zero_at)."""
    if not section.analysable:
        return _not_analysable(section.reason, STYLE_FORMULA)
    zero_at = cfg.zero_at_per_100_lines
    findings = max(section.findings_total, len(section.findings))
    bad_lines = sum(p.lines for p in section.unanalysable)
    weighted = findings + zero_at * bad_lines / 100
    lines = section.lines_of_code + bad_lines
    density = 100 * weighted / max(lines, 1) if weighted else 0.0
    score = max(0.0, 100 * (1 - density / zero_at))
    return score, {
        "formula": STYLE_FORMULA,
        "findings": findings,
        "lines_of_code": section.lines_of_code,
        "unanalysable_lines": bad_lines,
        "per_100_lines": density,
        "zero_at_per_100_lines": zero_at,
        "select": list(cfg.select) if cfg.select is not None else None,  # None: the default
        "ignore": list(cfg.ignore),
    }


COMPLEXITY_FORMULA = (
    "100 * (0.7 * rank_credit / rank_count + 0.3 * mi_weighted / mi_weight); credit per "
    "function = max(0, 1 - 0.25 * ranks beyond max_rank); mi_weighted = sum over files of "
    "max(sloc, 1) * min(MI, 20) / 20"
)


def complexity_score(section: ComplexitySection, cfg: ComplexityConfig) -> tuple[float, Inputs]:
    """Per-function rank credit (70 %) and capped maintainability index (30 %)."""
    if not section.analysable:
        return _not_analysable(section.reason, COMPLEXITY_FORMULA)
    limit = RANKS.index(cfg.max_rank)
    credit = 0.0
    for fn in section.functions:
        beyond = max(0, RANKS.index(fn.rank) - limit) if fn.rank in RANKS else len(RANKS)
        credit += max(0.0, 1 - RANK_STEP_PENALTY * beyond)
    count = len(section.functions) + len(section.unanalysable)
    rank_part = credit / count if count else 1.0
    mi_weighted = sum(
        max(f.sloc, 1) * min(max(f.maintainability_index, 0.0), MI_FULL_MARKS) / MI_FULL_MARKS
        for f in section.files
    )
    mi_weight = sum(max(f.sloc, 1) for f in section.files)
    mi_weight += sum(max(p.lines, 1) for p in section.unanalysable)
    mi_part = mi_weighted / mi_weight if mi_weight else 1.0
    score = 100 * (COMPLEXITY_RANK_SHARE * rank_part + COMPLEXITY_MI_SHARE * mi_part)
    return score, {
        "formula": COMPLEXITY_FORMULA,
        "max_rank": cfg.max_rank,
        "functions": len(section.functions),
        "functions_by_rank": dict(sorted(Counter(f.rank for f in section.functions).items())),
        "unanalysable_files": len(section.unanalysable),
        "rank_credit": credit,
        "rank_count": count,
        "rank_part": rank_part,
        "mi_weighted": mi_weighted,
        "mi_weight": mi_weight,
        "mi_part": mi_part,
    }


DOCS_FORMULA = "100 * documented / (total + unanalysable_files); 100 when nothing to document"


def docs_score(section: DocsSection) -> tuple[float, Inputs]:
    """Share of public modules, classes and functions that have a docstring."""
    if not section.analysable:
        return _not_analysable(section.reason, DOCS_FORMULA)
    total_items = section.total + len(section.unanalysable)
    score = 100.0 * section.documented / total_items if total_items else 100.0
    return score, {
        "formula": DOCS_FORMULA,
        "documented": section.documented,
        "total": section.total,
        "unanalysable_files": len(section.unanalysable),
    }


PERFORMANCE_FORMULA = (
    "mean over cases of 100 * clamp(ln(zero_at_ratio / ratio) / ln(zero_at_ratio / "
    "full_at_ratio), 0, 1); a case not measured scores 0"
)


def case_score(ratio: float | None, full_at: float, zero_at: float) -> float:
    """One performance case: 100 up to ``full_at``, 0 from ``zero_at``, log-linear between."""
    if ratio is None or not math.isfinite(ratio) or ratio >= zero_at:
        return 0.0
    if ratio <= full_at:
        return 100.0
    return 100.0 * math.log(zero_at / ratio) / math.log(zero_at / full_at)


def performance_score(section: PerformanceSection | None) -> tuple[float, Inputs]:
    """The mean of the cases' scores (each case's score is written into the section)."""
    if section is None:
        return 0.0, {
            "formula": PERFORMANCE_FORMULA,
            "measured": False,
            "reason": "the challenge has no performance cases",
        }
    full, zero = section.full_at_ratio, section.zero_at_ratio
    cases: dict[str, Any] = {}
    for case in section.cases:
        measured = case.outcome == "measured"
        case.score = round1(case_score(case.ratio, full, zero)) if measured else 0.0
        cases[case.id] = {
            "outcome": case.outcome,
            "ratio": case.ratio,
            "ratio_at": case.ratio_at,
            "ratio_is_lower_bound": case.ratio_is_lower_bound,
            "score": case.score,
        }
    scores = [c.score for c in section.cases]
    score = sum(scores) / len(scores) if scores else 0.0
    how: Inputs = {
        "formula": PERFORMANCE_FORMULA,
        "full_at_ratio": full,
        "zero_at_ratio": zero,
        "cases": cases,
        "measured": section.measured,
    }
    if not section.cases:
        how["reason"] = section.reason or "no performance case was reported"
    return score, how


def total(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Weighted mean of the five scores (unrounded; weights normally sum to 100)."""
    weight_sum = sum(weights.get(k, 0.0) for k in SECTIONS)
    if weight_sum <= 0:
        return 0.0
    return sum(weights.get(k, 0.0) * scores.get(k, 0.0) for k in SECTIONS) / weight_sum


def _figures(section: ComplexitySection) -> dict[str, Any]:
    cc = [f.complexity for f in section.functions]
    return {
        "functions": len(cc),
        "total_complexity": sum(cc),
        "mean_complexity": round1(sum(cc) / len(cc)) if cc else 0.0,
        "max_complexity": max(cc, default=0),
        "maintainability_index": section.maintainability_index,
        "sloc": sum(f.sloc for f in section.files),
    }


def compare_to_reference(
    submission: ComplexitySection, reference: ComplexitySection
) -> dict[str, Any]:
    """The submission's complexity figures beside the reference solution's."""
    sub, ref = _figures(submission), _figures(reference)
    ratio: float | None = None
    if not submission.analysable:
        summary = "not comparable: the submission could not be analysed"
    elif ref["total_complexity"] == 0:
        summary = "not comparable: the reference solution has no functions"
    else:
        ratio = round1(sub["total_complexity"] / ref["total_complexity"])
        figures = (
            f"total cyclomatic complexity {sub['total_complexity']} vs {ref['total_complexity']}"
        )
        if ratio > 1.0:
            summary = f"{ratio:.1f}× more complex than the reference ({figures})"
        elif ratio < 1.0:
            summary = f"{ratio:.1f}× the reference's complexity: simpler ({figures})"
        else:
            summary = f"about as complex as the reference ({figures})"
    return {"submission": sub, "reference": ref, "ratio": ratio, "summary": summary}


QUALITY_SECTIONS = ("style", "complexity", "docs")


def quality_gate(report: Report) -> str | None:
    """Why style, complexity and docs score 0 for this report, or None when they count."""
    lines = report.style.lines_of_code + sum(p.lines for p in report.style.unanalysable)
    if lines == 0:
        return "the submission has no code: style, complexity and docs describe a working solution"
    counted = [t for t in report.tests if t.counted]
    if counted and not any(t.outcome == "passed" for t in counted):
        return "no test passes: style, complexity and docs describe a working solution"
    return None


def apply_scores(
    report: Report, config: ChallengeConfig, reference: ComplexitySection | None = None
) -> Report:
    """Fill ``report.scores``, ``weights`` and ``score_inputs`` (and the reference comparison).

    Mutates and returns ``report``.
    """
    raw: dict[str, tuple[float, Inputs]] = {
        "correctness": correctness(report.tests),
        "style": style_score(report.style, config.style),
        "complexity": complexity_score(report.complexity, config.complexity),
        "docs": docs_score(report.docs),
        "performance": performance_score(report.performance),
    }
    gate = quality_gate(report)
    if gate is not None:
        for key in QUALITY_SECTIONS:
            score, how = raw[key]
            raw[key] = (0.0, {**how, "zeroed": gate, "score_before_zeroing": score})
        if report.performance is not None:
            score, how = raw["performance"]
            why = gate.split(":", 1)[0] + ": performance describes a working solution"
            raw["performance"] = (0.0, {**how, "zeroed": why, "score_before_zeroing": score})
    rounded = {k: round1(v[0]) for k, v in raw.items()}
    weights = {k: float(getattr(config.scoring, k)) for k in SECTIONS}
    overall = round1(total(rounded, weights))
    inputs: dict[str, Any] = {}
    for key, (score, how) in raw.items():
        inputs[key] = {**how, "score": rounded[key], "unrounded": score}
    inputs["total"] = {
        "formula": "sum(weight * score) / sum(weight), over the rounded scores",
        "scores": rounded,
        "weights": weights,
        "score": overall,
    }
    report.scores = Scores(**rounded, total=overall)
    report.weights = weights
    report.score_inputs = inputs
    if reference is not None:
        report.complexity.reference = compare_to_reference(report.complexity, reference)
    return report
