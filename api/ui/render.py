"""Rendering for ``/ui/``: the Jinja environment (autoescaped everywhere), syntax
highlighting (Pygments, token by token, so every line is its own element), the statement's
Markdown (raw HTML off), diffs, and the static files (served under a content hash)."""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name, get_lexer_for_filename
from pygments.token import STANDARD_TYPES
from pygments.token import _TokenType as TokenType
from pygments.util import ClassNotFound

from grader.render.common import clean

API_DIR = Path(__file__).resolve().parents[1]
TEMPLATES = API_DIR / "templates"
STATIC = API_DIR / "static"
PYGMENTS_STYLE = "default"
MAX_HIGHLIGHT_CHARS = 400_000


@dataclass(frozen=True)
class StaticFile:
    name: str
    body: bytes
    media_type: str
    digest: str


def _static_files() -> dict[str, StaticFile]:
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    css += "\n/* syntax highlighting (Pygments) */\n"
    css += HtmlFormatter(style=PYGMENTS_STYLE).get_style_defs(".hl")
    files = {
        "app.css": (css.encode(), "text/css; charset=utf-8"),
        "favicon.svg": ((STATIC / "favicon.svg").read_bytes(), "image/svg+xml"),
    }
    return {
        name: StaticFile(name, body, media, hashlib.sha256(body).hexdigest()[:16])
        for name, (body, media) in files.items()
    }


@dataclass(frozen=True)
class Line:
    number: int
    html: Markup
    notes: list[str] = field(default_factory=list)
    hit: bool = False


def _lexer_for(filename: str) -> Lexer:
    from grader.similarity import language_of

    language = language_of(filename)
    try:
        if language is not None:
            return get_lexer_by_name(language, stripnl=False, ensurenl=False)
        return get_lexer_for_filename(filename, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def _css_class(ttype: TokenType) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return str(STANDARD_TYPES[ttype])


def highlight(
    text: str,
    filename: str,
    *,
    notes: dict[int, list[str]] | None = None,
    hits: set[int] | None = None,
) -> list[Line]:
    """The file as escaped, highlighted lines; ``notes`` per line (style findings) and
    ``hits`` (lines of a similarity region) are marked."""
    notes = notes or {}
    hits = hits or set()
    text = clean(text)
    lexer = _lexer_for(filename) if len(text) <= MAX_HIGHLIGHT_CHARS else TextLexer()
    lines: list[list[str]] = [[]]
    for ttype, value in lexer.get_tokens(text):
        cls = _css_class(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append([])
            if part:
                piece = str(escape(part))
                lines[-1].append(f'<span class="{cls}">{piece}</span>' if cls else piece)
    if lines and not lines[-1] and text.endswith("\n"):
        lines.pop()
    return [
        Line(n, Markup("".join(parts)), notes.get(n, []), n in hits)
        for n, parts in enumerate(lines, start=1)
    ]


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


_HEADING = re.compile(r"<(/?)h([1-6])>")


def markdown(text: str, *, shift: int = 2) -> Markup:
    """A challenge statement as HTML: raw HTML in it is shown as text; its headings move
    ``shift`` levels down so they nest under the page's own."""
    html = _markdown.render(clean(text))
    html = _HEADING.sub(lambda m: f"<{m.group(1)}h{min(6, int(m.group(2)) + shift)}>", html)
    # Safe as markup: with "html" off, markdown-it escapes everything it does not generate.
    return Markup(html)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "del", "ctx", "hunk"
    text: str


def diff(a: str, b: str, a_name: str, b_name: str) -> list[DiffLine]:
    out = []
    for line in difflib.unified_diff(
        clean(a).splitlines(), clean(b).splitlines(), a_name, b_name, n=3, lineterm=""
    ):
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "ctx")
        out.append(DiffLine(kind, line))
    return out


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else ""


def _score(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours or days:
        parts.append(f"{hours} h")
    parts.append(f"{mins} min")
    return " ".join(parts)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(
            enabled_extensions=("html",), default_for_string=True, default=True
        ),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["clean"] = clean
    env.filters["when"] = _when
    env.filters["score"] = _score
    env.filters["duration"] = _duration
    return env


class Renderer:
    """The Jinja environment and static files of one app."""

    def __init__(self) -> None:
        self.env = environment()
        self.static = _static_files()
        self.env.globals["static_url"] = self.static_url

    def static_url(self, name: str) -> str:
        return f"/ui/static/{self.static[name].digest}/{name}"

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)
