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

The worker keeps the objects it hands out in a reference table until the test side
releases them; see rpc_protocol.py for the wire format and rpc_client.py for the
other side. Candidate output goes to the worker's stdout/stderr (inherited), never
to the socket.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
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
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
THIS_FILE = os.path.abspath(__file__)

# Environment variables a worker never inherits (the candidate gets no hint of the
# test run or the grader).
_HIDDEN_ENV_PREFIXES = ("PYTEST", "_PYTEST", "GRADER", "PYTHONBREAKPOINT", "COV_CORE")


def _load_protocol():  # type: ignore[no-untyped-def]
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


class Supervisor:
    """Accept connections; one fresh worker per connection; reap everything."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.path = path
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
                for fd, _events in self.poller.poll(1000):
                    if fd == self.listener.fileno():
                        self.accept()
                    elif fd == self.wake_r.fileno():
                        self._drain_wakeup()
                    elif self.conn is not None and fd == self.conn.fileno():
                        # The test side hung up (or the socket failed): stop the worker.
                        self.stop_worker()
        finally:
            self.stop_worker()
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


def supervise(address: str, path: str) -> int:
    _ensure_std_fds()
    host, port = _parse_address(address)
    path = os.path.realpath(path)
    supervisor = Supervisor(host, port, path)

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
_BINOPS = {
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
_UNOPS = {
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


class Worker:
    """Serves one connection: decode a request, run it, encode the reply."""

    def __init__(self, sock: socket.socket, path: str, proto) -> None:  # type: ignore[no-untyped-def]
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
        )
        self.parent = os.getppid()
        self.ops = {
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
        }

    # -- value hooks --------------------------------------------------------

    def _ref(self, obj: object) -> list:
        return ["r", self.refs.add(obj), self.p._class_attr(type(obj), "__qualname__", "object")]

    def _resolve_ref(self, item: list) -> object:
        return self.refs.get(item[1])

    def _lookup(self, module: str, qualname: str) -> object:
        """An attribute path in an already-imported module (never imports)."""
        obj = sys.modules.get(module)
        if obj is None:
            return None
        for part in qualname.split("."):
            if part == "<locals>":
                return None
            obj = getattr(obj, part, None)
        return obj

    def _resolve_exc_class(self, desc: dict) -> type:
        module, qualname = self.p.exc_class_names(desc)
        if module == "builtins":
            cls = self.p.builtin_exception(qualname)
        else:
            cls = self._lookup(module, qualname)
        if isinstance(cls, type) and issubclass(cls, BaseException):
            return cls
        return Exception

    def _make_exception(self, desc: dict, args, decode) -> BaseException:  # type: ignore[no-untyped-def]
        cls = self._resolve_exc_class(desc.get("c"))  # type: ignore[arg-type]
        message = desc.get("s") if type(desc.get("s")) is str else ""
        return self.p.build_exception(cls, args, message)

    @staticmethod
    def _builtin(name: str) -> object:
        if not name.isidentifier() or not hasattr(builtins, name):
            raise TypeError(f"no builtin called {name!r}")
        return getattr(builtins, name)

    def _namedtuple(self, module: str, qualname: str, fields: tuple, items: tuple) -> object:
        cls = self._lookup(module, qualname)
        if (
            isinstance(cls, type)
            and issubclass(cls, tuple)
            and getattr(cls, "_fields", None) == fields
        ):
            return tuple.__new__(cls, items)
        return items

    # -- operations -----------------------------------------------------------

    def op_hello(self) -> dict:
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

    def op_call(self, fn, args: object = (), kwargs: object = None) -> object:  # type: ignore[no-untyped-def]
        if type(args) is not list or (kwargs is not None and type(kwargs) is not dict):
            raise TypeError("malformed call")
        kw = kwargs or {}
        if not all(type(k) is str for k in kw):
            raise TypeError("keywords must be strings")
        return fn(*args, **kw)

    def op_binop(self, name: object, a: object, b: object) -> object:
        fn = _BINOPS.get(name) if type(name) is str else None
        if fn is None:
            raise TypeError(f"unsupported operation {name!r}")
        result = fn(a, b)
        return bool(result) if name in _COMPARISONS else result

    def op_unop(self, name: object, a: object) -> object:
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

    # -- loop -----------------------------------------------------------------

    def _exception_reply(self, rid: object, exc: BaseException) -> dict:
        tb = exc.__traceback__
        # Drop the worker's own frames: the reviewer wants the candidate's.
        while tb is not None and tb.tb_frame.f_code.co_filename == THIS_FILE:
            tb = tb.tb_next
        try:
            text = "".join(traceback.format_exception(type(exc), exc, tb, limit=-30))[-6000:]
        except Exception:  # candidate __str__ may fail
            text = None
        data_only = self.p.Encoder(self.p._refuse)
        try:
            desc = self.p.describe_exception(exc, data_only.encode, self.encoder.encode, text)
        except Exception:
            desc = {"c": {"m": "builtins", "q": "Exception"}, "a": None, "s": "?", "d": {}}
        return {"i": rid, "x": desc}

    def handle(self, message: dict) -> dict:
        rid = message.get("i")
        for ref in message.get("r") or ():
            self.refs.release(ref)
        op = self.ops.get(message.get("o"))  # type: ignore[arg-type]
        raw_args = message.get("a") or []
        if op is None or type(raw_args) is not list:
            return {"i": rid, "p": f"unknown operation {message.get('o')!r}"}
        try:
            args = [self.decoder.decode(a) for a in raw_args]
        except (_UnknownRef, self.p.ProtocolError) as exc:
            return {"i": rid, "p": str(exc)}
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

    def serve(self) -> None:
        p = self.p
        while True:
            try:
                payload = self.reader.read_frame()
            except (OSError, p.ProtocolError):
                return
            if payload is None:
                return
            try:
                reply = self.handle(p.loads(payload))
            except p.ProtocolError as exc:
                reply = {"i": None, "p": str(exc)}
            try:
                data = p.dumps(reply)
                frame = p.pack_frame(data)
            except p.EncodeError as exc:
                refusal = {"i": reply.get("i"), "p": f"the result cannot be sent: {exc}"}
                frame = p.pack_frame(p.dumps(refusal))
            try:
                self.sock.sendall(frame)
            except OSError:
                return
            if os.getppid() != self.parent:
                return  # the supervisor is gone: nobody would clean up after us


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
        print("usage: rpc_server.py --listen HOST:PORT --path DIR", file=sys.stderr)
        return 2
    return supervise(args["--listen"], args["--path"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
