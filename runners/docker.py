"""The Docker runner: every run in fresh, locked-down containers.

This is the only module that imports the Docker SDK. Every SDK error becomes a
``SandboxError`` here, and every container it creates is removed in ``finally``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container
from docker.models.networks import Network

from runners.base import (
    CANDIDATE_ROLE,
    DATABASE_ROLE_PREFIX,
    REFERENCE_ROLE,
    TESTS_ROLE,
    Database,
    Job,
    RunResult,
)
from runners.errors import ImageError, SandboxError
from runners.harness import grader_contract as C
from runners.sandbox_io import (
    MAX_RESULT_ARCHIVE_BYTES,
    MAX_RESULT_BYTES,
    base_archive,
    build_archive,
    database_archive,
    job_archive,
    read_results,
    run_result,
)

_HTTP_ERRORS = requests.exceptions.RequestException
# Directories of the image that are world-writable but are not size-bounded tmpfs:
# masked by a read-only, empty tmpfs so nothing can be written into the container's
# layer (which lives on the host's disk).
MASKED_DIRS = ("/var/tmp", "/run/lock")
# Extra seconds the host waits past the challenge's wall clock before killing a
# container itself: the launcher inside enforces the deadline first.
HOST_GRACE_S = 15.0
# How long a stopped container's launcher gets to write its results (SIGTERM to SIGKILL).
STOP_GRACE_S = 3  # whole seconds: the engine refuses "3.0"
LABEL = "org.grader.job"
ROLE_LABEL = "org.grader.role"
# Who started a container (a worker's name): the sweep removes the containers of owners
# that are no longer alive (a worker killed mid-grade leaves its sandbox behind).
OWNER_LABEL = "org.grader.owner"
# A pooled container (pre-started, waiting for a job): the shape it was made for. Its
# org.grader.job label is POOL_JOB (the job is not known when it is created).
POOL_LABEL = "org.grader.pool"
POOL_JOB = "pool"
# A pooled container's launcher gives up waiting (and exits) this long past the pool's
# max age: a backstop, the pool itself retires it at its max age.
POOL_WAIT_EXTRA_S = 60.0

ProgressFn = Callable[[str], None]
# The two sides of a service's performance run, each reached by its role's name.
SERVICE_SIDES = (CANDIDATE_ROLE, REFERENCE_ROLE)


def _noop(_: str) -> None:
    return None


def connect(timeout: float = 10.0) -> docker.DockerClient:
    """A Docker client for the engine named by DOCKER_HOST (or the local socket)."""
    try:
        client = docker.from_env(timeout=int(timeout) + 60)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise SandboxError(
            f"cannot reach the Docker engine ({exc.__class__.__name__}: {exc}); "
            "start it (as root: `bash scripts/ensure-docker.sh`) or set DOCKER_HOST"
        ) from None
    return client


@dataclass
class _Sandbox:
    """One container of a run, with the role it plays."""

    role: str
    container: Container
    uid: int


@dataclass
class ContainerSpec:
    """Everything needed to create a container; a pool could pre-create from it."""

    image: str
    role: str
    uid: int
    label: str
    memory_mb: int
    cpus: float
    pids: int
    disk_mb: int
    network_mode: str = "none"
    name_prefix: str = "grader"
    extra_labels: dict[str, str] = field(default_factory=dict)
    token: str | None = None
    # A service's /tmp allows exec (a build writes its binary there); /work always does.
    tmp_exec: bool = False
    # Host names of the run's loopback (only the container that owns the namespace).
    host_aliases: tuple[str, ...] = ()
    # The CPUs the container may run on ("3", "2-3"); None: any.
    cpuset: str | None = None
    # A pooled container: its launcher starts at once and waits (up to this many
    # seconds) for the job's files and the go line on its stdin, which carries the token.
    pool_wait_s: float | None = None

    def create_kwargs(self) -> dict[str, Any]:
        mem = f"{self.memory_mb}m"
        env = {"HOME": "/tmp"}
        if self.token:
            env[C.TOKEN_ENV] = self.token
        command = list(C.LAUNCHER_ARGV)
        if self.pool_wait_s is not None:
            command += ["--pooled", f"{self.pool_wait_s:g}", "--role", self.role]
        kwargs: dict[str, Any] = {
            "image": self.image,
            "command": command,
            "name": _container_name(self.name_prefix, self.label, self.role),
            "user": f"{self.uid}:{self.uid}",
            "environment": env,
            "labels": {LABEL: self.label, ROLE_LABEL: self.role, **self.extra_labels},
            "network_mode": self.network_mode,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "mem_limit": mem,
            "memswap_limit": mem,
            "mem_swappiness": 0,
            "pids_limit": self.pids,
            "nano_cpus": int(self.cpus * 1e9),
            "shm_size": f"{max(1, min(self.disk_mb, 64))}m",
            "tmpfs": {
                "/work": f"rw,exec,nosuid,nodev,size={self.disk_mb}m,nr_inodes=8192,mode=1777",
                "/tmp": f"rw,{'exec' if self.tmp_exec else 'noexec'},nosuid,nodev,"
                f"size={self.disk_mb}m,nr_inodes=8192,mode=1777",
                **{d: "ro,noexec,nosuid,nodev,size=16k,nr_inodes=16,mode=755" for d in MASKED_DIRS},
            },
            "ulimits": [
                docker.types.Ulimit(name="nofile", soft=256, hard=256),
                docker.types.Ulimit(name="fsize", soft=MAX_RESULT_BYTES, hard=MAX_RESULT_BYTES),
                docker.types.Ulimit(name="core", soft=0, hard=0),
            ],
            "log_config": docker.types.LogConfig(
                type="json-file", config={"max-size": "256k", "max-file": "1"}
            ),
            # A pooled container's launcher reads its go line here, then closes it.
            "stdin_open": self.pool_wait_s is not None,
            "tty": False,
            "detach": True,
        }
        if self.cpuset is not None:
            kwargs["cpuset_cpus"] = self.cpuset
        if not self.network_mode.startswith("container:"):
            # A container that joins another's network namespace takes its hostname.
            kwargs["hostname"] = "sandbox"
            if self.host_aliases:
                kwargs["extra_hosts"] = {name: "127.0.0.1" for name in self.host_aliases}
        return kwargs


def _join(kwargs: dict[str, Any], net: Network, alias: str | None, api_version: str) -> None:
    """Make container ``kwargs`` join ``net`` (under ``alias``) instead of their network
    mode, with IPv6 off in the new namespace (no link-local path to the host's bridge)."""
    kwargs.pop("network_mode", None)
    kwargs["network"] = net.name
    if alias:
        kwargs["networking_config"] = {
            net.name: docker.types.EndpointConfig(api_version, aliases=[alias]),
        }  # fmt: skip
    kwargs["sysctls"] = {"net.ipv6.conf.all.disable_ipv6": "1"}


def database_kwargs(
    db: Database,
    image: str,
    label: str,
    network_mode: str,
    name_prefix: str,
    host_aliases: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A service run's database container: the image's own entrypoint and user, its data
    in a bounded tmpfs, no capabilities, no new privileges. (Its root file system stays
    writable: the schema goes in through the Docker API before it starts.)"""
    mem = f"{db.memory_mb}m"
    kwargs: dict[str, Any] = {
        "image": image,
        "name": f"{name_prefix}-{label[:40]}-db-{db.name}-{secrets.token_hex(4)}",
        "environment": {
            **db.env,
            "DB_PORT": str(db.port),
            "HOME": "/tmp",
            **({"DB_LIFETIME": str(int(db.lifetime_s))} if db.lifetime_s else {}),
        },
        "labels": {LABEL: label, ROLE_LABEL: f"{DATABASE_ROLE_PREFIX}{db.name}"},
        "network_mode": network_mode,
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "mem_limit": mem,
        "memswap_limit": mem,
        "pids_limit": 128,
        "nano_cpus": int(1e9),
        "shm_size": "64m",
        "tmpfs": {
            "/dbdata": "rw,noexec,nosuid,nodev,size=256m,mode=1777",
            "/tmp": "rw,noexec,nosuid,nodev,size=64m,mode=1777",
            "/run": "rw,noexec,nosuid,nodev,size=1m,mode=1777",
        },
        "ulimits": [docker.types.Ulimit(name="core", soft=0, hard=0)],
        "log_config": docker.types.LogConfig(
            type="json-file", config={"max-size": "256k", "max-file": "1"}
        ),
        "detach": True,
    }
    if not network_mode.startswith("container:"):
        kwargs["hostname"] = "sandbox"
        if host_aliases:
            kwargs["extra_hosts"] = {name: "127.0.0.1" for name in host_aliases}
    return kwargs


@dataclass(frozen=True)
class PoolKey:
    """The shape of a job a pooled set of containers fits: image, isolation and limits.

    Limits are part of the key (a container's limits are fixed when it is created, and
    updating them on take would be one more round trip per container), so each
    challenge's limits get their own warm containers."""

    image: str
    two: bool
    memory_mb: int
    cpus: float
    pids: int
    disk_mb: int


@dataclass
class _Warm:
    """One pre-started set of containers (tests, then candidate for process isolation)
    whose launchers wait for a job; handed out once, never returned."""

    key: PoolKey
    sandboxes: list[_Sandbox]
    stdins: dict[str, Any]
    born: float

    def close_stdins(self) -> None:
        for sock in self.stdins.values():
            # The SDK hands a SocketIO over the hijacked connection: close the socket too.
            for part in (sock, getattr(sock, "_sock", None)):
                if part is not None:
                    with contextlib.suppress(OSError):
                        part.close()
        self.stdins.clear()


def _each_at_once(step: Callable[[_Sandbox], None], sandboxes: list[_Sandbox]) -> None:
    """``step`` for every sandbox, the others in threads beside the first; the first
    error any of them raised is raised once all are done."""
    errors: list[BaseException] = []

    def guarded(sb: _Sandbox) -> None:
        try:
            step(sb)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(sb,)) for sb in sandboxes[1:]]
    for t in threads:
        t.start()
    if sandboxes:
        guarded(sandboxes[0])
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def pool_key(job: Job, image: str) -> PoolKey | None:
    """The pool shape of ``job``, or None when it is not pooled (service runs, performance
    runs with their reference and pinned CPUs, a role in another image)."""
    if job.service is not None or job.pin_together or REFERENCE_ROLE in job.commands:
        return None
    if any(cmd.image for cmd in job.commands.values()):
        return None
    lim = job.limits
    return PoolKey(image, job.has_candidate_process, lim.memory_mb, lim.cpus, lim.pids, lim.disk_mb)


def _await_done(sock: Any, deadline: float) -> bytes | None:
    """Read a pooled launcher's attached stdout until its done line (``C.DONE_LINE``), an
    8-byte length and that many bytes: a tar of its out/ folder, returned. None when the
    stream ends first (the container exited), at ``deadline``, or when the length is over
    the bound: the caller then reads out/ through the Docker API, as for any sandbox.

    The stream is Docker's multiplexed one (an 8-byte header per frame; stream 1 is
    stdout). Only the launcher writes there: what it runs gets pipes, and it is not
    dumpable, so nothing it starts can reach its descriptors."""
    raw = getattr(sock, "_sock", sock)
    frames = bytearray()
    out = bytearray()
    want: int | None = None
    while want is None or len(out) < want:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        try:
            if not select.select([raw], [], [], left)[0]:
                return None
            data = raw.recv(1 << 20)
        except (OSError, ValueError):
            return None
        if not data:
            return None
        frames += data
        while len(frames) >= 8:
            size = int.from_bytes(frames[4:8], "big")
            if len(frames) < 8 + size:
                break
            if frames[0] == 1:
                out += frames[8 : 8 + size]
            del frames[: 8 + size]
        if want is None:
            at = out.find(C.DONE_LINE)
            if at < 0:
                del out[: -len(C.DONE_LINE)]
                continue
            del out[: at + len(C.DONE_LINE)]
            want = 8  # the length first
        if want == 8 and len(out) >= 8:
            size = int.from_bytes(out[:8], "big")
            if size > MAX_RESULT_ARCHIVE_BYTES:
                return None
            del out[:8]
            want = size
    return bytes(out[:want])


def _send_go(sock: Any, token: str) -> None:
    """The go line a pooled launcher waits for (see launcher._await_job)."""
    data = json.dumps({"token": token}).encode() + b"\n"
    raw = getattr(sock, "_sock", sock)
    raw.sendall(data)


class SandboxPool:
    """Pre-created, pre-started, single-use sandbox containers, kept per job shape.

    A job whose shape (``PoolKey``) was seen within ``max_age_s`` finds ``size`` sets of
    containers already started, their launchers waiting on stdin; the job's files go in
    with ``put_archive`` (root-owned, into the container's layer as before) and the go
    line (with the run token) follows. A set is handed out once and removed after its
    run like any other sandbox; sets older than ``max_age_s`` are removed unused.
    Refills and removals happen on the pool's own thread, off the run's critical path.
    ``close()`` drains it: nothing it created is left.
    """

    def __init__(
        self,
        *,
        size: int = 1,
        max_age_s: float = 300.0,
        client: docker.DockerClient | None = None,
        name_prefix: str = "grader",
        owner: str | None = None,
    ) -> None:
        self.size = max(0, size)
        self.max_age_s = max_age_s
        self.name_prefix = name_prefix
        self.owner = owner
        self._client = client
        self._cond = threading.Condition()
        self._ready: dict[PoolKey, deque[_Warm]] = {}
        self._wanted: dict[PoolKey, float] = {}
        self._doomed: deque[Container] = deque()
        self._removing = 0
        self._closed = False
        # Consecutive failed makes (the engine is down...): runs then do not wait for one.
        self._failures = 0
        self._base: dict[int, bytes] = {}
        # Ids of the containers handed out last (single use is checked against them);
        # bounded, so a long-lived worker's memory stays flat.
        self.handed_out: deque[str] = deque(maxlen=1000)
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._loop, name="grader-sandbox-pool", daemon=True)
        self._thread.start()

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect()
        return self._client

    # -- what runs call ----------------------------------------------------------

    def take(self, key: PoolKey, wait_s: float = 15.0) -> _Warm | None:
        """A fresh set for ``key`` (never handed out before), or None: then the pool
        starts keeping sets of that shape for the next jobs.

        When the pool already keeps that shape but has none ready (a burst took it, the
        refill is under way), this waits up to ``wait_s`` for the refill: starting the
        same containers cold, beside it, would take longer and slow both down."""
        deadline = time.monotonic() + wait_s
        with self._cond:
            known = key in self._wanted
            while not self._closed:
                now = time.monotonic()
                self._wanted[key] = now
                queue = self._ready.get(key) or deque()
                while queue:
                    warm = queue.popleft()
                    if now - warm.born < self.max_age_s:
                        self.handed_out.extend(str(sb.container.id) for sb in warm.sandboxes)
                        self._cond.notify_all()
                        return warm
                    self._retire(warm)
                self._cond.notify_all()
                if not known or self._failures or now >= deadline:
                    return None
                self._cond.wait(timeout=min(0.5, deadline - now))
            return None

    def discard(self, containers: Iterable[Container]) -> None:
        """Remove these containers on the pool's thread (after a run: off its path); at
        once when the pool is closed (its thread is gone)."""
        with self._cond:
            if not self._closed:
                self._doomed.extend(containers)
                self._cond.notify_all()
                return
        for container in containers:
            _remove_container(container)

    def idle(self, key: PoolKey | None = None) -> int:
        """Sets ready to hand out (of one shape, or all)."""
        with self._cond:
            if key is not None:
                return len(self._ready.get(key) or ())
            return sum(len(q) for q in self._ready.values())

    def wait_ready(self, key: PoolKey, timeout: float = 60.0) -> bool:
        """Wait until a set of ``key`` is ready (tests and benchmarks); True if one is."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._wanted.setdefault(key, time.monotonic())
            self._cond.notify_all()
            while not self._ready.get(key):
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return False
                self._cond.wait(timeout=min(left, 0.5))
            return True

    def settle(self, timeout: float = 60.0) -> bool:
        """Wait until every container handed back (``discard``) is removed; True if so."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._doomed or self._removing:
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    return not (self._doomed or self._removing)
                self._cond.wait(timeout=min(left, 0.5))
            return True

    def close(self) -> None:
        """Drain: stop refilling, remove every container the pool still holds."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=120)
        with self._cond:
            for queue in self._ready.values():
                while queue:
                    self._retire(queue.popleft())
            doomed = list(self._doomed)
            self._doomed.clear()
        for container in doomed:
            _remove_container(container)

    # -- the pool's thread -------------------------------------------------------

    def _retire(self, warm: _Warm) -> None:
        warm.close_stdins()
        self._doomed.extend(sb.container for sb in warm.sandboxes)

    def _next_work(self) -> tuple[str, Any] | None:
        """Under the lock, after expiry: a set for a shape that has none ready (a run may
        be waiting for it), then a removal, then the other missing sets."""
        now = time.monotonic()
        for queue in self._ready.values():
            while queue and now - queue[0].born >= self.max_age_s:
                self._retire(queue.popleft())
        for key, used in list(self._wanted.items()):
            if now - used > self.max_age_s:
                # Not asked for in a while: stop keeping this shape.
                del self._wanted[key]
        for key in self._wanted:
            if self.size and not self._ready.get(key):
                return "make", key
        if self._doomed:
            self._removing += 1
            return "remove", self._doomed.popleft()
        for key in self._wanted:
            if len(self._ready.get(key) or ()) < self.size:
                return "make", key
        return None

    def _loop(self) -> None:
        failures = 0
        while True:
            with self._cond:
                work = None if self._closed else self._next_work()
                while work is None and not self._closed:
                    self._cond.wait(timeout=max(1.0, min(30.0, self.max_age_s / 4)))
                    work = None if self._closed else self._next_work()
                if self._closed:
                    return
            assert work is not None
            kind, item = work
            if kind == "remove":
                try:
                    _remove_container(item)
                except Exception as exc:  # noqa: BLE001 - the pool's thread must live on
                    self._note(exc)
                finally:
                    with self._cond:
                        self._removing -= 1
                        self._cond.notify_all()
                continue
            try:
                warm = self._make(item)
                failures = 0
            except Exception as exc:  # noqa: BLE001 - the pool's thread must live on
                failures += 1
                with self._cond:
                    self._failures = failures
                    self._cond.notify_all()
                self._note(exc)
                # The engine is down or the image gone: runs go the cold way meanwhile.
                time.sleep(min(30.0, 0.5 * 2**failures))
                continue
            with self._cond:
                if self._closed:
                    self._retire(warm)
                    doomed = list(self._doomed)
                    self._doomed.clear()
                else:
                    self._failures = 0
                    self._ready.setdefault(item, deque()).append(warm)
                    self._cond.notify_all()
                    continue
            for container in doomed:
                _remove_container(container)
            return

    def _note(self, exc: BaseException) -> None:
        self.errors.append(f"{exc.__class__.__name__}: {exc}"[:300])
        del self.errors[:-20]

    def _spec(self, key: PoolKey, role: str, uid: int, network_mode: str) -> ContainerSpec:
        labels = {POOL_LABEL: _key_label(key)}
        if self.owner:
            labels[OWNER_LABEL] = self.owner
        return ContainerSpec(
            image=key.image,
            role=role,
            uid=uid,
            label=POOL_JOB,
            memory_mb=key.memory_mb,
            cpus=key.cpus,
            pids=key.pids,
            disk_mb=key.disk_mb,
            network_mode=network_mode,
            name_prefix=self.name_prefix,
            extra_labels=labels,
            pool_wait_s=self.max_age_s + POOL_WAIT_EXTRA_S,
        )

    def _make(self, key: PoolKey) -> _Warm:
        """Create and start one set: the harness goes in before start (the launcher is
        part of it), the job's files after."""
        warm = _Warm(key=key, sandboxes=[], stdins={}, born=time.monotonic())
        roles = [(TESTS_ROLE, C.TESTER_UID if key.two else C.CANDIDATE_UID)]
        if key.two:
            roles.append((CANDIDATE_ROLE, C.CANDIDATE_UID))
        try:
            net = "none"
            for role, uid in roles:
                spec = self._spec(key, role, uid, net)
                container = self.client.containers.create(**spec.create_kwargs())
                warm.sandboxes.append(_Sandbox(role=role, container=container, uid=uid))
                if uid not in self._base:
                    self._base[uid] = base_archive(uid)
                container.put_archive("/", self._base[uid])
                # Stdin for the go line; stdout for the launcher's done line.
                warm.stdins[role] = container.attach_socket(
                    params={"stdin": 1, "stdout": 1, "stream": 1}
                )
                container.start()
                net = f"container:{container.id}"
        except BaseException:
            warm.close_stdins()
            for sb in warm.sandboxes:
                _remove_container(sb.container)
            raise
        warm.born = time.monotonic()
        return warm


def _key_label(key: PoolKey) -> str:
    return (
        f"{key.image}|{'process' if key.two else 'in-process'}|{key.memory_mb}m|"
        f"{key.cpus:g}cpu|{key.pids}pids|{key.disk_mb}m"
    )


def _remove_container(container: Container) -> None:
    """Remove a container whatever its state; a second try when the first races its exit."""
    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except (docker.errors.DockerException, _HTTP_ERRORS):
        time.sleep(0.5)
        with contextlib.suppress(docker.errors.DockerException, _HTTP_ERRORS):
            container.remove(force=True, v=True)


_SHARED: dict[tuple[str, str | None], SandboxPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(
    *, size: int, max_age_s: float, name_prefix: str = "grader", owner: str | None = None
) -> SandboxPool | None:
    """This process's pool for (``name_prefix``, ``owner``), made on first use; None when
    ``size`` is 0 (no pooling). A worker grades with it and drains it when it stops."""
    if size <= 0:
        return None
    with _SHARED_LOCK:
        pool = _SHARED.get((name_prefix, owner))
        if pool is None:
            pool = SandboxPool(size=size, max_age_s=max_age_s, name_prefix=name_prefix, owner=owner)
            _SHARED[(name_prefix, owner)] = pool
        return pool


def drain_shared_pools() -> None:
    """Drain every pool ``shared_pool`` made (at a worker's shutdown)."""
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        pool.close()


def _container_name(prefix: str, label: str, role: str) -> str:
    return f"{prefix}-{label[:40]}-{role}-{secrets.token_hex(4)}"


def job_containers(
    client: docker.DockerClient, label: str, name_prefix: str | None = None
) -> list[Container]:
    """The containers of one job: labelled with it, or pre-started by a pool and named
    after it when the job took them (see ``_container_name``; any prefix when
    ``name_prefix`` is None)."""
    # sparse: no inspect per container, so one that goes away meanwhile is no error
    found = {
        c.id: c
        for c in client.containers.list(
            all=True, filters={"label": f"{LABEL}={label}"}, sparse=True
        )
    }
    start = f"^/?{re.escape(name_prefix)}" if name_prefix is not None else ""
    named = f"{start}-{re.escape(label[:40])}-"
    for c in client.containers.list(all=True, filters={"label": LABEL, "name": named}, sparse=True):
        found.setdefault(c.id, c)
    return list(found.values())


class DockerRunner:
    """Runs jobs in fresh containers: no network, non-root, no capabilities, bounded."""

    name = "docker"

    def __init__(
        self,
        *,
        client: docker.DockerClient | None = None,
        image_for: Callable[[str], str] | None = None,
        progress: ProgressFn | None = None,
        name_prefix: str = "grader",
        owner: str | None = None,
        pool: SandboxPool | None = None,
    ) -> None:
        self._client = client
        self._image_for = image_for
        self.progress = progress or _noop
        self.name_prefix = name_prefix
        self.owner = owner
        # Pre-started containers for the jobs it fits; also removes containers after a
        # run on its own thread. None: every run creates and removes its own, in line.
        self.pool = pool
        self._cpus: int | None = None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect()
        return self._client

    def image(self, recipe: str) -> str:
        """The image tag for an image recipe (``python``, ``go``...): from ``image_for``
        (which may build it), else the last one built (``grader-<recipe>:latest``)."""
        if self._image_for is not None:
            return self._image_for(recipe)
        tag = f"grader-{recipe}:latest"
        try:
            self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            raise SandboxError(
                f"runner image {tag} is missing: build it with `grader images build {recipe}`"
            ) from None
        except docker.errors.APIError as exc:
            raise SandboxError(f"Docker engine error looking up {tag}: {exc}") from None
        return tag

    # -- the run ---------------------------------------------------------------

    def run(self, job: Job) -> RunResult:
        image = self.image(job.image)
        self.remove_leftovers(job.label)
        sandboxes: list[_Sandbox] = []
        try:
            if job.service is not None:
                return self._run_service(job, image, sandboxes)
            return self._run(job, image, sandboxes)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise SandboxError(f"Docker engine error: {exc.__class__.__name__}: {exc}") from None
        finally:
            if self.pool is not None:
                self.pool.discard(sb.container for sb in sandboxes)
            else:
                for sb in sandboxes:
                    self._remove(sb.container)

    def _spec(self, job: Job, image: str, role: str, uid: int, **extra: Any) -> ContainerSpec:
        lim = job.limits
        return ContainerSpec(
            image=image,
            role=role,
            uid=uid,
            label=job.label,
            memory_mb=lim.memory_mb,
            cpus=lim.cpus,
            pids=lim.pids,
            disk_mb=lim.disk_mb,
            name_prefix=self.name_prefix,
            extra_labels={OWNER_LABEL: self.owner} if self.owner else {},
            **extra,
        )

    def _cpuset(self, job: Job) -> str | None:
        """The CPUs a job's pinned roles share: as many as its CPU limit needs, chosen at
        random among the engine's (so concurrent runs spread out); None when there are
        not enough."""
        if self._cpus is None:
            self._cpus = int(self.client.info().get("NCPU") or 0)
        width = max(1, math.ceil(job.limits.cpus))
        if self._cpus < width:
            return None
        first = secrets.randbelow(self._cpus - width + 1)
        return str(first) if width == 1 else f"{first}-{first + width - 1}"

    def _start(self, spec: ContainerSpec, job: Job, sandboxes: list[_Sandbox]) -> _Sandbox:
        sb = self._create(spec, sandboxes)
        sb.container.put_archive("/", build_archive(job, spec.role, sb.uid, C.RPC_PORT))
        sb.container.start()
        return sb

    def _take_warm(self, job: Job, image: str, sandboxes: list[_Sandbox]) -> _Warm | None:
        """A pre-started set for this job, its files put in and its go lines sent; None
        (the run starts its own containers) when there is none or it proved unusable
        before any of the job ran (the engine restarted meanwhile...)."""
        key = pool_key(job, image) if self.pool is not None else None
        warm = self.pool.take(key) if self.pool is not None and key is not None else None
        if warm is None:
            return None
        try:
            # Its labels say "pool" (the job was not known when it was made): its name
            # says the job's label, so a retry of the job and `job_containers` find it.
            def prepare(sb: _Sandbox) -> None:
                sb.container.rename(_container_name(self.name_prefix, job.label, sb.role))
                sb.container.put_archive("/", job_archive(job, sb.role, sb.uid, C.RPC_PORT))

            # Each container's files go in at once; then the go lines, the candidate's
            # first: its server listens before the tests try to reach it.
            order = list(reversed(warm.sandboxes))
            _each_at_once(prepare, order)
            for sb in order:
                _send_go(warm.stdins[sb.role], job.token if sb.role == TESTS_ROLE else "")
        except (docker.errors.DockerException, _HTTP_ERRORS, OSError) as exc:
            self.progress(f"a pre-started sandbox was unusable ({exc.__class__.__name__})")
            assert self.pool is not None
            self.pool.discard(sb.container for sb in warm.sandboxes)
            # A go line may have gone out: the set is never used again either way.
            warm.close_stdins()
            return None
        sandboxes.extend(warm.sandboxes)
        return warm

    def _run(self, job: Job, image: str, sandboxes: list[_Sandbox]) -> RunResult:
        two = job.has_candidate_process
        warm = self._take_warm(job, image, sandboxes)
        if warm is not None:
            try:
                other = warm.sandboxes[1] if two else None
                return self._finish(
                    job, warm.sandboxes[0], other, None, time.monotonic(), warm.stdins
                )
            finally:
                warm.close_stdins()
        self.progress("creating sandbox")
        tests_uid = C.TESTER_UID if two else C.CANDIDATE_UID
        tests = self._start(
            self._spec(job, image, TESTS_ROLE, tests_uid, token=job.token or None), job, sandboxes
        )
        started = time.monotonic()
        cand: _Sandbox | None = None
        ref: _Sandbox | None = None
        net = f"container:{tests.container.id}"
        cpuset = self._cpuset(job) if job.pin_together else None

        def pinned(role: str) -> str | None:
            return cpuset if role in job.pin_together else None

        if REFERENCE_ROLE in job.commands:
            # Started before the candidate's, so its server holds its port before any
            # candidate code runs (the tests side checks its proof of the secret anyway).
            secret = C.reference_secret(job.token)
            spec = self._spec(
                job,
                image,
                REFERENCE_ROLE,
                C.CANDIDATE_UID,
                network_mode=net,
                token=secret,
                cpuset=pinned(REFERENCE_ROLE),
            )
            ref = self._start(spec, job, sandboxes)
        if two:
            spec = self._spec(
                job,
                image,
                CANDIDATE_ROLE,
                C.CANDIDATE_UID,
                network_mode=net,
                cpuset=pinned(CANDIDATE_ROLE),
            )
            cand = self._start(spec, job, sandboxes)
        return self._finish(job, tests, cand, ref, started)

    def _finish(
        self,
        job: Job,
        tests: _Sandbox,
        cand: _Sandbox | None,
        ref: _Sandbox | None,
        started: float,
        attached: dict[str, Any] | None = None,
    ) -> RunResult:
        """Wait for the tests container, stop the others, read the results. ``attached``:
        a pooled set's attached streams by role, where each launcher says it is done (its
        results are read then, its container removed later, off the run's path)."""
        attached = attached or {}
        self.progress("running tests")
        killed, tests_out = self._wait_attached(
            tests.container, job.limits.wall_seconds + HOST_GRACE_S, attached.get(TESTS_ROLE)
        )
        duration = time.monotonic() - started
        self.progress("collecting results")
        # The others stop (their launchers write their own results) and the candidate's
        # results are read, while the tests container's results are read.
        stopping = None
        fetched: list[tuple[dict[str, bytes], list[str]]] = []
        if cand is not None or ref is not None:
            others = [o for o in (cand, ref) if o is not None]

            def stop_others() -> None:
                cand_out = None
                for other in others:
                    payload = self._stop(other.container, attached.get(other.role))
                    cand_out = payload if other is cand else cand_out
                if cand is not None:
                    # (On an error the caller reads them again, and raises its own.)
                    with contextlib.suppress(Exception):
                        fetched.append(self._results(cand.container, cand_out))

            stopping = threading.Thread(target=stop_others, name="grader-stop")
            stopping.start()
        try:
            out, problems = self._results(tests.container, tests_out)
            oom = self._oom_killed(tests.container)
        finally:
            if stopping is not None:
                stopping.join()
        cand_out: dict[str, bytes] | None = None
        if cand is not None:
            cand_out, cand_problems = fetched[0] if fetched else self._fetch_results(cand.container)
            problems += [f"candidate container: {p}" for p in cand_problems]
            oom = oom or self._oom_killed(cand.container)
        return run_result(
            job,
            self.name,
            out,
            cand_out,
            duration_s=duration,
            killed_by_host=killed,
            oom_seen=oom,
            problems=problems,
        )

    def _run_service(self, job: Job, image: str, sandboxes: list[_Sandbox]) -> RunResult:
        """Databases first (each ready), then the candidate's service, then the tests.

        The first container owns the run's network namespace (loopback only) and the
        others join it: the run's containers reach each other on 127.0.0.1 and nothing
        else, and no two runs share a namespace.
        """
        svc = job.service
        assert svc is not None
        if REFERENCE_ROLE in job.commands:
            return self._run_service_perf(job, image, sandboxes)
        owner: list[Container] = []

        def net() -> str:
            return f"container:{owner[0].id}" if owner else "none"

        def aliases() -> tuple[str, ...]:
            return () if owner else svc.host_aliases

        self.progress("starting the databases")
        databases: list[tuple[Database, Container]] = []
        for db in svc.databases:
            kwargs = database_kwargs(
                db, self.image(db.image), job.label, net(), self.name_prefix, aliases()
            )
            container = self.client.containers.create(**kwargs)
            sandboxes.append(
                _Sandbox(role=f"{DATABASE_ROLE_PREFIX}{db.name}", container=container, uid=0)
            )
            if db.files:
                container.put_archive("/", database_archive(db))
            container.start()
            owner = owner or [container]
            databases.append((db, container))
        for db, container in databases:
            self._wait_ready(db, container)
        cand_cmd = job.commands[CANDIDATE_ROLE]
        cand_image = self.image(cand_cmd.image) if cand_cmd.image else image
        self.progress("starting the service")
        cand = self._start(
            self._spec(
                job,
                cand_image,
                CANDIDATE_ROLE,
                C.CANDIDATE_UID,
                network_mode=net(),
                token=svc.control_token or None,
                tmp_exec=True,
                host_aliases=aliases(),
            ),
            job,
            sandboxes,
        )
        owner = owner or [cand.container]
        started = time.monotonic()
        tl = svc.tests_limits
        tests_spec = ContainerSpec(
            image=image,
            role=TESTS_ROLE,
            uid=C.TESTER_UID,
            label=job.label,
            memory_mb=tl.memory_mb,
            cpus=tl.cpus,
            pids=tl.pids,
            disk_mb=tl.disk_mb,
            network_mode=net(),
            name_prefix=self.name_prefix,
            token=job.token or None,
        )
        tests = self._start(tests_spec, job, sandboxes)
        self.progress("running tests")
        killed = self._wait(tests.container, job.limits.wall_seconds + HOST_GRACE_S)
        duration = time.monotonic() - started
        # SIGTERM: the launcher stops the service and writes its report.
        with contextlib.suppress(docker.errors.APIError):
            cand.container.stop(timeout=10)
        self.progress("collecting results")
        out, problems = self._fetch_results(tests.container)
        cand_out, cand_problems = self._fetch_results(cand.container)
        problems += [f"candidate container: {p}" for p in cand_problems]
        oom = self._oom_killed(tests.container) or self._oom_killed(cand.container)
        result = run_result(
            job,
            self.name,
            out,
            cand_out,
            duration_s=duration,
            killed_by_host=killed,
            oom_seen=oom,
            problems=problems,
        )
        for db, container in databases:
            container.reload()
            if container.status != "running":
                tail = self._log_tail(container)
                result.events.append(
                    {
                        "code": "database-stopped",
                        "message": f"the {db.name} container stopped during the run "
                        f"(out of memory: {self._oom_killed(container)}): {tail}",
                    }
                )
        return result

    # -- a service's performance run ------------------------------------------------------

    def _run_service_perf(self, job: Job, image: str, sandboxes: list[_Sandbox]) -> RunResult:
        """Two sides, each its own databases and service on a loopback of its own, joined
        to a network of its own (internal, no host address); the tests container alone
        joins both and reaches each service by its role's name ("candidate",
        "reference"). The candidate's namespace has no route to the reference's."""
        svc = job.service
        assert svc is not None
        networks: list[Network] = []
        try:
            self._remove_networks(job.label)
            nets = {role: self._network(job, role, networks) for role in SERVICE_SIDES}
            self.progress("starting the databases")
            sides = {
                CANDIDATE_ROLE: (svc.databases, svc.control_token),
                REFERENCE_ROLE: (svc.reference_databases, svc.reference_control_token),
            }
            owners: dict[str, Container | None] = {}
            started_dbs: list[tuple[Database, Container]] = []
            for role, (dbs, _) in sides.items():
                owner: Container | None = None
                for db in dbs:
                    kwargs = database_kwargs(
                        db, self.image(db.image), job.label,
                        f"container:{owner.id}" if owner else "none", self.name_prefix,
                        () if owner else svc.host_aliases,
                    )  # fmt: skip
                    if owner is None:
                        _join(kwargs, nets[role], role, self.client.api.api_version)
                    kwargs["name"] = kwargs["name"].replace("-db-", f"-{role}-db-", 1)
                    container = self.client.containers.create(**kwargs)
                    sandboxes.append(_Sandbox(f"{DATABASE_ROLE_PREFIX}{db.name}", container, 0))
                    if db.files:
                        container.put_archive("/", database_archive(db))
                    container.start()
                    owner = owner or container
                    started_dbs.append((db, container))
                owners[role] = owner
            for db, container in started_dbs:
                self._wait_ready(db, container)
            self.progress("starting the services")
            services: dict[str, _Sandbox] = {}
            cpuset = self._cpuset(job) if job.pin_together else None
            for role, (_, token) in sides.items():
                cmd = job.commands[role]
                owner = owners[role]
                spec = self._spec(
                    job, self.image(cmd.image) if cmd.image else image, role, C.CANDIDATE_UID,
                    network_mode=f"container:{owner.id}" if owner else "none",
                    token=token or None, tmp_exec=True,
                    host_aliases=() if owner else svc.host_aliases,
                    cpuset=cpuset if role in job.pin_together else None,
                )  # fmt: skip
                sb = self._create_joined(spec, nets[role] if owner is None else None, role,
                                         sandboxes)  # fmt: skip
                sb.container.put_archive("/", build_archive(job, role, sb.uid, C.RPC_PORT))
                sb.container.start()
                services[role] = sb
            tl = svc.tests_limits
            tests_spec = ContainerSpec(
                image=image, role=TESTS_ROLE, uid=C.TESTER_UID, label=job.label,
                memory_mb=tl.memory_mb, cpus=tl.cpus, pids=tl.pids, disk_mb=tl.disk_mb,
                name_prefix=self.name_prefix, token=job.token or None,
                extra_labels={OWNER_LABEL: self.owner} if self.owner else {},
            )  # fmt: skip
            tests = self._create_joined(tests_spec, nets[CANDIDATE_ROLE], None, sandboxes)
            nets[REFERENCE_ROLE].connect(tests.container)
            tests.container.put_archive("/", build_archive(job, TESTS_ROLE, tests.uid, C.RPC_PORT))
            started = time.monotonic()
            tests.container.start()
            self.progress("measuring")
            killed = self._wait(tests.container, job.limits.wall_seconds + HOST_GRACE_S)
            duration = time.monotonic() - started
            for sb in services.values():
                with contextlib.suppress(docker.errors.APIError):
                    sb.container.stop(timeout=10)
            self.progress("collecting results")
            out, problems = self._fetch_results(tests.container)
            cand = services[CANDIDATE_ROLE].container
            cand_out, cand_problems = self._fetch_results(cand)
            problems += [f"candidate container: {p}" for p in cand_problems]
            oom = self._oom_killed(tests.container) or self._oom_killed(cand)
            return run_result(
                job, self.name, out, cand_out, duration_s=duration, killed_by_host=killed,
                oom_seen=oom, problems=problems,
            )  # fmt: skip
        finally:
            # The networks go once nothing is attached to them any more.
            while sandboxes:
                self._remove(sandboxes.pop().container)
            for net in networks:
                self._remove_network(net)

    def _network(self, job: Job, role: str, networks: list[Network]) -> Network:
        """A run side's private network: internal (no route out) and with no address of
        the host on it (so nothing the host listens on is reachable from it)."""
        labels = {LABEL: job.label, ROLE_LABEL: role}
        if self.owner:
            labels[OWNER_LABEL] = self.owner
        net = self.client.networks.create(
            f"{self.name_prefix}-{job.label[:40]}-{role}-{secrets.token_hex(4)}",
            driver="bridge", internal=True, labels=labels, check_duplicate=True,
            options={"com.docker.network.bridge.inhibit_ipv4": "true"},
        )  # fmt: skip
        networks.append(net)
        return net

    def _create_joined(
        self,
        spec: ContainerSpec,
        net: Network | None,
        alias: str | None,
        sandboxes: list[_Sandbox],
    ) -> _Sandbox:
        """A container created on ``net`` (under ``alias``), or in the namespace its spec
        names when ``net`` is None."""
        kwargs = spec.create_kwargs()
        if net is not None:
            _join(kwargs, net, alias, self.client.api.api_version)
        container = self.client.containers.create(**kwargs)
        sb = _Sandbox(role=spec.role, container=container, uid=spec.uid)
        sandboxes.append(sb)
        return sb

    def _remove_networks(self, label: str) -> None:
        """Networks a previous attempt at the same job left behind."""
        if label == "adhoc":
            return
        for net in self.client.networks.list(filters={"label": f"{LABEL}={label}"}):
            self._remove_network(net)

    def _remove_network(self, net: Network) -> None:
        try:
            net.remove()
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, _HTTP_ERRORS):
            time.sleep(0.5)
            with contextlib.suppress(docker.errors.DockerException, _HTTP_ERRORS):
                net.remove()

    def _log_tail(self, container: Container, limit: int = 2000) -> str:
        try:
            raw = container.logs(stdout=True, stderr=True, tail=40)
        except docker.errors.APIError:
            return ""
        return bytes(raw)[-limit:].decode("utf-8", errors="replace").strip()

    def _wait_ready(self, db: Database, container: Container) -> None:
        """Wait for the database's ready line; SandboxError (with its log) otherwise."""
        deadline = time.monotonic() + db.ready_seconds
        marker = db.ready_line.encode()
        delay = 0.02
        while True:
            if marker in bytes(container.logs(stdout=True, stderr=False)):
                return
            container.reload()
            if container.status not in ("created", "running"):
                raise SandboxError(
                    f"the {db.name} database did not start: {self._log_tail(container)}"
                )
            if time.monotonic() > deadline:
                raise SandboxError(
                    f"the {db.name} database was not ready within {db.ready_seconds:g} s: "
                    f"{self._log_tail(container)}"
                )
            time.sleep(delay)
            delay = min(0.2, delay * 1.5)

    @staticmethod
    def _oom_killed(container: Container) -> bool:
        container.reload()
        return bool(container.attrs.get("State", {}).get("OOMKilled"))

    # -- container plumbing ------------------------------------------------------

    def _create(self, spec: ContainerSpec, sandboxes: list[_Sandbox]) -> _Sandbox:
        container = self.client.containers.create(**spec.create_kwargs())
        sb = _Sandbox(role=spec.role, container=container, uid=spec.uid)
        sandboxes.append(sb)
        return sb

    def _wait_attached(
        self, container: Container, timeout: float, attached: Any
    ) -> tuple[bool, bytes | None]:
        """``_wait``, ended early by the launcher's done line on ``attached`` (a pooled
        container): (killed, its out/ folder as a tar, or None: read it from the engine)."""
        deadline = time.monotonic() + timeout
        if attached is not None:
            payload = _await_done(attached, deadline)
            if payload is not None:
                return False, payload
        return self._wait(container, max(0.1, deadline - time.monotonic())), None

    def _wait(self, container: Container, timeout: float) -> bool:
        """Wait for the container to exit; kill it at the deadline. True if killed."""
        try:
            container.wait(timeout=timeout)
            return False
        except requests.exceptions.ConnectionError:
            # docker-py raises ConnectionError (read timeout) when the wait times out.
            with contextlib.suppress(docker.errors.APIError):
                container.kill()
            container.wait(timeout=30)
            return True

    def _stop(self, container: Container, attached: Any = None) -> bytes | None:
        """SIGTERM, up to 3 s for the launcher to write its results and end, then SIGKILL.
        With ``attached`` (a pooled container), its done line ends the wait (the exit is
        not waited for) and its out/ folder, as a tar, is returned."""
        if attached is not None:
            with contextlib.suppress(docker.errors.APIError):
                container.kill(signal="SIGTERM")
            payload = _await_done(attached, time.monotonic() + STOP_GRACE_S)
            if payload is not None:
                return payload
        with contextlib.suppress(docker.errors.APIError):
            container.stop(timeout=STOP_GRACE_S)
        return None

    def _results(
        self, container: Container, payload: bytes | None
    ) -> tuple[dict[str, bytes], list[str]]:
        """The out/ folder the launcher sent (``payload``), or else read from the engine."""
        if payload is not None:
            return read_results([payload])
        return self._fetch_results(container)

    def _fetch_results(self, container: Container) -> tuple[dict[str, bytes], list[str]]:
        """Read /grader/out through the Docker API (never a host path); see read_results."""
        try:
            stream, _ = container.get_archive(f"{C.ROOT}/{C.OUT_DIR}")
        except docker.errors.NotFound:
            return {}, ["the sandbox has no result folder"]
        try:
            return read_results(stream)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _remove(self, container: Container) -> None:
        _remove_container(container)

    def remove_leftovers(self, label: str) -> int:
        """Remove containers a previous attempt at the same job left behind."""
        if label == "adhoc":
            return 0
        try:
            found = job_containers(self.client, label, self.name_prefix)
        except docker.errors.APIError as exc:
            raise SandboxError(f"Docker engine error listing containers: {exc}") from None
        for c in found:
            self._remove(c)
        return len(found)

    def remove_orphans(self, live_owners: set[str], *, older_than_s: float = 60.0) -> list[str]:
        """Remove sandbox containers whose owner is not among ``live_owners`` (it died),
        once they are ``older_than_s`` old; returns their names."""
        try:
            found = self.client.containers.list(
                all=True, filters={"label": OWNER_LABEL}, sparse=True
            )
        except (docker.errors.DockerException, _HTTP_ERRORS) as exc:
            raise SandboxError(f"Docker engine error listing containers: {exc}") from None
        removed = []
        now = time.time()
        for c in found:
            owner = (c.attrs.get("Labels") or {}).get(OWNER_LABEL, "")
            if owner in live_owners or now - float(c.attrs.get("Created", now)) < older_than_s:
                continue
            self._remove(c)
            removed.append(str((c.attrs.get("Names") or [c.id])[0]).lstrip("/"))
        return removed

    def self_test(self) -> str:
        info = self.client.version()
        return f"docker engine {info.get('Version', '?')} reachable"


class Engine:
    """Image operations for ``runners.images`` (kept here: the one SDK module)."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        self.client = client or connect()

    def image_exists(self, ref: str) -> bool:
        try:
            self.client.images.get(ref)
            return True
        except docker.errors.ImageNotFound:
            return False
        except docker.errors.APIError as exc:
            raise SandboxError(f"Docker engine error looking up {ref}: {exc}") from None

    def try_pull(self, ref: str) -> bool:
        """Pull from a registry; False (quickly) when none answers."""
        try:
            self.client.images.pull(ref)
            return True
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            return False

    def import_tarball(self, tarball: Path, ref: str) -> None:
        repo, _, tag = ref.partition(":")
        try:
            self.client.api.import_image_from_file(str(tarball), repository=repo, tag=tag or None)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise ImageError(f"docker import of {tarball} failed: {exc}") from None
        if not self.image_exists(ref):
            raise ImageError(f"docker import did not produce {ref}")

    def build(
        self,
        context: Path,
        *,
        tag: str,
        buildargs: dict[str, str],
        progress: ProgressFn,
        network_mode: str = "none",
        nocache: bool = False,
    ) -> None:
        tail: list[str] = []
        try:
            for chunk in self.client.api.build(
                path=str(context),
                tag=tag,
                buildargs=buildargs,
                network_mode=network_mode,
                rm=True,
                forcerm=True,
                decode=True,
                pull=False,
                nocache=nocache,
            ):
                if "error" in chunk:
                    last = " / ".join(tail[-8:])
                    raise ImageError(
                        f"building {tag} failed: {str(chunk['error']).strip()[:300]}"
                        f" (last output: {last})"
                    )
                line = str(chunk.get("stream", "")).strip()
                if line:
                    tail = (tail + line.splitlines())[-8:]
                if line.startswith("Step "):
                    progress(line)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise ImageError(f"building {tag} failed: {exc}") from None

    def tag(self, ref: str, new_ref: str) -> None:
        repo, _, tag = new_ref.partition(":")
        self.client.images.get(ref).tag(repo, tag or None)


@dataclass
class SweepReport:
    """What a sweep removed (names), and what it could not."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.containers) + len(self.networks) + len(self.volumes)


def _age_s(created: object, now: float) -> float:
    """Seconds since a Docker timestamp (``2024-05-01T10:00:00.123456789Z``); 0 if unreadable."""
    from datetime import datetime

    text = str(created or "")
    try:
        when = datetime.fromisoformat(text[:26].rstrip("Z") + "+00:00" if "T" in text else text)
    except ValueError:
        return 0.0
    return now - when.timestamp()


def sweep_leftovers(
    older_than_s: float,
    *,
    client: docker.DockerClient | None = None,
    name_prefix: str | None = None,
) -> SweepReport:
    """Remove what runs left behind (a worker killed mid-run): containers, networks and
    volumes labelled ``org.grader.job`` and created more than ``older_than_s`` ago.

    ``older_than_s`` must exceed the longest run: a younger one may belong to a run still
    in progress on another worker. ``name_prefix`` limits it to containers so named.
    """
    client = client or connect()
    report = SweepReport()
    now = time.time()
    flt: dict[str, str | list[str] | bool] = {"label": LABEL}
    try:
        # The list endpoint alone (no inspect per container: one may go meanwhile).
        containers = client.api.containers(all=True, filters=flt)
        networks = client.networks.list(filters=flt)
        volumes = client.volumes.list(filters=flt)
    except (docker.errors.DockerException, _HTTP_ERRORS) as exc:
        raise SandboxError(f"Docker engine error listing leftovers: {exc}") from None
    for c in containers:
        name = str((c.get("Names") or ["?"])[0]).lstrip("/")
        if name_prefix and not name.startswith(name_prefix):
            continue
        created = c.get("Created")
        if isinstance(created, int | float) and now - created < older_than_s:
            continue
        try:
            client.api.remove_container(c["Id"], force=True, v=True)
            report.containers.append(name)
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, _HTTP_ERRORS) as exc:
            report.failed.append(f"container {name}: {exc}")
    for n in networks:
        if _age_s(n.attrs.get("Created"), now) < older_than_s:
            continue
        try:
            n.remove()
            report.networks.append(str(n.name))
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, _HTTP_ERRORS) as exc:
            report.failed.append(f"network {n.name}: {exc}")
    for v in volumes:
        if _age_s(v.attrs.get("CreatedAt"), now) < older_than_s:
            continue
        try:
            v.remove(force=True)
            report.volumes.append(str(v.name))
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, _HTTP_ERRORS) as exc:
            report.failed.append(f"volume {v.name}: {exc}")
    return report
