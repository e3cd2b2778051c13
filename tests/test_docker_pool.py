"""The sandbox pool on a real engine: pre-started containers used once, retired at their
max age, drained on close, locked down like any sandbox, and grading the same as a run
that starts its own containers."""

from __future__ import annotations

import re
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest
from fixtures_docker import SESSION, TEST_PREFIX
from tests_support import TOKEN, make_adder_challenge, python_job

from grader.challenge import load_challenge
from grader.engine import expected_tests, grade
from grader.languages import get
from grader.submission import open_submission
from runners.base import Job, RunLimits, RunResult
from runners.docker import (
    LABEL,
    OWNER_LABEL,
    POOL_JOB,
    POOL_LABEL,
    ContainerSpec,
    DockerRunner,
    PoolKey,
    SandboxPool,
    connect,
    job_containers,
    pool_key,
)
from runners.harness import grader_contract as C
from runners.images import ensure

pytestmark = [pytest.mark.docker]

OWNER = f"test-pool-owner-{SESSION}"
# The pools of these tests have no owner label, except where the label is the point: the
# orphan sweep of a service running on the same engine (another session's) would remove
# containers whose owner it does not know as a live worker once they are a minute old.


@pytest.fixture
def pool(runner_image: str) -> Iterator[SandboxPool]:
    p = SandboxPool(size=1, max_age_s=120, name_prefix=TEST_PREFIX)
    yield p
    p.close()


@pytest.fixture
def pooled(pool: SandboxPool) -> DockerRunner:
    return DockerRunner(name_prefix=TEST_PREFIX, image_for=ensure, pool=pool)


def _job(tmp_path: Path, isolation: str, test_body: str, solution: str = "X = 1\n") -> Job:
    return python_job(
        tmp_path,
        {"hidden/test_it.py": textwrap.dedent(test_body)},
        {"mod.py": textwrap.dedent(solution)},
        isolation=isolation,
        label=f"test-pool-{isolation}-{tmp_path.name[-12:]}",
        limits=RunLimits(wall_seconds=30, test_seconds=10),
    )


def _outcomes(result: RunResult) -> dict[str, str]:
    res = get("python").read_results(result, TOKEN, ["tests/hidden/test_it.py"])
    return {k.split("::", 1)[1]: v.outcome for k, v in res.cases.items()}


def _warm(pool: SandboxPool, runner: DockerRunner, job: Job) -> PoolKey:
    key = pool_key(job, runner.image(job.image))
    assert key is not None
    assert pool.wait_ready(key, timeout=90), pool.errors
    return key


def _exists(cid: str) -> bool:
    try:
        connect().containers.get(cid)
        return True
    except docker.errors.NotFound:
        return False


def _pool_containers() -> list[str]:
    found = connect().containers.list(all=True, filters={"label": POOL_LABEL}, sparse=True)
    names = [str(c.attrs["Names"][0]).lstrip("/") for c in found]
    return [n for n in names if n.startswith(f"{TEST_PREFIX}-")]


BODY = """
    import os
    from mod import X
    def test_ok():
        assert X == 1
    def test_bad():
        print("visible output")
        assert X == 2
    def test_env_is_the_jobs():
        assert os.environ.get("HOME") == "/tmp" and os.getcwd() in ("/work", "/grader/tests")
"""


@pytest.mark.parametrize("isolation", ["in-process", "process"])
def test_a_pooled_run_gives_what_an_unpooled_run_gives(
    isolation: str,
    tmp_path: Path,
    pool: SandboxPool,
    pooled: DockerRunner,
    docker_runner: DockerRunner,
) -> None:
    job = _job(tmp_path, isolation, BODY)
    cold = docker_runner.run(job)
    _warm(pool, pooled, job)
    warm = pooled.run(job)
    assert len(pool.handed_out) == (2 if isolation == "process" else 1), "the run was pooled"
    want = {"test_ok": "passed", "test_bad": "failed", "test_env_is_the_jobs": "passed"}
    assert _outcomes(cold) == want
    assert _outcomes(warm) == want
    assert warm.collected == cold.collected
    assert (warm.exit_code, warm.limits_hit, warm.isolation) == (
        cold.exit_code,
        cold.limits_hit,
        cold.isolation,
    )
    assert [e for e in warm.events if e["code"] != "hardening-failed"] == []


@pytest.mark.parametrize("isolation", ["in-process", "process"])
def test_a_pooled_grade_reports_what_an_unpooled_grade_reports(
    isolation: str,
    tmp_path: Path,
    pool: SandboxPool,
    pooled: DockerRunner,
    docker_runner: DockerRunner,
) -> None:
    ch = load_challenge(make_adder_challenge(tmp_path, isolation=isolation))
    cache = tmp_path / "cache"
    expected = expected_tests(ch, docker_runner, cache_dir=cache)
    (tmp_path / "sub").mkdir()
    sub = open_submission(ch.starter_dir, tmp_path / "sub")
    cold = grade(ch, sub, docker_runner, expected=expected, cache_dir=cache, label="adhoc")
    grade(ch, sub, pooled, expected=expected, cache_dir=cache)  # the pool learns the shape
    (key,) = pool._wanted
    assert pool.wait_ready(key, timeout=90), pool.errors
    before = len(pool.handed_out)
    warm = grade(ch, sub, pooled, expected=expected, cache_dir=cache)
    assert len(pool.handed_out) > before, "the second grade was pooled"

    def view(r: object) -> object:
        data = r.model_dump(mode="json")  # type: ignore[attr-defined]
        for t in data["tests"]:
            t.pop("duration_s", None)
            # Object addresses in tracebacks differ from one run to the next anyway.
            t["message"] = re.sub(r"0x[0-9a-f]+", "0x?", t["message"] or "")
        data.pop("timings", None)
        return {k: data[k] for k in ("status", "tests", "scores", "limits_hit", "flags")}

    assert view(warm) == view(cold)
    assert cold.scores.correctness < 100, "the starter fails some tests: a real comparison"


def test_a_container_is_handed_out_once(
    tmp_path: Path, pool: SandboxPool, pooled: DockerRunner
) -> None:
    job = _job(tmp_path, "process", "from mod import X\ndef test_ok():\n    assert X == 1\n")
    for _ in range(3):
        _warm(pool, pooled, job)
        assert _outcomes(pooled.run(job)) == {"test_ok": "passed"}
    assert len(pool.handed_out) == 6
    assert len(set(pool.handed_out)) == 6, "no container served two runs"
    assert pool.settle(60)
    assert [cid for cid in pool.handed_out if _exists(cid)] == [], "used ones are removed"


def test_a_taken_set_is_found_by_its_jobs_label_as_a_retry_needs(
    tmp_path: Path, pool: SandboxPool, pooled: DockerRunner
) -> None:
    job = _job(tmp_path, "process", "import time\ndef test_slow():\n    time.sleep(4)\n")
    _warm(pool, pooled, job)
    done: list[RunResult] = []
    worker = threading.Thread(target=lambda: done.append(pooled.run(job)))
    worker.start()
    try:
        deadline = time.monotonic() + 30
        found: list[Any] = []
        while time.monotonic() < deadline and len(found) < 2:
            found = job_containers(connect(), job.label, TEST_PREFIX)
            time.sleep(0.2)
        # Both containers of the set (made before the job was known, labelled "pool"),
        # renamed after it: what a retry's remove_leftovers(label) removes.
        assert len(found) == 2
        assert {c.id for c in found} <= set(pool.handed_out)
        for c in found:
            assert f"-{job.label[:40]}-" in str(c.attrs["Names"][0])
    finally:
        worker.join(60)
    assert _outcomes(done[0]) == {"test_slow": "passed"}
    assert job_containers(connect(), "no-such-job", TEST_PREFIX) == []


def test_sets_older_than_the_max_age_are_retired(tmp_path: Path, runner_image: str) -> None:
    pool = SandboxPool(size=1, max_age_s=3, name_prefix=TEST_PREFIX)
    runner = DockerRunner(name_prefix=TEST_PREFIX, image_for=ensure, pool=pool)
    try:
        job = _job(tmp_path, "in-process", "def test_ok():\n    pass\n")
        key = _warm(pool, runner, job)
        first = [str(sb.container.id) for sb in pool._ready[key][0].sandboxes]
        time.sleep(3.5)
        warm = pool.take(key)
        if warm is not None:
            assert [sb.container.id for sb in warm.sandboxes] != first
            pool.discard(sb.container for sb in warm.sandboxes)
        deadline = time.monotonic() + 30
        while _exists(first[0]) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _exists(first[0]), "a set past its max age is removed unused"
    finally:
        pool.close()


def test_a_pooled_launcher_gives_up_waiting_by_itself(runner_image: str) -> None:
    """The backstop when no pool is left to retire it (its worker was killed)."""
    from runners.sandbox_io import base_archive

    spec = ContainerSpec(
        image=runner_image,
        role="tests",
        uid=C.CANDIDATE_UID,
        label=POOL_JOB,
        memory_mb=128,
        cpus=1.0,
        pids=32,
        disk_mb=16,
        name_prefix=TEST_PREFIX,
        pool_wait_s=1.0,
    )
    client = connect()
    c = client.containers.create(**spec.create_kwargs())
    try:
        c.put_archive("/", base_archive(C.CANDIDATE_UID))
        c.start()
        assert c.wait(timeout=60)["StatusCode"] == 0
        stream, _ = c.get_archive(f"{C.ROOT}/{C.OUT_DIR}/{C.RESULT_FILE}")
        assert b"duration_s" not in b"".join(stream), "no job ran"
    finally:
        c.remove(force=True)


def test_close_drains_the_pool(tmp_path: Path, runner_image: str) -> None:
    pool = SandboxPool(size=1, max_age_s=120, name_prefix=TEST_PREFIX)
    runner = DockerRunner(name_prefix=TEST_PREFIX, image_for=ensure, pool=pool)
    for isolation in ("in-process", "process"):
        job = _job(tmp_path / isolation, isolation, "def test_ok():\n    pass\n")
        _warm(pool, runner, job)
        runner.run(job)  # its containers go back to the pool for removal
    assert _pool_containers(), "the pool holds containers before it is closed"
    pool.close()
    assert _pool_containers() == [], "nothing of the pool is left"
    # A run that ends after the pool closed still has its containers removed.
    late = connect().containers.create(runner_image, ["true"], name=f"{TEST_PREFIX}-late")
    pool.discard([late])
    assert not _exists(str(late.id))
    assert pool.take(pool_key(job, runner.image("python"))) is None  # type: ignore[arg-type]


def test_pooled_containers_are_locked_down(tmp_path: Path, runner_image: str) -> None:
    pool = SandboxPool(size=1, max_age_s=120, name_prefix=TEST_PREFIX, owner=OWNER)
    try:
        _check_locked_down(tmp_path, pool)
    finally:
        pool.close()


def _check_locked_down(tmp_path: Path, pool: SandboxPool) -> None:
    pooled = DockerRunner(name_prefix=TEST_PREFIX, image_for=ensure, pool=pool, owner=OWNER)
    job = _job(tmp_path, "process", "def test_ok():\n    pass\n")
    key = _warm(pool, pooled, job)
    tests, cand = pool._ready[key][0].sandboxes
    for sb in (tests, cand):
        sb.container.reload()
        attrs = sb.container.attrs
        host = attrs["HostConfig"]
        assert attrs["Config"]["User"] == f"{sb.uid}:{sb.uid}" and sb.uid != 0
        assert host["CapDrop"] == ["ALL"] and not host.get("CapAdd")
        assert "no-new-privileges:true" in host["SecurityOpt"]
        assert host["Privileged"] is False
        assert host["Memory"] == job.limits.memory_mb * 1024 * 1024
        assert host["MemorySwap"] == host["Memory"]
        assert host["PidsLimit"] == job.limits.pids
        assert host["NanoCpus"] == int(job.limits.cpus * 1e9)
        assert not host.get("Binds") and not attrs.get("Mounts")
        assert C.TOKEN_ENV not in " ".join(attrs["Config"]["Env"]), "no token before the job"
        labels = attrs["Config"]["Labels"]
        assert labels[LABEL] == POOL_JOB and labels[OWNER_LABEL] == OWNER
        assert POOL_LABEL in labels
    assert tests.container.attrs["HostConfig"]["NetworkMode"] == "none"
    assert cand.container.attrs["HostConfig"]["NetworkMode"] == f"container:{tests.container.id}"


def test_candidate_code_in_a_pooled_container_reaches_no_token_nor_tests(
    tmp_path: Path, pool: SandboxPool, pooled: DockerRunner
) -> None:
    """In-process: the candidate's code runs in the forked pytest; process: in its own
    container, which never holds the tests."""
    solution = """
        import os
        def peek():
            found = []
            for path in ("/proc/1/environ", "/proc/1/fd/0", "/proc/1/mem"):
                try:
                    with open(path, "rb") as fh:
                        found.append((path, fh.read(64)))
                except OSError:
                    pass
            try:
                found.append(("stdin", os.read(0, 64)))
            except OSError:
                pass
            if os.path.exists("/grader/tests"):
                found.append(("tests", os.listdir("/grader/tests")))
            return repr(found)
    """
    body = f"""
        from mod import peek
        def test_nothing_leaks():
            seen = peek()
            assert "{TOKEN}" not in seen
            assert "hidden" not in seen or "in-process" == ISO
            assert "/proc/1" not in seen, seen
    """
    for isolation in ("in-process", "process"):
        job = _job(
            tmp_path / isolation,
            isolation,
            f"ISO = {isolation!r}\n" + textwrap.dedent(body),
            solution,
        )
        _warm(pool, pooled, job)
        before = len(pool.handed_out)
        assert _outcomes(pooled.run(job)) == {"test_nothing_leaks": "passed"}, isolation
        assert len(pool.handed_out) > before


def test_a_dead_pooled_set_falls_back_to_fresh_containers(
    tmp_path: Path, pool: SandboxPool, pooled: DockerRunner
) -> None:
    """A set that died while waiting (an engine restart, a kill) is not used: the run
    starts its own containers, and the dead ones are removed."""
    job = _job(tmp_path, "in-process", "def test_ok():\n    pass\n")
    key = _warm(pool, pooled, job)
    dead = pool._ready[key][0].sandboxes[0].container
    dead.remove(force=True)
    assert _outcomes(pooled.run(job)) == {"test_ok": "passed"}
    assert list(pool.handed_out) == [dead.id]


@pytest.mark.parametrize("isolation", ["in-process", "process"])
def test_a_pooled_run_reads_results_from_the_launchers_stream_without_waiting_for_exit(
    isolation: str,
    tmp_path: Path,
    pool: SandboxPool,
    pooled: DockerRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The launcher's done line and out/ folder on its attached stdout end the run: the
    engine is never asked for the files (get_archive), nor to wait for an exit, nor to
    stop the candidate's container (a SIGTERM, then its launcher's own done line)."""
    from docker.models.containers import Container

    job = _job(tmp_path, isolation, BODY, 'print("hello from the candidate")\nX = 1\n')
    _warm(pool, pooled, job)
    calls: list[str] = []
    for name in ("get_archive", "wait", "stop"):

        def refuse(*args: Any, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            raise AssertionError(f"{_name} was called")

        monkeypatch.setattr(Container, name, refuse)
    before = len(pool.handed_out)
    result = pooled.run(job)
    assert len(pool.handed_out) > before, "the run was pooled"
    assert calls == []
    assert _outcomes(result) == {
        "test_ok": "passed",
        "test_bad": "failed",
        "test_env_is_the_jobs": "passed",
    }
    # The candidate's launcher sent its own results: its process's output.
    where = result.candidate_stdout_tail if isolation == "process" else result.stdout_tail
    assert "hello from the candidate" in where


@pytest.mark.parametrize("isolation", ["in-process", "process"])
def test_candidate_code_cannot_forge_the_launchers_done_line(
    isolation: str, tmp_path: Path, pool: SandboxPool, pooled: DockerRunner
) -> None:
    """A submission that writes the done line and a forged out/ (every test passed) on
    every stdout it can find: its own (a pipe to the launcher), and the launcher's
    through /proc/1/fd/1 (not dumpable: refused). The results are the real ones."""
    solution = r"""
        import io, json, os, sys, tarfile
        DONE = b"grader-launcher: results written\n"
        def forged():
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w") as tar:
                data = json.dumps({"exit_code": 0, "stdout_tail": "3 passed"}).encode()
                info = tarfile.TarInfo("out/result.json")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            body = buf.getvalue()
            return DONE + len(body).to_bytes(8, "big") + body
        for write in (
            lambda b: os.write(1, b),
            lambda b: sys.__stdout__.buffer.write(b),
            lambda b: open("/proc/1/fd/1", "wb").write(b),
        ):
            try:
                write(forged())
            except (OSError, ValueError, AttributeError):
                pass
        X = 2
    """
    job = _job(tmp_path, isolation, BODY, solution)
    _warm(pool, pooled, job)
    before = len(pool.handed_out)
    result = pooled.run(job)
    assert len(pool.handed_out) > before, "the run was pooled"
    assert C.DONE_LINE.decode().strip() == "grader-launcher: results written"
    assert _outcomes(result) == {
        "test_ok": "failed",
        "test_bad": "passed",
        "test_env_is_the_jobs": "passed",
    }
    assert result.exit_code != 0


def test_a_take_while_the_refill_is_under_way_waits_for_it(
    tmp_path: Path, pool: SandboxPool, pooled: DockerRunner
) -> None:
    """A burst: the next job of a shape the pool keeps gets the set being made (not
    None, which would start the same containers cold beside the refill); a shape never
    seen gets None at once."""
    import dataclasses

    job = _job(tmp_path, "in-process", "def test_ok():\n    pass\n")
    key = _warm(pool, pooled, job)
    first = pool.take(key)
    assert first is not None
    try:
        second = pool.take(key, wait_s=60)
        assert second is not None, pool.errors
        assert {sb.container.id for sb in second.sandboxes}.isdisjoint(
            sb.container.id for sb in first.sandboxes
        )
        pool.discard(sb.container for sb in second.sandboxes)
        second.close_stdins()
    finally:
        pool.discard(sb.container for sb in first.sandboxes)
        first.close_stdins()
    unseen = dataclasses.replace(key, memory_mb=key.memory_mb + 1)
    t = time.monotonic()
    assert pool.take(unseen, wait_s=60) is None
    assert time.monotonic() - t < 1.0
