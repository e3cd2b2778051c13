"""Fixtures for the service tests: real Redis, PostgreSQL, Celery workers, uvicorn, Docker.

Every process a test starts, the test stops: Redis and PostgreSQL live in temporary
folders on free ports on 127.0.0.1; workers and API servers are subprocesses in their own
process groups (or uvicorn in a thread), stopped at teardown; sandbox containers of the
submissions a test made are removed by their label.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from service_support import (
    CHALLENGES,
    Api,
    HookServer,
    LiveServer,
    PostgresServer,
    Procs,
    RedisServer,
    make_tokens,
)

from grader.settings import Settings


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, for tests that stop or restart it."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A test that takes this runs twice: on SQLite (a file) and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'grader.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture(scope="session")
def grader_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the session: a challenge's expected tests are collected once."""
    return tmp_path_factory.mktemp("grader-cache")


@pytest.fixture
def make_settings(
    tmp_path: Path, redis_server: RedisServer, grader_cache: Path
) -> Callable[..., Settings]:
    """Settings for this test: its own data folder and SQLite file, the session's Redis."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "challenges_dir": CHALLENGES,
            "data_dir": tmp_path / "data",
            "cache_dir": grader_cache,
            "database_url": f"sqlite:///{tmp_path / 'grader.db'}",
            "redis_url": redis_server.url,
            "secret_key": secrets.token_hex(32),
            "stuck_after_seconds": 60,
            "sweep_interval_seconds": 1.0,
            "webhook_allow_private": True,
            "log_level": "INFO",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    registry = Procs(tmp_path)
    yield registry
    registry.stop_all()


@pytest.fixture
def live_api(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Api]]:
    """Start the API in-process (uvicorn in a thread) with given settings."""
    from api.app import create_app
    from api.db import upgrade
    from api.services import Services

    started: list[tuple[LiveServer, Api]] = []

    def start(**overrides: Any) -> Api:
        settings = make_settings(**overrides)
        services = Services.build(settings)
        upgrade(services.engine)
        tokens, ids = make_tokens(services)
        server = LiveServer(create_app(services=services))
        server.start()
        api = Api(server.url, settings, services, tokens, ids)
        started.append((server, api))
        return api

    yield start
    for server, api in started:
        for client in api.clients:
            client.close()
        server.stop()
        api.services.close()


@pytest.fixture
def sandbox_cleanup() -> Iterator[list[str]]:
    """Submission ids a test made; their sandbox containers are removed at teardown."""
    ids: list[str] = []
    yield ids
    if ids:
        from runners.docker import DockerRunner
        from runners.images import ensure

        runner = DockerRunner(image_for=ensure)
        for sub_id in ids:
            with contextlib.suppress(Exception):
                runner.remove_leftovers(sub_id)


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    server = HookServer()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
