"""Python mutations from the syntax tree, applied as edits of the source text.

Editing the text (rather than unparsing a changed tree) keeps every other line of the
file as it was, so a mutant's diff is the one line it changes. Annotations, f-strings,
docstrings, ``if __name__ == "__main__"`` and ``if TYPE_CHECKING`` blocks are left
alone: a mutant there tells nothing about the tests.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Iterator

from grader.mutation import Edit, Mutation

_ARITHMETIC: dict[type[ast.operator], tuple[str, str]] = {
    ast.Add: ("+", "-"),
    ast.Sub: ("-", "+"),
    ast.Mult: ("*", "/"),
    ast.Div: ("/", "*"),
    ast.FloorDiv: ("//", "/"),
    ast.Mod: ("%", "//"),
    ast.Pow: ("**", "*"),
    ast.LShift: ("<<", ">>"),
    ast.RShift: (">>", "<<"),
    ast.BitAnd: ("&", "|"),
    ast.BitOr: ("|", "&"),
    ast.BitXor: ("^", "&"),
}
_COMPARISON: dict[type[ast.cmpop], tuple[str, str]] = {
    ast.Lt: ("<", "<="),
    ast.LtE: ("<=", "<"),
    ast.Gt: (">", ">="),
    ast.GtE: (">=", ">"),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
    ast.Is: ("is", "is not"),
    ast.IsNot: ("is not", "is"),
    ast.In: ("in", "not in"),
    ast.NotIn: ("not in", "in"),
}
_LOGICAL: dict[type[ast.boolop], tuple[str, str]] = {
    ast.And: ("and", "or"),
    ast.Or: ("or", "and"),
}
# Statements whose removal (replaced by `pass`) the tests should notice.
_REMOVABLE = (
    ast.Expr,
    ast.Assign,
    ast.AugAssign,
    ast.AnnAssign,
    ast.Raise,
    ast.Delete,
    ast.Assert,
    ast.Break,
    ast.Continue,
)


class _Source:
    """The text, its line offsets, and its tokens with character offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))
        self.tokens: list[tuple[int, int, str]] = []
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.OP, tokenize.NAME):
                self.tokens.append(
                    (self.offset_chars(*tok.start), self.offset_chars(*tok.end), tok.string)
                )

    def offset_chars(self, line: int, col: int) -> int:
        """Offset of (1-based line, character column)."""
        return self.starts[line - 1] + col

    def offset(self, line: int, col_bytes: int) -> int:
        """Offset of (1-based line, UTF-8 byte column), as the ast module gives them."""
        text = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        return self.starts[line - 1] + len(text.encode()[:col_bytes].decode(errors="ignore"))

    def start(self, node: ast.AST) -> int:
        return self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]

    def end(self, node: ast.AST) -> int:
        return self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]

    def operator_span(self, lo: int, hi: int, words: str) -> tuple[int, int] | None:
        """Where the operator ``words`` (``<=``, ``not in``) sits between two operands."""
        found = [t for t in self.tokens if lo <= t[0] and t[1] <= hi and t[2] not in "()"]
        if " ".join(t[2] for t in found) != words:
            return None
        return found[0][0], found[-1][1]


def _skipped_block(node: ast.If) -> bool:
    """``if __name__ == "__main__":`` and ``if TYPE_CHECKING:``: not behaviour under test."""
    test = node.test
    if isinstance(test, ast.Name) and test.id == "TYPE_CHECKING":
        return True
    if isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING":
        return True
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
    )


def _is_docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


class _Mutator:
    """Walks the tree and proposes mutations (see ``grader.mutation.OPERATORS``)."""

    def __init__(self, source: str) -> None:
        self.src = _Source(source)
        self.found: list[Mutation] = []

    def add(self, operator: str, node: ast.AST, description: str, *edits: Edit) -> None:
        self.found.append(Mutation(operator, node.lineno, description, edits))  # type: ignore[attr-defined]

    def replace(self, operator: str, node: ast.AST, start: int, end: int, text: str) -> None:
        old = self.src.text[start:end]
        self.add(operator, node, f"`{_short(old)}` → `{_short(text)}`", Edit(start, end, text))

    # -- the walk -----------------------------------------------------------------------

    def run(self, tree: ast.Module) -> list[Mutation]:
        self.walk(tree, in_function=False)
        return self.found

    def walk(self, node: ast.AST, *, in_function: bool) -> None:
        if isinstance(node, ast.If) and _skipped_block(node):
            for stmt in node.orelse:
                self.walk(stmt, in_function=in_function)
            return
        if isinstance(node, ast.JoinedStr):
            return
        self.visit(node, in_function)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "type_comment", "decorator_list"):
                continue
            inner = in_function or isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            if isinstance(value, list):
                if name == "body" and isinstance(
                    node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module
                ):
                    value = [s for i, s in enumerate(value) if not (i == 0 and _is_docstring(s))]
                for item in value:
                    if isinstance(item, ast.AST):
                        if inner and isinstance(item, ast.stmt):
                            self.statement(item)
                        self.walk(item, in_function=inner)
            elif isinstance(value, ast.AST):
                self.walk(value, in_function=inner)

    def visit(self, node: ast.AST, in_function: bool) -> None:
        src = self.src
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
            old, new = _ARITHMETIC[type(node.op)]
            self.operator("arithmetic", node, src.end(node.left), src.start(node.right), old, new)
        elif isinstance(node, ast.AugAssign) and type(node.op) in _ARITHMETIC:
            old, new = _ARITHMETIC[type(node.op)]
            self.operator(
                "arithmetic",
                node,
                src.end(node.target),
                src.start(node.value),
                old + "=",
                new + "=",
            )
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                if type(op) in _COMPARISON:
                    old, new = _COMPARISON[type(op)]
                    self.operator("comparison", node, src.end(left), src.start(right), old, new)
                left = right
        elif isinstance(node, ast.BoolOp):
            old, new = _LOGICAL[type(node.op)]
            for a, b in zip(node.values, node.values[1:], strict=False):
                self.operator("logical", node, src.end(a), src.start(b), old, new)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub | ast.Invert):
            cls = "condition" if isinstance(node.op, ast.Not) else "arithmetic"
            self.replace(cls, node, src.start(node), src.start(node.operand), "")
        elif isinstance(node, ast.Constant):
            self.constant(node)
        elif isinstance(node, ast.If | ast.While | ast.IfExp):
            self.negate(node.test)
        elif isinstance(node, ast.comprehension):
            for cond in node.ifs:
                self.negate(cond)
        elif isinstance(node, ast.Return) and in_function:
            self.returned(node)

    def operator(self, cls: str, node: ast.AST, lo: int, hi: int, old: str, new: str) -> None:
        span = self.src.operator_span(lo, hi, old)
        if span is not None:
            self.replace(cls, node, span[0], span[1], new)

    def constant(self, node: ast.Constant) -> None:
        value = node.value
        start, end = self.src.start(node), self.src.end(node)
        if isinstance(value, bool):
            self.replace("constant", node, start, end, "False" if value else "True")
        elif isinstance(value, int):
            self.replace("constant", node, start, end, str(value + 1))
            if value > 0:
                self.replace("constant", node, start, end, str(value - 1))
        elif isinstance(value, float):
            self.replace("constant", node, start, end, repr(value + 1))

    def negate(self, test: ast.expr) -> None:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return  # removing the `not` is the same mutant
        start, end = self.src.start(test), self.src.end(test)
        self.add(
            "condition",
            test,
            f"`{_short(self.src.text[start:end])}` negated",
            Edit(start, start, "not ("),
            Edit(end, end, ")"),
        )

    def statement(self, stmt: ast.stmt) -> None:
        if not isinstance(stmt, _REMOVABLE) or _is_docstring(stmt):
            return
        if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
            return
        start, end = self.src.start(stmt), self.src.end(stmt)
        old = self.src.text[start:end]
        self.add("statement", stmt, f"`{_short(old)}` removed", Edit(start, end, "pass"))

    def returned(self, node: ast.Return) -> None:
        value = node.value
        if value is None or (
            isinstance(value, ast.Constant)
            and (value.value is None or isinstance(value.value, bool))
        ):
            return
        self.replace("return", node, self.src.start(value), self.src.end(value), "None")


def _short(text: str, limit: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def mutations(source: str) -> list[Mutation]:
    """The mutations of a Python source; each applied alone still parses and differs."""
    from grader.mutation import apply

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    original = ast.dump(tree)
    out: list[Mutation] = []
    for m in _Mutator(source).run(tree):
        try:
            changed = ast.dump(ast.parse(apply(source, m.edits)))
        except SyntaxError:
            continue
        if changed != original:
            out.append(m)
    return out


def _iter_ops(source: str) -> Iterator[str]:  # pragma: no cover - debugging aid
    for m in mutations(source):
        yield f"{m.line}: {m.operator}: {m.description}"
