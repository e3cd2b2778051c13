"""Performance through the whole grade, in Docker: the shipped log-aggregator's case
against its known-slow variants, and the gate that skips the run when nothing passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.challenge import load_challenge
from grader.engine import grade
from grader.render import render
from grader.report import Report
from grader.submission import open_submission
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
CHALLENGE = ROOT / "challenges" / "log-aggregator"
VARIANTS = ROOT / "tests" / "perf_variants" / "log-aggregator"
CASE = "tests/perf/test_perf_logagg.py::test_aggregate_scales_with_the_log"


def graded(folder: Path, runner: DockerRunner, tmp_path: Path) -> Report:
    challenge = load_challenge(CHALLENGE)
    work = tmp_path / folder.name
    work.mkdir()
    sub = open_submission(folder, work, ignore=challenge.language.ignores)
    return grade(challenge, sub, runner, cache_dir=tmp_path / "cache")


def test_a_quadratic_variant_is_labelled_and_scores_lower(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    fast = graded(CHALLENGE / "solution", docker_runner, tmp_path)
    slow = graded(VARIANTS / "quadratic", docker_runner, tmp_path)
    for report in (fast, slow):
        perf = report.performance
        assert perf is not None and perf.measured and [c.id for c in perf.cases] == [CASE]
        assert report.timings.performance_s > 0
        assert not [f for f in report.flags if f.code.startswith("perf-")], report.flags
    assert fast.performance is not None and slow.performance is not None
    mine, theirs = slow.performance.cases[0], fast.performance.cases[0]
    assert mine.outcome == "measured" and mine.candidate is not None
    assert mine.candidate.growth == "O(n²)", mine.candidate.growth_errors
    assert mine.reference is not None and mine.reference.growth != "O(n²)"
    assert mine.ratio is not None and theirs.ratio is not None
    assert mine.ratio > 3 * theirs.ratio
    assert slow.scores.performance < fast.scores.performance
    assert fast.scores.performance >= 60  # the same code: a ratio about 1
    html = render(slow, "html")
    assert 'id="performance"' in html and "<svg" in html and "series-candidate" in html


def test_nothing_is_measured_when_no_test_passes(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    report = graded(CHALLENGE / "starter", docker_runner, tmp_path)
    assert report.scores.correctness == 0
    perf = report.performance
    assert perf is not None and not perf.measured and perf.cases == []
    assert perf.reason == "not measured: no test passes"
    assert report.scores.performance == 0.0
    assert report.timings.performance_s < 1.0  # no performance run at all
