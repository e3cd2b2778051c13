"""``grader validate`` explains, per test, why a reference fails under process isolation."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_cli import grader

pytestmark = [pytest.mark.docker]

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

TESTS = '''\
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
'''


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


def test_the_same_challenge_validates_in_process(tmp_path: Path) -> None:
    proc = grader("validate", "--runner", "docker", make(tmp_path / "reader", "in-process"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok   reader:")
