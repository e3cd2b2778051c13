"""Mutations from a source's tokens, for languages other than Python.

Pygments' lexer for the language splits the source; strings and comments are never
touched. Operators are swapped (arithmetic, comparison, logical), numbers moved by
one, ``true``/``false`` swapped, ``if``/``while`` conditions negated (Ruby swaps
``if``/``unless`` and ``while``/``until``), a leading ``!`` or ``-`` removed, and
(JavaScript, PHP, Ruby) an explicit ``return`` value replaced by ``null``/``nil``.
Go's and Java's return values are left alone: their zero value depends on a type
the tokens do not show, and a mutant that does not compile tells nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Token

from grader.mutation import Edit, Mutation

LEXERS = {"go": "go", "java": "java", "javascript": "javascript", "ruby": "ruby", "php": "php"}

_ARITHMETIC = {
    "+": "-",
    "-": "+",
    "*": "/",
    "/": "*",
    "%": "/",
    "**": "*",
    "<<": ">>",
    ">>": "<<",
    "++": "--",
    "--": "++",
    "+=": "-=",
    "-=": "+=",
    "*=": "/=",
    "/=": "*=",
}
_COMPARISON = {
    "<": "<=",
    "<=": "<",
    ">": ">=",
    ">=": ">",
    "==": "!=",
    "!=": "==",
    "===": "!==",
    "!==": "===",
}
_LOGICAL = {"&&": "||", "||": "&&", "and": "or", "or": "and"}
_RUBY_KEYWORDS = {"if": "unless", "unless": "if", "while": "until", "until": "while"}
_NULL = {"javascript": "null", "php": "null", "ruby": "nil"}
_NOTHING = {"null", "undefined", "nil", "true", "false"}
_INT = re.compile(r"^(\d[\d_]*)([lL]?)$")
_FLOAT = re.compile(r"^(\d[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?)([fFdD]?)$")
_OPENERS, _CLOSERS = "([{", ")]}"
_BRACKETS = frozenset("()[]{}")


@dataclass
class _Tok:
    start: int
    end: int
    kind: object
    text: str

    def is_(self, kind: object) -> bool:
        return self.kind in kind  # type: ignore[operator]


def _bracketing(tok: _Tok) -> bool:
    return tok.is_(Punctuation) or tok.is_(Operator)


def _depth(text: str, openers: str, closers: str) -> int:
    """How far ``text`` moves the bracket depth."""
    return sum(text.count(c) for c in openers) - sum(text.count(c) for c in closers)


def _lexer(language: str) -> Lexer:
    return get_lexer_by_name(LEXERS[language], stripnl=False, ensurenl=False, stripall=False)


def tokens(language: str, source: str) -> list[_Tok]:
    """The significant tokens (no white space, no comments), adjacent operator
    characters merged (some lexers split ``<=`` into ``<`` and ``=``)."""
    out: list[_Tok] = []
    for start, kind, text in _lexer(language).get_tokens_unprocessed(source):
        if not text.strip() or kind in Comment or kind is Token.Text.Whitespace:
            continue
        lead = len(text) - len(text.lstrip())  # some lexers glue white space to a token
        if kind in Operator and text.strip() in _BRACKETS:
            kind = Punctuation  # Ruby's lexer calls `[` and `]` operators
        tok = _Tok(start + lead, start + lead + len(text.strip()), kind, text.strip())
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.end == tok.start
            and prev.is_(Operator)
            and tok.is_(Operator)
            and prev.kind is not Operator.Word
            and tok.kind is not Operator.Word
            and tok.text != "."
            and prev.text != "."
        ):
            out[-1] = _Tok(prev.start, tok.end, Operator, prev.text + tok.text)
            continue
        out.append(tok)
    return out


def _value_like(tok: _Tok | None) -> bool:
    """Whether ``tok`` can end an operand (so an operator after it is binary)."""
    if tok is None:
        return False
    if tok.is_(Name) or tok.is_(Number) or tok.is_(String):
        return True
    if tok.is_(Keyword):
        return tok.text in ("true", "false", "null", "nil", "this", "self", "undefined")
    return tok.is_(Punctuation) and tok.text[-1:] in ")]"


class _TokenMutator:
    def __init__(self, language: str, source: str) -> None:
        self.language = language
        self.source = source
        self.toks = tokens(language, source)
        self.found: list[Mutation] = []
        self.skip: set[int] = set()
        self._generic_depth = 0

    def line(self, offset: int) -> int:
        return self.source.count("\n", 0, offset) + 1

    def add(self, operator: str, at: int, description: str, *edits: Edit) -> None:
        self.found.append(Mutation(operator, self.line(at), description, edits))

    def swap(self, operator: str, tok: _Tok, new: str) -> None:
        self.add(operator, tok.start, f"`{tok.text}` → `{new}`", Edit(tok.start, tok.end, new))

    def gap(self, i: int, j: int) -> str:
        """The source between tokens i and j."""
        return self.source[self.toks[i].end : self.toks[j].start]

    def run(self) -> list[Mutation]:
        self.mark_skipped()
        for i, tok in enumerate(self.toks):
            if i in self.skip:
                continue
            if tok.is_(Operator):
                self.operator(i, tok)
            elif tok.is_(Number):
                self.number(tok)
            elif tok.text.lower() in ("true", "false") and (
                tok.is_(Keyword) or tok.is_(Name.Builtin)
            ):
                new = "false" if tok.text.lower() == "true" else "true"
                self.swap("constant", tok, new.upper() if tok.text.isupper() else new)
            elif tok.is_(Keyword):
                self.keyword(i, tok)
        return self.found

    def mark_skipped(self) -> None:
        """Tokens never mutated: PHP's ``declare(...)``, Java's annotations and imports."""
        for i, tok in enumerate(self.toks):
            if (tok.text == "declare" and self.language == "php") or tok.text in (
                "import",
                "package",
            ):
                j = i + 1
                while (
                    j < len(self.toks)
                    and ";" not in self.toks[j].text
                    and "\n" not in self.gap(j - 1, j)
                ):
                    self.skip.add(j)
                    j += 1
            if self.language == "java" and tok.text.startswith("@"):
                self.skip.update(
                    range(
                        i,
                        self.matching(i + 1) + 1
                        if i + 1 < len(self.toks) and self.toks[i + 1].text == "("
                        else i + 1,
                    )
                )

    # -- operators ------------------------------------------------------------------

    def operator(self, i: int, tok: _Tok) -> None:
        prev = self.toks[i - 1] if i > 0 else None
        nxt = self.toks[i + 1] if i + 1 < len(self.toks) else None
        text = tok.text
        if self.language == "java" and self.generic(i, tok, prev, nxt):
            return
        # `x *T`, `f(x, &y)`: a pointer, a reference, a splat, not a product.
        glued = nxt is not None and nxt.start == tok.end and self.source[tok.start - 1] == " "
        binary = _value_like(prev) and not (text in ("*", "&") and glued)
        if text in ("++", "--"):
            self.swap("arithmetic", tok, _ARITHMETIC[text])
        elif binary and text in _COMPARISON:
            self.swap("comparison", tok, _COMPARISON[text])
        elif binary and text in _LOGICAL:
            self.swap("logical", tok, _LOGICAL[text])
        elif binary and text in _ARITHMETIC:
            self.swap("arithmetic", tok, _ARITHMETIC[text])
        elif not binary and text in ("!", "not") and nxt is not None:
            end = nxt.start
            self.add("condition", tok.start, f"`{text}` removed", Edit(tok.start, end, ""))
        elif not binary and text == "-" and nxt is not None and nxt.start == tok.end:
            self.add("arithmetic", tok.start, "unary `-` removed", Edit(tok.start, tok.end, ""))

    def generic(self, i: int, tok: _Tok, prev: _Tok | None, nxt: _Tok | None) -> bool:
        """Java's angle brackets of type arguments (``List<String>``): never operators."""
        if tok.text == "<" or tok.text == "<>":
            typed = prev is not None and (
                (prev.is_(Name) and prev.text[:1].isupper())
                or prev.is_(Keyword)
                or prev.text == "."
            )
            if typed or tok.text == "<>" or (nxt is not None and nxt.text in (">", "?")):
                self._generic_depth += tok.text.count("<") - tok.text.count(">")
                return True
        if self._generic_depth > 0 and set(tok.text) <= {">"}:
            self._generic_depth = max(0, self._generic_depth - len(tok.text))
            return True
        return False

    # -- constants ------------------------------------------------------------------

    def number(self, tok: _Tok) -> None:
        text = tok.text
        m = _INT.match(text)
        if m:
            value = int(m.group(1).replace("_", ""))
            self.swap("constant", tok, f"{value + 1}{m.group(2)}")
            if value > 0:
                self.swap("constant", tok, f"{value - 1}{m.group(2)}")
            return
        m = _FLOAT.match(text)
        if m and any(c.isdigit() for c in m.group(1)):
            try:
                value_f = float(m.group(1).replace("_", ""))
            except ValueError:
                return
            self.swap("constant", tok, f"{value_f + 1!r}{m.group(2)}")

    # -- conditions and returns -----------------------------------------------------

    def keyword(self, i: int, tok: _Tok) -> None:
        text = tok.text
        if self.language == "ruby":
            if text in _RUBY_KEYWORDS:
                self.swap("condition", tok, _RUBY_KEYWORDS[text])
            elif text == "return":
                self.returned(i)
            return
        if text in ("if", "while", "elseif"):
            span = self.condition(i)
            # A condition that starts with `!` loses it instead (see operator()).
            if span is not None and not self.source[span[0] : span[1]].lstrip().startswith("!"):
                start, end = span
                cond = self.source[start:end]
                self.add(
                    "condition",
                    start,
                    f"`{_short(cond)}` negated",
                    Edit(start, start, "!("),
                    Edit(end, end, ")"),
                )
        elif text == "return" and self.language in _NULL:
            self.returned(i)

    def matching(self, i: int) -> int:
        """Index of the token that closes the bracket opened at token ``i``."""
        depth = 0
        for j in range(i, len(self.toks)):
            if not _bracketing(self.toks[j]):
                continue
            for ch in self.toks[j].text:
                if ch in _OPENERS:
                    depth += 1
                elif ch in _CLOSERS:
                    depth -= 1
                    if depth == 0:
                        return j
        return len(self.toks) - 1

    def condition(self, i: int) -> tuple[int, int] | None:
        """The source span of the condition of the ``if``/``while`` at token ``i``."""
        if i + 1 >= len(self.toks):
            return None
        if self.language == "go":
            start_i, depth = i + 1, 0
            for j in range(i + 1, len(self.toks)):
                t = self.toks[j]
                if _bracketing(t):
                    if depth == 0 and t.text == "{":
                        if j == start_i:
                            return None
                        return self.toks[start_i].start, self.toks[j - 1].end
                    if depth == 0 and t.text == ";":
                        start_i = j + 1
                    depth += _depth(t.text, "([", ")]")
            return None
        opener = self.toks[i + 1]
        if opener.text != "(":
            return None
        close = self.matching(i + 1)
        if close <= i + 2:
            return None
        closer = self.toks[close]
        return opener.end, closer.start + closer.text.index(
            ")"
        ) if ")" in closer.text else closer.start

    def returned(self, i: int) -> None:
        """``return X`` → ``return null`` (``nil`` in Ruby), X up to the statement's end."""
        j, depth = i + 1, 0
        last = None
        while j < len(self.toks):
            t = self.toks[j]
            if depth == 0 and "\n" in self.gap(j - 1, j) and self.language != "php":
                break
            if depth == 0 and (
                t.text.startswith(";") or (t.text in ("if", "unless") and self.language == "ruby")
            ):
                break
            if t.is_(Punctuation) or t.is_(Operator):
                depth += sum(t.text.count(c) for c in _OPENERS) - sum(
                    t.text.count(c) for c in _CLOSERS
                )
                if depth < 0:
                    break
            last = j
            j += 1
        if last is None:
            return
        start, end = self.toks[i + 1].start, self.toks[last].end
        value = self.source[start:end]
        if value.strip() in _NOTHING:
            return
        new = _NULL[self.language]
        self.add("return", start, f"`{_short(value)}` → `{new}`", Edit(start, end, new))


def _short(text: str, limit: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"


def mutations(language: str, source: str) -> list[Mutation]:
    """The mutations of a source in ``language`` (a key of ``LEXERS``)."""
    if language not in LEXERS:
        return []
    return _TokenMutator(language, source).run()
