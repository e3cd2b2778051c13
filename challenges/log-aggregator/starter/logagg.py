"""Parse access-log lines and aggregate them into a traffic report.

See README.md for the log format and the exact rules. Keep every name and
signature below.
"""

from __future__ import annotations


class MalformedLineError(ValueError):
    """A log line that does not follow the documented format."""


def parse_line(line: str) -> dict | None:
    """Parse one log line into a dict; None for a blank or comment line.

    Returns ``{"time", "method", "path", "status", "latency_ms"}``.
    Raises ``MalformedLineError`` naming the first invalid field.
    """
    raise NotImplementedError


def percentile(values: list[float], p: float) -> float:
    """Return the nearest-rank ``p``-th percentile of ``values``."""
    raise NotImplementedError


def aggregate(
    lines: list[str] | str,
    start: float | str | None = None,
    end: float | str | None = None,
    top: int = 3,
) -> dict:
    """Aggregate the log lines whose time is in ``[start, end)`` into a report."""
    raise NotImplementedError
