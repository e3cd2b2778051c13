"""PID 1 of every sandbox container: run one command, bound it, report on it.

Runs with the image's python3 (standard library only) and knows no language: it
runs the command ``job.json`` carries. It copies the submission into the tmpfs work
folder when this container needs it, runs the job's build step (if any: when that
fails the run ends with ``build_failed`` and the build log), starts the command in
its own process group, keeps bounded tails of its output, enforces the deadline
(SIGINT first so a test runner still writes its report, then SIGKILL), kills every
leftover process, reads the cgroup counters and writes ``result.json``. As PID 1 of
its PID namespace it cannot be killed by a signal from inside it.

Hardening (as a container's init only): it makes itself non-dumpable (no process of
the same user can ptrace it or read its memory or ``/proc/1/environ``) and adds a
seccomp filter on top of Docker's default (see ``_deny_syscalls``). pytest writes its
results (JUnit XML, or the language's result stream) into a pipe that only this
process reads, never into a file the sandbox can see; this process writes ``results``
itself once everything else is dead. The run token the host put into this process's
environment goes to the command through another pipe and comes back inside the
results, so the host can tell the test runner's report from a forgery. The names,
paths and placeholders are those of ``contract.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import os
import resource
import selectors
import shutil
import signal
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import grader_contract as C  # noqa: E402 - the harness folder is not on sys.path under -I

# Paths inside a container; the local runner points them at a temporary folder.
ROOT = C.ROOT
WORK = C.WORK
TAIL_BYTES = C.TAIL_BYTES
MAX_RESULTS_BYTES = C.MAX_RESULTS_BYTES

_stop_requested = False
# Read end of the pipe a signal writes into (signal.set_wakeup_fd): the run's loop
# wakes at once on SIGTERM instead of at its next poll.
_wake_r: int | None = None
# A pooled container's launcher: this argument, then the seconds it waits for a job.
POOL_ARG = "--pooled"
# ... and this one, then the container's role: a tests container preloads pytest.
ROLE_ARG = "--role"
GO_LINE_MAX = 4096
# Set when pytest and the harness were imported before the job arrived: a command that
# runs a harness script with this interpreter is then forked from this process (see
# _Forked) instead of starting a new interpreter that imports it all again.
_preloaded = False


def _on_term(signum: int, frame: object) -> None:
    global _stop_requested
    _stop_requested = True


def _install_wakeup() -> None:
    global _wake_r
    r, w = os.pipe()
    os.set_blocking(w, False)
    os.set_blocking(r, False)
    signal.set_wakeup_fd(w)
    _wake_r = r


def _preload(role: str) -> None:
    """Import what the role's harness script needs now, while the container waits for a
    job: pytest, its built-in plugins and the test side of the RPC for the tests
    (an image without pytest preloads nothing), the RPC server for the candidate."""
    global _preloaded
    import importlib

    if role == "candidate":
        with contextlib.suppress(ImportError):
            importlib.import_module("rpc_server")
            _preloaded = True
        return
    try:
        import pytest  # noqa: F401
        from _pytest.config import default_plugins
    except ImportError:
        return
    for name in (*(f"_pytest.{p}" for p in default_plugins), "pytest_timeout", "rpc_client"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # The image's installed plugins (pytest11 entry points: pytest-timeout, anyio's)
    # load at every pytest start, and anyio's alone took 0.18 s of a 0.22 s run. A
    # plugin that fails to import here fails again, and is reported, in the run.
    from importlib.metadata import entry_points

    for ep in entry_points(group="pytest11"):
        with contextlib.suppress(Exception):
            ep.load()
    _preloaded = True


def _forkable(argv: list[str]) -> bool:
    """True for ``{python} -I <harness script> ...`` once the harness is preloaded."""
    return (
        _preloaded
        and len(argv) >= 3
        and argv[0] == sys.executable
        and argv[1] == "-I"
        and argv[2].endswith(".py")
        and os.path.dirname(os.path.abspath(argv[2])) == os.path.dirname(os.path.abspath(__file__))
    )


class _Forked:
    """A harness script run in a fork of this (preloaded) process, as ``python3 -I
    script`` would run it: its own session, working folder, environment, stdin from
    /dev/null, stdout and stderr into pipes, the results and token pipes on fds 3 and 4,
    default signal handlers, dumpable again (as after an exec). Quacks like the Popen
    that ``_run`` uses."""

    def __init__(
        self,
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        results_w: int | None,
        token_r: int | None,
    ) -> None:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child never returns
            os.close(out_r)
            os.close(err_r)
            self._child(argv, cwd, env, out_w, err_w, results_w, token_r)
        os.close(out_w)
        os.close(err_w)
        self.pid = pid
        self.returncode: int | None = None
        self.stdout = os.fdopen(out_r, "rb", buffering=0)
        self.stderr = os.fdopen(err_r, "rb", buffering=0)

    @staticmethod
    def _child(
        argv: list[str],
        cwd: str,
        env: dict[str, str],
        out_w: int,
        err_w: int,
        results_w: int | None,
        token_r: int | None,
    ) -> None:
        code = 1
        try:
            os.setsid()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            _on_fds_3_and_4(results_w, token_r)()
            keep = {0, 1, 2}
            keep |= {C.RESULTS_FD} if results_w is not None else set()
            keep |= {C.TOKEN_FD} if token_r is not None else set()
            for fd in range(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0]):
                if fd not in keep:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            with contextlib.suppress(AttributeError, OSError):
                ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE = 1, as after exec
            os.chdir(cwd)
            os.environ.clear()
            os.environ.update(env)
            sys.dont_write_bytecode = True
            here = os.path.dirname(os.path.abspath(__file__))
            # python3 -I puts neither the script's folder nor the launcher's on sys.path.
            sys.path[:] = [p for p in sys.path if p != here]
            sys.argv = argv[2:]
            import runpy

            try:
                runpy.run_path(argv[2], run_name="__main__")
                code = 0
            except SystemExit as exc:
                if exc.code is None:
                    code = 0
                elif isinstance(exc.code, int):
                    code = exc.code
                else:
                    print(exc.code, file=sys.stderr)
                    code = 1
            except BaseException:  # noqa: BLE001 - as the interpreter would: print, exit 1
                import traceback

                traceback.print_exc()
                code = 1
            import atexit

            atexit._run_exitfuncs()
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
        finally:
            os._exit(code & 0xFF if code >= 0 else 1)

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return self.returncode
            if pid == self.pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int | None:
        while self.poll() is None:
            time.sleep(0.01)
        return self.returncode


def _await_job(max_wait: float) -> dict[str, Any] | None:
    """A pooled container: wait for the host's go line on stdin (one JSON object, sent
    once the job's files are in place); None when none came in ``max_wait`` seconds
    (the container expired unused) or stdin closed. Stdin is then closed for good, so
    nothing started later can read what the host sends."""
    line = bytearray()
    deadline = time.monotonic() + max_wait
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ)
    try:
        while b"\n" not in line and len(line) < GO_LINE_MAX:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(timeout=left):
                return None
            data = os.read(0, GO_LINE_MAX - len(line))
            if not data:
                return None
            line += data
    finally:
        sel.close()
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
    try:
        go = json.loads(bytes(line).split(b"\n", 1)[0])
    except ValueError:
        return None
    return go if isinstance(go, dict) else None


def _copy_submission() -> None:
    """Copy the read-only submission into the writable (size-bounded) work folder."""
    src = f"{ROOT}/{C.SUBMISSION_DIR}"
    if not os.path.isdir(src):
        return
    for entry in os.scandir(src):
        dst = os.path.join(WORK, entry.name)
        if entry.is_dir(follow_symlinks=False):
            shutil.copytree(entry.path, dst, symlinks=False)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, dst)


def _high(fd: int) -> int:
    """``fd`` moved to a number of 10 or more (the original is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


def _on_fds_3_and_4(results_w: int | None, token_r: int | None) -> Callable[[], None]:
    """A pre-exec step putting the results pipe on fd 3 and the token pipe on fd 4 (what
    the language images' test drivers expect); both stay open across exec (dup2 makes
    them inheritable), the close-on-exec originals do not."""

    def place() -> None:
        if results_w is not None:
            os.dup2(results_w, C.RESULTS_FD)
        if token_r is not None:
            os.dup2(token_r, C.TOKEN_FD)

    return place


def _substitute(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def _placeholders(
    job: dict[str, Any], results_fd: int | None, token_fd: int | None
) -> dict[str, str]:
    values = {
        C.ROOT_PLACEHOLDER: ROOT,
        C.WORK_PLACEHOLDER: WORK,
        C.PYTHON_PLACEHOLDER: sys.executable,
        C.PORT_PLACEHOLDER: str(job.get("port", "")),
        C.REFERENCE_PORT_PLACEHOLDER: str(job.get("reference_port", "")),
    }
    if results_fd is not None:
        values[C.RESULTS_PLACEHOLDER] = f"/proc/self/fd/{C.RESULTS_FD}"
    if token_fd is not None:
        values[C.TOKEN_FD_PLACEHOLDER] = str(C.TOKEN_FD)
    return values


def _child_env(job: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
    env = dict(C.BASE_ENV)
    for key, value in (job.get("env") or {}).items():
        env[str(key)] = _substitute(str(value), values)
    return env


def _cwd(job: dict[str, Any]) -> str:
    return os.path.join(ROOT, str(job["cwd"])) if job.get("cwd") else WORK


def _lint(job: dict[str, Any], deadline: float, events: list[dict[str, Any]]) -> bytes:
    """Run the job's lint step (before any submitted code runs): its report, which is
    written out only once everything the run started is dead (as the results are)."""
    report = bytearray()
    ok, _, code = _step(job, job["lint"], deadline, events, keep=report)
    if not ok and not report:
        events.append({"code": "lint-failed", "message": f"the linter exited with {code}"})
    return bytes(report[:MAX_RESULTS_BYTES])


def _build(
    job: dict[str, Any], deadline: float, events: list[dict[str, Any]]
) -> tuple[bool, str, int | None]:
    """Run the job's build step: (ok, bounded log, exit code)."""
    return _step(job, job["build"], deadline, events)


def _step(
    job: dict[str, Any],
    argv_template: list[str],
    deadline: float,
    events: list[dict[str, Any]],
    keep: bytearray | None = None,
) -> tuple[bool, str, int | None]:
    """Run one step before the command: (ok, bounded log, exit code). With ``keep``,
    its stdout goes there whole (up to the results limit) and stderr to the log."""
    values = _placeholders(job, None, None)
    argv = [_substitute(a, values) for a in argv_template]
    tail = _Tail()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=_cwd(job),
            env=_child_env(job, values),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if keep is not None else subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        events.append({"code": "step-not-started", "message": str(exc)[:300]})
        return False, f"{argv[0]} could not start: {exc}", None
    streams = [s for s in (proc.stdout, proc.stderr) if s is not None]
    sel = selectors.DefaultSelector()
    for stream in streams:
        os.set_blocking(stream.fileno(), False)
        sel.register(stream, selectors.EVENT_READ)
    timed_out = False
    while sel.get_map():
        if time.monotonic() >= deadline:
            timed_out = True
            _kill_all(proc.pid)
            break
        for key, _ in sel.select(timeout=0.2):
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fileobj)
            elif keep is not None and key.fileobj is proc.stdout:
                if len(keep) < MAX_RESULTS_BYTES:
                    keep += data
            else:
                tail.add(data)
    proc.wait()
    sel.close()
    for stream in streams:
        stream.close()
    _kill_everything(proc.pid)
    log = tail.text()
    if timed_out:
        return False, log + "\n[ran out of the wall-clock time]", proc.returncode
    return proc.returncode == 0, log, proc.returncode


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as fh:
            return fh.read(4096)
    except OSError:
        return ""


def _cgroup_stats() -> dict[str, Any]:
    stats: dict[str, Any] = {"peak_memory_bytes": None, "oom_kills": 0, "pids_max_events": 0}
    if os.getpid() != 1:
        # Not a container's init (the local runner): the cgroup is the host's.
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        stats["peak_memory_bytes"] = peak_kb * 1024 if peak_kb else None
        return stats
    for path in (
        "/sys/fs/cgroup/memory/memory.max_usage_in_bytes",
        "/sys/fs/cgroup/memory.peak",
    ):
        text = _read(path).strip()
        if text.isdigit():
            stats["peak_memory_bytes"] = int(text)
            break
    for path in ("/sys/fs/cgroup/memory/memory.oom_control", "/sys/fs/cgroup/memory.events"):
        for line in _read(path).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                stats["oom_kills"] = int(value)
    for path in ("/sys/fs/cgroup/pids/pids.events", "/sys/fs/cgroup/pids.events"):
        for line in _read(path).splitlines():
            key, _, value = line.partition(" ")
            if key == "max" and value.strip().isdigit():
                stats["pids_max_events"] = int(value)
    return stats


def _disk_full() -> bool:
    for mount in (WORK, "/tmp", "/dev/shm"):
        try:
            st = os.statvfs(mount)
        except OSError:
            continue
        if st.f_blocks and st.f_bavail <= max(1, st.f_blocks // 100):
            return True
        if st.f_files and st.f_favail <= max(1, st.f_files // 100):
            return True
    return _file_size_limit_reached()


def _file_size_limit_reached(max_entries: int = 30000) -> bool:
    """True when a file in the writable mounts reached RLIMIT_FSIZE (writes past it
    failed with EFBIG: Python ignores SIGXFSZ, so no signal tells)."""
    limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if limit == resource.RLIM_INFINITY or os.getpid() != 1:
        return False
    seen = 0
    stack = [WORK, "/tmp", "/dev/shm"]
    while stack and seen < max_entries:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)
            elif stat.S_ISREG(st.st_mode) and st.st_size >= limit:
                return True
    return False


def _kill_everything(child: int) -> None:
    """SIGKILL every other process in this PID namespace, then reap them."""
    _kill_all(child)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.01)


def _deny_syscalls() -> None:
    """Add a seccomp filter on top of Docker's default profile (filters stack).

    Docker's default (20.10) still allows io_uring, whose ring bypasses seccomp for
    the operations it carries, and ptrace among processes of one user. Denied with
    EPERM: io_uring_setup/enter/register (425-427 on every architecture) and, on
    x86-64, ptrace, process_vm_readv and process_vm_writev.
    """
    ld_w_abs, jeq_k, ret_k, and_k = 0x20, 0x15, 0x06, 0x54
    allow, deny = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO|EPERM

    def ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)

    def block(numbers: list[int], x32_mask: bool) -> list[bytes]:
        out = [ins(ld_w_abs, 0)]
        if x32_mask:
            out.append(ins(and_k, 0xBFFFFFFF))  # x32 calls carry bit 30
        out += [ins(jeq_k, n, jt=len(numbers) - i) for i, n in enumerate(numbers)]
        return out + [ins(ret_k, allow), ins(ret_k, deny)]

    everywhere = [425, 426, 427]
    x86_64 = block(everywhere + [101, 310, 311], True)
    other = block(everywhere, False)
    prog = b"".join(
        [ins(ld_w_abs, 4), ins(jeq_k, 0xC000003E, jt=0, jf=len(x86_64)), *x86_64, *other]
    )

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buf = ctypes.create_string_buffer(prog)
    fprog = SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, MODE_FILTER
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP failed")


def _harden_init(events: list[dict[str, Any]]) -> None:
    """As a container's init: become non-dumpable, then add the seccomp filter."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE = 0
            raise OSError(ctypes.get_errno(), "PR_SET_DUMPABLE failed")
        _deny_syscalls()
    except (OSError, AttributeError) as exc:
        events.append({"code": "hardening-failed", "message": str(exc)[:300]})


def _write_out(name: str, data: bytes) -> None:
    """Write a result file: never through a link, whatever its mode was set to."""
    path = f"{ROOT}/out/{name}"
    try:
        # The run user owns the file and may have made it read-only (a pre-written
        # forgery); everything else of the run is dead by now, so no link can appear.
        if stat.S_ISREG(os.lstat(path).st_mode):
            os.chmod(path, 0o600)
    except OSError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class _Tail:
    def __init__(self) -> None:
        self.buf = bytearray()

    def add(self, data: bytes) -> None:
        self.buf += data
        if len(self.buf) > 2 * TAIL_BYTES:
            del self.buf[: len(self.buf) - TAIL_BYTES]

    def text(self) -> str:
        return bytes(self.buf[-TAIL_BYTES:]).decode("utf-8", errors="replace")


def main() -> int:
    global ROOT, WORK
    signal.signal(signal.SIGTERM, _on_term)
    events: list[dict[str, Any]] = []
    token = os.environ.pop(C.TOKEN_ENV, "")
    if os.getpid() == 1:
        _harden_init(events)
    if POOL_ARG in sys.argv:
        # Pre-started by the host's pool: the job's files arrive while this waits, and
        # the run token with the go line (it was not known when the container started).
        role = sys.argv[sys.argv.index(ROLE_ARG) + 1 :][:1]
        if role in (["tests"], ["candidate"]):
            _preload(role[0])
        go = _await_job(float(sys.argv[sys.argv.index(POOL_ARG) + 1]))
        if go is None:
            return 0
        token = str(go.get("token") or "")
    _install_wakeup()
    with open(sys.argv[1], encoding="utf-8") as fh:
        job = json.load(fh)
    ROOT = job.get("root", ROOT)
    WORK = job.get("work", WORK)
    os.umask(0o022)
    started = time.monotonic()
    if job.get("code"):
        try:
            _copy_submission()
        except OSError as exc:
            events.append({"code": "copy-failed", "message": str(exc)[:300]})
    deadline = started + float(job["limits"]["wall_seconds"])
    result: dict[str, Any] = {"events": events}
    lint = _lint(job, deadline, events) if job.get("lint") else None
    if job.get("service"):
        served = _serve(job, token, deadline)
        events += served.pop("events", [])
        result.update(served)
    else:
        if job.get("build"):
            ok, log, code = _build(job, deadline, events)
            result["build_log"] = log
            if not ok:
                result.update(build_failed=True, exit_code=code)
        if not result.get("build_failed"):
            result.update(_run(job, token, deadline, events))
    result["duration_s"] = round(time.monotonic() - started, 4)
    result["stopped"] = _stop_requested
    result["disk_full"] = _disk_full() or result.get("exit_code") == -signal.SIGXFSZ
    result.update(_cgroup_stats())
    _write_all(result, lint, events)
    if POOL_ARG in sys.argv:
        _send_out()
    return 0


def _write_all(result: dict[str, Any], lint: bytes | None, events: list[dict[str, Any]]) -> None:
    """The lint report, the test command's results, then result.json (last)."""
    if lint is not None:
        try:
            _write_out(C.LINT_FILE, lint)
        except OSError as exc:
            events.append({"code": "lint-unwritable", "message": str(exc)[:300]})
    results = result.pop("_results", None)
    if results is not None:
        result["results_bytes"] = len(results)
        try:
            _write_out(C.RESULTS_FILE, bytes(results))
        except OSError as exc:
            events.append({"code": "results-unwritable", "message": str(exc)[:300]})
    _write_out(C.RESULT_FILE, json.dumps(result).encode())


def _send_out() -> None:
    """A pooled launcher: the done line, then out/ as a tar (its length first, 8 bytes),
    on fd 1: the container's stdout, which the host reads on its attached stream (what
    this process starts gets pipes instead). Entries are added as they are, never
    followed (``lstat``): the host reads regular files only, as from the engine."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in C.OUT_FILES:
            with contextlib.suppress(OSError):
                tar.add(
                    f"{ROOT}/{C.OUT_DIR}/{name}", arcname=f"{C.OUT_DIR}/{name}", recursive=False
                )
    data = buf.getvalue()
    view = memoryview(C.DONE_LINE + len(data).to_bytes(8, "big") + data)
    with contextlib.suppress(OSError):
        while view:
            view = view[os.write(1, view) :]


def _serve(job: dict[str, Any], token: str, deadline: float) -> dict[str, Any]:
    """Service mode (see launcher_service.py): build, serve, restart on request."""
    import launcher_service

    values = _placeholders(job, None, None)

    def kill_others() -> None:
        if os.getpid() == 1:
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)

    hooks = launcher_service.Hooks(
        env=_child_env(job, values),
        cwd=_cwd(job),
        kill_others=kill_others,
        stop_requested=lambda: _stop_requested,
        reap=lambda pid: _reap_orphans(pid) if os.getpid() == 1 else None,
    )
    argv = [_substitute(a, values) for a in job["argv"]]
    build = [_substitute(a, values) for a in job.get("build") or []]
    served: dict[str, Any] = launcher_service.serve(job, token, deadline, hooks, argv, build)
    return served


def _run(
    job: dict[str, Any], token: str, deadline: float, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """Run the job's command until it ends or the deadline; its exit, tails and results."""
    proc, results_r = _start_command(job, token)
    io = _Streams(proc, results_r, limit=int(job["limits"]["output_kb"]) * 1024)
    io.pump(deadline)
    exit_code = proc.returncode
    _kill_everything(proc.pid)
    out = {
        "exit_code": exit_code,
        "stdout_tail": io.tails["stdout"].text(),
        "stderr_tail": io.tails["stderr"].text(),
        "output_bytes": io.total,
        "output_truncated": io.truncated,
        "timed_out": io.timed_out,
    }
    if results_r is not None:
        if io.overflow:
            io.results.clear()
            message = f"the results passed {MAX_RESULTS_BYTES} bytes"
            events.append({"code": "results-too-large", "message": message})
        out["_results"] = io.results
    return out


def _start_command(job: dict[str, Any], token: str) -> tuple[Any, int | None]:
    """Start the job's command with its results pipe on fd 3 and the token on fd 4 (when
    the job has them); the process and the read end of the results pipe."""
    results_r = results_w = token_r = None
    if job.get("results"):
        results_r, results_w = os.pipe()
        # Out of the way of 3 and 4, where the command finds them (see _on_fds_3_and_4).
        results_w = _high(results_w)
    if job.get("results") or job.get("token"):
        # (A command with "token" alone, a performance run's reference server, reads
        # the secret the host gave this launcher.)
        token_r, token_w = os.pipe()
        os.write(token_w, token.encode())
        os.close(token_w)
        token_r = _high(token_r)
    values = _placeholders(job, results_w, token_r)
    argv = [_substitute(a, values) for a in job["argv"]]
    proc: Any
    if _forkable(argv):
        proc = _Forked(argv, _cwd(job), _child_env(job, values), results_w, token_r)
    else:
        proc = subprocess.Popen(
            argv,
            cwd=_cwd(job),
            env=_child_env(job, values),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # Every fd of ours is close-on-exec (PEP 446) but the two the command gets.
            close_fds=results_w is None and token_r is None,
            preexec_fn=(
                None
                if results_w is None and token_r is None
                else _on_fds_3_and_4(results_w, token_r)
            ),
        )
    for fd in (results_w, token_r):
        if fd is not None:
            os.close(fd)
    return proc, results_r


class _Streams:
    """The command's stdout and stderr (bounded tails) and results pipe, read until the
    command and everything holding its pipes are gone; stops it at the deadline."""

    def __init__(self, proc: Any, results_r: int | None, limit: int) -> None:
        self.proc = proc
        self.limit = limit
        self.results = bytearray()
        self.overflow = False
        self.tails = {"stdout": _Tail(), "stderr": _Tail()}
        self.total = 0
        self.truncated = False
        self.timed_out = False
        self.interrupted_at: float | None = None
        self.exited_at: float | None = None
        self.sel = selectors.DefaultSelector()
        assert proc.stdout is not None and proc.stderr is not None
        self.sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
        self.sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
        self.open_streams = 2
        if results_r is not None:
            self.sel.register(results_r, selectors.EVENT_READ, "results")
            self.open_streams += 1
        if _wake_r is not None:
            self.sel.register(_wake_r, selectors.EVENT_READ, "wake")

    def pump(self, deadline: float) -> None:
        while self._supervise(deadline):
            if self.open_streams == 0:
                time.sleep(0.05)
                continue
            for key, _ in self.sel.select(timeout=0.2):
                self._read(key)

    def _supervise(self, deadline: float) -> bool:
        """Interrupt, then kill, at the deadline or on a stop; False once all is done."""
        pid = self.proc.pid
        _reap_orphans(pid)
        now = time.monotonic()
        if _stop_requested:
            _kill_all(pid)
        if now >= deadline and self.interrupted_at is None:
            self.timed_out = True
            self.interrupted_at = now
            _signal_group(pid, signal.SIGINT)
        if self.interrupted_at is not None and now - self.interrupted_at > 3:
            _kill_all(pid)
        if self.exited_at is None and self.proc.poll() is not None:
            self.exited_at = now
        if self.exited_at is not None:
            if self.open_streams == 0:
                return False
            # A daemonised grandchild keeps the pipes open after the command exited.
            if now - self.exited_at > 0.5:
                _kill_all(pid)
        return True

    def _read(self, key: selectors.SelectorKey) -> None:
        if key.data == "wake":
            with contextlib.suppress(OSError):
                os.read(key.fd, 512)
            return
        data = os.read(key.fd, 65536)
        if not data:
            self.sel.unregister(key.fileobj)
            self.open_streams -= 1
            return
        if key.data == "results":
            if len(self.results) + len(data) > MAX_RESULTS_BYTES:
                self.overflow = True
            else:
                self.results += data
            return
        self.total += len(data)
        if self.total > self.limit:
            self.truncated = True
            data = data[: max(0, len(data) - (self.total - self.limit))]
        if data:
            self.tails[key.data].add(data)


def _reap_orphans(child: int) -> None:
    """Reap zombies re-parented to PID 1 (they would count against the pids limit)."""
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return
        if info is None or info.si_pid == child:
            return
        try:
            os.waitpid(info.si_pid, 0)
        except ChildProcessError:
            return


def _kill_all(child: int) -> None:
    """Kill everything the run started: the whole namespace when we are its init."""
    try:
        if os.getpid() == 1:
            os.kill(-1, signal.SIGKILL)
        else:
            os.killpg(child, signal.SIGKILL)
    except OSError:
        pass


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pid, sig)


if __name__ == "__main__":
    sys.exit(main())
