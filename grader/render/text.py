"""The terminal rendering (rich tables; plain text when piped)."""

from __future__ import annotations

import io
import shutil

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.render.common import (
    TEXT_LIST_LIMIT,
    at_size,
    clean,
    count,
    duration,
    findings_total,
    first_line,
    functions_total,
    growth_pair,
    is_failed,
    per_100,
    perf_line,
    ratio_str,
    reasons,
    schema_lines,
    score_note,
    score_str,
    secs_str,
    service_summary,
    shown_sections,
    test_counts,
    title,
    undocumented,
    weight_str,
)
from grader.report import (
    Report,
)

# --- terminal --------------------------------------------------------------------------

_OUTCOME_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "error": "bold red",
    "not_reported": "bold red",
    "skipped": "yellow",
}


def t(s: object, style: str = "") -> Text:
    """One cell or line: the text cleaned of control characters, in ``style``."""
    return Text(clean(str(s)), style=style)


def _table(*columns: str, right: tuple[str, ...] = ()) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left", overflow="fold")
    return table


def render(report: Report, color: bool) -> str:
    """The report as a terminal table."""
    buf = io.StringIO()
    width = shutil.get_terminal_size((100, 24)).columns if color else 100
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        markup=False,
        legacy_windows=False,
    )
    _summary(console, report)
    _tests(console, report, width)
    _service(console, report)
    _style(console, report)
    _complexity(console, report)
    _docs(console, report)
    _performance(console, report)
    console.print()
    console.print(
        t(
            f"grader {report.grader_version} · run {secs_str(report.timings.run_s)} s · "
            f"total {secs_str(report.timings.total_s)} s",
            "dim",
        )
    )
    text = buf.getvalue()
    if not color:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text


def _summary(console: Console, r: Report) -> None:
    s = r.scores
    console.print(
        t(f"grader report: {title(r)} — submission {r.submission.id} — {r.status}", "bold")
    )
    console.print(t(f"total {score_str(s.total)} / 100", "bold"))
    if r.run is not None:
        console.print(t(f"runner {r.run.runner}, isolation {r.run.isolation}", ""))
    scores = _table("score", "value", "weight", "note", right=("value", "weight"))
    for key in shown_sections(r):
        scores.add_row(
            t(key),
            t(score_str(getattr(s, key)), "bold"),
            t(weight_str(r.weights.get(key, 0.0))),
            t(score_note(r, key), "red"),
        )
    scores.add_row(t("total", "bold"), t(score_str(s.total), "bold"), t(""), t(""))
    console.print(scores)
    if r.status == "error" and r.error is not None:
        console.print(t(f"ERROR {r.error.code}: {r.error.message}", "bold red"))
    for flag in r.flags:
        console.print(t(f"FLAG {flag.code}: {flag.message}", "bold red"))
    if r.limits_hit:
        console.print(t("limits hit: " + ", ".join(r.limits_hit), "bold yellow"))


def _tests(console: Console, r: Report, width: int) -> None:
    passed, counted, not_counted = test_counts(r)
    extra = f", {not_counted} not counted" if not_counted else ""
    console.print()
    console.print(t(f"Tests: {passed} of {counted} passed{extra}", "bold"))
    tests = Table(box=box.SIMPLE_HEAD, show_edge=False)
    longest = max((len(tr.id) for tr in r.tests), default=4)
    tests.add_column("test", overflow="fold", min_width=min(longest, width - 45))
    tests.add_column("vis", no_wrap=True)
    tests.add_column("weight", justify="right", no_wrap=True)
    tests.add_column("outcome", no_wrap=True)
    tests.add_column("time (s)", justify="right", no_wrap=True)
    for tr in r.tests:
        outcome = tr.outcome if tr.counted else "not counted"
        tests.add_row(
            t(tr.id),
            t(tr.visibility),
            t(weight_str(tr.weight)),
            t(outcome, _OUTCOME_STYLE.get(tr.outcome, "")),
            t(secs_str(tr.duration_s)),
        )
    console.print(tests)
    for tr in r.tests:
        if is_failed(tr):
            why = first_line(tr.message, 200) or tr.outcome.replace("_", " ")
            console.print(t(f"  ✗ {tr.id}: {why}", _OUTCOME_STYLE.get(tr.outcome, "")))


def _service(console: Console, r: Report) -> None:
    if r.service is not None:
        console.print()
        console.print(t(f"Service: {service_summary(r)}", "bold"))
        if r.service.message:
            console.print(t(f"  {r.service.message}", "red"))
        log = r.service.log.strip()
        if log:
            console.print(t(f"  log ({r.service.log_bytes} bytes), last lines:"))
            for line in log.splitlines()[-10:]:
                console.print(t(f"    {line[:200]}"))
    if r.database is not None:
        console.print()
        console.print(t("Database design (after the tests):", "bold"))
        for line in schema_lines(r.database.schemas):
            console.print(t(f"  {line}"))
        if r.database.reference is not None:
            console.print(t("  the reference's:"))
            for line in schema_lines(r.database.reference):
                console.print(t(f"    {line}"))


def _style(console: Console, r: Report) -> None:
    total = findings_total(r)
    density = per_100(r)
    dens = f" ({density} per 100 lines)" if density is not None else ""
    console.print()
    console.print(
        t(f"Style: {total} findings in {r.style.lines_of_code} lines of code{dens}", "bold")
    )
    style = _table("where", "code", "message")
    for f in r.style.findings[:TEXT_LIST_LIMIT]:
        style.add_row(t(f"{f.file}:{f.line}:{f.column}"), t(f.code), t(f.message))
    if r.style.findings:
        console.print(style)
    if total > TEXT_LIST_LIMIT:
        console.print(t(f"… and {total - min(TEXT_LIST_LIMIT, len(r.style.findings))} more"))
    for reason, keys in reasons(r).items():
        console.print(t(f"{', '.join(keys)}: {reason}", "yellow"))


def _complexity(console: Console, r: Report) -> None:
    c = r.complexity
    console.print()
    console.print(
        t(
            f"Complexity: maintainability index {score_str(c.maintainability_index)}, "
            f"{count(functions_total(r), 'function')}",
            "bold",
        )
    )
    hot = _table("function", "where", "complexity", "rank", right=("complexity",))
    for h in c.hotspots:
        hot.add_row(t(h.name), t(f"{h.file}:{h.line}"), t(h.complexity), t(h.rank))
    if c.hotspots:
        console.print(hot)
    if c.reference:
        console.print(t(f"compared with the reference: {c.reference.get('summary', '')}"))


def _docs(console: Console, r: Report) -> None:
    d = r.docs
    console.print()
    console.print(t(f"Docs: {d.documented} of {d.total} public items documented", "bold"))
    missing = undocumented(r)
    for m in missing[:TEXT_LIST_LIMIT]:
        console.print(t(f"  missing docstring: {m}"))
    if len(missing) > TEXT_LIST_LIMIT:
        console.print(t(f"  … and {len(missing) - TEXT_LIST_LIMIT} more"))


def _performance(console: Console, r: Report) -> None:
    perf = r.performance
    if perf is None:
        return
    console.print()
    console.print(
        t(
            f"Performance: {score_str(r.scores.performance)} (against the reference, same "
            f"run; 100 up to {perf.full_at_ratio:g}×, 0 from {perf.zero_at_ratio:g}×)",
            "bold",
        )
    )
    if note := score_note(r, "performance"):
        console.print(t(note, "yellow"))
    table = _table(
        "case",
        "ratio",
        "at n",
        "candidate",
        "reference",
        "growth",
        "reps",
        "score",
        right=("ratio", "at n", "candidate", "reference", "reps", "score"),
    )
    for case in perf.cases:
        name = case.id.rpartition("::")[2] or case.id
        bench = case.kind == "bench"
        table.add_row(
            t(name),
            t(ratio_str(case)),
            t(f"{case.ratio_at:,}" if case.ratio_at is not None else ""),
            t(duration(at_size(case.candidate, case.ratio_at)) if bench else ""),
            t(duration(at_size(case.reference, case.ratio_at)) if bench else ""),
            t(growth_pair(case) if bench else ""),
            t(case.repetitions),
            t(score_str(case.score), "bold"),
        )
    if perf.cases:
        console.print(table)
    for case in perf.cases:
        if case.outcome != "measured":
            console.print(t(f"  ✗ {case.id}: {perf_line(case)}", "bold red"))
