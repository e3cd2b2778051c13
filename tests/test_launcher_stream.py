"""Reading a pooled launcher's done line and out/ folder from Docker's multiplexed
attach stream (``runners.docker._await_done``), on a socket pair: no engine needed."""

from __future__ import annotations

import io
import socket
import tarfile
import threading
import time
from collections.abc import Iterator

import pytest

from runners.docker import _await_done
from runners.harness import grader_contract as C
from runners.sandbox_io import MAX_RESULT_ARCHIVE_BYTES, read_results


def frame(data: bytes, stream: int = 1) -> bytes:
    return bytes([stream, 0, 0, 0]) + len(data).to_bytes(4, "big") + data


def out_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"out/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_the_out_folder_after_the_done_line_whatever_the_framing(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    """The payload arrives split across frames, cut anywhere, mixed with stderr frames
    and preceded by other output: the tar after the done line is returned whole."""
    host, sandbox = pair
    tar = out_tar({"result.json": b'{"exit_code": 0}', "results": b"<xml/>" * 5000})
    stdout = b"noise before\n" + C.DONE_LINE + len(tar).to_bytes(8, "big") + tar
    frames = frame(b"stderr: grader-launcher: results written\n", stream=2)
    for i in range(0, len(stdout), 777):
        frames += frame(stdout[i : i + 777]) + frame(b"x", stream=2)

    def send() -> None:
        for i in range(0, len(frames), 1000):
            sandbox.sendall(frames[i : i + 1000])
            time.sleep(0.001)

    sender = threading.Thread(target=send)
    sender.start()
    got = _await_done(host, time.monotonic() + 10)
    sender.join()
    assert got == tar
    files, problems = read_results([got])
    assert problems == []
    assert files == {"result.json": b'{"exit_code": 0}', "results": b"<xml/>" * 5000}


def test_the_done_line_on_stderr_only_is_not_the_done_line(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    host, sandbox = pair
    sandbox.sendall(frame(C.DONE_LINE + (0).to_bytes(8, "big"), stream=2))
    sandbox.shutdown(socket.SHUT_WR)
    assert _await_done(host, time.monotonic() + 5) is None


def test_an_ended_stream_or_the_deadline_gives_none(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    host, sandbox = pair
    sandbox.sendall(frame(C.DONE_LINE + (100).to_bytes(8, "big") + b"only part"))
    t = time.monotonic()
    assert _await_done(host, time.monotonic() + 0.3) is None
    assert 0.25 < time.monotonic() - t < 5
    sandbox.shutdown(socket.SHUT_WR)
    assert _await_done(host, time.monotonic() + 5) is None


def test_a_length_over_the_bound_is_refused_unread(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    host, sandbox = pair
    size = MAX_RESULT_ARCHIVE_BYTES + 1
    sandbox.sendall(frame(C.DONE_LINE + size.to_bytes(8, "big")))
    assert _await_done(host, time.monotonic() + 5) is None
