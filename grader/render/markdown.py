"""The Markdown rendering (CI comments)."""

from __future__ import annotations

import html
import re

from grader.render.common import (
    MD_LIST_LIMIT,
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
    rate,
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

# --- Markdown --------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]~|#<>!])")


def _md(s: str | None) -> str:
    """Escape text for a Markdown table cell or paragraph (one line, no markup, no pings)."""
    one = clean(s).replace("\n", " ")
    one = html.escape(one, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", one).replace("@", "&#64;")


def _md_more(shown: int, total: int) -> list[str]:
    return ["", f"… and {total - shown} more (see the HTML report)"] if total > shown else []


def render(report: Report) -> str:
    """The report as Markdown."""
    r = report
    out = _md_summary(r) + _md_tests(r) + _md_service(r) + _md_quality(r) + _md_performance(r)
    out += [
        "",
        f"<sub>grader {_md(r.grader_version)} · schema {r.schema_version} · "
        f"submission {_md(r.submission.id)} · run {secs_str(r.timings.run_s)} s · "
        f"total {secs_str(r.timings.total_s)} s</sub>",
        "",
    ]
    return "\n".join(out)


def _md_summary(r: Report) -> list[str]:
    s = r.scores
    out = [f"### grader: {_md(title(r))} — total **{score_str(s.total)}** / 100", ""]
    keys = shown_sections(r)
    out += ["| | " + " | ".join(keys) + " |", "|---|" + "---:|" * len(keys)]
    out.append("| score | " + " | ".join(score_str(getattr(s, k)) for k in keys) + " |")
    out.append("| weight | " + " | ".join(weight_str(r.weights.get(k, 0.0)) for k in keys) + " |")
    out.append("")
    if r.run is not None:
        out += [f"_runner {_md(r.run.runner)}, isolation {_md(r.run.isolation)}_", ""]
    if r.status == "error" and r.error is not None:
        out += [f"**Error** `{_md(r.error.code)}`: {_md(r.error.message)}", ""]
    for flag in r.flags:
        out.append(f"- ⚑ **{_md(flag.code)}**: {_md(flag.message)}")
    if r.flags:
        out.append("")
    if r.limits_hit:
        out += ["**Limits hit:** " + ", ".join(_md(x) for x in r.limits_hit), ""]
    notes = [f"- **{', '.join(keys)}**: {_md(why)}" for why, keys in reasons(r).items()]
    if notes:
        out += [*notes, ""]
    return out


def _md_tests(r: Report) -> list[str]:
    passed, counted, not_counted = test_counts(r)
    extra = f", {not_counted} not counted" if not_counted else ""
    out = [f"**Tests:** {passed} of {counted} passed{extra}"]
    failed = [t for t in r.tests if is_failed(t)]
    if failed:
        out += ["", "| test | visibility | weight | outcome | message |", "|---|---|---:|---|---|"]
        for t in failed:
            out.append(
                f"| {_md(t.id)} | {t.visibility} | {weight_str(t.weight)} | {t.outcome} "
                f"| {_md(first_line(t.message))} |"
            )
    out += ["", "<details><summary>All tests</summary>", ""]
    out += ["| test | visibility | weight | outcome | time (s) |", "|---|---|---:|---|---:|"]
    for t in r.tests:
        outcome = t.outcome if t.counted else f"{t.outcome} (not counted)"
        out.append(
            f"| {_md(t.id)} | {t.visibility} | {weight_str(t.weight)} | {outcome} "
            f"| {secs_str(t.duration_s)} |"
        )
    return [*out, "", "</details>", ""]


def _md_service(r: Report) -> list[str]:
    out: list[str] = []
    if r.service is not None:
        out += [f"**Service:** {_md(service_summary(r))}", ""]
        if r.service.message:
            out += [f"> {_md(r.service.message)}", ""]
        if r.service.log.strip():
            tail = "\n".join(r.service.log.strip().splitlines()[-40:])
            out += [
                "<details><summary>Service log (last lines)</summary>",
                "",
                "```text",
                tail.replace("```", "ˋˋˋ"),
                "```",
                "",
                "</details>",
                "",
            ]
    if r.database is not None:
        out += ["**Database design** (after the tests):", ""]
        out += [f"- `{_md(line)}`" for line in schema_lines(r.database.schemas)]
        if r.database.reference is not None:
            out += ["", "The reference's:", ""]
            out += [f"- `{_md(line)}`" for line in schema_lines(r.database.reference)]
        out.append("")
    return out


def _md_quality(r: Report) -> list[str]:
    """Style, complexity and docs."""
    total = findings_total(r)
    density = per_100(r)
    dens = f" ({density} per 100 lines)" if density is not None else ""
    out = [f"**Style:** {total} findings in {r.style.lines_of_code} lines of code{dens}"]
    if r.style.findings:
        shown = r.style.findings[:MD_LIST_LIMIT]
        out += ["", "| where | code | message |", "|---|---|---|"]
        out += [f"| {_md(f.file)}:{f.line} | {_md(f.code)} | {_md(f.message)} |" for f in shown]
        out += _md_more(len(shown), total)
    c = r.complexity
    out += [
        "",
        f"**Complexity:** maintainability index {score_str(c.maintainability_index)}, "
        f"{count(functions_total(r), 'function')}",
    ]
    if c.reference:
        out += ["", f"Compared with the reference: {_md(str(c.reference.get('summary', '')))}"]
    if c.hotspots:
        out += ["", "| hot spot | where | complexity | rank |", "|---|---|---:|---|"]
        out += [
            f"| {_md(h.name)} | {_md(h.file)}:{h.line} | {h.complexity} | {h.rank} |"
            for h in c.hotspots
        ]
    d = r.docs
    out += ["", f"**Docs:** {d.documented} of {d.total} public items documented"]
    missing = undocumented(r)
    if missing:
        out += ["", "Missing docstrings: " + ", ".join(_md(m) for m in missing[:MD_LIST_LIMIT])]
        out += _md_more(min(len(missing), MD_LIST_LIMIT), len(missing))
    return out


def _md_performance(r: Report) -> list[str]:
    perf = r.performance
    if perf is None:
        return []
    out = [
        "",
        f"**Performance:** {score_str(r.scores.performance)} (against the reference, in "
        f"the same run; 100 up to {perf.full_at_ratio:g}×, 0 from {perf.zero_at_ratio:g}×)",
    ]
    note = score_note(r, "performance")
    if note:
        out += ["", _md(note)]
    if not perf.cases:
        return out
    out += [
        "",
        "| case | ratio | at n | candidate | reference | growth (candidate / reference) "
        "| reps | score |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for case in perf.cases:
        name = case.id.rpartition("::")[2] or case.id
        if case.outcome != "measured":
            out.append(
                f"| {_md(name)} | {_md(perf_line(case))} | | | | | | {score_str(case.score)} |"
            )
            continue
        if case.kind == "load":
            mine = case.candidate_load.throughput_rps if case.candidate_load else None
            theirs = case.reference_load.throughput_rps if case.reference_load else None
            cells = [rate(mine), rate(theirs)]
            growth = ""
        else:
            cells = [
                duration(at_size(case.candidate, case.ratio_at)),
                duration(at_size(case.reference, case.ratio_at)),
            ]
            growth = growth_pair(case)
        at = f"{case.ratio_at:,}" if case.ratio_at is not None else ""
        out.append(
            f"| {_md(name)} | {_md(ratio_str(case))} | {at} | {_md(cells[0])} | {_md(cells[1])} "
            f"| {_md(growth)} | {case.repetitions} | {score_str(case.score)} |"
        )
    return out
