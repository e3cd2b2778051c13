"""Renderings of one report: golden files, agreement on numbers, escaping, a real browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.challenge import ChallengeConfig
from grader.render import FORMATS, render
from grader.report import (
    ChallengeRef,
    ComplexitySection,
    DocsSection,
    FileMetrics,
    FileProblem,
    Flag,
    FunctionComplexity,
    Report,
    RunInfo,
    SourceFile,
    StyleFinding,
    StyleSection,
    SubmissionRef,
    Timings,
)
from grader.report import TestResult as Result
from grader.scoring import apply_scores

GOLDEN = Path(__file__).parent / "golden"
SUFFIX = {"json": "json", "md": "md", "html": "html", "junit": "junit.xml", "text": "txt"}
XSS = "<script>alert(1)</script>"
SOURCE = (
    '"""Token bucket."""\n'
    "import os\n"
    "\n"
    "\n"
    "def take(bucket, n):\n"
    "    if n > bucket.tokens:  # </pre><script>alert(2)</script>\n"
    "        return False\n"
    '    access = "user\u202e \u2066// admin\u2069 \u2066"\n'
    "    bucket.tokens -= n\n"
    "    return True\n"
)


def sample_report() -> Report:
    """A fixed report touching every part of every rendering (timings and version fixed)."""
    report = Report(
        grader_version="0.1.0",
        challenge=ChallengeRef(slug="rate-limiter", version=2),
        submission=SubmissionRef(id="sub-0001", sha256="ab" * 32),
        limits_hit=["timeout"],
        flags=[Flag(code="tamper-suspect", message=f"imports _pytest internals {XSS}")],
        tests=[
            Result(
                id="tests/public/test_basic.py::test_take",
                visibility="public",
                weight=1,
                outcome="passed",
                duration_s=0.012,
            ),
            Result(
                id="tests/public/test_basic.py::test_refill[a|b]",
                visibility="public",
                weight=1,
                outcome="failed",
                duration_s=0.5,
                message=f"AssertionError: assert 3 == 4 {XSS} @reviewer\n  where 3 = refill()",
                output="tokens=3 \x1b[31mred\x1b[0m @reviewer\n",
            ),
            Result(
                id="tests/public/test_basic.py::test_slow_path",
                visibility="public",
                weight=1,
                outcome="skipped",
                counted=False,
                message="skipped by the author: needs a clock",
            ),
            Result(
                id="tests/hidden/test_burst.py::test_refill",
                visibility="hidden",
                weight=3,
                outcome="passed",
                duration_s=0.034,
            ),
            Result(
                id="tests/hidden/test_burst.py::TestBurst::test_burst",
                visibility="hidden",
                weight=2,
                outcome="error",
                duration_s=1.25,
                message="RuntimeError: boom",
                output="Traceback ...\nRuntimeError: boom\n",
            ),
            Result(
                id="tests/hidden/test_burst.py::test_skips",
                visibility="hidden",
                weight=1,
                outcome="skipped",
                message="submission raised Skipped",
            ),
            Result(
                id="tests/hidden/test_burst.py::test_forever",
                visibility="hidden",
                weight=1,
                outcome="not_reported",
            ),
        ],
        style=StyleSection(
            findings=[
                StyleFinding(
                    file="bucket.py",
                    line=2,
                    column=8,
                    code="F401",
                    message="`os` imported but unused",
                ),
                StyleFinding(
                    file="bucket.py",
                    line=6,
                    column=5,
                    code="X999",
                    message="<img src=x onerror=alert(3)> | pipes",
                ),
            ],
            findings_total=2,
            lines_of_code=9,
            unanalysable=[FileProblem(file="broken.py", reason="syntax error at line 1", lines=3)],
            reason="1 file(s) not analysable, scored as the worst case: broken.py: syntax error "
            "at line 1",
        ),
        complexity=ComplexitySection(
            functions=[
                FunctionComplexity(file="bucket.py", name="take", line=5, complexity=2, rank="A")
            ],
            maintainability_index=71.3,
            files=[
                FileMetrics(
                    file="bucket.py", maintainability_index=71.3, loc=10, sloc=9, comments=1
                )
            ],
            hotspots=[
                FunctionComplexity(file="bucket.py", name="take", line=5, complexity=2, rank="A")
            ],
        ),
        docs=DocsSection(
            analysable=False,
            reason="no file could be analysed: broken.py: syntax error",
            unanalysable=[FileProblem(file="broken.py", reason="syntax error", lines=3)],
        ),
        timings=Timings(queued_s=0.5, run_s=2.25, analysis_s=0.75, total_s=3.5),
        run=RunInfo(
            runner="docker",
            isolation="process",
            exit_code=1,
            stdout_tail="collected 6 items\n",
            stderr_tail=f"warn {XSS}\n",
            peak_memory_mb=42.5,
        ),
        sources=[
            SourceFile(path="bucket.py", text=SOURCE),
            SourceFile(path="broken.py", text="def (:\n", note="not valid UTF-8; shown as \ufffd"),
        ],
    )
    reference = ComplexitySection(
        functions=[FunctionComplexity(file="ref.py", name="take", line=1, complexity=1, rank="A")],
        files=[FileMetrics(file="ref.py", maintainability_index=80.0, sloc=5)],
        maintainability_index=80.0,
    )
    config = ChallengeConfig(title="Rate limiter", language="python")
    return apply_scores(report, config, reference)


@pytest.fixture(scope="module")
def report() -> Report:
    return sample_report()


@pytest.mark.parametrize("fmt", FORMATS)
def test_rendering_matches_golden(report: Report, fmt: str, request: pytest.FixtureRequest) -> None:
    out = render(report, fmt, color=False)
    golden = GOLDEN / f"report.{SUFFIX[fmt]}"
    if request.config.getoption("--update-goldens"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(out, encoding="utf-8")
    assert golden.is_file(), f"{golden} missing: run pytest with --update-goldens"
    assert out == golden.read_text(encoding="utf-8"), (
        f"{fmt} rendering changed; if intended, refresh with --update-goldens"
    )


def test_formats_and_unknown_format(report: Report) -> None:
    assert FORMATS == ("json", "md", "html", "junit", "text")
    with pytest.raises(ValueError, match="unknown format"):
        render(report, "pdf")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_rendering_shows_the_same_scores(report: Report, fmt: str) -> None:
    out = render(report, fmt, color=False)
    s = report.scores
    # correctness: 1 + 3 of 9 counted weight → 44.4; style: (2 + 10 × 3/100) findings in 12
    # lines is past the zero point → 0; complexity: all rank A, MI ≥ 20 → 100; docs: not
    # analysable → 0; total (70×44.4 + 10×100) / 100 = 41.08 → 41.1
    assert (s.correctness, s.style, s.complexity, s.docs) == (44.4, 0.0, 100.0, 0.0)
    assert s.total == 41.1
    for value in ("44.4", "0.0", "100.0", "41.1"):
        assert value in out
    assert "0.500" in out or fmt == "json"  # durations to the millisecond everywhere


def test_json_is_the_report_itself(report: Report) -> None:
    out = render(report, "json")
    assert Report.model_validate_json(out) == report
    assert json.loads(out)["scores"]["total"] == 41.1


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> _Collect:
    parser = _Collect()
    parser.feed(text)
    parser.close()
    return parser


def test_html_is_self_contained_and_inert(report: Report) -> None:
    page = parse_html(render(report, "html"))
    names = {t for t, _ in page.tags}
    assert names.isdisjoint(
        {"script", "link", "img", "iframe", "object", "embed", "base", "form", "svg"}
    )
    for tag, attrs in page.tags:
        assert "src" not in attrs, tag
        assert not any(a.startswith("on") for a in attrs), tag
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("#"), attrs
    csp = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert "default-src 'none'" in (csp[0]["content"] or "")


def test_html_shows_hostile_text_as_text(report: Report) -> None:
    out = render(report, "html")
    text = "".join(parse_html(out).text)
    assert XSS in text and "<img src=x onerror=alert(3)>" in text
    assert "</pre><script>alert(2)</script>" in text
    assert "\x1b" not in out and "\u202e" not in out and "\u2066" not in out
    assert "\\x1b[31m" in text and "<U+202E>" in text and "<U+2066>" in text


def test_html_has_the_reviewers_sections(report: Report) -> None:
    out = render(report, "html")
    assert out.index('id="flags"') < out.index('id="tests"')
    for anchor in (
        'id="total"',
        'id="limits"',
        'id="style"',
        'id="complexity"',
        'id="docs"',
        'id="sources"',
        'id="score-docs"',
    ):
        assert anchor in out
    assert '<span class="badge">hidden</span>' in out
    # The finding on bucket.py line 6 sits right under that line, and links to it.
    line6 = out.index('id="s0-L6"')
    assert out.index("X999", line6) < out.index('id="s0-L7"')
    assert 'href="#s0-L6"' in out
    assert "3.0× more complex than the reference" not in out  # 2 vs 1 → 2.0×
    assert "2.0× more complex than the reference" in out
    assert "not analysable: no file could be analysed" in out


def test_junit_reports_tests_as_ci_expects(report: Report) -> None:
    root = ET.fromstring(render(report, "junit").encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.attrib["tests"] == "7"
    assert (suite.attrib["failures"], suite.attrib["errors"], suite.attrib["skipped"]) == (
        "3",
        "1",
        "1",
    )
    props = {p.attrib["name"]: p.attrib["value"] for p in suite.iter("property")}
    assert props["score.total"] == "41.1" and props["weight.correctness"] == "70"
    assert props["note.docs"].startswith("not analysable")
    cases = {c.attrib["name"]: c for c in suite.iter("testcase")}
    assert cases["test_forever"].find("failure").attrib["message"] == "not reported"  # type: ignore[union-attr]
    assert cases["test_burst"].attrib["classname"] == "tests.hidden.test_burst.TestBurst"
    assert cases["test_burst"].find("error") is not None
    assert cases["test_slow_path"].find("skipped") is not None
    assert cases["test_skips"].find("failure").attrib["type"] == "skipped"  # type: ignore[union-attr]
    assert cases["test_take"].attrib["time"] == "0.012" and len(cases["test_take"]) == 0


def test_junit_is_read_by_junitparser(report: Report) -> None:
    from junitparser import Error, Failure, JUnitXml, Skipped

    xml = JUnitXml.fromstring(render(report, "junit"))
    kinds: dict[str, str] = {}
    for suite in xml:
        for case in suite:
            kinds[case.name] = next((type(r).__name__ for r in case.result), "passed")
    assert kinds == {
        "test_take": "passed",
        "test_refill[a|b]": Failure.__name__,
        "test_slow_path": Skipped.__name__,
        "test_refill": "passed",
        "test_burst": Error.__name__,
        "test_skips": Failure.__name__,
        "test_forever": Failure.__name__,
    }


def test_markdown_tables_stay_tables(report: Report) -> None:
    out = render(report, "md")
    rows = [line for line in out.splitlines() if line.startswith("|")]
    for row in rows:
        cells = row.replace("\\|", "").count("|")
        assert cells in (4, 5, 6), row
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "@reviewer" not in out


def test_text_is_plain_without_a_terminal(report: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = render(report, "text")
    assert "\x1b" not in out
    assert "41.1" in out and "tests/hidden/test_burst.py::test_forever" in out
    coloured = render(report, "text", color=True)
    assert "\x1b[" in coloured and "41.1" in coloured


def test_text_never_passes_terminal_escapes_through() -> None:
    report = sample_report()
    report.tests[1].message = "\x1b]0;pwned\x07\x1b[2J"
    for color in (True, False):
        out = render(report, "text", color=color)
        assert "\x1b]0;" not in out and "\x1b[2J" not in out and "\x07" not in out


# --- a real browser --------------------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.fail("headless chromium is required (apt-get install -y chromium)")


def _open(page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    argv = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        "--dump-dom",
        page.as_uri(),
    ]
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)


def _console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@pytest.mark.browser
def test_html_opens_in_a_browser_without_console_errors(report: Report, tmp_path: Path) -> None:
    # The harness must see console errors, or a clean run proves nothing.
    control = tmp_path / "control.html"
    control.write_text(
        "<!DOCTYPE html><html><body><p>control</p>"
        "<script>console.error('control-error')</script></body></html>"
    )
    seen = _open(control, tmp_path / "profile-control")
    assert "control-error" in "\n".join(_console_messages(seen.stderr)), seen.stderr[-2000:]

    page = tmp_path / "report.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    result = _open(page, tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'id="total">41.1<' in result.stdout
    assert "alert(" not in "".join(_console_messages(result.stderr))
    assert _console_messages(result.stderr) == []
