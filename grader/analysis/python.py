"""Python: style (ruff), complexity (radon), docstring coverage.

Nothing here imports or runs the submission, and nothing of the analysis runs in the
calling (API or worker) process: radon runs in ``_radon_worker.py`` and ruff in its
own process, each started with ``RLIMIT_AS``/``RLIMIT_CPU`` (plus ``RLIMIT_FSIZE=0``,
``RLIMIT_CORE=0``), a wall-clock deadline, a fresh session that is killed as a whole,
a minimal environment and bounded reads of its output. This process only checks
paths and sizes and reads the text kept for the reviewer's report.

What is analysed: the ``.py`` files among ``files`` except the tests a candidate
shipped (``test_*.py``, ``*_test.py``, ``conftest.py`` and anything under a ``tests/``
or ``test/`` folder). Every ``.py`` file, tests included, is kept as text for the report
(``Analysis.sources``, at most :data:`MAX_SOURCE_BYTES` in all, truncation marked).

Files that cannot be analysed: a file that is over :data:`MAX_FILE_BYTES`, is not a
regular file, holds a NUL byte, is not UTF-8, does not parse, is nested deeper than
:data:`MAX_AST_DEPTH`, defines more than :data:`MAX_DEFS_PER_FILE` functions and
classes (or takes the submission past :data:`MAX_DEFS_TOTAL` functions), or crashes
or exhausts an analyser is listed in each section's ``unanalysable`` with its reason
and line count, and named in the section's ``reason`` (a file only ruff fails on is
unanalysable for style alone). If every file is like that (or the sources total more than
:data:`MAX_TOTAL_BYTES`), the section is ``analysable=False``. Otherwise such a file
is scored as the worst case for its size (see ``grader.scoring``): its lines count at
the style density that scores 0, it counts as one function with no credit and as
maintainability 0 for its lines, and as one undocumented item. The worst case,
rather than leaving the file out, is what stops a candidate from hiding code from
the analysers by making it unparsable.

ruff runs with ``--isolated`` (no configuration file of the submission is read),
``--ignore-noqa`` (``# noqa`` comments in the submission do not silence findings),
``--no-cache`` and the challenge's ``select``/``ignore``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
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
    norm,
    nothing,
    read_sources,
    run_worker,
    section_reason,
)
from grader.analysis.limited import Proc, base_env, run_limited
from grader.errors import AnalysisError
from grader.report import (
    FileProblem,
    StyleFinding,
    StyleSection,
)

if TYPE_CHECKING:
    from grader.challenge import ComplexityConfig, StyleConfig

MAX_AST_DEPTH = 200
MAX_DEFS_PER_FILE = 50_000
MAX_DEFS_TOTAL = 100_000
MAX_FINDINGS_LISTED = 5_000  # all are counted (``findings_total``); this many are listed
MAX_RUFF_OUTPUT = 256 << 20
MAX_LINE = 16 << 20
WORKER_SHARE = 0.8  # of the time budget; ruff gets the rest
RUFF_THREADS = "2"
_WORKER = Path(__file__).with_name("_radon_worker.py")


def is_candidate_test(rel: str) -> bool:
    """True for tests (and test configuration) a candidate shipped with the solution."""
    parts = rel.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test") for p in parts[:-1])
        or (name.startswith("test_") and name.endswith(".py"))
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def analyse(
    root: Path,
    files: Sequence[str],
    style: StyleConfig,
    complexity: ComplexityConfig,
    *,
    timeout_s: float = 60,
    memory_mb: int = 1024,
) -> Analysis:
    """Analyse the ``.py`` files among ``files`` (paths relative to ``root``).

    ``timeout_s`` bounds the whole call (radon gets 80 % of it, ruff the rest);
    ``memory_mb`` is the address-space limit of each analysis process. Raises
    :class:`AnalysisError` only for our own failures (ruff or radon missing, a
    challenge's rule selection that ruff rejects); anything about the submission
    becomes data in the sections.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    root = root.resolve()
    py_files = sorted({norm(f) for f in files if f.endswith(".py")})
    sources = read_sources(root, sorted(py_files, key=lambda r: (is_candidate_test(r), r)))
    candidates = [f for f in py_files if not is_candidate_test(f)]

    problems: dict[str, FileProblem] = {}
    to_analyse: list[str] = []
    total_bytes = 0
    for rel in candidates:
        problem, size = check_path(root, rel)
        if problem is not None:
            problems[rel] = problem
        else:
            to_analyse.append(rel)
            total_bytes += size

    if not candidates:
        return nothing(sources, "no Python source files to analyse (tests are excluded)", started)
    if total_bytes > MAX_TOTAL_BYTES:
        why = (
            f"source files total {total_bytes:,} bytes, over the {MAX_TOTAL_BYTES >> 20} MiB "
            "limit for analysis"
        )
        return nothing(sources, why, started)

    worker_deadline = started + timeout_s * WORKER_SHARE
    limits = {
        "max_file_bytes": MAX_FILE_BYTES,
        "max_depth": MAX_AST_DEPTH,
        "max_defs": MAX_DEFS_PER_FILE,
    }
    results = run_worker(
        _WORKER, root, to_analyse, worker_deadline, timeout_s, memory_mb, {"limits": limits}
    )
    ok: list[dict[str, Any]] = []
    functions_total = 0
    for rel in to_analyse:
        res = results[rel]
        if res["ok"]:
            functions_total += len(res["functions"])
            if functions_total > MAX_DEFS_TOTAL:
                res = {
                    "ok": False,
                    "lines": res["loc"],
                    "reason": f"the submission defines more than {MAX_DEFS_TOTAL:,} functions",
                }
        if res["ok"]:
            ok.append(res)
        else:
            problems[rel] = FileProblem(file=rel, reason=res["reason"], lines=int(res["lines"]))

    bad = [problems[k] for k in sorted(problems)]
    return Analysis(
        style=_style(root, ok, bad, style, deadline, memory_mb),
        complexity=complexity_section(ok, bad, complexity),
        docs=docs_section(ok, bad),
        sources=sources,
        duration_s=round(time.monotonic() - started, 3),
    )


# --- paths and sizes (this process only looks, never parses) -------------------------


# --- style -----------------------------------------------------------------------------


def _ruff_binary() -> str:
    found = shutil.which(
        "ruff",
        path=os.pathsep.join(
            [str(Path(sys.executable).parent), os.environ.get("PATH", os.defpath)]
        ),
    )
    if found is None:
        raise AnalysisError("ruff is not installed (it is a dependency of grader)")
    return found


@dataclass
class _RuffRun:
    findings: list[StyleFinding] = field(default_factory=list)
    total: int = 0
    proc: Proc | None = None


def _ruff_argv(cfg: StyleConfig) -> list[str]:
    argv = [
        _ruff_binary(),
        "check",
        "--isolated",
        "--no-cache",
        "--no-fix",
        "--exit-zero",
        "--ignore-noqa",
        "--output-format",
        "json-lines",
        "--target-version",
        "py311",
        "--select",
        ",".join(cfg.ruff_select()),
    ]
    if cfg.ignore:
        argv += ["--ignore", ",".join(cfg.ignore)]
    return argv


def _ruff_once(
    root: Path, rels: list[str], cfg: StyleConfig, deadline: float, memory_mb: int
) -> _RuffRun:
    argv = [*_ruff_argv(cfg), "--", *rels]
    by_abs = {str(root / r): r for r in rels}
    run = _RuffRun()

    def on_line(line: bytes) -> None:
        if not line.strip():
            return
        run.total += 1
        if len(run.findings) >= MAX_FINDINGS_LISTED:
            return
        try:
            d = json.loads(line)
        except ValueError:
            return
        name = str(d.get("filename", ""))
        rel = by_abs.get(name) or os.path.relpath(name, root)
        loc = d.get("location") or {}
        run.findings.append(
            StyleFinding(
                file=rel,
                line=int(loc.get("row") or 0),
                column=int(loc.get("column") or 0),
                code=str(d.get("code") or "invalid-syntax"),
                message=str(d.get("message", "")),
            )
        )

    env = base_env() | {"RAYON_NUM_THREADS": RUFF_THREADS, "NO_COLOR": "1"}
    run.proc = run_limited(
        argv,
        stdin=b"",
        cwd=root,
        env=env,
        deadline=deadline,
        memory_mb=memory_mb,
        on_line=on_line,
        max_output=MAX_RUFF_OUTPUT,
    )
    return run


def _check_ruff_config(cfg: StyleConfig, deadline: float, memory_mb: int) -> None:
    """Raise AnalysisError when ruff rejects the challenge's rule selection itself."""
    argv = [*_ruff_argv(cfg), "--stdin-filename", "probe.py", "-"]
    probe = run_limited(
        argv,
        stdin=b"x = 1\n",
        cwd=Path("/"),
        env=base_env(),
        deadline=deadline,
        memory_mb=memory_mb,
        on_line=lambda _: None,
        max_output=1 << 20,
    )
    if probe.returncode == 2:
        raise AnalysisError(f"ruff rejected the style configuration: {probe.stderr.strip()}")


def _ruff_death(proc: Proc) -> str:
    if proc.timed_out:
        return "ruff timed out"
    rc = proc.returncode
    if rc == -signal.SIGXCPU:
        return "ruff exceeded the CPU time limit"
    if rc is not None and rc < 0:
        return f"ruff crashed on it ({signal.Signals(-rc).name})"
    return f"ruff failed on it (exit status {rc}): {proc.stderr.strip()[-200:]}"


def _style(
    root: Path,
    ok: list[dict[str, Any]],
    bad: list[FileProblem],
    cfg: StyleConfig,
    deadline: float,
    memory_mb: int,
) -> StyleSection:
    rels = [r["file"] for r in ok]
    loc_of = {r["file"]: int(r["sloc"]) for r in ok}
    style_bad = list(bad)
    findings: list[StyleFinding] = []
    total = 0
    note: str | None = None
    if rels and cfg.ruff_select():
        run = _ruff_once(root, rels, cfg, deadline, memory_mb)
        proc = run.proc
        assert proc is not None
        if proc.returncode == 0:
            findings, total = run.findings, run.total
            if proc.overflow:
                note = "ruff's output was cut off; the finding count is a lower bound"
        elif proc.timed_out:
            style_bad += [
                FileProblem(file=r, reason="ruff timed out", lines=loc_of[r]) for r in rels
            ]
            rels = []
        else:
            if proc.returncode == 2:
                _check_ruff_config(cfg, deadline, memory_mb)
            # One file made ruff crash (e.g. a stack overflow): lint file by file.
            kept: list[str] = []
            for rel in rels:
                one = _ruff_once(root, [rel], cfg, deadline, memory_mb)
                assert one.proc is not None
                if one.proc.returncode == 0:
                    kept.append(rel)
                    findings += one.findings
                    total += one.total
                else:
                    reason = _ruff_death(one.proc)
                    style_bad.append(FileProblem(file=rel, reason=reason, lines=loc_of[rel]))
            rels = kept
    findings.sort(key=lambda f: (f.file, f.line, f.column, f.code))
    findings = findings[:MAX_FINDINGS_LISTED]
    style_bad.sort(key=lambda p: p.file)
    return StyleSection(
        findings=findings,
        findings_total=total,
        lines_of_code=sum(loc_of[r] for r in rels),
        analysable=bool(rels),
        reason=section_reason(rels, style_bad, note),
        unanalysable=style_bad,
    )


# --- complexity and docs ---------------------------------------------------------------
