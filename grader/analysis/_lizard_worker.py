"""Subprocess side of ``grader.analysis.lizard``: per-function complexity and length
(lizard), a maintainability index, and doc-comment coverage, for languages other than
Python.

Run as ``python -I path/to/_lizard_worker.py`` under rlimits with a JSON request on
stdin: ``{"root", "files", "limits": {"max_file_bytes"}, "docs": DOC_RULE}``. It
imports nothing of the grader and never runs the submission: files are read as bytes
and tokenised. Output is JSON lines, as for the radon worker::

    {"start": "main.go"}
    {"file": "main.go", "ok": true, "sloc": ..., "functions": [...], "docs": [...]}
    {"done": true}

DOC_RULE (data from the language's module)::

    {"items": [[kind, regex], ...],   # per line; group "name" is the item's name
     "comment": "line" | "block",     # doc above the item: "//"-style lines, or /** */
     "prefix": "//",                  # the line-comment prefix ("#" for Ruby)
     "skip": regex,                   # lines allowed between the doc and the item
     "private": regex | null,         # a line after which deeper items are private
     "exported": regex | null,        # a declaration exported where it stands (JS)
     "exports": [regex, ...]}         # over the whole text: groups "name" / "names"
                                      # (comma-separated) list the exported names;
                                      # when given, only exported items count

``tamper`` is a list of ``[regex, what]``: each line matching one is reported
(``"tamper": [[line, what], ...]``), at most 20 per file.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
from typing import Any

RANKS = ((5, "A"), (10, "B"), (20, "C"), (30, "D"), (40, "E"))


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


def rank(complexity: int) -> str:
    """radon's ranks: A 1-5, B 6-10, C 11-20, D 21-30, E 31-40, F above."""
    for limit, name in RANKS:
        if complexity <= limit:
            return name
    return "F"


def _volume(rel: str, text: str) -> float:
    """Halstead volume N·log2(n) over the file's tokens (comments and blanks left out)."""
    from lizard_languages import get_reader_for

    reader_cls = get_reader_for(rel)
    if reader_cls is None:
        return 0.0
    reader = reader_cls(None)
    total = 0
    distinct: set[str] = set()
    for token in reader.generate_tokens(text):
        tok = token if isinstance(token, str) else str(token)
        if not tok.strip() or tok.startswith(("//", "/*", "#")):
            continue
        total += 1
        if len(distinct) < 200_000:
            distinct.add(tok)
    return total * math.log2(len(distinct)) if len(distinct) > 1 else 0.0


def maintainability(volume: float, complexity: int, sloc: int) -> float:
    """radon's normalised index without the comment term: 0 (hard) .. 100 (easy)."""
    if sloc <= 0:
        return 100.0
    raw = 171 - 5.2 * math.log(max(volume, 1.0)) - 0.23 * complexity - 16.2 * math.log(sloc)
    return max(0.0, min(100.0, raw * 100 / 171))


def _doc_above(lines: list[str], index: int, rule: dict[str, Any], skip: re.Pattern[str]) -> bool:
    """Whether the item on ``lines[index]`` has a doc comment right above it."""
    i = index - 1
    while i >= 0 and (not lines[i].strip() or skip.search(lines[i])):
        if not lines[i].strip():
            return False  # a blank line detaches a comment from the item
        i -= 1
    if i < 0:
        return False
    above = lines[i].strip()
    if rule.get("comment") == "block":
        if not above.endswith("*/"):
            return False
        while i >= 0 and "/*" not in lines[i]:
            i -= 1
        return i >= 0 and "/**" in lines[i]
    return above.startswith(rule.get("prefix", "//"))


def docs(rel: str, text: str, rule: dict[str, Any]) -> list[dict[str, Any]]:
    """Public items of the file and whether each carries a doc comment."""
    items = [(kind, re.compile(rx)) for kind, rx in rule.get("items", [])]
    skip = re.compile(rule.get("skip") or r"(?!x)x")
    private = re.compile(rule["private"]) if rule.get("private") else None
    lines = text.split("\n")
    out: list[dict[str, Any]] = []
    private_indent: int | None = None
    for index, line in enumerate(lines):
        indent = len(line) - len(line.lstrip())
        if private_indent is not None and line.strip() and indent < private_indent:
            private_indent = None  # the private section ended with its class
        if private is not None and private.search(line):
            private_indent = indent
            continue
        for kind, rx in items:
            m = rx.search(line)
            if m is None:
                continue
            if private_indent is None or kind == "class":
                out.append(
                    {
                        "name": m.group("name"),
                        "kind": kind,
                        "line": index + 1,
                        "documented": _doc_above(lines, index, rule, skip),
                    }
                )
            break
    if rule.get("exports"):
        names = exported_names(text, rule["exports"])
        declared = re.compile(rule.get("exported") or r"(?!x)x")
        out = [i for i in out if i["name"] in names or declared.search(lines[i["line"] - 1])]
    return out


def exported_names(text: str, patterns: list[str]) -> set[str]:
    """Names listed by export statements (``module.exports = { a, b: c }``,
    ``export { a, b as c }``, ``export default a``): the local names."""
    names: set[str] = set()
    for rx in patterns:
        for m in re.finditer(rx, text, re.MULTILINE):
            groups = m.groupdict()
            if groups.get("name"):
                names.add(groups["name"])
            for part in (groups.get("names") or "").split(","):
                part = part.strip()
                if ":" in part:
                    part = part.split(":", 1)[1].strip()
                part = re.split(r"\s+as\s+", part)[0].strip()
                if re.fullmatch(r"[\w$]+", part):
                    names.add(part)
    return names


def tamper(text: str, patterns: list[list[str]]) -> list[list[Any]]:
    """Lines that reach for the harness: ``[[line, what], ...]`` (first 20)."""
    compiled = [(re.compile(rx), what) for rx, what in patterns]
    found: list[list[Any]] = []
    for index, line in enumerate(text.split("\n")):
        for rx, what in compiled:
            if rx.search(line):
                found.append([index + 1, what])
                break
        if len(found) >= 20:
            break
    return found


def analyse_file(root: str, rel: str, request: dict[str, Any]) -> dict[str, Any]:
    """Everything the parent needs about one file, or why it cannot be analysed."""
    from lizard import analyze_file

    data = b""
    try:
        data = _read(root, rel, request["limits"]["max_file_bytes"])
        text = _decode(data)
        try:
            info = analyze_file.analyze_source_code(rel, text)
            volume = _volume(rel, text)
        except RecursionError:
            raise Unanalysable("too deeply nested to analyse") from None
        except MemoryError:
            raise
        except Exception as exc:  # lizard's tokenisers can trip on odd input
            raise Unanalysable(f"lizard could not analyse it: {type(exc).__name__}") from None
        functions = [
            {
                "name": f.name,
                "line": f.start_line,
                "complexity": f.cyclomatic_complexity,
                "rank": rank(f.cyclomatic_complexity),
                "length": f.nloc,
            }
            for f in info.function_list
        ]
        total_cc = sum(f["complexity"] for f in functions)
        loc = _lines(data)
        sloc = int(info.nloc)
        return {
            "file": rel,
            "ok": True,
            "loc": loc,
            "sloc": sloc,
            "comments": 0,
            "mi": maintainability(volume, total_cc, sloc),
            "functions": functions,
            "docs": docs(rel, text, request.get("docs") or {}),
            "tamper": tamper(text, request.get("tamper") or []),
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
    for rel in request["files"]:
        _emit({"start": rel})
        _emit(analyse_file(root, rel, request))
    _emit({"done": True})
    return 0


if __name__ == "__main__":
    sys.exit(main())
