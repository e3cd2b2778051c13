"""The local runner (trusted code only): same harness, same results, bounded by
rlimits and a deadline, chosen only explicitly."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests_support import make_adder_challenge

from grader.challenge import load_challenge
from grader.engine import grade
from grader.submission import open_submission
from runners import make_runner
from runners.local import LocalRunner

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("isolation", ["process", "in-process"])
def test_reference_scores_100_in_both_modes(isolation: str, tmp_path: Path) -> None:
    ch = load_challenge(make_adder_challenge(tmp_path, isolation=isolation))
    report = grade(
        ch, open_submission(ch.solution_dir, tmp_path), LocalRunner(), cache_dir=tmp_path / "cache"
    )
    assert report.scores.correctness == 100
    assert report.run is not None and report.run.runner == "local"
    assert report.run.isolation == isolation


def test_failures_match_what_the_tests_say(tmp_path: Path) -> None:
    ch = load_challenge(make_adder_challenge(tmp_path, isolation="process"))
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "adder.py").write_text("def add(a, b):\n    return a - b\n")
    report = grade(ch, open_submission(sub, tmp_path), LocalRunner(), cache_dir=tmp_path / "c")
    outcomes = {t.id.rsplit("::", 1)[1]: t.outcome for t in report.tests if t.counted}
    assert outcomes["test_small"] == "failed"
    assert outcomes["test_weighted"] == "failed"  # -1 - 1 != 0
    assert report.scores.correctness < 100


def test_wall_deadline_kills_the_run(tmp_path: Path) -> None:
    root = make_adder_challenge(tmp_path)
    toml = (root / "challenge.toml").read_text().replace("wall_seconds = 30", "wall_seconds = 2")
    (root / "challenge.toml").write_text(toml)
    ch = load_challenge(root)
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "adder.py").write_text(
        textwrap.dedent("""
        import signal
        def add(a, b):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                pass
    """)
    )
    from grader.engine import expected_tests

    exp = expected_tests(ch, LocalRunner(), cache_dir=tmp_path / "c")
    report = grade(
        ch, open_submission(sub, tmp_path), LocalRunner(), expected=exp, cache_dir=tmp_path / "c"
    )
    assert "timeout" in report.limits_hit
    assert report.scores.correctness == 0
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""


def test_local_runner_is_never_a_silent_fallback() -> None:
    from runners.errors import RunnerError

    with pytest.raises(RunnerError, match="unknown runner"):
        make_runner("sandbox-that-does-not-exist")
    assert make_runner("local").name == "local"


def test_cli_runner_local(tmp_path: Path) -> None:
    root = make_adder_challenge(tmp_path)
    env = {**os.environ, "GRADER_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "run",
            str(root),
            str(root / "solution"),
            "--runner",
            "local",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"correctness": 100.0' in proc.stdout
