"""``grader validate`` results as text (terminal), Markdown (CI comments) or JSON."""

from __future__ import annotations

from grader.health.model import ChallengeHealth, HealthChecks, MutantResult, ValidationReport

_MARK = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "skipped": "skip"}
# Survivors shown in full (diffs); the rest are counted (all are in the JSON).
MAX_SHOWN = 30


def render(report: ValidationReport, fmt: str) -> str:
    """The report in ``fmt``: ``text``, ``md`` or ``json``."""
    if fmt == "json":
        return report.model_dump_json(indent=2)
    if fmt == "md":
        return "\n".join(_markdown(c) for c in report.challenges)
    return "\n".join(_text(c) for c in report.challenges)


def _shown(checks: HealthChecks) -> list[MutantResult]:
    """Survivors to act on first, then live results that differ from the record, then
    the accepted ones (each in file and line order)."""
    m = checks.mutation
    rank = {"survived": 0, "accepted": 2}
    shown = [r for r in m.mutants if r.status in rank or r.id in m.differs]
    return sorted(shown, key=lambda r: 1 if r.id in m.differs else rank.get(r.status, 1))


def _rows(checks: HealthChecks) -> list[tuple[str, str, str]]:
    c = checks
    return [
        ("mutation", c.mutation.verdict, c.mutation.message + _source(checks)),
        ("flakiness", c.flakiness.verdict, c.flakiness.message),
        ("time margins", c.time_margins.verdict, c.time_margins.message),
        ("known-bad", c.known_bad.verdict, c.known_bad.message),
    ]


def _source(checks: HealthChecks) -> str:
    m = checks.mutation
    if m.source == "computed":
        return f" [graded now: {m.duration_s:g} s, {m.jobs} at a time]"
    if m.source == "record":
        return (
            f" [from {m.record} (took {m.computed_s:g} s to compute); "
            f"{m.rechecked} re-graded now in {m.duration_s:g} s]"
        )
    if m.source == "cache":
        return " [from the local cache]"
    return ""


def _text(c: ChallengeHealth) -> str:
    head = f"FAIL {c.slug}:" if c.problems else f"{_MARK[c.verdict]} {c.slug}: {c.summary}"
    lines = [head]
    for problem in c.problems:
        lines.append(f"  {problem}".replace("\n", "\n  "))
    if c.checks is None:
        return "\n".join(lines)
    for name, verdict, message in _rows(c.checks):
        lines.append(f"  {name:<13} {_MARK[verdict]}  {message}")
    for f in c.checks.flakiness.flaky:
        lines.append(f"    flaky: {f.id}: {', '.join(f.outcomes)}")
    for s in c.checks.known_bad.submissions:
        lines.append(
            f"    known-bad {s.name}: correctness {s.correctness:g} "
            f"(at most {s.max_correctness:g}) {_MARK[s.verdict].strip()}"
            + (f" — {s.description}" if s.description else "")
        )
    shown = _shown(c.checks)
    if shown:
        lines.append("  surviving mutants:")
    for r in shown[:MAX_SHOWN]:
        lines.append(f"    {_title(r)}")
        if r.reason:
            lines.append(f"      accepted: {r.reason}")
        for d in (r.diff or "").splitlines():
            lines.append(f"      {d}")
    if len(shown) > MAX_SHOWN:
        lines.append(f"    … and {len(shown) - MAX_SHOWN} more (--format json lists them all)")
    lines.append(f"  ({c.duration_s:g} s)")
    return "\n".join(lines)


def _title(r: MutantResult) -> str:
    state = {"survived": "survived", "accepted": "accepted"}.get(r.status, r.status)
    return f"{r.id} {r.file} line {r.line} ({r.operator}: {r.description}) — {state}"


def _markdown(c: ChallengeHealth) -> str:
    icon = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skipped": "➖"}
    lines = [f"### {icon[c.verdict]} `{c.slug}` — {c.verdict}", ""]
    if c.summary:
        lines += [c.summary, ""]
    for problem in c.problems:
        lines += ["```", problem, "```", ""]
    if c.checks is None:
        return "\n".join(lines)
    lines += ["| check | verdict | details |", "|---|---|---|"]
    for name, verdict, message in _rows(c.checks):
        cell = message.replace("|", "\\|")
        lines.append(f"| {name} | {icon[verdict]} {verdict} | {cell} |")
    lines.append("")
    if c.checks.flakiness.flaky:
        lines += ["**Flaky tests**", ""]
        lines += [f"- `{f.id}`: {', '.join(f.outcomes)}" for f in c.checks.flakiness.flaky]
        lines.append("")
    if c.checks.known_bad.submissions:
        lines += ["| known-bad | correctness | at most | verdict |", "|---|---|---|---|"]
        for s in c.checks.known_bad.submissions:
            name = f"`{s.name}`" + (f" ({s.description})" if s.description else "")
            lines.append(
                f"| {name} | {s.correctness:g} | {s.max_correctness:g} | {icon[s.verdict]} |"
            )
        lines.append("")
    shown = _shown(c.checks)
    if shown:
        lines += ["**Surviving mutants**", ""]
    for r in shown[:MAX_SHOWN]:
        lines.append(f"- `{r.id}` line {r.line} ({r.operator}: {r.description}) — {r.status}")
        if r.reason:
            lines.append(f"  accepted: {r.reason}")
        lines += ["", "  ```diff", *[f"  {d}" for d in (r.diff or "").splitlines()], "  ```"]
    if len(shown) > MAX_SHOWN:
        lines.append(f"- … and {len(shown) - MAX_SHOWN} more")
    return "\n".join(lines) + "\n"
