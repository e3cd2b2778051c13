"""The worker process: Celery consuming the grading and webhook queues, plus the sweep.

Tasks are thin wrappers: ``api.grading.grade_submission`` and ``api.webhooks.deliver``
do the work. The pool is threads (default one per worker: scale by adding workers);
grading itself happens in sibling containers, so a thread mostly waits on Docker.
"""

from __future__ import annotations

import os
import socket
import warnings

import structlog
from celery import Celery

from api.auth import secret_problem
from api.db import upgrade
from api.grading import grade_submission
from api.queue import GRADE_QUEUE, GRADE_TASK, WEBHOOK_QUEUE, WEBHOOK_TASK
from api.services import Services
from api.sweep import Sweeper
from api.webhooks import deliver
from grader.settings import Settings

log = structlog.get_logger("grader.worker")


class ConfigError(Exception):
    """The worker is not configured well enough to start."""


def register_tasks(app: Celery, svc: Services, worker_name: str) -> None:
    """Bind the task names to this process's services."""

    @app.task(  # type: ignore[untyped-decorator]
        name=GRADE_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True
    )
    def grade_task(submission_id: str) -> str:
        return grade_submission(svc, str(submission_id), worker=worker_name)

    @app.task(  # type: ignore[untyped-decorator]
        name=WEBHOOK_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True
    )
    def webhook_task(delivery_id: int) -> str:
        return deliver(svc, int(delivery_id))


def default_hostname() -> str:
    return f"grader@{socket.gethostname()}-{os.getpid()}"


def run_worker(
    settings: Settings,
    *,
    concurrency: int | None = None,
    hostname: str | None = None,
    sweep: bool = True,
) -> int:
    """Run until told to stop (SIGTERM / SIGINT: a warm shutdown); returns the exit code."""
    from api.logs import configure

    problem = secret_problem(settings.secret_key)
    if problem is not None:
        raise ConfigError(problem)
    configure(settings)
    if os.geteuid() == 0:
        # Root in its container is deliberate (docs: docker-compose.yml): the worker drives
        # the Docker socket, which is root-equivalent whatever the worker's own uid.
        warnings.filterwarnings("ignore", message="You're running the worker with superuser")
    name = hostname or default_hostname()
    svc = Services.build(settings)
    upgrade(svc.engine)
    app = svc.celery
    app.conf.worker_redirect_stdouts = False
    register_tasks(app, svc, name)
    sweeper = Sweeper(svc, hostname=name) if sweep else None
    if sweeper is not None:
        sweeper.start()
    log.info("worker starting", hostname=name, concurrency=concurrency)
    try:
        worker = app.Worker(
            hostname=name,
            pool_cls="threads",
            concurrency=concurrency or settings.worker_concurrency,
            loglevel=settings.log_level.upper(),
            quiet=True,
            queues=[GRADE_QUEUE, WEBHOOK_QUEUE],
            without_gossip=True,
            without_mingle=True,
            without_heartbeat=True,
            optimization="fair",
        )
        worker.start()
        code: int = worker.exitcode or 0
    finally:
        if sweeper is not None:
            sweeper.stop()
        from runners.docker import drain_shared_pools

        # The pre-started sandboxes go with the worker (a killed worker's: the sweep).
        drain_shared_pools()
        svc.close()
    return code
