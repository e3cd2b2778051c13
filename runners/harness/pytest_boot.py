"""Start pytest inside the sandbox with the grader's configuration only.

Usage: pytest_boot.py [--path=DIR] [--collected=FILE] -- PYTEST_ARGS...
``--path`` puts the submission on sys.path (in-process isolation only).
``--collected`` writes the collected test ids (and collection errors) as JSON.
"""

from __future__ import annotations

import json
import os
import sys

HARNESS = os.path.dirname(os.path.abspath(__file__))


class CollectRecorder:
    """Records what pytest collected so the host knows every test the run defines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[str] = []

    def pytest_collectreport(self, report):  # type: ignore[no-untyped-def]
        if report.failed:
            self.errors.append(f"{report.nodeid}: {str(report.longrepr)[-2000:]}")

    def pytest_collection_finish(self, session):  # type: ignore[no-untyped-def]
        data = {"ids": [item.nodeid for item in session.items], "errors": self.errors}
        with open(self.path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)


class SectionTrimmer:
    """Keep captured output per test bounded, so a flood cannot bloat the JUnit XML."""

    LIMIT = 8192

    def _clip(self, text: str) -> str:
        if len(text) <= self.LIMIT:
            return text
        half = self.LIMIT // 2
        return f"{text[:half]}\n...[{len(text) - self.LIMIT} characters cut]...\n{text[-half:]}"

    def pytest_sessionstart(self, session):  # type: ignore[no-untyped-def]
        # pytest exports PYTEST_VERSION; the code under test gets no hint it is being tested.
        for key in [k for k in os.environ if k.startswith("PYTEST_")]:
            del os.environ[key]

    def pytest_runtest_logreport(self, report):  # type: ignore[no-untyped-def]
        report.sections = [(key, self._clip(value)) for key, value in report.sections]


def main(argv: list[str]) -> int:
    sep = argv.index("--")
    own, pytest_args = argv[:sep], argv[sep + 1 :]
    sys.path.insert(0, HARNESS)
    plugins: list[object] = [SectionTrimmer()]
    for arg in own:
        if arg.startswith("--path="):
            sys.path.insert(0, arg.split("=", 1)[1])
        elif arg.startswith("--collected="):
            plugins.append(CollectRecorder(arg.split("=", 1)[1]))
    import _pytest.runner
    import pytest

    # Runs before the JUnit writer sees the report.
    SectionTrimmer.pytest_runtest_logreport = pytest.hookimpl(tryfirst=True)(  # type: ignore[method-assign]
        SectionTrimmer.pytest_runtest_logreport
    )

    # pytest exports the running test's id as PYTEST_CURRENT_TEST; the code under
    # test must get no hint of which (hidden) test is calling it.
    _pytest.runner._update_current_test_var = lambda item, when: None  # type: ignore[assignment]
    return int(pytest.main(pytest_args, plugins=plugins))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
