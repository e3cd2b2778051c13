"""The same promises from pooled sandboxes (pre-started, files put in after start, pytest
forked from a launcher that imported it before the job came).

The reconnaissance probes of test_escape.py and a selection of the tampering attacks of
test_tampering.py, graded through a runner with a pool (every run here takes a
pre-started set), in both isolation modes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from attacks import ATTACKS
from fixtures_docker import TEST_PREFIX
from probes import PROBE_SOURCE, probe_names
from support import (
    HIDDEN_MARKER,
    MODES,
    flag_codes,
    make_probe_challenge,
    make_vault_challenge,
    messages,
    outcomes,
    tamper_evident,
    write_tree,
)
from test_escape import EXTRA, _test_file

from grader.engine import expected_tests, grade
from grader.report import Report
from grader.submission import open_submission
from grader.views import candidate_view
from runners.docker import DockerRunner, PoolKey, SandboxPool, connect
from runners.images import ensure

pytestmark = [pytest.mark.security, pytest.mark.docker]

PROBES = probe_names()
# Attacks on the harness's own files and processes: what forking from a preloaded
# launcher could have changed.
SELECTED = (
    "forge_junit_at_import",
    "forge_junit_after_pytest_exits",
    "forge_result_json",
    "kill_everything",
    "rewrite_test_files",
    "shadow_pytest",
    "patch_test_report_outcome",
    "read_and_print_hidden_tests",
)


@dataclass
class PooledRuns:
    probes: dict[str, Report]
    attacks: dict[tuple[str, str], Report]
    challenges: dict[str, Any]
    handed_out: list[str]
    left: list[str]


def _grade_pooled(
    runner: DockerRunner,
    pool: SandboxPool,
    challenge: Any,
    expected: Any,
    files: dict[str, str],
    work: Path,
    cache: Path,
) -> Report:
    """Grade with a pre-started set (waiting for the pool to have one first, once it
    has seen the shape)."""
    lim = challenge.run_limits()
    key = PoolKey(
        runner.image("python"),
        challenge.isolation == "process",
        lim.memory_mb,
        lim.cpus,
        lim.pids,
        lim.disk_mb,
    )
    known = key in pool._wanted
    if known:
        assert pool.wait_ready(key, timeout=120), pool.errors
    before = len(pool.handed_out)
    sub = open_submission(write_tree(work / "upload", files), work)
    report = grade(challenge, sub, runner, expected=expected, cache_dir=cache)
    if known:
        assert len(pool.handed_out) > before, "graded in a pooled sandbox"
    return report


@pytest.fixture(scope="module")
def pooled_runs(
    tmp_path_factory: pytest.TempPathFactory, docker_runner: Any
) -> Iterator[PooledRuns]:
    base = tmp_path_factory.mktemp("pooled")
    cache = base / "cache"
    # No owner label: another session's service sweep would take the containers for a
    # dead worker's (see tests/test_docker_pool.py).
    pool = SandboxPool(size=1, max_age_s=300, name_prefix=TEST_PREFIX)
    runner = DockerRunner(name_prefix=TEST_PREFIX, image_for=ensure, pool=pool)
    tag = secrets.token_hex(6)
    probes: dict[str, Report] = {}
    attacks: dict[tuple[str, str], Report] = {}
    challenges = {m: make_vault_challenge(base, m) for m in MODES}
    try:
        for mode in MODES:
            vault = challenges[mode]
            expected = expected_tests(vault, docker_runner, cache_dir=cache)
            # The first grade teaches the pool this shape; it is not one of the checks.
            _grade_pooled(
                runner, pool, vault, expected, {"vault.py": "X = 1\n"}, base / f"warm-{mode}", cache
            )
            for attack in SELECTED:
                attacks[(attack, mode)] = _grade_pooled(
                    runner,
                    pool,
                    vault,
                    expected,
                    ATTACKS[attack].files,
                    base / f"{attack}-{mode}",
                    cache,
                )
            others = [f"canary_other_{tag}"]
            challenge = make_probe_challenge(
                base,
                f"probe-{mode}",
                isolation=mode,
                tests=_test_file(others, []),
                solution=PROBE_SOURCE,
                wall=60,
                test_seconds=20,
            )
            files = {"probe.py": PROBE_SOURCE}
            exp = expected_tests(challenge, docker_runner, cache_dir=cache)
            _grade_pooled(runner, pool, challenge, exp, files, base / f"pwarm-{mode}", cache)
            probes[mode] = _grade_pooled(
                runner, pool, challenge, exp, files, base / f"probe-run-{mode}", cache
            )
        assert pool.settle(120)
        client = connect()
        left = []
        for cid in pool.handed_out:
            try:
                client.containers.get(cid)
                left.append(cid[:12])
            except docker.errors.NotFound:
                pass
        yield PooledRuns(probes, attacks, challenges, list(pool.handed_out), left)
    finally:
        pool.close()


def test_every_pooled_container_was_used_once_and_removed(pooled_runs: PooledRuns) -> None:
    assert len(set(pooled_runs.handed_out)) == len(pooled_runs.handed_out)
    assert pooled_runs.left == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "probe", [p for p in PROBES + EXTRA if p != "host_secrets_are_not_visible"]
)
def test_probe_in_a_pooled_sandbox(probe: str, mode: str, pooled_runs: PooledRuns) -> None:
    report = pooled_runs.probes[mode]
    assert report.status == "graded", report.error
    name = f"test_{probe}"
    assert outcomes(report).get(name) == "passed", messages(report).get(name, "not reported")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", SELECTED)
def test_attack_in_a_pooled_sandbox(attack: str, mode: str, pooled_runs: PooledRuns) -> None:
    spec = ATTACKS[attack]
    report = pooled_runs.attacks[(attack, mode)]
    assert report.status == "graded", report.error
    assert len(report.tests) == 5
    score = report.scores.correctness
    shown = (outcomes(report), [f"{f.code}: {f.message}" for f in report.flags])
    if mode == "process" or spec.prevented_in_process:
        assert score == 0, shown
    else:
        assert score == 0 or tamper_evident(report), shown
    if mode == "in-process" and spec.flagged_in_process:
        assert "tamper-suspect" in flag_codes(report), shown
    view = json.dumps(candidate_view(report, pooled_runs.challenges[mode].config.feedback))
    assert HIDDEN_MARKER not in view
    if mode == "process":
        assert HIDDEN_MARKER not in report.to_json()
