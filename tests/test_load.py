"""The load generator (runners/harness/grader_load.py) against real local HTTP servers."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

HARNESS = Path(__file__).resolve().parent.parent / "runners" / "harness"
sys.path.insert(0, str(HARNESS))
import grader_load  # noqa: E402 - the harness folder, as the tests container has it

from grader import performance  # noqa: E402
from grader.junit import CaseResult  # noqa: E402
from runners.harness import grader_contract as C  # noqa: E402

pytestmark = pytest.mark.timeout(120)


class Service:
    """A small threaded HTTP service that counts what it served and how many at once."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.served = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                with service.lock:
                    service.served += 1
                    number = service.served
                    service.in_flight += 1
                    service.most_in_flight = max(service.most_in_flight, service.in_flight)
                try:
                    time.sleep(service.delay_s)
                    status = 500 if self.path.startswith("/err") else 200
                    if self.path.startswith("/some-err") and number % 4 == 0:
                        status = 503
                    body = b"ok"
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                finally:
                    with service.lock:
                        service.in_flight -= 1

            do_POST = do_GET  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def services() -> Iterator[list[Service]]:
    made: list[Service] = []
    yield made
    for s in made:
        s.close()


def start(services: list[Service], delay_s: float = 0.0) -> Service:
    s = Service(delay_s)
    services.append(s)
    return s


def test_exactly_the_requests_asked_for_at_the_concurrency_asked_for(
    services: list[Service],
) -> None:
    svc = start(services, delay_s=0.005)
    done = grader_load.run_load(svc.url, "GET", "/kv/k1", requests=200, concurrency=8)
    assert svc.served == 200 and svc.most_in_flight <= 8 and svc.most_in_flight >= 2
    fig = done.figures()
    assert fig["requests"] == 200 and fig["errors"] == 0 and fig["error_rate"] == 0.0
    assert fig["concurrency"] == 8 and done.statuses == {200: 200}
    assert 5 <= fig["p50_ms"] <= fig["p95_ms"] <= fig["p99_ms"] <= fig["max_ms"]
    # 200 requests of at least 5 ms, 8 at a time: about 125 s⁻¹ at most (sleep overshoots).
    assert 20 < fig["throughput_rps"] <= 8 / 0.005 * 1.05


def test_errors_are_transport_failures_and_answers_not_accepted(
    services: list[Service],
) -> None:
    svc = start(services)
    done = grader_load.run_load(svc.url, "GET", "/some-err", requests=100, concurrency=4)
    assert done.rejected == 25 and done.figures()["error_rate"] == 0.25
    lenient = grader_load.run_load(
        svc.url, "GET", "/err", requests=10, concurrency=2, accept=lambda s: True
    )
    assert lenient.errors == 0 and lenient.statuses == {500: 10}
    closed = Service()
    url = closed.url
    closed.close()
    nobody = grader_load.run_load(url, "GET", "/", requests=5, concurrency=2, timeout_s=1)
    fig = nobody.figures()
    assert nobody.transport_errors == 5 and fig["error_rate"] == 1.0 and fig["p50_ms"] is None


def test_the_budget_stops_new_requests(services: list[Service]) -> None:
    svc = start(services, delay_s=0.05)
    started = time.monotonic()
    done = grader_load.run_load(svc.url, "GET", "/", requests=10_000, concurrency=2, budget_s=0.5)
    assert done.stopped and time.monotonic() - started < 3
    assert 2 <= svc.served < 100


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"requests": 0, "concurrency": 1}, "requests"),
        ({"requests": 1, "concurrency": 1000}, "concurrency"),
    ],
)
def test_bounds_are_checked(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grader_load.run_load("http://127.0.0.1:1", "GET", "/", **kwargs)
    with pytest.raises(ValueError, match="URL"):
        grader_load.run_load("ftp://x", "GET", "/", requests=1, concurrency=1)


def test_rounds_alternate_and_the_host_reads_the_ratio(services: list[Service]) -> None:
    # (The services share this process's interpreter with the load: the delays must
    # dwarf the interpreter's own cost for the ratio to show.)
    slow, fast = start(services, delay_s=0.03), start(services, delay_s=0.002)
    memory = iter([40.0, 41.0, 42.0])
    record = grader_load.compare_load(
        slow.url, fast.url, "GET", "/kv/k1", requests=60, concurrency=3, rounds=3,
        candidate_memory=lambda: next(memory),
    )  # fmt: skip
    assert record["kind"] == "load" and len(record["rounds"]) == 3
    assert slow.served == fast.served == 180
    assert [r["c"]["peak_memory_mb"] for r in record["rounds"]] == [40.0, 41.0, 42.0]
    text = json.dumps(record)
    result = CaseResult("tests/perf/test_p.py::test_reads", "passed", 1.0, None, None,
                        ((C.PERF_PROPERTY, text),))  # fmt: skip
    case, _ = performance.build_case(result.id, result)
    assert case.kind == "load" and case.outcome == "measured" and case.target == "GET /kv/k1"
    assert case.ratio is not None and case.ratio > 1.5  # the candidate's is slower
    assert case.candidate_load is not None and case.candidate_load.peak_memory_mb is not None


class _Item:
    def __init__(self) -> None:
        self.user_properties: list[tuple[str, str]] = []


def test_the_fixture_records_once_and_fails_an_erring_service(services: list[Service]) -> None:
    good, bad = start(services), start(services)
    item = _Item()
    fixture = grader_load.LoadFixture(item, bad.url, good.url, rounds=2)
    with pytest.raises(AssertionError, match=r"2\d\.\d% of the requests with errors"):
        fixture("GET", "/some-err", requests=40, concurrency=2)
    ((name, value),) = item.user_properties
    assert name == C.PERF_PROPERTY and json.loads(value)["kind"] == "load"
    with pytest.raises(RuntimeError, match="one measurement per test"):
        fixture("GET", "/", requests=1, concurrency=1)
