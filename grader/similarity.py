"""Similarity between submissions: winnowed fingerprints over normalised tokens.

The method is winnowing (Schleimer, Wilkerson and Aiken, "Winnowing: local algorithms for
document fingerprinting", SIGMOD 2003, the algorithm behind MOSS):

1. Each source file is cut into tokens by the Pygments lexer its name selects (Python, Go,
   Java, JavaScript, Ruby and PHP alike). Comments, docstrings and whitespace are dropped;
   identifiers become ``N``, string literals ``S`` and numbers ``0``; keywords, operators,
   punctuation and built-in names stay as they are. Renaming, re-commenting and
   re-formatting therefore change nothing.
2. Every run of ``k`` consecutive tokens (a k-gram) is hashed; in every window of ``w``
   consecutive hashes the smallest is kept. Any match of at least ``k + w - 1`` tokens is
   guaranteed to share a kept hash, and matches shorter than ``k`` tokens are noise that
   is never seen. Hashes are position-free, so reordered functions still match.
3. Every k-gram of the challenge's starter and reference solution is a *base* hash and is
   dropped from both sides before comparing (MOSS's base-file rule): what the starter hands
   everyone, and what any correct solution writes the way the reference does, never makes
   two candidates look alike.
4. A pair's score is the share of the smaller side's fingerprints found in the other
   (containment, 0.0-1.0); dead code added to one side makes that side larger, not the
   score smaller. A side with fewer than ``min_fingerprints`` fingerprints is counted as
   having that many, so two near-empty submissions do not score 1.0 on a handful of tokens.

Each kept hash remembers its file and line span, so a pair carries the matching regions of
both sides. Pure engine code: no database, no HTTP.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import Comment, Keyword, Literal, Name, Operator, Punctuation, String, Text
from pygments.token import _TokenType as TokenType

from grader.submission import UploadLimits, open_submission


def _extensions() -> dict[str, str]:
    """File name endings of the supported languages → the language (from its module)."""
    from grader.languages import LANGUAGES

    return {suffix: lang.name for lang in LANGUAGES.values() for suffix in lang.source_suffixes}


def _lexer_names() -> dict[str, str]:
    from grader.languages import LANGUAGES

    return {lang.name: lang.pygments_lexer for lang in LANGUAGES.values()}


EXTENSIONS: dict[str, str] = _extensions()
_LEXER_NAMES = _lexer_names()
# Bounds: what one submission may feed the tokenizer (big files are generated, not written).
MAX_FILE_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024
MAX_FILES = 200
_HASH_MASK = (1 << 53) - 1  # survives a round trip through any JSON reader
_SKIP_DIRS = frozenset(
    {"node_modules", "vendor", "__pycache__", ".git", "build", "dist", "target", ".venv", "venv"}
)


@dataclass(frozen=True)
class Params:
    """Winnowing parameters: k-gram length ``k`` (tokens) and window ``w`` (hashes)."""

    # Tuned on the generated corpus of tests/similarity_corpus.py (bench/similarity_bench.py):
    # k=9, w=4 separates disguised copies from independent work by the widest margin.
    k: int = 9
    w: int = 4
    min_fingerprints: int = 12

    @property
    def guarantee(self) -> int:
        """Matches at least this many tokens long are always detected."""
        return self.k + self.w - 1

    @property
    def tag(self) -> str:
        return f"winnow-v1-k{self.k}-w{self.w}"


DEFAULT_PARAMS = Params()


@dataclass(frozen=True)
class Tok:
    """A normalised token and the source line it starts on."""

    text: str
    line: int


@dataclass(frozen=True)
class Mark:
    """Where a kept hash came from: file index and line span."""

    file: int
    start: int
    end: int


@dataclass
class Fingerprints:
    """A submission's kept hashes, each with the places it occurs (files by index)."""

    files: list[str] = field(default_factory=list)
    marks: dict[int, list[Mark]] = field(default_factory=dict)
    tag: str = DEFAULT_PARAMS.tag

    def hashes(self) -> set[int]:
        return set(self.marks)

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "files": list(self.files),
            "marks": [[h, m.file, m.start, m.end] for h, ms in self.marks.items() for m in ms],
        }

    @staticmethod
    def hashes_of(data: Mapping[str, Any]) -> set[int]:
        """The kept hashes of a stored fingerprint, without building its marks."""
        return {int(m[0]) for m in data.get("marks", [])}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fingerprints:
        marks: dict[int, list[Mark]] = {}
        for h, f, s, e in data.get("marks", []):
            marks.setdefault(int(h), []).append(Mark(int(f), int(s), int(e)))
        return cls(
            files=[str(f) for f in data.get("files", [])], marks=marks, tag=str(data.get("tag", ""))
        )


@dataclass(frozen=True)
class Span:
    file: str
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Region:
    """Lines of ``a`` that match lines of ``b``."""

    a: Span
    b: Span

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a.to_json(), "b": self.b.to_json()}


@dataclass(frozen=True)
class Match:
    score: float
    shared: int
    regions: list[Region]


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    score: float
    regions: list[Region]

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "score": round(self.score, 4),
            "regions": [r.to_json() for r in self.regions],
        }


# --- tokens --------------------------------------------------------------------------------


def language_of(path: str) -> str | None:
    """The language a file name says (by its ending), or None for other files."""
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


_lexers: dict[str, Lexer] = {}


def _lexer(language: str) -> Lexer:
    lexer = _lexers.get(language)
    if lexer is None:
        options: dict[str, Any] = {"stripnl": False, "ensurenl": True}
        if language == "php":
            # Files hold <?php ... ?>; plain code without the tag is read as PHP too.
            options["startinline"] = False
        lexer = get_lexer_by_name(_LEXER_NAMES[language], **options)
        _lexers[language] = lexer
    return lexer


def _kind(ttype: TokenType, value: str) -> str | None:
    """The normalised text of one token; None drops it."""
    if ttype in Comment or ttype in Text or ttype in String.Doc:
        return None
    if not value.strip():
        return None
    if ttype in Name.Builtin or ttype in Keyword:
        return value
    if ttype in Name:
        return "N"
    if ttype in String or ttype in Literal.String:
        return "S"
    if ttype in Literal.Number or ttype in Literal:
        return "0"
    if ttype in Operator or ttype in Punctuation:
        return value.strip()
    return value.strip()


def tokens(text: str, filename: str) -> list[Tok]:
    """The normalised tokens of one source file (empty for a file of no known language)."""
    language = language_of(filename)
    if language is None:
        return []
    out: list[Tok] = []
    line = 1
    last_string = False
    for ttype, value in _lexer(language).get_tokens(text):
        norm = _kind(ttype, value)
        if norm is not None:
            # A string arrives as several tokens (quotes, parts, escapes): one literal, one S.
            if norm == "S" and last_string:
                pass
            elif ttype in Punctuation and len(norm) > 1:
                out.extend(Tok(ch, line) for ch in norm if not ch.isspace())
            else:
                out.append(Tok(norm, line))
            last_string = norm == "S"
        elif ttype not in Text and value.strip():
            last_string = False
        line += value.count("\n")
    return out


# --- hashes --------------------------------------------------------------------------------


_token_ids: dict[str, bytes] = {}


def _token_id(text: str) -> bytes:
    tid = _token_ids.get(text)
    if tid is None:
        tid = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        if len(_token_ids) < 100_000:
            _token_ids[text] = tid
    return tid


def kgram_hashes(toks: Sequence[Tok], k: int) -> list[int]:
    """A stable hash of every k-gram (the same in every process: not Python's ``hash``)."""
    ids = [_token_id(t.text) for t in toks]
    out = []
    for i in range(len(ids) - k + 1):
        digest = hashlib.blake2b(b"".join(ids[i : i + k]), digest_size=8).digest()
        out.append(int.from_bytes(digest, "big") & _HASH_MASK)
    return out


def winnow(hashes: Sequence[int], w: int) -> list[int]:
    """Indexes of the kept hashes: the rightmost minimum of every window of ``w``."""
    if not hashes:
        return []
    if len(hashes) <= w:
        return [min(range(len(hashes)), key=lambda i: (hashes[i], -i))]
    kept: list[int] = []
    last = -1
    for start in range(len(hashes) - w + 1):
        best = start
        for i in range(start + 1, start + w):
            if hashes[i] <= hashes[best]:
                best = i
        if best != last:
            kept.append(best)
            last = best
    return kept


def fingerprint_files(files: Mapping[str, str], params: Params = DEFAULT_PARAMS) -> Fingerprints:
    """Fingerprints of a submission given as ``{relative path: text}``."""
    fp = Fingerprints(tag=params.tag)
    for path in sorted(files):
        toks = tokens(files[path], path)
        if len(toks) < params.k:
            continue
        hashes = kgram_hashes(toks, params.k)
        index = len(fp.files)
        fp.files.append(path)
        for i in winnow(hashes, params.w):
            mark = Mark(index, toks[i].line, toks[i + params.k - 1].line)
            fp.marks.setdefault(hashes[i], []).append(mark)
    return fp


def base_hashes(files: Mapping[str, str], params: Params = DEFAULT_PARAMS) -> frozenset[int]:
    """Every k-gram hash (not only the kept ones) of the starter and reference files."""
    out: set[int] = set()
    for path, text in files.items():
        out.update(kgram_hashes(tokens(text, path), params.k))
    return frozenset(out)


def read_sources(root: Path) -> dict[str, str]:
    """The source files of the supported languages under ``root``, within the size bounds
    (generated and dependency folders skipped; symlinks never followed)."""
    out: dict[str, str] = {}
    total = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if language_of(name) is None:
                continue
            path = Path(dirpath) / name
            if path.is_symlink() or not path.is_file():
                continue
            size = path.stat().st_size
            if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES or len(out) >= MAX_FILES:
                continue
            total += size
            rel = path.relative_to(root).as_posix()
            out[rel] = path.read_bytes().decode("utf-8", errors="replace")
    return out


def fingerprint_upload(
    path: Path, limits: UploadLimits, params: Params = DEFAULT_PARAMS
) -> Fingerprints:
    """Fingerprints of an upload (folder, single file, .zip, .tar.gz), checked and unpacked
    like ``grader run`` does; raises ``SubmissionError`` for a refused upload."""
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:
        sub = open_submission(path, tmp, limits)
        return fingerprint_files(read_sources(sub.root), params)


def base_of(challenge_root: Path, params: Params = DEFAULT_PARAMS) -> frozenset[int]:
    """The base hashes of a challenge folder: its ``starter/`` and ``solution/``."""
    files: dict[str, str] = {}
    for sub in ("starter", "solution"):
        folder = challenge_root / sub
        if folder.is_dir():
            files.update({f"{sub}/{k}": v for k, v in read_sources(folder).items()})
    return base_hashes(files, params)


# --- comparing -----------------------------------------------------------------------------


def compare(
    a: Fingerprints,
    b: Fingerprints,
    *,
    base: frozenset[int] = frozenset(),
    params: Params = DEFAULT_PARAMS,
) -> Match:
    """How much of the smaller side's own code (base removed) the other side also holds."""
    own_a = a.marks.keys() - base
    own_b = b.marks.keys() - base
    score, shared = score_sets(own_a, own_b, params)
    return Match(score, len(shared), _regions(a, b, shared) if shared else [])


def score_sets(
    own_a: AbstractSet[int], own_b: AbstractSet[int], params: Params = DEFAULT_PARAMS
) -> tuple[float, AbstractSet[int]]:
    """The score of two sets of own fingerprints (base already removed), and what they
    share; the cheap part of :func:`compare`, for callers that compare one side with many."""
    shared = own_a & own_b
    if not shared:
        return 0.0, shared
    denominator = max(min(len(own_a), len(own_b)), params.min_fingerprints)
    return min(1.0, len(shared) / denominator), shared


def regions(a: Fingerprints, b: Fingerprints, shared: Iterable[int]) -> list[Region]:
    """The matching line regions of ``shared`` hashes."""
    return _regions(a, b, shared)


def _regions(a: Fingerprints, b: Fingerprints, shared: Iterable[int]) -> list[Region]:
    """Matching line spans, merged where neighbours touch on both sides."""
    hits = [(a.marks[h][0], b.marks[h][0]) for h in shared]
    hits.sort(key=lambda ab: (ab[0].file, ab[0].start, ab[1].file, ab[1].start))
    merged: list[tuple[Mark, Mark]] = []
    for ma, mb in hits:
        if merged:
            pa, pb = merged[-1]
            if (
                ma.file == pa.file
                and mb.file == pb.file
                and ma.start <= pa.end + 1
                and pb.start - 1 <= mb.start <= pb.end + 1
            ):
                merged[-1] = (
                    Mark(pa.file, pa.start, max(pa.end, ma.end)),
                    Mark(pb.file, min(pb.start, mb.start), max(pb.end, mb.end)),
                )
                continue
        merged.append((ma, mb))
    return [
        Region(Span(a.files[ma.file], ma.start, ma.end), Span(b.files[mb.file], mb.start, mb.end))
        for ma, mb in merged
    ]


def all_pairs(
    named: Mapping[str, Fingerprints],
    *,
    base: frozenset[int] = frozenset(),
    params: Params = DEFAULT_PARAMS,
    min_score: float = 0.0,
) -> list[Pair]:
    """Every pair of the given submissions scored, highest first (ties: by names)."""
    names = sorted(named)
    own = {n: named[n].marks.keys() - base for n in names}
    out = []
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            score, shared = score_sets(own[x], own[y], params)
            if score >= min_score:
                found = _regions(named[x], named[y], shared) if shared else []
                out.append(Pair(x, y, score, found))
    out.sort(key=lambda p: (-p.score, p.a, p.b))
    return out
