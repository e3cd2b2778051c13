"""The sweep: the database is the queue's source of truth, so anything it says is pending
but that no one is working on gets sent again. Runs in every worker; each re-send is a
compare-and-set on the row, so several sweepers never double a message."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.challenges import find
from api.db import utcnow
from api.models import Submission, WebhookDelivery
from api.queue import enqueue_grade, enqueue_webhook
from api.services import Services

log = structlog.get_logger("grader.sweep")

WORKER_KEY = "grader:worker:"
_BATCH = 500


@dataclass
class SweepResult:
    requeued: list[str] = field(default_factory=list)
    reclaimed: list[str] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)
    marked_stale: int = 0


def sweep(svc: Services, *, now: datetime | None = None) -> SweepResult:
    """Re-send what is stuck: queued rows never picked up, running rows whose worker
    stopped beating, webhook deliveries whose retry message was lost; mark stale reports."""
    now = now or utcnow()
    cutoff = now - timedelta(seconds=svc.settings.stuck_after_seconds)
    silent = now - timedelta(seconds=svc.settings.dead_worker_after())
    result = SweepResult()
    with svc.session() as db:
        queued = (
            db.execute(
                select(Submission.id)
                .where(Submission.status == "queued", Submission.enqueued_at < cutoff)
                .limit(_BATCH)
            )
            .scalars()
            .all()
        )
        for sub_id in queued:
            if (
                db.connection()
                .execute(
                    update(Submission)
                    .where(
                        Submission.id == sub_id,
                        Submission.status == "queued",
                        Submission.enqueued_at < cutoff,
                    )
                    .values(enqueued_at=now)
                )
                .rowcount
            ):
                result.requeued.append(sub_id)
        running = db.execute(
            select(Submission.id, Submission.generation)
            .where(Submission.status == "running", Submission.heartbeat_at < silent)
            .limit(_BATCH)
        ).all()
        for sub_id, generation in running:
            if (
                db.connection()
                .execute(
                    update(Submission)
                    .where(
                        Submission.id == sub_id,
                        Submission.status == "running",
                        Submission.generation == generation,
                        Submission.heartbeat_at < silent,
                    )
                    .values(status="queued", enqueued_at=now, worker=None)
                )
                .rowcount
            ):
                result.reclaimed.append(sub_id)
        grace = timedelta(seconds=min(60, svc.settings.stuck_after_seconds))
        result.webhooks = list(
            db.execute(
                select(WebhookDelivery.id)
                .where(
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at < now - grace,
                )
                .limit(_BATCH)
            )
            .scalars()
            .all()
        )
        result.marked_stale = _mark_stale(svc, db)
    for sub_id in result.requeued + result.reclaimed:
        enqueue_grade(svc.celery, sub_id)
    for delivery_id in result.webhooks:
        enqueue_webhook(svc.celery, delivery_id)
    if result.requeued or result.reclaimed or result.webhooks:
        log.warning(
            "sweep re-sent work",
            requeued=result.requeued,
            reclaimed=result.reclaimed,
            webhooks=result.webhooks,
        )
    return result


def _mark_stale(svc: Services, db: Session) -> int:
    marked = 0
    slugs = (
        db.execute(
            select(Submission.challenge_slug)
            .where(Submission.status == "graded", Submission.stale.is_(False))
            .distinct()
        )
        .scalars()
        .all()
    )
    for slug in slugs:
        challenge = find(svc.settings.challenges_dir, slug)
        if challenge is None:
            continue
        marked += (
            db.connection()
            .execute(
                update(Submission)
                .where(
                    Submission.challenge_slug == slug,
                    Submission.status == "graded",
                    Submission.stale.is_(False),
                    Submission.challenge_version < challenge.config.version,
                )
                .values(stale=True)
            )
            .rowcount
        )
    return marked


def sweep_sandboxes(svc: Services) -> int:
    """Remove the sandboxes (containers, networks, volumes) a killed worker left behind:
    those of this deployment's name prefix older than any run can be."""
    from runners.docker import sweep_leftovers

    settings = svc.settings
    report = sweep_leftovers(
        settings.sandbox_leftovers_after_seconds, name_prefix=settings.container_prefix
    )
    if report.total or report.failed:
        log.warning(
            "sweep removed sandbox leftovers",
            containers=report.containers,
            networks=report.networks,
            volumes=report.volumes,
            failed=report.failed,
        )
    return report.total


class Sweeper:
    """Two threads in the worker process: one sweeps every ``sweep_interval_seconds`` (with
    jitter, so workers started together spread out); one announces the worker in Redis
    every heartbeat, under a key that expires after three missed beats (so /healthz counts
    live workers only, and a killed worker drops out within seconds)."""

    def __init__(self, svc: Services, *, hostname: str | None = None) -> None:
        self.svc = svc
        self.hostname = hostname or socket.gethostname()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._sweep_loop, name="grader-sweep", daemon=True),
            threading.Thread(target=self._announce_loop, name="grader-presence", daemon=True),
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        with contextlib.suppress(Exception):  # gone at once, not after the key expires
            self.svc.redis.delete(WORKER_KEY + self.hostname)

    def _sweep_loop(self) -> None:
        interval = max(0.5, self.svc.settings.sweep_interval_seconds)
        self._stop.wait(random.uniform(0, min(interval, 2.0)))
        while not self._stop.is_set():
            try:
                sweep(self.svc)
            except Exception as exc:  # noqa: BLE001 - the database may be down: try next round
                log.warning("sweep failed", error=f"{type(exc).__name__}: {exc}")
            try:
                remove_orphans(self.svc)
            except Exception as exc:  # noqa: BLE001 - the engine may be down: next round
                log.info("orphan sweep failed", error=f"{type(exc).__name__}: {exc}")
            try:
                sweep_sandboxes(self.svc)
            except Exception as exc:  # noqa: BLE001 - the engine may be down: try next round
                log.info("sandbox sweep failed", error=f"{type(exc).__name__}: {exc}")
            self._stop.wait(interval * random.uniform(0.8, 1.2))

    def _announce_loop(self) -> None:
        every = self.svc.settings.heartbeat_every()
        while not self._stop.is_set():
            self.announce()
            self._stop.wait(every)

    def announce(self) -> None:
        """Tell /healthz that this worker lives and whether it reaches the Docker engine."""
        docker_ok, detail = docker_status()
        record = {
            "hostname": self.hostname,
            "docker": docker_ok,
            "detail": detail,
            "at": utcnow().isoformat(),
        }
        try:
            self.svc.redis.set(
                WORKER_KEY + self.hostname,
                json.dumps(record),
                ex=presence_ttl(self.svc.settings.heartbeat_every()),
            )
        except Exception as exc:  # noqa: BLE001 - Redis down: health shows it anyway
            log.info("cannot announce the worker", error=str(exc))


def live_owners(svc: Services) -> set[str] | None:
    """Names of the workers alive now (their announcement has not expired); None when
    Redis cannot say (then nothing may be judged orphaned)."""
    ttl = presence_ttl(svc.settings.heartbeat_every())
    try:
        # A Redis that just (re)started has not heard from the live workers yet.
        uptime = int(svc.redis.info("server").get("uptime_in_seconds", 0))
        if uptime < 2 * ttl:
            return None
        keys = list(svc.redis.scan_iter(match=WORKER_KEY + "*", count=100))
    except Exception:  # noqa: BLE001 - Redis down: unknown, not "nobody"
        return None
    return {(k.decode() if isinstance(k, bytes) else str(k))[len(WORKER_KEY) :] for k in keys}


def remove_orphans(svc: Services) -> list[str]:
    """Remove sandboxes whose worker is dead (killed mid-grade: its ``finally`` never ran).

    A worker's containers carry its name; a name no live worker announces for the
    presence TTL and a grace period is dead. Returns the names removed.
    """
    owners = live_owners(svc)
    if owners is None:
        return []
    from runners.docker import DockerRunner

    grace = svc.settings.orphan_grace_seconds
    removed = DockerRunner().remove_orphans(owners, older_than_s=grace)
    if removed:
        log.warning("removed the sandboxes of dead workers", containers=removed)
    return removed


def presence_ttl(heartbeat_s: float) -> int:
    """How long a worker's announcement lasts: three heartbeats (at least 2 s)."""
    return max(2, int(3 * heartbeat_s + 0.999))


def docker_status() -> tuple[bool, str]:
    from runners import make_runner

    try:
        runner = make_runner("docker")
        return True, runner.self_test()
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return False, f"{type(exc).__name__}: {exc}"[:300]
