"""Fixtures for tests that start real containers (a pytest plugin loaded by conftest).

A Docker test that cannot reach an engine FAILS: CI installs and starts Docker
instead of skipping. Containers the tests start are named ``grader-test-<session>-*``.
At the start of a session, leftovers of earlier sessions older than ten minutes are
removed (a younger one, running or not, may belong to a concurrent session that is
still reading its results); at the end, every container of this session goes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Iterator

import docker.errors
import pytest

from runners.docker import DockerRunner, connect
from runners.images import ensure

SESSION = secrets.token_hex(3)
TEST_PREFIX = f"grader-test-{SESSION}"
# Subprocesses (the CLI under test) name their containers the same way.
os.environ["GRADER_CONTAINER_PREFIX"] = TEST_PREFIX
STALE_AFTER_S = 600


def remove_test_containers(*, only_this_session: bool) -> int:
    client = connect()
    removed = 0
    # sparse: no inspect per container, so one another session removes meanwhile is no error
    for c in client.containers.list(all=True, filters={"name": "grader-test-"}, sparse=True):
        name = c.attrs["Names"][0].lstrip("/")
        mine = name.startswith(TEST_PREFIX + "-")
        stale = time.time() - float(c.attrs.get("Created", 0)) > STALE_AFTER_S
        if mine or (not only_this_session and stale):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)
            removed += 1
    return removed


@pytest.fixture(scope="session")
def runner_image() -> str:
    """The Python runner image, built (or found up to date) once per session."""
    from runners.images import build

    return build("python")


@pytest.fixture(scope="session")
def docker_runner(runner_image: str) -> Iterator[DockerRunner]:
    remove_test_containers(only_this_session=False)
    yield DockerRunner(name_prefix=TEST_PREFIX, image_for=ensure)
    remove_test_containers(only_this_session=True)
