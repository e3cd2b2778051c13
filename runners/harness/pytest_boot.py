"""Start pytest inside the sandbox with the grader's configuration only.

Usage: pytest_boot.py [--path=DIR] [--token-fd=N] [--collected=FILE] -- PYTEST_ARGS...
``--path`` puts the submission on sys.path (in-process isolation only), *after*
the standard library, pytest and the harness: a submission's ``pytest.py``,
``_pytest/`` or ``json.py`` never shadows them.
``--token-fd`` names a pipe holding the run token; it is read and closed before any
test code is imported, and goes into the JUnit XML as the ``grader_run`` property.
``--collected`` writes the collected test ids (and collection errors) as JSON.
``--perf-reference=HOST:PORT`` (a performance run) loads ``grader_perf`` (the ``bench``
fixture) with the reference server's address and the secret it must be shown, derived
from the run token here (it never goes on a command line or into the environment).

After the challenge's test files pytest also runs ``test_grader_sentinel.py``, a
check that always fails (a strict xfail): the host rejects a report in which it passed.
"""

from __future__ import annotations

import json
import os
import sys

HARNESS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HARNESS)
import grader_contract as C  # noqa: E402 - the harness folder is not on sys.path under -I

SENTINEL = os.path.join(HARNESS, C.SENTINEL_FILE)
TOKEN_PROPERTY = C.TOKEN_PROPERTY


def _is_harness(nodeid: str) -> bool:
    return nodeid.split("::", 1)[0].endswith(C.SENTINEL_FILE)


class CollectRecorder:
    """Records what pytest collected so the host knows every test the run defines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[str] = []

    def pytest_collectreport(self, report):  # type: ignore[no-untyped-def]
        if report.failed:
            self.errors.append(f"{report.nodeid}: {str(report.longrepr)[-2000:]}")

    def pytest_collection_finish(self, session):  # type: ignore[no-untyped-def]
        ids = [item.nodeid for item in session.items if not _is_harness(item.nodeid)]
        data = {"ids": ids, "errors": self.errors}
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


class TimeoutRecorder:
    """Marks a test that pytest-timeout stopped, as a testcase property of the JUnit XML.

    Only pytest-timeout's own ``Failed`` outcome counts (candidate code cannot raise a
    pytest outcome in process isolation: its exceptions cross as data).
    """

    PROPERTY = C.LIMIT_PROPERTY

    def pytest_runtest_makereport(self, item, call):  # type: ignore[no-untyped-def]
        excinfo = call.excinfo
        if excinfo is None or call.when != "call":
            return
        from _pytest.outcomes import Failed

        if excinfo.type is Failed and "from pytest-timeout" in str(excinfo.value):
            item.user_properties.append((self.PROPERTY, C.PER_TEST_LIMIT))


class RunToken:
    """Puts the run token into the JUnit XML (after the junitxml plugin configured)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def pytest_configure(self, config):  # type: ignore[no-untyped-def]
        from _pytest.junitxml import xml_key

        xml = config.stash.get(xml_key, None)
        if xml is not None:
            xml.add_global_property(TOKEN_PROPERTY, self.token)


def _read_token(fd: int) -> str:
    chunks = []
    try:
        while chunk := os.read(fd, 4096):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode("ascii", errors="replace").strip()


def main(argv: list[str]) -> int:
    sep = argv.index("--")
    own, pytest_args = argv[:sep], argv[sep + 1 :]
    plugins: list[object] = [SectionTrimmer(), TimeoutRecorder()]
    submission_paths: list[str] = []
    token: str | None = None
    perf_reference = ""
    for arg in own:
        if arg.startswith("--path="):
            submission_paths.append(arg.split("=", 1)[1])
        elif arg.startswith("--token-fd="):
            token = _read_token(int(arg.split("=", 1)[1]))
            plugins.append(RunToken(token))
        elif arg.startswith("--collected="):
            plugins.append(CollectRecorder(arg.split("=", 1)[1]))
        elif arg.startswith("--perf-reference="):
            perf_reference = arg.split("=", 1)[1]
    import _pytest.runner
    import pytest

    if perf_reference and token:
        import grader_perf

        grader_perf.REFERENCE.update(address=perf_reference, secret=C.reference_secret(token))
        plugins.append(grader_perf)

    # The challenge's own test folders, so tests can import helper modules shipped
    # beside them (pytest's importlib mode does not add them itself).
    tests_root = os.path.join(os.path.dirname(HARNESS), "tests")
    for sub in ("public", "hidden", ""):
        folder = os.path.join(tests_root, sub) if sub else tests_root
        if os.path.isdir(folder):
            sys.path.append(folder)
    # Last on sys.path: the standard library, pytest and the harness come first.
    sys.path.extend(submission_paths)
    if os.path.isfile(SENTINEL):
        pytest_args.append(SENTINEL)

    RunToken.pytest_configure = pytest.hookimpl(trylast=True)(  # type: ignore[method-assign]
        RunToken.pytest_configure
    )
    # Before pytest builds the report (which copies the item's properties).
    TimeoutRecorder.pytest_runtest_makereport = pytest.hookimpl(tryfirst=True)(  # type: ignore[method-assign]
        TimeoutRecorder.pytest_runtest_makereport
    )
    # Runs before the JUnit writer sees the report.
    SectionTrimmer.pytest_runtest_logreport = pytest.hookimpl(tryfirst=True)(  # type: ignore[method-assign]
        SectionTrimmer.pytest_runtest_logreport
    )

    # pytest exports the running test's id as PYTEST_CURRENT_TEST; the code under
    # test must get no hint of which (hidden) test is calling it.
    _pytest.runner._update_current_test_var = lambda item, when: None
    return int(pytest.main(pytest_args, plugins=plugins))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
