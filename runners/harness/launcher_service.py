"""The launcher's service mode: PID 1 of a service run's candidate container.

Standard library only, loaded by ``launcher.py`` when ``job.json`` has a ``service``.
It runs the job's build step, then its command (the candidate's service) in its own
session, keeping a bounded log (the first and the last bytes of stdout and stderr
together) and every start and exit. On the run's loopback it answers the tests
container on the control port, one JSON line in and one out, given the token the host
put into this process's environment (never passed to the service):

- ``status``: the state (``building``, ``build-failed``, ``running``, ``exited``), the
  seconds since the service started, its starts and exits;
- ``restart``: kill every process of the container but this one, start the command
  again (the databases, in their own containers, keep their data);
- ``logs``: the log as kept so far.

A service that exits is not started again on its own: a crash is the candidate's
result. The loop ends when the host stops the container (SIGTERM) or at the deadline;
then everything else is killed and the launcher reports.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grader_contract as C

# A request line longer than this, or slower than this, is dropped.
MAX_REQUEST = 4096
REQUEST_SECONDS = 2.0


class Log:
    """The first ``head`` and the last ``tail`` bytes of a stream, and its total size."""

    def __init__(self, head: int = C.SERVICE_LOG_HEAD, tail: int = C.SERVICE_LOG_TAIL) -> None:
        self.head_limit = head
        self.tail_limit = tail
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > 2 * self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    def text(self) -> str:
        tail = bytes(self.tail[-self.tail_limit :])
        cut = self.total - len(self.head) - len(tail)
        middle = f"\n[... {cut} bytes of the log not kept ...]\n".encode() if cut > 0 else b""
        return (bytes(self.head) + middle + tail).decode("utf-8", errors="replace")


@dataclass
class Hooks:
    """What the service loop takes from the launcher."""

    env: dict[str, str]
    cwd: str
    kill_others: Callable[[], None]
    stop_requested: Callable[[], bool]
    # Reap zombies that are not ``pid`` (the current child, which Popen reaps itself).
    reap: Callable[[int], None]


@dataclass
class _Child:
    proc: subprocess.Popen[bytes]
    started: float
    log: Log
    kind: str  # "build" | "service"


@dataclass
class Service:
    """The state of the candidate's service, as the control channel reports it."""

    start_argv: list[str]
    build_argv: list[str]
    hooks: Hooks
    output_limit: int
    t0: float = field(default_factory=time.monotonic)
    state: str = "building"
    child: _Child | None = None
    log: Log = field(default_factory=Log)
    build_log: Log = field(default_factory=lambda: Log(8 * 1024, 24 * 1024))
    starts: int = 0
    restarts: int = 0
    exits: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    build_failed: bool = False
    build_exit: int | None = None
    running_since: float | None = None

    def _spawn(self, argv: list[str], kind: str, log: Log) -> None:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=self.hooks.cwd,
                env=self.hooks.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            # (A fork bomb may have taken every pid the container has.)
            log.add(f"[grader: could not start the {kind}: {exc}]\n".encode())
            self.events.append({"code": f"{kind}-not-started", "message": str(exc)[:300]})
            if kind == "build":
                self._build_done(None)
            else:
                self.state = "exited"
                self.exits.append({"code": None, "at_s": self.elapsed(), "signal": None})
            return
        assert proc.stdout is not None
        os.set_blocking(proc.stdout.fileno(), False)
        self.child = _Child(proc, time.monotonic(), log, kind)

    def elapsed(self) -> float:
        return round(time.monotonic() - self.t0, 3)

    def begin(self) -> None:
        if self.build_argv:
            self.state = "building"
            self._spawn(self.build_argv, "build", self.build_log)
        else:
            self.start()

    def start(self) -> None:
        self.state = "running"
        self.starts += 1
        self.running_since = time.monotonic()
        self._spawn(self.start_argv, "service", self.log)

    def _build_done(self, code: int | None) -> None:
        self.build_exit = code
        if code == 0:
            self.start()
        else:
            self.state = "build-failed"
            self.build_failed = True

    def kill(self) -> None:
        """Kill the child and everything it started (every process but this one)."""
        child = self.child
        if child is not None:
            _kill_group(child.proc)
        self.hooks.kill_others()
        if child is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.proc.wait(timeout=5)
            self.drain(child)
            self._close(child)
        self.child = None

    def restart(self) -> None:
        if self.state == "build-failed" or self.state == "building":
            return
        if self.child is not None:
            self.kill()
            self.exits.append({"code": None, "at_s": self.elapsed(), "signal": "restart"})
        self.restarts += 1
        self.log.add(b"\n[grader: the service was restarted]\n")
        self.start()

    def drain(self, child: _Child) -> None:
        stream = child.proc.stdout
        if stream is None or stream.closed:
            return
        try:
            while data := os.read(stream.fileno(), 65536):
                child.log.add(data)
        except (BlockingIOError, OSError):
            pass

    def _close(self, child: _Child) -> None:
        if child.proc.stdout is not None and not child.proc.stdout.closed:
            child.proc.stdout.close()

    def poll(self) -> None:
        """Notice the child's end (build: go on or fail; service: record the exit)."""
        child = self.child
        if child is None or child.proc.poll() is None:
            return
        self.drain(child)
        code = child.proc.returncode
        self._close(child)
        self.child = None
        # Whatever the child left running (a daemonised grandchild) goes with it.
        self.hooks.kill_others()
        if child.kind == "build":
            self._build_done(code)
            return
        self.state = "exited"
        sig = signal.Signals(-code).name if code is not None and code < 0 else None
        self.exits.append({"code": code, "at_s": self.elapsed(), "signal": sig})
        self.log.add(f"\n[grader: the service exited with {sig or code}]\n".encode())

    def status(self) -> dict[str, Any]:
        running_s = None
        if self.state == "running" and self.running_since is not None:
            running_s = round(time.monotonic() - self.running_since, 3)
        return {
            "state": self.state,
            "running_s": running_s,
            "starts": self.starts,
            "restarts": self.restarts,
            "exits": self.exits[-20:],
            "build_exit": self.build_exit,
        }

    def report(self) -> dict[str, Any]:
        return {
            **self.status(),
            "exits": self.exits[-100:],
            "log": self.log.text(),
            "log_bytes": self.log.total,
            "build_log": self.build_log.text(),
        }


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # No SO_REUSEPORT: nothing else (the service runs as the same user) can bind it too.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(16)
    sock.setblocking(False)
    return sock


def _answer(svc: Service, token: str, line: bytes) -> dict[str, Any]:
    try:
        request = json.loads(line)
    except ValueError:
        return {"ok": False, "error": "not JSON"}
    if not isinstance(request, dict) or not token or request.get("token") != token:
        return {"ok": False, "error": "refused"}
    op = request.get("op")
    if op == "status":
        return {"ok": True, **svc.status()}
    if op == "restart":
        svc.restart()
        return {"ok": True, **svc.status()}
    if op == "logs":
        return {"ok": True, "log": svc.log.text(), "log_bytes": svc.log.total}
    return {"ok": False, "error": f"unknown op (one of {', '.join(C.CONTROL_OPS)})"}


@dataclass
class _Conn:
    sock: socket.socket
    since: float
    buf: bytearray = field(default_factory=bytearray)


def serve(
    job: dict[str, Any],
    token: str,
    deadline: float,
    hooks: Hooks,
    argv: list[str],
    build: list[str],
) -> dict[str, Any]:
    """Run the service until the host stops the container or the deadline; report."""
    spec = job["service"]
    limit = int(job["limits"]["output_kb"]) * 1024
    svc = Service(start_argv=argv, build_argv=build, hooks=hooks, output_limit=limit)
    sel = selectors.DefaultSelector()
    listener = _listen(int(spec["control_port"]))
    sel.register(listener, selectors.EVENT_READ, "listen")
    conns: dict[int, _Conn] = {}
    svc.begin()
    watched: _Child | None = None
    watched_fd: int | None = None
    while not hooks.stop_requested() and time.monotonic() < deadline:
        child = svc.child
        if child is not watched:
            if watched_fd is not None:
                # By number: the stream may be closed already (its fd reused since).
                _unregister(sel, watched_fd)
                watched_fd = None
            if child is not None and child.proc.stdout is not None:
                watched_fd = child.proc.stdout.fileno()
                sel.register(watched_fd, selectors.EVENT_READ, "child")
            watched = child
        for key, _ in sel.select(timeout=0.1):
            if key.data == "listen":
                _accept(listener, sel, conns)
            elif key.data == "child":
                if _read_child(key.fd, watched) is False:
                    _unregister(sel, key.fd)
                    watched_fd = None if watched_fd == key.fd else watched_fd
            else:
                _read_conn(sel, conns, key.fd, svc, token)
        now = time.monotonic()
        for fd, conn in list(conns.items()):
            if now - conn.since > REQUEST_SECONDS:
                _drop(sel, conns, fd)
        svc.poll()
        hooks.reap(svc.child.proc.pid if svc.child is not None else 0)
    for fd in list(conns):
        _drop(sel, conns, fd)
    sel.close()
    listener.close()
    if svc.child is not None:
        svc.kill()
    report = svc.report()
    out: dict[str, Any] = {
        "service": report,
        "exit_code": report["exits"][-1]["code"] if report["exits"] else None,
        "stdout_tail": "",
        "stderr_tail": "",
        "output_bytes": svc.log.total,
        "output_truncated": svc.log.total > limit,
        "timed_out": False,
        "events": svc.events,
    }
    if svc.build_argv:
        out["build_log"] = report["build_log"]
    if svc.build_failed:
        out["build_failed"] = True
        out["exit_code"] = svc.build_exit
    return out


def _unregister(sel: selectors.BaseSelector, stream: Any) -> None:
    with contextlib.suppress(KeyError, ValueError, OSError):
        sel.unregister(stream)


def _read_child(fd: int, child: _Child | None) -> bool:
    """Read what the child wrote; False at the end of its output."""
    try:
        data = os.read(fd, 65536)
    except BlockingIOError:
        return True
    except OSError:
        return False
    if not data:
        return False
    if child is not None:
        child.log.add(data)
    return True


def _accept(listener: socket.socket, sel: selectors.BaseSelector, conns: dict[int, _Conn]) -> None:
    try:
        sock, _ = listener.accept()
    except OSError:
        return
    if len(conns) >= 32:
        sock.close()
        return
    sock.setblocking(False)
    conns[sock.fileno()] = _Conn(sock, time.monotonic())
    sel.register(sock, selectors.EVENT_READ, "conn")


def _drop(sel: selectors.BaseSelector, conns: dict[int, _Conn], fd: int) -> None:
    conn = conns.pop(fd, None)
    if conn is None:
        return
    _unregister(sel, conn.sock)
    conn.sock.close()


def _read_conn(
    sel: selectors.BaseSelector, conns: dict[int, _Conn], fd: int, svc: Service, token: str
) -> None:
    conn = conns.get(fd)
    if conn is None:
        return
    try:
        data = conn.sock.recv(MAX_REQUEST)
    except BlockingIOError:
        return
    except OSError:
        data = b""
    if not data:
        _drop(sel, conns, fd)
        return
    conn.buf += data
    if b"\n" not in conn.buf:
        if len(conn.buf) > MAX_REQUEST:
            _drop(sel, conns, fd)
        return
    line = bytes(conn.buf.split(b"\n", 1)[0])
    reply = json.dumps(_answer(svc, token, line)).encode() + b"\n"
    try:
        conn.sock.setblocking(True)
        conn.sock.settimeout(REQUEST_SECONDS)
        conn.sock.sendall(reply)
    except OSError:
        pass
    _drop(sel, conns, fd)
