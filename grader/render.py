"""Renderings of one :class:`~grader.report.Report`: JSON, Markdown, HTML, JUnit XML, text.

Every rendering formats numbers through the same few functions (scores and the
maintainability index to one decimal, weights as given, durations to milliseconds),
so they all show the same figures as the JSON. Every string that came from a
submission, a test or a tool is treated as hostile: control characters and Unicode
bidi controls are shown as visible escapes (``\\x1b``, ``<U+202E>``), and each format
escapes the rest in its own way. The HTML is one self-contained file: inline CSS, no
script, and a Content-Security-Policy that forbids fetching anything.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.report import (
    ComplexitySection,
    DocsSection,
    FileProblem,
    Report,
    StyleFinding,
    StyleSection,
    TestResult,
)

FORMATS = ("json", "md", "html", "junit", "text")
SECTIONS = ("correctness", "style", "complexity", "docs")
MD_LIST_LIMIT = 20
TEXT_LIST_LIMIT = 50
TAIL_CHARS = 4000

# C0/C1 controls (tab and newline kept), DEL, and the characters that reorder text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_XML_UNSAFE = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render(report: Report, fmt: str, *, color: bool | None = None) -> str:
    """Render ``report`` as one of :data:`FORMATS`.

    ``color`` only matters for ``text``: None means colour when stdout is a terminal;
    without colour the output is plain text with no ANSI sequences.
    """
    renderers: dict[str, Callable[[Report], str]] = {
        "json": _json,
        "md": _markdown,
        "html": _html,
        "junit": _junit,
    }
    if fmt == "text":
        return _text(report, sys.stdout.isatty() if color is None else color)
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return renderers[fmt](report)


# --- shared ----------------------------------------------------------------------------


def clean(s: str | None) -> str:
    """Make hostile text displayable: CRLF to LF, controls and bidi marks made visible."""
    if not s:
        return ""
    return _UNSAFE.sub(_visible, s.replace("\r\n", "\n"))


def _visible(m: re.Match[str]) -> str:
    c = ord(m.group())
    return f"\\x{c:02x}" if c < 0x100 else f"<U+{c:04X}>"


def score_str(x: float) -> str:
    return f"{x:.1f}"


def weight_str(x: float) -> str:
    return f"{x:g}"


def secs_str(x: float) -> str:
    return f"{x:.3f}"


def _tail(s: str | None, limit: int = TAIL_CHARS) -> str:
    s = clean(s)
    return s if len(s) <= limit else "…" + s[-limit:]


def _first_line(s: str | None, limit: int = 120) -> str:
    line = clean(s).strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _findings_total(report: Report) -> int:
    return max(report.style.findings_total, len(report.style.findings))


def _per_100(report: Report) -> str | None:
    value = report.score_inputs.get("style", {}).get("per_100_lines")
    return f"{value:.2f}" if isinstance(value, int | float) else None


def _test_counts(report: Report) -> tuple[int, int, int]:
    counted = [t for t in report.tests if t.counted]
    passed = sum(t.outcome == "passed" for t in counted)
    return passed, len(counted), len(report.tests) - len(counted)


def _score_note(report: Report, key: str) -> str:
    sections: dict[str, StyleSection | ComplexitySection | DocsSection] = {
        "style": report.style,
        "complexity": report.complexity,
        "docs": report.docs,
    }
    section = sections.get(key)
    if section is None or section.analysable:
        return ""
    return f"not analysable: {section.reason or 'no reason given'}"


def _reasons(report: Report) -> dict[str, list[str]]:
    """Each section's reason (why it is not, or not fully, analysable) → the sections."""
    out: dict[str, list[str]] = {}
    for key, section in (
        ("style", report.style),
        ("complexity", report.complexity),
        ("docs", report.docs),
    ):
        if section.reason:
            why = section.reason if section.analysable else f"not analysable: {section.reason}"
            out.setdefault(why, []).append(key)
    return out


def _failed(t: TestResult) -> bool:
    return t.counted and t.outcome != "passed"


def _undocumented(report: Report) -> list[str]:
    return [f"{i.kind} {i.name} ({i.file}:{i.line})" for i in report.docs.items if not i.documented]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _title(report: Report) -> str:
    return f"{report.challenge.slug} v{report.challenge.version}"


# --- JSON ------------------------------------------------------------------------------


def _json(report: Report) -> str:
    return report.to_json() + "\n"


# --- Markdown --------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]~|#<>!])")


def _md(s: str | None) -> str:
    """Escape text for a Markdown table cell or paragraph (one line, no markup, no pings)."""
    one = clean(s).replace("\n", " ")
    one = html.escape(one, quote=False)
    return _MD_SPECIAL.sub(r"\\\1", one).replace("@", "&#64;")


def _md_more(shown: int, total: int) -> list[str]:
    return ["", f"… and {total - shown} more (see the HTML report)"] if total > shown else []


def _markdown(report: Report) -> str:
    r = report
    s = r.scores
    out = [f"### grader: {_md(_title(r))} — total **{score_str(s.total)}** / 100", ""]
    out += ["| | " + " | ".join(SECTIONS) + " |", "|---|" + "---:|" * len(SECTIONS)]
    out.append("| score | " + " | ".join(score_str(getattr(s, k)) for k in SECTIONS) + " |")
    out.append(
        "| weight | " + " | ".join(weight_str(r.weights.get(k, 0.0)) for k in SECTIONS) + " |"
    )
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
    notes = [f"- **{', '.join(keys)}**: {_md(why)}" for why, keys in _reasons(r).items()]
    if notes:
        out += [*notes, ""]

    passed, counted, not_counted = _test_counts(r)
    extra = f", {not_counted} not counted" if not_counted else ""
    out += [f"**Tests:** {passed} of {counted} passed{extra}"]
    failed = [t for t in r.tests if _failed(t)]
    if failed:
        out += ["", "| test | visibility | weight | outcome | message |", "|---|---|---:|---|---|"]
        for t in failed:
            out.append(
                f"| {_md(t.id)} | {t.visibility} | {weight_str(t.weight)} | {t.outcome} "
                f"| {_md(_first_line(t.message))} |"
            )
    out += ["", "<details><summary>All tests</summary>", ""]
    out += ["| test | visibility | weight | outcome | time (s) |", "|---|---|---:|---|---:|"]
    for t in r.tests:
        outcome = t.outcome if t.counted else f"{t.outcome} (not counted)"
        out.append(
            f"| {_md(t.id)} | {t.visibility} | {weight_str(t.weight)} | {outcome} "
            f"| {secs_str(t.duration_s)} |"
        )
    out += ["", "</details>", ""]

    total = _findings_total(r)
    density = _per_100(r)
    dens = f" ({density} per 100 lines)" if density is not None else ""
    out.append(f"**Style:** {total} findings in {r.style.lines_of_code} lines of code{dens}")
    if r.style.findings:
        shown = r.style.findings[:MD_LIST_LIMIT]
        out += ["", "| where | code | message |", "|---|---|---|"]
        out += [f"| {_md(f.file)}:{f.line} | {_md(f.code)} | {_md(f.message)} |" for f in shown]
        out += _md_more(len(shown), total)
    c = r.complexity
    out += [
        "",
        f"**Complexity:** maintainability index {score_str(c.maintainability_index)}, "
        f"{_count(len(c.functions), 'function')}",
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
    missing = _undocumented(r)
    if missing:
        out += ["", "Missing docstrings: " + ", ".join(_md(m) for m in missing[:MD_LIST_LIMIT])]
        out += _md_more(min(len(missing), MD_LIST_LIMIT), len(missing))
    out += [
        "",
        f"<sub>grader {_md(r.grader_version)} · schema {r.schema_version} · "
        f"submission {_md(r.submission.id)} · run {secs_str(r.timings.run_s)} s · "
        f"total {secs_str(r.timings.total_s)} s</sub>",
        "",
    ]
    return "\n".join(out)


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


def _html(report: Report) -> str:
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
        f"<title>grader report: {_h(_title(r))} — {score_str(s.total)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>{_h(_title(r))}</h1>",
        f'<div class="meta">submission <code>{_h(r.submission.id)}</code> · sha256 '
        f"<code>{_h(r.submission.sha256)}</code> · status <b>{_h(r.status)}</b> · "
        f"grader {_h(r.grader_version)} · schema {r.schema_version}</div>",
        '<div class="cards">',
        f'<div class="card total"><div class="k">total</div>'
        f'<div class="v" id="total">{score_str(s.total)}</div></div>',
    ]
    for key in SECTIONS:
        note = _score_note(r, key)
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
    out += _html_style(r, where)
    out += _html_complexity(r, where)
    out += _html_docs(r, where)
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
        + " s · total "
        + secs_str(r.timings.total_s)
        + " s</p></section>",
        "</body></html>",
        "",
    ]
    return "\n".join(out)


def _html_tests(r: Report) -> list[str]:
    passed, counted, not_counted = _test_counts(r)
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
                parts.append(
                    f"<div class=muted>output (tail)</div><pre>{_h(_tail(t.output))}</pre>"
                )
            summary = _h(_first_line(t.message) or "output")
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
                    f"<details><summary>{name} (tail)</summary><pre>{_h(_tail(text))}"
                    "</pre></details>"
                )
    out.append("</section>")
    return out


def _problems_html(problems: list[FileProblem], analysable: bool) -> str:
    if not problems:
        return ""
    items = "".join(f"<li><code>{_h(p.file)}</code>: {_h(p.reason)}</li>" for p in problems)
    head = "Files not analysable, scored as the worst case:" if analysable else "Files:"
    return f"<p>{head}</p><ul>{items}</ul>"


def _html_style(r: Report, where: Callable[[str, int], str]) -> list[str]:
    st = r.style
    total = _findings_total(r)
    density = _per_100(r)
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
        if total > len(st.findings):
            out.append(f"<p class=muted>{total - len(st.findings)} more findings not listed.</p>")
    out.append("</section>")
    return out


def _html_complexity(r: Report, where: Callable[[str, int], str]) -> list[str]:
    c = r.complexity
    out = [
        f'<section id="complexity"><h2>Complexity: maintainability index '
        f"{score_str(c.maintainability_index)}, {_count(len(c.functions), 'function')}</h2>"
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
        out.append(f"<details><summary>All functions ({len(c.functions)})</summary>")
        out.append(_html_table(["function", "where", "complexity", "rank"], rows, {2}))
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
    out.append("</section>")
    return out


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


# --- JUnit XML -------------------------------------------------------------------------


def _x(s: object) -> str:
    return _XML_UNSAFE.sub(_visible, clean(str(s)))


def _split_id(test_id: str) -> tuple[str, str, str]:
    """``tests/a/test_x.py::Cls::test_y`` → (file, ``tests.a.test_x.Cls``, ``test_y``)."""
    file, sep, rest = test_id.partition("::")
    if not sep:
        return "", "", test_id
    parts = rest.split("::")
    module = file.removesuffix(".py").replace("/", ".")
    return file, ".".join([module, *parts[:-1]]), parts[-1] or test_id


def _junit(report: Report) -> str:
    r = report
    counts = {"failures": 0, "errors": 0, "skipped": 0}
    cases = []
    for t in r.tests:
        file, classname, name = _split_id(t.id)
        case = ET.Element(
            "testcase",
            {"classname": _x(classname), "name": _x(name), "time": secs_str(t.duration_s)},
        )
        if file:
            case.set("file", _x(file))
        body = _x(t.message or "")
        if not t.counted:
            counts["skipped"] += 1
            ET.SubElement(
                case, "skipped", {"message": "skipped by the challenge author; not counted"}
            ).text = body or None
        elif t.outcome == "not_reported":
            counts["failures"] += 1
            ET.SubElement(case, "failure", {"message": "not reported", "type": "not_reported"})
        elif t.outcome == "error":
            counts["errors"] += 1
            ET.SubElement(
                case, "error", {"message": _x(_first_line(t.message) or "error"), "type": "error"}
            ).text = body or None
        elif t.outcome in ("failed", "skipped"):
            counts["failures"] += 1
            message = _first_line(t.message) or t.outcome
            if t.outcome == "skipped":
                message = f"skipped by the submission (counts as failed): {message}"
            ET.SubElement(case, "failure", {"message": _x(message), "type": t.outcome}).text = (
                body or None
            )
        if t.output:
            ET.SubElement(case, "system-out").text = _x(_tail(t.output))
        cases.append(case)
    duration = secs_str(sum(t.duration_s for t in r.tests))
    attrs = {"tests": str(len(r.tests)), **{k: str(v) for k, v in counts.items()}, "time": duration}
    root = ET.Element("testsuites", {"name": "grader", **attrs})
    suite = ET.SubElement(root, "testsuite", {"name": _x(r.challenge.slug), **attrs})
    props = ET.SubElement(suite, "properties")
    values = [
        ("grader.version", r.grader_version),
        ("schema_version", str(r.schema_version)),
        ("status", r.status),
        ("challenge", f"{r.challenge.slug} v{r.challenge.version}"),
        ("submission.id", r.submission.id),
        ("submission.sha256", r.submission.sha256),
        ("score.total", score_str(r.scores.total)),
    ]
    for key in SECTIONS:
        values.append((f"score.{key}", score_str(getattr(r.scores, key))))
        values.append((f"weight.{key}", weight_str(r.weights.get(key, 0.0))))
        if note := _score_note(r, key):
            values.append((f"note.{key}", note))
    values.append(("style.findings", str(_findings_total(r))))
    values.append(
        ("complexity.maintainability_index", score_str(r.complexity.maintainability_index))
    )
    values.append(("docs.coverage", f"{r.docs.documented}/{r.docs.total}"))
    if r.limits_hit:
        values.append(("limits_hit", ",".join(r.limits_hit)))
    values += [(f"flag.{f.code}", f.message) for f in r.flags]
    if r.error is not None:
        values.append(("error", f"{r.error.code}: {r.error.message}"))
    for name, value in values:
        ET.SubElement(props, "property", {"name": _x(name), "value": _x(value)})
    suite.extend(cases)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- terminal --------------------------------------------------------------------------


def _text(report: Report, color: bool) -> str:
    r = report
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

    def t(s: object, style: str = "") -> Text:
        return Text(clean(str(s)), style=style)

    outcome_style = {
        "passed": "green",
        "failed": "bold red",
        "error": "bold red",
        "not_reported": "bold red",
        "skipped": "yellow",
    }
    s = r.scores
    console.print(
        t(f"grader report: {_title(r)} — submission {r.submission.id} — {r.status}", "bold")
    )
    console.print(t(f"total {score_str(s.total)} / 100", "bold"))
    if r.run is not None:
        console.print(t(f"runner {r.run.runner}, isolation {r.run.isolation}", ""))
    scores = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col, justify in (
        ("score", "left"),
        ("value", "right"),
        ("weight", "right"),
        ("note", "left"),
    ):
        scores.add_column(col, justify=justify)  # type: ignore[arg-type]
    for key in SECTIONS:
        scores.add_row(
            t(key),
            t(score_str(getattr(s, key)), "bold"),
            t(weight_str(r.weights.get(key, 0.0))),
            t(_score_note(r, key), "red"),
        )
    scores.add_row(t("total", "bold"), t(score_str(s.total), "bold"), t(""), t(""))
    console.print(scores)
    if r.status == "error" and r.error is not None:
        console.print(t(f"ERROR {r.error.code}: {r.error.message}", "bold red"))
    for flag in r.flags:
        console.print(t(f"FLAG {flag.code}: {flag.message}", "bold red"))
    if r.limits_hit:
        console.print(t("limits hit: " + ", ".join(r.limits_hit), "bold yellow"))

    passed, counted, not_counted = _test_counts(r)
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
            t(outcome, outcome_style.get(tr.outcome, "")),
            t(secs_str(tr.duration_s)),
        )
    console.print(tests)
    for tr in r.tests:
        if _failed(tr):
            why = _first_line(tr.message, 200) or tr.outcome.replace("_", " ")
            console.print(t(f"  ✗ {tr.id}: {why}", outcome_style.get(tr.outcome, "")))

    total = _findings_total(r)
    density = _per_100(r)
    dens = f" ({density} per 100 lines)" if density is not None else ""
    console.print()
    console.print(
        t(f"Style: {total} findings in {r.style.lines_of_code} lines of code{dens}", "bold")
    )
    style = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("where", "code", "message"):
        style.add_column(col, overflow="fold")
    for f in r.style.findings[:TEXT_LIST_LIMIT]:
        style.add_row(t(f"{f.file}:{f.line}:{f.column}"), t(f.code), t(f.message))
    if r.style.findings:
        console.print(style)
    if total > TEXT_LIST_LIMIT:
        console.print(t(f"… and {total - min(TEXT_LIST_LIMIT, len(r.style.findings))} more"))
    for reason, keys in _reasons(r).items():
        console.print(t(f"{', '.join(keys)}: {reason}", "yellow"))

    c = r.complexity
    console.print()
    console.print(
        t(
            f"Complexity: maintainability index {score_str(c.maintainability_index)}, "
            f"{_count(len(c.functions), 'function')}",
            "bold",
        )
    )
    hot = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for col in ("function", "where", "complexity", "rank"):
        hot.add_column(col, justify="right" if col == "complexity" else "left", overflow="fold")
    for h in c.hotspots:
        hot.add_row(t(h.name), t(f"{h.file}:{h.line}"), t(h.complexity), t(h.rank))
    if c.hotspots:
        console.print(hot)
    if c.reference:
        console.print(t(f"compared with the reference: {c.reference.get('summary', '')}"))

    d = r.docs
    console.print()
    console.print(t(f"Docs: {d.documented} of {d.total} public items documented", "bold"))
    missing = _undocumented(r)
    for m in missing[:TEXT_LIST_LIMIT]:
        console.print(t(f"  missing docstring: {m}"))
    if len(missing) > TEXT_LIST_LIMIT:
        console.print(t(f"  … and {len(missing) - TEXT_LIST_LIMIT} more"))
    console.print()
    console.print(
        t(
            f"grader {r.grader_version} · run {secs_str(r.timings.run_s)} s · "
            f"total {secs_str(r.timings.total_s)} s",
            "dim",
        )
    )
    text = buf.getvalue()
    if not color:
        text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text
