"""``/healthz``: the database, Redis and the Docker engine, each with its own verdict."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from api.db import utcnow
from api.schemas import CheckOut, HealthOut
from api.services import Services
from api.sweep import WORKER_KEY, docker_status, presence_ttl

CHECK_TIMEOUT_S = 3.0
DOCKER_SOCKET = Path("/var/run/docker.sock")


def _database(svc: Services) -> CheckOut:
    with svc.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    return CheckOut(ok=True, detail=svc.engine.dialect.name)


def _redis(svc: Services) -> CheckOut:
    svc.redis.ping()
    return CheckOut(ok=True, detail="ping ok")


def engine_reachable_here() -> bool:
    return bool(os.environ.get("DOCKER_HOST")) or DOCKER_SOCKET.exists()


def live_workers(svc: Services) -> list[dict[str, object]]:
    """The workers that announced themselves within their last three heartbeats."""
    fresh_after = utcnow() - timedelta(seconds=presence_ttl(svc.settings.heartbeat_every()))
    found: dict[str, dict[str, object]] = {}
    for key in svc.redis.scan_iter(match=WORKER_KEY + "*", count=100):
        raw = svc.redis.get(key)
        try:
            record = json.loads(raw) if isinstance(raw, bytes | str) else {}
            at = datetime.fromisoformat(record["at"])
        except (ValueError, KeyError, TypeError):
            continue
        if at >= fresh_after:
            found[str(record.get("hostname", key))] = record
    return list(found.values())


def _docker(svc: Services) -> CheckOut:
    """Ask the engine directly where this process can reach it; otherwise (the API
    container has no Docker socket) trust the live workers' reports."""
    if engine_reachable_here():
        ok, detail = docker_status()
        return CheckOut(ok=ok, detail=detail)
    workers = live_workers(svc)
    if not workers:
        return CheckOut(ok=False, detail="no worker has reported in (is a worker running?)")
    healthy = sum(bool(w.get("docker")) for w in workers)
    return CheckOut(
        ok=healthy > 0, detail=f"{healthy} of {len(workers)} workers reach the Docker engine"
    )


def _workers(svc: Services) -> int:
    return len(live_workers(svc))


async def _run(check: Callable[[Services], CheckOut], svc: Services) -> CheckOut:
    try:
        return await asyncio.wait_for(run_in_threadpool(check, svc), CHECK_TIMEOUT_S)
    except TimeoutError:
        return CheckOut(ok=False, detail=f"no answer within {CHECK_TIMEOUT_S:g}s")
    except Exception as exc:  # noqa: BLE001 - any failure is this check's verdict
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return CheckOut(ok=False, detail=f"{type(exc).__name__}: {first}"[:300])


async def check_all(svc: Services) -> HealthOut:
    names = ("database", "redis", "docker")
    results = await asyncio.gather(*(_run(c, svc) for c in (_database, _redis, _docker)))
    checks = dict(zip(names, results, strict=True))
    ok = all(c.ok for c in checks.values())
    try:
        workers: int | None = await asyncio.wait_for(
            run_in_threadpool(_workers, svc), CHECK_TIMEOUT_S
        )
    except Exception:  # noqa: BLE001 - Redis is down: its check says so
        workers = None
    return HealthOut(status="ok" if ok else "unavailable", checks=checks, workers=workers)
