"""Helpers of the adversarial suite: synthetic challenges, submissions, a runner that
remembers its containers, and host-side checks (leftovers, disk, memory, files).

Every sandbox the suite starts carries a job label beginning ``test-sec-``, so the
session fixture of ``fixtures_docker`` (names ``grader-test-...``) removes leftovers.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import textwrap
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import docker.errors

from grader.challenge import Challenge, load_challenge
from grader.engine import ExpectedTests, expected_tests, grade
from grader.report import Report
from grader.submission import open_submission
from runners.docker import LABEL, DockerRunner, _Sandbox
from runners.images import ensure

HARNESS_RPC_CLIENT = Path(__file__).resolve().parents[2] / "runners" / "harness" / "rpc_client.py"
MODES = ("process", "in-process")
# A string only the hidden tests hold: it must never reach a candidate.
HIDDEN_MARKER = "HIDDEN-MARKER-c0ffee-5ecret"
SANDBOX_UIDS = (10001, 10002)


def rpc_harness_present() -> bool:
    """Process isolation needs the RPC harness (written by another helper)."""
    return HARNESS_RPC_CLIENT.is_file()


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content))
    return root


# --- the challenge every tampering attack is graded against ------------------------------

VAULT_SOLUTION = '''\
"""A tiny module for the tamper suite."""


def answer():
    """The answer."""
    return 42


def add(a, b):
    """Return a + b."""
    return a + b
'''

# Honest but wrong: every test fails. Each attack is this plus the attack.
VAULT_BASELINE = '''\
"""An honest, failing attempt."""


def answer():
    """Not the answer."""
    return 0


def add(a, b):
    """Not a sum."""
    return 0
'''

VAULT_PUBLIC = """\
from vault import add


def test_public_add():
    assert add(2, 2) == 4
"""

VAULT_HIDDEN = f"""\
# {HIDDEN_MARKER}
from vault import add, answer


def test_answer():
    assert answer() == 42


def test_add_negative():
    assert add(-5, 3) == -2


def test_add_big():
    assert add(10**20, 1) == 10**20 + 1


def test_add_decimal():
    from decimal import Decimal

    assert add(Decimal("0.1"), Decimal("0.2")) == Decimal("0.3")
"""

VAULT_TOML = """\
title = "Vault"
language = "python"
isolation = "{isolation}"
[limits]
wall_seconds = {wall}
test_seconds = 3
memory_mb = 256
pids = 64
output_kb = 256
disk_mb = 32
"""


def make_vault_challenge(parent: Path, isolation: str, *, wall: int = 25) -> Challenge:
    root = parent / f"vault-{isolation}"
    write_tree(
        root,
        {
            "challenge.toml": VAULT_TOML.format(isolation=isolation, wall=wall),
            "solution/vault.py": VAULT_SOLUTION,
            "starter/vault.py": VAULT_BASELINE,
            "tests/public/test_public.py": VAULT_PUBLIC,
            "tests/hidden/test_hidden.py": VAULT_HIDDEN,
        },
    )
    return load_challenge(root)


# --- a challenge whose tests are the probes themselves ---------------------------------

PROBE_TOML = """\
title = "Probe"
language = "python"
isolation = "{isolation}"
[limits]
wall_seconds = {wall}
test_seconds = {test_seconds}
memory_mb = {memory_mb}
pids = {pids}
output_kb = {output_kb}
disk_mb = {disk_mb}
cpus = {cpus}
"""

PROBE_DEFAULTS: dict[str, Any] = {
    "wall": 30,
    "test_seconds": 10,
    "memory_mb": 256,
    "pids": 64,
    "output_kb": 256,
    "disk_mb": 32,
    "cpus": 1.0,
}


def make_probe_challenge(
    parent: Path,
    name: str,
    *,
    tests: str,
    solution: str,
    isolation: str = "in-process",
    module: str = "probe",
    **limits: Any,
) -> Challenge:
    """A challenge with one hidden test file (the probes) and one solution module."""
    root = parent / name
    write_tree(
        root,
        {
            "challenge.toml": PROBE_TOML.format(
                isolation=isolation, **{**PROBE_DEFAULTS, **limits}
            ),
            f"solution/{module}.py": solution,
            f"starter/{module}.py": "X = 0\n",
            "tests/hidden/test_probe.py": tests,
        },
    )
    return load_challenge(root)


def outcomes(report: Report) -> dict[str, str]:
    """Test name (last part of the id) -> outcome."""
    return {t.id.rsplit("::", 1)[1]: t.outcome for t in report.tests}


def messages(report: Report) -> dict[str, str]:
    return {t.id.rsplit("::", 1)[1]: (t.message or "") for t in report.tests}


def flag_codes(report: Report) -> set[str]:
    return {f.code for f in report.flags}


def tamper_evident(report: Report) -> bool:
    """True when the report tells a reviewer something is off with the run."""
    return bool(flag_codes(report) & {"tamper-suspect", "results-missing"})


# --- a runner that remembers every container it made -------------------------------------


class TrackingRunner(DockerRunner):
    """The real Docker runner; it also records the id of every container it creates."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.container_ids: list[str] = []
        self._lock = threading.Lock()

    def _create(self, spec: Any, sandboxes: list[_Sandbox]) -> _Sandbox:
        sb = super()._create(spec, sandboxes)
        with self._lock:
            self.container_ids.append(sb.container.id)
        return sb


def containers_left(runner: DockerRunner, label: str, ids: Iterable[str]) -> list[str]:
    """Containers of this job (by label) or of these ids that still exist."""
    left = [
        c.attrs["Names"][0].lstrip("/")
        for c in runner.client.containers.list(
            all=True, filters={"label": f"{LABEL}={label}"}, sparse=True
        )
    ]
    for cid in ids:
        try:
            runner.client.containers.get(cid)
            left.append(cid[:12])
        except docker.errors.NotFound:
            pass
    return left


def host_processes_of(ids: Iterable[str]) -> list[str]:
    """Host processes that still live in the cgroup of one of these containers."""
    ids = [i for i in ids if i]
    found = []
    if not ids:
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cgroup", encoding="ascii", errors="replace") as fh:
                text = fh.read()
        except OSError:
            continue
        if any(cid in text for cid in ids):
            try:
                cmd = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                cmd = b"?"
            found.append(f"{entry.name}: {cmd[:120].decode(errors='replace')}")
    return found


@dataclass
class HostState:
    """Free disk space and available memory of the host at one moment."""

    disk_free: dict[str, int]
    mem_available: int

    @classmethod
    def now(cls) -> HostState:
        disks = {}
        for path in ("/", "/tmp", "/var/lib/docker"):
            if os.path.isdir(path):
                disks[path] = shutil.disk_usage(path).free
        return cls(disks, _mem_available())

    def shrunk(self, later: HostState, *, disk_tolerance: int, mem_tolerance: int) -> list[str]:
        problems = []
        for path, free in self.disk_free.items():
            lost = free - later.disk_free.get(path, free)
            if lost > disk_tolerance:
                problems.append(f"{path}: {lost >> 20} MiB less free disk")
        lost_mem = self.mem_available - later.mem_available
        if lost_mem > mem_tolerance:
            problems.append(f"{lost_mem >> 20} MiB less available memory")
        return problems


def _mem_available() -> int:
    with open("/proc/meminfo", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def tree_digest(root: Path) -> dict[str, str]:
    """Every path under root with the hash of its content (links as their target)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_file():
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


# --- grading many submissions at once -----------------------------------------------------


@dataclass
class Graded:
    """The outcome of grading one submission in the real sandbox."""

    report: Report | None
    error: BaseException | None
    label: str
    container_ids: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    processes: list[str] = field(default_factory=list)

    def get(self) -> Report:
        if self.error is not None:
            raise AssertionError(f"grading {self.label} raised {self.error!r}") from self.error
        assert self.report is not None
        return self.report


def grade_files(
    challenge: Challenge,
    files: Mapping[str, str | bytes],
    workdir: Path,
    *,
    label: str,
    expected: ExpectedTests | None = None,
    cache_dir: Path,
    runner: TrackingRunner | None = None,
) -> Graded:
    """Write a submission, open it as an upload, grade it in Docker, check for leftovers."""
    runner = runner or TrackingRunner()
    sub_dir = write_tree(workdir / "upload", files)
    try:
        sub = open_submission(sub_dir, workdir)
        report = grade(challenge, sub, runner, expected=expected, cache_dir=cache_dir, label=label)
        error = None
    except BaseException as exc:  # noqa: BLE001 - recorded, re-raised by the test that asks
        report, error = None, exc
    ids = list(runner.container_ids)
    return Graded(
        report, error, label, ids, containers_left(runner, label, ids), host_processes_of(ids)
    )


K = TypeVar("K")
T = TypeVar("T")


def grade_many(jobs: Mapping[K, Callable[[], T]], workers: int = 3) -> dict[K, T]:
    """Run the grading jobs a few at a time (2 cores: most of a run is Docker's own work)."""
    results: dict[K, T] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures: dict[K, Future[T]] = {k: pool.submit(fn) for k, fn in jobs.items()}
        for key, fut in futures.items():
            results[key] = fut.result()
    return results


def expected_for(challenge: Challenge, cache_dir: Path) -> ExpectedTests:
    return expected_tests(challenge, DockerRunner(image_for=ensure), cache_dir=cache_dir)
