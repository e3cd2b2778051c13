"""The Docker runner: every run in fresh, locked-down containers.

This is the only module that imports the Docker SDK. Every SDK error becomes a
``SandboxError`` here, and every container it creates is removed in ``finally``.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import secrets
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import requests.exceptions
from docker.models.containers import Container

from runners.base import Job, RunResult, is_config_file
from runners.errors import ImageError, SandboxError

HARNESS_DIR = Path(__file__).parent / "harness"
_HTTP_ERRORS = requests.exceptions.RequestException
HARNESS_FILES = (
    "launcher.py",
    "pytest_boot.py",
    "pytest.ini",
    "rpc_protocol.py",
    "rpc_server.py",
    "rpc_client.py",
    "rpc_connection.py",
    "rpc_errors.py",
    "rpc_exports.py",
    "rpc_finder.py",
    "rpc_findings.py",
    "rpc_proxies.py",
    "test_grader_sentinel.py",
)
TESTER_UID = 10001
CANDIDATE_UID = 10002
RPC_PORT = 7411
RESULT_FILES = ("result.json", "junit.xml", "collected.json")
MAX_RESULT_BYTES = 16 * 1024 * 1024
# Bytes of /grader/out read back at most; the rest of a larger archive is not read.
MAX_RESULT_ARCHIVE_BYTES = 4 * MAX_RESULT_BYTES
# The launcher (PID 1) reads the run token from its own environment; no process it
# starts gets it, and PID 1 is not dumpable, so its environment cannot be read.
TOKEN_ENV = "GRADER_RUN_TOKEN"
TOKEN_PROPERTY = "grader_run"
SENTINEL_CLASS = "harness.test_grader_sentinel"
MALFORMED = "(it is not well-formed: cut short, or something else wrote to it)"
# Directories of the image that are world-writable but are not size-bounded tmpfs:
# masked by a read-only, empty tmpfs so nothing can be written into the container's
# layer (which lives on the host's disk).
MASKED_DIRS = ("/var/tmp", "/run/lock")
# Extra seconds the host waits past the challenge's wall clock before killing a
# container itself: the launcher inside enforces the deadline first.
HOST_GRACE_S = 15.0
LABEL = "org.grader.job"
ROLE_LABEL = "org.grader.role"

ProgressFn = Callable[[str], None]


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

    def create_kwargs(self) -> dict[str, Any]:
        mem = f"{self.memory_mb}m"
        env = {"HOME": "/tmp"}
        if self.token:
            env[TOKEN_ENV] = self.token
        kwargs: dict[str, Any] = {
            "image": self.image,
            "command": ["/opt/venv/bin/python3", "-I", "/grader/harness/launcher.py",
                        "/grader/job.json"],
            "name": f"{self.name_prefix}-{self.label[:40]}-{self.role}-{secrets.token_hex(4)}",
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
                "/tmp": f"rw,noexec,nosuid,nodev,size={self.disk_mb}m,nr_inodes=8192,mode=1777",
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
            "stdin_open": False,
            "tty": False,
            "detach": True,
        }
        if not self.network_mode.startswith("container:"):
            # A container that joins another's network namespace takes its hostname.
            kwargs["hostname"] = "sandbox"
        return kwargs


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
    ) -> None:
        self._client = client
        self._image_for = image_for
        self.progress = progress or _noop
        self.name_prefix = name_prefix

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = connect()
        return self._client

    def image(self, language: str) -> str:
        if self._image_for is not None:
            return self._image_for(language)
        from runners.images import image_tag

        tag = image_tag(language)
        try:
            self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            raise SandboxError(
                f"runner image {tag} is missing: build it with `grader images build {language}`"
            ) from None
        except docker.errors.APIError as exc:
            raise SandboxError(f"Docker engine error looking up {tag}: {exc}") from None
        return tag

    # -- the run ---------------------------------------------------------------

    def run(self, job: Job) -> RunResult:
        if job.language != "python":
            raise SandboxError(f"no runner image for language {job.language!r}")
        image = self.image(job.language)
        self.remove_leftovers(job.label)
        sandboxes: list[_Sandbox] = []
        try:
            return self._run(job, image, sandboxes)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise SandboxError(f"Docker engine error: {exc.__class__.__name__}: {exc}") from None
        finally:
            for sb in sandboxes:
                self._remove(sb.container)

    def _run(self, job: Job, image: str, sandboxes: list[_Sandbox]) -> RunResult:
        limits = job.limits
        process_mode = job.is_process_mode
        base = harness_job(job, f"127.0.0.1:{RPC_PORT}")
        self.progress("creating sandbox")
        token = secrets.token_hex(16)
        tests = self._create(
            ContainerSpec(
                image=image, role="tests", uid=TESTER_UID if process_mode else CANDIDATE_UID,
                label=job.label, memory_mb=limits.memory_mb, cpus=limits.cpus,
                pids=limits.pids, disk_mb=limits.disk_mb, name_prefix=self.name_prefix,
                token=token,
            ),
            sandboxes,
        )
        tests_archive = build_archive(
            job={**base, "role": "tests"},
            uid=tests.uid,
            tests_root=job.tests_root,
            submission=None if process_mode else job.submission_dir,
        )
        tests.container.put_archive("/", tests_archive)
        started = time.monotonic()
        tests.container.start()
        cand: _Sandbox | None = None
        if process_mode:
            cand = self._create(
                ContainerSpec(
                    image=image, role="candidate", uid=CANDIDATE_UID, label=job.label,
                    memory_mb=limits.memory_mb, cpus=limits.cpus, pids=limits.pids,
                    disk_mb=limits.disk_mb, network_mode=f"container:{tests.container.id}",
                    name_prefix=self.name_prefix,
                ),
                sandboxes,
            )
            cand.container.put_archive(
                "/",
                build_archive(
                    job={**base, "role": "candidate"}, uid=cand.uid, tests_root=None,
                    submission=job.submission_dir,
                ),
            )
            cand.container.start()
        self.progress("running tests")
        timed_out_host = self._wait(tests.container, limits.wall_seconds + HOST_GRACE_S)
        duration = time.monotonic() - started
        if cand is not None:
            self._stop(cand.container)
        self.progress("collecting results")
        out, problems = self._fetch_results(tests.container)
        tests.container.reload()
        state = tests.container.attrs.get("State", {})
        result = parse_result(out.get("result.json"))
        cand_result: dict[str, Any] = {}
        cand_oom = False
        if cand is not None:
            cand_out, cand_problems = self._fetch_results(cand.container)
            problems += [f"candidate container: {p}" for p in cand_problems]
            cand_result = parse_result(cand_out.get("result.json"))
            cand.container.reload()
            cand_oom = bool(cand.container.attrs.get("State", {}).get("OOMKilled"))
        collected = parse_collected(out.get("collected.json"))
        junit, forged = verify_junit(out.get("junit.xml"), token)
        rr = RunResult(
            exit_code=result.get("exit_code"),
            junit_xml=junit,
            collected=collected,
            stdout_tail=str(result.get("stdout_tail", "")),
            stderr_tail=str(result.get("stderr_tail", "")),
            duration_s=float(result.get("duration_s") or duration),
            peak_memory_mb=to_mb(result.get("peak_memory_bytes")),
            timed_out=bool(result.get("timed_out")) or timed_out_host,
            oom_killed=bool(state.get("OOMKilled")) or cand_oom
            or int(result.get("oom_kills") or 0) > 0 or int(cand_result.get("oom_kills") or 0) > 0,
            pids_limited=int(result.get("pids_max_events") or 0) > 0
            or int(cand_result.get("pids_max_events") or 0) > 0,
            output_truncated=bool(result.get("output_truncated"))
            or bool(cand_result.get("output_truncated")),
            disk_full=bool(result.get("disk_full")) or bool(cand_result.get("disk_full")),
            isolation=job.isolation,
            runner=self.name,
        )
        for ev in result.get("events") or []:
            if isinstance(ev, dict):
                rr.events.append({"code": str(ev.get("code")), "message": str(ev.get("message"))})
        if not result:
            rr.events.append({"code": "no-result", "message": "the sandbox wrote no result file"})
        for problem in problems:
            rr.events.append({"code": "results-unreadable", "message": problem})
        if forged:
            # XML cut short by a kill at a limit is a lost result, not evidence of forging.
            cut_short = forged.endswith(MALFORMED) and bool(rr.limits_hit)
            rr.events.append({"code": "results-missing" if cut_short else "tamper-suspect",
                              "message": forged})
        if cand is not None:
            rr.candidate_stdout_tail = str(cand_result.get("stdout_tail", ""))
            rr.candidate_stderr_tail = str(cand_result.get("stderr_tail", ""))
            peak = to_mb(cand_result.get("peak_memory_bytes"))
            if peak is not None:
                rr.peak_memory_mb = max(rr.peak_memory_mb or 0.0, peak)
        return rr

    # -- container plumbing ------------------------------------------------------

    def _create(self, spec: ContainerSpec, sandboxes: list[_Sandbox]) -> _Sandbox:
        container = self.client.containers.create(**spec.create_kwargs())
        sb = _Sandbox(role=spec.role, container=container, uid=spec.uid)
        sandboxes.append(sb)
        return sb

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

    def _stop(self, container: Container) -> None:
        with contextlib.suppress(docker.errors.APIError):
            container.stop(timeout=3)

    def _fetch_results(self, container: Container) -> tuple[dict[str, bytes], list[str]]:
        """Read /grader/out through the Docker API (never a host path); see read_results."""
        try:
            stream, _ = container.get_archive("/grader/out")
        except docker.errors.NotFound:
            return {}, ["the sandbox has no result folder"]
        try:
            return read_results(stream)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()

    def _remove(self, container: Container) -> None:
        try:
            container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            # One more try: a removal racing the container's own exit can fail once.
            time.sleep(0.5)
            with contextlib.suppress(docker.errors.DockerException, _HTTP_ERRORS):
                container.remove(force=True, v=True)

    def remove_leftovers(self, label: str) -> int:
        """Remove containers a previous attempt at the same job left behind."""
        if label == "adhoc":
            return 0
        try:
            found = self.client.containers.list(all=True, filters={"label": f"{LABEL}={label}"})
        except docker.errors.APIError as exc:
            raise SandboxError(f"Docker engine error listing containers: {exc}") from None
        for c in found:
            self._remove(c)
        return len(found)

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

    def build(self, context: Path, *, tag: str, buildargs: dict[str, str],
              progress: ProgressFn) -> None:
        try:
            for chunk in self.client.api.build(
                path=str(context), tag=tag, buildargs=buildargs, network_mode="none",
                rm=True, forcerm=True, decode=True, pull=False,
            ):
                if "error" in chunk:
                    raise ImageError(f"building {tag} failed: {str(chunk['error']).strip()}")
                line = str(chunk.get("stream", "")).strip()
                if line.startswith("Step "):
                    progress(line)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise ImageError(f"building {tag} failed: {exc}") from None

    def tag(self, ref: str, new_ref: str) -> None:
        repo, _, tag = new_ref.partition(":")
        self.client.images.get(ref).tag(repo, tag or None)


# -- archives in, results out -------------------------------------------------------


# Module names a submission cannot take: the tests always get the standard library's,
# pytest's and the harness's own module under these names (in-process isolation puts
# the submission last on sys.path; process isolation does not proxy these names).
HARNESS_MODULES = frozenset({
    "pytest", "_pytest", "pluggy", "iniconfig", "packaging", "pytest_timeout", "py",
    "rpc_client", "rpc_protocol", "rpc_server", "launcher", "pytest_boot",
    "test_grader_sentinel", "sitecustomize", "usercustomize",
})
RESERVED_MODULES = HARNESS_MODULES | {"tests", "conftest"} | frozenset(sys.stdlib_module_names)


def _top_level_modules(root: Path) -> set[str]:
    names: set[str] = set()
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            continue
        if entry.is_file() and entry.suffix == ".py" and entry.stem.isidentifier():
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and any(entry.rglob("*.py")):
            names.add(entry.name)
    return names


def candidate_modules(root: Path) -> list[str]:
    """Top-level importable names of a submission (``x.py`` files and packages), less
    the reserved ones: the tests never import a submission's ``json`` or ``pytest``."""
    return sorted(_top_level_modules(root) - RESERVED_MODULES)


def shadowing_modules(root: Path) -> list[str]:
    """The submission's top-level modules that would shadow the standard library, pytest
    or the harness (they are never what the tests import)."""
    return sorted(_top_level_modules(root) & RESERVED_MODULES)


def harness_job(job: Job, rpc_address: str) -> dict[str, Any]:
    """The ``job.json`` every sandbox gets (its ``role`` is added per container)."""
    limits = job.limits
    return {
        "mode": job.mode,
        "isolation": job.isolation,
        "test_files": list(job.test_files),
        "limits": {
            "wall_seconds": limits.wall_seconds,
            "test_seconds": limits.test_seconds,
            "output_kb": limits.output_kb,
        },
        "rpc_address": rpc_address,
        "candidate_modules": candidate_modules(job.submission_dir) if job.is_process_mode else [],
    }


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755, gid: int = 0) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = mode
    info.uid = 0
    info.gid = gid
    info.mtime = int(time.time())
    tar.addfile(info)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644,
               uid: int = 0, gid: int | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.uid = uid
    info.gid = uid if gid is None else gid
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _add_tree(tar: tarfile.TarFile, src: Path, dest: str, *, skip_config: bool,
              group: int | None = None) -> None:
    """Add regular files under ``src`` as root-owned, read-only members: world-readable,
    or with ``group`` readable by that group only."""
    dmode, fmode, gid = (0o755, 0o644, 0) if group is None else (0o750, 0o640, group)
    _add_dir(tar, dest, dmode, gid)
    for dirpath, dirnames, filenames in os.walk(src, followlinks=False):
        rel_dir = Path(dirpath).relative_to(src)
        dirnames[:] = sorted(
            d for d in dirnames
            if not (Path(dirpath) / d).is_symlink() and d not in ("__pycache__", ".pytest_cache")
        )
        for d in dirnames:
            _add_dir(tar, f"{dest}/{(rel_dir / d).as_posix()}", dmode, gid)
        for f in sorted(filenames):
            path = Path(dirpath) / f
            rel = (rel_dir / f).as_posix()
            if path.is_symlink() or not path.is_file():
                continue
            if skip_config and is_config_file(rel):
                continue
            _add_bytes(tar, f"{dest}/{rel}", path.read_bytes(), fmode, 0, gid)


def build_archive(*, job: dict[str, Any], uid: int, tests_root: Path | None,
                  submission: Path | None) -> bytes:
    """The tar put into a container before it starts (see docs/ARCHITECTURE.md)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        _add_dir(tar, "grader")
        _add_dir(tar, "grader/harness")
        for name in HARNESS_FILES:
            path = HARNESS_DIR / name
            if path.is_file():
                _add_bytes(tar, f"grader/harness/{name}", path.read_bytes())
        _add_bytes(tar, "grader/job.json", json.dumps(job).encode())
        _add_dir(tar, "grader/out")
        for name in RESULT_FILES:
            _add_bytes(tar, f"grader/out/{name}", b"", mode=0o600, uid=uid)
        if tests_root is not None:
            # Readable by the run user's group only (the tests container's user in
            # process isolation); nobody in the sandbox can write them.
            _add_tree(tar, tests_root / "tests", "grader/tests", skip_config=False, group=uid)
        if submission is not None:
            _add_tree(tar, submission, "grader/submission", skip_config=True)
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


def read_results(chunks: Iterable[bytes], limit: int = MAX_RESULT_ARCHIVE_BYTES
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
                if len(parts) != 2 or parts[0] != "out" or parts[1] not in RESULT_FILES:
                    continue
                name = parts[1]
                if not member.isreg() or member.issparse():
                    problems.append(f"{name} is not a regular file; it was not read")
                    continue
                if member.size > MAX_RESULT_BYTES:
                    problems.append(f"{name} is larger than {MAX_RESULT_BYTES} bytes; "
                                    "it was not read")
                    continue
                fh = tar.extractfile(member)
                if fh is not None:
                    out[name] = fh.read(MAX_RESULT_BYTES)
    except _ArchiveTooLarge:
        problems.append(f"the result folder is larger than {limit} bytes; the rest was not read")
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        problems.append(f"the result folder could not be read ({exc.__class__.__name__})")
    return out, problems


def verify_junit(xml: bytes | None, token: str) -> tuple[bytes | None, str | None]:
    """Keep the JUnit XML only if the grader's pytest wrote it: (xml or None, why not).

    Every test suite must carry the run token as a ``grader_run`` property (only the
    harness's pytest got it, through a pipe), and the sentinel check, which always
    fails, must not be reported as passed (a run whose outcomes were rewritten).
    """
    if not xml:
        return None, None
    why = "the JUnit XML was not written by the grader's pytest"
    if re.search(rb"<!(DOCTYPE|ENTITY)", xml[:65536], re.IGNORECASE):
        return None, f"{why} (it carries a DTD)"
    try:
        root = ET.fromstring(xml)
    except (ET.ParseError, ValueError):
        return None, f"{why} {MALFORMED}"
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        tokens = [p.get("value") for p in suite.findall("properties/property")
                  if p.get("name") == TOKEN_PROPERTY]
        if tokens != [token]:
            return None, f"{why} (the run token is missing or wrong)"
    if not suites:
        return None, f"{why} (it holds no test suite)"
    for case in root.iter("testcase"):
        if case.get("classname") == SENTINEL_CLASS and case.find("skipped") is None:
            return None, ("the harness's always-failing sentinel check was reported as "
                          "not failing: the test outcomes were rewritten")
    return _without_harness(root, suites), None


def _without_harness(root: ET.Element, suites: list[ET.Element]) -> bytes:
    """The verified XML without what the harness added (token, sentinel)."""
    for suite in suites:
        for props in suite.findall("properties"):
            for prop in props.findall("property"):
                if prop.get("name") == TOKEN_PROPERTY:
                    props.remove(prop)
            if len(props) == 0:
                suite.remove(props)
        for case in suite.findall("testcase"):
            if case.get("classname") == SENTINEL_CLASS:
                suite.remove(case)
                for key in ("tests", "skipped"):
                    value = suite.get(key, "")
                    if value.isdigit() and int(value) > 0:
                        suite.set(key, str(int(value) - 1))
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


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
