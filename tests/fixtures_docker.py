"""Fixtures for tests that start real containers (a pytest plugin loaded by conftest).

A Docker test that cannot reach an engine FAILS: CI installs and starts Docker
instead of skipping. Containers the tests start carry names beginning
``grader-test-``; leftovers are removed at the start and end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runners.docker import DockerRunner, connect


def _remove_test_containers() -> None:
    client = connect()
    for c in client.containers.list(all=True, filters={"name": "grader-test-"}):
        c.remove(force=True)


@pytest.fixture(scope="session")
def runner_image() -> str:
    """The Python runner image, built (or found up to date) once per session."""
    from runners.images import build

    return build("python")


@pytest.fixture(scope="session")
def docker_runner(runner_image: str) -> Iterator[DockerRunner]:
    _remove_test_containers()
    yield DockerRunner()
    _remove_test_containers()
