"""A subprocess under rlimits and a deadline, with bounded output: how every analyser
of untrusted source runs (never in the calling API or worker process)."""

from __future__ import annotations

import contextlib
import math
import os
import resource
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

MAX_LINE = 16 << 20


@dataclass
class Proc:
    returncode: int | None
    timed_out: bool = False
    overflow: bool = False
    stderr: str = ""


def _limits(memory_mb: int, cpu_s: int) -> Callable[[], None]:
    """A preexec function setting the rlimits; the values are worked out before the fork.

    The soft CPU limit sends SIGXCPU, the hard one (a second later) SIGKILL. No limit is
    raised above a hard limit this process already has.
    """

    def within(which: int, soft: int, hard: int) -> tuple[int, tuple[int, int]]:
        ceiling = resource.getrlimit(which)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        return which, (soft, hard)

    memory = memory_mb << 20
    settings = [
        within(resource.RLIMIT_AS, memory, memory),
        within(resource.RLIMIT_CPU, cpu_s, cpu_s + 1),
        within(resource.RLIMIT_FSIZE, 0, 0),
        within(resource.RLIMIT_CORE, 0, 0),
    ]

    def preexec() -> None:
        for which, limits in settings:
            resource.setrlimit(which, limits)

    return preexec


class _Pipes:
    """The three pipes' state in ``run_limited``'s select loop: the input still to
    write, the stdout line being assembled, the tail of stderr."""

    def __init__(
        self, stdin: bytes, on_line: Callable[[bytes], None], max_output: int, result: Proc
    ) -> None:
        self.stdin = stdin
        self.pos = 0
        self.on_line = on_line
        self.max_output = max_output
        self.result = result
        self.err = bytearray()
        self.pending = bytearray()
        self.total = 0

    def write(self, sel: selectors.BaseSelector, stream: IO[bytes]) -> None:
        try:
            self.pos += os.write(stream.fileno(), self.stdin[self.pos : self.pos + 65536])
        except BrokenPipeError:
            self.pos = len(self.stdin)
        if self.pos >= len(self.stdin):
            sel.unregister(stream)
            stream.close()

    def read_stderr(self, sel: selectors.BaseSelector, stream: IO[bytes]) -> None:
        data = os.read(stream.fileno(), 65536)
        if not data:
            sel.unregister(stream)
        self.err += data
        del self.err[:-4096]

    def read_stdout(self, sel: selectors.BaseSelector, stream: IO[bytes]) -> bool:
        """Read and pass on whole lines; False once the output went past its bounds."""
        data = os.read(stream.fileno(), 65536)
        if not data:
            sel.unregister(stream)
            return True
        self.total += len(data)
        if self.total > self.max_output:
            self.result.overflow = True
            return False
        self.pending += data
        while (nl := self.pending.find(b"\n")) >= 0:
            line = bytes(self.pending[:nl])
            del self.pending[: nl + 1]
            self.on_line(line)
        if len(self.pending) > MAX_LINE:
            self.result.overflow = True
            return False
        return True

    def flush(self) -> None:
        if self.pending:
            self.on_line(bytes(self.pending))


def run_limited(
    argv: list[str],
    *,
    stdin: bytes,
    cwd: Path,
    env: dict[str, str],
    deadline: float,
    memory_mb: int,
    on_line: Callable[[bytes], None],
    max_output: int,
) -> Proc:
    """Run ``argv`` under rlimits until ``deadline``, feeding stdout to ``on_line``.

    Reads at most ``max_output`` bytes of stdout and keeps the last 4 KiB of stderr;
    the process's whole session is killed on timeout or overflow.
    """
    cpu_s = max(1, math.ceil(deadline - time.monotonic()) + 1)
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        close_fds=True,
        start_new_session=True,
        # Only setrlimit runs between fork and exec; the values are computed beforehand.
        preexec_fn=_limits(memory_mb, cpu_s),
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    result = Proc(returncode=None)
    pipes = _Pipes(stdin, on_line, max_output, result)
    sel = selectors.DefaultSelector()
    try:
        if stdin:
            os.set_blocking(proc.stdin.fileno(), False)
            sel.register(proc.stdin, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while sel.get_map() and not result.overflow:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.timed_out = True
                break
            for key, _events in sel.select(remaining):
                stream: IO[bytes] = key.fileobj  # type: ignore[assignment]
                if stream is proc.stdin:
                    pipes.write(sel, stream)
                elif stream is proc.stderr:
                    pipes.read_stderr(sel, stream)
                elif not pipes.read_stdout(sel, stream):
                    break
        if not result.timed_out and not result.overflow:
            pipes.flush()
            try:
                result.returncode = proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                result.timed_out = True
    finally:
        sel.close()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for s in (proc.stdin, proc.stdout, proc.stderr):
            s.close()
    if result.returncode is None and not (result.timed_out or result.overflow):
        result.returncode = proc.returncode
    result.stderr = pipes.err.decode("utf-8", errors="replace")
    return result


def base_env() -> dict[str, str]:
    return {"PATH": os.defpath, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
