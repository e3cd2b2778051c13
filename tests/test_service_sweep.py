"""Runs whose worker is killed mid-run leave containers behind; the sweep
(runners.docker.sweep_leftovers, used by the API's sweeper) removes every one, and a
completed run leaves nothing at all."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fixtures_docker import TEST_PREFIX

from runners.docker import LABEL, connect, sweep_leftovers

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ECHO = Path(__file__).parent / "service_challenges" / "echo"
KV = Path(__file__).parent / "service_challenges" / "kv"


def _ours() -> dict[str, list[str]]:
    client = connect()
    flt = {"label": LABEL}
    return {
        "containers": [
            n
            for c in client.api.containers(all=True, filters=flt)
            if (n := c["Names"][0].lstrip("/")).startswith(TEST_PREFIX)
        ],
        "networks": [
            n.name for n in client.networks.list(filters=flt) if n.name.startswith(TEST_PREFIX)
        ],
        "volumes": [
            v.name for v in client.volumes.list(filters=flt) if v.name.startswith(TEST_PREFIX)
        ],
    }


def _grade(challenge: Path, cache: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GRADER_CACHE_DIR": str(cache)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader.cli",
            "run",
            str(challenge),
            str(challenge / "solution" / "python"),
            "--format",
            "json",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_when_running(proc: subprocess.Popen[bytes], deadline_s: float = 60) -> bool:
    """SIGKILL the worker once its run has a running container; True if it did."""
    client = connect()
    end = time.monotonic() + deadline_s
    while time.monotonic() < end and proc.poll() is None:
        running = client.api.containers(filters={"label": LABEL, "status": "running"})
        if any(c["Names"][0].lstrip("/").startswith(TEST_PREFIX) for c in running):
            time.sleep(1.0)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.2)
    return False


def test_killed_workers_leave_leftovers_that_the_sweep_removes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    # A run that completes (and fills the cache of expected tests) leaves nothing.
    for challenge in (ECHO, KV):
        assert _grade(challenge, cache).wait(timeout=300) == 0
    assert _ours() == {"containers": [], "networks": [], "volumes": []}
    killed = 0
    for challenge in (KV, ECHO):
        killed += _kill_when_running(_grade(challenge, cache))
    assert killed == 2
    assert _ours()["containers"], "a killed worker's run left nothing to sweep"
    # Younger than the threshold: kept (they may belong to a run still in progress).
    assert sweep_leftovers(3600, name_prefix=TEST_PREFIX).total == 0
    report = sweep_leftovers(0, name_prefix=TEST_PREFIX)
    assert report.containers and not report.failed
    assert _ours() == {"containers": [], "networks": [], "volumes": []}
