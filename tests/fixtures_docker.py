"""Fixtures for tests that start real containers (a pytest plugin loaded by conftest).

A Docker test that cannot reach an engine FAILS: CI installs and starts Docker
instead of skipping. Containers the tests start carry names beginning
``grader-test-``; leftovers are removed at the start and end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from runners.docker import DockerRunner, connect

TEST_PREFIX = "grader-test"
# Subprocesses (the CLI under test) name their containers the same way.
os.environ["GRADER_CONTAINER_PREFIX"] = TEST_PREFIX


def _remove_test_containers() -> None:
    client = connect()
    for c in client.containers.list(all=True, filters={"name": f"{TEST_PREFIX}-"}):
        c.remove(force=True)


@pytest.fixture(scope="session")
def runner_image() -> str:
    """The Python runner image, built (or found up to date) once per session."""
    from runners.images import build

    return build("python")


@pytest.fixture(scope="session")
def docker_runner(runner_image: str) -> Iterator[DockerRunner]:
    _remove_test_containers()
    yield DockerRunner(name_prefix=TEST_PREFIX)
    _remove_test_containers()
