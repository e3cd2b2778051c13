"""Resource exhaustion: every attack is graded, the right limit is reported, nothing
outlives the run, and the host loses no disk space or memory.

Each attack is a function of the candidate's module ``hog`` that one test calls, in its
own sandbox run with its own limits, once per isolation mode: in the pytest process
(in-process), or in the candidate's own container over the RPC channel (process).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from support import (
    MODES,
    Graded,
    HostState,
    grade_files,
    grade_many,
    make_probe_challenge,
    messages,
    outcomes,
    rpc_harness_present,
)

pytestmark = [pytest.mark.security, pytest.mark.docker]

GiB = 1 << 30
DISK_TOLERANCE = 256 << 20
MEM_TOLERANCE = 1 * GiB

HOG = r'''
"""Resource attacks, run as the candidate's code."""

import errno
import os
import resource
import signal
import sys
import threading
import time


def fork_bomb():
    pids = []
    try:
        for _ in range(100000):
            pid = os.fork()
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            pids.append(pid)
    except OSError:
        pass
    return len(pids)


def thread_bomb():
    threads = []
    try:
        for _ in range(100000):
            t = threading.Thread(target=time.sleep, args=(60,), daemon=True)
            t.start()
            threads.append(t)
    except (RuntimeError, OSError):
        pass
    return len(threads)


def memory_heap():
    blocks = []
    while True:
        blocks.append(bytearray(16 * 1024 * 1024))


def memory_shm():
    """Fill /dev/shm (tmpfs: its pages are memory) in files under the per-file limit."""
    chunk = b"m" * (1024 * 1024)
    written = 0
    for n in range(4096):
        with open(f"/dev/shm/hog-{n}", "wb") as fh:
            for _ in range(8):
                fh.write(chunk)
                fh.flush()
                written += len(chunk)
    return written


def cpu_quota():
    """Spin four processes for 2 s of wall time; return CPU seconds per wall second."""
    start = time.monotonic()
    pids = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            while time.monotonic() - start < 2.0:
                pass
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    wall = time.monotonic() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) / wall


def spin_past_deadline():
    for sig in (signal.SIGALRM, signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        pass


def sleep_past_deadline():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM, signal.SIGINT, signal.SIGTERM})
    time.sleep(3600)


def daemon_outlives_the_test():
    """Double fork and setsid; the grandchild ignores SIGTERM and lives on."""
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
        while True:
            time.sleep(1)
    os.waitpid(pid, 0)
    return "daemonised"


def stop_itself():
    os.kill(os.getpid(), signal.SIGSTOP)


def output_flood():
    junk = bytes(range(256)) * 256 + b"\xff\xfe\x00\xc3(\xed\xa0\x80" * 1000
    for _ in range(200):
        os.write(1, junk)
        os.write(2, junk[::-1])
    return "flooded"


def disk_fill():
    """Write into every place that takes it, until each refuses."""
    chunk = b"d" * (1024 * 1024)
    total = 0
    for folder in ("/work", "/tmp", "/dev/shm", "/var/tmp", "/run/lock", "/grader/out", "/"):
        for n in range(100000):
            try:
                with open(os.path.join(folder, f"fill-{n}"), "wb") as fh:
                    for _ in range(8):
                        fh.write(chunk)
                        total += len(chunk)
            except OSError:
                break
            if total > 2 * 1024 * 1024 * 1024:
                return total
    return total


def inode_exhaustion():
    made = 0
    for folder in ("/work", "/tmp"):
        for n in range(1000000):
            try:
                os.close(os.open(os.path.join(folder, f"i{n}"), os.O_CREAT | os.O_WRONLY))
                made += 1
            except OSError:
                break
    return made


def huge_file():
    chunk = b"h" * (1024 * 1024)
    with open("/work/huge", "wb") as fh:
        for _ in range(64):
            fh.write(chunk)
            fh.flush()


def fd_exhaustion():
    fds = []
    try:
        while len(fds) < 100000:
            fds.append(os.open("/dev/null", os.O_RDONLY))
    except OSError as exc:
        assert exc.errno == errno.EMFILE
    count = len(fds)
    for fd in fds:
        os.close(fd)
    return count


def deep_recursion():
    sys.setrecursionlimit(10**7)

    def down(n):
        return down(n + 1) + 1

    return down(0)
'''


@dataclass(frozen=True)
class Hog:
    """One resource attack: its limits, the assertion its test makes, what must show."""

    limits: dict[str, Any]
    check: str = "hog.{name}()"
    # The limit that must be in limits_hit, per mode (None: none in particular).
    limit: dict[str, str | None] = field(default_factory=dict)
    # No limit may be hit at all (the sandbox absorbed the attack).
    no_limit: bool = False
    # The attack's own test passes (its assertion held inside the sandbox).
    test_passes: bool = False
    max_run_s: float | None = None


FAST = {"wall": 20, "test_seconds": 10}
HOGS: dict[str, Hog] = {
    "fork_bomb": Hog(
        {**FAST, "pids": 32},
        "assert hog.{name}() < 64",
        limit={"in-process": "pids", "process": "pids"},
        test_passes=True,
    ),
    "thread_bomb": Hog(
        {**FAST, "pids": 32},
        "assert hog.{name}() < 64",
        limit={"in-process": "pids", "process": "pids"},
        test_passes=True,
    ),
    "memory_heap": Hog(
        {**FAST, "memory_mb": 96}, limit={"in-process": "memory", "process": "memory"}
    ),
    "memory_shm": Hog(
        {**FAST, "memory_mb": 48, "disk_mb": 64},
        limit={"in-process": "memory", "process": "memory"},
    ),
    "cpu_quota": Hog(
        {**FAST, "cpus": 0.5},
        "assert hog.{name}() < 0.5 * 1.4 + 0.05",
        no_limit=True,
        test_passes=True,
    ),
    "spin_past_deadline": Hog(
        {"wall": 5, "test_seconds": 3},
        limit={"in-process": "timeout", "process": None},
        max_run_s=20,
    ),
    "sleep_past_deadline": Hog(
        {"wall": 5, "test_seconds": 3},
        limit={"in-process": "timeout", "process": None},
        max_run_s=20,
    ),
    "daemon_outlives_the_test": Hog(
        {"wall": 20, "test_seconds": 5},
        "assert hog.{name}() == 'daemonised'",
        no_limit=True,
        test_passes=True,
        max_run_s=15,
    ),
    "stop_itself": Hog(
        {"wall": 5, "test_seconds": 3},
        limit={"in-process": "timeout", "process": None},
        max_run_s=20,
    ),
    "output_flood": Hog(
        {**FAST, "output_kb": 64},
        "assert hog.{name}() == 'flooded'",
        limit={"in-process": "output", "process": "output"},
        test_passes=True,
    ),
    "disk_fill": Hog(
        {**FAST, "disk_mb": 16},
        "assert hog.{name}() < 2 * 1024 ** 3",
        limit={"in-process": "disk", "process": "disk"},
        test_passes=True,
    ),
    "inode_exhaustion": Hog(
        {**FAST, "disk_mb": 16},
        "assert hog.{name}() < 3 * 8192",
        limit={"in-process": "disk", "process": "disk"},
        test_passes=True,
    ),
    "huge_file": Hog({**FAST, "disk_mb": 64}, limit={"in-process": "disk", "process": "disk"}),
    "fd_exhaustion": Hog(FAST, "assert hog.{name}() < 256", no_limit=True, test_passes=True),
    "deep_recursion": Hog(FAST),
}


@dataclass
class HogRun:
    graded: Graded
    before: HostState
    after: HostState


def _test_file(name: str, check: str) -> str:
    return f"import hog\n\n\ndef test_attack():\n    {check.format(name=name)}\n"


@pytest.fixture(scope="module")
def hog_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, docker_runner: Any
) -> dict[tuple[str, str], HogRun]:
    wanted = set()
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.module is request.module and "hog" in params:
            wanted.add((params["hog"], params["mode"]))
    base = tmp_path_factory.mktemp("hogs")
    tag = secrets.token_hex(4)
    jobs: dict[tuple[str, str], Callable[[], HogRun]] = {}
    for name, mode in sorted(wanted):
        if mode == "process" and not rpc_harness_present():
            continue
        spec = HOGS[name]
        challenge = make_probe_challenge(
            base,
            f"{name}-{mode}",
            isolation=mode,
            tests=_test_file(name, spec.check),
            solution=HOG,
            module="hog",
            **spec.limits,
        )

        def job(challenge: Any = challenge, name: str = name, mode: str = mode) -> HogRun:
            before = HostState.now()
            graded = grade_files(
                challenge,
                {"hog.py": HOG},
                base / f"run-{name}-{mode}",
                label=f"test-sec-r-{name[:12]}-{mode[:2]}-{tag}",
                cache_dir=base / "cache",
            )
            return HogRun(graded, before, HostState.now())

        jobs[(name, mode)] = job
    return grade_many(jobs)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("hog", sorted(HOGS))
def test_resource_attack_is_contained(
    hog: str, mode: str, hog_runs: dict[tuple[str, str], HogRun]
) -> None:
    """Graded, the right limit reported, nothing left behind, the host unharmed."""
    if (hog, mode) not in hog_runs:
        pytest.skip("process isolation needs runners/harness/rpc_client.py (not landed yet)")
    spec = HOGS[hog]
    run = hog_runs[(hog, mode)]
    report = run.graded.get()
    shown = (
        outcomes(report),
        messages(report),
        report.limits_hit,
        [f.message for f in report.flags],
    )
    assert report.status == "graded", shown
    assert run.graded.leftovers == [], f"containers left behind: {run.graded.leftovers}"
    assert run.graded.processes == [], f"processes left behind: {run.graded.processes}"
    assert (
        run.before.shrunk(run.after, disk_tolerance=DISK_TOLERANCE, mem_tolerance=MEM_TOLERANCE)
        == []
    )
    want = spec.limit.get(mode)
    if want is not None:
        assert want in report.limits_hit, shown
    if spec.no_limit:
        assert report.limits_hit == [], shown
    attack = outcomes(report)["test_attack"]
    if spec.test_passes:
        assert attack == "passed", shown
    else:
        assert attack != "passed", shown
    if spec.max_run_s is not None:
        assert report.timings.run_s < spec.max_run_s, shown
    if "output" in report.limits_hit:
        run_info = report.run
        assert run_info is not None
        tails = (
            run_info.stdout_tail
            + run_info.stderr_tail
            + run_info.candidate_stdout_tail
            + run_info.candidate_stderr_tail
        )
        assert len(tails) <= 4 * 64 * 1024
        assert report.to_json()  # undecodable bytes became text the report can carry
