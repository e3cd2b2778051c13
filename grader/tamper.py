"""Tamper evidence for reviewers: what in a submission reaches for the harness.

Static findings come from the AST (the submission is never imported); run-time
findings from the shape of the results. A flag is evidence, not a verdict.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from grader._tamper_scan import MAX_FILE_BYTES
from grader.analysis import base_env, run_limited
from grader.report import Flag, TestResult
from runners.base import RunResult

__all__ = ["MAX_FILE_BYTES", "run_flags", "static_flags"]

_SCANNER = Path(__file__).with_name("_tamper_scan.py")


def static_flags(
    root: Path, files: Sequence[str], *, timeout_s: float = 30, memory_mb: int = 1024
) -> list[Flag]:
    """Scan the submission's Python files for harness tampering.

    The scan parses untrusted source, so it runs in a subprocess under rlimits and a
    deadline, never in the worker's process; it never imports the submission.
    """
    py = [f for f in files if f.endswith(".py")]
    if not py:
        return []
    found: list[bytes] = []
    proc = run_limited(
        [sys.executable, "-I", "-B", str(_SCANNER)],
        stdin=json.dumps({"root": str(root.resolve()), "files": py}).encode(),
        cwd=root,
        env=base_env(),
        deadline=time.monotonic() + timeout_s,
        memory_mb=memory_mb,
        on_line=found.append,
        max_output=1 << 20,
    )
    try:
        rows = json.loads(found[0]) if proc.returncode == 0 and found else None
    except ValueError:
        rows = None
    if not isinstance(rows, list):
        return [
            Flag(
                code="tamper-suspect",
                message="the tamper scan could not finish on this submission "
                f"({'timed out' if proc.timed_out else 'it failed'}); "
                "read the source yourself",
            )
        ]
    return [
        Flag(code="tamper-suspect", message=f"{rel}:{line}: {what}" if line else f"{rel}: {what}")
        for rel, line, what in rows
    ]


def run_flags(tests: Iterable[TestResult], result: RunResult) -> list[Flag]:
    """Evidence from the run itself: missing results, implausibly fast passes."""
    tests = list(tests)
    flags: list[Flag] = []
    missing = [t for t in tests if t.outcome == "not_reported"]
    if missing:
        flags.append(
            Flag(
                code="results-missing",
                message=f"{len(missing)} of {len(tests)} tests were not reported",
            )
        )
    if result.results is None and tests:
        flags.append(
            Flag(
                code="tamper-suspect" if result.exit_code == 0 else "results-missing",
                message="the run produced no JUnit XML",
            )
        )
    counted = [t for t in tests if t.counted]
    if len(counted) >= 3 and all(t.outcome == "passed" for t in counted):
        total = sum(t.duration_s for t in counted)
        # pytest alone needs ~0.2 s to start; a whole passing run faster than that
        # did not come from pytest running the tests.
        if total < 0.001 and result.duration_s < 0.15:
            flags.append(
                Flag(
                    code="tamper-suspect",
                    message=f"all {len(counted)} tests passed in near-zero time "
                    f"({result.duration_s:.3f} s for the whole run)",
                )
            )
    if result.exit_code == 0 and any(t.outcome != "passed" for t in counted):
        flags.append(
            Flag(
                code="tamper-suspect",
                message="the test process exited 0 although tests did not pass",
            )
        )
    return flags
