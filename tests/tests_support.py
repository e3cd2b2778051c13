"""Helpers shared by tests: small challenges built in a temporary folder."""

from __future__ import annotations

from pathlib import Path

from runners.base import Job, RunLimits

TOML = """\
title = "Adder"
language = "python"
isolation = "{isolation}"
[limits]
wall_seconds = 30
test_seconds = 3
[tests.weights]
"tests/hidden/test_h.py::test_weighted" = 3
"""

SOLUTION = '''\
"""Adding numbers."""


def add(a, b):
    """Return a + b."""
    return a + b
'''

PUBLIC = """\
from adder import add

def test_small():
    assert add(1, 2) == 3
"""

HIDDEN = """\
import pytest
from adder import add

def test_weighted():
    assert add(-1, 1) == 0

@pytest.mark.parametrize("a,b", [(1, 1), (2, 3)])
def test_param(a, b):
    assert add(a, b) == a + b

@pytest.mark.skip(reason="the author skips this one")
def test_author_skipped():
    assert False

class TestStrings:
    def test_concat(self):
        assert add("a", "b") == "ab"
"""


def make_adder_challenge(tmp_path: Path, isolation: str = "in-process") -> Path:
    root = tmp_path / "adder"
    files = {
        "challenge.toml": TOML.format(isolation=isolation),
        "solution/adder.py": SOLUTION,
        "starter/adder.py": "def add(a, b):\n    raise NotImplementedError\n",
        "tests/public/test_p.py": PUBLIC,
        "tests/hidden/test_h.py": HIDDEN,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


TOKEN = "tok-" + "0" * 28


def python_job(
    tmp_path: Path,
    tests: dict[str, str],
    solution: dict[str, str],
    *,
    limits: RunLimits | None = None,
    isolation: str = "in-process",
    label: str = "adhoc",
    token: str = TOKEN,
) -> Job:
    """A sandbox job built by the Python language for a challenge made of ``tests``
    (paths under tests/, e.g. ``hidden/test_it.py``) run against ``solution`` files."""
    from grader.challenge import load_challenge
    from grader.languages import get

    lim = limits or RunLimits(wall_seconds=30, test_seconds=10)
    root = tmp_path / "challenge"
    sub = tmp_path / "submission"
    files = {
        "challenge.toml": (
            f'title = "T"\nlanguage = "python"\nisolation = "{isolation}"\n[limits]\n'
            f"wall_seconds = {lim.wall_seconds}\ntest_seconds = {lim.test_seconds}\n"
            f"memory_mb = {lim.memory_mb}\ncpus = {lim.cpus}\npids = {lim.pids}\n"
            f"output_kb = {lim.output_kb}\ndisk_mb = {lim.disk_mb}\n"
        ),
        **{f"tests/{rel}": text for rel, text in tests.items()},
        **{f"solution/{rel}": text for rel, text in solution.items()},
        "starter/.keep": "",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    sub.mkdir(exist_ok=True)
    for rel, text in solution.items():
        (sub / rel).parent.mkdir(parents=True, exist_ok=True)
        (sub / rel).write_text(text)
    challenge = load_challenge(root)
    names = tuple(solution)
    return get("python").job(challenge, sub, names, token=token, label=label)
