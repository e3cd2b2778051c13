"""Test-side proxies of process isolation: what a test holds of the candidate's objects.

``RemoteObject`` stands for one object that lives in the candidate process: it
forwards attribute access, calls, ``str``/``repr``/``len``/iteration/item access/
``with``/arithmetic and comparisons. Comparing a proxy with local data by ``==`` is
always False (``!=`` always True) without asking the candidate, and every comparison
result is checked to be a real ``bool``. ``RemoteModule`` is what ``import mod``
gives for a module of the submission (see rpc_finder.py).

Standard library only; never imports ``grader`` or ``runners``.
"""

from __future__ import annotations

import collections.abc
import types
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, SupportsIndex

from rpc_errors import CandidateError, CandidateProtocolError, CannotTransfer

if TYPE_CHECKING:
    from rpc_connection import Connection

# Module dunders that are looked up remotely; the import system and inspect probe
# the others (``__file__``...), which must not cost a round trip or fail remotely.
_MODULE_REMOTE_DUNDERS = frozenset({"__all__", "__version__", "__author__", "__doc__"})
_MAX_PATH = 8


def is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def label(obj: object) -> str:
    """How messages name a remote object: its attribute path, or its type."""
    if isinstance(obj, RemoteModule):
        return f"module {obj.__name__}"
    if isinstance(obj, RemoteObject):
        path = obj._grader_path
        if path is not None:
            return ".".join((path[0], *path[1]))
        return f"<remote {obj._grader_type}>"
    return type(obj).__name__


def describe_call(op: str, args: tuple[object, ...]) -> str:
    """``the call to solution.add()``, ``reading solution.Account.x``... for messages."""
    target = label(args[0]) if args else ""
    if op == "call":
        return f"the call to {target}()"
    if op in ("getattr", "setattr", "delattr") and len(args) > 1:
        verb = {"getattr": "reading", "setattr": "setting", "delattr": "deleting"}[op]
        return f"{verb} {target}.{args[1]}"
    if op == "import" and args:
        return f"the import of {args[0]}"
    if op in ("binop", "unop") and len(args) > 1:
        return f"the {args[0]} operation on {label(args[1])}"
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


def remote_getattr(proxy: RemoteObject, name: str) -> object:
    __tracebackhide__ = True
    conn = proxy._grader_conn
    try:
        value = conn.call("getattr", proxy, name)
    except CandidateError as exc:
        if is_dunder(name) or name.startswith("_pytest"):
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
    proxy = a if isinstance(a, RemoteObject) else b
    assert isinstance(proxy, RemoteObject)
    try:
        # Only data and the candidate's own objects: a local object's reflected
        # method gets its turn (NotImplemented), as between two local objects.
        return proxy._grader_conn.call("binop", name, a, b, export=False, notes=False)
    except CannotTransfer:
        return NotImplemented


def _compare(name: str, a: object, b: object) -> object:
    __tracebackhide__ = True
    result = _binop(name, a, b)
    return result if result is NotImplemented else _bool(result)


def _is_remote(value: object) -> bool:
    return isinstance(value, (RemoteObject, RemoteModule))


def _doc(self: RemoteObject) -> object:
    return remote_getattr(self, "__doc__")


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

    @classmethod
    def make(cls, conn: Connection, rid: int, generation: int, type_name: str) -> RemoteObject:
        proxy = cls.__new__(cls)
        set_ = object.__setattr__
        set_(proxy, "_grader_conn", conn)
        set_(proxy, "_grader_rid", rid)
        set_(proxy, "_grader_gen", generation)
        set_(proxy, "_grader_type", type_name[:200])
        set_(proxy, "_grader_path", None)
        return proxy

    def __del__(self) -> None:
        try:  # noqa: SIM105 - (cheaper than contextlib.suppress, on every proxy)
            self._grader_conn.released.append((self._grader_gen, self._grader_rid))
        except Exception:  # interpreter shutdown, half-built proxy
            pass

    __doc__ = property(_doc)

    def _rpc(self, op: str, *args: object) -> object:
        __tracebackhide__ = True
        return self._grader_conn.call(op, self, *args)

    def __getattr__(self, name: str) -> object:
        __tracebackhide__ = True
        if name.startswith("_grader_"):
            raise AttributeError(name)
        return remote_getattr(self, name)

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

    def __iter__(self) -> RemoteObject:
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
            return _bool(self._grader_conn.call("isinstance", obj, self, export=False, notes=False))
        except CannotTransfer:
            return False

    def __subclasscheck__(self, sub: object) -> bool:
        try:
            return _bool(self._grader_conn.call("issubclass", sub, self, export=False, notes=False))
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

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
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


# The module's own namespace (its __dict__ property shows the remote one).
_module_dict: Callable[[types.ModuleType], dict[str, Any]] = vars(types.ModuleType)[
    "__dict__"
].__get__


class _RemoteNamespace(collections.abc.Mapping[str, object]):
    """``vars(module)`` of a remote module: names are looked up remotely on demand
    (so ``monkeypatch`` and ``mock.patch`` see the candidate's module globals)."""

    def __init__(self, module: RemoteModule) -> None:
        self._module = module

    def __getitem__(self, name: str) -> object:
        local = _module_dict(self._module)
        if type(name) is not str:
            raise KeyError(name)
        if name in local:
            return local[name]
        try:
            return remote_getattr(self._module._grader_module_proxy(), name)
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

    @property
    def __dict__(self) -> Mapping[str, object]:  # type: ignore[override]  # a view, not the dict
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
        assert isinstance(proxy, RemoteObject)
        return proxy

    def __getattr__(self, name: str) -> object:
        __tracebackhide__ = True
        if name.startswith("_grader_") or (is_dunder(name) and name not in _MODULE_REMOTE_DUNDERS):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        proxy = self._grader_module_proxy()
        if name == "__all__":
            try:
                return remote_getattr(proxy, name)
            except AttributeError:
                names = _module_dict(self)["_grader_conn"].call("exports", proxy)
                if type(names) is not list or not all(type(n) is str for n in names):
                    raise CandidateProtocolError("exports must be a list of names") from None
                return names
        return remote_getattr(proxy, name)

    def __setattr__(self, name: str, value: object) -> None:
        __tracebackhide__ = True
        if is_dunder(name) or isinstance(value, RemoteModule):
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
