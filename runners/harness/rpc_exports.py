"""Test-side objects handed to the candidate's code by reference, and the narrow
reverse channel: what the candidate's code may do with them.

A test may pass any object to candidate code (a lambda, a ``Mock``, an open file,
a bound method...). It stays in the test process, in an ``ExportTable``, and crosses
as ``["q", id, type]``; the candidate side gets a proxy whose operations come back
here as requests (``rpc_protocol.CANDIDATE_OPS``). ``ReverseOps`` serves them, and
this is the security boundary: the candidate side is not trusted to ask for only
what its proxy asks for. Allowed: call, public attribute reads, iteration, item
access, ``len``, ``in``, comparisons, ``bool``, ``hash``, ``str``/``repr``/``format``
and ``with``. Refused (``Refused``, recorded as tampering by the caller): attribute
writes and deletes, any name starting with ``_``, the public names that lead to
frames and code (``gi_frame``, ``f_globals``, ``tb_frame``...), the methods that
rewrite a ``Mock``'s own checks, and any result that would hand the candidate a
module, a frame, a code object, a traceback, a closure cell, a namespace (globals)
dict, or an object of pytest, pluggy, the harness or the modules that reach into a
process (``sys``, ``gc``, ``inspect``, ``importlib``, ``ctypes``...).

Standard library only; never imports ``grader`` or ``runners``.
"""

from __future__ import annotations

import operator
import sys
import types
from collections.abc import Callable
from typing import Any

import rpc_protocol as P
from rpc_errors import Refused

# Modules whose objects never reach the candidate (their top-level package name).
HARNESS_MODULES = frozenset(
    {
        "rpc_client", "rpc_connection", "rpc_errors", "rpc_exports", "rpc_finder",
        "rpc_findings", "rpc_protocol", "rpc_proxies", "rpc_server", "_grader_rpc_protocol",
        "pytest_boot", "launcher", "test_grader_sentinel", "grader_perf", "grader_load",
        "grader_contract",
    }
)  # fmt: skip
RUNNER_MODULES = frozenset({"pytest", "_pytest", "pluggy", "py", "iniconfig", "pytest_timeout"})
# Modules that reach into the running process: their functions and objects stay here.
INTROSPECTION_MODULES = frozenset(
    {
        "sys", "gc", "inspect", "ctypes", "_ctypes", "importlib", "pickle", "_pickle",
        "marshal", "code", "codeop", "pdb", "bdb", "faulthandler", "tracemalloc", "runpy",
        "zipimport", "_imp",
    }
)  # fmt: skip
FORBIDDEN_OWNERS = HARNESS_MODULES | RUNNER_MODULES | INTROSPECTION_MODULES

# Public names that lead to frames, code objects or their globals.
BLOCKED_NAMES = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await",
        "cr_origin", "ag_frame", "ag_code", "ag_await", "f_globals", "f_locals",
        "f_builtins", "f_back", "f_code", "f_trace", "f_lineno", "f_lasti", "tb_frame",
        "tb_next", "tb_lasti", "tb_lineno", "func_globals", "func_code", "func_closure",
        "im_func", "im_self", "cell_contents",
    }
)  # fmt: skip
# Methods of unittest.mock objects that would rewrite what the test later asserts
# (``configure_mock(assert_called_once_with=...)``) or erase what was recorded.
MOCK_MUTATORS = frozenset({"configure_mock", "attach_mock", "mock_add_spec", "reset_mock"})
# Dunders read as data (for functools.wraps, logging...): only when they are strings.
META_NAMES = frozenset({"__name__", "__qualname__", "__module__", "__doc__"})
# Test-side objects the candidate's code may hold at once.
MAX_EXPORTS = 100_000

_NAMED_KINDS: tuple[tuple[type, str], ...] = (
    (types.ModuleType, "a module"),
    (types.FrameType, "a frame"),
    (types.CodeType, "a code object"),
    (types.TracebackType, "a traceback"),
    (types.CellType, "a closure cell"),
)


def type_name(obj: object) -> str:
    name: str = P._class_attr(type(obj), "__qualname__", "object")
    return name[:200]


def _top(module: object) -> str:
    return module.partition(".")[0] if isinstance(module, str) else ""


def _owners(obj: object) -> list[str]:
    """The modules an object belongs to: its class's, and for classes, functions and
    methods their own (and that of what a method is bound to)."""
    owners = [P._class_attr(type(obj), "__module__", "")]
    if isinstance(obj, type):
        owners.append(P._class_attr(obj, "__module__", ""))
    elif isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        module = getattr(obj, "__module__", None)
        owners.append(module if isinstance(module, str) else "")
        bound = getattr(obj, "__self__", None)
        if isinstance(bound, types.ModuleType):
            owners.append(bound.__name__)
        elif bound is not None:
            owners.append(P._class_attr(type(bound), "__module__", ""))
            if isinstance(bound, type):
                owners.append(P._class_attr(bound, "__module__", ""))
    return owners


def why_not(obj: object) -> str | None:
    """Why ``obj`` may not be handed to the candidate's code (None when it may)."""
    for kind, name in _NAMED_KINDS:
        if isinstance(obj, kind):
            return name
    for owner in _owners(obj):
        if _top(owner) in FORBIDDEN_OWNERS:
            return f"an object of {owner} ({type_name(obj)})"
    return None


def why_not_dict(value: dict[Any, Any]) -> str | None:
    """Why a dict may not cross as data: a module's or a function's globals."""
    if dict.__contains__(value, "__builtins__"):
        return "a namespace of globals (a module's or a function's)"
    return None


def _is_mock(obj: object) -> bool:
    mock = sys.modules.get("unittest.mock")
    base = getattr(mock, "NonCallableMock", None)
    return isinstance(base, type) and isinstance(obj, base)


class ExportTable:
    """Test-side objects the candidate's code holds, by id (one id per live object),
    kept alive until the candidate side releases them."""

    def __init__(self) -> None:
        self.objects: dict[int, object] = {}
        self.ids: dict[int, int] = {}
        self.next_id = 1

    def __len__(self) -> int:
        return len(self.objects)

    def export(self, obj: object) -> list[object]:
        qid = self.ids.get(id(obj))
        if qid is None:
            if len(self.objects) >= MAX_EXPORTS:
                raise P.EncodeError(
                    f"the candidate's code already holds {MAX_EXPORTS} test-side objects"
                )
            qid = self.next_id
            self.next_id += 1
            self.objects[qid] = obj
            self.ids[id(obj)] = qid
        return ["q", qid, type_name(obj), P.ref_flags(obj)]

    def get(self, qid: int) -> object:
        try:
            return self.objects[qid]
        except KeyError:
            raise P.ProtocolError(
                f"unknown test-side reference {qid} (released, or never handed out)"
            ) from None

    def holds(self, obj: object) -> bool:
        qid = self.ids.get(id(obj))
        return qid is not None and self.objects.get(qid) is obj

    def release(self, qids: object) -> None:
        if type(qids) is not list:
            return
        for qid in qids:
            if type(qid) is not int:
                continue
            obj = self.objects.pop(qid, None)
            if obj is not None and self.ids.get(id(obj)) == qid:
                del self.ids[id(obj)]

    def clear(self) -> None:
        self.objects.clear()
        self.ids.clear()


def _what(obj: object) -> str:
    return f"a test-side {type_name(obj)}"


class ReverseOps:
    """Runs the candidate side's requests on test-side objects, within the rules.

    ``serve(op, target, args)`` returns the result (which the caller still encodes
    under ``why_not``) or raises ``Refused``; exceptions of the test-side code itself
    propagate.
    """

    def __init__(self) -> None:
        self._ops: dict[str, Callable[..., object]] = {
            "call": self.op_call,
            "getattr": self.op_getattr,
            "meta": self.op_meta,
            "setattr": self.op_setattr,
            "delattr": self.op_delattr,
            "iter": iter,
            "next": next,
            "getitem": operator.getitem,
            "len": len,
            "contains": operator.contains,
            "bool": bool,
            "hash": hash,
            "str": str,
            "repr": repr,
            "format": self.op_format,
            "enter": self.op_enter,
            "exit": self.op_exit,
        }

    def serve(self, op: str, target: object, args: list[object]) -> object:
        fn = self._ops.get(op)
        if fn is None:
            raise Refused(f"the operation {op!r} on {_what(target)}")
        return fn(target, *args)

    @staticmethod
    def compare(name: object, a: object, b: object) -> object:
        if name not in P.COMPARISONS:
            raise Refused(f"the comparison {name!r}")
        fn: Callable[[object, object], object] = getattr(operator, str(name))
        return fn(a, b)

    @staticmethod
    def op_call(fn: Any, args: object = None, kwargs: object = None) -> object:
        if type(args) is not list or (kwargs is not None and type(kwargs) is not dict):
            raise P.ProtocolError("malformed call")
        kw: dict[Any, Any] = kwargs or {}
        if not all(type(k) is str for k in kw):
            raise TypeError("keywords must be strings")
        return fn(*args, **kw)

    @staticmethod
    def op_getattr(obj: object, name: object) -> object:
        if type(name) is not str:
            raise P.ProtocolError("attribute name must be a string")
        if name.startswith("_"):
            raise Refused(
                f"reading the attribute {name[:60]!r} of {_what(obj)} (names starting "
                "with '_' are refused)",
                AttributeError,
            )
        if name in BLOCKED_NAMES:
            raise Refused(
                f"reading the attribute {name!r} of {_what(obj)} (it leads to frames or code)",
                AttributeError,
            )
        if name in MOCK_MUTATORS and _is_mock(obj):
            raise Refused(
                f"reading {name!r} of {_what(obj)} (it would rewrite what the test asserts)",
                AttributeError,
            )
        return getattr(obj, name)

    @staticmethod
    def op_meta(obj: object, name: object) -> object:
        if name not in META_NAMES:
            raise P.ProtocolError("meta is for __name__, __qualname__, __module__, __doc__")
        assert isinstance(name, str)
        value = getattr(obj, name, None)
        if type(value) is str or (value is None and name == "__doc__"):
            return value
        raise AttributeError(name)

    @staticmethod
    def op_setattr(obj: object, name: object, value: object = None) -> object:
        raise Refused(
            f"setting the attribute {str(name)[:60]!r} of {_what(obj)} (test-side objects "
            "are read-only)",
            AttributeError,
        )

    @staticmethod
    def op_delattr(obj: object, name: object) -> object:
        raise Refused(
            f"deleting the attribute {str(name)[:60]!r} of {_what(obj)} (test-side objects "
            "are read-only)",
            AttributeError,
        )

    @staticmethod
    def op_format(obj: object, spec: object = "") -> str:
        if type(spec) is not str:
            raise TypeError("format spec must be a str")
        return format(obj, spec)

    @staticmethod
    def op_enter(obj: object) -> object:
        try:
            enter = type(obj).__enter__  # type: ignore[attr-defined]
        except AttributeError:
            raise TypeError(
                f"{type_name(obj)!r} object does not support the context manager protocol"
            ) from None
        return enter(obj)

    @staticmethod
    def op_exit(obj: object, exc: object = None) -> bool:
        try:
            exit_ = type(obj).__exit__  # type: ignore[attr-defined]
        except AttributeError:
            raise TypeError(
                f"{type_name(obj)!r} object does not support the context manager protocol"
            ) from None
        if isinstance(exc, BaseException):
            return bool(exit_(obj, type(exc), exc, None))
        return bool(exit_(obj, None, None, None))
