"""Hostile source for the static analysis and the tamper scan: graded in bounded time
and memory, whatever the submission's text.

Analysis (ruff, radon) runs in limited subprocesses; the tamper scan parses the AST in
the worker's own process, bounded by its per-file size cap. Each case is a full grade
in the Docker sandbox (the tests fail to import such a module: a graded zero).
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import (
    Graded,
    TrackingRunner,
    containers_left,
    grade_many,
    host_processes_of,
    make_vault_challenge,
    write_tree,
)

from grader import tamper
from grader.engine import expected_tests, grade
from grader.submission import open_submission

pytestmark = [pytest.mark.security, pytest.mark.docker]

SOURCES: dict[str, bytes] = {
    "absurdly_nested_parentheses": ("x = " + "(" * 100_000 + "1" + ")" * 100_000 + "\n").encode(),
    "absurdly_long_operator_chain": ("x = " + "1+" * 450_000 + "1\n").encode(),
    "absurdly_long_attribute_chain": ("x = " + "a." * 400_000 + "b\n").encode(),
    "deeply_nested_blocks": "".join("    " * i + "if x:\n" for i in range(150)).encode()
    + b"    " * 150
    + b"pass\n",
    "twenty_thousand_functions": "".join(
        f"def f{i}(a):\n    return a + {i}\n\n" for i in range(20_000)
    ).encode(),
    "nul_bytes": b'"""Module."""\n\ndef answer():\n    return 42\n\x00\x00\x00\ndef add(a, b):\n'
    b"    return a + b\n",
    "invalid_utf8": b'"""Module."""\n\ndef answer():\n    return "\xff\xfe\xc3("\n',
    "nested_just_below_the_compiler_limit": (
        "import os\n\ndef answer():\n    os._exit(0)\n\nx = " + "1+" * 900 + "1\n"
    ).encode(),
}
MAX_GRADE_S = 60
MAX_RSS_GROWTH_MIB = 512


@dataclass
class Hostile:
    graded: Graded
    seconds: float
    rss_growth_mib: float


@pytest.fixture(scope="module")
def hostile_runs(
    tmp_path_factory: pytest.TempPathFactory, docker_runner: Any
) -> dict[str, Hostile]:
    base = tmp_path_factory.mktemp("hostile-source")
    challenge = make_vault_challenge(base, "in-process")
    expected = expected_tests(challenge, docker_runner, cache_dir=base / "cache")

    def job(name: str) -> Hostile:
        runner = TrackingRunner()
        label = f"test-sec-src-{name[:24]}"
        work = base / name
        sub = open_submission(write_tree(work / "upload", {"vault.py": SOURCES[name]}), work)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0 = time.monotonic()
        try:
            report, error = (
                grade(
                    challenge, sub, runner, expected=expected, cache_dir=base / "cache", label=label
                ),
                None,
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test that reads it
            report, error = None, exc
        seconds = time.monotonic() - t0
        growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss) / 1024
        ids = list(runner.container_ids)
        return Hostile(
            Graded(
                report,
                error,
                label,
                ids,
                containers_left(runner, label, ids),
                host_processes_of(ids),
            ),
            seconds,
            growth,
        )

    return grade_many({n: (lambda n=n: job(n)) for n in SOURCES}, workers=2)


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_hostile_source_is_graded_in_bounded_time_and_memory(
    name: str, hostile_runs: dict[str, Hostile]
) -> None:
    run = hostile_runs[name]
    report = run.graded.get()
    assert report.status == "graded"
    assert report.scores.correctness == 0
    assert run.seconds < MAX_GRADE_S, f"grading took {run.seconds:.1f} s"
    assert report.timings.analysis_s < 30
    assert run.rss_growth_mib < MAX_RSS_GROWTH_MIB, f"the worker grew {run.rss_growth_mib} MiB"
    assert run.graded.leftovers == [] and run.graded.processes == []
    if name == "twenty_thousand_functions":
        # Analysed whole (the report lists the worst, counts them all) and bounded.
        assert report.complexity.functions_total == 20_000
        assert len(report.to_json()) < 1_000_000
    elif name != "nested_just_below_the_compiler_limit":
        # Text the analysers cannot read is listed with its reason, not silently dropped.
        assert not report.style.analysable or report.style.unanalysable, report.style


def test_deep_nesting_does_not_hide_tampering_from_the_scan(
    hostile_runs: dict[str, Hostile],
) -> None:
    """An expression nested just below the compiler's limit still compiles (the module
    can be imported): the tamper scan must not give up on it."""
    report = hostile_runs["nested_just_below_the_compiler_limit"].graded.get()
    assert any(f.code == "tamper-suspect" and "os._exit" in f.message for f in report.flags)


def test_padding_a_module_past_the_scan_limit_is_flagged(tmp_path: Path) -> None:
    write_tree(tmp_path, {"vault.py": "import _pytest\n" + "#" * (tamper.MAX_FILE_BYTES + 10)})
    flags = tamper.static_flags(tmp_path, ["vault.py"])
    assert any(f.code == "tamper-suspect" and "too large to scan" in f.message for f in flags)
