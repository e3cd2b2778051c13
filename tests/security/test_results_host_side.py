"""Host-side safety: the worker reads results only through the Docker API, only as
regular files of bounded size, never following anything the sandbox made.

The real-Docker cases model a sandbox that got root in its container: after the run,
its /grader/out is rewritten (links to secrets, FIFOs, directories, hard links) before
the host reads it. The stream cases feed ``read_results`` archives no Docker engine
would produce in a test run (a 1 GiB sparse member, endless garbage).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import resource
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import (
    VAULT_SOLUTION,
    Graded,
    TrackingRunner,
    containers_left,
    grade_many,
    host_processes_of,
    make_vault_challenge,
    write_tree,
)

from grader.engine import expected_tests, grade
from grader.submission import open_submission
from runners.docker import ROLE_LABEL
from runners.sandbox_io import MAX_RESULT_BYTES, read_results

HOST_FILES = ("/etc/shadow", "/etc/passwd", "/etc/hostname")


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _m(
    name: str, kind: bytes = tarfile.REGTYPE, link: str = "", mode: int = 0o644
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, mode
    return info


FORGED = (
    b'<?xml version="1.0"?><testsuites><testsuite name="pytest" tests="1">'
    b'<testcase classname="tests.hidden.test_hidden" name="test_answer"/>'
    b"</testsuite></testsuites>"
)

# What a sandbox with root in its container leaves in /grader/out for the host to read.
TAMPERED_OUT: dict[str, bytes] = {
    "symlinks_to_host_secrets": _tar(
        [
            (_m("grader/out/results", tarfile.SYMTYPE, "/etc/shadow"), None),
            (_m("grader/out/result.json", tarfile.SYMTYPE, "/etc/passwd"), None),
            (_m("grader/out/collected.json", tarfile.SYMTYPE, "/proc/1/environ"), None),
        ]
    ),
    "fifos": _tar(
        [
            (_m("grader/out/results", tarfile.FIFOTYPE), None),
            (_m("grader/out/result.json", tarfile.FIFOTYPE), None),
        ]
    ),
    "directories": _tar(
        [
            (_m("grader/out/results", tarfile.DIRTYPE, mode=0o755), None),
            (_m("grader/out/results/results"), FORGED),
            (_m("grader/out/result.json", tarfile.DIRTYPE, mode=0o755), None),
        ]
    ),
    "hard_links_to_secrets": _tar(
        [
            (_m("grader/out/results", tarfile.LNKTYPE, "etc/shadow"), None),
            (_m("grader/out/result.json", tarfile.LNKTYPE, "etc/passwd"), None),
        ]
    ),
    "oversized_files": _tar(
        [
            (_m("grader/out/results"), FORGED + b" " * (MAX_RESULT_BYTES + 1)),
            (_m("grader/out/collected.json"), b"[" * (MAX_RESULT_BYTES + 1)),
        ]
    ),
}


class TamperingRunner(TrackingRunner):
    """The real runner, but the tests container's /grader/out is rewritten after the
    run, as a sandbox that got root could (Docker extracts as root)."""

    def __init__(self, payload: bytes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.payload = payload

    def _fetch_results(self, container: Any) -> tuple[dict[str, bytes], list[str]]:
        if container.labels.get(ROLE_LABEL) == "tests":
            assert container.put_archive("/", self.payload)
        return super()._fetch_results(container)


def _digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def _secret_lines() -> list[str]:
    lines = []
    for path in HOST_FILES:
        with contextlib.suppress(OSError):
            lines += [ln for ln in Path(path).read_text().splitlines() if len(ln) > 6]
    return lines


@dataclass
class Tampered:
    graded: Graded
    host_before: dict[str, str]
    host_after: dict[str, str]


@pytest.fixture(scope="module")
def tampered(tmp_path_factory: pytest.TempPathFactory, docker_runner: Any) -> dict[str, Tampered]:
    base = tmp_path_factory.mktemp("hostside")
    challenge = make_vault_challenge(base, "in-process")
    expected = expected_tests(challenge, docker_runner, cache_dir=base / "cache")

    def job(name: str) -> Tampered:
        runner = TamperingRunner(TAMPERED_OUT[name])
        label = f"test-sec-host-{name[:20]}"
        before = {p: _digest(p) for p in HOST_FILES}
        work = base / name
        sub = open_submission(write_tree(work / "upload", {"vault.py": VAULT_SOLUTION}), work)
        try:
            report, error = (
                grade(
                    challenge, sub, runner, expected=expected, cache_dir=base / "cache", label=label
                ),
                None,
            )
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test that reads it
            report, error = None, exc
        ids = list(runner.container_ids)
        graded = Graded(
            report, error, label, ids, containers_left(runner, label, ids), host_processes_of(ids)
        )
        return Tampered(graded, before, {p: _digest(p) for p in HOST_FILES})

    return grade_many({name: (lambda name=name: job(name)) for name in TAMPERED_OUT})


@pytest.mark.security
@pytest.mark.docker
@pytest.mark.parametrize("name", sorted(TAMPERED_OUT))
def test_tampered_result_folder_is_never_followed(name: str, tampered: dict[str, Tampered]) -> None:
    """The honest solution would score 100: with its result folder rewritten it is still
    graded, nothing of the links' targets reaches the report, the host is untouched."""
    run = tampered[name]
    report = run.graded.get()
    assert report.status == "graded"
    assert report.scores.correctness == 0
    assert {t.outcome for t in report.tests} == {"not_reported"}
    codes = {f.code for f in report.flags}
    assert "results-missing" in codes, report.flags
    text = report.to_json()
    assert not [ln for ln in _secret_lines() if ln in text], "a host file reached the report"
    assert "root:" not in text
    assert run.host_before == run.host_after
    assert run.graded.leftovers == [] and run.graded.processes == []


# --- streams no engine sends in a test run ---------------------------------------------------


def _header(name: str, size: int, kind: bytes = tarfile.REGTYPE) -> bytes:
    info = tarfile.TarInfo(name)
    info.size, info.type = size, kind
    return info.tobuf(format=tarfile.GNU_FORMAT)


def _huge_member_stream(name: str, size: int, sent: list[int]) -> Iterator[bytes]:
    yield _header("out", 0, tarfile.DIRTYPE)
    yield _header(name, size)
    zeros = b"\0" * (1 << 20)
    remaining = size
    while remaining > 0:
        chunk = zeros[: min(len(zeros), remaining)]
        remaining -= len(chunk)
        sent[0] += len(chunk)
        yield chunk


def _garbage(sent: list[int]) -> Iterator[bytes]:
    block = bytes(range(256)) * 4096
    while True:
        sent[0] += len(block)
        yield block


STREAMS = {
    "one_gib_junit_xml": lambda sent: _huge_member_stream("out/results", 1 << 30, sent),
    "one_gib_unknown_member": lambda sent: _huge_member_stream("out/zzz", 1 << 30, sent),
    "endless_garbage": _garbage,
}


@pytest.mark.security
@pytest.mark.parametrize("name", sorted(STREAMS))
def test_result_stream_is_read_to_a_bound(name: str) -> None:
    """A result archive of any size is read only up to the bound, in bounded time and
    memory, and comes back as a problem of the run, never an exception."""
    sent = [0]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.monotonic()
    out, problems = read_results(STREAMS[name](sent), limit=4 * MAX_RESULT_BYTES)
    elapsed = time.monotonic() - t0
    assert "results" not in out
    assert problems, "the run must say its results could not be read"
    assert sent[0] <= 4 * MAX_RESULT_BYTES + (2 << 20), f"read {sent[0] >> 20} MiB"
    assert elapsed < 10
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mib < 200


@pytest.mark.security
def test_nested_result_names_are_ignored() -> None:
    data = _tar(
        [
            (_m("out", tarfile.DIRTYPE, mode=0o755), None),
            (_m("out/sub", tarfile.DIRTYPE, mode=0o755), None),
            (_m("out/sub/results"), FORGED),
            (_m("results"), FORGED),
            (_m("out/result.json"), b"{}"),
        ]
    )
    out, problems = read_results([data])
    assert out == {"result.json": b"{}"} and problems == []


FILL_RESULTS = (
    VAULT_SOLUTION
    + r"""

import os as _os
import signal as _signal

_signal.signal(_signal.SIGXFSZ, _signal.SIG_IGN)
for _name in ("collected.json", "results", "result.json"):
    try:
        with open("/grader/out/" + _name, "wb") as _fh:
            for _ in range(64):
                _fh.write(b"x" * (1 << 20))
        if _name != "collected.json":
            _os.chmod("/grader/out/" + _name, 0)
    except OSError:
        pass
_os._exit(0)
"""
)


@pytest.mark.security
@pytest.mark.docker
def test_sandbox_filling_its_result_files_is_still_graded(
    tmp_path: Path, docker_runner: Any
) -> None:
    """Result files filled to the size limit and locked are not an infrastructure error
    (which would be retried without end) but a graded run."""
    challenge = make_vault_challenge(tmp_path, "in-process")
    runner = TrackingRunner()
    sub = open_submission(write_tree(tmp_path / "upload", {"vault.py": FILL_RESULTS}), tmp_path)
    report = grade(challenge, sub, runner, cache_dir=tmp_path / "cache", label="test-sec-fill")
    assert report.status == "graded"
    assert report.scores.correctness == 0
    assert "results-missing" in {f.code for f in report.flags}
    assert report.run is not None and report.run.exit_code == 0
    assert containers_left(runner, "test-sec-fill", runner.container_ids) == []


# --- the JUnit XML must come from the harness's pytest ---------------------------------------

TOKEN = "0123456789abcdef0123456789abcdef"


def _suite(cases: str, token: str | None = TOKEN, sentinel: str = "<skipped/>") -> str:
    props = (
        f'<properties><property name="grader_run" value="{token}" /></properties>' if token else ""
    )
    sentinel_case = (
        f'<testcase classname="harness.test_grader_sentinel" '
        f'name="test_grader_sentinel">{sentinel}</testcase>'
    )
    return f'<testsuite name="pytest" tests="2">{props}{cases}{sentinel_case}</testsuite>'


PASS = '<testcase classname="tests.hidden.test_hidden" name="test_answer" />'
FAIL = (
    '<testcase classname="tests.hidden.test_hidden" name="test_answer">'
    '<failure message="no" /></testcase>'
)
GENUINE = f'<?xml version="1.0" encoding="utf-8"?><testsuites>{_suite(FAIL)}</testsuites>'

FORGERIES = {
    "no_token": f"<testsuites>{_suite(PASS, token=None)}</testsuites>",
    "wrong_token": f"<testsuites>{_suite(PASS, token='f' * 32)}</testsuites>",
    "second_suite_without_token": f"<testsuites>{_suite(FAIL)}{_suite(PASS, None)}</testsuites>",
    "sentinel_passed": f"<testsuites>{_suite(PASS, sentinel='')}</testsuites>",
    "genuine_xml_smuggled_in_cdata": (
        f"<testsuites>{_suite(PASS, token=None)}<x><![CDATA[{GENUINE}]]></x></testsuites>"
    ),
    "forgery_written_before_the_real_one": f"<testsuites>{_suite(PASS, None)}</testsuites>"
    + GENUINE,
    "entity_expansion": (
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]>'
        f"<testsuites>{_suite(PASS)}</testsuites>"
    ),
    "not_xml": "4 passed",
}


@pytest.mark.security
@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_junit_xml_not_from_the_harness_is_dropped(name: str) -> None:
    from grader.languages.python import verify

    xml, why = verify(FORGERIES[name].encode(), TOKEN)
    assert xml is None and why


@pytest.mark.security
def test_genuine_junit_xml_is_kept_without_the_harness_parts() -> None:
    from grader.languages.python import verify

    xml, why = verify(GENUINE.encode(), TOKEN)
    assert why is None and xml is not None
    assert TOKEN.encode() not in xml and b"sentinel" not in xml
    assert b'name="test_answer"' in xml and b"<failure" in xml
