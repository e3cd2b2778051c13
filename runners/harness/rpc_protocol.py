"""Wire format shared by the test side (rpc_client) and the candidate side (rpc_server).

Standard library only: this file is copied into the sandbox and must not import
``grader`` or ``runners``.

Framing
    Each message is one frame: a 4-byte big-endian length, then that many bytes of
    JSON (ASCII; ``NaN``/``Infinity`` literals refused). Frames larger than
    ``MAX_FRAME`` are refused by both sides. Nothing is ever pickled or marshalled.

Messages
    request  ``{"i": id, "o": op, "a": [value, ...], "r": [ref ids to release]}``
    replies  ``{"i": id, "v": value}``   the operation's result
             ``{"i": id, "x": exc}``     the operation raised (see *exceptions*)
             ``{"i": id, "p": text}``    the request itself was refused
    Any message may carry ``"r"``: ids of the *receiver's* references that the sender
    no longer holds (see *references*).

Calls in both directions
    The test side sends requests (``TEST_OPS`` are served by the candidate side).
    While it waits for a reply, the candidate side may send requests of its own
    (``CANDIDATE_OPS``, on references to test-side objects); the test side serves
    them, and may call the candidate again while it does, to any depth up to
    ``MAX_NESTING`` outstanding requests. Each side numbers its own requests; a
    message with ``"o"`` is a request, any other is the reply to the innermost
    request its receiver has outstanding (anything else breaks the protocol).

Values
    ``null``/``true``/``false``, JSON strings, JSON integers (``|n| < 2**63``) and
    finite JSON floats stand for themselves; everything else is a tagged JSON array:

    ``["I", hex]`` big int          ``["F", "nan"|"inf"|"-inf"]`` non-finite float
    ``["b", base64]`` bytes         ``["ba", base64]`` bytearray
    ``["l", [v...]]`` list          ``["t", [v...]]`` tuple
    ``["s", [v...]]`` set           ``["fs", [v...]]`` frozenset
    ``["d", [k, v, k, v...]]`` dict (keys are any hashable value)
    ``["c", re, im]`` complex       ``["sl", a, b, c]`` slice   ``["rg", a, b, c]`` range
    ``["el"]`` Ellipsis             ``["B", name]`` a builtin (the test side accepts types only)
    ``["dec", str]`` Decimal        ``["frac", hex, hex]`` Fraction
    ``["date", y, m, d]``, ``["dt", [y, m, d, H, M, S], [us, fold], tz]``,
    ``["tm", [H, M, S, us, fold], tz]``, ``["td", days, s, us]``, ``["tz", tz]``
        datetime values (tz: ``[days, s, us]`` of a fixed offset, or null)
    ``["uuid", hex]``  ``["path", "PosixPath"|"PurePosixPath", str]``
    ``["dq", [v...], maxlen]`` deque   (these standard types cross only when exact)
    ``["nt", module, qualname, [field...], [v...]]`` a namedtuple instance
    ``["r", id, type name]`` a reference to an object kept alive by the candidate side
        (the test side sends ``["r", id]``)
    ``["q", id, type name, flags]`` a reference to an object kept alive by the test
        side (the candidate side sends ``["q", id]``); ``flags`` (``REF_*``) say
        which protocols the object has, so the candidate's proxy has just those
    ``["x", exc]`` an exception instance, ``["E", cls]`` an exception class

    Instances of subclasses of the builtin types travel as the exact builtin type:
    their value is read with the base type's own C methods (``int.__int__``,
    ``str.__str__``, ``list.copy``, ``dict.items``...), so no method the subclass
    overrides runs and ``class Evil(int)`` arrives as a plain ``int``.

References
    A side keeps every object it sends as a reference in a table (one id per live
    object) until the other side releases the id with ``"r"``. The receiver keeps one
    proxy per id and counts how often it received the id while that proxy lived; it
    releases the id when the count drops to zero, so an id that crosses again while
    its release is on the way stays valid.

Authentication (a server started with a secret: the reference solution's, in a
performance run)
    Before any request the server sends ``{"auth": "challenge", "n": nonce_s}``; the
    client answers ``{"auth": "response", "n": nonce_c, "p": proof("client")}``; the
    server checks it and answers ``{"auth": "ok", "p": proof("server")}``, which the
    client checks in turn (see ``auth_proof``). Neither side ever sends the secret,
    so a client without it is refused before anything is served, and a process that
    took the server's port cannot pass for it. A server without a secret (the
    candidate's) sends nothing first.

Benchmarks (``perf_*`` operations)
    ``perf_stage(args, kwargs)`` keeps a call's arguments on the serving side and
    returns a reference to them; ``perf_run(fn, staged, k)`` calls ``fn`` with them
    ``k`` times in a row, with the cyclic garbage collector paused (as ``timeit``
    does), and returns None (``k = 0``: nothing, the cost of a crossing alone);
    ``perf_result(staged)`` is what the last call returned. The client times
    ``perf_run`` itself, on its side: the serving side reports nothing but completion.

Exceptions
    cls: ``{"m": module, "q": qualname, "b": [cls...]}`` (``b``: exception bases;
    builtin exception classes are just ``{"m": "builtins", "q": name}``).
    exc: ``{"c": cls, "a": [args as data] | null, "s": str(exc), "d": {attr: value},
    "tb": remote traceback text | null, "o": origin | absent}``. ``o`` is a token the
    test side puts on an exception raised by test-side code; an exception the
    candidate side lets through carries it back, so the test side re-raises the
    original object.
"""

from __future__ import annotations

import base64
import builtins
import collections
import hashlib
import hmac
import json
import math
import secrets
import struct
from collections.abc import Callable, Iterable
from typing import Any, Protocol

# A wire value: JSON made of None, bool, int, float, str, lists and dicts.
Wire = Any
OnOther = Callable[[object], Wire]

PROTOCOL_VERSION = 2
MAX_FRAME = 16 * 1024 * 1024
# Nesting refused when decoding (a value nested deeper is a protocol error).
MAX_DEPTH = 200
# Nesting at which the candidate side stops encoding data and sends a reference.
ENCODE_DEPTH = 100
# Upper bound of values in one message (each container and scalar counts one).
MAX_NODES = 2_000_000
MAX_NAME = 300
# Requests outstanding at once on one connection, both directions counted (a test
# calls the candidate, which calls a test callback, which calls the candidate...).
MAX_NESTING = 32

# Operations the candidate side serves (sent by the test side).
TEST_OPS = frozenset(
    {
        "hello", "ping", "import", "getattr", "setattr", "delattr", "call", "str", "repr",
        "len", "bool", "hash", "iter", "next", "dir", "format", "round", "getitem",
        "setitem", "delitem", "contains", "binop", "unop", "enter", "exit", "exports",
        "isinstance", "issubclass", "perf_stage", "perf_run", "perf_result",
    }
)  # fmt: skip
# The most calls one ``perf_run`` makes.
MAX_BENCH_CALLS = 10_000_000
# Operations the test side serves on references to its objects (sent by the candidate
# side). ``setattr``/``delattr`` are always refused: they exist so that the attempt
# reaches the test side and is recorded. ``meta`` reads ``__name__``, ``__qualname__``,
# ``__module__`` or ``__doc__`` when it is a string.
CANDIDATE_OPS = frozenset(
    {
        "call", "getattr", "meta", "setattr", "delattr", "iter", "next", "getitem", "len",
        "contains", "cmp", "bool", "hash", "str", "repr", "format", "enter", "exit",
    }
)  # fmt: skip
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")

# What a test-side object supports (the flags of a ``["q", ...]`` reference).
REF_CALL = 1
REF_ITER = 2
REF_NEXT = 4
REF_LEN = 8
REF_CONTAINS = 16
REF_GETITEM = 32
REF_WITH = 64
REF_BOOL = 128
REF_HASH = 256
_REF_SLOTS = (
    (REF_ITER, "__iter__"),
    (REF_NEXT, "__next__"),
    (REF_LEN, "__len__"),
    (REF_CONTAINS, "__contains__"),
    (REF_GETITEM, "__getitem__"),
    (REF_BOOL, "__bool__"),
)


def _type_slot(tp: type, name: str) -> object:
    """What the class defines for ``name`` (found along its MRO, no descriptor run)."""
    for klass in type.__dict__["__mro__"].__get__(tp):
        namespace = type.__dict__["__dict__"].__get__(klass)
        if name in namespace:
            return namespace[name]
    return None


def ref_flags(obj: object) -> int:
    """The ``REF_*`` flags of ``obj`` (looked up on its type, as Python does)."""
    tp = type(obj)
    flags = REF_CALL if callable(obj) else 0
    for flag, name in _REF_SLOTS:
        if _type_slot(tp, name) is not None:
            flags |= flag
    if _type_slot(tp, "__enter__") is not None and _type_slot(tp, "__exit__") is not None:
        flags |= REF_WITH
    if flags & REF_LEN:
        flags |= REF_BOOL  # bool() falls back to len()
    if _type_slot(tp, "__hash__") is not None:
        flags |= REF_HASH
    return flags


_HEADER = struct.Struct(">I")
_INT_LIMIT = 1 << 63


class ProtocolError(Exception):
    """A frame or a message that does not follow the protocol."""


class EncodeError(Exception):
    """A value that cannot cross the process boundary."""


# ---------------------------------------------------------------------------
# framing


def pack_frame(payload: bytes) -> bytes:
    """The bytes that carry ``payload`` as one frame."""
    if len(payload) > MAX_FRAME:
        raise EncodeError(f"message of {len(payload)} bytes exceeds the {MAX_FRAME}-byte limit")
    return _HEADER.pack(len(payload)) + payload


class _Socket(Protocol):
    def sendall(self, data: bytes, /) -> object: ...

    def recv(self, size: int, /) -> bytes: ...


def send_frame(sock: _Socket, payload: bytes) -> None:
    """Write one frame (header and payload in one ``sendall``)."""
    sock.sendall(pack_frame(payload))


class FrameReader:
    """Reads frames from a socket, keeping what arrived past the last frame visible
    (``pending``), so unsolicited bytes can be detected."""

    def __init__(self, sock: _Socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def pending(self) -> int:
        return len(self.buf)

    def read_frame(self) -> bytes | None:
        """The next frame's payload; None on a clean end of stream between frames.

        ProtocolError on a truncated frame or a length over ``MAX_FRAME``.
        """
        buf = self.buf
        while True:
            if len(buf) >= 4:
                (size,) = _HEADER.unpack_from(buf)
                if size > MAX_FRAME:
                    raise ProtocolError(f"frame of {size} bytes exceeds the {MAX_FRAME}-byte limit")
                if len(buf) >= 4 + size:
                    payload = bytes(buf[4 : 4 + size])
                    del buf[: 4 + size]
                    return payload
                want = 4 + size - len(buf)
            else:
                want = 4 - len(buf)
            chunk = self.sock.recv(max(want, 1 << 16))
            if not chunk:
                if buf:
                    raise ProtocolError("connection closed inside a frame")
                return None
            buf += chunk


def _refuse_constant(name: str) -> object:
    raise ValueError(f"JSON constant {name} is not allowed")


def dumps(message: object) -> bytes:
    """Serialise a message (already made of JSON types) to frame payload bytes."""
    try:
        text = json.dumps(message, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as exc:
        raise EncodeError(f"cannot serialise message: {exc}") from None
    return text.encode("ascii")


def loads(payload: bytes) -> dict[str, Any]:
    """Parse a frame payload into a message dict; ProtocolError when malformed."""
    try:
        message = json.loads(payload.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(f"malformed message: {str(exc)[:200]}") from None
    if type(message) is not dict:
        raise ProtocolError("a message must be a JSON object")
    return message


# ---------------------------------------------------------------------------
# authentication

AUTH_FRAME_LIMIT = 1024
AUTH_SECONDS = 5.0


def new_nonce() -> str:
    return secrets.token_hex(16)


def auth_proof(secret: str, role: str, their_nonce: str, own_nonce: str) -> str:
    """What ``role`` ("client" or "server") sends to prove it holds ``secret``: an HMAC
    over both nonces, the other side's first, so no proof is ever valid twice."""
    text = f"{role}\0{their_nonce}\0{own_nonce}".encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


def proof_matches(expected: str, given: object) -> bool:
    return type(given) is str and hmac.compare_digest(
        expected.encode(), given.encode("ascii", "replace")
    )


def valid_nonce(value: object) -> bool:
    return type(value) is str and 16 <= len(value) <= 128 and value.isalnum()


# ---------------------------------------------------------------------------
# names


def valid_dotted(name: object, allow_locals: bool = False) -> bool:
    """True for ``a.b.c`` made of identifiers (and ``<locals>`` in a qualname)."""
    if type(name) is not str or not name or len(name) > MAX_NAME:
        return False
    for part in name.split("."):
        if not (part.isidentifier() or (allow_locals and part == "<locals>")):
            return False
    return True


# ---------------------------------------------------------------------------
# encoding


def _is_exc_class(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


def _class_attr(cls: type, attr: str, default: str) -> str:
    try:
        value = type.__dict__[attr].__get__(cls, type)
    except Exception:  # a hostile metaclass may raise anything
        return default
    return str.__str__(value) if isinstance(value, str) else default


def describe_class(cls: type, _depth: int = 0) -> dict[str, Any]:
    """The wire description of an exception class (with its exception bases)."""
    name = _class_attr(cls, "__name__", "Exception")
    module = _class_attr(cls, "__module__", "")
    if module == "builtins" and getattr(builtins, name, None) is cls:
        return {"m": "builtins", "q": name}
    qualname = _class_attr(cls, "__qualname__", name)
    if not valid_dotted(module):
        module = "unknown"
    if not valid_dotted(qualname, allow_locals=True):
        qualname = name if name.isidentifier() else "Exception"
    bases = []
    if _depth < 30:
        try:
            raw_bases = type.__dict__["__bases__"].__get__(cls, type)
        except Exception:
            raw_bases = (Exception,)
        for base in tuple.__getitem__(raw_bases, slice(0, 8)):
            if _is_exc_class(base):
                bases.append(describe_class(base, _depth + 1))
    if not bases:
        bases.append({"m": "builtins", "q": "Exception"})
    return {"m": module, "q": qualname, "b": bases}


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
        if isinstance(text, str):
            return str.__str__(text)
    except Exception:  # candidate __str__ may raise anything
        pass
    return f"<unprintable {type(exc).__name__} object>"


class Encoder:
    """Turns Python values into wire values.

    ``on_other(obj)`` handles anything that is not data (the candidate side returns
    a reference, the test side exports a reference or raises EncodeError). Values
    nested deeper than ``max_depth``, and containers that contain themselves, go to
    ``on_other`` too. ``inspect(obj)``, when given, sees every dict, every string
    that starts with ``/`` and every path before they are encoded (it may raise
    EncodeError).
    """

    def __init__(
        self,
        on_other: OnOther,
        max_depth: int = ENCODE_DEPTH,
        inspect: Callable[[object], None] | None = None,
    ) -> None:
        self.on_other = on_other
        self.max_depth = max_depth
        self.inspect = inspect
        self.nodes = 0
        self._path: set[int] = set()

    def encode(self, value: object) -> Wire:
        self.nodes = 0
        self._path.clear()
        return self._enc(value, 0)

    def _seq(self, items: Iterable[object], depth: int) -> list[Wire]:
        return [self._enc(item, depth) for item in items]

    def _container(self, value: Any, depth: int) -> Wire:
        key = id(value)
        if key in self._path or depth >= self.max_depth:
            return self.on_other(value)
        if self.inspect is not None and isinstance(value, dict):
            self.inspect(value)
        self._path.add(key)
        try:
            return self._container_body(value, type(value), depth + 1)
        finally:
            self._path.discard(key)

    def _container_body(self, value: Any, tp: type, depth: int) -> Wire:
        if tp is list:
            return ["l", self._seq(value, depth)]
        if tp is tuple:
            return ["t", self._seq(value, depth)]
        if tp is dict:
            flat = []
            for k, v in dict.items(value):
                flat.append(self._enc(k, depth))
                flat.append(self._enc(v, depth))
            return ["d", flat]
        if issubclass(tp, list):
            return ["l", self._seq(list.copy(value), depth)]
        if issubclass(tp, tuple):
            items = tuple.__getitem__(value, slice(None))
            fields = self._namedtuple_fields(tp, len(items))
            if fields is not None:
                return [
                    "nt",
                    _class_attr(tp, "__module__", ""),
                    _class_attr(tp, "__qualname__", "namedtuple"),
                    list(fields),
                    self._seq(items, depth),
                ]
            return ["t", self._seq(items, depth)]
        if issubclass(tp, dict):
            if issubclass(tp, collections.OrderedDict):
                pairs = list(collections.OrderedDict.items(value))
            else:
                pairs = list(dict.items(value))
            flat = []
            for k, v in pairs:
                flat.append(self._enc(k, depth))
                flat.append(self._enc(v, depth))
            return ["d", flat]
        if issubclass(tp, frozenset):
            return ["fs", self._seq(list(frozenset.__iter__(value)), depth)]
        if issubclass(tp, set):
            return ["s", self._seq(list(set.__iter__(value)), depth)]
        if issubclass(tp, BaseException):
            return ["x", describe_exception(value, self._data_only, self._enc_attr(depth))]
        if _stdlib_type(tp) == ("collections", "deque"):
            return ["dq", self._seq(list(value), depth), value.maxlen]
        raise AssertionError(tp)  # pragma: no cover - _enc only sends the types above

    @staticmethod
    def _namedtuple_fields(tp: type, length: int) -> tuple[str, ...] | None:
        try:
            fields = type.__getattribute__(tp, "_fields")
        except Exception:
            return None
        if type(fields) is not tuple or len(fields) != length or length > 255:
            return None
        if not all(type(f) is str and f.isidentifier() and not f.startswith("_") for f in fields):
            return None
        if len(set(fields)) != length:
            return None
        return fields

    def _data_only(self, value: object) -> Wire:
        sub = Encoder(_refuse, self.max_depth)
        return sub.encode(value)

    def _enc_attr(self, depth: int) -> Callable[[object], Wire]:
        def enc(value: object) -> Wire:
            return self._enc(value, depth)

        return enc

    # One branch per wire type, exact-type checks in the order of how often they occur:
    # the hot path of every crossing, where a dispatch table would cost a call per value.
    def _enc(self, value: Any, depth: int) -> Wire:  # noqa: C901
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise EncodeError(f"value has more than {MAX_NODES} parts")
        tp = type(value)
        if tp is str:
            if self.inspect is not None and value[:1] == "/":
                self.inspect(value)
            return value
        if value is None or tp is bool:
            return value
        if tp is int:
            return value if -_INT_LIMIT < value < _INT_LIMIT else ["I", hex(value)]
        if tp is float:
            return value if math.isfinite(value) else ["F", repr(value)]
        if tp is list or tp is tuple or tp is dict:
            return self._container(value, depth)
        if tp is bytes:
            return ["b", base64.b64encode(value).decode("ascii")]
        # Subclasses of builtin types: read the value with the base type's methods.
        if issubclass(tp, int):
            return self._enc(int.__int__(value), depth)
        if issubclass(tp, str):
            text = str.__str__(value)
            if self.inspect is not None and text[:1] == "/":
                self.inspect(text)
            return text
        if issubclass(tp, float):
            return self._enc(float.__float__(value), depth)
        if issubclass(tp, bytes):
            return ["b", base64.b64encode(bytes.__bytes__(value)).decode("ascii")]
        if issubclass(tp, bytearray):
            return ["ba", base64.b64encode(bytearray.copy(value)).decode("ascii")]
        if issubclass(tp, complex):
            c = complex.__complex__(value)
            return ["c", self._enc(c.real, depth), self._enc(c.imag, depth)]
        if issubclass(tp, (list, tuple, dict, set, frozenset, BaseException)):
            return self._container(value, depth)
        if tp is slice:
            return [
                "sl",
                self._enc(value.start, depth),
                self._enc(value.stop, depth),
                self._enc(value.step, depth),
            ]
        if tp is range:
            return ["rg", value.start, value.stop, value.step]
        if value is Ellipsis:
            return ["el"]
        if isinstance(value, type) and _is_exc_class(value):
            return ["E", describe_class(value)]
        if (tp is type or tp is _BUILTIN_FUNCTION) and _builtin_name(value) is not None:
            return ["B", _builtin_name(value)]
        std = _stdlib_value(value, tp)
        if std is not None:
            if std[0] == "dq":
                return self._container(value, depth)
            if std[0] == "path" and self.inspect is not None:
                self.inspect(value)
            return std
        return self.on_other(value)


_BUILTIN_FUNCTION = type(len)
# Builtin types the test side accepts back (as values, e.g. ``int`` or ``str``).
SAFE_BUILTIN_TYPES = frozenset(
    [
        "bool",
        "int",
        "float",
        "complex",
        "str",
        "bytes",
        "bytearray",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "object",
        "type",
        "range",
        "slice",
        "memoryview",
    ]
)


def _builtin_name(value: object) -> str | None:
    name = getattr(value, "__name__", None)
    if type(name) is str and getattr(builtins, name, None) is value:
        return name
    return None


# Exact standard-library value types that cross as data.
_STDLIB_VALUE_TYPES = {
    ("decimal", "Decimal"),
    ("fractions", "Fraction"),
    ("datetime", "date"),
    ("datetime", "datetime"),
    ("datetime", "time"),
    ("datetime", "timedelta"),
    ("datetime", "timezone"),
    ("uuid", "UUID"),
    ("pathlib", "PurePosixPath"),
    ("pathlib", "PosixPath"),
    ("collections", "deque"),
}


def _stdlib_type(tp: type) -> tuple[str, str] | None:
    """(module, name) when ``tp`` is exactly one of the standard value types.

    Looked up by identity under its public name (Python 3.13 defines ``PosixPath`` in
    ``pathlib._local``, but it is ``pathlib.PosixPath`` that crosses).
    """
    name = _class_attr(tp, "__name__", "")
    modules = __import__("sys").modules
    for module, known in _STDLIB_VALUE_TYPES:
        if known == name:
            mod = modules.get(module)
            if mod is not None and getattr(mod, name, None) is tp:
                return module, name
    return None


def _td(value: Any) -> list[int]:
    return [value.days, value.seconds, value.microseconds]


def _tz(tz: Any) -> Wire:
    """A fixed-offset timezone as [days, seconds, us], None for naive; raise otherwise."""
    if tz is None:
        return None
    if _stdlib_type(type(tz)) != ("datetime", "timezone"):
        raise EncodeError("only fixed-offset timezones cross")
    return _td(tz.utcoffset(None))


def _stdlib_value(value: Any, tp: type) -> list[Wire] | None:
    """The wire form of an exact standard-library value type, else None."""
    kind = _stdlib_type(tp)
    if kind is None:
        return None
    name = kind[1]
    try:
        if name == "Decimal":
            return ["dec", str(value)]
        if name == "Fraction":
            return ["frac", hex(value.numerator), hex(value.denominator)]
        if name == "date":
            return ["date", value.year, value.month, value.day]
        if name == "datetime":
            return [
                "dt",
                [value.year, value.month, value.day, value.hour, value.minute, value.second],
                [value.microsecond, value.fold],
                _tz(value.tzinfo),
            ]
        if name == "time":
            return [
                "tm",
                [value.hour, value.minute, value.second, value.microsecond, value.fold],
                _tz(value.tzinfo),
            ]
        if name == "timedelta":
            return ["td"] + _td(value)
        if name == "timezone":
            return ["tz", _tz(value)]
        if name == "UUID":
            return ["uuid", value.hex]
        if name in ("PurePosixPath", "PosixPath"):
            return ["path", name, str(value)]
        if name == "deque":
            return ["dq"]
    except EncodeError:
        return None
    return None


_ARGS_GETTER: Callable[[BaseException], tuple[object, ...]] = BaseException.__dict__["args"].__get__


def _refuse(value: object) -> Wire:
    raise EncodeError(f"not data: {type(value).__name__}")


def data_only(value: object) -> Wire:
    """``value`` as data; EncodeError for anything that would need a reference."""
    return Encoder(_refuse).encode(value)


def describe_exception(
    exc: BaseException,
    data_encode: Callable[[object], Wire],
    encode: Callable[[object], Wire],
    traceback_text: str | None = None,
) -> dict[str, Any]:
    """The wire description of an exception instance.

    ``data_encode`` encodes args (data only: on failure the args are left out and
    the receiver rebuilds the exception from its message); ``encode`` encodes
    attribute values (references allowed).
    """
    try:
        # the C getter: a subclass cannot override what it returns
        args: tuple[object, ...] = _ARGS_GETTER(exc)
        enc_args: list[Wire] | None = [data_encode(a) for a in args[:32]]
        if len(args) > 32:
            enc_args = None
    except Exception:
        enc_args = None
    attrs: dict[str, Wire] = {}
    try:
        namespace = BaseException.__dict__["__dict__"].__get__(exc)
        for key, value in list(dict.items(namespace))[:50]:
            if type(key) is str and key.isidentifier() and not key.startswith("__"):
                try:
                    attrs[key] = encode(value)
                except EncodeError:
                    continue
    except Exception:
        attrs = {}
    return {
        "c": describe_class(type(exc)),
        "a": enc_args,
        "s": _safe_str(exc),
        "d": attrs,
        "tb": traceback_text,
    }


# ---------------------------------------------------------------------------
# decoding


def build_exception(cls: type, args: tuple[object, ...] | None, message: str) -> BaseException:
    """An instance of ``cls`` made from its args (or its message), running no
    ``__init__`` but the builtin ones of the class's bases."""
    attempts: list[tuple[object, ...]] = [args] if args is not None else []
    attempts.append((message,))
    for attempt in attempts:
        try:
            made = cls(*attempt)
        except Exception:  # a class whose __init__ wants other args
            continue
        if isinstance(made, BaseException) and isinstance(made, cls):
            return made
    for attempt in attempts:
        try:
            made = cls.__new__(cls, *attempt)
            BaseException.__setattr__(made, "args", attempt)
        except Exception:
            continue
        if isinstance(made, BaseException):
            return made
    return Exception(message)


def _no_test_refs(item: list[Wire]) -> object:
    raise ProtocolError("references to test-side objects only go to the candidate side")


class Decoder:
    """Turns wire values into Python values (exact builtin types, plus what the hooks
    make of references, exceptions and namedtuples).

    Hooks: ``on_ref(item)`` (the whole ``["r", ...]`` array), ``on_test_ref(item)``
    (``["q", ...]``), ``on_exc_class(desc)``, ``on_exception(desc, args, decode)``
    with args already decoded (or None), ``on_namedtuple(module, qualname, fields,
    items)``, ``on_builtin(name)``.
    """

    def __init__(
        self,
        on_ref: Callable[[list[Wire]], object],
        on_exc_class: Callable[[dict[str, Any]], type],
        on_exception: Callable[
            [dict[str, Any], tuple[object, ...] | None, Callable[[Wire], object]], BaseException
        ],
        on_namedtuple: Callable[[str, str, tuple[str, ...], tuple[object, ...]], object],
        on_builtin: Callable[[str], object],
        max_depth: int = MAX_DEPTH,
        on_test_ref: Callable[[list[Wire]], object] = _no_test_refs,
    ) -> None:
        self.on_builtin = on_builtin
        self.on_ref = on_ref
        self.on_test_ref = on_test_ref
        self.on_exc_class = on_exc_class
        self.on_exception = on_exception
        self.on_namedtuple = on_namedtuple
        self.max_depth = max_depth

    def decode(self, value: Wire) -> object:
        return self._dec(value, 0)

    def _items(self, value: Wire, depth: int) -> list[object]:
        if type(value) is not list:
            raise ProtocolError("expected an array of values")
        return [self._dec(v, depth) for v in value]

    # One branch per wire tag (the mirror of _enc, for the same reason).
    def _dec(self, value: Wire, depth: int) -> object:  # noqa: C901
        tp = type(value)
        if value is None or tp is bool or tp is str or tp is int or tp is float:
            return value
        if tp is not list or not value or type(value[0]) is not str:
            raise ProtocolError(f"malformed value of type {tp.__name__}")
        if depth >= self.max_depth:
            raise ProtocolError(f"value nested deeper than {self.max_depth}")
        tag = value[0]
        n = len(value)
        depth += 1
        try:
            if tag == "l" and n == 2:
                return self._items(value[1], depth)
            if tag == "t" and n == 2:
                return tuple(self._items(value[1], depth))
            if tag == "d" and n == 2:
                flat = self._items(value[1], depth)
                if len(flat) % 2:
                    raise ProtocolError("dict with an odd number of items")
                return dict(zip(flat[0::2], flat[1::2], strict=True))
            if tag == "s" and n == 2:
                return set(self._items(value[1], depth))
            if tag == "fs" and n == 2:
                return frozenset(self._items(value[1], depth))
            if tag == "I" and n == 2 and type(value[1]) is str:
                return int(value[1], 16)
            if tag == "F" and n == 2 and value[1] in ("nan", "inf", "-inf"):
                return float(value[1])
            if tag in ("b", "ba") and n == 2 and type(value[1]) is str:
                raw = base64.b64decode(value[1].encode("ascii"), validate=True)
                return raw if tag == "b" else bytearray(raw)
            if tag == "c" and n == 3:
                re_, im = self._dec(value[1], depth), self._dec(value[2], depth)
                if type(re_) is not float or type(im) is not float:
                    raise ProtocolError("complex parts must be floats")
                return complex(re_, im)
            if tag == "sl" and n == 4:
                return slice(*(self._dec(v, depth) for v in value[1:]))
            if tag == "rg" and n == 4 and all(type(v) is int for v in value[1:]):
                return range(*value[1:])
            if tag == "el" and n == 1:
                return Ellipsis
            if tag == "r" and n in (2, 3) and type(value[1]) is int:
                return self.on_ref(value)
            if tag == "q" and 2 <= n <= 4 and type(value[1]) is int:
                return self.on_test_ref(value)
            if tag == "E" and n == 2 and type(value[1]) is dict:
                return self.on_exc_class(value[1])
            if tag == "x" and n == 2 and type(value[1]) is dict:
                desc = value[1]
                raw_args = desc.get("a")
                args = None if raw_args is None else tuple(self._items(raw_args, depth))

                def sub(v: Wire, depth: int = depth) -> object:
                    return self._dec(v, depth)

                return self.on_exception(desc, args, sub)
            if tag == "nt" and n == 5:
                module, qualname, fields = value[1], value[2], value[3]
                if not (
                    type(module) is str
                    and valid_dotted(qualname, allow_locals=True)
                    and type(fields) is list
                    and all(type(f) is str and f.isidentifier() for f in fields)
                ):
                    raise ProtocolError("malformed namedtuple")
                items = tuple(self._items(value[4], depth))
                if len(items) != len(fields):
                    raise ProtocolError("namedtuple length mismatch")
                return self.on_namedtuple(module, qualname, tuple(fields), items)
            if tag == "B" and n == 2 and type(value[1]) is str:
                return self.on_builtin(value[1])
            std = _decode_stdlib(tag, value, self, depth)
            if std is not _NO_VALUE:
                return std
        except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
            raise ProtocolError(f"malformed {tag!r} value: {str(exc)[:200]}") from None
        raise ProtocolError(f"unknown value tag {tag!r}")


_NO_VALUE = object()


def _ints(items: Wire, count: int) -> list[int]:
    if type(items) is not list or len(items) != count or any(type(i) is not int for i in items):
        raise ValueError("expected integers")
    return items


def _tz_from(raw: Wire) -> Any:
    import datetime

    if raw is None:
        return None
    return datetime.timezone(datetime.timedelta(*_ints(raw, 3)))


def _decode_stdlib(tag: str, value: list[Wire], decoder: Decoder, depth: int) -> object:
    """Standard-library value types (imported here on first use, never by name
    from the wire)."""
    n = len(value)
    if tag == "dec" and n == 2 and type(value[1]) is str and len(value[1]) < 10_000:
        import decimal

        return decimal.Decimal(value[1])
    if tag == "frac" and n == 3 and type(value[1]) is str and type(value[2]) is str:
        import fractions

        return fractions.Fraction(int(value[1], 16), int(value[2], 16))
    if tag in ("date", "dt", "tm", "td", "tz"):
        import datetime

        if tag == "date" and n == 4:
            return datetime.date(*_ints(value[1:], 3))
        if tag == "dt" and n == 4:
            us, fold = _ints(value[2], 2)
            y, mo, d, h, mi, sec = _ints(value[1], 6)
            return datetime.datetime(y, mo, d, h, mi, sec, us, _tz_from(value[3]), fold=fold)
        if tag == "tm" and n == 3:
            h, m, s, us, fold = _ints(value[1], 5)
            return datetime.time(h, m, s, us, _tz_from(value[2]), fold=fold)
        if tag == "td" and n == 4:
            return datetime.timedelta(*_ints(value[1:], 3))
        if tag == "tz" and n == 2 and value[1] is not None:
            return _tz_from(value[1])
    if tag == "uuid" and n == 2 and type(value[1]) is str:
        import uuid

        return uuid.UUID(hex=value[1])
    if tag == "path" and n == 3 and value[1] in ("PurePosixPath", "PosixPath"):
        import pathlib

        if type(value[2]) is not str:
            raise ValueError("path must be a string")
        return getattr(pathlib, value[1])(value[2])
    if tag == "dq" and n == 3 and (value[2] is None or type(value[2]) is int):
        import collections as _collections

        return _collections.deque(decoder._items(value[1], depth), value[2])
    return _NO_VALUE


def exc_class_names(desc: object) -> tuple[str, str]:
    """(module, qualname) of a class description, validated."""
    if not isinstance(desc, dict):
        raise ProtocolError("malformed exception class")
    module, qualname = desc.get("m"), desc.get("q")
    if not valid_dotted(module) or not valid_dotted(qualname, allow_locals=True):
        raise ProtocolError("malformed exception class name")
    assert isinstance(module, str) and isinstance(qualname, str)
    return module, qualname


def builtin_exception(name: str) -> type | None:
    """The builtin exception class called ``name``, if there is one."""
    cls = getattr(builtins, name, None)
    return cls if _is_exc_class(cls) else None
