"""Inline SVG charts of the performance cases, for the HTML report.

Plain SVG elements and presentation attributes only (no script, no style element, no
link, nothing fetched): the page's Content-Security-Policy (``default-src 'none'``)
allows them as they are. Every text goes through the HTML page's escaping.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from grader.render.common import duration, quartiles, rate
from grader.report import LoadFigures, PerfCase, PerfSeries

CANDIDATE = "#c2410c"
REFERENCE = "#1d4ed8"
GRID = "#d9dee3"
INK = "#5b6570"
WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 150, 16, 44

Escape = Callable[[object], str]


def _size(n: float) -> str:
    for unit, scale in (("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:g}{unit}"
    return f"{n:g}"


def _points(series: PerfSeries) -> list[tuple[int, float, float, float]]:
    """(size, median, q1, q3) of each measured size."""
    out = []
    for n, median, samples in zip(series.sizes, series.median_s, series.samples_s, strict=False):
        q1, q3 = quartiles(samples)
        out.append((n, median, q1, q3))
    return out


def _text(x: float, y: float, label: str, *, anchor: str = "middle", color: str = INK) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" fill="{color}" '
        f'text-anchor="{anchor}">{label}</text>'
    )


def _extent(
    all_series: list[PerfSeries],
) -> tuple[list[float], tuple[float, float], tuple[int, int]]:
    """The sizes drawn, the x range (log10 of n, padded) and the y range (whole decades)."""
    sizes: list[float] = []
    times: list[float] = []
    for series in all_series:
        for n, median, q1, q3 in _points(series):
            sizes.append(max(n, 1))
            times += [median, q1, q3]
        if series.stopped_at is not None and series.lower_bound_s:
            sizes.append(max(series.stopped_at, 1))
            times.append(series.lower_bound_s)
    times = [t for t in times if t > 0] or [1e-6]
    x_lo, x_hi = math.log10(min(sizes)), math.log10(max(sizes))
    if x_hi - x_lo < 1e-9:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    pad = (x_hi - x_lo) * 0.05
    y_lo = math.floor(math.log10(min(times)))
    y_hi = math.ceil(math.log10(max(times)))
    return sizes, (x_lo - pad, x_hi + pad), (y_lo, max(y_hi, y_lo + 1))


def growth_chart(case: PerfCase, h: Escape) -> str:
    """Seconds per call against input size, both sides, log-log, with quartile whiskers."""
    sides = [
        (name, color, series)
        for name, color, series in (
            ("candidate", CANDIDATE, case.candidate),
            ("reference", REFERENCE, case.reference),
        )
        if series is not None and (series.sizes or series.stopped_at is not None)
    ]
    if not sides:
        return ""
    sizes, (x_lo, x_hi), (y_lo, y_hi) = _extent([series for _, _, series in sides])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(n: float) -> float:
        return LEFT + (math.log10(max(n, 1)) - x_lo) / (x_hi - x_lo) * plot_w

    def y(t: float) -> float:
        t = max(t, 10.0**y_lo)
        return TOP + plot_h - (math.log10(t) - y_lo) / (y_hi - y_lo) * plot_h

    title = f"{case.target or case.id}: time of one call against input size"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{h(title)}"><title>{h(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        f'stroke="{GRID}"/>',
    ]
    for decade in range(y_lo, y_hi + 1):
        yy = y(10.0**decade)
        out.append(
            f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{LEFT + plot_w}" y2="{yy:.1f}" stroke="{GRID}"/>'
        )
        out.append(_text(LEFT - 6, yy + 4, h(duration(10.0**decade)), anchor="end"))
    for size in sorted(set(sizes)):
        xx = x(size)
        out.append(
            f'<line x1="{xx:.1f}" y1="{TOP + plot_h}" x2="{xx:.1f}" y2="{TOP + plot_h + 4}" '
            f'stroke="{INK}"/>'
        )
        out.append(_text(xx, TOP + plot_h + 16, h(_size(size))))
    out.append(_text(LEFT + plot_w / 2, HEIGHT - 8, "input size n (log scale)"))
    out.append(
        f'<text x="14" y="{TOP + plot_h / 2:.1f}" font-size="11" fill="{INK}" '
        f'text-anchor="middle" transform="rotate(-90 14 {TOP + plot_h / 2:.1f})">'
        "time per call (log scale)</text>"
    )
    for row, (name, color, series) in enumerate(sides):
        points = _points(series)
        cls = f"series-{name}"
        group = [f'<g class="{cls}" fill="{color}" stroke="{color}">']
        if len(points) > 1:
            coords = " ".join(f"{x(n):.1f},{y(m):.1f}" for n, m, _, _ in points)
            group.append(f'<polyline points="{coords}" fill="none" stroke-width="2"/>')
        for n, median, q1, q3 in points:
            spread = f"quartiles {duration(q1)} – {duration(q3)}"
            tip = f"{name}, n={n:,}: median {duration(median)} ({spread})"
            group.append(
                f'<line x1="{x(n):.1f}" y1="{y(q1):.1f}" x2="{x(n):.1f}" y2="{y(q3):.1f}" '
                'stroke-width="1.5"/>'
            )
            group.append(
                f'<circle cx="{x(n):.1f}" cy="{y(median):.1f}" r="4"><title>{h(tip)}</title>'
                "</circle>"
            )
        if series.stopped_at is not None and series.lower_bound_s:
            n, bound = series.stopped_at, series.lower_bound_s
            start = points[-1] if points else None
            if start is not None:
                group.append(
                    f'<line x1="{x(start[0]):.1f}" y1="{y(start[1]):.1f}" x2="{x(n):.1f}" '
                    f'y2="{y(bound):.1f}" stroke-width="2" stroke-dasharray="5 4"/>'
                )
            tip = f"{name}, n={n:,}: abandoned after {duration(bound)} per call (at least)"
            xx, yy = x(n), y(bound)
            group.append(
                f'<path d="M{xx - 6:.1f},{yy + 4:.1f} L{xx:.1f},{yy - 7:.1f} '
                f'L{xx + 6:.1f},{yy + 4:.1f} Z"><title>{h(tip)}</title></path>'
            )
        group.append("</g>")
        out += group
        label = f"{name} {series.growth or ''}".strip()
        ly = TOP + 14 + row * 20
        out.append(
            f'<line x1="{WIDTH - RIGHT + 12}" y1="{ly - 4}" x2="{WIDTH - RIGHT + 32}" '
            f'y2="{ly - 4}" stroke="{color}" stroke-width="2"/>'
        )
        out.append(_text(WIDTH - RIGHT + 38, ly, h(label), anchor="start", color=color))
    out.append("</svg>")
    return "".join(out)


def latency_chart(case: PerfCase, h: Escape) -> str:
    """Latency percentiles (p50, p95, p99) of both sides of a ``load`` case, as bars."""
    sides: list[tuple[str, str, LoadFigures]] = [
        (name, color, figures)
        for name, color, figures in (
            ("candidate", CANDIDATE, case.candidate_load),
            ("reference", REFERENCE, case.reference_load),
        )
        if figures is not None
    ]
    if not sides:
        return ""
    keys = ("p50_ms", "p95_ms", "p99_ms")
    values = [getattr(f, k) or 0.0 for _, _, f in sides for k in keys]
    top = max(max(values), 1e-3) * 1.15
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / len(keys)
    bar_w = group_w / (len(sides) + 1)

    def y(v: float) -> float:
        return TOP + plot_h - v / top * plot_h

    title = f"{case.target or case.id}: latency percentiles"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{h(title)}"><title>{h(title)}</title>',
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        f'stroke="{GRID}"/>',
    ]
    for i in range(5):
        v = top * i / 4
        out.append(
            f'<line x1="{LEFT}" y1="{y(v):.1f}" x2="{LEFT + plot_w}" y2="{y(v):.1f}" '
            f'stroke="{GRID}"/>'
        )
        out.append(_text(LEFT - 6, y(v) + 4, h(duration(v / 1000)), anchor="end"))
    for g, key in enumerate(keys):
        gx = LEFT + g * group_w + bar_w / 2
        for s, (name, color, figures) in enumerate(sides):
            v = getattr(figures, key) or 0.0
            bx = gx + s * bar_w
            tip = f"{name} {key.removesuffix('_ms')}: {duration(v / 1000)}"
            out.append(
                f'<rect class="series-{name}" x="{bx:.1f}" y="{y(v):.1f}" width="{bar_w:.1f}" '
                f'height="{TOP + plot_h - y(v):.1f}" fill="{color}"><title>{h(tip)}</title>'
                "</rect>"
            )
        out.append(_text(gx + bar_w * len(sides) / 2, TOP + plot_h + 16, key.removesuffix("_ms")))
    for row, (name, color, figures) in enumerate(sides):
        ly = TOP + 14 + row * 20
        label = f"{name}: {rate(figures.throughput_rps)}"
        out.append(
            f'<rect x="{WIDTH - RIGHT + 12}" y="{ly - 9}" width="14" height="10" fill="{color}"/>'
        )
        out.append(_text(WIDTH - RIGHT + 32, ly, h(label), anchor="start", color=color))
    out.append("</svg>")
    return "".join(out)
