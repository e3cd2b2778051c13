"""Candidate side of process isolation: serve the submission's modules over a socket.

Standard library only (copied into the sandbox; never imports ``grader`` or
``runners``).

``python3 -I rpc_server.py --listen HOST:PORT --path DIR`` runs the *supervisor*:
it listens on HOST:PORT and, for each connection it accepts, kills the previous
worker (its whole process group) and starts a fresh *worker* (this file again, in
``--worker`` mode) that inherits the accepted socket, runs in DIR with DIR first on
``sys.path``, and serves requests on that socket only. The supervisor never imports
candidate code, reaps every child (it may be a container's init), closes the
connection as soon as its worker dies (so the test side sees the death at once,
even if a grandchild still holds the socket) and kills the worker as soon as the
test side hangs up. It serves new connections until SIGTERM.

The supervisor runs as the same user as the candidate code, so a worker can kill it
(``os.kill(os.getppid(), 9)``): the worker then exits after its current reply, the
port closes, and the test side fails every later test at once with "cannot reach
the candidate process" (after one connect timeout), instead of hanging. In the
sandbox the supervisor is the launcher's command: the launcher sees it exit and
ends the container. When the supervisor is itself PID 1 of a PID namespace, the
kernel ignores that SIGKILL and it keeps serving; replacing a worker then kills
every other process of the namespace too.

Started with ``--secret-fd N`` (the reference solution's server in a performance run;
the secret comes through a pipe, never the environment), the supervisor serves only a
client that proves it holds the secret (``rpc_protocol``: *Authentication*). The proof
is checked here, before the current worker is touched: a connection that fails it is
closed and never disturbs the client being served, so the candidate's code, which
shares the loopback in a performance run, cannot call into the reference solution.

The worker keeps the objects it hands out in a reference table until the test side
releases them; see rpc_protocol.py for the wire format and rpc_client.py for the
other side. Candidate output goes to the worker's stdout/stderr (inherited), never
to the socket.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import gc
import importlib
import importlib.machinery
import importlib.util
import math
import operator
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import types
import weakref
from collections.abc import Callable
from typing import Any, NoReturn, SupportsIndex

HERE = os.path.dirname(os.path.abspath(__file__))
THIS_FILE = os.path.abspath(__file__)

# Environment variables a worker never inherits (the candidate gets no hint of the
# test run or the grader).
_HIDDEN_ENV_PREFIXES = ("PYTEST", "_PYTEST", "GRADER", "PYTHONBREAKPOINT", "COV_CORE")


def _load_protocol() -> Any:
    """rpc_protocol.py from this folder, without putting the folder on sys.path."""
    spec = importlib.util.spec_from_file_location(
        "_grader_rpc_protocol", os.path.join(HERE, "rpc_protocol.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"rpc_server: bad address {text!r} (expected HOST:PORT)")
    return host.strip("[]") or "127.0.0.1", int(port)


def _ensure_std_fds() -> None:
    """Make sure fds 0-2 are open, so no socket can ever land on fd 1 or 2."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


# ---------------------------------------------------------------------------
# supervisor


class _Pending:
    """A connection that has not yet proved it holds the server's secret."""

    def __init__(self, conn: socket.socket, nonce: str, deadline: float) -> None:
        self.conn = conn
        self.nonce = nonce
        self.deadline = deadline
        self.buf = bytearray()


# Connections waiting to authenticate at once; past it the oldest is closed.
MAX_PENDING = 32


class Supervisor:
    """Accept connections; one fresh worker per connection; reap everything."""

    def __init__(self, host: str, port: int, path: str, secret: str | None = None) -> None:
        self.path = path
        self.secret = secret
        self.proto: Any = _load_protocol() if secret is not None else None
        self.pending: dict[int, _Pending] = {}
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.create_server((host, port), family=family, backlog=16)
        self.listener.setblocking(False)
        self.worker: subprocess.Popen[bytes] | None = None
        self.conn: socket.socket | None = None
        self.children: dict[int, subprocess.Popen[bytes]] = {}
        self.poller = select.poll()
        self.poller.register(self.listener, select.POLLIN)
        self.wake_r, self.wake_w = socket.socketpair()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        self.poller.register(self.wake_r, select.POLLIN)
        self.env = {
            k: v for k, v in os.environ.items() if not k.upper().startswith(_HIDDEN_ENV_PREFIXES)
        }

    def serve_forever(self) -> None:
        signal.set_wakeup_fd(self.wake_w.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        try:
            while True:
                self.reap()
                self.expire_pending()
                for fd, _events in self.poller.poll(250 if self.pending else 1000):
                    if fd == self.listener.fileno():
                        self.accept()
                    elif fd == self.wake_r.fileno():
                        self._drain_wakeup()
                    elif fd in self.pending:
                        self.continue_auth(fd)
                    elif self.conn is not None and fd == self.conn.fileno():
                        # The test side hung up (or the socket failed): stop the worker.
                        self.stop_worker()
        finally:
            self.stop_worker()
            for fd in list(self.pending):
                self.drop_pending(fd)
            self.reap()

    def _drain_wakeup(self) -> None:
        try:
            while self.wake_r.recv(4096):
                pass
        except OSError:
            pass

    def accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. the peer reset before we accepted; keep serving
            if self.secret is not None:
                self.begin_auth(conn)
                continue
            self.stop_worker()
            self.start_worker(conn)

    # -- authentication (a server with a secret) --------------------------------

    def begin_auth(self, conn: socket.socket) -> None:
        """Send the challenge; the answer is read as it arrives (never blocking)."""
        p = self.proto
        if len(self.pending) >= MAX_PENDING:
            # The oldest goes: a flood of idle connections cannot keep the tests side
            # out (its proof takes one round trip once it has a slot).
            self.drop_pending(min(self.pending, key=lambda fd: self.pending[fd].deadline))
        nonce = p.new_nonce()
        try:
            conn.settimeout(1.0)
            p.send_frame(conn, p.dumps({"auth": "challenge", "n": nonce}))
            conn.setblocking(False)
        except OSError:
            conn.close()
            return
        self.pending[conn.fileno()] = _Pending(conn, nonce, time.monotonic() + p.AUTH_SECONDS)
        self.poller.register(conn, select.POLLIN | select.POLLRDHUP)

    def drop_pending(self, fd: int) -> None:
        entry = self.pending.pop(fd, None)
        if entry is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self.poller.unregister(entry.conn)
        entry.conn.close()

    def expire_pending(self) -> None:
        now = time.monotonic()
        for fd, entry in list(self.pending.items()):
            if now >= entry.deadline:
                self.drop_pending(fd)

    def continue_auth(self, fd: int) -> None:
        """Read what a pending connection sent; serve it once its proof checks out."""
        p = self.proto
        entry = self.pending[fd]
        try:
            chunk = entry.conn.recv(p.AUTH_FRAME_LIMIT + 8)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        entry.buf += chunk
        if not chunk or len(entry.buf) > p.AUTH_FRAME_LIMIT + 4:
            self.drop_pending(fd)
            return
        if len(entry.buf) < 4:
            return
        size = int.from_bytes(entry.buf[:4], "big")
        if size > p.AUTH_FRAME_LIMIT or len(entry.buf) > 4 + size:
            self.drop_pending(fd)  # too long, or bytes past the answer: out of step
            return
        if len(entry.buf) < 4 + size:
            return
        try:
            answer = p.loads(bytes(entry.buf[4:]))
        except p.ProtocolError:
            answer = {}
        theirs = answer.get("n")
        assert self.secret is not None
        ok = (
            answer.get("auth") == "response"
            and p.valid_nonce(theirs)
            and p.proof_matches(
                p.auth_proof(self.secret, "client", entry.nonce, theirs), answer.get("p")
            )
        )
        if not ok:
            self.drop_pending(fd)
            return
        conn = entry.conn
        self.pending.pop(fd)
        with contextlib.suppress(KeyError, ValueError):
            self.poller.unregister(conn)
        try:
            conn.settimeout(1.0)
            proof = p.auth_proof(self.secret, "server", theirs, entry.nonce)
            p.send_frame(conn, p.dumps({"auth": "ok", "p": proof}))
        except OSError:
            conn.close()
            return
        self.stop_worker()
        self.start_worker(conn)

    def start_worker(self, conn: socket.socket) -> None:
        conn.setblocking(True)
        with contextlib.suppress(OSError):
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = conn.fileno()
        cmd = [sys.executable, "-I", "-u", THIS_FILE, "--worker", "--fd", str(fd)]
        cmd += ["--path", self.path]
        try:
            proc = subprocess.Popen(
                cmd,
                pass_fds=(fd,),
                cwd=self.path,
                env=self.env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            print(f"rpc_server: cannot start a worker: {exc}", file=sys.stderr)
            conn.close()
            return
        self.children[proc.pid] = proc
        self.worker, self.conn = proc, conn
        # Only a hang-up matters here: the worker reads the requests.
        self.poller.register(conn, select.POLLRDHUP)

    def stop_worker(self) -> None:
        worker, conn = self.worker, self.conn
        self.worker = self.conn = None
        if worker is not None:
            self._kill_group(worker.pid)
        if conn is not None:
            with contextlib.suppress(KeyError, ValueError):
                self.poller.unregister(conn)
            # Forces the end of the stream to the test side even when a process
            # the candidate forked still holds a copy of the socket.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    @staticmethod
    def _kill_group(pid: int) -> None:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        if os.getpid() == 1:
            # We are the container's init: nothing else in it may survive a worker.
            with contextlib.suppress(OSError):
                os.kill(-1, signal.SIGKILL)

    def reap(self) -> None:
        """Reap every exited child (workers and orphans re-parented to us)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if pid == 0:
                return
            if os.WIFSTOPPED(status):
                # Only a traced child reports a stop; a worker that stops is of no use.
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                continue
            proc = self.children.pop(pid, None)
            if proc is not None:
                proc.returncode = os.waitstatus_to_exitcode(status)
            if self.worker is not None and pid == self.worker.pid:
                self.stop_worker()


def _read_secret(fd: int) -> str:
    """The secret a pipe holds (read to its end, then closed)."""
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    finally:
        os.close(fd)
    secret = b"".join(chunks).decode("ascii", errors="replace").strip()
    if not secret:
        raise SystemExit("rpc_server: --secret-fd gave an empty secret")
    return secret


def supervise(address: str, path: str, secret_fd: int | None = None) -> int:
    _ensure_std_fds()
    secret = _read_secret(secret_fd) if secret_fd is not None else None
    host, port = _parse_address(address)
    path = os.path.realpath(path)
    supervisor = Supervisor(host, port, path, secret)

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    # The launcher interrupts its command's process group at the deadline; a worker
    # (in its own session) cannot reach us with these either way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    supervisor.serve_forever()
    return 0


# ---------------------------------------------------------------------------
# worker


class _UnknownRef(Exception):
    pass


class RefTable:
    """Objects handed to the test side, by reference id (one id per live object)."""

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}
        self.next_id = 1

    def add(self, obj: object) -> int:
        rid = self.ids.get(id(obj))
        if rid is not None:
            return rid
        rid = self.next_id
        self.next_id += 1
        self.objects[rid] = obj
        self.ids[id(obj)] = rid
        return rid

    def get(self, rid: int) -> object:
        try:
            return self.objects[rid]
        except KeyError:
            raise _UnknownRef(
                f"unknown remote reference {rid} (already released, or from an earlier worker)"
            ) from None

    def release(self, rid: object) -> None:
        if type(rid) is not int:
            return
        obj = self.objects.pop(rid, None)
        if obj is not None and self.ids.get(id(obj)) == rid:
            del self.ids[id(obj)]


_COMPARISONS = {"eq", "ne", "lt", "le", "gt", "ge"}
_BINOPS: dict[str, Callable[[Any, Any], object]] = {
    name: getattr(operator, name)
    for name in [
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
        "add",
        "sub",
        "mul",
        "truediv",
        "floordiv",
        "mod",
        "pow",
        "matmul",
        "and_",
        "or_",
        "xor",
        "lshift",
        "rshift",
        "iadd",
        "isub",
        "imul",
        "itruediv",
        "ifloordiv",
        "imod",
        "ipow",
        "imatmul",
        "iand",
        "ior",
        "ixor",
        "ilshift",
        "irshift",
    ]
}
_BINOPS["divmod"] = divmod
_UNOPS: dict[str, Callable[[Any], object]] = {
    "neg": operator.neg,
    "pos": operator.pos,
    "abs": operator.abs,
    "invert": operator.invert,
    "int": int,
    "float": float,
    "complex": complex,
    "index": operator.index,
    "trunc": math.trunc,
    "floor": math.floor,
    "ceil": math.ceil,
    "reversed": reversed,
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
}


# Dunders read as data from the test side (functools.wraps, logging, reprs...).
_META_NAMES = frozenset({"__name__", "__qualname__"})
# Dunders that reach an object's internals: asking for one sends the request to the
# test side, which refuses it and records the attempt. Other dunders the proxy does
# not have (``hasattr(obj, "__iter__")`` and the like: duck typing) are answered here.
_INTERNALS = frozenset(
    {
        "__globals__", "__code__", "__closure__", "__func__", "__self__", "__dict__",
        "__builtins__", "__defaults__", "__kwdefaults__", "__subclasses__",
        "__mro__", "__bases__", "__base__", "__traceback__", "__context__", "__cause__",
        "__objclass__", "__spec__", "__loader__", "__file__", "__path__", "__getstate__",
        "__set_name__", "__init_subclass__", "__weakref__", "__slots__", "__origin__",
    }
)  # fmt: skip
# Where the standard library lives: its probes (``inspect.signature`` reads
# ``__code__``, ``functools.wraps`` reads ``__dict__``...) are answered here.
_STDLIB = os.path.dirname(os.__file__) + os.sep
_NOT_WAITING = (
    "grader: a test-side object can only be used while the test is calling the "
    "candidate's code (from that call, or a thread it waits for); the test that "
    "passed it has moved on"
)


def _called_from_stdlib() -> bool:
    """True when the attribute lookup in progress was made by standard-library code
    (a probe with a default), not by the candidate's own code."""
    frame = sys._getframe(2)
    filename = frame.f_code.co_filename
    return filename.startswith(_STDLIB) and "site-packages" not in filename


class TestObject:
    """A proxy for an object the test passed to the candidate's code: it stays in the
    test process, and what the candidate's code does with it runs there (within
    the rules of the test side, which refuses and records anything else)."""

    __slots__ = ("_grader_worker", "_grader_qid", "_grader_type", "__weakref__")
    _grader_worker: Worker
    _grader_qid: int
    _grader_type: str

    def __init__(self) -> None:
        raise TypeError("test-side objects come from the test process")

    def _grader(self, op: str, *args: object) -> object:
        return self._grader_worker.reverse(op, self, *args)

    def __del__(self) -> None:
        try:  # noqa: SIM105 - (cheaper than contextlib.suppress)
            self._grader_worker.q_released.append(self._grader_qid)
        except Exception:  # interpreter shutdown, half-built proxy
            pass

    def __getattr__(self, name: str) -> object:
        if name.startswith("_grader_"):
            raise AttributeError(name)
        if name in _META_NAMES:
            return self._grader("meta", name)
        if name.startswith("_") and (
            (name.endswith("__") and name not in _INTERNALS) or _called_from_stdlib()
        ):
            raise AttributeError(
                f"grader: {name!r} of a test-side {self._grader_type} is not available"
            )
        return self._grader("getattr", name)

    def _meta_doc(self) -> object:
        return self._grader("meta", "__doc__")

    def _meta_module(self) -> object:
        return self._grader("meta", "__module__")

    __doc__ = property(_meta_doc)
    __module__ = property(_meta_module)

    def __setattr__(self, name: str, value: object) -> None:
        self._grader("setattr", name, value)

    def __delattr__(self, name: str) -> None:
        self._grader("delattr", name)

    def __repr__(self) -> str:
        text = self._grader("repr")
        if type(text) is not str:
            raise TypeError("repr() of a test-side object must be a str")
        return text

    def __str__(self) -> str:
        text = self._grader("str")
        if type(text) is not str:
            raise TypeError("str() of a test-side object must be a str")
        return text

    def __format__(self, spec: str) -> str:
        text = self._grader("format", spec)
        if type(text) is not str:
            raise TypeError("format() of a test-side object must be a str")
        return text

    def __hash__(self) -> int:
        value = self._grader("hash")
        if type(value) is not int:
            raise TypeError("hash() of a test-side object must be an int")
        return value

    def __copy__(self) -> TestObject:
        return self  # a reference: copies refer to the same test-side object

    def __deepcopy__(self, memo: object) -> TestObject:
        return self

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise TypeError(f"cannot pickle a reference to a test-side {self._grader_type}")


def _compare(name: str) -> Callable[[TestObject, object], object]:
    def compare(self: TestObject, other: object) -> object:
        try:
            return self._grader_worker.reverse("cmp", name, self, other)
        except _CannotSend:
            return NotImplemented

    compare.__name__ = f"__{name}__"
    return compare


for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    setattr(TestObject, f"__{_name}__", _compare(_name))


def _t_call(self: TestObject, *args: object, **kwargs: object) -> object:
    return self._grader("call", list(args), kwargs)


_t_call.__annotations__ = {}  # inspect.signature(proxy) shows (*args, **kwargs)


def _t_iter(self: TestObject) -> object:
    return self._grader("iter")


def _t_next(self: TestObject) -> object:
    return self._grader("next")


def _t_len(self: TestObject) -> int:
    value = self._grader("len")
    if type(value) is not int:
        raise TypeError("len() of a test-side object must be an int")
    return value


def _t_contains(self: TestObject, item: object) -> bool:
    return bool(self._grader("contains", item))


def _t_getitem(self: TestObject, key: object) -> object:
    return self._grader("getitem", key)


def _t_bool(self: TestObject) -> bool:
    value = self._grader("bool")
    if type(value) is not bool:
        raise TypeError("bool() of a test-side object must be a bool")
    return value


def _t_enter(self: TestObject) -> object:
    return self._grader("enter")


def _t_exit(self: TestObject, exc_type: object, exc: object, tb: object) -> bool:
    return bool(self._grader("exit", exc if isinstance(exc, BaseException) else None))


_OPTIONAL = (
    ("REF_CALL", {"__call__": _t_call}),
    ("REF_ITER", {"__iter__": _t_iter}),
    ("REF_NEXT", {"__next__": _t_next}),
    ("REF_LEN", {"__len__": _t_len}),
    ("REF_CONTAINS", {"__contains__": _t_contains}),
    ("REF_GETITEM", {"__getitem__": _t_getitem}),
    ("REF_BOOL", {"__bool__": _t_bool}),
    ("REF_WITH", {"__enter__": _t_enter, "__exit__": _t_exit}),
)
_PROXY_CLASSES: dict[int, type[TestObject]] = {}


def _proxy_class(proto: Any, flags: int) -> type[TestObject]:
    """The proxy class with just the protocols the test-side object has."""
    cls = _PROXY_CLASSES.get(flags)
    if cls is None:
        # (the class's own __doc__ and __module__ would hide the forwarding properties)
        members: dict[str, object] = {
            "__slots__": (),
            "__doc__": TestObject.__dict__["__doc__"],
            "__module__": TestObject.__dict__["__module__"],
        }
        for flag_name, methods in _OPTIONAL:
            if flags & getattr(proto, flag_name):
                members.update(methods)
        if not flags & proto.REF_HASH:
            members["__hash__"] = None
        cls = type("TestObject", (TestObject,), members)
        _PROXY_CLASSES[flags] = cls
    return cls


class _CannotSend(TypeError):
    """A value the candidate's code passes to a test-side object cannot cross."""


class _Staged:
    """A benchmark's arguments, kept here so that a timed crossing carries none."""

    __slots__ = ("args", "kwargs", "last")

    def __init__(self, args: list[object], kwargs: dict[str, object]) -> None:
        self.args = args
        self.kwargs = kwargs
        self.last: object = None


class Worker:
    """Serves one connection: decode a request, run it, encode the reply; and sends
    the candidate code's requests on test-side objects, serving the test side's
    nested requests while it waits for their replies.

    The channel lock is held while a thread reads or writes frames, never while
    candidate code runs, so another thread of the candidate's code may use a
    test-side object while the test waits for the call that started it.
    """

    def __init__(self, sock: socket.socket, path: str, proto: Any) -> None:
        self.sock = sock
        self.reader = proto.FrameReader(sock)
        self.path = path
        self.p = proto
        self.refs = RefTable()
        self.encoder = proto.Encoder(self._ref)
        self.decoder = proto.Decoder(
            self._resolve_ref,
            self._resolve_exc_class,
            self._make_exception,
            self._namedtuple,
            self._builtin,
            on_test_ref=self._test_ref,
        )
        self.parent = os.getppid()
        self.exc_classes: dict[tuple[str, str], type] = {}
        # the channel, shared by the candidate's threads
        self.channel = threading.Lock()
        self.state = threading.Lock()
        self.serving = 0  # requests of the test side being run (the test waits)
        self.epoch = 0  # counts the test side's outermost requests
        self.depth = 0  # requests outstanding, both directions
        self.next_rid = 1
        # references to test-side objects
        self.q_lock = threading.Lock()
        self.q_proxies: weakref.WeakValueDictionary[int, TestObject] = weakref.WeakValueDictionary()
        self.q_counts: dict[int, int] = {}
        self.q_released: list[int] = []
        self.q_ready: list[int] = []
        self.ops: dict[str, Callable[..., object]] = {
            "hello": self.op_hello,
            "ping": lambda: None,
            "import": self.op_import,
            "getattr": self.op_getattr,
            "setattr": self.op_setattr,
            "delattr": self.op_delattr,
            "call": self.op_call,
            "str": str,
            "repr": repr,
            "len": len,
            "bool": bool,
            "hash": hash,
            "iter": iter,
            "next": next,
            "dir": lambda obj: [str(name) for name in dir(obj)],
            "format": format,
            "round": lambda obj, ndigits=None: round(obj, ndigits),
            "getitem": operator.getitem,
            "setitem": operator.setitem,
            "delitem": operator.delitem,
            "contains": operator.contains,
            "binop": self.op_binop,
            "unop": self.op_unop,
            "enter": self.op_enter,
            "exit": self.op_exit,
            "exports": self.op_exports,
            "isinstance": lambda obj, cls: bool(isinstance(obj, cls)),
            "issubclass": lambda sub, cls: bool(issubclass(sub, cls)),
            "perf_stage": self.op_perf_stage,
            "perf_run": self.op_perf_run,
            "perf_result": self.op_perf_result,
        }

    # -- value hooks --------------------------------------------------------

    def _ref(self, obj: object) -> list[object]:
        if isinstance(obj, TestObject):
            return ["q", object.__getattribute__(obj, "_grader_qid")]
        return ["r", self.refs.add(obj), self.p._class_attr(type(obj), "__qualname__", "object")]

    def _resolve_ref(self, item: list[Any]) -> object:
        return self.refs.get(item[1])

    def _test_ref(self, item: list[Any]) -> TestObject:
        qid = item[1]
        type_name = item[2][:200] if len(item) > 2 and type(item[2]) is str else "object"
        flags = item[3] if len(item) > 3 and type(item[3]) is int else 0
        with self.q_lock:
            proxy = self.q_proxies.get(qid)
            if proxy is None:
                proxy = _proxy_class(self.p, flags).__new__(_proxy_class(self.p, flags))
                set_ = object.__setattr__
                set_(proxy, "_grader_worker", self)
                set_(proxy, "_grader_qid", qid)
                set_(proxy, "_grader_type", type_name)
                self.q_proxies[qid] = proxy
                # One count per live proxy: its death (``__del__``) takes it back.
                self.q_counts[qid] = self.q_counts.get(qid, 0) + 1
        return proxy

    def _take_q_releases(self) -> list[int]:
        with self.q_lock:
            count = len(self.q_released)
            batch = self.q_released[:count]
            del self.q_released[:count]
            out, self.q_ready = self.q_ready, []
            for qid in batch:
                left = self.q_counts.get(qid, 0) - 1
                if left > 0:
                    self.q_counts[qid] = left
                else:
                    self.q_counts.pop(qid, None)
                    out.append(qid)
        return out

    def _lookup(self, module: str, qualname: str) -> object:
        """An attribute path in an already-imported module (never imports)."""
        obj: object = sys.modules.get(module)
        if obj is None:
            return None
        for part in qualname.split("."):
            if part == "<locals>":
                return None
            obj = getattr(obj, part, None)
        return obj

    def _resolve_exc_class(self, desc: dict[str, Any], _depth: int = 0) -> type:
        module, qualname = self.p.exc_class_names(desc)
        if module == "builtins":
            cls = self.p.builtin_exception(qualname)
            return cls if isinstance(cls, type) else Exception
        cls = self._lookup(module, qualname)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return cls
        if module in sys.modules:
            return Exception
        # A class of the test side (a test module's own exception): one local class
        # per name, on the same bases, so ``except`` clauses in the candidate's code
        # tell it apart from others.
        key = (module, qualname)
        made = self.exc_classes.get(key)
        if made is not None:
            return made
        bases: list[type] = []
        raw_bases = desc.get("b") if _depth < 30 else None
        for base_desc in raw_bases if type(raw_bases) is list else ():
            base = self._resolve_exc_class(base_desc, _depth + 1)
            if base not in bases:
                bases.append(base)
        name = qualname.rpartition(".")[2]
        namespace = {"__module__": module, "__qualname__": qualname}
        for attempt in (tuple(bases[:8]), tuple(bases[:1]), (Exception,)):
            try:
                made = type(name if name.isidentifier() else "TestError", attempt, namespace)
                break
            except TypeError:  # layout conflict, inconsistent MRO, no bases
                continue
        assert made is not None
        self.exc_classes[key] = made
        return made

    def _make_exception(
        self, desc: dict[str, Any], args: tuple[object, ...] | None, decode: object
    ) -> BaseException:
        cls = self._resolve_exc_class(desc.get("c"))  # type: ignore[arg-type]
        message = desc.get("s") if type(desc.get("s")) is str else ""
        exc: BaseException = self.p.build_exception(cls, args, message)
        origin = desc.get("o")
        if type(origin) is int:
            with contextlib.suppress(Exception):
                BaseException.__dict__["__dict__"].__get__(exc)["_grader_origin"] = origin
        return exc

    @staticmethod
    def _builtin(name: str) -> object:
        if not name.isidentifier() or not hasattr(builtins, name):
            raise TypeError(f"no builtin called {name!r}")
        return getattr(builtins, name)

    def _namedtuple(
        self, module: str, qualname: str, fields: tuple[str, ...], items: tuple[object, ...]
    ) -> object:
        cls = self._lookup(module, qualname)
        if (
            isinstance(cls, type)
            and issubclass(cls, tuple)
            and getattr(cls, "_fields", None) == fields
        ):
            return tuple.__new__(cls, items)
        return items

    # -- operations -----------------------------------------------------------

    def op_hello(self) -> dict[str, object]:
        return {"version": self.p.PROTOCOL_VERSION, "pid": os.getpid()}

    def _under_path(self, module: object) -> bool:
        spec = getattr(module, "__spec__", None)
        if spec is None:
            return False
        places = list(spec.submodule_search_locations or [])
        if spec.origin and spec.has_location:
            places.append(spec.origin)
        if not places:
            return False
        root = self.path.rstrip(os.sep) + os.sep
        return all(os.path.realpath(p).startswith(root) for p in places)

    def op_import(self, name: object) -> object:
        if not self.p.valid_dotted(name):
            raise ImportError(f"invalid module name {name!r}")
        assert isinstance(name, str)
        top = name.partition(".")[0]
        if importlib.machinery.PathFinder.find_spec(top, [self.path]) is None:
            raise ModuleNotFoundError(f"No module named {top!r} in the submission", name=top)
        loaded = sys.modules.get(top)
        if loaded is not None and not self._under_path(loaded):
            raise ImportError(
                f"module {top!r} of the submission is shadowed by a standard module", name=top
            )
        module = importlib.import_module(name)
        if not self._under_path(sys.modules.get(top)):
            raise ImportError(f"module {top!r} is not a module of the submission", name=top)
        return module

    @staticmethod
    def op_exports(module: object) -> list[str]:
        """What ``from module import *`` takes when the module has no ``__all__``:
        its public names, less modules and the classes and functions it imported
        from outside the submission (so a star import cannot replace the test's own
        ``os`` or ``OrderedDict`` with remote ones)."""
        if not isinstance(module, types.ModuleType):
            raise TypeError("exports() needs a module")
        top = module.__name__.partition(".")[0]
        names = []
        for name, value in list(vars(module).items()):
            if type(name) is not str or name.startswith("_") or isinstance(value, types.ModuleType):
                continue
            if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType)):
                owner = getattr(value, "__module__", None)
                if not isinstance(owner, str) or owner.partition(".")[0] != top:
                    continue
            names.append(name)
        return names

    @staticmethod
    def _name(name: object) -> str:
        if type(name) is not str:
            raise TypeError("attribute name must be a string")
        return name

    def op_getattr(self, obj: object, name: object) -> object:
        return getattr(obj, self._name(name))

    def op_setattr(self, obj: object, name: object, value: object) -> None:
        setattr(obj, self._name(name), value)

    def op_delattr(self, obj: object, name: object) -> None:
        delattr(obj, self._name(name))

    @staticmethod
    def op_call(fn: Any, args: object = (), kwargs: object = None) -> object:
        if type(args) is not list or (kwargs is not None and type(kwargs) is not dict):
            raise TypeError("malformed call")
        kw: dict[Any, Any] = kwargs or {}
        if not all(type(k) is str for k in kw):
            raise TypeError("keywords must be strings")
        return fn(*args, **kw)

    @staticmethod
    def op_perf_stage(args: object, kwargs: object = None) -> _Staged:
        if type(args) is not list or (kwargs is not None and type(kwargs) is not dict):
            raise TypeError("malformed benchmark arguments")
        kw: dict[str, object] = kwargs or {}
        if not all(type(k) is str for k in kw):
            raise TypeError("keywords must be strings")
        return _Staged(args, kw)

    def op_perf_run(self, fn: Any, staged: object, k: object) -> None:
        """Call ``fn`` ``k`` times with the staged arguments; only completion is told
        (the test side times the crossing)."""
        if type(staged) is not _Staged:
            raise TypeError("perf_run needs staged arguments")
        if type(k) is not int or not 0 <= k <= self.p.MAX_BENCH_CALLS:
            raise ValueError("perf_run needs a call count")
        args, kwargs = staged.args, staged.kwargs
        result = None
        # As timeit does: a collection's cost grows with everything alive in the
        # process (the staged input too), which is not the code's own growth.
        collecting = gc.isenabled()
        gc.disable()
        try:
            for _ in range(k):
                result = fn(*args, **kwargs)
        finally:
            if collecting:
                gc.enable()
        if k:
            staged.last = result

    @staticmethod
    def op_perf_result(staged: object) -> object:
        if type(staged) is not _Staged:
            raise TypeError("perf_result needs staged arguments")
        return staged.last

    @staticmethod
    def op_binop(name: object, a: object, b: object) -> object:
        fn = _BINOPS.get(name) if type(name) is str else None
        if fn is None:
            raise TypeError(f"unsupported operation {name!r}")
        result = fn(a, b)
        return bool(result) if name in _COMPARISONS else result

    @staticmethod
    def op_unop(name: object, a: object) -> object:
        fn = _UNOPS.get(name) if type(name) is str else None
        if fn is None:
            raise TypeError(f"unsupported operation {name!r}")
        return fn(a)

    @staticmethod
    def op_enter(obj: object) -> object:
        try:
            enter = type(obj).__enter__  # type: ignore[attr-defined]
        except AttributeError:
            raise TypeError(
                f"{type(obj).__name__!r} object does not support the context manager protocol"
            ) from None
        return enter(obj)

    @staticmethod
    def op_exit(obj: object, exc: object = None) -> bool:
        exit_ = type(obj).__exit__  # type: ignore[attr-defined]
        if isinstance(exc, BaseException):
            return bool(exit_(obj, type(exc), exc, None))
        return bool(exit_(obj, None, None, None))

    # -- requests of the test side ----------------------------------------------

    def _exception_reply(self, rid: object, exc: BaseException) -> dict[str, object]:
        tb = exc.__traceback__
        # Drop the worker's own frames: the reviewer wants the candidate's.
        while tb is not None and tb.tb_frame.f_code.co_filename == THIS_FILE:
            tb = tb.tb_next
        try:
            text = "".join(traceback.format_exception(type(exc), exc, tb, limit=-30))[-6000:]
        except Exception:  # candidate __str__ may fail
            text = None
        try:
            desc = self.p.describe_exception(exc, self.p.data_only, self.encoder.encode, text)
        except Exception:
            desc = {"c": {"m": "builtins", "q": "Exception"}, "a": None, "s": "?", "d": {}}
        try:
            origin = BaseException.__dict__["__dict__"].__get__(exc).get("_grader_origin")
        except Exception:
            origin = None
        if type(origin) is int:
            desc["o"] = origin
        return {"i": rid, "x": desc}

    def handle(self, message: dict[str, Any]) -> dict[str, object]:
        rid = message.get("i")
        op = self.ops.get(message.get("o"))  # type: ignore[arg-type]
        raw_args = message.get("a") or []
        try:
            if op is None or type(raw_args) is not list:
                return {"i": rid, "p": f"unknown operation {message.get('o')!r}"}
            try:
                args = [self.decoder.decode(a) for a in raw_args]
            except (_UnknownRef, self.p.ProtocolError) as exc:
                return {"i": rid, "p": str(exc)}
        finally:
            # A message's releases apply once its values are decoded.
            for ref in message.get("r") or ():
                self.refs.release(ref)
        try:
            result = op(*args)
        except BaseException as exc:  # whatever the candidate raised crosses as data
            try:
                return self._exception_reply(rid, exc)
            finally:
                del exc
        try:
            return {"i": rid, "v": self.encoder.encode(result)}
        except self.p.EncodeError as exc:
            return {"i": rid, "p": f"the result cannot be sent: {exc}"}
        except RecursionError:
            return {"i": rid, "p": "the result cannot be sent: nested too deeply"}

    # -- the channel ------------------------------------------------------------

    def _lost(self) -> NoReturn:
        """The test side hung up or broke the protocol: nothing is left to serve."""
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(0)

    def _read(self) -> dict[str, Any] | None:
        """The next message (a refusal reply is sent for a malformed one)."""
        p = self.p
        while True:
            try:
                payload = self.reader.read_frame()
            except (OSError, p.ProtocolError):
                return None
            if payload is None:
                return None
            try:
                message: dict[str, Any] = p.loads(payload)
                return message
            except p.ProtocolError as exc:
                if not self._send({"i": None, "p": str(exc)}):
                    return None

    def _send(self, message: dict[str, Any], request: bool = False) -> bool:
        p = self.p
        releases = self._take_q_releases()
        if releases:
            message["r"] = releases
        try:
            frame = p.pack_frame(p.dumps(message))
        except p.EncodeError as exc:
            if request:
                with self.q_lock:
                    self.q_ready.extend(releases)
                raise _CannotSend(f"cannot pass these values to the test side: {exc}") from None
            refusal = {"i": message.get("i"), "p": f"the result cannot be sent: {exc}"}
            if releases:
                refusal["r"] = releases
            frame = p.pack_frame(p.dumps(refusal))
        try:
            self.sock.sendall(frame)
        except OSError:
            return False
        return True

    def _answer(self, message: dict[str, Any]) -> bool:
        """Run one request of the test side (channel lock held on entry and exit,
        released while the candidate's code runs) and send its reply."""
        self.depth += 1
        with self.state:
            self.serving += 1
            if self.depth == 1:
                self.epoch += 1
        self.channel.release()
        try:
            if self.depth > self.p.MAX_NESTING:
                reply = self._exception_reply(
                    message.get("i"),
                    RecursionError(
                        f"more than {self.p.MAX_NESTING} calls nested between the tests and "
                        "the candidate's code"
                    ),
                )
            else:
                reply = self.handle(message)
        finally:
            self.channel.acquire()
            with self.state:
                self.serving -= 1
            self.depth -= 1
        return self._send(reply)

    def serve(self) -> None:
        self.channel.acquire()
        while True:
            message = self._read()
            if message is None or "o" not in message:
                return  # hung up, or a reply nobody asked for: out of step
            if not self._answer(message):
                return
            if os.getppid() != self.parent:
                return  # the supervisor is gone: nobody would clean up after us

    def reverse(self, op: str, *args: object) -> object:
        """Run ``op`` on a test-side object (the first of ``args``, or of the
        comparison's operands) in the test process, and return its result."""
        p = self.p
        try:
            encoded = [self.encoder.encode(a) for a in args]
        except (p.EncodeError, RecursionError) as exc:
            raise _CannotSend(f"cannot pass this value to a test-side object: {exc}") from None
        with self.state:
            if self.serving == 0:
                raise RuntimeError(_NOT_WAITING)
            epoch = self.epoch
        self.channel.acquire()
        try:
            with self.state:
                if self.serving == 0 or self.epoch != epoch:
                    raise RuntimeError(_NOT_WAITING)
            if self.depth >= p.MAX_NESTING:
                raise RecursionError(
                    f"more than {p.MAX_NESTING} calls nested between the tests and the "
                    "candidate's code"
                )
            rid = self.next_rid
            self.next_rid += 1
            if not self._send({"i": rid, "o": op, "a": encoded}, request=True):
                self._lost()
            self.depth += 1
            try:
                while True:
                    reply = self._read()
                    if reply is None:
                        self._lost()
                    if "o" in reply:
                        if not self._answer(reply):
                            self._lost()
                        continue
                    if reply.get("i") != rid:
                        self._lost()
                    break
            finally:
                self.depth -= 1
        finally:
            self.channel.release()
        try:
            return self._reverse_result(reply)
        finally:
            # A message's releases apply once its values are decoded.
            for ref in reply.get("r") or ():
                self.refs.release(ref)

    def _reverse_result(self, reply: dict[str, Any]) -> object:
        p = self.p
        try:
            if "v" in reply:
                return self.decoder.decode(reply["v"])
            if "x" in reply and type(reply["x"]) is dict:
                exc = self.decoder.decode(["x", reply["x"]])
            else:
                exc = None
        except (p.ProtocolError, _UnknownRef) as perr:
            raise RuntimeError(f"grader: the test side sent a malformed reply ({perr})") from None
        if isinstance(exc, BaseException):
            raise exc
        text = reply.get("p")
        raise RuntimeError(f"grader: the test side could not complete the request: {text}")


def work(fd: int, path: str) -> None:
    sys.dont_write_bytecode = True
    _ensure_std_fds()
    if fd <= 2:  # never leave the channel where candidate output goes
        channel = os.dup(fd)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, fd)
        os.close(null)
        fd = channel
    proto = _load_protocol()
    path = os.path.realpath(path)
    os.chdir(path)
    sys.path[:] = [path] + [p for p in sys.path if p and os.path.realpath(p) != HERE]
    sock = socket.socket(fileno=fd)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Worker(sock, path, proto).serve()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    # Skip atexit handlers and non-daemon threads the candidate may have left.
    os._exit(0)


def main(argv: list[str]) -> int:
    args = dict(zip(argv[0::2], argv[1::2], strict=False))
    if argv and argv[0] == "--worker":
        rest = argv[1:]
        opts = dict(zip(rest[0::2], rest[1::2], strict=False))
        work(int(opts["--fd"]), opts["--path"])
        return 0
    if "--listen" not in args or "--path" not in args:
        print("usage: rpc_server.py --listen HOST:PORT --path DIR [--secret-fd N]", file=sys.stderr)
        return 2
    secret_fd = args.get("--secret-fd")
    if secret_fd is not None and not secret_fd.isdigit():
        print("rpc_server: --secret-fd needs a file descriptor number", file=sys.stderr)
        return 2
    return supervise(
        args["--listen"], args["--path"], int(secret_fd) if secret_fd is not None else None
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
