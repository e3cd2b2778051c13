"""The clients one process holds: settings, database, Celery, Redis; built once, passed down."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from celery import Celery
from redis import Redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.db import make_engine, session_factory
from api.queue import make_celery
from grader.settings import Settings


@dataclass
class Services:
    """Everything the routes, the tasks and the sweep talk to."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    celery: Celery
    redis: Redis

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        engine: Engine | None = None,
        celery: Celery | None = None,
        redis_client: Redis | None = None,
    ) -> Services:
        engine = engine or make_engine(settings)
        if redis_client is None:
            redis_client = Redis.from_url(
                settings.redis_url, socket_connect_timeout=2, socket_timeout=3
            )
        return cls(
            settings=settings,
            engine=engine,
            sessions=session_factory(engine),
            celery=celery or make_celery(settings),
            redis=redis_client,
        )

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session in a transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.redis.close()
        self.engine.dispose()
