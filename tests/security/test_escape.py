"""Escape and reconnaissance: what the candidate's code can see and do in the sandbox.

One sandbox run per isolation mode holds every probe (tests/security/probes.py); each
probe is its own case here, asserting its own outcome. The probes run as the
candidate's code: in the pytest process (in-process), or in the candidate's own
container over the RPC channel (process). While they run, the host's environment
holds fake grader secrets, and another submission's files exist on the host and in
the other mode's container: none of it may be visible.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from probes import PROBE_SOURCE, probe_names
from support import (
    MODES,
    Graded,
    grade_files,
    grade_many,
    make_probe_challenge,
    messages,
    outcomes,
    rpc_harness_present,
)

pytestmark = [pytest.mark.security, pytest.mark.docker]

PROBES = probe_names()
EXTRA = ["other_submissions_are_not_visible", "host_secrets_are_not_visible"]


def _test_file(canaries: list[str], host_secrets: list[str]) -> str:
    lines = ["import probe", "", f"CANARIES = {canaries!r}", f"SECRETS = {host_secrets!r}", ""]
    for name in PROBES:
        lines += [f"def test_{name}():", f"    assert probe.{name}() == 'ok'", ""]
    lines += [
        "def test_other_submissions_are_not_visible():",
        "    assert probe.other_submissions_are_not_visible(CANARIES) == 'ok'",
        "",
        "def test_host_secrets_are_not_visible():",
        "    dump = probe.environment_dump()",
        "    assert [s for s in SECRETS if s in dump] == []",
        "",
    ]
    return "\n".join(lines)


@dataclass
class Recon:
    graded: dict[str, Graded]


@pytest.fixture(scope="module")
def recon(tmp_path_factory: pytest.TempPathFactory, docker_runner: Any) -> Recon:
    base = tmp_path_factory.mktemp("recon")
    tag = secrets.token_hex(6)
    canary = {m: f"canary_{m.replace('-', '_')}_{tag}" for m in MODES}
    host_only = f"canary_host_{tag}"
    (base / f"{host_only}.py").write_text("X = 1\n")
    host_secrets = {
        "GRADER_SECRET_KEY": f"s3cret-{secrets.token_hex(8)}",
        "GRADER_DATABASE_URL": f"postgresql://grader:pw-{secrets.token_hex(6)}@db/grader",
        "GRADER_REDIS_URL": f"redis://:pw-{secrets.token_hex(6)}@redis:6379/0",
        "CELERY_BROKER_URL": f"redis://:pw-{secrets.token_hex(6)}@redis:6379/1",
    }
    modes = [m for m in MODES if m == "in-process" or rpc_harness_present()]
    jobs = {}
    for mode in modes:
        others = [canary[m] for m in MODES if m != mode] + [host_only]
        tests = _test_file(others, list(host_secrets.values()))
        challenge = make_probe_challenge(
            base,
            f"probe-{mode}",
            isolation=mode,
            tests=tests,
            solution=PROBE_SOURCE,
            wall=60,
            test_seconds=20,
        )
        files = {"probe.py": PROBE_SOURCE, f"{canary[mode]}.py": "X = 1\n"}

        def job(
            challenge: Any = challenge, files: dict[str, str] = files, mode: str = mode
        ) -> Graded:
            return grade_files(
                challenge,
                files,
                base / f"run-{mode}",
                label=f"test-sec-recon-{mode}-{tag}",
                cache_dir=base / "cache",
            )

        jobs[mode] = job
    with pytest.MonkeyPatch.context() as mp:
        for key, value in host_secrets.items():
            mp.setenv(key, value)
        graded = grade_many(jobs, workers=2)
    return Recon(graded)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("probe", PROBES + EXTRA)
def test_probe(probe: str, mode: str, recon: Recon) -> None:
    """Each probe of the sandbox, run as the candidate's code, finds nothing."""
    if mode not in recon.graded:
        pytest.skip("process isolation needs runners/harness/rpc_client.py (not landed yet)")
    g = recon.graded[mode]
    report = g.get()
    assert report.status == "graded"
    assert g.leftovers == [] and g.processes == []
    name = f"test_{probe}"
    assert outcomes(report).get(name) == "passed", messages(report).get(name, "not in the report")
