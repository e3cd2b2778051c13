"""Subprocess side of ``grader.analysis.python``: complexity, raw metrics and docstrings.

Run as ``python -I path/to/_radon_worker.py`` by ``grader.analysis.python`` only, under
rlimits, with a JSON request on stdin. It imports nothing of the grader (so it works
whatever the install looks like) and never imports or runs the submission: files are
read as bytes, parsed with :func:`ast.parse` and walked by radon.

Output is JSON lines on stdout, flushed one by one, so that the parent knows which
file was being analysed if this process dies (crash, CPU or memory limit):

    {"start": "pkg/mod.py"}
    {"file": "pkg/mod.py", "ok": true, "sloc": ..., "functions": [...], "docs": [...]}
    {"file": "bad.py", "ok": false, "reason": "...", "lines": 12}
    {"done": true}
"""

from __future__ import annotations

import ast
import json
import os
import stat
import sys
from typing import Any

RANKS = "ABCDEF"


class Unanalysable(Exception):
    """This file cannot be analysed; the message says why (shown to reviewers)."""


def _read(root: str, rel: str, max_bytes: int) -> bytes:
    fd = os.open(os.path.join(root, rel), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Unanalysable("not a regular file")
        if st.st_size > max_bytes:
            raise Unanalysable(f"file is {st.st_size:,} bytes (limit {max_bytes:,})")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                raise Unanalysable(f"file is more than {max_bytes:,} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _decode(data: bytes) -> str:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise Unanalysable(f"contains a NUL byte (offset {nul})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unanalysable(f"not valid UTF-8 (byte offset {exc.start})") from None


def _parse(text: str, rel: str) -> ast.Module:
    try:
        return ast.parse(text, filename=rel)
    except SyntaxError as exc:  # includes IndentationError and "too many nested parentheses"
        raise Unanalysable(f"syntax error at line {exc.lineno}: {exc.msg}") from None
    except RecursionError:
        raise Unanalysable("too deeply nested for the Python parser") from None
    except MemoryError:
        raise Unanalysable("too complex for the Python parser (parser stack exhausted)") from None


def _shape(tree: ast.Module, max_depth: int, max_defs: int) -> None:
    """Refuse trees whose depth or number of definitions would make analysis unbounded."""
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    defs = 0
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            raise Unanalysable(f"nested more than {max_depth} levels deep")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            defs += 1
            if defs > max_defs:
                raise Unanalysable(f"more than {max_defs:,} functions and classes in one file")
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


def _flatten(blocks: list[Any], prefix: str = "") -> list[dict[str, Any]]:
    """Functions and methods (qualified ``Class.method``) from radon's blocks."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if hasattr(block, "methods"):  # a radon Class
            qual = f"{prefix}{block.name}."
            out += _flatten(list(block.methods), qual)
            out += _flatten(list(block.inner_classes), qual)
        else:
            cc = int(block.complexity)
            out.append(
                {
                    "name": prefix + block.name,
                    "line": int(block.lineno),
                    "complexity": cc,
                    "rank": _rank(cc),
                }
            )
    return out


def _rank(cc: int) -> str:
    # radon's cc_rank: 1-5 A, 6-10 B, 11-20 C, 21-30 D, 31-40 E, 41+ F.
    if cc <= 5:
        return "A"
    return RANKS[min(5, (cc - 1) // 10 + 1)]


def _is_private_path(rel: str) -> bool:
    parts = rel.split("/")
    if any(p.startswith("_") for p in parts[:-1]):
        return True
    stem = parts[-1].removesuffix(".py")
    return stem.startswith("_") and stem != "__init__"


def _docs(tree: ast.Module, rel: str) -> list[dict[str, Any]]:
    """Public modules, classes and functions, and whether each has a docstring.

    Public means: no leading underscore in the name (so dunders are private too), not
    nested in a function, not inside a private class, in a module outside private
    packages. An empty ``__init__.py`` is not an item.
    """
    if _is_private_path(rel):
        return []
    items: list[dict[str, Any]] = []
    if not (rel.rsplit("/", 1)[-1] == "__init__.py" and not tree.body):
        items.append(
            {
                "name": rel.removesuffix(".py").removesuffix("/__init__").replace("/", "."),
                "kind": "module",
                "line": 1,
                "documented": ast.get_docstring(tree) is not None,
            }
        )

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            if node.name.startswith("_"):
                continue
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            items.append(
                {
                    "name": prefix + node.name,
                    "kind": kind,
                    "line": node.lineno,
                    "documented": ast.get_docstring(node) is not None,
                }
            )
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return items


def analyse_file(root: str, rel: str, limits: dict[str, int]) -> dict[str, Any]:
    """Everything the parent needs about one file, or why it cannot be analysed."""
    from radon.metrics import h_visit_ast, mi_compute
    from radon.raw import analyze
    from radon.visitors import ComplexityVisitor

    data = b""
    try:
        data = _read(root, rel, limits["max_file_bytes"])
        text = _decode(data)
        tree = _parse(text, rel)
        _shape(tree, limits["max_depth"], limits["max_defs"])
        try:
            raw = analyze(text)
            visitor = ComplexityVisitor.from_ast(tree)
            volume = h_visit_ast(tree).total.volume
        except RecursionError:
            raise Unanalysable("too deeply nested to analyse") from None
        except MemoryError:
            raise
        except Exception as exc:  # radon's own tokenizer can trip on code ast accepts
            raise Unanalysable(f"radon could not analyse it: {type(exc).__name__}: {exc}") from None
        # Same inputs as radon's mi_visit(text, multi=True), without parsing three times.
        comments = (raw.comments + raw.multi) / raw.sloc * 100 if raw.sloc else 0
        mi = mi_compute(volume, visitor.total_complexity, raw.lloc, comments)
        return {
            "file": rel,
            "ok": True,
            "loc": raw.loc,
            "sloc": raw.sloc,
            "comments": raw.comments,
            "mi": float(mi),
            "functions": _flatten(list(visitor.functions) + list(visitor.classes)),
            "docs": _docs(tree, rel),
        }
    except Unanalysable as exc:
        return {"file": rel, "ok": False, "reason": str(exc), "lines": _lines(data)}
    except MemoryError:
        return {
            "file": rel,
            "ok": False,
            "reason": "exceeds the analysis memory limit",
            "lines": _lines(data),
        }
    except OSError as exc:
        return {"file": rel, "ok": False, "reason": f"cannot be read: {exc.strerror}", "lines": 0}


def _lines(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main() -> int:
    request = json.loads(sys.stdin.read(1 << 20))
    sys.setrecursionlimit(int(request.get("recursion_limit", 10_000)))
    root: str = request["root"]
    limits: dict[str, int] = request["limits"]
    for rel in request["files"]:
        _emit({"start": rel})
        _emit(analyse_file(root, rel, limits))
    _emit({"done": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
