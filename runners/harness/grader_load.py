"""Load for service challenges' performance cases: a bounded number of HTTP requests at
a set concurrency, candidate's service against the reference's.

Standard library only (it runs in the tests container); never imports ``grader`` or
``runners``. ``run_load`` sends exactly ``requests`` requests (fewer only if the
time budget runs out) from ``concurrency`` threads, each on its own keep-alive
connection, and times every request on this side. It gives throughput, latency
percentiles (nearest rank), the error rate (a transport failure or a status the
caller does not accept; 5xx by default) and, when the caller can read it, the
service's peak memory.

``compare_load`` alternates rounds between the candidate's service and the
reference's (C R, R C, C R ...) so the machine's load falls on both, and returns the
``grader_perf`` record the host reads (``grader/performance.py``: the ratio is the
reference's throughput over the candidate's, median over rounds). ``LoadFixture`` is
what a service fixture plugin exposes as ``load``: it records that property on the
test and fails the case when the candidate's service answers with too many errors.
"""

from __future__ import annotations

import http.client
import json
import math
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from grader_contract import PERF_PROPERTY

FORMAT = 1
MAX_REQUESTS = 100_000
MAX_CONCURRENCY = 256
MAX_ROUNDS = 15
MAX_BODY = 1024 * 1024
# A probe of the service's peak memory (MiB), or None when it cannot tell.
MemoryProbe = Callable[[], "float | None"]


def _accept_below_500(status: int) -> bool:
    return status < 500


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank ``p``-th percentile of already sorted values (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p * len(sorted_values) / 100))
    return sorted_values[rank - 1]


@dataclass
class LoadResult:
    """What one round of load saw."""

    requests: int
    concurrency: int
    duration_s: float
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    # Requests with no answer (refused, reset, timed out) and answers not accepted.
    transport_errors: int = 0
    rejected: int = 0
    stopped: bool = False
    peak_memory_mb: float | None = None

    @property
    def errors(self) -> int:
        return self.transport_errors + self.rejected

    def figures(self) -> dict[str, Any]:
        """The figures the report shows (``LoadFigures`` on the host)."""
        ordered = sorted(self.latencies_s)
        done = len(self.latencies_s) + self.transport_errors
        ms = {}
        for p in (50, 95, 99):
            value = percentile(ordered, p)
            ms[f"p{p}_ms"] = None if value is None else round(value * 1000, 3)
        answered = len(self.latencies_s)
        return {
            "requests": done,
            "concurrency": self.concurrency,
            "duration_s": round(self.duration_s, 4),
            "throughput_rps": round(answered / self.duration_s, 2) if self.duration_s else 0.0,
            **ms,
            "max_ms": round(ordered[-1] * 1000, 3) if ordered else None,
            "errors": self.errors,
            "error_rate": round(self.errors / done, 4) if done else 1.0,
            "peak_memory_mb": self.peak_memory_mb,
        }


def _target(base_url: str) -> tuple[str, str, int, str]:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"load: not an http(s) URL: {base_url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port, parts.path.rstrip("/")


def _checked(requests: int, concurrency: int, body: bytes | str | None) -> bytes | None:
    """The body to send, once the counts and the body's size are within bounds."""
    if not 1 <= requests <= MAX_REQUESTS:
        raise ValueError(f"load: requests must be 1 to {MAX_REQUESTS}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"load: concurrency must be 1 to {MAX_CONCURRENCY}")
    payload = body.encode() if isinstance(body, str) else body
    if payload is not None and len(payload) > MAX_BODY:
        raise ValueError(f"load: a body of at most {MAX_BODY} bytes")
    return payload


def run_load(
    base_url: str,
    method: str,
    path: str,
    *,
    requests: int,
    concurrency: int,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 10.0,
    budget_s: float = 60.0,
    accept: Callable[[int], bool] = _accept_below_500,
    memory: MemoryProbe | None = None,
) -> LoadResult:
    """Send ``requests`` requests from ``concurrency`` threads; time each one here."""
    payload = _checked(requests, concurrency, body)
    scheme, host, port, prefix = _target(base_url)
    sent_headers = dict(headers or {})
    target = prefix + (path if path.startswith("/") else "/" + path)
    lock = threading.Lock()
    left = [requests]
    result = LoadResult(requests=requests, concurrency=min(concurrency, requests), duration_s=0)
    deadline = time.monotonic() + budget_s

    def take() -> bool:
        with lock:
            if left[0] <= 0:
                return False
            if time.monotonic() >= deadline:
                result.stopped = True
                return False
            left[0] -= 1
            return True

    def connection() -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return kind(host, port, timeout=timeout_s)

    def worker() -> None:
        conn = connection()
        try:
            while take():
                started = time.perf_counter()
                try:
                    conn.request(method, target, body=payload, headers=sent_headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = connection()
                    with lock:
                        result.transport_errors += 1
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    result.latencies_s.append(elapsed)
                    result.statuses[status] = result.statuses.get(status, 0) + 1
                    if not accept(status):
                        result.rejected += 1
                if response.will_close:
                    conn.close()
                    conn = connection()
        finally:
            conn.close()

    threads = [
        threading.Thread(target=worker, name=f"load-{i}", daemon=True)
        for i in range(result.concurrency)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.duration_s = time.perf_counter() - started
    if memory is not None:
        result.peak_memory_mb = memory()
    return result


def compare_load(
    candidate_url: str,
    reference_url: str,
    method: str,
    path: str,
    *,
    requests: int,
    concurrency: int,
    rounds: int = 3,
    candidate_memory: MemoryProbe | None = None,
    reference_memory: MemoryProbe | None = None,
    budget_s: float = 60.0,
    **options: Any,
) -> dict[str, Any]:
    """Rounds of the same load on both services, alternating which goes first; the
    ``grader_perf`` record (``kind = "load"``)."""
    rounds = max(1, min(rounds, MAX_ROUNDS))
    record: dict[str, Any] = {
        "v": FORMAT,
        "kind": "load",
        "target": f"{method} {path}",
        "requests": requests,
        "concurrency": concurrency,
        "rounds": [],
    }
    deadline = time.monotonic() + budget_s
    sides = {
        "c": (candidate_url, candidate_memory),
        "r": (reference_url, reference_memory),
    }
    for i in range(rounds):
        if i and time.monotonic() >= deadline:
            record["stopped"] = {"why": "budget", "round": i}
            break
        pair: dict[str, Any] = {}
        for name in ("c", "r") if i % 2 == 0 else ("r", "c"):
            url, probe = sides[name]
            left = max(deadline - time.monotonic(), 1.0)
            done = run_load(
                url, method, path, requests=requests, concurrency=concurrency,
                budget_s=left, memory=probe, **options,
            )  # fmt: skip
            pair[name] = done.figures()
        record["rounds"].append(pair)
    return record


class LoadFixture:
    """The ``load`` fixture's value for a service plugin: call it once per test."""

    def __init__(
        self,
        item: Any,
        candidate_url: str,
        reference_url: str,
        *,
        candidate_memory: MemoryProbe | None = None,
        reference_memory: MemoryProbe | None = None,
        rounds: int = 3,
        budget_s: float = 60.0,
        max_error_rate: float = 0.01,
    ) -> None:
        self.item = item
        self.urls = (candidate_url, reference_url)
        self.memory = (candidate_memory, reference_memory)
        self.rounds = rounds
        self.budget_s = budget_s
        self.max_error_rate = max_error_rate
        self.used = False

    def __call__(
        self, method: str, path: str, *, requests: int, concurrency: int, **options: Any
    ) -> dict[str, Any]:
        if self.used:
            raise RuntimeError("load: one measurement per test (split it into tests)")
        self.used = True
        record: dict[str, Any] = {"v": FORMAT, "kind": "load", "target": f"{method} {path}"}
        try:
            record = compare_load(
                *self.urls, method, path, requests=requests, concurrency=concurrency,
                rounds=options.pop("rounds", self.rounds),
                candidate_memory=self.memory[0], reference_memory=self.memory[1],
                budget_s=options.pop("budget_s", self.budget_s), **options,
            )  # fmt: skip
        except BaseException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"[:500]
            raise
        finally:
            text = json.dumps(record, separators=(",", ":"), allow_nan=False)
            self.item.user_properties.append((PERF_PROPERTY, text))
        worst = max((r["c"]["error_rate"] for r in record["rounds"]), default=0.0)
        if worst > self.max_error_rate:
            raise AssertionError(
                f"the candidate's service answered {worst:.1%} of the requests with errors "
                f"(at most {self.max_error_rate:.1%} is allowed under load)"
            )
        return record
