"""The service launcher's control answers (runners/harness/launcher_service.py) and the
tests side's check of a performance run's reference (grader_service._prove), over a
real local socket."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "runners" / "harness"
sys.path.insert(0, str(HARNESS))
import grader_contract  # noqa: E402 - the harness folder, as the containers have it
import grader_service  # noqa: E402
import launcher_service  # noqa: E402

pytestmark = pytest.mark.timeout(60)
NO_SERVICE = cast(Any, None)  # (prove and a refusal never touch the service)


def answer(token: str, request: dict[str, Any]) -> dict[str, Any]:
    return launcher_service._answer(NO_SERVICE, token, json.dumps(request).encode())


def test_prove_answers_the_hmac_of_the_nonce_without_being_given_the_token() -> None:
    reply = answer("s3cret", {"op": "prove", "nonce": "abc123"})
    assert reply["ok"] and reply["proof"] == grader_contract.control_proof("s3cret", "abc123")
    assert "s3cret" not in json.dumps(reply)
    assert answer("other", {"op": "prove", "nonce": "abc123"})["proof"] != reply["proof"]


def test_other_ops_still_need_the_token_and_a_bad_nonce_proves_nothing() -> None:
    assert answer("s3cret", {"op": "status"}) == {"ok": False, "error": "refused"}
    assert answer("s3cret", {"op": "status", "token": "guess"})["error"] == "refused"
    long = "x" * (grader_contract.MAX_NONCE + 1)
    assert answer("s3cret", {"op": "prove", "nonce": long})["error"] == "refused"
    assert answer("s3cret", {"op": "prove", "nonce": 7})["error"] == "refused"


@pytest.fixture
def control() -> Iterator[Callable[[Callable[[bytes], bytes]], int]]:
    """Start a one-line-in, one-line-out server answering with ``reply(line)``; its port."""
    servers: list[socket.socket] = []

    def start(reply: Callable[[bytes], bytes]) -> int:
        srv = socket.create_server(("127.0.0.1", 0))
        servers.append(srv)

        def loop() -> None:
            while True:
                try:
                    conn, _ = srv.accept()
                except OSError:
                    return
                with conn:
                    line = conn.makefile("rb").readline()
                    conn.sendall(reply(line) + b"\n")

        threading.Thread(target=loop, daemon=True).start()
        return int(srv.getsockname()[1])

    yield start
    for srv in servers:
        srv.close()


def test_the_tests_side_accepts_only_a_launcher_that_holds_the_reference_token(
    control: Callable[[Callable[[bytes], bytes]], int],
) -> None:
    def launcher(token: str) -> Callable[[bytes], bytes]:
        return lambda line: json.dumps(launcher_service._answer(NO_SERVICE, token, line)).encode()

    side = {"host": "127.0.0.1", "token": "ref-token", "role": "reference"}
    port = control(launcher("ref-token"))
    assert grader_service._prove({**side, "control": f"127.0.0.1:{port}"}) is None
    # The candidate's launcher (its own token) and a server that echoes a made-up proof
    # cannot pass for the reference.
    for impostor in (
        launcher("candidate-token"),
        lambda _: json.dumps({"ok": True, "proof": "0" * 64}).encode(),
    ):
        port = control(impostor)
        why = grader_service._prove({**side, "control": f"127.0.0.1:{port}"})
        assert why is not None and "did not prove it is the reference's" in why
