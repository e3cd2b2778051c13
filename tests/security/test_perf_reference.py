"""The reference solution of a performance run is out of the candidate's reach.

A performance run puts the reference solution behind an RPC server on the loopback
the candidate's code shares. A submission that could call it would pass every test
and run at the reference's speed. The attack here tries, from the candidate's code:
to delegate its work to the reference (speaking the protocol without the secret,
and with a made-up proof), to take the reference's port first, and to flood the
reference's server with idle connections so the tests side cannot get in. The
correctness run has no reference at all: the same attempt finds nothing listening.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import write_tree

from grader.challenge import load_challenge
from grader.engine import grade
from grader.submission import open_submission
from runners.docker import DockerRunner
from runners.harness import grader_contract as C

pytestmark = [pytest.mark.security, pytest.mark.docker, pytest.mark.slow]

TOML = """\
title = "Delegate"
language = "python"
isolation = "process"
[limits]
wall_seconds = 40
test_seconds = 10
[scoring]
correctness = 60
style = 15
complexity = 10
docs = 5
performance = 10
[performance]
case_seconds = 15
repetitions = 3
wall_seconds = 120
"""

# What both the reference and the attack do to look for the reference's server; the
# tests compare what it saw.
PROBE = f'''
import json
import socket
import struct

PORT = {C.REFERENCE_PORT}


def _frame(sock, message):
    data = json.dumps(message).encode()
    sock.sendall(struct.pack(">I", len(data)) + data)


def _read(sock):
    try:
        sock.settimeout(2)
        data = sock.recv(65536)
    except OSError as exc:
        return f"error {{type(exc).__name__}}"
    if not data:
        return "closed"
    return "challenge" if b"challenge" in data else f"got {{data[:80]!r}}"


def probe():
    """Try to use the reference's server; say what happened at each step."""
    seen = []
    for attempt in ("hello", "forged proof"):
        try:
            sock = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        except OSError as exc:
            return f"connect: {{type(exc).__name__}}"
        with sock:
            seen.append(f"{{attempt}}: {{_read(sock)}}")
            if attempt == "hello":
                _frame(sock, {{"i": 1, "o": "hello", "a": []}})
                _frame(sock, {{"i": 2, "o": "import", "a": ["work"]}})
            else:
                _frame(sock, {{"auth": "response", "n": "ab" * 16, "p": "0" * 64}})
            seen.append(f"{{attempt}} then: {{_read(sock)}}")
    try:
        squat = socket.create_server(("127.0.0.1", PORT))
        squat.close()
        seen.append("bind: took the port")
    except OSError as exc:
        seen.append(f"bind: {{type(exc).__name__}}")
    return "; ".join(seen)
'''

REFERENCE = (
    PROBE
    + '''

def solve(n):
    """The sum of 0..n-1."""
    return n * (n - 1) // 2
'''
)

ATTACK = (
    PROBE
    + '''
import threading

# A flood of idle connections, held from import on, to keep the tests side out.
FLOOD = []
for _ in range(48):
    try:
        FLOOD.append(socket.create_connection(("127.0.0.1", PORT), timeout=1))
    except OSError:
        break


def _delegate(n):
    """Ask the reference for the answer, as an honest client would (without the
    secret it cannot prove anything)."""
    try:
        sock = socket.create_connection(("127.0.0.1", PORT), timeout=1)
    except OSError:
        return None
    with sock:
        _read(sock)
        _frame(sock, {"i": 1, "o": "hello", "a": []})
        reply = _read(sock)
    return None if not reply.startswith("got") else reply


def solve(n):
    """The sum of 0..n-1, slowly, unless the reference can be made to answer."""
    fast = _delegate(n)
    if fast is not None:
        return fast
    total = 0
    for i in range(n):
        total += i
    return total
'''
)

TESTS = """
from work import probe, solve


def test_solve():
    assert solve(10) == 45


def test_no_reference_during_the_correctness_run():
    assert probe() == "connect: ConnectionRefusedError"
"""

PERF = """
from work import probe, solve


def test_scales(bench):
    bench(solve, make_args=lambda n: (n,), sizes=[2_000, 4_000, 8_000])


def test_what_the_candidates_code_saw():
    assert probe() == "(shown in the failure)"
"""


@pytest.fixture
def delegate(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = write_tree(
        tmp_path / "delegate",
        {
            "challenge.toml": TOML,
            "solution/work.py": REFERENCE,
            "starter/work.py": "X = 0\n",
            "tests/hidden/test_h.py": TESTS,
            "tests/perf/test_p.py": PERF,
        },
    )
    return load_challenge(root)


def test_the_candidates_code_cannot_call_into_the_reference(
    delegate, docker_runner: DockerRunner, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    attack = write_tree(tmp_path / "attack", {"work.py": ATTACK})
    (tmp_path / "unpacked").mkdir()
    sub = open_submission(attack, tmp_path / "unpacked")
    report = grade(delegate, sub, docker_runner, cache_dir=tmp_path / "cache")
    # The correctness run: nothing listens on the reference's port.
    outcomes = {t.id.rsplit("::", 1)[1]: t for t in report.tests}
    assert outcomes["test_no_reference_during_the_correctness_run"].outcome == "passed"
    assert report.scores.correctness == 100
    perf = report.performance
    assert perf is not None
    cases = {c.id.rsplit("::", 1)[1]: c for c in perf.cases}
    # The performance run: a challenge, then the door closes, with or without a
    # made-up proof; the port is the reference's.
    saw = cases["test_what_the_candidates_code_saw"].message or ""
    assert "hello: challenge" in saw and "hello then: closed" in saw, saw
    assert "forged proof: challenge" in saw and "forged proof then: closed" in saw, saw
    assert "bind: OSError" in saw, saw
    assert "got " not in saw, saw
    # Nothing was delegated: the slow loop against a formula scores 0, and the tests
    # side reached the reference despite the flood.
    scales = cases["test_scales"]
    assert scales.outcome == "measured", scales.message
    assert scales.ratio is not None and scales.ratio >= perf.zero_at_ratio
    assert scales.score == 0.0
    assert "perf-reference-unavailable" not in {f.code for f in report.flags}
