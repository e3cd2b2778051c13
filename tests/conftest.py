"""Shared test configuration: plugins with fixtures, and the golden-file flag."""

from __future__ import annotations

import pytest

pytest_plugins = ["fixtures_docker"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the golden files of rendered reports")
