"""Subprocess side of ``grader.tamper``: scan a submission's source for harness tampering.

Run as ``python -I path/to/_tamper_scan.py`` by ``grader.tamper`` only, under rlimits,
with a JSON request (``{"root": ..., "files": [...]}``) on stdin; answers with one JSON
list of ``[file, line, what]`` on stdout. Standard library only; the submission is read
as bytes and parsed with :func:`ast.parse`, never imported.
"""

from __future__ import annotations

import ast
import json
import os
import sys

MAX_FILE_BYTES = 1024 * 1024
MAX_PER_FILE = 20

_SUSPECT_MODULES = {
    "_pytest": "imports pytest internals (_pytest)",
    "pytest": "imports pytest (the harness) from solution code",
    "pluggy": "imports pluggy (pytest's plugin system)",
    "ctypes": "imports ctypes (raw memory access)",
    "gc": "imports gc (object-graph access)",
    "junitparser": "imports a JUnit library",
    "xml.etree": "imports an XML writer",
    "faulthandler": "imports faulthandler",
    "pty": "imports pty",
}
_SUSPECT_CALLS = {
    "os._exit": "calls os._exit (ends the test process without reporting)",
    "sys.exit": "calls sys.exit",
    "os.kill": "sends signals (os.kill)",
    "os.killpg": "sends signals (os.killpg)",
    "signal.signal": "installs signal handlers (can disarm test timeouts)",
    "signal.alarm": "arms/disarms SIGALRM (test timeouts)",
    "signal.setitimer": "changes interval timers (test timeouts)",
    "gc.get_objects": "walks every live object (gc.get_objects)",
    "gc.get_referrers": "walks referrers (gc.get_referrers)",
    "sys._getframe": "inspects call frames (sys._getframe)",
    "inspect.currentframe": "inspects call frames (inspect.currentframe)",
    "inspect.stack": "inspects the call stack (inspect.stack)",
    "sys.settrace": "installs a tracer (sys.settrace)",
    "sys.setprofile": "installs a profiler hook (sys.setprofile)",
    "atexit.register": "registers exit hooks (atexit)",
    "builtins.__import__": "replaces the import machinery",
    "importlib.reload": "reloads modules",
    "os.fork": "forks the test process",
}
_SUSPECT_ATTRS = {
    "f_back": "walks caller frames (f_back)",
    "f_globals": "reads caller globals (f_globals)",
    "f_locals": "reads caller locals (f_locals)",
    "tb_frame": "reads traceback frames",
    "__subclasses__": "enumerates subclasses (__subclasses__)",
    "meta_path": "changes the import system (sys.meta_path)",
    "path_hooks": "changes the import system (sys.path_hooks)",
}
_TEST_PATHS = ("/grader", "junit", "tests/hidden", "tests/public", "result.json", ".xml")


def _dotted(node: ast.AST) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _ignores_other(fn: ast.FunctionDef) -> bool:
    """An ``__eq__``-style method that never looks at its argument, or returns a constant."""
    args = fn.args.args
    if len(args) < 2:
        return True
    other = args[1].arg
    used = any(isinstance(n, ast.Name) and n.id == other for n in ast.walk(fn))
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    constant = bool(returns) and all(
        isinstance(r.value, ast.Constant) and r.value.value in (True, False, 0, 1) for r in returns
    )
    return not used or constant


class _Scanner:
    """Collects suspicious nodes; ``scan`` walks the tree without recursion, so a deeply
    nested expression (which still compiles) cannot make the scan give up."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.found: list[tuple[int, str]] = []
        self.aliases: dict[str, str] = {}

    def scan(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            method = getattr(self, f"visit_{node.__class__.__name__}", None)
            if method is not None:
                method(node)

    def _add(self, node: ast.AST, what: str) -> None:
        self.found.append((getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            self.aliases[alias.asname or alias.name.split(".")[0]] = alias.name

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        mod = node.module or ""
        self._check_module(node, mod)
        for alias in node.names:
            full = f"{mod}.{alias.name}"
            self.aliases[alias.asname or alias.name] = full
            if full in _SUSPECT_CALLS:
                self._add(node, _SUSPECT_CALLS[full])

    def _check_module(self, node: ast.AST, mod: str) -> None:
        for name, why in _SUSPECT_MODULES.items():
            if mod == name or mod.startswith(name + "."):
                self._add(node, why)

    def visit_Constant(self, node: ast.Constant) -> None:
        # The sandbox's own folder (tests, harness, results): no solution needs to name it.
        value = node.value
        text = value.decode("latin-1") if isinstance(value, bytes) else value
        if isinstance(text, str) and "/grader" in text:
            self._add(node, "names the sandbox's grader folder (tests, harness, results)")

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        if name:
            head, _, rest = name.partition(".")
            full = self.aliases.get(head, head) + (f".{rest}" if rest else "")
            if full in _SUSPECT_CALLS:
                self._add(node, _SUSPECT_CALLS[full])
            if full in (
                "open",
                "io.open",
                "os.open",
                "pathlib.Path",
                "shutil.rmtree",
                "os.remove",
                "os.unlink",
                "os.rename",
                "os.replace",
                "os.chmod",
            ):
                for arg in node.args[:1]:
                    if (
                        isinstance(arg, ast.Constant)
                        and isinstance(arg.value, str)
                        and any(p in arg.value for p in _TEST_PATHS)
                    ):
                        self._add(node, f"touches a test or result path ({arg.value[:60]!r})")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in _SUSPECT_ATTRS:
            self._add(node, _SUSPECT_ATTRS[node.attr])

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_store(node, target)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_store(node, target)

    def _check_store(self, node: ast.AST, target: ast.AST) -> None:
        base = target.value if isinstance(target, ast.Subscript) else target
        name = _dotted(base) or ""
        if name.startswith("sys.modules") or name.endswith(".modules"):
            self._add(node, "changes sys.modules")
        if name.startswith("builtins.") or name.startswith("__builtins__"):
            self._add(node, "patches builtins")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in ("__eq__", "__ne__") and _ignores_other(node):
            self._add(node, f"{node.name} ignores its argument (an always-equal object?)")
        if (
            node.name == "__hash__"
            and all(
                isinstance(r.value, ast.Constant)
                for r in ast.walk(node)
                if isinstance(r, ast.Return)
            )
            and any(isinstance(r, ast.Return) for r in ast.walk(node))
        ):
            self._add(node, "__hash__ returns a constant")

    visit_AsyncFunctionDef = visit_FunctionDef


def scan(root: str, files: list[str]) -> list[list[object]]:
    """Every finding of every ``.py`` file in ``files``: ``[file, line, what]``."""
    out: list[list[object]] = []
    for rel in files:
        if not rel.endswith(".py"):
            continue
        path = os.path.join(root, rel)
        try:
            if os.path.islink(path):
                continue
            size = os.path.getsize(path)
            if size > MAX_FILE_BYTES:
                # Importable all the same: padding a module must not hide it from the scan.
                out.append(
                    [rel, 0, f"{size:,} bytes, too large to scan for tampering; read it yourself"]
                )
                continue
            with open(path, "rb") as fh:
                tree = ast.parse(fh.read(), filename=rel)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        scanner = _Scanner(rel)
        scanner.scan(tree)
        seen: set[str] = set()
        for line, what in sorted(scanner.found)[: MAX_PER_FILE * 4]:
            if what in seen:
                continue
            seen.add(what)
            out.append([rel, line, what])
            if len(seen) >= MAX_PER_FILE:
                break
    return out


def main() -> int:
    request = json.loads(sys.stdin.buffer.read())
    sys.stdout.write(json.dumps(scan(request["root"], list(request["files"]))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
