"""Files into a sandbox and results out of it, shared by every runner.

In: one tar per container (``build_archive``) with the harness, ``job.json``, the
tests, the submission (or the app folder) and pre-created result files, all
root-owned and read-only except the result files. Out: ``read_results`` reads the
tar of ``/grader/out`` without ever extracting it, and ``run_result`` turns the
launchers' result files into a ``RunResult``.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from runners.base import CANDIDATE_ROLE, REFERENCE_ROLE, Command, Database, Job, RunResult
from runners.harness import grader_contract as C

HARNESS_DIR = Path(__file__).parent / "harness"
MAX_RESULT_BYTES = C.MAX_RESULTS_BYTES
# Bytes of /grader/out read back at most; the rest of a larger archive is not read.
MAX_RESULT_ARCHIVE_BYTES = 4 * MAX_RESULT_BYTES
# A service run's candidate container outlives its tests by at most this much.
SERVICE_WALL_EXTRA_S = 60.0
_SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})


def harness_files() -> list[Path]:
    """Every file of the harness folder (sorted), as copied into each sandbox."""
    return sorted(
        p
        for p in HARNESS_DIR.rglob("*")
        if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(HARNESS_DIR).parts)
    )


def job_document(
    job: Job, role: str, port: int, reference_port: int = C.REFERENCE_PORT
) -> dict[str, Any]:
    """The ``job.json`` of one container of ``job``."""
    cmd = job.commands[role]
    limits = job.limits
    wall = limits.wall_seconds
    service: dict[str, Any] | None = None
    if job.service is not None:
        port = job.service.port
        if role == CANDIDATE_ROLE:
            # The host stops the service once the tests are done; this is a backstop.
            wall += SERVICE_WALL_EXTRA_S
            service = {"port": port, "control_port": job.service.control_port}
    return {
        "role": role,
        "argv": list(cmd.argv),
        "lint": list(cmd.lint),
        "build": list(cmd.build),
        "env": dict(cmd.env),
        "results": cmd.results,
        "token": cmd.token,
        "code": cmd.code and not job.app_dir,
        "cwd": cmd.cwd,
        "port": port,
        "service": service,
        "reference_port": reference_port,
        "limits": {
            "wall_seconds": wall,
            "test_seconds": limits.test_seconds,
            "output_kb": limits.output_kb,
        },
    }


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755, gid: int = 0) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.uid = 0
    info.gid = gid
    info.mtime = int(time.time())
    tar.addfile(info)


def _add_bytes(
    tar: tarfile.TarFile,
    name: str,
    data: bytes,
    mode: int = 0o644,
    uid: int = 0,
    gid: int | None = None,
) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.uid = uid
    info.gid = uid if gid is None else gid
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _walk(src: Path) -> Iterator[tuple[str, Path | None]]:
    """(relative path, file or None for a folder) under ``src``; no links, no caches."""
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel_dir = Path(dirpath).relative_to(src)
        dirnames[:] = sorted(
            d for d in dirnames if not (Path(dirpath) / d).is_symlink() and d not in _SKIP_DIRS
        )
        for d in dirnames:
            yield (rel_dir / d).as_posix(), None
        for f in sorted(filenames):
            path = Path(dirpath) / f
            if not path.is_symlink() and path.is_file():
                yield (rel_dir / f).as_posix(), path


@dataclass
class _Tree:
    """Members to add under one folder, folders implied by their files."""

    dirs: set[str] = field(default_factory=set)
    files: dict[str, bytes] = field(default_factory=dict)

    def add(self, rel: str, data: bytes) -> None:
        parts = PurePosixPath(rel).parts
        for i in range(1, len(parts)):
            self.dirs.add("/".join(parts[:i]))
        self.files[rel] = data

    def write(self, tar: tarfile.TarFile, dest: str, group: int | None = None) -> None:
        dmode, fmode, gid = (0o755, 0o644, 0) if group is None else (0o750, 0o640, group)
        _add_dir(tar, dest, dmode, gid)
        for d in sorted(self.dirs):
            _add_dir(tar, f"{dest}/{d}", dmode, gid)
        for rel in sorted(self.files):
            _add_bytes(tar, f"{dest}/{rel}", self.files[rel], fmode, 0, gid)


def _submission_tree(job: Job, role: str = CANDIDATE_ROLE) -> _Tree:
    tree = _Tree()
    if role == REFERENCE_ROLE:
        # The reference solution, whole (the challenge author's own files).
        assert job.reference_dir is not None
        for rel, path in _walk(job.reference_dir):
            if path is not None:
                tree.add(rel, path.read_bytes())
        return tree
    wanted = None if job.submission_files is None else set(job.submission_files)
    for rel, path in _walk(job.submission_dir):
        if path is not None and (wanted is None or rel in wanted):
            tree.add(rel, path.read_bytes())
    return tree


def _tests_tree(tests_root: Path) -> _Tree:
    tree = _Tree()
    for rel, path in _walk(tests_root / C.TESTS_DIR):
        if path is not None:
            tree.add(rel, path.read_bytes())
    return tree


def app_tree(job: Job) -> _Tree:
    """The app folder: the submission, then the tests of public/ and hidden/ beside it
    (a test file wins over a submitted file of the same name), then the grader's own."""
    tree = _submission_tree(job)
    for vis in ("public", "hidden"):
        for rel, path in _walk(job.tests_root / C.TESTS_DIR / vis):
            if path is not None:
                tree.add(rel, path.read_bytes())
    for rel, text in job.extra_files.items():
        tree.add(rel, text.encode())
    return tree


def build_archive(
    job: Job, role: str, uid: int, port: int, reference_port: int = C.REFERENCE_PORT
) -> bytes:
    """The tar put into one container of ``job`` before it starts (``base_archive``
    and ``job_archive`` in one)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _write_base(tar, uid)
        _write_job(tar, job, role, uid, port, reference_port)
    return buf.getvalue()


def base_archive(uid: int) -> bytes:
    """What every container holds whatever its job: the harness (with the launcher a
    pooled container starts) and the result files pre-created for the run user."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _write_base(tar, uid)
    return buf.getvalue()


def job_archive(
    job: Job, role: str, uid: int, port: int, reference_port: int = C.REFERENCE_PORT
) -> bytes:
    """What one job adds to a container holding ``base_archive``: ``job.json``, the
    tests (tests role) and the code (or the app folder)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _write_job(tar, job, role, uid, port, reference_port)
    return buf.getvalue()


def _write_base(tar: tarfile.TarFile, uid: int) -> None:
    root = C.ROOT.lstrip("/")
    _add_dir(tar, root)
    _add_dir(tar, f"{root}/{C.HARNESS_DIR}")
    for path in harness_files():
        rel = path.relative_to(HARNESS_DIR)
        for i in range(1, len(rel.parts)):
            _add_dir(tar, f"{root}/{C.HARNESS_DIR}/{'/'.join(rel.parts[:i])}")
        _add_bytes(tar, f"{root}/{C.HARNESS_DIR}/{rel.as_posix()}", path.read_bytes())
    _add_dir(tar, f"{root}/{C.OUT_DIR}")
    for name in C.OUT_FILES:
        _add_bytes(tar, f"{root}/{C.OUT_DIR}/{name}", b"", mode=0o600, uid=uid)


def _write_job(
    tar: tarfile.TarFile, job: Job, role: str, uid: int, port: int, reference_port: int
) -> None:
    cmd: Command = job.commands[role]
    root = C.ROOT.lstrip("/")
    document = job_document(job, role, port, reference_port)
    _add_bytes(tar, f"{root}/{C.JOB_FILE}", json.dumps(document).encode())
    if role in (CANDIDATE_ROLE, REFERENCE_ROLE) or not job.app_dir:
        if role not in (CANDIDATE_ROLE, REFERENCE_ROLE):
            # Readable by the run user's group only (the tests container's user in
            # process isolation); nobody in the sandbox can write them.
            _tests_tree(job.tests_root).write(tar, f"{root}/{C.TESTS_DIR}", group=uid)
        if cmd.code:
            _submission_tree(job, role).write(tar, f"{root}/{C.SUBMISSION_DIR}")
    else:
        app_tree(job).write(tar, f"{root}/{job.app_dir}")


def database_archive(db: Database) -> bytes:
    """The tar put into a database container before it starts: ``/grader-db/<files>``
    (root-owned, readable)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add_dir(tar, "grader-db")
        for name, data in sorted(db.files.items()):
            _add_bytes(tar, f"grader-db/{name}", data)
    return buf.getvalue()


class _ArchiveTooLarge(Exception):
    pass


class _BoundedStream:
    """A file-like ``read`` over an iterator of chunks that stops at ``limit`` bytes."""

    def __init__(self, chunks: Iterator[bytes], limit: int) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self._seen = 0
        self._limit = limit

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buf) < size:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._seen += len(chunk)
            if self._seen > self._limit:
                raise _ArchiveTooLarge
            self._buf += chunk
        if size < 0:
            size = len(self._buf)
        data = bytes(self._buf[:size])
        del self._buf[:size]
        return data


def read_results(
    chunks: Iterable[bytes], limit: int = MAX_RESULT_ARCHIVE_BYTES
) -> tuple[dict[str, bytes], list[str]]:
    """The result files in a tar stream of /grader/out, and what was wrong with it.

    Only ``out/<name>`` for the known names, only regular files of at most
    MAX_RESULT_BYTES; links, FIFOs, devices, directories and anything larger are
    skipped (never followed: nothing is extracted on the host). At most ``limit``
    bytes of the stream are read: a sandbox cannot make the host read without end.
    A bad archive is a problem of the run, reported, never an exception.
    """
    out: dict[str, bytes] = {}
    problems: list[str] = []
    try:
        stream: Any = _BoundedStream(iter(chunks), limit)  # read() is all "r|" needs
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                parts = [p for p in member.name.split("/") if p not in ("", ".")]
                if len(parts) != 2 or parts[0] != C.OUT_DIR or parts[1] not in C.OUT_FILES:
                    continue
                name = parts[1]
                if not member.isreg() or member.issparse():
                    problems.append(f"{name} is not a regular file; it was not read")
                    continue
                if member.size > MAX_RESULT_BYTES:
                    problems.append(
                        f"{name} is larger than {MAX_RESULT_BYTES} bytes; it was not read"
                    )
                    continue
                fh = tar.extractfile(member)
                if fh is not None:
                    out[name] = fh.read(MAX_RESULT_BYTES)
    except _ArchiveTooLarge:
        problems.append(f"the result folder is larger than {limit} bytes; the rest was not read")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        problems.append(f"the result folder could not be read ({exc.__class__.__name__})")
    return out, problems


def parse_result(data: bytes | None) -> dict[str, Any]:
    """A launcher's JSON result file as a dict ({} when missing or malformed)."""
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def parse_collected(data: bytes | None) -> list[str] | None:
    """The collected test ids a run wrote, or None when it wrote none."""
    value = parse_result(data)
    ids = value.get("ids")
    if not isinstance(ids, list):
        return None
    return [str(i) for i in ids][:100000]


def to_mb(value: Any) -> float | None:
    if isinstance(value, int) and value > 0:
        return round(value / (1024 * 1024), 1)
    return None


def _count(result: Mapping[str, Any], key: str) -> int:
    value = result.get(key)
    return value if isinstance(value, int) else 0


def run_result(
    job: Job,
    runner: str,
    tests_out: Mapping[str, bytes],
    candidate_out: Mapping[str, bytes] | None,
    *,
    duration_s: float,
    killed_by_host: bool = False,
    oom_seen: bool = False,
    problems: Iterable[str] = (),
) -> RunResult:
    """A ``RunResult`` from the result files of the tests (and candidate) containers."""
    res = parse_result(tests_out.get(C.RESULT_FILE))
    cand = parse_result(candidate_out.get(C.RESULT_FILE)) if candidate_out is not None else {}
    both = (res, cand)
    rr = RunResult(
        exit_code=res.get("exit_code") if isinstance(res.get("exit_code"), int) else None,
        results=tests_out.get(C.RESULTS_FILE) or None,
        collected=parse_collected(tests_out.get(C.COLLECTED_FILE)),
        stdout_tail=str(res.get("stdout_tail", "")),
        stderr_tail=str(res.get("stderr_tail", "")),
        duration_s=float(res.get("duration_s") or duration_s),
        peak_memory_mb=to_mb(res.get("peak_memory_bytes")),
        timed_out=bool(res.get("timed_out")) or killed_by_host,
        oom_killed=oom_seen or any(_count(r, "oom_kills") > 0 for r in both),
        pids_limited=any(_count(r, "pids_max_events") > 0 for r in both),
        output_truncated=any(bool(r.get("output_truncated")) for r in both),
        disk_full=any(bool(r.get("disk_full")) for r in both),
        build_failed=bool(res.get("build_failed")),
        build_log=str(res.get("build_log", "")),
        lint=tests_out.get(C.LINT_FILE) or None,
        isolation=job.isolation,
        runner=runner,
    )
    for ev in res.get("events") or []:
        if isinstance(ev, dict):
            rr.events.append({"code": str(ev.get("code")), "message": str(ev.get("message"))})
    if not res:
        rr.events.append({"code": "no-result", "message": "the sandbox wrote no result file"})
    for problem in problems:
        rr.events.append({"code": "results-unreadable", "message": problem})
    if job.service is not None and candidate_out is not None:
        # The build, the lint step and the service ran in the candidate's container.
        rr.build_failed = bool(cand.get("build_failed"))
        rr.build_log = str(cand.get("build_log", ""))
        rr.lint = candidate_out.get(C.LINT_FILE) or None
        service = cand.get("service")
        rr.service = service if isinstance(service, dict) else None
        rr.extra = {
            name: tests_out[name] for name in (C.SERVICE_FILE, C.SCHEMA_FILE) if tests_out.get(name)
        }
        for ev in cand.get("events") or []:
            if isinstance(ev, dict):
                rr.events.append({"code": str(ev.get("code")), "message": str(ev.get("message"))})
        if not cand:
            rr.events.append(
                {"code": "no-service-result", "message": "the service container wrote no result"}
            )
    if candidate_out is not None:
        rr.candidate_stdout_tail = str(cand.get("stdout_tail", ""))
        rr.candidate_stderr_tail = str(cand.get("stderr_tail", ""))
        peak = to_mb(cand.get("peak_memory_bytes"))
        if peak is not None:
            rr.peak_memory_mb = max(rr.peak_memory_mb or 0.0, peak)
    return rr
