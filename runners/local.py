"""The local runner: for trusted code only (a challenge author's reference, or CI on
a machine that is itself a sandbox). Never chosen silently.

It lays out the same files a container would get in a private temporary folder
and runs the same launcher as a subprocess with rlimits and a timeout, so the
results have the same shape as the Docker runner's. It is not a sandbox: the code
runs as the calling user, with the host's network and file system.
"""

from __future__ import annotations

import io
import json
import math
import os
import resource
import secrets
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from runners.base import CANDIDATE_ROLE, REFERENCE_ROLE, TESTS_ROLE, Job, RunResult
from runners.errors import SandboxError
from runners.harness import grader_contract as C
from runners.sandbox_io import build_archive, run_result

GRACE_S = 15.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _limits(memory_mb: int, cpus: set[int] | None = None) -> Any:
    def apply() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
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

    def _layout(self, job: Job, role: str, where: Path, port: int, reference_port: int) -> Path:
        where.mkdir(parents=True)
        (where / "work").mkdir()
        archive = build_archive(job, role, 0, port, reference_port)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            # Our own archive, built just above from trusted inputs.
            tar.extractall(where, filter="data")
        root = where / C.ROOT.lstrip("/")
        doc = root / C.JOB_FILE
        data = json.loads(doc.read_text())
        data.update(root=str(root), work=str(where / "work"))
        doc.write_text(json.dumps(data))
        return root

    def _start(
        self, root: Path, memory_mb: int, token: str = "", cpus: set[int] | None = None
    ) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env.pop(C.TOKEN_ENV, None)
        if token:
            env[C.TOKEN_ENV] = token
        return subprocess.Popen(
            [self.python, "-I", str(root / C.HARNESS_DIR / "launcher.py"), str(root / C.JOB_FILE)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
            preexec_fn=_limits(memory_mb, cpus),
        )

    def _run(self, job: Job, tmp: Path, procs: list[subprocess.Popen[bytes]]) -> RunResult:
        limits = job.limits
        port, ref_port = _free_port(), _free_port()
        troot = self._layout(job, TESTS_ROLE, tmp / "tests", port, ref_port)
        croot = None
        pinned = _shared_cpus(limits.cpus) if job.pin_together else None

        def cpus(role: str) -> set[int] | None:
            return pinned if role in job.pin_together else None

        if job.has_candidate_process:
            croot = self._layout(job, CANDIDATE_ROLE, tmp / "candidate", port, ref_port)
            procs.append(self._start(croot, limits.memory_mb, cpus=cpus(CANDIDATE_ROLE)))
        if REFERENCE_ROLE in job.commands:
            rroot = self._layout(job, REFERENCE_ROLE, tmp / "reference", port, ref_port)
            secret = C.reference_secret(job.token)
            procs.append(self._start(rroot, limits.memory_mb, secret, cpus(REFERENCE_ROLE)))
        started = time.monotonic()
        tests = self._start(troot, limits.memory_mb, job.token)
        procs.append(tests)
        timed_out = False
        try:
            tests.wait(timeout=limits.wall_seconds + GRACE_S)
        except subprocess.TimeoutExpired:
            tests.kill()
            tests.wait()
            timed_out = True
        duration = time.monotonic() - started
        cand_out: dict[str, bytes] | None = None
        for proc in procs[:-1]:  # the candidate's and the reference's servers
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
        if croot is not None:
            cand_out = _out(croot)
        out = _out(troot)
        if tests.returncode not in (0, None) and not out.get(C.RESULT_FILE):
            raise SandboxError(f"local launcher failed with exit code {tests.returncode}")
        return run_result(
            job, self.name, out, cand_out, duration_s=duration, killed_by_host=timed_out
        )

    def self_test(self) -> str:
        return f"local runner with {self.python}"


def _shared_cpus(limit: float) -> set[int] | None:
    """As many of this process's CPUs as ``limit`` needs, chosen at random."""
    mine = sorted(os.sched_getaffinity(0))
    width = max(1, math.ceil(limit))
    if len(mine) < width:
        return None
    first = secrets.randbelow(len(mine) - width + 1)
    return set(mine[first : first + width])


def _out(root: Path) -> dict[str, bytes]:
    found = {}
    for name in C.OUT_FILES:
        data = _read(root / C.OUT_DIR / name)
        if data:
            found[name] = data
    return found


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() or None
    except OSError:
        return None
