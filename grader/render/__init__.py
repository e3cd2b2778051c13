"""Renderings of one :class:`~grader.report.Report`: JSON, Markdown, HTML, JUnit XML, text.

Every rendering formats numbers through the same few functions (scores and the
maintainability index to one decimal, weights as given, durations to milliseconds),
so they all show the same figures as the JSON. Every string that came from a
submission, a test or a tool is treated as hostile: control characters and Unicode
bidi controls are shown as visible escapes (``\\x1b``, ``<U+202E>``), and each format
escapes the rest in its own way. The HTML is one self-contained file: inline CSS, no
script, and a Content-Security-Policy that forbids fetching anything.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from grader.render import html, json, junit, markdown, text
from grader.render.common import FORMATS, clean
from grader.report import Report

__all__ = ["FORMATS", "clean", "render"]


def render(report: Report, fmt: str, *, color: bool | None = None) -> str:
    """Render ``report`` as one of :data:`FORMATS`.

    ``color`` only matters for ``text``: None means colour when stdout is a terminal;
    without colour the output is plain text with no ANSI sequences.
    """
    renderers: dict[str, Callable[[Report], str]] = {
        "json": json.render,
        "md": markdown.render,
        "html": html.render,
        "junit": junit.render,
    }
    if fmt == "text":
        return text.render(report, sys.stdout.isatty() if color is None else color)
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    return renderers[fmt](report)
