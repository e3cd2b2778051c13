"""Shared test configuration: plugins with fixtures, and the golden-file flag."""

from __future__ import annotations

import pytest

pytest_plugins = ["fixtures_docker"]
# Challenges the tests grade: their own tests run inside a sandbox, against a service
# (fixtures such as ``http`` exist only there), never in this session.
collect_ignore_glob = ["service_challenges/*"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the golden files of rendered reports",
    )
