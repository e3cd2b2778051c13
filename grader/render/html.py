"""The HTML rendering: one self-contained page for reviewers (inline CSS, no script, strict CSP)."""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Callable, Iterable

from grader.render import charts
from grader.render.common import (
    clean,
    count,
    duration,
    findings_total,
    first_line,
    functions_total,
    more,
    per_100,
    perf_line,
    rate,
    ratio_str,
    score_note,
    score_str,
    secs_str,
    service_summary,
    shown_sections,
    tail,
    test_counts,
    title,
    weight_str,
)
from grader.report import (
    FileProblem,
    PerfCase,
    PerfSeries,
    Report,
    SchemaInfo,
    StyleFinding,
)

# --- HTML ------------------------------------------------------------------------------

_CSS = """
:root{--fg:#1d232a;--mute:#5b6570;--line:#d9dee3;--bg:#fff;--soft:#f4f6f8;--bad:#b42318;
--badbg:#fdecea;--ok:#067647;--okbg:#e8f6ee;--warn:#8a5a00;--warnbg:#fff4d6}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1200px;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;
border-bottom:1px solid var(--line);padding-bottom:.25rem}
.meta{color:var(--mute);font-size:.85rem;overflow-wrap:anywhere}
.cards{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{border:1px solid var(--line);border-radius:8px;padding:.6rem .9rem;min-width:9rem;
background:var(--soft)}
.card .v{font-size:1.6rem;font-weight:650}.card .k{color:var(--mute);font-size:.8rem}
.card.total{background:#1d232a;color:#fff}.card.total .k{color:#cfd6dd}
.card .note{font-size:.75rem;color:var(--bad);max-width:16rem}
.flags{border:2px solid var(--bad);background:var(--badbg);border-radius:8px;padding:.5rem 1rem}
.limits{border:2px solid var(--warn);background:var(--warnbg);border-radius:8px;padding:.5rem 1rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin:.5rem 0}
th,td{border-bottom:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:var(--soft)}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td{overflow-wrap:anywhere}
.o-passed{color:var(--ok)}.o-failed,.o-error,.o-not_reported{color:var(--bad);font-weight:600}
.o-skipped{color:var(--warn)}
.badge{display:inline-block;font-size:.75rem;padding:0 .4rem;border-radius:4px;
background:#3b4754;color:#fff}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.5rem;
overflow:auto;max-height:28rem;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.82rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
details>summary{cursor:pointer}
.bar{background:var(--soft);border:1px solid var(--line);height:.7rem;border-radius:4px;
width:20rem;max-width:100%}.bar>span{display:block;height:100%;background:var(--ok);
border-radius:4px}
pre.src{white-space:pre;max-height:none;padding:0;overflow-x:auto}
.src .l{display:block;padding:0 .5rem}.src .n{display:inline-block;width:5ch;
color:var(--mute);text-align:right;margin-right:1ch;user-select:none}
.src .hit{background:var(--warnbg)}.src .f{display:block;background:var(--badbg);
color:var(--bad);padding:0 .5rem 0 6.5ch;white-space:pre-wrap}
.muted{color:var(--mute)}
svg.chart{max-width:100%;height:auto;display:block;margin:.5rem 0}
.perf-case{border:1px solid var(--line);border-radius:8px;padding:.25rem 1rem;margin:1rem 0}
"""


def _h(s: object) -> str:
    return html.escape(clean(str(s)), quote=True)


def _html_table(head: list[str], rows: Iterable[list[str]], num: set[int] | None = None) -> str:
    num = num or set()
    ths = "".join(f"<th{' class=num' if i in num else ''}>{h}</th>" for i, h in enumerate(head))
    body = []
    for row in rows:
        tds = "".join(f"<td{' class=num' if i in num else ''}>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{tds}</tr>")
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render(report: Report) -> str:
    """The report as one self-contained HTML page."""
    r = report
    s = r.scores
    src_index = {src.path: i for i, src in enumerate(r.sources)}

    def where(file: str, line: int) -> str:
        label = f"{_h(file)}:{line}"
        i = src_index.get(file)
        return f'<a href="#s{i}-L{line}">{label}</a>' if i is not None else label

    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>grader report: {_h(title(r))} — {score_str(s.total)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{_h(title(r))}</h1>",
        f'<div class="meta">submission <code>{_h(r.submission.id)}</code> · sha256 '
        f"<code>{_h(r.submission.sha256)}</code> · status <b>{_h(r.status)}</b> · "
        f"grader {_h(r.grader_version)} · schema {r.schema_version}</div>",
        '<div class="cards">',
        f'<div class="card total"><div class="k">total</div>'
        f'<div class="v" id="total">{score_str(s.total)}</div></div>',
    ]
    for key in shown_sections(r):
        note = score_note(r, key)
        out.append(
            f'<div class="card" id="score-{key}"><div class="k">{key} · weight '
            f"{weight_str(r.weights.get(key, 0.0))}</div>"
            f'<div class="v">{score_str(getattr(s, key))}</div>'
            + (f'<div class="note">{_h(note)}</div>' if note else "")
            + "</div>"
        )
    out.append("</div></header>")

    if r.status == "error" and r.error is not None:
        out.append(
            f'<div class="flags"><b>Error {_h(r.error.code)}</b>: {_h(r.error.message)}</div>'
        )
    if r.flags:
        out.append('<section class="flags" id="flags"><b>Flags for the reviewer</b><ul>')
        out += [f"<li><b>{_h(f.code)}</b>: {_h(f.message)}</li>" for f in r.flags]
        out.append("</ul></section>")
    if r.limits_hit:
        out.append(
            '<section class="limits" id="limits"><b>Limits hit:</b> '
            + ", ".join(_h(x) for x in r.limits_hit)
            + "</section>"
        )
    out += _html_tests(r)
    out += _html_service(r)
    out += _html_database(r)
    out += _html_style(r, where)
    out += _html_complexity(r, where)
    out += _html_docs(r, where)
    out += _html_performance(r)
    out += _html_sources(r)
    out += [
        '<section id="inputs"><h2>How the scores were computed</h2><details><summary>'
        "score inputs (JSON)</summary>",
        f"<pre>{_h(json.dumps(r.score_inputs, indent=2, sort_keys=True))}</pre></details>",
        '<p class="meta">timings: queued '
        + secs_str(r.timings.queued_s)
        + " s · run "
        + secs_str(r.timings.run_s)
        + " s · analysis "
        + secs_str(r.timings.analysis_s)
        + (f" s · performance {secs_str(r.timings.performance_s)}" if r.performance else "")
        + " s · total "
        + secs_str(r.timings.total_s)
        + " s</p></section>",
        "</body></html>",
        "",
    ]
    return "\n".join(out)


def _html_tests(r: Report) -> list[str]:
    passed, counted, not_counted = test_counts(r)
    extra = f", {not_counted} not counted" if not_counted else ""
    out = [f'<section id="tests"><h2>Tests: {passed} of {counted} passed{extra}</h2>']
    rows = []
    for t in r.tests:
        vis = '<span class="badge">hidden</span>' if t.visibility == "hidden" else "public"
        outcome = f'<span class="o-{t.outcome}">{t.outcome.replace("_", " ")}</span>'
        if not t.counted:
            outcome += ' <span class="muted">(not counted)</span>'
        detail = ""
        if t.message or t.output:
            parts = []
            if t.message:
                parts.append(f"<pre>{_h(t.message)}</pre>")
            if t.output:
                parts.append(f"<div class=muted>output (tail)</div><pre>{_h(tail(t.output))}</pre>")
            summary = _h(first_line(t.message) or "output")
            detail = f"<details><summary>{summary}</summary>{''.join(parts)}</details>"
        rows.append(
            [
                f"<code>{_h(t.id)}</code>{detail}",
                vis,
                weight_str(t.weight),
                outcome,
                secs_str(t.duration_s),
            ]
        )
    out.append(_html_table(["test", "visibility", "weight", "outcome", "time (s)"], rows, {2, 4}))
    if r.run is not None:
        run = r.run
        mem = f"{run.peak_memory_mb:g} MiB" if run.peak_memory_mb is not None else "unknown"
        out.append(
            f'<p class="meta">runner {_h(run.runner)} · isolation {_h(run.isolation)} · '
            f"exit code {_h(run.exit_code)} · peak memory {_h(mem)}</p>"
        )
        tails = (
            ("stdout", run.stdout_tail),
            ("stderr", run.stderr_tail),
            ("candidate process stdout", run.candidate_stdout_tail),
            ("candidate process stderr", run.candidate_stderr_tail),
        )
        for name, text in tails:
            if text:
                out.append(
                    f"<details><summary>{name} (tail)</summary><pre>{_h(tail(text))}"
                    "</pre></details>"
                )
    out.append("</section>")
    return out


def _html_service(r: Report) -> list[str]:
    svc = r.service
    if svc is None:
        return []
    out = ['<section id="service"><h2>Service</h2>', f"<p>{_h(service_summary(r))}</p>"]
    if svc.message:
        out.append(f'<p class="bad">{_h(svc.message)}</p>')
    if svc.log:
        out.append(
            f"<details><summary>log ({svc.log_bytes:,} bytes; its first and last bytes "
            f"when long)</summary><pre>{_h(svc.log)}</pre></details>"
        )
    out.append("</section>")
    return out


def _html_schema(schemas: list[SchemaInfo]) -> str:
    parts: list[str] = []
    for sc in schemas:
        if sc.problem:
            parts.append(f'<p class="bad">{_h(sc.engine)}: {_h(sc.problem)}</p>')
        if not sc.tables:
            parts.append(f'<p class="muted">{_h(sc.engine)}: no tables</p>')
        for t in sc.tables:
            pk = set(t.primary_key)
            rows = [
                [
                    f"<code>{_h(c.name)}</code>" + (" <b>PK</b>" if c.name in pk else ""),
                    f"<code>{_h(c.type)}</code>",
                    "" if c.nullable else "not null",
                    f"<code>{_h(c.default)}</code>" if c.default else "",
                ]
                for c in t.columns
            ]
            parts.append(
                f"<h3><code>{_h(t.name)}</code> <span class=muted>({_h(sc.engine)})</span></h3>"
            )
            parts.append(_html_table(["column", "type", "null", "default"], rows))
            notes = []
            for fk in t.foreign_keys:
                notes.append(
                    f"FK ({_h(', '.join(fk.columns))}) → {_h(fk.references_table)}"
                    f"({_h(', '.join(fk.references_columns))})"
                )
            notes += [f"UNIQUE ({_h(', '.join(u))})" for u in t.unique]
            notes += [
                f"{'unique index' if ix.unique else 'index'} <code>{_h(ix.name)}</code> "
                f"({_h(', '.join(ix.columns))})"
                for ix in t.indexes
                if not ix.primary
            ]
            notes += [f"<code>{_h(c)}</code>" for c in t.checks]
            if notes:
                parts.append("<ul>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>")
        if sc.truncated:
            parts.append('<p class="muted">more tables not listed</p>')
    return "".join(parts)


def _html_database(r: Report) -> list[str]:
    db = r.database
    if db is None:
        return []
    mine = _html_schema(db.schemas) or '<p class="muted">no schema was read</p>'
    out = [
        '<section id="database"><h2>Database design</h2>',
        "<p>The schema the service left after the tests"
        + (", beside the reference's" if db.reference is not None else "")
        + ".</p>",
        '<div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(22rem,1fr));'
        'gap:1rem">',
        f'<div id="schema-submission"><h3>this submission</h3>{mine}</div>',
    ]
    if db.reference is not None:
        ref = _html_schema(db.reference) or '<p class="muted">no tables</p>'
        out.append(f'<div id="schema-reference"><h3>the reference</h3>{ref}</div>')
    out += ["</div>", "</section>"]
    return out


def _problems_html(problems: list[FileProblem], analysable: bool) -> str:
    if not problems:
        return ""
    items = "".join(f"<li><code>{_h(p.file)}</code>: {_h(p.reason)}</li>" for p in problems)
    head = "Files not analysable, scored as the worst case:" if analysable else "Files:"
    return f"<p>{head}</p><ul>{items}</ul>"


def _html_style(r: Report, where: Callable[[str, int], str]) -> list[str]:
    st = r.style
    total = findings_total(r)
    density = per_100(r)
    dens = f" · {density} per 100 lines" if density is not None else ""
    out = [
        f'<section id="style"><h2>Style: {total} findings in {st.lines_of_code} lines of '
        f"code{dens}</h2>"
    ]
    if not st.analysable:
        out.append(f"<p><b>Not analysable:</b> {_h(st.reason)}</p>")
    out.append(_problems_html(st.unanalysable, st.analysable))
    if st.findings:
        rows = [
            [where(f.file, f.line) + f":{f.column}", f"<code>{_h(f.code)}</code>", _h(f.message)]
            for f in st.findings
        ]
        out.append(_html_table(["where", "code", "message"], rows))
        if left := more(len(st.findings), total, "findings (not listed)"):
            out.append(f"<p class=muted>… {left}.</p>")
    out.append("</section>")
    return out


def _html_complexity(r: Report, where: Callable[[str, int], str]) -> list[str]:
    c = r.complexity
    out = [
        f'<section id="complexity"><h2>Complexity: maintainability index '
        f"{score_str(c.maintainability_index)}, {count(functions_total(r), 'function')}</h2>"
    ]
    if not c.analysable:
        out.append(f"<p><b>Not analysable:</b> {_h(c.reason)}</p>")
    out.append(_problems_html(c.unanalysable, c.analysable))
    if c.reference:
        ref = c.reference
        out.append(f"<p><b>Compared with the reference:</b> {_h(ref.get('summary', ''))}</p>")
        sub_fig, ref_fig = ref.get("submission") or {}, ref.get("reference") or {}
        rows = [[_h(k.replace("_", " ")), _h(sub_fig.get(k)), _h(ref_fig.get(k))] for k in sub_fig]
        out.append(_html_table(["figure", "submission", "reference"], rows, {1, 2}))
    if c.hotspots:
        out.append("<h3>Hot spots</h3>")
        rows = [
            [f"<code>{_h(h.name)}</code>", where(h.file, h.line), str(h.complexity), h.rank]
            for h in c.hotspots
        ]
        out.append(_html_table(["function", "where", "complexity", "rank"], rows, {2}))
    if c.files:
        rows = [
            [
                where(f.file, 1),
                score_str(f.maintainability_index),
                str(f.loc),
                str(f.sloc),
                str(f.comments),
            ]
            for f in c.files
        ]
        out.append("<details><summary>Per file</summary>")
        out.append(_html_table(["file", "MI", "LOC", "SLOC", "comments"], rows, {1, 2, 3, 4}))
        out.append("</details>")
    if c.functions:
        rows = [
            [f"<code>{_h(f.name)}</code>", where(f.file, f.line), str(f.complexity), f.rank]
            for f in c.functions
        ]
        total = functions_total(r)
        label = (
            f"All functions ({total})"
            if total == len(c.functions)
            else f"The {len(c.functions)} most complex functions of {total:,}"
        )
        out.append(f"<details><summary>{label}</summary>")
        out.append(_html_table(["function", "where", "complexity", "rank"], rows, {2}))
        if left := more(len(c.functions), total, "functions"):
            out.append(f"<p class=muted>… {left}.</p>")
        out.append("</details>")
    out.append("</section>")
    return out


def _html_docs(r: Report, where: Callable[[str, int], str]) -> list[str]:
    d = r.docs
    pct = 100.0 * d.documented / d.total if d.total else 100.0 * d.analysable
    out = [
        f'<section id="docs"><h2>Docs: {d.documented} of {d.total} public items documented</h2>',
        f'<div class="bar" title="{pct:.0f}%"><span style="width:{pct:.1f}%"></span></div>',
    ]
    if not d.analysable:
        out.append(f"<p><b>Not analysable:</b> {_h(d.reason)}</p>")
    out.append(_problems_html(d.unanalysable, d.analysable))
    if d.items:
        rows = [
            [
                f"<code>{_h(i.name)}</code>",
                i.kind,
                where(i.file, i.line),
                '<span class="o-passed">yes</span>'
                if i.documented
                else '<span class="o-failed">no</span>',
            ]
            for i in d.items
        ]
        out.append(_html_table(["item", "kind", "where", "docstring"], rows))
        if left := more(len(d.items), d.total, "items (undocumented ones are listed first)"):
            out.append(f"<p class=muted>… {left}.</p>")
    out.append("</section>")
    return out


def _html_performance(r: Report) -> list[str]:
    perf = r.performance
    if perf is None:
        return []
    out = [
        '<section id="performance"><h2>Performance: against the reference, in the same run</h2>',
        f'<p class="meta">a case scores 100 up to {perf.full_at_ratio:g}× the reference\'s '
        f"time and 0 from {perf.zero_at_ratio:g}×; performance run "
        f"{secs_str(perf.run_s)} s</p>",
    ]
    if perf.reason:
        out.append(f"<p><b>{_h(perf.reason)}</b></p>")
    if perf.limits_hit:
        out.append(f"<p>Limits hit: {_h(', '.join(perf.limits_hit))}</p>")
    for i, case in enumerate(perf.cases):
        outcome: str = case.outcome
        if case.outcome == "measured":
            outcome = "passed" if case.score >= 50 else "skipped" if case.score > 0 else "failed"
        out.append(
            f'<div class="perf-case" id="perf-{i}"><h3><code>{_h(case.id)}</code> · '
            f'<span class="o-{outcome}">score {score_str(case.score)}</span></h3>'
            f"<p>{_h(perf_line(case))}</p>"
        )
        if case.message and case.outcome != "measured":
            out.append(f"<pre>{_h(case.message)}</pre>")
        if case.kind == "bench":
            out.append(charts.growth_chart(case, _h))
            out.append(_bench_table(case))
        else:
            out.append(charts.latency_chart(case, _h))
            out.append(_load_table(case))
        out.append("</div>")
    out.append("</section>")
    return out


def _bench_cells(series: PerfSeries | None, n: int) -> list[str]:
    """Median, interquartile range and calls per repetition of ``series`` at ``n``."""
    if series is None or n not in series.sizes:
        return ["—", "—", "—"]
    i = series.sizes.index(n)
    calls = series.calls[i] if i < len(series.calls) else 1
    return [duration(series.median_s[i]), duration(series.spread_s[i]), str(calls)]


def _bench_table(case: PerfCase) -> str:
    c, ref = case.candidate, case.reference
    stopped = c.stopped_at if c is not None else None
    found = {*(c.sizes if c else []), *(ref.sizes if ref else [])}
    sizes = sorted(found if stopped is None else found | {stopped})
    rows = []
    for n in sizes:
        mine, theirs = _bench_cells(c, n), _bench_cells(ref, n)
        if c is not None and n == stopped and n not in c.sizes:
            mine = [f"≥ {duration(c.lower_bound_s)}", "abandoned", "—"]
        rows.append([f"{n:,}", *mine[:2], *theirs[:2], theirs[2] if ref else mine[2]])
    head = [
        "n",
        "candidate (median)",
        "candidate (IQR)",
        "reference (median)",
        "reference (IQR)",
        "calls per repetition",
    ]
    table = _html_table(head, rows, {0, 1, 2, 3, 4, 5})
    at = f" at n={case.ratio_at:,}" if case.ratio_at is not None else ""
    growth = (
        f"<p>Growth: candidate <b>{_h(c.growth if c and c.growth else 'not fitted')}</b>"
        f"{_r2(c)}, reference <b>{_h(ref.growth if ref and ref.growth else 'not fitted')}</b>"
        f"{_r2(ref)} · ratio <b>{_h(ratio_str(case))}</b>{at} (median of "
        f"{len(case.ratios)} paired repetitions) · results compared with the reference's: "
        f"{_h(case.check or '—')}</p>"
    )
    return growth + table


def _r2(series: PerfSeries | None) -> str:
    if series is None or series.growth_r2 is None:
        return ""
    return f" (R² {series.growth_r2:.3f})"


def _load_table(case: PerfCase) -> str:
    rows = []
    for name, f in (("candidate", case.candidate_load), ("reference", case.reference_load)):
        if f is None:
            continue
        mem = f"{f.peak_memory_mb:g} MiB" if f.peak_memory_mb is not None else "—"
        rows.append(
            [
                name,
                f"{f.requests:,}",
                str(f.concurrency),
                rate(f.throughput_rps),
                *(duration((v or 0.0) / 1000) for v in (f.p50_ms, f.p95_ms, f.p99_ms)),
                f"{f.error_rate:.2%}",
                mem,
            ]
        )
    head = [
        "",
        "requests",
        "concurrency",
        "throughput",
        "p50",
        "p95",
        "p99",
        "errors",
        "peak memory",
    ]
    return (
        f"<p>ratio <b>{_h(ratio_str(case))}</b> (reference throughput / candidate's, median "
        f"of {case.repetitions} rounds)</p>" + _html_table(head, rows, {1, 2, 3, 4, 5, 6, 7})
    )


def _html_sources(r: Report) -> list[str]:
    if not r.sources:
        return []
    by_line: dict[tuple[str, int], list[StyleFinding]] = defaultdict(list)
    for f in r.style.findings:
        by_line[(f.file, f.line)].append(f)
    out = ['<section id="sources"><h2>Source</h2>']
    for i, src in enumerate(r.sources):
        hits = sum(len(v) for (file, _), v in by_line.items() if file == src.path)
        label = f"{_h(src.path)}" + (f" · {hits} findings" if hits else "")
        out.append(f'<details open id="s{i}"><summary><code>{label}</code></summary>')
        if src.note:
            out.append(f"<p class=muted>{_h(src.note)}</p>")
        lines = src.text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        body = []
        for n, line in enumerate(lines, start=1):
            found = by_line.get((src.path, n), [])
            cls = "l hit" if found else "l"
            body.append(
                f'<span class="{cls}" id="s{i}-L{n}"><span class="n">{n}</span>{_h(line)}</span>'
            )
            body += [
                f'<span class="f">{_h(f.code)} (col {f.column}): {_h(f.message)}</span>'
                for f in found
            ]
        out.append(f'<pre class="src">{"".join(body)}</pre></details>')
    out.append("</section>")
    return out
