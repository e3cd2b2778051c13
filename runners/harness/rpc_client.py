"""Test side of process isolation: a pytest plugin that imports the submission remotely.

Load with ``-p rpc_client`` (this folder on sys.path) and
``--rpc-address HOST:PORT --rpc-modules mod1,mod2``. Standard library and pytest
only; never imports ``grader`` or ``runners``.

On configure a finder goes first on ``sys.meta_path``: ``import mod1`` (and
``mod1.sub``) then gives a *proxy module* whose attributes are read from the
candidate process (rpc_server.py) over one TCP connection. What comes back is
either data — exact builtin values, built here from JSON, so no candidate code ever
runs in this process — or a *proxy* for an object that stays in the candidate
process. Proxies forward attribute access, calls, ``str``/``repr``/``len``/
iteration/item access/``with``/arithmetic and comparisons; comparing a proxy with
local data by ``==`` is always False (``!=`` always True) without asking the
candidate, and every comparison result is checked to be a real ``bool``.
Exceptions raised by candidate code are rebuilt here: builtin exceptions as
themselves, the candidate's own classes as local classes made once per
(module, qualname) on top of the matching builtin bases (so ``pytest.raises``
works), never as anything pytest treats specially (skips, exits, interrupts).

When the candidate process dies (exit, kill, out of memory, stack overflow) or a
call is interrupted (per-call timeout, pytest-timeout), the current test fails with
``CandidateProcessDied`` and the next use reconnects: the supervisor then starts a
fresh worker. Proxies from the dead worker raise ``StaleReference``, except those
reached by attribute path from a module (``from mod import Cls``), which are looked
up again by that path.
"""

from __future__ import annotations

import builtins
import collections
import collections.abc
import contextlib
import importlib.machinery
import select
import socket
import sys
import time
import types
import weakref
from collections.abc import Iterator, Mapping

import pytest
import rpc_protocol as P

__all__ = [
    "CandidateError",
    "CandidateProcessDied",
    "CandidateUnavailable",
    "CandidateProtocolError",
    "CandidateRequestRefused",
    "StaleReference",
    "CannotTransfer",
    "CandidateStopIteration",
    "CandidateInterrupt",
    "RemoteObject",
    "RemoteModule",
    "Connection",
    "RemoteFinder",
]


# ---------------------------------------------------------------------------
# errors


class CandidateError(Exception):
    """The candidate process could not serve a request (not an error of its code)."""


class CandidateProcessDied(CandidateError):
    """The connection to the candidate process broke during a call."""


class CandidateUnavailable(CandidateError):
    """No candidate process answered at the address."""


class CandidateProtocolError(CandidateProcessDied):
    """The candidate process sent something that is not a valid reply."""


class CandidateRequestRefused(CandidateError):
    """The candidate process refused a request (e.g. a result too large to send)."""


class StaleReference(CandidateError):
    """A proxy whose object lived in a candidate process that has since been replaced."""


class CannotTransfer(TypeError):
    """A local value that cannot be passed to candidate code."""


class CandidateStopIteration(RuntimeError):
    """Candidate code raised StopIteration outside of ``next()`` (it must not end a
    loop of the test's own)."""


class CandidateInterrupt(Exception):
    """Candidate code raised KeyboardInterrupt or GeneratorExit (they must not
    interrupt the test run)."""


_SUBSTITUTES = {KeyboardInterrupt: CandidateInterrupt, GeneratorExit: CandidateInterrupt}
# Standard-library modules whose exceptions pytest or unittest give a meaning.
_NEVER_REAL = frozenset({"unittest", "bdb", "pdb", "doctest", "builtins", "importlib"})
# Module dunders that are looked up remotely; the import system and inspect probe
# the others (``__file__``...), which must not cost a round trip or fail remotely.
_MODULE_REMOTE_DUNDERS = frozenset({"__all__", "__version__", "__author__", "__doc__"})
_MAX_PATH = 8


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _remote_exc_str(self: BaseException) -> str:
    message = self.__dict__.get("_grader_message")
    return message if type(message) is str else BaseException.__str__(self)


# ---------------------------------------------------------------------------
# the connection


class Connection:
    """One connection to the candidate supervisor, reopened after a failure.

    Each (re)connection is a new *generation*: the worker behind it is fresh, and
    references from earlier generations are stale.
    """

    def __init__(
        self,
        address: str,
        modules: tuple[str, ...] = (),
        connect_timeout: float = 10.0,
        call_timeout: float | None = None,
    ) -> None:
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"bad --rpc-address {address!r} (expected HOST:PORT)")
        self.address = (host.strip("[]") or "127.0.0.1", int(port))
        self.modules = frozenset(modules)
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout or None
        self.sock: socket.socket | None = None
        self.reader: P.FrameReader | None = None
        self.generation = 0
        self.next_id = 1
        self.worker_pid: int | None = None
        self.connect_failures = 0
        self.closed = False
        # generation, ref id of proxies that died; sent with the next request
        self.released: list[tuple[int, int]] = []
        self.refcounts: dict[int, int] = {}
        self.proxies: weakref.WeakValueDictionary[int, RemoteObject] = weakref.WeakValueDictionary()
        self.exc_classes: dict[tuple[str, str], type] = {}
        self.nt_classes: dict[tuple[str, str, tuple[str, ...]], type] = {}
        self.encoder = P.Encoder(self._encode_other)
        self.decoder = P.Decoder(
            self._on_ref,
            self._on_exc_class,
            self._on_exception,
            self._on_namedtuple,
            self._on_builtin,
        )

    # -- connecting -------------------------------------------------------

    def connect(self) -> None:
        if self.closed:
            raise CandidateUnavailable("the connection to the candidate process is closed")
        self.drop()
        # The candidate container may start a moment after the tests; once it has
        # failed to answer, later attempts give up quickly instead of stalling
        # every remaining test.
        budget = self.connect_timeout if self.connect_failures == 0 else 1.0
        deadline = time.monotonic() + budget
        last: Exception | None = None
        while True:
            try:
                sock = socket.create_connection(self.address, timeout=max(0.2, budget))
                break
            except OSError as exc:
                last = exc
            if time.monotonic() >= deadline:
                self.connect_failures += 1
                raise CandidateUnavailable(
                    f"cannot reach the candidate process at {self.address[0]}:{self.address[1]}"
                    f" ({last}); it did not start or it has exited"
                )
            time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(self.call_timeout)
        self.sock, self.reader = sock, P.FrameReader(sock)
        self.generation += 1
        self.released = []
        self.refcounts = {}
        self.proxies = weakref.WeakValueDictionary()
        hello = self.call("hello")
        if type(hello) is not dict or hello.get("version") != P.PROTOCOL_VERSION:
            self.drop()
            raise CandidateProtocolError("the candidate process speaks another protocol")
        pid = hello.get("pid")
        self.worker_pid = pid if type(pid) is int else None
        self.connect_failures = 0

    def drop(self) -> None:
        """Forget the current connection (its worker is killed by the supervisor)."""
        sock, self.sock, self.reader = self.sock, None, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.drop()
        self.closed = True

    def check_alive(self) -> None:
        """Drop the connection if its worker died, or sent bytes nobody asked for.

        Never blocks; the next use reconnects.
        """
        sock = self.sock
        if sock is None or self.reader is None:
            return
        if self.reader.pending():
            self.drop()
            return
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        try:
            events = poller.poll(0)
        except OSError:
            events = [(sock.fileno(), select.POLLERR)]
        if events:
            # The end of the stream, or bytes nobody asked for: either way this
            # worker is done with.
            self.drop()

    # -- references ---------------------------------------------------------

    def _adopt(self, rid: int) -> None:
        self.refcounts[rid] = self.refcounts.get(rid, 0) + 1

    def _take_releases(self) -> list[int]:
        out = []
        released, self.released = self.released, []
        for gen, rid in released:
            if gen != self.generation:
                continue
            left = self.refcounts.get(rid, 0) - 1
            if left > 0:
                self.refcounts[rid] = left
            else:
                self.refcounts.pop(rid, None)
                out.append(rid)
        return out

    def ref_of(self, proxy: RemoteObject) -> int:
        """The id of ``proxy``'s object in the current worker (re-found by path if
        the proxy came from an earlier worker)."""
        if self.sock is None:
            self.connect()
        if proxy._grader_gen == self.generation:
            return proxy._grader_rid
        path = proxy._grader_path
        if path is None:
            raise StaleReference(
                f"{_label(proxy)} belonged to a candidate process that has since died and "
                "been restarted (probably in an earlier test); it cannot be used any more"
            )
        fresh = self._resolve_path(path)
        rid = fresh._grader_rid
        object.__setattr__(proxy, "_grader_rid", rid)
        object.__setattr__(proxy, "_grader_gen", fresh._grader_gen)
        self._adopt(rid)
        if self.proxies.get(rid) is None:
            self.proxies[rid] = proxy
        return rid

    def _resolve_path(self, path: tuple[str, tuple[str, ...]]) -> RemoteObject:
        module, attrs = path
        target = self.call("import", module)
        for attr in attrs:
            target = self.call("getattr", target, attr)
        if not isinstance(target, RemoteObject):
            raise StaleReference(f"{module}.{'.'.join(attrs)} is no longer an object")
        return target

    # -- values -------------------------------------------------------------

    def _encode_other(self, value: object) -> object:
        if isinstance(value, RemoteObject):
            return ["r", self.ref_of(value)]
        if isinstance(value, RemoteModule):
            return ["r", self.ref_of(value._grader_module_proxy())]
        raise P.EncodeError(
            f"cannot pass a local {type(value).__name__} object to candidate code: only "
            "data (None, bool, int, float, complex, str, bytes, list, tuple, dict, set, "
            "Decimal, datetime...) and objects that came from the candidate cross the "
            "process boundary"
        )

    def encode(self, value: object) -> object:
        tp = type(value)
        if tp is RemoteObject:
            return ["r", self.ref_of(value)]  # type: ignore[arg-type]
        if tp is str or tp is int and -(1 << 62) < value < (1 << 62):  # type: ignore[operator]
            return value
        try:
            return self.encoder.encode(value)
        except P.EncodeError as exc:
            raise CannotTransfer(str(exc)) from None
        except RecursionError:
            raise CannotTransfer("value nested too deeply to pass to candidate code") from None

    def _on_ref(self, item: list) -> RemoteObject:
        rid = item[1]
        proxy = self.proxies.get(rid)
        if proxy is None:
            type_name = item[2] if len(item) > 2 and type(item[2]) is str else "object"
            proxy = RemoteObject.__new__(RemoteObject)
            set_ = object.__setattr__
            set_(proxy, "_grader_conn", self)
            set_(proxy, "_grader_rid", rid)
            set_(proxy, "_grader_gen", self.generation)
            set_(proxy, "_grader_type", type_name[:200])
            set_(proxy, "_grader_path", None)
            self.proxies[rid] = proxy
            # One count per live proxy: its death (``__del__``) takes it back.
            self._adopt(rid)
        return proxy

    def _on_builtin(self, name: str) -> object:
        if name in P.SAFE_BUILTIN_TYPES:
            return getattr(builtins, name)
        raise P.ProtocolError(f"builtin {name!r} may not cross to the test side")

    def _real_class(self, module: str, qualname: str) -> type | None:
        """A standard-library exception class, looked up without running code."""
        top = module.partition(".")[0]
        if top in self.modules or top in _NEVER_REAL or top not in sys.stdlib_module_names:
            return None
        obj: object = sys.modules.get(module)
        for part in qualname.split("."):
            namespace = getattr(obj, "__dict__", None)
            if type(namespace) not in (dict, types.MappingProxyType):
                return None
            obj = namespace.get(part)  # type: ignore[union-attr]
        if (
            isinstance(obj, type)
            and issubclass(obj, Exception)
            and obj.__module__ == module
            and obj.__qualname__ == qualname
        ):
            return obj
        return None

    def _on_exc_class(self, desc: object, _depth: int = 0) -> type:
        module, qualname = P.exc_class_names(desc)
        if module == "builtins":
            cls = P.builtin_exception(qualname)
            if cls is not None:
                return _SUBSTITUTES.get(cls, cls)
        key = (module, qualname)
        cached = self.exc_classes.get(key)
        if cached is not None:
            return cached
        real = self._real_class(module, qualname)
        if real is not None:
            self.exc_classes[key] = real
            return real
        bases: list[type] = []
        raw_bases = desc.get("b") if _depth < 30 else None  # type: ignore[union-attr]
        for base_desc in raw_bases if type(raw_bases) is list else ():
            base = self._on_exc_class(base_desc, _depth + 1)
            if base not in bases:
                bases.append(base)
        if not bases:
            bases = [Exception]
        name = qualname.rpartition(".")[2]
        if not name.isidentifier():
            name = "CandidateError"
        namespace = {
            "__module__": module,
            "__qualname__": qualname,
            "__str__": _remote_exc_str,
            "_grader_remote_class": key,
        }
        cls = None
        for attempt in (tuple(bases[:8]), tuple(bases[:1]), (Exception,)):
            try:
                cls = type(name, attempt, namespace)
                break
            except TypeError:  # layout conflict, inconsistent MRO
                continue
        assert cls is not None
        self.exc_classes[key] = cls
        return cls

    def _on_exception(self, desc: dict, args: tuple | None, decode) -> BaseException:  # type: ignore[no-untyped-def]
        cls = self._on_exc_class(desc.get("c"))
        message = desc.get("s")
        message = message if type(message) is str else ""
        exc = P.build_exception(cls, args, message)
        if getattr(cls, "_grader_remote_class", None) is not None:
            exc.__dict__["_grader_message"] = message
        attrs = desc.get("d")
        if type(attrs) is dict:
            for key, raw in list(attrs.items())[:50]:
                if (
                    type(key) is str
                    and key.isidentifier()
                    and not key.startswith(("__", "_grader"))
                    and not hasattr(type(exc), key)
                ):
                    try:
                        exc.__dict__[key] = decode(raw)
                    except P.ProtocolError:
                        continue
        tb = desc.get("tb")
        if type(tb) is str:
            exc.__dict__["_grader_remote_tb"] = tb
        exc.__dict__["_grader_remote"] = True
        return exc

    def _on_namedtuple(self, module: str, qualname: str, fields: tuple, items: tuple) -> tuple:
        key = (module, qualname, fields)
        cls = self.nt_classes.get(key)
        if cls is None:
            name = qualname.rpartition(".")[2]
            try:
                cls = collections.namedtuple(name if name.isidentifier() else "Row", fields)  # type: ignore[misc]
            except ValueError:  # keywords, leading underscores...
                return items
            cls.__module__ = module
            cls.__qualname__ = qualname
            self.nt_classes[key] = cls
        return tuple.__new__(cls, items)

    def decode(self, value: object) -> object:
        return self.decoder.decode(value)

    # -- calls ----------------------------------------------------------------

    def call(self, op: str, *args: object) -> object:
        """Run one operation in the candidate process and return its result."""
        __tracebackhide__ = True
        if self.sock is None:
            self.connect()
        for _ in range(3):
            gen = self.generation
            encoded = [self.encode(a) for a in args]
            if gen == self.generation and self.sock is not None:
                break
        else:
            raise StaleReference("the candidate process kept restarting")
        rid = self.next_id
        self.next_id += 1
        message: dict = {"i": rid, "o": op, "a": encoded}
        releases = self._take_releases()
        if releases:
            message["r"] = releases
        try:
            frame = P.pack_frame(P.dumps(message))
        except P.EncodeError as exc:
            raise CannotTransfer(str(exc)) from None
        sock, reader = self.sock, self.reader
        assert sock is not None and reader is not None
        try:
            sock.sendall(frame)
            payload = reader.read_frame()
            if payload is None:
                raise EOFError
            reply = P.loads(payload)
            if reply.get("i") != rid:
                raise P.ProtocolError("a reply that answers another request")
        except BaseException as exc:
            # Whatever interrupted the exchange (the worker died, a timeout, a signal),
            # its state is unknown now: start afresh with the next call.
            self.drop()
            if isinstance(exc, TimeoutError):
                raise CandidateProcessDied(
                    f"candidate process did not complete {_what(op, args)} within "
                    f"{self.call_timeout} s; it is restarted for the next call"
                ) from None
            if isinstance(exc, P.ProtocolError):
                raise CandidateProtocolError(
                    f"candidate process broke the protocol during {_what(op, args)} ({exc}); "
                    "it is restarted for the next call"
                ) from None
            if isinstance(exc, (OSError, EOFError)):
                raise CandidateProcessDied(
                    f"candidate process died during {_what(op, args)} (connection closed); "
                    "it is restarted for the next call"
                ) from None
            raise
        if "v" in reply:
            try:
                return self.decode(reply["v"])
            except P.ProtocolError as exc:
                self.drop()
                raise CandidateProtocolError(
                    f"candidate process sent a malformed value for {_what(op, args)} ({exc})"
                ) from None
        if "x" in reply and type(reply["x"]) is dict:
            try:
                exc = self.decode(["x", reply["x"]])
            except P.ProtocolError as perr:
                self.drop()
                raise CandidateProtocolError(
                    f"candidate process sent a malformed exception ({perr})"
                ) from None
            assert isinstance(exc, BaseException)
            if op != "next" and isinstance(exc, (StopIteration, StopAsyncIteration)):
                exc = CandidateStopIteration(
                    f"candidate code raised {type(exc).__name__} during {_what(op, args)}"
                )
            raise exc
        if "p" in reply:
            raise CandidateRequestRefused(
                f"candidate process could not complete {_what(op, args)}: {str(reply['p'])[:500]}"
            )
        self.drop()
        raise CandidateProtocolError("candidate process sent an empty reply")


def _label(obj: object) -> str:
    if isinstance(obj, RemoteModule):
        return f"module {obj.__name__}"
    if isinstance(obj, RemoteObject):
        path = obj._grader_path
        if path is not None:
            return ".".join((path[0], *path[1]))
        return f"<remote {obj._grader_type}>"
    return type(obj).__name__


def _what(op: str, args: tuple) -> str:
    """``the call to solution.add()``, ``reading solution.Account.x``... for messages."""
    target = _label(args[0]) if args else ""
    if op == "call":
        return f"the call to {target}()"
    if op in ("getattr", "setattr", "delattr") and len(args) > 1:
        verb = {"getattr": "reading", "setattr": "setting", "delattr": "deleting"}[op]
        return f"{verb} {target}.{args[1]}"
    if op == "import" and args:
        return f"the import of {args[0]}"
    if op in ("binop", "unop") and len(args) > 1:
        return f"the {args[0]} operation on {_label(args[1])}"
    return f"the {op} operation on {target}".strip()


def _bool(value: object) -> bool:
    if type(value) is not bool:
        raise CandidateProtocolError(f"expected a bool from the candidate process, got {value!r}")
    return value


def _int(value: object) -> int:
    if type(value) is not int:
        raise CandidateProtocolError(f"expected an int from the candidate process, got {value!r}")
    return value


def _str(value: object) -> str:
    if type(value) is not str:
        raise CandidateProtocolError("expected a str from the candidate process")
    return value


# ---------------------------------------------------------------------------
# proxies


def _remote_getattr(proxy: RemoteObject, name: str) -> object:
    __tracebackhide__ = True
    conn = proxy._grader_conn
    try:
        value = conn.call("getattr", proxy, name)
    except CandidateError as exc:
        if _is_dunder(name) or name.startswith("_pytest"):
            # Probes by pytest/inspect (``__wrapped__``...) must not fail hard.
            raise AttributeError(f"{name} ({exc})") from exc
        raise
    path = proxy._grader_path
    if (
        type(value) is RemoteObject
        and value._grader_path is None
        and path is not None
        and len(path[1]) < _MAX_PATH
    ):
        object.__setattr__(value, "_grader_path", (path[0], (*path[1], name)))
    return value


def _binop(name: str, a: object, b: object) -> object:
    __tracebackhide__ = True
    conn = a._grader_conn if isinstance(a, RemoteObject) else b._grader_conn  # type: ignore[union-attr]
    try:
        return conn.call("binop", name, a, b)
    except CannotTransfer:
        return NotImplemented


def _compare(name: str, a: object, b: object) -> object:
    __tracebackhide__ = True
    result = _binop(name, a, b)
    return result if result is NotImplemented else _bool(result)


def _is_remote(value: object) -> bool:
    return isinstance(value, (RemoteObject, RemoteModule))


def _doc(self: RemoteObject) -> object:
    return _remote_getattr(self, "__doc__")


class RemoteObject:
    """A proxy for an object that lives in the candidate process."""

    __slots__ = (
        "_grader_conn",
        "_grader_rid",
        "_grader_gen",
        "_grader_type",
        "_grader_path",
        "__weakref__",
    )
    _grader_conn: Connection
    _grader_rid: int
    _grader_gen: int
    _grader_type: str
    _grader_path: tuple[str, tuple[str, ...]] | None

    def __init__(self) -> None:
        raise TypeError("remote objects come from the candidate process")

    def __del__(self) -> None:
        try:  # noqa: SIM105 - (cheaper than contextlib.suppress, on every proxy)
            self._grader_conn.released.append((self._grader_gen, self._grader_rid))
        except Exception:  # interpreter shutdown, half-built proxy
            pass

    __doc__ = property(_doc)  # type: ignore[assignment]

    def _rpc(self, op: str, *args: object) -> object:
        __tracebackhide__ = True
        return self._grader_conn.call(op, self, *args)

    def __getattr__(self, name: str) -> object:
        __tracebackhide__ = True
        if name.startswith("_grader_"):
            raise AttributeError(name)
        return _remote_getattr(self, name)

    def __setattr__(self, name: str, value: object) -> None:
        __tracebackhide__ = True
        self._rpc("setattr", name, value)

    def __delattr__(self, name: str) -> None:
        __tracebackhide__ = True
        self._rpc("delattr", name)

    def __call__(self, *args: object, **kwargs: object) -> object:
        __tracebackhide__ = True
        return self._grader_conn.call("call", self, list(args), kwargs)

    def __repr__(self) -> str:
        try:
            return _str(self._rpc("repr"))
        except CandidateError as exc:
            return f"<remote {self._grader_type} object ({type(exc).__name__})>"

    def __str__(self) -> str:
        __tracebackhide__ = True
        return _str(self._rpc("str"))

    def __format__(self, spec: str) -> str:
        __tracebackhide__ = True
        return _str(self._rpc("format", spec))

    def __dir__(self) -> list[str]:
        names = self._rpc("dir")
        if type(names) is not list or not all(type(n) is str for n in names):
            raise CandidateProtocolError("dir() of a remote object must be a list of str")
        return names

    def __len__(self) -> int:
        __tracebackhide__ = True
        return _int(self._rpc("len"))

    def __bool__(self) -> bool:
        __tracebackhide__ = True
        return _bool(self._rpc("bool"))

    def __hash__(self) -> int:
        __tracebackhide__ = True
        return _int(self._rpc("hash"))

    def __iter__(self) -> object:
        __tracebackhide__ = True
        it = self._rpc("iter")
        if type(it) is not RemoteObject:
            raise CandidateProtocolError("iter() of a remote object must be a remote iterator")
        return it

    def __next__(self) -> object:
        __tracebackhide__ = True
        return self._rpc("next")

    def __reversed__(self) -> object:
        __tracebackhide__ = True
        return self._rpc("unop", "reversed")

    def __contains__(self, item: object) -> bool:
        __tracebackhide__ = True
        return _bool(self._grader_conn.call("contains", self, item))

    def __getitem__(self, key: object) -> object:
        __tracebackhide__ = True
        return self._rpc("getitem", key)

    def __setitem__(self, key: object, value: object) -> None:
        __tracebackhide__ = True
        self._rpc("setitem", key, value)

    def __delitem__(self, key: object) -> None:
        __tracebackhide__ = True
        self._rpc("delitem", key)

    def __enter__(self) -> object:
        __tracebackhide__ = True
        return self._rpc("enter")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> bool:
        __tracebackhide__ = True
        if exc is None:
            self._rpc("exit", None)
            return False
        # The candidate's __exit__ sees the exception, but may only swallow
        # exceptions of the code under test: never a failed assert, a pytest
        # outcome (skip, fail, timeout), an interrupt or a broken connection.
        may_suppress = (
            isinstance(exc, Exception)
            and not isinstance(exc, (AssertionError, CandidateError))
            and type(exc).__module__.partition(".")[0] not in ("_pytest", "pytest", "pluggy")
        )
        try:
            exc_arg = exc if isinstance(exc, Exception) else RuntimeError(type(exc).__name__)
            try:
                self._grader_conn.encode(exc_arg)
            except CannotTransfer:
                exc_arg = Exception(str(exc)[:1000])
            suppress = self._rpc("exit", exc_arg)
        except CandidateError:
            return False  # keep the original exception
        return may_suppress and _bool(suppress)

    def __eq__(self, other: object) -> bool:
        __tracebackhide__ = True
        if not _is_remote(other):
            return False
        return _bool(_binop("eq", self, other))

    def __ne__(self, other: object) -> bool:
        __tracebackhide__ = True
        if not _is_remote(other):
            return True
        return _bool(_binop("ne", self, other))

    def __lt__(self, other: object) -> object:
        __tracebackhide__ = True
        return _compare("lt", self, other)

    def __le__(self, other: object) -> object:
        __tracebackhide__ = True
        return _compare("le", self, other)

    def __gt__(self, other: object) -> object:
        __tracebackhide__ = True
        return _compare("gt", self, other)

    def __ge__(self, other: object) -> object:
        __tracebackhide__ = True
        return _compare("ge", self, other)

    def __instancecheck__(self, obj: object) -> bool:
        try:
            return _bool(self._grader_conn.call("isinstance", obj, self))
        except CannotTransfer:
            return False

    def __subclasscheck__(self, sub: object) -> bool:
        try:
            return _bool(self._grader_conn.call("issubclass", sub, self))
        except CannotTransfer:
            return False

    def __neg__(self) -> object:
        __tracebackhide__ = True
        return self._rpc_unop("neg")

    def __pos__(self) -> object:
        __tracebackhide__ = True
        return self._rpc_unop("pos")

    def __abs__(self) -> object:
        __tracebackhide__ = True
        return self._rpc_unop("abs")

    def __invert__(self) -> object:
        __tracebackhide__ = True
        return self._rpc_unop("invert")

    def __int__(self) -> int:
        __tracebackhide__ = True
        return _int(self._rpc_unop("int"))

    def __index__(self) -> int:
        __tracebackhide__ = True
        return _int(self._rpc_unop("index"))

    def __float__(self) -> float:
        __tracebackhide__ = True
        value = self._rpc_unop("float")
        if type(value) is not float:
            raise CandidateProtocolError("float() of a remote object must be a float")
        return value

    def __complex__(self) -> complex:
        __tracebackhide__ = True
        value = self._rpc_unop("complex")
        if type(value) is not complex:
            raise CandidateProtocolError("complex() of a remote object must be a complex")
        return value

    def __trunc__(self) -> object:
        return self._rpc_unop("trunc")

    def __floor__(self) -> object:
        return self._rpc_unop("floor")

    def __ceil__(self) -> object:
        return self._rpc_unop("ceil")

    def __round__(self, ndigits: object = None) -> object:
        __tracebackhide__ = True
        return self._rpc("round", ndigits)

    def __copy__(self) -> object:
        return self._rpc_unop("copy")

    def __deepcopy__(self, memo: object) -> object:
        return self._rpc_unop("deepcopy")

    def __reduce_ex__(self, protocol: object) -> object:
        raise TypeError("a remote object cannot be pickled")

    def _rpc_unop(self, name: str) -> object:
        __tracebackhide__ = True
        return self._grader_conn.call("unop", name, self)


def _make_binops() -> None:
    names = [
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
        "divmod",
    ]
    for name in names:
        dunder = name.rstrip("_")

        def forward(self: object, other: object, _name: str = name) -> object:
            __tracebackhide__ = True
            return _binop(_name, self, other)

        def reflected(self: object, other: object, _name: str = name) -> object:
            __tracebackhide__ = True
            return _binop(_name, other, self)

        forward.__name__ = f"__{dunder}__"
        reflected.__name__ = f"__r{dunder}__"
        setattr(RemoteObject, f"__{dunder}__", forward)
        setattr(RemoteObject, f"__r{dunder}__", reflected)
        if name != "divmod":

            def inplace(self: object, other: object, _name: str = "i" + name) -> object:
                __tracebackhide__ = True
                return _binop(_name, self, other)

            inplace.__name__ = f"__i{dunder}__"
            setattr(RemoteObject, f"__i{dunder}__", inplace)


_make_binops()


_module_dict = types.ModuleType.__dict__["__dict__"].__get__


class _RemoteNamespace(collections.abc.Mapping):  # type: ignore[type-arg]
    """``vars(module)`` of a remote module: names are looked up remotely on demand
    (so ``monkeypatch`` and ``mock.patch`` see the candidate's module globals)."""

    def __init__(self, module: RemoteModule) -> None:
        self._module = module

    def __getitem__(self, name: object) -> object:
        local = _module_dict(self._module)
        if type(name) is not str:
            raise KeyError(name)
        if name in local:
            return local[name]
        try:
            return _remote_getattr(self._module._grader_module_proxy(), name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._module.__dir__())

    def __len__(self) -> int:
        return len(self._module.__dir__())


class RemoteModule(types.ModuleType):
    """``import mod`` for a module of the submission: attributes are read remotely.

    Only what the import system sets (``__spec__``, ``__path__``...) and submodules
    are kept locally; ``__dict__`` is a view of the remote module's names.
    """

    def __init__(self, name: str, conn: Connection) -> None:
        super().__init__(name)
        local = _module_dict(self)
        local["_grader_conn"] = conn
        local["_grader_proxy"] = None

    @property  # type: ignore[misc]
    def __dict__(self) -> Mapping[str, object]:  # type: ignore[override]
        return _RemoteNamespace(self)

    def _grader_module_proxy(self) -> RemoteObject:
        local = _module_dict(self)
        proxy = local["_grader_proxy"]
        if proxy is None:
            proxy = local["_grader_conn"].call("import", self.__name__)
            if type(proxy) is not RemoteObject:
                raise CandidateProtocolError("import did not return a module")
            object.__setattr__(proxy, "_grader_path", (self.__name__, ()))
            local["_grader_proxy"] = proxy
        return proxy

    def __getattr__(self, name: str) -> object:
        __tracebackhide__ = True
        if name.startswith("_grader_") or (_is_dunder(name) and name not in _MODULE_REMOTE_DUNDERS):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        proxy = self._grader_module_proxy()
        if name == "__all__":
            try:
                return _remote_getattr(proxy, name)
            except AttributeError:
                names = _module_dict(self)["_grader_conn"].call("exports", proxy)
                if type(names) is not list or not all(type(n) is str for n in names):
                    raise CandidateProtocolError("exports must be a list of names") from None
                return names
        return _remote_getattr(proxy, name)

    def __setattr__(self, name: str, value: object) -> None:
        __tracebackhide__ = True
        if _is_dunder(name) or isinstance(value, RemoteModule):
            # The import system sets __spec__, __path__... and submodules.
            _module_dict(self)[name] = value
            return
        self._grader_module_proxy().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        __tracebackhide__ = True
        local = _module_dict(self)
        if name in local:
            del local[name]
            return
        self._grader_module_proxy().__delattr__(name)

    def __dir__(self) -> list[str]:
        local = [n for n in _module_dict(self) if not n.startswith("_grader_")]
        return sorted(set(self._grader_module_proxy().__dir__()) | set(local))

    def __repr__(self) -> str:
        return f"<remote module {self.__name__!r}>"


class RemoteFinder:
    """First on ``sys.meta_path``: the submission's modules resolve to RemoteModule."""

    def __init__(self, conn: Connection, modules: tuple[str, ...]) -> None:
        self.conn = conn
        self.modules = frozenset(modules)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
        if fullname.partition(".")[0] not in self.modules:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)  # type: ignore[arg-type]

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> RemoteModule:
        return RemoteModule(spec.name, self.conn)

    def exec_module(self, module: RemoteModule) -> None:
        __tracebackhide__ = True
        try:
            module._grader_module_proxy()
        except ImportError:
            raise
        except BaseException as exc:
            remote = isinstance(exc, CandidateError) or exc.__dict__.get("_grader_remote")
            if not remote:
                raise  # a local interrupt (timeout, Ctrl-C)
            raise ImportError(
                f"importing {module.__name__!r} in the candidate process failed: "
                f"{type(exc).__name__}: {exc}",
                name=module.__name__,
            ) from exc

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        while self in sys.meta_path:
            sys.meta_path.remove(self)
        for name in list(sys.modules):
            if name.partition(".")[0] in self.modules and isinstance(
                sys.modules[name], RemoteModule
            ):
                del sys.modules[name]


def connect(
    address: str,
    modules: tuple[str, ...],
    connect_timeout: float = 10.0,
    call_timeout: float | None = None,
) -> tuple[Connection, RemoteFinder]:
    """A connection and an installed finder (for use outside pytest, e.g. benchmarks)."""
    conn = Connection(address, modules, connect_timeout, call_timeout)
    finder = RemoteFinder(conn, modules)
    finder.install()
    return conn, finder


# ---------------------------------------------------------------------------
# the pytest plugin

_STATE: dict[str, object] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rpc", "process isolation (the submission runs in another process)")
    group.addoption(
        "--rpc-address",
        default=None,
        help="HOST:PORT of the candidate process (rpc_server.py)",
    )
    group.addoption(
        "--rpc-modules",
        default="",
        help="comma-separated top-level module/package names of the submission",
    )
    group.addoption(
        "--rpc-connect-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the candidate process to accept (default 10)",
    )
    group.addoption(
        "--rpc-call-timeout",
        type=float,
        default=0.0,
        help="seconds one remote call may take before the worker is restarted (0: no limit)",
    )


def _parse_modules(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip() and n.strip() != "-")
    for name in names:
        if not name.isidentifier():
            raise pytest.UsageError(f"--rpc-modules: {name!r} is not a module name")
        if name in ("rpc_client", "rpc_protocol", "pytest", "_pytest", "pluggy"):
            raise pytest.UsageError(f"--rpc-modules: {name!r} would shadow the harness")
        loaded = sys.modules.get(name)
        if loaded is not None and not isinstance(loaded, RemoteModule):
            raise pytest.UsageError(
                f"--rpc-modules: {name!r} is already imported here (a standard module?)"
            )
    return names


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    address = config.getoption("rpc_address", None)
    if not address:
        return
    modules = _parse_modules(config.getoption("rpc_modules") or "")
    try:
        conn = Connection(
            address,
            modules,
            config.getoption("rpc_connect_timeout"),
            config.getoption("rpc_call_timeout"),
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    finder = RemoteFinder(conn, modules)
    finder.install()
    _STATE["conn"], _STATE["finder"] = conn, finder


def pytest_unconfigure(config: pytest.Config) -> None:
    finder = _STATE.pop("finder", None)
    conn = _STATE.pop("conn", None)
    if isinstance(finder, RemoteFinder):
        finder.uninstall()
    if isinstance(conn, Connection):
        conn.close()


def pytest_runtest_setup(item: pytest.Item) -> None:
    conn = _STATE.get("conn")
    if isinstance(conn, Connection):
        conn.check_alive()


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken repr must not hide the comparison
        text = f"<{type(value).__name__} with a failing repr: {type(exc).__name__}>"
    text = text if len(text) <= 80 else text[:77] + "..."
    if isinstance(value, RemoteObject):
        return f"<remote {value._grader_type}: {text}>"
    return text


def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: object, right: object
) -> object:
    """Explain a failed ``==`` between a remote object and local data."""
    left_remote, right_remote = isinstance(left, RemoteObject), isinstance(right, RemoteObject)
    if op not in ("==", "!=") or left_remote == right_remote:
        return None
    remote = left if left_remote else right
    return [
        f"{_short_repr(left)} {op} {_short_repr(right)}",
        f"the {'left' if left_remote else 'right'} side is a {remote._grader_type} object "  # type: ignore[union-attr]
        "that lives in the candidate process: it is never equal to local data",
    ]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    try:
        return (yield)
    except BaseException as exc:
        tb = exc.__dict__.get("_grader_remote_tb") if hasattr(exc, "__dict__") else None
        if type(tb) is str:
            item.add_report_section("call", "candidate traceback", tb)
        raise
