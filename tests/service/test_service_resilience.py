"""The queue's guarantees: a worker killed mid-grade costs a retry, not a submission and not
a double grading; a Redis restart loses no submission; infrastructure failures are retried
with backoff and then reported; a claim that was taken over cannot store its result."""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import (
    Api,
    HookServer,
    Procs,
    RedisServer,
    upload,
    wait_finished,
    wait_until,
    write_echo_challenge,
)

from api.db import utcnow
from api.models import Submission
from grader.errors import SandboxError

pytestmark = [pytest.mark.service]


def sandbox_containers(label: str) -> list[Any]:
    """The job's containers: made for it, or taken from a worker's pool (named after it)."""
    from runners.docker import connect, job_containers

    return job_containers(connect(), label)


def row(api: Api, sub_id: str) -> Submission:
    with api.services.session() as db:
        found = db.get(Submission, sub_id)
        assert found is not None
        return found


@pytest.mark.docker
@pytest.mark.slow
def test_a_worker_killed_mid_grade_is_replaced_and_the_submission_graded_exactly_once(
    live_api: Callable[..., Api],
    procs: Procs,
    tmp_path: Path,
    hooks: HookServer,
    sandbox_cleanup: list[str],
    runner_image: str,
) -> None:
    challenges = tmp_path / "challenges"
    solution = write_echo_challenge(challenges, "slow-echo", sleep=6) / "solution" / "echo.py"
    api = live_api(challenges_dir=challenges, stuck_after_seconds=6)
    candidate = api.client("candidate")
    first = procs.worker(api.settings)
    sub_id = upload(candidate, solution, slug="slow-echo", data={"callback_url": hooks.url}).json()[
        "id"
    ]
    sandbox_cleanup.append(sub_id)

    # Mid-grade: the sandbox of this submission is running.
    wait_until(lambda: sandbox_containers(sub_id), 120, "the first attempt's sandbox")
    assert row(api, sub_id).status == "running"
    first.kill(signal.SIGKILL)
    first.popen.wait(10)
    assert row(api, sub_id).status == "running"  # nobody told the database

    procs.worker(api.settings)
    state = wait_finished(candidate, sub_id, timeout=120)
    assert state["status"] == "graded", state
    assert state["feedback"]["public_tests"]["passed"] == 1
    final = row(api, sub_id)
    assert (final.attempts, final.generation) == (2, 2)

    # Graded once: one completion, one webhook, and nothing of either attempt left running.
    wait_until(lambda: hooks.received, 30, "the webhook")
    time.sleep(2)
    assert len(hooks.received) == 1 and hooks.bodies()[0]["status"] == "graded"
    wait_until(lambda: not sandbox_containers(sub_id), 30, "the sandboxes to be removed")


@pytest.mark.docker
def test_no_submission_is_lost_when_redis_restarts_or_is_down_at_upload(
    live_api: Callable[..., Api],
    own_redis: RedisServer,
    procs: Procs,
    tmp_path: Path,
    sandbox_cleanup: list[str],
    runner_image: str,
) -> None:
    import redis

    challenges = tmp_path / "challenges"
    solution = write_echo_challenge(challenges, "echo") / "solution" / "echo.py"
    api = live_api(challenges_dir=challenges, redis_url=own_redis.url, stuck_after_seconds=6)
    candidate = api.client("candidate")
    ids = [upload(candidate, solution, slug="echo").json()["id"] for _ in range(2)]
    queue = redis.Redis.from_url(own_redis.url)
    assert queue.llen("grader") == 2
    queue.close()

    own_redis.stop()  # every queued message is gone with it (no persistence)
    down = upload(candidate, solution, slug="echo")
    assert down.status_code == 202, down.text  # the database took it; the queue can wait
    ids.append(down.json()["id"])
    own_redis.start()
    queue = redis.Redis.from_url(own_redis.url)
    assert queue.llen("grader") == 0
    queue.close()
    sandbox_cleanup.extend(ids)

    procs.worker(api.settings)
    for sub_id in ids:
        assert wait_finished(candidate, sub_id, timeout=120)["status"] == "graded"
        assert row(api, sub_id).attempts == 1


class _BrokenRunner:
    name = "docker"

    def run(self, job: Any) -> Any:
        raise SandboxError("Docker engine error: the engine went away")

    def self_test(self) -> str:
        return "broken"


def test_an_infrastructure_failure_is_retried_with_backoff_then_reported(
    live_api: Callable[..., Api], own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.grading as grading

    api = live_api(redis_url=own_redis.url, task_max_attempts=3)
    monkeypatch.setattr(grading, "make_runner", lambda name, **_: _BrokenRunner())
    solution = Path(__file__).parents[2] / "challenges/rate-limiter/solution/ratelimit.py"
    sub_id = upload(api.client("candidate"), solution).json()["id"]
    for attempt in (1, 2):
        assert grading.grade_submission(api.services, sub_id, worker="w") == "retry"
        state = row(api, sub_id)
        assert (state.status, state.attempts) == ("queued", attempt)
        assert state.error is not None and state.error["code"] == "sandbox-error"
        assert state.enqueued_at > utcnow()  # the sweep waits for the backoff too
    assert grading.grade_submission(api.services, sub_id, worker="w") == "error"
    final = row(api, sub_id)
    assert (final.status, final.attempts) == ("error", 3)
    assert final.error is not None and "engine went away" in final.error["message"]
    seen = api.client("candidate").get(f"/v1/submissions/{sub_id}").json()
    assert seen["feedback"]["error"]["code"] == "sandbox-error"
    assert "engine" not in seen["feedback"]["error"]["message"]  # our details stay ours
    assert (
        api.client("reviewer").get(f"/v1/submissions/{sub_id}/report").json()["status"] == "error"
    )
    # A redelivered message finds nothing to do.
    assert grading.grade_submission(api.services, sub_id, worker="w") == "already-error"


def test_a_claim_taken_over_by_the_sweep_cannot_store_its_result(
    live_api: Callable[..., Api], own_redis: RedisServer
) -> None:
    from api.grading import _claim, _store_report, grade_submission
    from api.sweep import sweep
    from grader.report import ChallengeRef, Report, SubmissionRef

    api = live_api(redis_url=own_redis.url, stuck_after_seconds=5)
    solution = Path(__file__).parents[2] / "challenges/rate-limiter/solution/ratelimit.py"
    sub_id = upload(api.client("candidate"), solution).json()["id"]
    first = _claim(api.services, sub_id, "worker-a")
    assert not isinstance(first, str)
    assert _claim(api.services, sub_id, "worker-b") == "already-running"
    with api.services.session() as db:  # worker-a stops beating (it died, or hangs)
        found = db.get(Submission, sub_id)
        assert found is not None
        found.heartbeat_at = utcnow() - timedelta(seconds=60)
    assert sweep(api.services).reclaimed == [sub_id]
    second = _claim(api.services, sub_id, "worker-b")
    assert not isinstance(second, str) and second.generation == first.generation + 1

    def report(total: float) -> Report:
        result = Report(
            challenge=ChallengeRef(slug="rate-limiter", version=1),
            submission=SubmissionRef(id=sub_id, sha256=first.sha256),
        )
        result.scores.total = total
        return result

    assert _store_report(api.services, first, report(10.0)) == "superseded"
    assert _store_report(api.services, second, report(90.0)) == "graded"
    assert _store_report(api.services, first, report(10.0)) == "superseded"
    assert row(api, sub_id).total == 90.0 and row(api, sub_id).worker == "worker-b"
    assert grade_submission(api.services, sub_id) == "already-graded"


def test_a_submission_whose_worker_died_every_time_is_given_up(
    live_api: Callable[..., Api], own_redis: RedisServer
) -> None:
    from api.grading import grade_submission

    api = live_api(redis_url=own_redis.url, task_max_attempts=2)
    solution = Path(__file__).parents[2] / "challenges/rate-limiter/solution/ratelimit.py"
    sub_id = upload(api.client("candidate"), solution).json()["id"]
    with api.services.session() as db:
        found = db.get(Submission, sub_id)
        assert found is not None
        found.attempts = 2  # two claims, two dead workers, re-queued by the sweep each time
    assert grade_submission(api.services, sub_id) == "gave-up"
    final = row(api, sub_id)
    assert final.status == "error" and final.error is not None
    assert final.error["code"] == "gave-up"


def test_healthz_counts_live_workers_only(
    live_api: Callable[..., Api], procs: Procs, own_redis: RedisServer
) -> None:
    """A killed worker drops out within three heartbeats; one started in its place is
    counted once, not twice."""
    api = live_api(redis_url=own_redis.url, heartbeat_seconds=0.5)

    def workers() -> int | None:
        return httpx.get(api.url + "/healthz", timeout=10).json()["workers"]

    assert workers() == 0
    first = procs.worker(api.settings)
    second = procs.worker(api.settings)
    wait_until(lambda: workers() == 2, 60, "two workers announcing themselves")
    first.kill(signal.SIGKILL)
    first.popen.wait(10)
    started = time.monotonic()
    wait_until(lambda: workers() == 1, 30, "the killed worker to drop out")
    assert time.monotonic() - started < 5  # three heartbeats of 0.5 s, and some slack
    procs.worker(api.settings)
    wait_until(lambda: workers() == 2, 60, "the new worker")
    time.sleep(2)
    assert workers() == 2
    second.popen.terminate()  # a warm stop removes its announcement at once
    second.popen.wait(30)
    wait_until(lambda: workers() == 1, 5, "the stopped worker's announcement to go")


def test_a_running_submission_without_heartbeat_is_queued_again_within_the_timeout(
    live_api: Callable[..., Api], own_redis: RedisServer
) -> None:
    """Not the 15-minute stuck limit: a silent heartbeat (30 s by default) is what counts."""
    from api.grading import _claim
    from api.sweep import sweep
    from grader.settings import Settings

    assert Settings(secret_key="x" * 32).dead_worker_after() <= 30
    api = live_api(redis_url=own_redis.url, stuck_after_seconds=900, heartbeat_timeout_seconds=3)
    solution = Path(__file__).parents[2] / "challenges/rate-limiter/solution/ratelimit.py"
    sub_id = upload(api.client("candidate"), solution).json()["id"]
    claim = _claim(api.services, sub_id, "worker-a")
    assert not isinstance(claim, str)
    assert sweep(api.services).reclaimed == []  # it just beat
    with api.services.session() as db:
        found = db.get(Submission, sub_id)
        assert found is not None
        found.heartbeat_at = utcnow() - timedelta(seconds=4)
    assert sweep(api.services).reclaimed == [sub_id]
    assert row(api, sub_id).status == "queued"


@pytest.mark.docker
def test_the_sweep_removes_sandboxes_of_dead_workers_only(
    live_api: Callable[..., Api], own_redis: RedisServer, runner_image: str
) -> None:
    from api.sweep import Sweeper, remove_orphans
    from runners.docker import LABEL, OWNER_LABEL, connect

    api = live_api(redis_url=own_redis.url, orphan_grace_seconds=0, heartbeat_seconds=0.5)
    Sweeper(api.services, hostname="worker-alive").announce()
    client = connect()
    made = {
        owner: client.containers.create(
            runner_image,
            command=["true"],
            name=f"grader-test-orphan-{owner}",
            labels={OWNER_LABEL: owner, LABEL: f"test-orphan-{owner}"},
        )
        for owner in ("worker-alive", "worker-dead")
    }
    try:
        # A Redis that just started has not heard from every live worker: no verdict yet.
        if int(api.services.redis.info("server")["uptime_in_seconds"]) < 4:
            assert remove_orphans(api.services) == []
        wait_until(
            lambda: int(api.services.redis.info("server")["uptime_in_seconds"]) >= 5,
            30,
            "Redis to be up for a few heartbeats",
        )
        Sweeper(api.services, hostname="worker-alive").announce()
        removed = remove_orphans(api.services)
        assert "grader-test-orphan-worker-dead" in removed
        assert "grader-test-orphan-worker-alive" not in removed
        names = [
            c.attrs["Names"][0].lstrip("/")
            for c in client.containers.list(all=True, filters={"label": OWNER_LABEL}, sparse=True)
        ]
        assert "grader-test-orphan-worker-alive" in names
        assert "grader-test-orphan-worker-dead" not in names
    finally:
        for c in made.values():
            with contextlib.suppress(Exception):
                c.remove(force=True)
