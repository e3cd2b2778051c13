"""Tamper evidence: the static scan (in a subprocess) and the run-time flags."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from grader.report import TestResult as Result
from grader.tamper import run_flags, static_flags
from runners.base import RunResult

HOSTILE = """\
import _pytest.reports
import gc, sys, ctypes
from os import _exit as leave

class Always:
    def __eq__(self, other):
        return True
    def __hash__(self):
        return 1

sys.modules["pytest"] = None
frame = sys._getframe(1).f_back.f_globals
objs = gc.get_objects()
open("/grader/out/junit.xml", "w")
leave(0)
"""


def messages(tmp_path: Path, source: str) -> list[str]:
    (tmp_path / "sol.py").write_text(source)
    return [f.message for f in static_flags(tmp_path, ["sol.py"])]


def test_static_scan_finds_harness_tampering(tmp_path: Path) -> None:
    found = "\n".join(messages(tmp_path, HOSTILE))
    for needle in (
        "_pytest",
        "ctypes",
        "os._exit",
        "__eq__ ignores",
        "__hash__ returns a constant",
        "sys.modules",
        "f_back",
        "f_globals",
        "gc.get_objects",
        "/grader",
    ):
        assert needle in found, needle


def test_clean_code_raises_no_flag(tmp_path: Path) -> None:
    clean = "class P:\n    def __eq__(self, other):\n        return self.x == other.x\n"
    assert messages(tmp_path, clean) == []


def test_scan_runs_in_a_subprocess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker process never parses untrusted source itself."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("ast.parse called in the worker process")

    monkeypatch.setattr(ast, "parse", refuse)
    assert any("os._exit" in m for m in messages(tmp_path, "import os\nos._exit(1)\n"))


def test_padded_file_is_flagged_not_skipped(tmp_path: Path) -> None:
    found = messages(tmp_path, "import os\nos._exit(0)\n" + "#" * (1024 * 1024 + 10))
    assert any("too large to scan" in m for m in found)


def test_unparsable_source_is_skipped_quietly(tmp_path: Path) -> None:
    assert messages(tmp_path, "def broken(:\n") == []


def _t(outcome: str, duration: float = 0.0) -> Result:
    return Result(
        id=f"t::{outcome}{duration}",
        visibility="hidden",
        weight=1,
        outcome=outcome,
        duration_s=duration,
    )  # type: ignore[arg-type]


def test_run_flags_missing_results_and_exit_mismatch() -> None:
    tests = [_t("passed", 0.1), _t("not_reported")]
    codes = {
        (f.code, f.message.split(" ")[0])
        for f in run_flags(tests, RunResult(exit_code=0, results=b"x"))
    }
    assert ("results-missing", "1") in codes
    assert any(code == "tamper-suspect" for code, _ in codes)


def test_run_flags_all_passed_in_near_zero_time() -> None:
    tests = [_t("passed"), _t("passed", 0.0), _t("passed", 0.0)]
    tests = [t.model_copy(update={"id": f"t{i}"}) for i, t in enumerate(tests)]
    fast = run_flags(tests, RunResult(exit_code=0, results=b"x", duration_s=0.05))
    slow = run_flags(tests, RunResult(exit_code=0, results=b"x", duration_s=1.5))
    assert any("near-zero time" in f.message for f in fast)
    assert not any("near-zero time" in f.message for f in slow)
