"""Tampering with the grade, in both isolation modes.

Every attack is the honest-but-failing baseline plus the attack. Under ``process``
isolation the candidate's code never shares a process (or a container) with the
tests, so no attack may raise the correctness score at all. Under ``in-process``
isolation what cannot be stopped inside one process must at least be flagged for the
reviewer, and what the runner can stop anyway is stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from attacks import ATTACKS, Attack
from support import (
    HIDDEN_MARKER,
    MODES,
    VAULT_BASELINE,
    VAULT_SOLUTION,
    Graded,
    TrackingRunner,
    containers_left,
    flag_codes,
    grade_many,
    host_processes_of,
    make_vault_challenge,
    outcomes,
    rpc_harness_present,
    tamper_evident,
    write_tree,
)

from grader.challenge import Challenge
from grader.engine import ExpectedTests, expected_tests, grade
from grader.submission import Submission, open_submission
from grader.views import candidate_view

pytestmark = [pytest.mark.security, pytest.mark.docker]

BASELINES = {"honest_solution": VAULT_SOLUTION, "failing_baseline": VAULT_BASELINE}


def _needs_rpc(mode: str) -> None:
    if mode == "process" and not rpc_harness_present():
        pytest.skip("process isolation needs runners/harness/rpc_client.py (not landed yet)")


def _grade(
    challenge: Challenge,
    expected: ExpectedTests,
    files: dict[str, str],
    work: Path,
    label: str,
    cache: Path,
    *,
    raw: bool,
) -> Graded:
    runner = TrackingRunner()
    folder = write_tree(work / "upload", files)
    try:
        if raw:
            rels = tuple(
                sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
            )
            digest = hashlib.sha256("\0".join(rels).encode()).hexdigest()
            sub = Submission(root=folder, sha256=digest, files=rels, ignored=())
        else:
            sub = open_submission(folder, work)
        report = grade(challenge, sub, runner, expected=expected, cache_dir=cache, label=label)
        error = None
    except BaseException as exc:  # noqa: BLE001 - re-raised by the test that reads it
        report, error = None, exc
    ids = list(runner.container_ids)
    return Graded(
        report, error, label, ids, containers_left(runner, label, ids), host_processes_of(ids)
    )


@dataclass
class Runs:
    graded: dict[tuple[str, str], Graded]
    challenges: dict[str, Challenge]


@pytest.fixture(scope="module")
def runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, docker_runner: Any
) -> Runs:
    """Grade every (attack, mode) this session selected, a few at a time."""
    wanted: set[tuple[str, str]] = set()
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if item.module is request.module and "attack" in params and "mode" in params:
            wanted.add((params["attack"], params["mode"]))
    base = tmp_path_factory.mktemp("tamper")
    cache = base / "cache"
    challenges = {m: make_vault_challenge(base, m) for m in MODES}
    expected = {m: expected_tests(challenges[m], docker_runner, cache_dir=cache) for m in MODES}
    jobs: dict[tuple[str, str], Callable[[], Graded]] = {}
    for n, (attack, mode) in enumerate(sorted(wanted)):
        if mode == "process" and not rpc_harness_present():
            continue
        spec = ATTACKS.get(attack)
        files = spec.files if spec else {"vault.py": BASELINES[attack]}
        label = f"test-sec-t{n}-{hashlib.sha1(f'{attack}{mode}'.encode()).hexdigest()[:8]}"

        def job(
            attack: str = attack,
            mode: str = mode,
            files: dict[str, str] = files,
            label: str = label,
            raw: bool = bool(spec and spec.raw),
        ) -> Graded:
            return _grade(
                challenges[mode],
                expected[mode],
                files,
                base / f"{attack}-{mode}",
                label,
                cache,
                raw=raw,
            )

        jobs[(attack, mode)] = job
    return Runs(grade_many(jobs), challenges)


def _common_checks(g: Graded) -> Any:
    report = g.get()
    assert report.status == "graded", report.error
    assert len(report.tests) == 5, "every test the challenge defines is in the report"
    assert "flags" in json.loads(report.to_json())
    assert g.leftovers == [], f"containers left behind: {g.leftovers}"
    assert g.processes == [], f"processes left behind: {g.processes}"
    return report


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", sorted(BASELINES))
def test_baselines_score_as_expected(attack: str, mode: str, runs: Runs) -> None:
    """The honest solution scores 100 and the failing baseline 0, in both modes: the
    zeros below are the attacks' doing, not a broken harness."""
    _needs_rpc(mode)
    report = _common_checks(runs.graded[(attack, mode)])
    want = 100 if attack == "honest_solution" else 0
    assert report.scores.correctness == want, outcomes(report)
    assert not flag_codes(report) & {"tamper-suspect", "results-missing"}, report.flags


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack_forges_no_passes(attack: str, mode: str, runs: Runs) -> None:
    """No attack raises the correctness score in process isolation; in-process it is
    stopped where the runner can stop it, and flagged where it cannot."""
    _needs_rpc(mode)
    spec: Attack = ATTACKS[attack]
    report = _common_checks(runs.graded[(attack, mode)])
    score = report.scores.correctness
    shown = (outcomes(report), [f"{f.code}: {f.message}" for f in report.flags])
    if mode == "process" or spec.prevented_in_process:
        assert score == 0, shown
    else:
        assert score == 0 or tamper_evident(report), shown
    if mode == "in-process" and spec.flagged_in_process:
        assert "tamper-suspect" in flag_codes(report), shown
    view = json.dumps(candidate_view(report, runs.challenges[mode].config.feedback))
    assert HIDDEN_MARKER not in view, "hidden test text reached the candidate"
    if mode == "process":
        # The candidate's container never holds the tests: nothing of them can be read.
        assert HIDDEN_MARKER not in report.to_json()
