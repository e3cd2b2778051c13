"""The local runner: for trusted code only (a challenge author's reference, or CI on
a machine that is itself a sandbox). Never chosen silently.

It lays out the same files a container would get in a private temporary folder
and runs the same launcher as a subprocess with rlimits and a timeout, so the
results have the same shape as the Docker runner's. It is not a sandbox: the code
runs as the calling user, with the host's network and file system.
"""

from __future__ import annotations

import io
import resource
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from runners.base import Job, RunResult
from runners.docker import (
    build_archive,
    harness_job,
    parse_collected,
    parse_result,
    to_mb,
)
from runners.errors import SandboxError

GRACE_S = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _limits(memory_mb: int) -> Any:
    def apply() -> None:
        mem = memory_mb * 1024 * 1024 * 4  # address space, not RSS: allow headroom
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        fsize = 64 * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return apply


class LocalRunner:
    """Runs a job in a subprocess on this machine (trusted code only)."""

    name = "local"

    def __init__(self, *, python: str | None = None) -> None:
        self.python = python or sys.executable

    def run(self, job: Job) -> RunResult:
        tmp = Path(tempfile.mkdtemp(prefix="grader-local-"))
        procs: list[subprocess.Popen[bytes]] = []
        try:
            return self._run(job, tmp, procs)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            shutil.rmtree(tmp, ignore_errors=True)

    def _layout(
        self, job: Job, base: dict[str, Any], role: str, where: Path, tests: bool, code: bool
    ) -> Path:
        where.mkdir(parents=True)
        (where / "work").mkdir()
        archive = build_archive(
            job={**base, "role": role, "root": str(where / "grader"), "work": str(where / "work")},
            uid=0,
            tests_root=job.tests_root if tests else None,
            submission=job.submission_dir if code else None,
        )
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            # Our own archive, built just above from trusted inputs.
            tar.extractall(where, filter="data")
        return where / "grader"

    def _start(self, root: Path, memory_mb: int) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self.python, "-I", str(root / "harness" / "launcher.py"), str(root / "job.json")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_limits(memory_mb),
        )

    def _run(self, job: Job, tmp: Path, procs: list[subprocess.Popen[bytes]]) -> RunResult:
        limits = job.limits
        process_mode = job.is_process_mode
        base = harness_job(job, f"127.0.0.1:{_free_port()}")
        troot = self._layout(job, base, "tests", tmp / "tests", True, not process_mode)
        croot = None
        if process_mode:
            croot = self._layout(job, base, "candidate", tmp / "candidate", False, True)
            procs.append(self._start(croot, limits.memory_mb))
        started = time.monotonic()
        tests = self._start(troot, limits.memory_mb)
        procs.append(tests)
        timed_out = False
        try:
            tests.wait(timeout=limits.wall_seconds + GRACE_S)
        except subprocess.TimeoutExpired:
            tests.kill()
            tests.wait()
            timed_out = True
        duration = time.monotonic() - started
        cand: dict[str, Any] = {}
        if croot is not None:
            procs[0].terminate()
            try:
                procs[0].wait(timeout=5)
            except subprocess.TimeoutExpired:
                procs[0].kill()
            cand = parse_result(_read(croot / "out" / "result.json"))
        res = parse_result(_read(troot / "out" / "result.json"))
        if tests.returncode not in (0, None) and not res:
            raise SandboxError(f"local launcher failed with exit code {tests.returncode}")
        junit = _read(troot / "out" / "junit.xml")
        return RunResult(
            exit_code=res.get("exit_code"),
            junit_xml=junit,
            collected=parse_collected(_read(troot / "out" / "collected.json")),
            stdout_tail=str(res.get("stdout_tail", "")),
            stderr_tail=str(res.get("stderr_tail", "")),
            duration_s=float(res.get("duration_s") or duration),
            peak_memory_mb=to_mb(res.get("peak_memory_bytes")),
            timed_out=timed_out or bool(res.get("timed_out")),
            output_truncated=bool(res.get("output_truncated") or cand.get("output_truncated")),
            disk_full=bool(res.get("disk_full")),
            isolation=job.isolation,
            runner=self.name,
            candidate_stdout_tail=str(cand.get("stdout_tail", "")),
            candidate_stderr_tail=str(cand.get("stderr_tail", "")),
        )

    def self_test(self) -> str:
        return f"local runner with {self.python}"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() or None
    except OSError:
        return None
