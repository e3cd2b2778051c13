"""Analysis for every language but Python: complexity per function (lizard), a
maintainability index, doc-comment coverage by the language's rule, and style from
the findings its linter reported inside the sandbox.

lizard and the doc rule run in ``_lizard_worker.py``, a subprocess under rlimits and
a deadline (as radon does for Python); the submission is never run. The linter ran
in the sandbox's lint step, before any submitted code; the language parses its report
into findings and hands them here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.analysis.files import (
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    Analysis,
    check_path,
    complexity_section,
    docs_section,
    nothing,
    read_sources,
    run_worker,
    section_reason,
)
from grader.languages.base import DocRule
from grader.report import ComplexitySection, FileProblem, Flag, StyleFinding, StyleSection

if TYPE_CHECKING:
    from grader.challenge import ComplexityConfig

_WORKER = Path(__file__).with_name("_lizard_worker.py")
MAX_FINDINGS_LISTED = 5_000


@dataclass
class Lint:
    """What the linter reported: findings (all counted, some listed), or why none."""

    findings: list[StyleFinding] = field(default_factory=list)
    total: int = 0
    problem: str | None = None


def analyse(
    root: Path,
    sources: Sequence[str],
    *,
    doc_rule: DocRule,
    complexity: ComplexityConfig,
    lint: Lint | None = None,
    shown: Sequence[str] | None = None,
    tamper: Sequence[tuple[str, str]] = (),
    timeout_s: float = 60,
    memory_mb: int = 1024,
) -> Analysis:
    """Analyse ``sources`` (paths relative to ``root``); ``shown`` are the files kept as
    text for the report (default: the sources); ``tamper`` are (regex, what) pairs
    whose matching lines become ``tamper-suspect`` flags."""
    started = time.monotonic()
    kept = read_sources(root, sorted(shown if shown is not None else sources))
    if not sources:
        return nothing(kept, "no source files to analyse (tests are excluded)", started)
    problems: dict[str, FileProblem] = {}
    to_analyse: list[str] = []
    total_bytes = 0
    for rel in sorted(sources):
        problem, size = check_path(root, rel)
        if problem is not None:
            problems[rel] = problem
        else:
            to_analyse.append(rel)
            total_bytes += size
    if total_bytes > MAX_TOTAL_BYTES:
        why = (
            f"source files total {total_bytes:,} bytes, over the {MAX_TOTAL_BYTES >> 20} MiB "
            "limit for analysis"
        )
        return nothing(kept, why, started)
    request = {
        "limits": {"max_file_bytes": MAX_FILE_BYTES},
        "docs": doc_rule.as_request(),
        "tamper": [list(p) for p in tamper],
    }
    results = run_worker(
        _WORKER, root, to_analyse, started + timeout_s, timeout_s, memory_mb, request
    )
    ok: list[dict[str, Any]] = []
    for rel in to_analyse:
        res = results[rel]
        if res["ok"]:
            ok.append(res)
        else:
            problems[rel] = FileProblem(file=rel, reason=res["reason"], lines=int(res["lines"]))
    bad = [problems[k] for k in sorted(problems)]
    flags = [
        Flag(code="tamper-suspect", message=f"{r['file']}:{line}: {what}")
        for r in ok
        for line, what in r.get("tamper", [])
    ]
    cx = complexity_section(ok, bad, complexity)
    return Analysis(
        style=style_section(cx, lint or Lint(problem="the linter has not reported yet")),
        complexity=cx,
        docs=docs_section(ok, bad),
        sources=kept,
        duration_s=round(time.monotonic() - started, 3),
        flags=flags,
    )


def style_section(complexity: ComplexitySection, lint: Lint) -> StyleSection:
    """Style from the linter's findings over the files lizard could read (their source
    lines are the denominator; files it could not read count as in the others)."""
    bad = list(complexity.unanalysable)
    if lint.problem is not None:
        return StyleSection(analysable=False, reason=lint.problem, unanalysable=bad)
    analysed = {f.file for f in complexity.files}
    findings = sorted(
        (f for f in lint.findings if f.file in analysed or not analysed),
        key=lambda f: (f.file, f.line, f.column, f.code),
    )
    return StyleSection(
        findings=findings[:MAX_FINDINGS_LISTED],
        findings_total=max(lint.total, len(findings)),
        lines_of_code=sum(f.sloc for f in complexity.files),
        analysable=bool(complexity.files),
        reason=section_reason(complexity.files, bad),
        unanalysable=bad,
    )
