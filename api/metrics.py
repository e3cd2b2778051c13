"""``/metrics`` for Prometheus. Gauges and the grading-duration histogram are read from the
database at scrape time, so they are right whichever of N workers did the work and survive
restarts; the queue depth comes from Redis; HTTP requests are counted in this process."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.models import DELIVERY_STATUSES, STATUSES, Submission, WebhookDelivery
from api.queue import GRADE_QUEUE, WEBHOOK_QUEUE, queue_keys
from api.services import Services

log = structlog.get_logger("grader.api")

DURATION_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class ServiceCollector(Collector):
    """Submissions by status, queue depth, grading durations, webhook deliveries."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[Metric]:
        yield from self._database()
        yield from self._queues()

    def _database(self) -> Iterable[Metric]:
        try:
            with self.svc.session() as db:
                by_status = {
                    status: n
                    for status, n in db.execute(
                        select(Submission.status, func.count()).group_by(Submission.status)
                    )
                }
                stale = (
                    db.scalar(
                        select(func.count())
                        .select_from(Submission)
                        .where(Submission.stale.is_(True))
                    )
                    or 0
                )
                buckets = db.execute(
                    select(
                        func.count(Submission.grading_seconds),
                        func.coalesce(func.sum(Submission.grading_seconds), 0.0),
                        *(
                            func.coalesce(
                                func.sum(case((Submission.grading_seconds <= b, 1), else_=0)), 0
                            )
                            for b in DURATION_BUCKETS
                        ),
                    ).where(Submission.status == "graded")
                ).one()
                deliveries = {
                    status: n
                    for status, n in db.execute(
                        select(WebhookDelivery.status, func.count()).group_by(
                            WebhookDelivery.status
                        )
                    )
                }
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail with the database
            log.warning("metrics: database unavailable", error=str(exc).splitlines()[0])
            return []
        subs = GaugeMetricFamily("grader_submissions", "Submissions by status", labels=["status"])
        for status in STATUSES:
            subs.add_metric([status], float(by_status.get(status, 0)))
        stale_g = GaugeMetricFamily(
            "grader_submissions_stale", "Graded submissions whose challenge changed since"
        )
        stale_g.add_metric([], float(stale))
        count, total, *cumulative = buckets
        hist = HistogramMetricFamily(
            "grader_grading_duration_seconds",
            "Time from a worker's claim to the stored report, graded submissions",
        )
        hist.add_metric(
            [],
            [(str(b), float(c)) for b, c in zip(DURATION_BUCKETS, cumulative, strict=True)]
            + [("+Inf", float(count))],
            float(total),
        )
        hooks = GaugeMetricFamily(
            "grader_webhook_deliveries", "Webhook deliveries by status", labels=["status"]
        )
        for status in DELIVERY_STATUSES:
            hooks.add_metric([status], float(deliveries.get(status, 0)))
        return [subs, stale_g, hist, hooks]

    def _queues(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "grader_queue_depth", "Messages waiting in the Redis queue", labels=["queue"]
        )
        up = GaugeMetricFamily("grader_redis_up", "1 when Redis answered this scrape")
        try:
            pipe = self.svc.redis.pipeline()
            for queue in (GRADE_QUEUE, WEBHOOK_QUEUE):
                for key in queue_keys(queue):
                    pipe.llen(key)
            lengths = pipe.execute()
        except Exception as exc:  # noqa: BLE001 - report Redis as down, keep the rest
            log.warning("metrics: redis unavailable", error=str(exc))
            up.add_metric([], 0.0)
            return [up]
        n = len(queue_keys(GRADE_QUEUE))
        depth.add_metric([GRADE_QUEUE], float(sum(lengths[:n])))
        depth.add_metric([WEBHOOK_QUEUE], float(sum(lengths[n:])))
        up.add_metric([], 1.0)
        return [depth, up]


class Metrics:
    """This app's registry (no process-wide globals): the collector and HTTP counters."""

    def __init__(self, svc: Services) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(ServiceCollector(svc))
        self.requests = Counter(
            "grader_http_requests",
            "HTTP requests served",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "grader_http_request_duration_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )


class MetricsMiddleware:
    """Counts requests by route template (not raw path: ids would explode the labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(
                scope.get("method", "?"), template, str(status["code"])
            ).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - start)
