"""The performance section in every rendering: the same figures everywhere, inert SVG
charts in the HTML, hostile text escaped, and the charts drawn by a real browser."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.challenge import ChallengeConfig
from grader.render import FORMATS, render
from grader.render.charts import CANDIDATE, REFERENCE
from grader.report import (
    ChallengeRef,
    LoadFigures,
    PerfCase,
    PerformanceSection,
    PerfSeries,
    Report,
    StyleSection,
    SubmissionRef,
)
from grader.report import TestResult as Result
from grader.scoring import apply_scores

XSS = "<script>alert(1)</script>"


def series(times: list[float], growth: str, **extra: object) -> PerfSeries:
    sizes = [500, 1000, 2000, 4000][: len(times)]
    return PerfSeries(
        sizes=sizes,
        median_s=times,
        spread_s=[t * 0.1 for t in times],
        samples_s=[[t * 0.95, t, t * 1.1] for t in times],
        calls=[20, 10, 4, 2][: len(times)],
        empty_crossing_s=[5e-5] * len(times),
        growth=growth,
        growth_r2=0.998,
        **extra,  # type: ignore[arg-type]
    )


def perf_report() -> Report:
    quadratic = PerfCase(
        id="tests/perf/test_p.py::test_aggregate",
        target="logagg.aggregate",
        candidate=series([0.004, 0.016, 0.064], "O(n²)", stopped_at=4000, lower_bound_s=0.3),
        reference=series([0.002, 0.004, 0.008, 0.016], "O(n)"),
        ratio=18.75,
        ratio_at=4000,
        ratio_is_lower_bound=True,
        ratios=[7.9, 8.1, 8.0],
        repetitions=3,
        check="equal",
        elapsed_s=9.5,
    )
    fast = PerfCase(
        id="tests/perf/test_p.py::test_parse",
        target="logagg.parse_line",
        candidate=series([2e-6, 2.1e-6, 1.9e-6, 2e-6], "O(1)"),
        reference=series([1e-6, 1e-6, 1.1e-6, 1e-6], "O(1)"),
        ratio=2.0,
        ratio_at=4000,
        ratios=[2.0, 1.9, 2.1],
        repetitions=3,
        check="equal",
    )
    failed = PerfCase(
        id=f"tests/perf/test_p.py::test_wrong[{XSS}]",
        outcome="failed",
        message=f"AssertionError: under benchmark, the candidate's result differs {XSS}",
        check="differs at n=500",
    )
    load = PerfCase(
        id="tests/perf/test_p.py::test_reads",
        kind="load",
        target="GET /kv/k1",
        candidate_load=LoadFigures(
            requests=2000,
            concurrency=16,
            throughput_rps=800,
            p50_ms=9,
            p95_ms=30,
            p99_ms=55,
            peak_memory_mb=48.5,
        ),  # fmt: skip
        reference_load=LoadFigures(
            requests=2000,
            concurrency=16,
            throughput_rps=1600,
            p50_ms=4,
            p95_ms=12,
            p99_ms=20,
        ),  # fmt: skip
        ratio=2.0,
        ratios=[2.0, 2.1, 1.9],
        repetitions=3,
    )
    report = Report(
        grader_version="0.1.0",
        challenge=ChallengeRef(slug="log-aggregator", version=2),
        submission=SubmissionRef(id="sub-perf", sha256="cd" * 32),
        tests=[
            Result(
                id="tests/hidden/test_h.py::test_a",
                visibility="hidden",
                weight=1,
                outcome="passed",
                duration_s=0.01,
            ),
        ],  # fmt: skip
        style=StyleSection(lines_of_code=120),
        performance=PerformanceSection(
            cases=[quadratic, fast, failed, load], measured=True, run_s=21.5
        ),
    )
    weights = {"correctness": 60, "style": 15, "complexity": 10, "docs": 5, "performance": 10}
    config = ChallengeConfig(title="Logs", language="python", scoring=weights)  # type: ignore[arg-type]
    return apply_scores(report, config)


@pytest.fixture(scope="module")
def report() -> Report:
    return perf_report()


def test_case_scores_follow_the_ratios(report: Report) -> None:
    assert report.performance is not None
    # 18.75 → 0; 2.0 → 64.2; failed → 0; 2.0 → 64.2; mean 32.1
    assert [c.score for c in report.performance.cases] == [0.0, 64.2, 0.0, 64.2]
    assert report.scores.performance == 32.1


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_rendering_shows_the_performance_figures(report: Report, fmt: str) -> None:
    out = render(report, fmt, color=False)
    assert "32.1" in out
    if fmt == "json":
        assert Report.model_validate_json(out) == report
        return
    for figure in ("≥ 18.8×", "2×", "O(n²)", "O(n)", "64.2", "4,000"):
        assert figure in out, (fmt, figure)
    if fmt in ("html", "md"):
        assert "<script>" not in out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inside_svg = 0
        self.svg_tags: set[str] = set()
        self.svg_attrs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "svg":
            self.inside_svg += 1
        if self.inside_svg:
            self.svg_tags.add(tag)
            self.svg_attrs.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.inside_svg -= 1


def test_the_charts_are_inert_svg(report: Report) -> None:
    page = _Tags()
    page.feed(render(report, "html"))
    assert page.svg_tags <= {
        "svg",
        "title",
        "rect",
        "line",
        "text",
        "g",
        "polyline",
        "circle",
        "path",
    }
    charts = [a for t, a in page.tags if t == "svg"]
    assert len(charts) == 3  # two growth charts, one latency chart (no chart for a failure)
    assert "script" not in {t for t, _ in page.tags}
    for attrs in page.svg_attrs:
        assert not any(
            k.startswith("on") or k in ("href", "xlink:href", "src", "style") for k in attrs
        ), attrs
    classes = {a.get("class") for t, a in page.tags}
    assert {"series-candidate", "series-reference"} <= classes
    html = render(report, "html")
    assert 'id="performance"' in html and 'id="score-performance"' in html
    assert "abandoned" in html and "&lt;script&gt;" in html


def test_without_a_performance_section_nothing_is_added() -> None:
    report = perf_report()
    report.performance = None
    report.weights["performance"] = 0.0
    for fmt in ("md", "text", "junit", "html"):
        out = render(report, fmt, color=False)
        assert "performance" not in out.lower().replace('"performance"', "") or fmt == "html"
    assert "<svg" not in render(report, "html")


# --- a real browser ------------------------------------------------------------------------


def _png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Rows of RGB(A) pixels of a non-interlaced 8-bit PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride, rows, prev = width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


def _count(rows: list[bytes], bpp: int, colour: str) -> int:
    want = bytes.fromhex(colour.lstrip("#"))
    return sum(1 for row in rows for i in range(0, len(row), bpp) if row[i : i + 3] == want)


@pytest.mark.browser
def test_a_browser_draws_both_series(report: Report, tmp_path: Path) -> None:
    chromium = next((p for n in ("chromium", "chromium-browser") if (p := shutil.which(n))), None)
    if chromium is None:
        pytest.fail("headless chromium is required (apt-get install -y chromium)")
    only_perf = perf_report()
    assert only_perf.performance is not None
    only_perf.performance.cases = only_perf.performance.cases[:1]  # one growth chart
    page = tmp_path / "report.html"
    page.write_text(render(only_perf, "html"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    argv = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", "--hide-scrollbars",
        "--force-device-scale-factor=1", "--window-size=1280,4000",
        f"--screenshot={shot}", page.as_uri(),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert shot.is_file(), done.stderr[-2000:]
    _, bpp, rows = _png_pixels(shot.read_bytes())
    # Both series are drawn: lines, points and whiskers in each side's colour.
    assert _count(rows, bpp, CANDIDATE) > 200
    assert _count(rows, bpp, REFERENCE) > 200
