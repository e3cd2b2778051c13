"""Tamper evidence reaches the reviewer, at the top, and never the candidate."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
from attacks import ATTACKS
from support import VAULT_SOLUTION, grade_files, grade_many, make_vault_challenge

from grader.report import Report
from grader.views import candidate_view

pytestmark = [pytest.mark.security, pytest.mark.docker]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory, docker_runner: Any) -> dict[str, Report]:
    base = tmp_path_factory.mktemp("evidence")
    challenge = make_vault_challenge(base, "in-process")
    subs = {
        "honest": {"vault.py": VAULT_SOLUTION},
        "tampered": ATTACKS["patch_test_report_outcome"].files,
    }

    def job(name: str) -> Report:
        return grade_files(
            challenge,
            subs[name],
            base / name,
            label=f"test-sec-ev-{name}",
            cache_dir=base / "cache",
        ).get()

    return grade_many({n: (lambda n=n: job(n)) for n in subs})


def test_every_report_carries_flags(reports: dict[str, Report]) -> None:
    for name, report in reports.items():
        data = json.loads(report.to_json())
        assert isinstance(data.get("flags"), list), name
    assert json.loads(reports["honest"].to_json())["flags"] == []
    assert reports["tampered"].flags, "the forged run must be flagged"


def test_html_report_shows_flags_at_the_top(reports: dict[str, Report]) -> None:
    from grader.render import render

    report = reports["tampered"]
    page = render(report, "html")
    flags_at = page.find('id="flags"')
    assert flags_at != -1, "no flags section"
    for marker in ('id="tests"', 'id="limits"', "<h2"):
        at = page.find(marker)
        assert at == -1 or flags_at < at, f"flags come after {marker}"
    section = page[flags_at : page.find("</section>", flags_at)]
    for flag in report.flags:
        assert html.escape(flag.code) in section
    assert "tamper-suspect" in section


def test_markdown_report_lists_flags_before_the_tests(reports: dict[str, Report]) -> None:
    from grader.render import render

    text = render(reports["tampered"], "md")
    first_flag = text.find("tamper-suspect")
    assert first_flag != -1 and first_flag < text.find("**Tests:**")


def test_candidate_never_sees_flags(reports: dict[str, Report], tmp_path: Path) -> None:
    challenge = make_vault_challenge(tmp_path, "in-process")
    view = json.dumps(candidate_view(reports["tampered"], challenge.config.feedback))
    assert "tamper" not in view and "flags" not in view
