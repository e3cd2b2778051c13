"""Hidden tests: aggregation, the time window, ranking and a large log."""

import time

import pytest

from logagg import aggregate

BASE = 1709647200  # 2024-03-05T14:00:00Z


def stamp(seconds):
    """The log timestamp ``seconds`` after BASE."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(BASE + seconds))


def line(seconds, method="GET", path="/x", status=200, latency="1"):
    return f"{stamp(seconds)} {method} {path} {status} {latency}"


EMPTY_REPORT = {
    "requests": 0,
    "malformed": 0,
    "malformed_lines": [],
    "status": {},
    "status_classes": {"1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0},
    "top_paths": [],
    "latency": {},
}


class TestWindow:
    def test_start_is_inclusive_and_end_exclusive(self):
        log = [line(s, path=f"/t{s}") for s in range(10)]
        report = aggregate(log, start=BASE + 3, end=BASE + 6)
        assert report["requests"] == 3
        assert sorted(p["path"] for p in report["top_paths"]) == ["/t3", "/t4", "/t5"]
        assert aggregate(log, start=BASE + 2.5, end=BASE + 3.5)["requests"] == 1

    def test_timestamp_strings_and_open_sides(self):
        log = [line(s) for s in range(10)]
        assert aggregate(log, start=stamp(7))["requests"] == 3
        assert aggregate(log, end=stamp(7))["requests"] == 7
        assert aggregate(log, start=None, end=None)["requests"] == 10
        assert aggregate(log, start=stamp(4), end=BASE + 6)["requests"] == 2

    def test_empty_log_and_empty_window_give_a_zeroed_report(self):
        assert aggregate([]) == EMPTY_REPORT
        assert aggregate("") == EMPTY_REPORT
        log = [line(s) for s in range(5)]
        assert aggregate(log, start=BASE + 2, end=BASE + 2) == EMPTY_REPORT
        assert aggregate(log, start=BASE + 100) == EMPTY_REPORT

    def test_malformed_lines_count_whatever_the_window(self):
        log = [
            "# header",
            line(0),
            "",
            "garbage",
            line(100),
            f"{stamp(100)} GET /x 200",
            "   ",
            f"{stamp(200)} BREW /coffee 418 1",
        ]
        report = aggregate(log, start=BASE + 50, end=BASE + 150)
        assert report["requests"] == 1
        assert report["malformed"] == 3
        assert report["malformed_lines"] == [4, 6, 8]

    def test_window_argument_errors(self):
        log = [line(0)]
        with pytest.raises(ValueError):
            aggregate(log, start=BASE + 10, end=BASE + 5)
        with pytest.raises(ValueError):
            aggregate(log, start=stamp(10), end=stamp(5))
        with pytest.raises(ValueError, match="start"):
            aggregate(log, start="yesterday")
        with pytest.raises(ValueError, match="end"):
            aggregate(log, end="2024-13-01T00:00:00Z")
        with pytest.raises(TypeError):
            aggregate(log, start=True)
        with pytest.raises(TypeError):
            aggregate(log, end=[BASE])


class TestRanking:
    def test_top_paths_ties_are_broken_by_path(self):
        log = [line(0, path=p) for p in ["/b", "/a", "/c", "/b", "/a", "/C", "/d"]]
        assert aggregate(log, top=4)["top_paths"] == [
            {"path": "/a", "count": 2},
            {"path": "/b", "count": 2},
            {"path": "/C", "count": 1},
            {"path": "/c", "count": 1},
        ]

    def test_top_paths_merge_methods_and_query_strings(self):
        log = [
            line(0, method="GET", path="/items?page=1"),
            line(1, method="POST", path="/items"),
            line(2, method="GET", path="/items?page=2"),
            line(3, method="GET", path="/users"),
            line(4, method="GET", path="/users"),
        ]
        assert aggregate(log)["top_paths"] == [
            {"path": "/items", "count": 3},
            {"path": "/users", "count": 2},
        ]

    def test_top_larger_than_the_number_of_paths(self):
        log = [line(0, path="/only"), line(1, path="/only")]
        assert aggregate(log, top=50)["top_paths"] == [{"path": "/only", "count": 2}]
        assert aggregate(log, top=1)["top_paths"] == [{"path": "/only", "count": 2}]

    def test_top_argument_errors(self):
        with pytest.raises(ValueError):
            aggregate([line(0)], top=0)
        with pytest.raises(ValueError):
            aggregate([line(0)], top=-3)
        with pytest.raises(TypeError):
            aggregate([line(0)], top="3")
        with pytest.raises(TypeError):
            aggregate([line(0)], top=2.0)
        with pytest.raises(TypeError):
            aggregate([line(0)], top=True)

    def test_top_defaults_to_three(self):
        log = [line(0, path=f"/p{i}") for i in range(5) for _ in range(5 - i)]
        assert aggregate(log)["top_paths"] == [
            {"path": "/p0", "count": 5},
            {"path": "/p1", "count": 4},
            {"path": "/p2", "count": 3},
        ]


def test_latency_is_grouped_by_method_and_path():
    log = [
        line(0, "GET", "/items", latency="10"),
        line(1, "POST", "/items", latency="100"),
        line(2, "GET", "/items?x=1", latency="30"),
        line(3, "GET", "/items/1", latency="5.25"),
    ]
    assert aggregate(log)["latency"] == {
        "GET /items": {"count": 2, "p50": 10.0, "p95": 30.0, "p99": 30.0, "max": 30.0},
        "POST /items": {"count": 1, "p50": 100.0, "p95": 100.0, "p99": 100.0, "max": 100.0},
        "GET /items/1": {"count": 1, "p50": 5.25, "p95": 5.25, "p99": 5.25, "max": 5.25},
    }


def test_p99_catches_rare_slow_requests():
    log = [line(i, latency="10") for i in range(98)]
    log += [line(98, latency="1000"), line(99, latency="2500.5")]
    stats = aggregate(log)["latency"]["GET /x"]
    assert stats == {"count": 100, "p50": 10.0, "p95": 10.0, "p99": 1000.0, "max": 2500.5}


def test_full_report_from_crlf_text():
    text = "\r\n".join(
        [
            "# gateway-7 access log",
            line(0, "GET", "/", 301, "0.5"),
            line(1, "GET", "/login", 200, "12"),
            line(2, "POST", "/login", 401, "80"),
            line(3, "POST", "/login", 302, "95.5"),
            line(4, "GET", "/dashboard?tab=2", 200, "140"),
            line(5, "GET", "/dashboard", 500, "3001"),
            "2024-03-05T14:00:06Z GET /dashboard 200",
            line(7, "HEAD", "/", 101, "0"),
        ]
    ) + "\r\n"
    assert aggregate(text, top=2) == {
        "requests": 7,
        "malformed": 1,
        "malformed_lines": [8],
        "status": {"101": 1, "200": 2, "301": 1, "302": 1, "401": 1, "500": 1},
        "status_classes": {"1xx": 1, "2xx": 2, "3xx": 2, "4xx": 1, "5xx": 1},
        "top_paths": [{"path": "/login", "count": 3}, {"path": "/", "count": 2}],
        "latency": {
            "GET /": {"count": 1, "p50": 0.5, "p95": 0.5, "p99": 0.5, "max": 0.5},
            "HEAD /": {"count": 1, "p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0},
            "GET /login": {"count": 1, "p50": 12.0, "p95": 12.0, "p99": 12.0, "max": 12.0},
            "POST /login": {"count": 2, "p50": 80.0, "p95": 95.5, "p99": 95.5, "max": 95.5},
            "GET /dashboard": {
                "count": 2,
                "p50": 140.0,
                "p95": 3001.0,
                "p99": 3001.0,
                "max": 3001.0,
            },
        },
    }


def test_large_log():
    log = []
    for i in range(10_000):
        status = 404 if i % 4 == 0 else 200
        log.append(line(i, path=f"/bulk?i={i}", status=status, latency=f"{i % 100 + 1}"))
        if i % 1000 == 999:
            log.append("corrupted line")
    expected_latency = {"count": 10_000, "p50": 50.0, "p95": 95.0, "p99": 99.0, "max": 100.0}

    report = aggregate(log, top=5)
    assert report["requests"] == 10_000
    assert report["malformed_lines"] == [1001 * k for k in range(1, 11)]
    assert report["status"] == {"200": 7_500, "404": 2_500}
    assert report["top_paths"] == [{"path": "/bulk", "count": 10_000}]
    assert report["latency"] == {"GET /bulk": expected_latency}

    window = aggregate(log, start=BASE + 2_500, end=BASE + 7_500)
    assert window["requests"] == 5_000
    assert window["malformed"] == 10
    assert window["latency"]["GET /bulk"] == {**expected_latency, "count": 5_000}
