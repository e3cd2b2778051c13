"""A report stays bounded whatever the submission: lists capped with totals, texts
clipped, scores computed from everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import scoring
from grader.analysis import analyse
from grader.challenge import ChallengeConfig
from grader.render import render
from grader.report import (
    MAX_LISTED,
    ChallengeRef,
    Report,
    RunInfo,
    SubmissionRef,
    bound,
)
from grader.report import (
    TestResult as Result,
)

pytestmark = [pytest.mark.slow]

CONFIG = ChallengeConfig.model_validate({"title": "Big", "language": "python"})


def _report_for(root: Path, files: list[str], tests: int = 40) -> Report:
    analysis = analyse(root, files, CONFIG.style, CONFIG.complexity, timeout_s=120)
    report = Report(
        challenge=ChallengeRef(slug="big", version=1),
        submission=SubmissionRef(id="s", sha256="0" * 64),
        tests=[
            Result(
                id=f"tests/hidden/test_x.py::test_{i}",
                visibility="hidden",
                weight=1,
                outcome="passed" if i % 2 else "failed",
                message="E" * 20_000,
                output="o" * 20_000,
            )
            for i in range(tests)
        ],
        style=analysis.style,
        complexity=analysis.complexity,
        docs=analysis.docs,
        sources=analysis.sources,
        run=RunInfo(runner="docker", isolation="process", stdout_tail="s" * 70_000),
    )
    scoring.apply_scores(report, CONFIG)
    return bound(report)


def test_twenty_thousand_functions_give_a_report_under_one_megabyte(tmp_path: Path) -> None:
    lines = ['"""Many functions."""', ""]
    for i in range(20_000):
        lines += [f"def f{i}(x):", f"    if x > {i}:", f"        return x + {i}"]
        lines += ["    return x", ""]
    (tmp_path / "solution.py").write_text("\n".join(lines))
    report = _report_for(tmp_path, ["solution.py"])
    data = report.to_json()
    assert len(data.encode()) < 1_000_000
    cx = report.complexity
    # Scored from all 20,000 functions, listed as the most complex 300.
    assert cx.analysable and cx.functions_total == 20_000
    assert len(cx.functions) == MAX_LISTED
    assert report.score_inputs["complexity"]["functions"] == 20_000
    assert report.docs.total == 20_001 and len(report.docs.items) == MAX_LISTED
    # Undocumented items are the ones kept.
    assert not any(i.documented for i in report.docs.items)
    html = render(report, "html")
    assert "19,700 more functions" in html
    assert len(html.encode()) < 2_000_000
    assert "characters cut" in (report.tests[0].message or "")
    assert report.run is not None and len(report.run.stdout_tail) <= 16 * 1024 + 1


def test_a_hundred_thousand_style_findings_are_counted_not_listed(tmp_path: Path) -> None:
    # Two findings per line (E702 twice: statements after semicolons), and F401.
    (tmp_path / "noisy.py").write_text("import os\n" + "x=1;y=2;z=3\n" * 50_000)
    report = _report_for(tmp_path, ["noisy.py"], tests=2)
    st = report.style
    assert st.findings_total >= 100_000
    assert len(st.findings) == MAX_LISTED
    assert report.score_inputs["style"]["findings"] == st.findings_total
    assert len(report.to_json().encode()) < 1_000_000
    md = render(report, "md")
    assert f"{st.findings_total}" in md.replace(",", "") or "more" in md


@pytest.mark.browser
def test_the_bounded_html_page_renders_in_a_browser(tmp_path: Path) -> None:
    from test_render import _console_messages, _open

    lines = ['"""Many functions."""', ""]
    for i in range(20_000):
        lines += [f"def f{i}(x):", f"    return x + {i}", ""]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "solution.py").write_text("\n".join(lines))
    report = _report_for(tmp_path / "sub", ["solution.py"])
    page = tmp_path / "report.html"
    page.write_text(render(report, "html"), encoding="utf-8")
    result = _open(page, tmp_path / "profile")
    assert result.returncode == 0, result.stderr[-2000:]
    # The whole page made it into the DOM, down to its last section.
    assert "How the scores were computed" in result.stdout
    assert _console_messages(result.stderr) == []
