"""``grader validate`` explains, per test, why a reference fails under process isolation;
a reference proven by its collection run names the tests it failed there."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_cli import grader

from grader.challenge import load_challenge
from grader.engine import ExpectedTests
from grader.validate import _collected_failures

READER = '''\
"""Counting lines."""


def count_lines(path):
    """How many lines the file at ``path`` holds."""
    with open(path, encoding="utf-8") as fh:
        return len(fh.read().splitlines())


def shout(text):
    """``text`` in capitals."""
    return text.upper()
'''

TESTS = """\
from unittest import mock

from reader import count_lines, shout


def test_patched_open():
    with mock.patch("builtins.open", mock.mock_open(read_data="a\\nb\\n")):
        assert count_lines("data.txt") == 2


def test_file_beside_the_tests(tmp_path):
    path = tmp_path / "three.txt"
    path.write_text("1\\n2\\n3\\n")
    assert count_lines(str(path)) == 3


def test_portable():
    assert shout("hi") == "HI"
"""


STARTER = "def count_lines(path):\n    return 0\n\n\ndef shout(t):\n    return t\n"


def make(root: Path, isolation: str) -> Path:
    files = {
        "challenge.toml": f'title = "Reader"\nlanguage = "python"\nisolation = "{isolation}"\n',
        "solution/reader.py": READER,
        "starter/reader.py": STARTER,
        "tests/hidden/test_reader.py": TESTS,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


@pytest.mark.docker
def test_validate_names_the_cause_and_the_fix_for_each_non_portable_test(tmp_path: Path) -> None:
    proc = grader("validate", "--runner", "docker", make(tmp_path / "reader", "process"))
    out = proc.stdout
    assert proc.returncode == 1, proc.stderr + out
    assert "Traceback" not in out + proc.stderr
    assert "FAIL reader:" in out and "2 tests fail" in out
    for test in ("test_patched_open", "test_file_beside_the_tests"):
        block = out.split(f"tests/hidden/test_reader.py::{test}", 1)[1].split("\n  tests/", 1)[0]
        assert "cause:" in block and "fix:" in block, out
        assert 'isolation = "in-process"' in block, out
    assert "test_portable" not in out


@pytest.mark.docker
def test_the_same_challenge_validates_in_process(tmp_path: Path) -> None:
    proc = grader("validate", "--runner", "docker", make(tmp_path / "reader", "in-process"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok   reader:")


def test_a_reference_proven_by_its_collection_run_names_each_test_it_did_not_pass(
    tmp_path: Path,
) -> None:
    ch = load_challenge(make(tmp_path / "reader", "process"))
    base = "tests/hidden/test_reader.py::"
    ids = [base + n for n in ("test_patched_open", "test_file_beside_the_tests", "test_portable")]
    outcomes = {ids[0]: "failed", ids[1]: "skipped", ids[2]: "passed"}
    (problem,) = _collected_failures(ch, ExpectedTests(ids, {ids[1]}, outcomes))
    assert problem.splitlines() == [
        "the reference fails 1 test (process isolation, the run that collects the tests):",
        f"  {ids[0]} (failed)",
    ]
    all_passed = dict.fromkeys(ids, "passed")
    assert _collected_failures(ch, ExpectedTests(ids, set(), all_passed)) == []
