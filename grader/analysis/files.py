"""What every analyser shares: the result type, safe reads of submitted files (no
links, bounded), the text kept for the report, and the restartable worker loop."""

from __future__ import annotations

import codecs
import json
import os
import signal
import stat
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from grader.analysis.limited import Proc, base_env, run_limited
from grader.errors import AnalysisError
from grader.report import (
    ComplexitySection,
    DocItem,
    DocsSection,
    FileMetrics,
    FileProblem,
    Flag,
    FunctionComplexity,
    SourceFile,
    StyleSection,
)
from grader.scoring import round1

if TYPE_CHECKING:
    from grader.challenge import ComplexityConfig

MAX_FILE_BYTES = 4 << 20  # 4 MiB per analysed file
MAX_TOTAL_BYTES = 5 << 20  # 5 MiB of analysed source in all
MAX_SOURCE_BYTES = 2 << 20  # text kept for the report, all files together
MAX_WORKER_OUTPUT = 64 << 20
MAX_WORKER_LAUNCHES = 4  # the first run, then restarts after a file killed the worker


@dataclass(frozen=True)
class Analysis:
    """The three analysis sections and the submitted text, ready for the report."""

    style: StyleSection
    complexity: ComplexitySection
    docs: DocsSection
    sources: list[SourceFile] = field(default_factory=list)
    duration_s: float = 0.0
    # Evidence found while reading the sources (a language's static tamper scan).
    flags: list[Flag] = field(default_factory=list)


def norm(rel: str) -> str:
    return PurePosixPath(rel).as_posix()


def open_regular(root: Path, rel: str) -> int | None:
    """An fd for a regular file at ``root/rel`` that follows no link, or None."""
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    try:
        fd = os.open(root / rel, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode) or os.path.realpath(root / rel) != str(root / rel):
        os.close(fd)
        return None
    return fd


def check_path(root: Path, rel: str) -> tuple[FileProblem | None, int]:
    fd = open_regular(root, rel)
    if fd is None:
        return FileProblem(file=rel, reason="not a regular file inside the submission"), 0
    try:
        size = os.fstat(fd).st_size
        if size > MAX_FILE_BYTES:
            reason = f"file is {size:,} bytes, over the {MAX_FILE_BYTES >> 20} MiB limit"
            return FileProblem(file=rel, reason=reason, lines=count_lines(fd)), size
        return None, size
    finally:
        os.close(fd)


def count_lines(fd: int, limit: int = 64 << 20) -> int:
    lines, read, last = 0, 0, b"\n"
    while read < limit and (chunk := os.read(fd, 1 << 20)):
        lines += chunk.count(b"\n")
        read += len(chunk)
        last = chunk[-1:]
    return lines + (last != b"\n")


def lines_of(root: Path, rel: str) -> int:
    fd = open_regular(root, rel)
    if fd is None:
        return 0
    try:
        return count_lines(fd)
    finally:
        os.close(fd)


def read_sources(root: Path, rels: list[str]) -> list[SourceFile]:
    """Text of each file for the reviewer, within :data:`MAX_SOURCE_BYTES` in total."""
    out: list[SourceFile] = []
    budget = MAX_SOURCE_BYTES
    for rel in rels:
        fd = open_regular(root, rel)
        if fd is None:
            out.append(SourceFile(path=rel, note="not a regular file; not shown"))
            continue
        try:
            size = os.fstat(fd).st_size
            data = read_upto(fd, max(budget, 0) + 1)
        finally:
            os.close(fd)
        notes = []
        truncated = len(data) > budget
        if truncated:
            data = data[:budget]
            if b"\n" in data:
                data = data[: data.rindex(b"\n") + 1]
            notes.append(f"truncated: {len(data):,} of {size:,} bytes shown")
        try:
            # Not final when truncated: a character cut in two at the end is not an error.
            text = codecs.getincrementaldecoder("utf-8")().decode(data, final=not truncated)
        except UnicodeDecodeError:
            text = data.decode("utf-8", errors="replace")
            notes.append("not valid UTF-8; undecodable bytes shown as \ufffd")
        if "\x00" in text:
            text = text.replace("\x00", "\ufffd")
            notes.append("NUL bytes shown as \ufffd")
        budget -= len(data)
        out.append(
            SourceFile(path=rel, text=text, truncated=truncated, note="; ".join(notes) or None)
        )
    return out


def read_upto(fd: int, n: int) -> bytes:
    chunks: list[bytes] = []
    while n > 0 and (chunk := os.read(fd, min(n, 1 << 20))):
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def nothing(sources: list[SourceFile], why: str, started: float) -> Analysis:
    return Analysis(
        style=StyleSection(analysable=False, reason=why),
        complexity=ComplexitySection(analysable=False, reason=why),
        docs=DocsSection(analysable=False, reason=why),
        sources=sources,
        duration_s=round(time.monotonic() - started, 3),
    )


def death(proc: Proc, timeout_s: float, memory_mb: int) -> str:
    if proc.timed_out:
        return f"analysis timed out (limit {timeout_s:g} s for the whole submission)"
    if proc.overflow:
        return "analysis output too large"
    if "MemoryError" in proc.stderr:
        return f"exceeds the analysis memory limit ({memory_mb} MiB)"
    rc = proc.returncode
    if rc == -signal.SIGXCPU:
        return "exceeds the analysis CPU time limit"
    if rc is not None and rc < 0:
        return f"the analyser crashed on it ({signal.Signals(-rc).name})"
    return f"the analyser failed on it (exit status {rc})"


def run_worker(
    worker: Path,
    root: Path,
    rels: list[str],
    deadline: float,
    timeout_s: float,
    memory_mb: int,
    request_extra: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """Per-file results from an analysis worker script (JSON lines: ``start``, one result
    per ``file``, ``done``); a file that kills the worker is marked and skipped, and the
    worker restarts on the rest (at most MAX_WORKER_LAUNCHES times)."""
    results: dict[str, dict[str, Any]] = {}
    pending = list(rels)
    launches = 0
    leftover = f"not analysed: the {timeout_s:g} s analysis time ran out"
    while pending and launches < MAX_WORKER_LAUNCHES and time.monotonic() < deadline:
        launches += 1
        state: dict[str, Any] = {"current": None, "done": False, "lines": 0}

        def on_line(line: bytes, state: dict[str, Any] = state) -> None:
            state["lines"] += 1
            msg = json.loads(line)
            if "start" in msg:
                state["current"] = msg["start"]
            elif "file" in msg:
                results[msg["file"]] = msg
                state["current"] = None
            elif msg.get("done"):
                state["done"] = True

        request = {"root": str(root), "files": pending, **request_extra}
        try:
            proc = run_limited(
                [sys.executable, "-I", "-B", str(worker)],
                stdin=json.dumps(request).encode(),
                cwd=Path("/"),
                env=base_env(),
                deadline=deadline,
                memory_mb=memory_mb,
                on_line=on_line,
                max_output=MAX_WORKER_OUTPUT,
            )
        except json.JSONDecodeError as exc:
            raise AnalysisError(f"analysis worker wrote something not JSON: {exc}") from None
        if state["done"]:
            break
        if state["lines"] == 0 and not proc.timed_out:
            raise AnalysisError(
                f"analysis worker failed to start (exit status {proc.returncode}): "
                f"{proc.stderr.strip()[-500:]}"
            )
        current = state["current"]
        if current is not None:
            results[current] = {
                "file": current,
                "ok": False,
                "lines": lines_of(root, current),
                "reason": death(proc, timeout_s, memory_mb),
            }
        pending = [r for r in pending if r not in results]
        if proc.timed_out:
            break
        leftover = f"not analysed: the analyser was killed {launches} times by other files"
    for rel in pending:
        if rel in results:
            continue
        results[rel] = {"file": rel, "ok": False, "lines": lines_of(root, rel), "reason": leftover}
    return results


def section_reason(
    ok: Sequence[object], bad: list[FileProblem], note: str | None = None
) -> str | None:
    parts = [note] if note else []
    if bad:
        listed = "; ".join(f"{p.file}: {p.reason}" for p in bad[:5])
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        if ok:
            head = f"{len(bad)} file(s) not analysable, scored as the worst case"
        else:
            head = "no file could be analysed"
        parts.append(f"{head}: {listed}{more}")
    return " — ".join(parts) or None


# --- sections from per-file worker results --------------------------------------------


def complexity_section(
    ok: list[dict[str, Any]], bad: list[FileProblem], cfg: ComplexityConfig
) -> ComplexitySection:
    functions = [
        FunctionComplexity(
            file=r["file"],
            name=f["name"],
            line=f["line"],
            complexity=f["complexity"],
            rank=f["rank"],
            length=f.get("length"),
        )
        for r in ok
        for f in r["functions"]
    ]
    files = [
        FileMetrics(
            file=r["file"],
            maintainability_index=round1(r["mi"]),
            loc=r["loc"],
            sloc=r["sloc"],
            comments=r["comments"],
        )
        for r in ok
    ]
    weight = sum(max(f.sloc, 1) for f in files)
    mi = sum(f.maintainability_index * max(f.sloc, 1) for f in files) / weight if files else 0.0
    hotspots = sorted(functions, key=lambda f: (-f.complexity, f.file, f.line))[: cfg.hotspots]
    return ComplexitySection(
        functions=functions,
        functions_total=len(functions),
        maintainability_index=round1(mi),
        files=files,
        hotspots=hotspots,
        analysable=bool(ok),
        reason=section_reason(ok, bad),
        unanalysable=list(bad),
    )


def docs_section(ok: list[dict[str, Any]], bad: list[FileProblem]) -> DocsSection:
    items = [
        DocItem(
            file=r["file"],
            name=d["name"],
            kind=d["kind"],
            line=d["line"],
            documented=d["documented"],
        )
        for r in ok
        for d in r["docs"]
    ]
    return DocsSection(
        documented=sum(i.documented for i in items),
        total=len(items),
        items=items,
        analysable=bool(ok),
        reason=section_reason(ok, bad),
        unanalysable=list(bad),
    )
