"""The JSON rendering: the report contract itself."""

from __future__ import annotations

from grader.report import (
    Report,
)

# --- JSON ------------------------------------------------------------------------------


def render(report: Report) -> str:
    """The report as indented JSON (the contract of DESIGN.md)."""
    return report.to_json() + "\n"
