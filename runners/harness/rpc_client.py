"""Test side of process isolation: the pytest plugin that imports the submission remotely.

Load with ``-p rpc_client`` (this folder on sys.path) and
``--rpc-address HOST:PORT --rpc-modules mod1,mod2``. Standard library and pytest
only; never imports ``grader`` or ``runners``.

On configure a finder (rpc_finder.py) goes first on ``sys.meta_path``: ``import
mod1`` (and ``mod1.sub``) then gives a proxy module whose attributes are read from
the candidate process (rpc_server.py) over one connection (rpc_connection.py). What
comes back is data or a proxy for an object that stays in the candidate process
(rpc_proxies.py); what the test passes is data or, for anything else, a reference
to its own object, which the candidate's code may use only within the rules of
rpc_exports.py.

The plugin also turns the evidence of rpc_findings.py into test outcomes: a refused
attempt of the candidate's code fails the test in progress (even when that code
caught the refusal) and is recorded as a ``grader_tamper`` property; a failed test
that could not work under process isolation gets a ``grader_portability`` property
per cause (JSON ``{"cause", "fix"}``) and a section in its failure text.

When the candidate process dies (exit, kill, out of memory, stack overflow) or a
call is interrupted (per-call timeout, pytest-timeout), the current test fails with
``CandidateProcessDied`` and the next use reconnects: the supervisor then starts a
fresh worker. Proxies from the dead worker raise ``StaleReference``, except those
reached by attribute path from a module (``from mod import Cls``), which are looked
up again by that path.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any

import pytest
from rpc_connection import Connection
from rpc_errors import (
    CandidateError,
    CandidateInterrupt,
    CandidateProcessDied,
    CandidateProtocolError,
    CandidateRequestRefused,
    CandidateStopIteration,
    CandidateUnavailable,
    CannotTransfer,
    StaleReference,
)
from rpc_exports import HARNESS_MODULES
from rpc_finder import RemoteFinder, connect
from rpc_findings import (
    CAPTURE_FIXTURES,
    PORTABILITY_PROPERTY,
    TAMPER_PROPERTY,
    Findings,
    default_roots,
    install_detectors,
    portability_value,
)
from rpc_proxies import RemoteModule, RemoteObject

__all__ = [
    "CandidateError",
    "CandidateProcessDied",
    "CandidateUnavailable",
    "CandidateProtocolError",
    "CandidateRequestRefused",
    "StaleReference",
    "CannotTransfer",
    "CandidateStopIteration",
    "CandidateInterrupt",
    "RemoteObject",
    "RemoteModule",
    "Connection",
    "RemoteFinder",
    "connect",
]

_STATE: dict[str, Any] = {}
SENTINEL_FILE = "test_grader_sentinel.py"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rpc", "process isolation (the submission runs in another process)")
    group.addoption(
        "--rpc-address",
        default=None,
        help="HOST:PORT of the candidate process (rpc_server.py)",
    )
    group.addoption(
        "--rpc-modules",
        default="",
        help="comma-separated top-level module/package names of the submission",
    )
    group.addoption(
        "--rpc-connect-timeout",
        type=float,
        default=10.0,
        help="seconds to wait for the candidate process to accept (default 10)",
    )
    group.addoption(
        "--rpc-call-timeout",
        type=float,
        default=0.0,
        help="seconds one remote call may take before the worker is restarted (0: no limit)",
    )


def _parse_modules(text: str) -> tuple[str, ...]:
    names = []
    for raw in text.split(","):
        name = raw.strip()
        if not name or name == "-":
            continue
        if not name.isidentifier():
            raise pytest.UsageError(f"--rpc-modules: {name!r} is not a module name")
        if name in HARNESS_MODULES:
            continue  # never proxied: the tests always get the harness's own module
        if name in ("pytest", "_pytest", "pluggy"):
            raise pytest.UsageError(f"--rpc-modules: {name!r} would shadow the harness")
        loaded = sys.modules.get(name)
        if loaded is not None and not isinstance(loaded, RemoteModule):
            raise pytest.UsageError(
                f"--rpc-modules: {name!r} is already imported here (a standard module?)"
            )
        names.append(name)
    return tuple(names)


def _findings() -> Findings | None:
    findings = _STATE.get("findings")
    return findings if isinstance(findings, Findings) else None


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    address = config.getoption("rpc_address", None)
    if not address:
        return
    modules = _parse_modules(config.getoption("rpc_modules") or "")
    findings = Findings()
    findings.roots = default_roots(str(config.rootpath))
    try:
        conn = Connection(
            address,
            modules,
            config.getoption("rpc_connect_timeout"),
            config.getoption("rpc_call_timeout"),
            findings=findings,
        )
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    finder = RemoteFinder(conn, modules)
    finder.install()

    def is_candidate(obj: object) -> bool:
        if isinstance(obj, str):
            return obj in conn.modules
        return isinstance(obj, (RemoteObject, RemoteModule))

    _STATE["conn"], _STATE["finder"], _STATE["findings"] = conn, finder, findings
    _STATE["undo_detectors"] = install_detectors(findings, is_candidate)


def pytest_unconfigure(config: pytest.Config) -> None:
    undo = _STATE.pop("undo_detectors", None)
    if callable(undo):
        undo()
    finder = _STATE.pop("finder", None)
    conn = _STATE.pop("conn", None)
    _STATE.pop("findings", None)
    if isinstance(finder, RemoteFinder):
        finder.uninstall()
    if isinstance(conn, Connection):
        conn.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None]:
    findings = _findings()
    if findings is not None:
        findings.start(item)
    try:
        return (yield)
    finally:
        if findings is not None:
            findings.finish()


def pytest_runtest_setup(item: pytest.Item) -> None:
    conn = _STATE.get("conn")
    if isinstance(conn, Connection):
        conn.check_alive()


def _add_text(report: pytest.TestReport, title: str, text: str) -> None:
    """Put ``text`` into the report's failure text (what the JUnit XML carries) and
    into its sections (what the terminal shows)."""
    longrepr = report.longrepr
    addsection = getattr(longrepr, "addsection", None)
    if callable(addsection):
        addsection(title, text)
    elif longrepr is None or isinstance(longrepr, tuple):
        report.longrepr = text
    else:
        report.longrepr = f"{longrepr}\n\n{title}\n{text}"
    report.sections.append((title, text))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    findings = _findings()
    if findings is None or findings.item is not item:
        return report
    if item.nodeid.split("::", 1)[0].endswith(SENTINEL_FILE):
        # The host rejects a run whose sentinel did not xfail: evidence gathered
        # while it ran (session fixtures' teardown) goes to the run's properties.
        findings.pending.extend(findings.new_tamper())
        return report
    refused = findings.new_tamper()
    if refused:
        text = (
            "the candidate's code tried to reach the test process through a test-side object "
            "and was refused (this fails the test, even if that code caught the refusal):\n"
            + "\n".join(f"  - {what}" for what in refused)
        )
        if not report.failed:
            report.outcome = "failed"
            report.longrepr = None
            if hasattr(report, "wasxfail"):
                del report.wasxfail
        _add_text(report, "grader: refused", text)
    if report.failed:
        if report.when == "call":
            for fixture in CAPTURE_FIXTURES:
                if fixture in getattr(item, "fixturenames", ()):
                    findings.captured(fixture)
        notes = findings.unrecorded_notes()
        for cause, fix in notes:
            prop = (PORTABILITY_PROPERTY, portability_value(cause, fix))
            item.user_properties.append(prop)
            if prop not in report.user_properties:
                report.user_properties.append(prop)
        if notes:
            text = "\n".join(f"  - {cause}\n    fix: {fix}" for cause, fix in notes)
            _add_text(
                report,
                "grader: process isolation",
                "this test may not work when the candidate's code runs in another process:\n"
                + text,
            )
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Refusals outside of any test (at collection, after the last test) go into the
    XML as properties of the run."""
    findings = _findings()
    if findings is None or not findings.pending:
        return
    from _pytest.junitxml import xml_key

    xml = session.config.stash.get(xml_key, None)
    if xml is not None:
        for what in findings.pending:
            xml.add_global_property(TAMPER_PROPERTY, what)


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken repr must not hide the comparison
        text = f"<{type(value).__name__} with a failing repr: {type(exc).__name__}>"
    text = text if len(text) <= 80 else text[:77] + "..."
    if isinstance(value, RemoteObject):
        return f"<remote {value._grader_type}: {text}>"
    return text


def pytest_assertrepr_compare(
    config: pytest.Config, op: str, left: object, right: object
) -> list[str] | None:
    """Explain a failed ``==`` between a remote object and local data."""
    left_remote, right_remote = isinstance(left, RemoteObject), isinstance(right, RemoteObject)
    if op not in ("==", "!=") or left_remote == right_remote:
        return None
    remote = left if left_remote else right
    assert isinstance(remote, RemoteObject)
    return [
        f"{_short_repr(left)} {op} {_short_repr(right)}",
        f"the {'left' if left_remote else 'right'} side is a {remote._grader_type} object "
        "that lives in the candidate process: it is never equal to local data",
    ]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None]:
    try:
        return (yield)
    except BaseException as exc:
        tb = exc.__dict__.get("_grader_remote_tb") if hasattr(exc, "__dict__") else None
        if type(tb) is str:
            item.add_report_section("call", "candidate traceback", tb)
        raise
