"""The Celery app on Redis: configuration, task names, and sending work.

The database is the source of truth; a message only says "look at submission X". Losing
one (Redis restarted, a publish failed) costs a delay until the sweep re-sends it, never
the submission.
"""

from __future__ import annotations

from typing import Any

import structlog
from celery import Celery
from kombu.entity import Queue

from grader.settings import Settings

log = structlog.get_logger("grader.queue")

GRADE_TASK = "grader.grade_submission"
WEBHOOK_TASK = "grader.deliver_webhook"
GRADE_QUEUE = "grader"
WEBHOOK_QUEUE = "grader-webhooks"
# kombu's Redis transport keeps one list per priority step: "name", "name\x06\x163", ...
_PRIORITY_SEP = "\x06\x16"
_PRIORITY_STEPS = (0, 3, 6, 9)


def make_celery(settings: Settings) -> Celery:
    """A Celery app for ``settings``; tasks are registered by the worker (``api.worker``)."""
    app = Celery("grader", broker=settings.redis_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        result_backend=None,
        task_default_queue=GRADE_QUEUE,
        task_queues=(Queue(GRADE_QUEUE), Queue(WEBHOOK_QUEUE)),  # type: ignore[no-untyped-call]
        task_routes={GRADE_TASK: {"queue": GRADE_QUEUE}, WEBHOOK_TASK: {"queue": WEBHOOK_QUEUE}},
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options={
            # A message unacknowledged this long (its worker died) is delivered again; the
            # sweep usually re-sends it much sooner, and a duplicate is harmless.
            "visibility_timeout": 3600,
            "socket_connect_timeout": 3,
            "socket_timeout": 10,
            "retry_on_timeout": True,
        },
        # Publishing must fail fast in the API: the row is already stored, the sweep re-sends.
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": 2,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_heartbeat=0,
        enable_utc=True,
    )
    return app


def send(app: Celery, task: str, args: list[Any], *, countdown: float | None = None) -> bool:
    """Publish one message; False (logged) when the broker is unreachable."""
    try:
        app.send_task(task, args=args, countdown=countdown)
        return True
    except Exception as exc:  # noqa: BLE001 - any broker failure: the sweep re-sends later
        log.warning(
            "publish failed; the sweep will re-send",
            task=task,
            args=args,
            error=f"{type(exc).__name__}: {exc}",
        )
        return False


def enqueue_grade(app: Celery, submission_id: str, *, countdown: float | None = None) -> bool:
    return send(app, GRADE_TASK, [submission_id], countdown=countdown)


def enqueue_webhook(app: Celery, delivery_id: int, *, countdown: float | None = None) -> bool:
    return send(app, WEBHOOK_TASK, [delivery_id], countdown=countdown)


def queue_keys(queue: str) -> list[str]:
    """The Redis lists that hold ``queue``'s messages."""
    return [queue] + [f"{queue}{_PRIORITY_SEP}{p}" for p in _PRIORITY_STEPS[1:]]
