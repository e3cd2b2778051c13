"""The Docker runner on a real engine: every limit enforced and reported, the
sandbox locked down, and no container left behind."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from tests_support import TOKEN, python_job

from grader.languages import get
from runners.base import Job, RunLimits, RunResult
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker]


def sandbox_job(
    tmp_path: Path,
    test_body: str,
    solution: str = "X = 1\n",
    *,
    limits: RunLimits | None = None,
    isolation: str = "in-process",
    name: str = "job",
) -> Job:
    return python_job(
        tmp_path,
        {"hidden/test_it.py": textwrap.dedent(test_body)},
        {"mod.py": textwrap.dedent(solution)},
        limits=limits,
        isolation=isolation,
        label=f"test-{name}",
    )


def outcomes(result: RunResult) -> dict[str, str]:
    """The verified outcomes (token checked, the harness's sentinel dropped)."""
    res = get("python").read_results(result, TOKEN, ["tests/hidden/test_it.py"])
    return {k.split("::", 1)[1]: v.outcome for k, v in res.cases.items()}


def test_passing_and_failing_tests_are_reported(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    job = sandbox_job(
        tmp_path,
        """
        from mod import X
        def test_ok():
            assert X == 1
        def test_bad():
            assert X == 2
    """,
    )
    res = docker_runner.run(job)
    assert outcomes(res) == {"test_ok": "passed", "test_bad": "failed"}
    assert res.collected == [
        "tests/hidden/test_it.py::test_ok",
        "tests/hidden/test_it.py::test_bad",
    ]
    assert res.limits_hit == []
    assert res.peak_memory_mb and res.peak_memory_mb > 1


def test_fork_bomb_hits_the_pids_limit(docker_runner: DockerRunner, tmp_path: Path) -> None:
    job = sandbox_job(
        tmp_path,
        """
        import os, time
        def test_bomb():
            pids = []
            try:
                for _ in range(10000):
                    pid = os.fork()
                    if pid == 0:
                        time.sleep(30)
                        os._exit(0)
                    pids.append(pid)
            except OSError:
                pass
            assert len(pids) < 64
    """,
        limits=RunLimits(wall_seconds=30, test_seconds=20, pids=32),
    )
    res = docker_runner.run(job)
    assert "pids" in res.limits_hit
    assert outcomes(res) == {"test_bomb": "passed"}


def test_memory_hog_is_killed_and_reported(docker_runner: DockerRunner, tmp_path: Path) -> None:
    job = sandbox_job(
        tmp_path,
        """
        def test_hog():
            blocks = []
            while True:
                blocks.append(bytearray(16 * 1024 * 1024))
    """,
        limits=RunLimits(wall_seconds=30, memory_mb=96),
    )
    res = docker_runner.run(job)
    assert "memory" in res.limits_hit
    assert "test_hog" not in outcomes(res) or outcomes(res)["test_hog"] != "passed"


def test_endless_loop_fails_by_per_test_timeout(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    job = sandbox_job(
        tmp_path,
        """
        def test_spin():
            while True:
                pass
        def test_after():
            assert True
    """,
        limits=RunLimits(wall_seconds=30, test_seconds=1),
    )
    res = docker_runner.run(job)
    assert outcomes(res) == {"test_spin": "failed", "test_after": "passed"}
    assert "timeout" not in res.limits_hit


def test_wall_clock_deadline_stops_a_run_that_ignores_timeouts(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    job = sandbox_job(
        tmp_path,
        """
        import signal
        def test_first():
            assert True
        def test_block():
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            while True:
                pass
    """,
        limits=RunLimits(wall_seconds=4, test_seconds=2),
    )
    res = docker_runner.run(job)
    assert "timeout" in res.limits_hit
    assert res.duration_s < 20
    assert "test_first" not in outcomes(res) or outcomes(res)["test_first"] == "passed"


def test_output_flood_is_truncated_and_reported(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    job = sandbox_job(
        tmp_path,
        """
        import os
        def test_flood():
            chunk = b"y" * 65536
            for _ in range(400):
                os.write(1, chunk)
                os.write(2, b"\\xff\\xfe" * 1000)
    """,
        limits=RunLimits(wall_seconds=30, output_kb=64),
    )
    res = docker_runner.run(job)
    assert "output" in res.limits_hit
    assert len(res.stdout_tail) + len(res.stderr_tail) <= 3 * 64 * 1024


def test_disk_filler_hits_the_disk_limit(docker_runner: DockerRunner, tmp_path: Path) -> None:
    job = sandbox_job(
        tmp_path,
        """
        def test_fill():
            with open("/work/big", "wb") as fh:
                while True:
                    fh.write(b"z" * 1024 * 1024)
    """,
        limits=RunLimits(wall_seconds=30, disk_mb=16),
    )
    res = docker_runner.run(job)
    assert "disk" in res.limits_hit
    assert outcomes(res) == {"test_fill": "failed"}


def test_crash_mid_run_leaves_tests_unreported(docker_runner: DockerRunner, tmp_path: Path) -> None:
    job = sandbox_job(
        tmp_path,
        """
        import os
        def test_one():
            assert True
        def test_two():
            os._exit(3)
        def test_three():
            assert True
    """,
    )
    res = docker_runner.run(job)
    assert res.exit_code == 3
    assert res.collected is not None and len(res.collected) == 3
    assert outcomes(res) == {}


def test_sandbox_is_locked_down(
    docker_runner: DockerRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_HOST_SECRET", "s3cr3t-host-value")
    job = sandbox_job(
        tmp_path,
        """
        import os
        def test_not_root():
            assert os.getuid() != 0 and os.geteuid() != 0
        def test_no_capabilities():
            status = open("/proc/self/status").read()
            caps = {l.split(":")[0]: int(l.split()[1], 16) for l in status.splitlines()
                    if l.startswith("Cap")}
            assert caps["CapEff"] == 0 and caps["CapPrm"] == 0 and caps["CapBnd"] == 0
        def test_no_new_privileges():
            assert "NoNewPrivs:\\t1" in open("/proc/self/status").read()
        def test_only_loopback():
            assert sorted(os.listdir("/sys/class/net")) == ["lo"]
            routes = open("/proc/net/route").read().splitlines()[1:]
            assert routes == []
        def test_environment_is_clean():
            env = os.environ.items()
            assert not any("GRADER_HOST_SECRET" in k or "s3cr3t" in v for k, v in env)
            assert not [k for k in os.environ if k.startswith("PYTEST_")]
            assert not [k for k in os.environ if "DOCKER" in k or "REDIS" in k]
        def test_tests_are_read_only():
            try:
                open("/grader/tests/hidden/test_it.py", "a").write("x")
            except OSError:
                return
            raise AssertionError("test file was writable")
        def test_no_docker_socket():
            assert not os.path.exists("/var/run/docker.sock")
        def test_nothing_writable_outside_tmpfs():
            for d in ("/", "/grader", "/grader/out", "/grader/tests", "/opt/venv", "/usr", "/etc"):
                assert not os.access(d, os.W_OK), d
    """,
    )
    res = docker_runner.run(job)
    assert outcomes(res) == {
        "test_not_root": "passed",
        "test_no_capabilities": "passed",
        "test_no_new_privileges": "passed",
        "test_only_loopback": "passed",
        "test_environment_is_clean": "passed",
        "test_tests_are_read_only": "passed",
        "test_no_docker_socket": "passed",
        "test_nothing_writable_outside_tmpfs": "passed",
    }


def test_no_container_is_left_behind(docker_runner: DockerRunner, tmp_path: Path) -> None:
    job = sandbox_job(tmp_path, "def test_x():\n    pass\n", name="leftover-check")
    docker_runner.run(job)
    left = docker_runner.client.containers.list(
        all=True, filters={"label": "org.grader.job=test-leftover-check"}
    )
    assert left == []


def test_leftovers_of_an_earlier_attempt_are_removed(
    docker_runner: DockerRunner, tmp_path: Path
) -> None:
    image = docker_runner.image("python")
    stale = docker_runner.client.containers.create(
        image,
        command=["true"],
        name=f"{docker_runner.name_prefix}-stale-attempt",
        labels={"org.grader.job": "test-stale"},
    )
    job = sandbox_job(tmp_path, "def test_x():\n    pass\n", name="stale")
    res = docker_runner.run(job)
    assert outcomes(res) == {"test_x": "passed"}
    names = [c.name for c in docker_runner.client.containers.list(all=True)]
    assert stale.name not in names


def test_container_spec_is_locked_down() -> None:
    """The container is created with a from-scratch environment and no host mounts."""
    from runners.docker import ContainerSpec

    spec = ContainerSpec(
        image="x", role="tests", uid=10001, label="l", memory_mb=64, cpus=1, pids=32, disk_mb=8
    )
    kwargs = spec.create_kwargs()
    assert kwargs["environment"] == {"HOME": "/tmp"}
    assert kwargs["network_mode"] == "none" and kwargs["cap_drop"] == ["ALL"]
    assert kwargs["mem_limit"] == kwargs["memswap_limit"] == "64m"
    assert "no-new-privileges:true" in kwargs["security_opt"]
    assert "volumes" not in kwargs and "mounts" not in kwargs
