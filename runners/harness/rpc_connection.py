"""The test side's connection to the candidate process (rpc_server.py).

One TCP connection, reopened after a failure; each (re)connection is a new
*generation* whose worker is fresh, so references from earlier generations are
stale. ``Connection.call`` sends one request and waits for its reply; while it
waits, the candidate's code may call back into objects the test passed to it
(``["q", ...]`` references, see rpc_exports.py): those requests are served here,
in the test process, by the rules of ``ReverseOps``, and test code they run may
call the candidate again, up to ``rpc_protocol.MAX_NESTING`` requests deep.

What comes back is data (exact builtin values built here from JSON, so no candidate
code ever runs in this process), a ``RemoteObject`` for an object that stays in the
candidate process, or the test's own object when the candidate hands back one it
was given. Exceptions raised by candidate code are rebuilt here: builtin exceptions
as themselves, the candidate's own classes as local classes made once per (module,
qualname) on top of the matching builtin bases (so ``pytest.raises`` works), never
as anything pytest treats specially (skips, exits, interrupts). An exception a test
callback raised and the candidate's code let through is the test's original object.

Standard library only; never imports ``grader`` or ``runners``.
"""

from __future__ import annotations

import builtins
import collections
import contextlib
import select
import socket
import sys
import time
import types
import weakref
from typing import Any

import rpc_protocol as P
from rpc_errors import (
    SUBSTITUTES,
    CandidateError,
    CandidateProcessDied,
    CandidateProtocolError,
    CandidateRequestRefused,
    CandidateStopIteration,
    CandidateUnavailable,
    CannotTransfer,
    CrossingTimedOut,
    NotAuthenticated,
    Refused,
    StaleReference,
)
from rpc_exports import ExportTable, ReverseOps, why_not, why_not_dict
from rpc_findings import Findings
from rpc_proxies import RemoteModule, RemoteObject, describe_call, label

# Standard-library modules whose exceptions pytest or unittest give a meaning.
_NEVER_REAL = frozenset({"unittest", "bdb", "pdb", "doctest", "builtins", "importlib"})
# Exceptions of test callbacks remembered per outermost call (to hand back the original).
_MAX_ORIGINS = 256
_CALLBACK_ASSERTION = (
    "an assertion in the test's own code, called by the candidate's code, failed "
    "(its details stay on the test side)"
)


def _remote_exc_str(self: BaseException) -> str:
    message = self.__dict__.get("_grader_message")
    return message if type(message) is str else BaseException.__str__(self)


def _is_test_ref(wire: object) -> bool:
    return type(wire) is list and len(wire) >= 2 and wire[0] == "q"


class Connection:
    """One connection to the candidate supervisor, reopened after a failure."""

    def __init__(
        self,
        address: str,
        modules: tuple[str, ...] = (),
        connect_timeout: float = 10.0,
        call_timeout: float | None = None,
        findings: Findings | None = None,
        secret: str | None = None,
    ) -> None:
        host, sep, port = address.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"bad --rpc-address {address!r} (expected HOST:PORT)")
        self.address = (host.strip("[]") or "127.0.0.1", int(port))
        self.modules = frozenset(modules)
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout or None
        # A server that must prove it holds this secret, and is given proof in turn
        # (the reference solution's, see rpc_protocol: Authentication).
        self.secret = secret
        self.findings = findings if findings is not None else Findings()
        self.sock: socket.socket | None = None
        self.reader: P.FrameReader | None = None
        self.generation = 0
        self.next_id = 1
        self.worker_pid: int | None = None
        self.connect_failures = 0
        self.closed = False
        # generation, ref id of proxies that died; sent with the next message
        self.released: list[tuple[int, int]] = []
        self.refcounts: dict[int, int] = {}
        self.proxies: weakref.WeakValueDictionary[int, RemoteObject] = weakref.WeakValueDictionary()
        self.exc_classes: dict[tuple[str, str], type] = {}
        self.nt_classes: dict[tuple[str, str, tuple[str, ...]], type] = {}
        # the reverse channel
        self.exports = ExportTable()
        self.reverse_ops = ReverseOps()
        self.depth = 0
        self.origins: dict[int, BaseException] = {}
        self.next_origin = 1
        self.callback_assertions: list[AssertionError] = []
        # test -> candidate values: the test's objects cross as references...
        self.encoder = P.Encoder(self._encode_other, inspect=self._inspect_arg)
        # ...except where a local object must keep its own turn (binops, isinstance)
        self.data_encoder = P.Encoder(self._encode_remote_only)
        # results of the candidate's requests: refusals are tampering
        self.result_encoder = P.Encoder(self._encode_result_other, inspect=self._inspect_result)
        self.decoder = P.Decoder(
            self._on_ref,
            self._on_exc_class,
            self._on_exception,
            self._on_namedtuple,
            self._on_builtin,
            on_test_ref=self._on_test_ref,
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
        reader = P.FrameReader(sock)
        if self.secret is not None:
            self._authenticate(sock, reader, self.secret)
        sock.settimeout(self.call_timeout)
        self.sock, self.reader = sock, reader
        self.generation += 1
        self.released = []
        self.refcounts = {}
        self.proxies = weakref.WeakValueDictionary()
        self.exports.clear()
        hello = self.call("hello")
        if not isinstance(hello, dict) or hello.get("version") != P.PROTOCOL_VERSION:
            self.drop()
            raise CandidateProtocolError("the candidate process speaks another protocol")
        pid = hello.get("pid")
        self.worker_pid = pid if type(pid) is int else None
        self.connect_failures = 0

    def _authenticate(self, sock: socket.socket, reader: P.FrameReader, secret: str) -> None:
        """Prove we hold ``secret`` and check that the server does (never sending it)."""
        where = f"{self.address[0]}:{self.address[1]}"
        try:
            sock.settimeout(min(self.connect_timeout, P.AUTH_SECONDS))
            challenge = P.loads(reader.read_frame() or b"{}")
            theirs = challenge.get("n")
            if challenge.get("auth") != "challenge" or not P.valid_nonce(theirs):
                raise NotAuthenticated(f"the server at {where} did not ask for the run's secret")
            assert isinstance(theirs, str)
            ours = P.new_nonce()
            proof = P.auth_proof(secret, "client", theirs, ours)
            P.send_frame(sock, P.dumps({"auth": "response", "n": ours, "p": proof}))
            answer = P.loads(reader.read_frame() or b"{}")
            expected = P.auth_proof(secret, "server", ours, theirs)
            if answer.get("auth") != "ok" or not P.proof_matches(expected, answer.get("p")):
                raise NotAuthenticated(
                    f"the server at {where} did not prove it holds the run's secret"
                )
        except (OSError, P.ProtocolError) as exc:
            with contextlib.suppress(OSError):
                sock.close()
            raise NotAuthenticated(
                f"the server at {where} refused the run's secret or did not answer ({exc})"
            ) from None
        except NotAuthenticated:
            with contextlib.suppress(OSError):
                sock.close()
            raise

    def drop(self) -> None:
        """Forget the current connection (its worker is killed by the supervisor)."""
        sock, self.sock, self.reader = self.sock, None, None
        self.exports.clear()
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
            current: int = proxy._grader_rid
            return current
        path = proxy._grader_path
        if path is None:
            raise StaleReference(
                f"{label(proxy)} belonged to a candidate process that has since died and "
                "been restarted (probably in an earlier test); it cannot be used any more"
            )
        fresh = self._resolve_path(path)
        rid: int = fresh._grader_rid
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

    def _remote_ref(self, value: object) -> list[object] | None:
        if isinstance(value, RemoteObject):
            return ["r", self.ref_of(value)]
        if isinstance(value, RemoteModule):
            return ["r", self.ref_of(value._grader_module_proxy())]
        return None

    def _encode_other(self, value: object) -> P.Wire:
        ref = self._remote_ref(value)
        if ref is not None:
            return ref
        why = why_not(value)
        if why is not None:
            raise P.EncodeError(f"cannot pass {why} to candidate code")
        return self.exports.export(value)

    def _encode_remote_only(self, value: object) -> P.Wire:
        ref = self._remote_ref(value)
        if ref is not None:
            return ref
        raise P.EncodeError(f"cannot pass a local {type(value).__name__} object here")

    def _encode_result_other(self, value: object) -> P.Wire:
        ref = self._remote_ref(value)
        if ref is not None:
            return ref
        why = why_not(value)
        if why is not None:
            raise Refused(f"a result that would hand it {why}")
        return self.exports.export(value)

    def _inspect_arg(self, value: object) -> None:
        if isinstance(value, dict):
            why = why_not_dict(value)
            if why is not None:
                raise P.EncodeError(f"cannot pass {why} to candidate code")
        else:
            self.findings.saw_path(value)

    @staticmethod
    def _inspect_result(value: object) -> None:
        if isinstance(value, dict):
            why = why_not_dict(value)
            if why is not None:
                raise Refused(f"a result that would hand it {why}")

    def encode(self, value: object, export: bool = True) -> P.Wire:
        """``value`` as a wire value for the candidate side (CannotTransfer if it
        cannot cross; with ``export=False`` only data and remote objects cross)."""
        tp = type(value)
        if tp is RemoteObject:
            assert isinstance(value, RemoteObject)
            return ["r", self.ref_of(value)]
        if tp is int and -(1 << 62) < value < (1 << 62):  # type: ignore[operator]
            return value
        if tp is str:
            assert isinstance(value, str)
            if value[:1] == "/":
                self.findings.saw_path(value)
            return value
        try:
            return (self.encoder if export else self.data_encoder).encode(value)
        except P.EncodeError as exc:
            raise CannotTransfer(str(exc)) from None
        except RecursionError:
            raise CannotTransfer("value nested too deeply to pass to candidate code") from None

    def _on_ref(self, item: list[P.Wire]) -> RemoteObject:
        rid = item[1]
        proxy = self.proxies.get(rid)
        if proxy is None:
            type_name = item[2] if len(item) > 2 and type(item[2]) is str else "object"
            proxy = RemoteObject.make(self, rid, self.generation, type_name)
            self.proxies[rid] = proxy
            # One count per live proxy: its death (``__del__``) takes it back.
            self._adopt(rid)
        return proxy

    def _on_test_ref(self, item: list[P.Wire]) -> object:
        return self.exports.get(item[1])

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
            if not isinstance(namespace, (dict, types.MappingProxyType)):
                return None
            obj = namespace.get(part)
        if (
            isinstance(obj, type)
            and issubclass(obj, Exception)
            and obj.__module__ == module
            and obj.__qualname__ == qualname
        ):
            return obj
        return None

    def _on_exc_class(self, desc: dict[str, Any], _depth: int = 0) -> type:
        module, qualname = P.exc_class_names(desc)
        if module == "builtins":
            cls = P.builtin_exception(qualname)
            if cls is not None:
                substitute: type = SUBSTITUTES.get(cls, cls)
                return substitute
        key = (module, qualname)
        cached = self.exc_classes.get(key)
        if cached is not None:
            return cached
        real = self._real_class(module, qualname)
        if real is not None:
            self.exc_classes[key] = real
            return real
        bases: list[type] = []
        raw_bases = desc.get("b") if _depth < 30 else None
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
        made: type | None = None
        for attempt in (tuple(bases[:8]), tuple(bases[:1]), (Exception,)):
            try:
                made = type(name, attempt, namespace)
                break
            except TypeError:  # layout conflict, inconsistent MRO
                continue
        assert made is not None
        self.exc_classes[key] = made
        return made

    def _on_exception(
        self,
        desc: dict[str, Any],
        args: tuple[object, ...] | None,
        decode: Any,
    ) -> BaseException:
        origin = desc.get("o")
        if type(origin) is int and origin in self.origins:
            # A test callback raised it and the candidate's code let it through.
            return self.origins[origin]
        cls = self._on_exc_class(desc.get("c"))  # type: ignore[arg-type]
        message = desc.get("s")
        message = message if type(message) is str else ""
        exc: BaseException = P.build_exception(cls, args, message)
        if getattr(cls, "_grader_remote_class", None) is not None:
            exc.__dict__["_grader_message"] = message
        attrs = desc.get("d")
        if isinstance(attrs, dict):
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

    def _on_namedtuple(
        self, module: str, qualname: str, fields: tuple[str, ...], items: tuple[object, ...]
    ) -> tuple[object, ...]:
        key = (module, qualname, fields)
        cls = self.nt_classes.get(key)
        if cls is None:
            name = qualname.rpartition(".")[2]
            try:
                made_cls: type = collections.namedtuple(  # type: ignore[misc]  # dynamic fields
                    name if name.isidentifier() else "Row", fields
                )
            except ValueError:  # keywords, leading underscores...
                return items
            made_cls.__module__ = module
            made_cls.__qualname__ = qualname
            self.nt_classes[key] = cls = made_cls
        made: tuple[object, ...] = tuple.__new__(cls, items)
        return made

    def decode(self, value: P.Wire) -> object:
        return self.decoder.decode(value)

    # -- calls ----------------------------------------------------------------

    def call(self, op: str, *args: object, export: bool = True, notes: bool = True) -> object:
        """Run one operation in the candidate process and return its result.

        ``export``: the test's own objects may cross as references (else only data
        and remote objects). ``notes``: a value that cannot cross leaves a
        portability note for the test in progress.
        """
        __tracebackhide__ = True
        if self.sock is None:
            if self.depth:
                raise CandidateProcessDied(
                    "the candidate process died during a call that is still in progress"
                )
            self.connect()
        try:
            for _ in range(3):
                gen = self.generation
                encoded = [self.encode(a, export) for a in args]
                if gen == self.generation and self.sock is not None:
                    break
            else:
                raise StaleReference("the candidate process kept restarting")
            rid = self.next_id
            self.next_id += 1
            message: dict[str, object] = {"i": rid, "o": op, "a": encoded}
            releases = self._take_releases()
            if releases:
                message["r"] = releases
            try:
                frame = P.pack_frame(P.dumps(message))
            except P.EncodeError as exc:
                raise CannotTransfer(str(exc)) from None
        except CannotTransfer as exc:
            if notes:
                self.findings.transfer_failed(str(exc))
            raise
        sock, reader = self.sock, self.reader
        assert sock is not None and reader is not None
        outer = self.depth == 0
        self.depth += 1
        try:
            try:
                sock.sendall(frame)
                reply = self._await_reply(rid, sock, reader)
            except BaseException as exc:
                # Whatever interrupted the exchange (the worker died, a timeout, a
                # signal), its state is unknown now: start afresh with the next call.
                self.drop()
                self._raise_broken(exc, op, args)
            try:
                result = self._result(op, args, reply)
            finally:
                # A message's releases apply once its values are decoded: an id may
                # come back in the very message that releases the proxy it had.
                self.exports.release(reply.get("r"))
        except BaseException as exc:
            if outer:
                self._end_outer_call(exc)
            raise
        finally:
            self.depth -= 1
        if outer:
            self._end_outer_call(None)
        return result

    def timed_call(self, op: str, *args: object, timeout: float | None) -> tuple[object, float]:
        """Run one operation (data and remote objects only) and time it here: the
        seconds from sending the request to reading its reply, on this side's clock.

        Past ``timeout`` seconds the connection is dropped (so its worker is stopped)
        and ``CrossingTimedOut`` says how long it ran. Everything is encoded before the
        clock starts.
        """
        __tracebackhide__ = True
        if self.depth:
            raise RuntimeError("a timed call cannot be nested in another call")
        if self.sock is None:
            self.connect()
        encoded = [self.encode(a, export=False) for a in args]
        if self.sock is None:
            raise StaleReference("the process restarted while the call was prepared")
        rid = self.next_id
        self.next_id += 1
        message: dict[str, object] = {"i": rid, "o": op, "a": encoded}
        releases = self._take_releases()
        if releases:
            message["r"] = releases
        frame = P.pack_frame(P.dumps(message))
        sock, reader = self.sock, self.reader
        assert sock is not None and reader is not None
        sock.settimeout(timeout)
        self.depth += 1
        started = time.perf_counter()
        try:
            try:
                sock.sendall(frame)
                reply = self._await_reply(rid, sock, reader)
                elapsed = time.perf_counter() - started
                sock.settimeout(self.call_timeout)
            except TimeoutError:
                elapsed = time.perf_counter() - started
                self.drop()
                raise CrossingTimedOut(
                    f"{describe_call(op, args)} did not complete within {timeout:.3g} s",
                    elapsed,
                ) from None
            except BaseException as exc:
                self.drop()
                self._raise_broken(exc, op, args)
            try:
                result = self._result(op, args, reply)
            finally:
                self.exports.release(reply.get("r"))
        finally:
            self.depth -= 1
            self.origins.clear()
            self.callback_assertions = []
        return result, elapsed

    def _raise_broken(self, exc: BaseException, op: str, args: tuple[object, ...]) -> None:
        __tracebackhide__ = True
        what = describe_call(op, args)
        if isinstance(exc, CandidateError):
            raise exc  # from a nested call
        if isinstance(exc, TimeoutError):
            raise CandidateProcessDied(
                f"candidate process did not complete {what} within {self.call_timeout} s; "
                "it is restarted for the next call"
            ) from None
        if isinstance(exc, P.ProtocolError):
            raise CandidateProtocolError(
                f"candidate process broke the protocol during {what} ({exc}); "
                "it is restarted for the next call"
            ) from None
        if isinstance(exc, (OSError, EOFError)):
            raise CandidateProcessDied(
                f"candidate process died during {what} (connection closed); "
                "it is restarted for the next call"
            ) from None
        raise exc

    def _end_outer_call(self, raising: BaseException | None) -> None:
        """After the outermost call: an assertion of a test callback that the
        candidate's code caught still fails the test."""
        pending, self.callback_assertions = self.callback_assertions, []
        self.origins.clear()
        if not pending or any(raising is p for p in pending):
            return
        first = pending[0]
        first.add_note(
            "grader: the candidate's code caught this failed assertion of a test callback; "
            "it still fails the test"
        )
        raise first

    def _await_reply(self, rid: int, sock: socket.socket, reader: P.FrameReader) -> dict[str, Any]:
        while True:
            payload = reader.read_frame()
            if payload is None:
                raise EOFError
            msg: dict[str, Any] = P.loads(payload)
            if "o" in msg:
                self._serve(msg, sock)
                continue
            if msg.get("i") != rid:
                raise P.ProtocolError("a reply that answers another request")
            return msg

    def _result(self, op: str, args: tuple[object, ...], reply: dict[str, Any]) -> object:
        __tracebackhide__ = True
        if "v" in reply:
            try:
                return self.decode(reply["v"])
            except P.ProtocolError as exc:
                self.drop()
                raise CandidateProtocolError(
                    f"candidate process sent a malformed value for {describe_call(op, args)} "
                    f"({exc})"
                ) from None
        if "x" in reply and isinstance(reply["x"], dict):
            try:
                raised = self.decode(["x", reply["x"]])
            except P.ProtocolError as perr:
                self.drop()
                raise CandidateProtocolError(
                    f"candidate process sent a malformed exception ({perr})"
                ) from None
            assert isinstance(raised, BaseException)
            if op != "next" and isinstance(raised, (StopIteration, StopAsyncIteration)):
                raised = CandidateStopIteration(
                    f"candidate code raised {type(raised).__name__} during "
                    f"{describe_call(op, args)}"
                )
            raise raised
        if "p" in reply:
            raise CandidateRequestRefused(
                f"candidate process could not complete {describe_call(op, args)}: "
                f"{str(reply['p'])[:500]}"
            )
        self.drop()
        raise CandidateProtocolError("candidate process sent an empty reply")

    # -- the candidate's requests -------------------------------------------------

    def _serve(self, msg: dict[str, Any], sock: socket.socket) -> None:
        """Answer one request of the candidate side (it waits for this reply)."""
        gen = self.generation
        try:
            reply = self._run_request(msg)
        finally:
            self.exports.release(msg.get("r"))
        if self.sock is not sock or self.generation != gen:
            raise CandidateProcessDied(
                "the candidate process died while the test's code it called was running"
            )
        releases = self._take_releases()
        if releases:
            reply["r"] = releases
        try:
            frame = P.pack_frame(P.dumps(reply))
        except P.EncodeError as exc:
            refusal = {"i": reply.get("i"), "p": f"the result cannot be sent: {exc}"}
            frame = P.pack_frame(P.dumps(refusal))
        sock.sendall(frame)

    def _run_request(self, msg: dict[str, Any]) -> dict[str, Any]:
        rid = msg.get("i")
        op, raw = msg.get("o"), msg.get("a")
        if type(op) is not str or op not in P.CANDIDATE_OPS or type(raw) is not list or not raw:
            return {"i": rid, "p": f"unknown operation {str(op)[:60]!r}"}
        if self.depth >= P.MAX_NESTING:
            exc = RecursionError(
                f"more than {P.MAX_NESTING} calls nested between the tests and the candidate's code"
            )
            return {"i": rid, "x": self._describe(exc, remember=False)}
        # The target must be an object the test handed out: never a value the
        # candidate made up (``getattr("{0.__globals__}", "format")``).
        targets = raw[1:3] if op == "cmp" else raw[:1]
        if not any(_is_test_ref(t) for t in targets):
            return {"i": rid, "p": f"{op} needs a reference to a test-side object"}
        try:
            try:
                args = [self.decoder.decode(a) for a in raw]
            except P.ProtocolError as exc:
                return {"i": rid, "p": str(exc)}
            if op == "cmp":
                if len(args) != 3:
                    return {"i": rid, "p": "malformed comparison"}
                result = ReverseOps.compare(*args)
            else:
                result = self.reverse_ops.serve(op, args[0], args[1:])
            return {"i": rid, "v": self.result_encoder.encode(result)}
        except Refused as refusal:
            self.findings.refused(refusal.what)
            return {"i": rid, "x": self._describe(refusal.for_candidate(), remember=False)}
        except P.ProtocolError as exc:
            return {"i": rid, "p": str(exc)}
        except P.EncodeError as exc:
            return {"i": rid, "p": f"the result cannot be sent: {exc}"}
        except Exception as exc:  # the test's own code raised: it crosses as data
            if self.sock is None:
                raise  # a nested call lost the candidate process
            if isinstance(exc, AssertionError) and len(self.callback_assertions) < 100:
                self.callback_assertions.append(exc)
            return {"i": rid, "x": self._describe(exc)}

    def _describe(self, exc: BaseException, remember: bool = True) -> dict[str, Any]:
        """An exception of the test side, for the candidate: class, args and message
        (data only), never its traceback; an assertion's text stays here."""
        if isinstance(exc, AssertionError):
            desc: dict[str, Any] = {
                "c": {"m": "builtins", "q": "AssertionError"},
                "a": [_CALLBACK_ASSERTION],
                "s": _CALLBACK_ASSERTION,
                "d": {},
                "tb": None,
            }
        else:
            desc = P.describe_exception(exc, P.data_only, P.data_only, None)
        if remember:
            token = self.next_origin
            self.next_origin += 1
            self.origins[token] = exc
            while len(self.origins) > _MAX_ORIGINS:
                del self.origins[next(iter(self.origins))]
            desc["o"] = token
        return desc
