"""Helpers shared by tests: small challenges built in a temporary folder."""

from __future__ import annotations

from pathlib import Path

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
