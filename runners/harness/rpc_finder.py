"""The import hook of the test side: ``import mod`` of a submission module gives a
``RemoteModule`` whose attributes are read from the candidate process.

Standard library only; never imports ``grader`` or ``runners``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence

from rpc_connection import Connection
from rpc_errors import CandidateError
from rpc_proxies import RemoteModule


class RemoteFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """First on ``sys.meta_path``: the submission's modules resolve to RemoteModule."""

    def __init__(self, conn: Connection, modules: tuple[str, ...]) -> None:
        self.conn = conn
        self.modules = frozenset(modules)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in self.modules:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> RemoteModule:
        return RemoteModule(spec.name, self.conn)

    def exec_module(self, module: types.ModuleType) -> None:
        __tracebackhide__ = True
        assert isinstance(module, RemoteModule)
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
