"""grade(): every expected test in the report, not_reported on crashes, weights and
author skips honoured, limits and flags carried into the report."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tests_support import make_adder_challenge as make_challenge

from grader.challenge import load_challenge
from grader.engine import expected_tests, grade
from grader.submission import open_submission
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker]


def submit(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir(exist_ok=True)
    (folder / "adder.py").write_text(textwrap.dedent(source))
    return folder


@pytest.fixture
def challenge(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_challenge(make_challenge(tmp_path))


def test_expected_tests_are_collected_against_the_reference(
    challenge, docker_runner: DockerRunner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    exp = expected_tests(challenge, docker_runner, cache_dir=tmp_path / "cache")
    assert exp.ids == [
        "tests/public/test_p.py::test_small",
        "tests/hidden/test_h.py::test_weighted",
        "tests/hidden/test_h.py::test_param[1-1]",
        "tests/hidden/test_h.py::test_param[2-3]",
        "tests/hidden/test_h.py::test_author_skipped",
        "tests/hidden/test_h.py::TestStrings::test_concat",
    ]
    assert exp.author_skipped == {"tests/hidden/test_h.py::test_author_skipped"}
    # Cached: a second call does not need the runner at all.
    again = expected_tests(challenge, None, cache_dir=tmp_path / "cache")  # type: ignore[arg-type]
    assert again.ids == exp.ids


def test_reference_scores_100_and_reports_every_test(
    challenge, docker_runner: DockerRunner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    sub = open_submission(challenge.solution_dir, tmp_path)
    report = grade(challenge, sub, docker_runner, cache_dir=tmp_path / "cache")
    assert report.status == "graded"
    assert report.scores.correctness == 100
    assert len(report.tests) == 6
    skipped = [t for t in report.tests if not t.counted]
    assert [t.id for t in skipped] == ["tests/hidden/test_h.py::test_author_skipped"]
    vis = {t.id: t.visibility for t in report.tests}
    assert vis["tests/public/test_p.py::test_small"] == "public"
    assert vis["tests/hidden/test_h.py::test_weighted"] == "hidden"
    assert {t.id: t.weight for t in report.tests}["tests/hidden/test_h.py::test_weighted"] == 3
    assert report.run is not None and report.run.isolation == "in-process"


def test_weighted_failure_costs_its_weight(
    challenge,
    docker_runner: DockerRunner,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    sub = open_submission(
        submit(
            tmp_path,
            """
        def add(a, b):
            if a == -1:
                return 99
            return a + b
    """,
        ),
        tmp_path,
    )
    report = grade(challenge, sub, docker_runner, cache_dir=tmp_path / "cache")
    # counted weights: small 1, weighted 3, param 1+1, concat 1 = 7; 4 of 7 pass.
    assert report.scores.correctness == pytest.approx(round(100 * 4 / 7, 1))
    weighted = next(t for t in report.tests if t.id.endswith("test_weighted"))
    assert weighted.outcome == "failed" and "99" in (weighted.message or "")


def test_crash_mid_run_marks_the_rest_not_reported(
    challenge,
    docker_runner: DockerRunner,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    sub = open_submission(
        submit(
            tmp_path,
            """
        import os
        def add(a, b):
            if isinstance(a, str):
                os._exit(0)
            return a + b
    """,
        ),
        tmp_path,
    )
    report = grade(challenge, sub, docker_runner, cache_dir=tmp_path / "cache")
    assert report.status == "graded"
    outcomes = {t.id: t.outcome for t in report.tests}
    assert outcomes["tests/hidden/test_h.py::TestStrings::test_concat"] == "not_reported"
    assert all(o == "not_reported" for o in outcomes.values() if o != "skipped")
    assert report.scores.correctness == 0
    assert any(f.code == "results-missing" for f in report.flags)
    assert any(f.code == "tamper-suspect" and "os._exit" in f.message for f in report.flags)


def test_import_error_is_a_graded_zero(
    challenge,
    docker_runner: DockerRunner,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    sub = open_submission(submit(tmp_path, "def add(a, b:\n"), tmp_path)
    report = grade(challenge, sub, docker_runner, cache_dir=tmp_path / "cache")
    assert report.status == "graded" and report.scores.correctness == 0
    assert all(t.outcome in ("error", "not_reported") for t in report.tests if t.counted)
    assert any("collection error" in (t.message or "") for t in report.tests)


def test_skip_raised_by_the_submission_counts_as_failed(
    challenge,
    docker_runner: DockerRunner,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    sub = open_submission(
        submit(
            tmp_path,
            """
        import pytest
        def add(a, b):
            pytest.skip("nothing to see")
    """,
        ),
        tmp_path,
    )
    report = grade(challenge, sub, docker_runner, cache_dir=tmp_path / "cache")
    counted = [t for t in report.tests if t.counted]
    assert all(t.outcome == "skipped" for t in counted)
    assert report.scores.correctness == 0


def test_timeout_is_graded_with_limit_in_report(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    root = make_challenge(tmp_path)
    toml = (root / "challenge.toml").read_text().replace("wall_seconds = 30", "wall_seconds = 3")
    (root / "challenge.toml").write_text(toml)
    ch = load_challenge(root)
    expected = expected_tests(ch, docker_runner, cache_dir=tmp_path / "cache")
    sub = open_submission(
        submit(
            tmp_path,
            """
        import signal
        def add(a, b):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                pass
    """,
        ),
        tmp_path,
    )
    report = grade(ch, sub, docker_runner, expected=expected, cache_dir=tmp_path / "cache")
    assert report.status == "graded"
    assert "timeout" in report.limits_hit
    assert any(f.code == "limit-hit" for f in report.flags)
    assert report.scores.correctness == 0


@pytest.mark.parametrize("isolation", ["process", "in-process"])
def test_a_test_stopped_by_the_per_test_limit_is_a_limit_hit(
    docker_runner: DockerRunner, tmp_path: Path, isolation: str
) -> None:
    ch = load_challenge(make_challenge(tmp_path, isolation=isolation))
    sub = open_submission(
        submit(
            tmp_path,
            """
        def add(a, b):
            if a == 2:
                while True:
                    pass
            return a + b
    """,
        ),
        tmp_path,
    )
    report = grade(ch, sub, docker_runner, cache_dir=tmp_path / "cache")
    spun = "tests/hidden/test_h.py::test_param[2-3]"
    outcomes = {t.id: t.outcome for t in report.tests}
    assert outcomes[spun] == "failed"
    assert outcomes["tests/hidden/test_h.py::test_param[1-1]"] == "passed"
    assert "timeout" in report.limits_hit
    flags = [f for f in report.flags if f.code == "limit-hit" and "per-test" in f.message]
    assert len(flags) == 1 and spun in flags[0].message and "3 s" in flags[0].message
    assert "1 test:" in flags[0].message


def test_no_limit_hit_when_no_test_is_stopped(
    challenge, docker_runner: DockerRunner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    sub = open_submission(submit(tmp_path, "def add(a, b):\n    return a - b\n"), tmp_path)
    report = grade(challenge, sub, docker_runner, cache_dir=tmp_path / "cache")
    assert report.limits_hit == []
    assert not [f for f in report.flags if f.code == "limit-hit"]
