"""What every rendering shares: hostile-text cleaning, number formats, report summaries."""

from __future__ import annotations

import re
import statistics

from grader.report import (
    ComplexitySection,
    DocsSection,
    PerfCase,
    PerfSeries,
    Report,
    SchemaInfo,
    StyleSection,
    TableInfo,
    TestResult,
)

FORMATS = ("json", "md", "html", "junit", "text")
SECTIONS = ("correctness", "style", "complexity", "docs")
PERFORMANCE = "performance"
MD_LIST_LIMIT = 20
TEXT_LIST_LIMIT = 50
TAIL_CHARS = 4000

# C0/C1 controls (tab and newline kept), DEL, and the characters that reorder text.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
XML_UNSAFE = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# --- shared ----------------------------------------------------------------------------


def clean(s: str | None) -> str:
    """Make hostile text displayable: CRLF to LF, controls and bidi marks made visible."""
    if not s:
        return ""
    return UNSAFE.sub(_visible, s.replace("\r\n", "\n"))


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"<U+{c:04X}>"


def score_str(x: float) -> str:
    return f"{x:.1f}"


def weight_str(x: float) -> str:
    return f"{x:g}"


def secs_str(x: float) -> str:
    return f"{x:.3f}"


def tail(s: str | None, limit: int = TAIL_CHARS) -> str:
    s = clean(s)
    return s if len(s) <= limit else "…" + s[-limit:]


def first_line(s: str | None, limit: int = 120) -> str:
    line = clean(s).strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def findings_total(report: Report) -> int:
    return max(report.style.findings_total, len(report.style.findings))


def per_100(report: Report) -> str | None:
    value = report.score_inputs.get("style", {}).get("per_100_lines")
    return f"{value:.2f}" if isinstance(value, int | float) else None


def test_counts(report: Report) -> tuple[int, int, int]:
    counted = [t for t in report.tests if t.counted]
    passed = sum(t.outcome == "passed" for t in counted)
    return passed, len(counted), len(report.tests) - len(counted)


def shown_sections(report: Report) -> tuple[str, ...]:
    """The scores a rendering lists: the four, and performance where the challenge has
    performance cases or weights it (it weighs 0 and is left out otherwise)."""
    if report.performance is not None or report.weights.get(PERFORMANCE, 0.0) > 0:
        return (*SECTIONS, PERFORMANCE)
    return SECTIONS


def duration(seconds: float | None) -> str:
    """A measured duration in the unit that suits it: ``850 ns``, ``12.3 µs``, ``4.56 ms``."""
    if seconds is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def rate(per_second: float | None) -> str:
    """A throughput: ``1,600 req/s``, ``12.5 req/s``."""
    if per_second is None:
        return "—"
    return f"{per_second:,.0f} req/s" if per_second >= 100 else f"{per_second:.3g} req/s"


def ratio_str(case: PerfCase) -> str:
    """``1.59×``, ``≥ 12.3×`` (a lower bound), or ``—``."""
    if case.ratio is None:
        return "—"
    prefix = "≥ " if case.ratio_is_lower_bound else ""
    return f"{prefix}{case.ratio:.3g}×"


def at_size(series: PerfSeries | None, n: int | None) -> float | None:
    """The series' median seconds at size ``n`` (its lower bound where it stopped)."""
    if series is None or n is None:
        return None
    if n in series.sizes:
        return series.median_s[series.sizes.index(n)]
    if series.stopped_at == n:
        return series.lower_bound_s
    return None


def quartiles(samples: list[float]) -> tuple[float, float]:
    """The first and third quartiles (the value itself for a single sample)."""
    if len(samples) < 2:
        value = samples[0] if samples else 0.0
        return value, value
    q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q1, q3


def growth_pair(case: PerfCase) -> str:
    """``O(n²) / O(n)``: the candidate's fitted growth, then the reference's."""
    mine = case.candidate.growth if case.candidate is not None else None
    theirs = case.reference.growth if case.reference is not None else None
    return f"{mine or '?'} / {theirs or '?'}"


def perf_line(case: PerfCase) -> str:
    """One line on a case: ratio, growth of both sides, repetitions."""
    if case.outcome != "measured":
        return f"{case.outcome.replace('_', ' ')}: {first_line(case.message)}"
    parts = [f"{ratio_str(case)} the reference's time"]
    if case.ratio_at is not None and case.kind == "bench":
        parts[0] += f" at n={case.ratio_at:,}"
    c, ref = case.candidate, case.reference
    if c is not None and ref is not None and (c.growth or ref.growth):
        parts.append(f"growth {c.growth or '?'} (reference {ref.growth or '?'})")
    parts.append(f"{case.repetitions} repetitions")
    return " · ".join(parts)


def score_note(report: Report, key: str) -> str:
    sections: dict[str, StyleSection | ComplexitySection | DocsSection] = {
        "style": report.style,
        "complexity": report.complexity,
        "docs": report.docs,
    }
    zeroed = report.score_inputs.get(key, {}).get("zeroed")
    if isinstance(zeroed, str):
        return f"0: {zeroed}"
    if key == PERFORMANCE:
        perf = report.performance
        if perf is None:
            return "the challenge has no performance cases"
        return perf.reason or ""
    section = sections.get(key)
    if section is None or section.analysable:
        return ""
    return f"not analysable: {section.reason or 'no reason given'}"


def reasons(report: Report) -> dict[str, list[str]]:
    """Each section's reason (why it is not, or not fully, analysable) → the sections."""
    out: dict[str, list[str]] = {}
    for key, section in (
        ("style", report.style),
        ("complexity", report.complexity),
        ("docs", report.docs),
    ):
        zeroed = report.score_inputs.get(key, {}).get("zeroed")
        if isinstance(zeroed, str):
            out.setdefault(f"scored 0: {zeroed}", []).append(key)
        elif section.reason:
            why = section.reason if section.analysable else f"not analysable: {section.reason}"
            out.setdefault(why, []).append(key)
    return out


def is_failed(t: TestResult) -> bool:
    return t.counted and t.outcome != "passed"


def undocumented(report: Report) -> list[str]:
    return [f"{i.kind} {i.name} ({i.file}:{i.line})" for i in report.docs.items if not i.documented]


def count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def title(report: Report) -> str:
    return f"{report.challenge.slug} v{report.challenge.version}"


def functions_total(report: Report) -> int:
    return max(report.complexity.functions_total, len(report.complexity.functions))


def more(shown: int, total: int, noun: str) -> str:
    """``and 19,700 more functions`` (empty when nothing was left out)."""
    return f"and {total - shown:,} more {noun}" if total > shown else ""


# --- service challenges ----------------------------------------------------------------


def service_summary(r: Report) -> str:
    """One line on how a service challenge's service ran."""
    s = r.service
    if s is None:
        return ""
    parts = [f"{s.language} on port {s.port}"]
    if s.ready:
        parts.append(f"ready in {secs_str(s.ready_s or 0.0)} s (limit {s.ready_seconds:g} s)")
    else:
        parts.append(f"not ready ({s.cause or 'unknown'})")
    parts.append(count(s.restarts, "restart"))
    if s.exits:
        shown = ", ".join(
            f"{'signal ' + e.signal if e.signal else 'code ' + str(e.code)} at {e.at_s} s"
            for e in s.exits[-3:]
        )
        parts.append(f"exited by itself {count(len(s.exits), 'time')} ({shown})")
    if s.databases:
        parts.append("databases: " + ", ".join(s.databases))
    return "; ".join(parts)


def table_signature(t: TableInfo) -> str:
    """A table in one line: ``orders(id bigint PK, note text NULL) FK ...; index ...``."""
    pk = set(t.primary_key)
    cols = []
    for c in t.columns:
        bits = [c.name, c.type]
        if c.name in pk and len(pk) == 1:
            bits.append("PK")
        elif c.nullable:
            bits.append("NULL")
        cols.append(" ".join(bits))
    text = f"{t.name}({', '.join(cols)})"
    if len(pk) > 1:
        text += f" PK({', '.join(t.primary_key)})"
    for fk in t.foreign_keys:
        text += (
            f"; FK ({', '.join(fk.columns)}) → {fk.references_table}"
            f"({', '.join(fk.references_columns)})"
        )
    for u in t.unique:
        text += f"; UNIQUE({', '.join(u)})"
    for ix in t.indexes:
        if ix.primary:
            continue
        kind = "unique index" if ix.unique else "index"
        text += f"; {kind} {ix.name}({', '.join(ix.columns)})"
    for check in t.checks:
        text += f"; {check}"
    return text


def schema_lines(schemas: list[SchemaInfo]) -> list[str]:
    """Every table of every schema, one line each (with the engine when several)."""
    out: list[str] = []
    for sc in schemas:
        if sc.problem:
            out.append(f"({sc.engine}) {sc.problem}")
        if not sc.tables and not sc.problem:
            out.append(f"({sc.engine}) no tables")
        prefix = f"({sc.engine}) " if len(schemas) > 1 else ""
        out += [prefix + table_signature(t) for t in sc.tables]
        if sc.truncated:
            out.append(f"({sc.engine}) … more tables not listed")
    return out
