"""Mutants of a reference solution: small, deliberate bugs the tests should catch.

Python's come from its syntax tree (``python.py``); every other language's from its
tokens (``tokens.py``, over Pygments' lexers). A mutant is one edit of one source
file; its id (``file#hash``) is stable while the lines it touches stay the same, so a
challenge can accept a mutant by id (``[health.accepted]``) across unrelated edits.
"""

from __future__ import annotations

import difflib
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from grader.errors import ChallengeError

# Bumped whenever the mutants a source yields change: recorded results go stale.
MUTATOR_VERSION = 1

# The classes of mutation, for reports and tests.
OPERATORS = (
    "arithmetic",  # + ↔ -, * ↔ /, ...; unary minus removed
    "comparison",  # < ↔ <=, == ↔ !=, is ↔ is not, in ↔ not in
    "logical",  # and ↔ or, && ↔ ||
    "constant",  # numbers ± 1, true ↔ false
    "condition",  # if/while/ternary conditions negated, `not`/`!` removed
    "statement",  # a statement replaced by `pass`
    "return",  # a returned value replaced by None / null / nil
)


@dataclass(frozen=True)
class Edit:
    """Replace ``source[start:end]`` (character offsets) with ``text``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Mutation:
    """One mutation a mutator proposes: its class, where, what, and the edits."""

    operator: str
    line: int
    description: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class Mutant:
    """A copy of one source file with one mutation applied."""

    id: str
    file: str
    line: int
    operator: str
    description: str
    original: str
    mutated: str

    def diff(self, context: int = 1) -> str:
        """A unified diff of the mutant against the original, with line numbers."""
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True),
            self.mutated.splitlines(keepends=True),
            fromfile=f"a/{self.file}",
            tofile=f"b/{self.file}",
            n=context,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def apply(source: str, edits: tuple[Edit, ...]) -> str:
    """``source`` with non-overlapping ``edits`` applied."""
    out = source
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        out = out[: e.start] + e.text + out[e.end :]
    return out


def _touched(text: str, edits: tuple[Edit, ...]) -> str:
    """The stripped lines an edit touches, in ``text`` (before or after it)."""
    lo = min(e.start for e in edits)
    hi = max(e.end for e in edits)
    start = text.rfind("\n", 0, lo) + 1
    end = text.find("\n", hi)
    return " ".join(line.strip() for line in text[start : end if end >= 0 else None].split("\n"))


def build(file: str, source: str, mutations: list[Mutation]) -> list[Mutant]:
    """Mutants of ``source`` from ``mutations``, without duplicates, in source order.

    A mutant's id hashes the file, the class, the touched lines before and after, and
    which occurrence of that same change it is: moving code does not change it.
    """
    seen: set[str] = set()
    counts: Counter[str] = Counter()
    out: list[Mutant] = []
    for m in sorted(mutations, key=lambda m: (min(e.start for e in m.edits), m.operator)):
        mutated = apply(source, m.edits)
        if mutated == source or mutated in seen:
            continue
        seen.add(mutated)
        after = tuple(
            Edit(e.start + _shift(m.edits, e), e.start + _shift(m.edits, e) + len(e.text), e.text)
            for e in m.edits
        )
        material = "\0".join(
            [file, m.operator, _touched(source, m.edits), _touched(mutated, after)]
        )
        counts[material] += 1
        digest = hashlib.sha256(f"{material}\0{counts[material]}".encode()).hexdigest()[:8]
        out.append(
            Mutant(
                id=f"{file}#{digest}",
                file=file,
                line=m.line,
                operator=m.operator,
                description=m.description,
                original=source,
                mutated=mutated,
            )
        )
    return out


def _shift(edits: tuple[Edit, ...], edit: Edit) -> int:
    """How far ``edit`` moves once the edits before it are applied."""
    return sum(len(e.text) - (e.end - e.start) for e in edits if e.start < edit.start)


def mutants_of(language: str, file: str, source: str) -> list[Mutant]:
    """Every mutant of one source file in ``language``."""
    if language == "python":
        from grader.mutation.python import mutations

        found = mutations(source)
    else:
        from grader.mutation.tokens import mutations as token_mutations

        found = token_mutations(language, source)
    return build(file, source, found)


def mutants_of_folder(language: str, root: Path, files: list[str]) -> list[Mutant]:
    """Every mutant of the given source files (paths relative to ``root``)."""
    out: list[Mutant] = []
    for rel in files:
        try:
            source = (root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ChallengeError(f"{root / rel}: cannot be read as UTF-8 text: {exc}") from None
        out += mutants_of(language, rel, source)
    return out
