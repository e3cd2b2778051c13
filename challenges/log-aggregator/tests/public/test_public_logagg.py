"""Public tests for the access-log aggregator (a sample of what is graded)."""

import pytest

from logagg import MalformedLineError, aggregate, parse_line, percentile

LOG = [
    "2024-03-05T14:00:00Z GET /api/users 200 10",
    "2024-03-05T14:00:01Z GET /api/users?page=2 200 30",
    "2024-03-05T14:00:02Z POST /api/users 201 50.5",
    "this line is garbage",
    "2024-03-05T14:00:03Z GET /health 503 1",
    "2024-03-05T14:00:04Z GET /api/users 404 20",
]


def test_parse_line_returns_the_fields():
    assert parse_line("2024-03-05T14:07:33Z GET /api/users/42?full=1 200 12.5") == {
        "time": 1709647653,
        "method": "GET",
        "path": "/api/users/42",
        "status": 200,
        "latency_ms": 12.5,
    }


def test_parse_line_skips_blank_and_comment_lines():
    assert parse_line("") is None
    assert parse_line("   ") is None
    assert parse_line("# timestamp method path status latency_ms") is None


def test_parse_line_rejects_an_unknown_method():
    with pytest.raises(MalformedLineError, match="method"):
        parse_line("2024-03-05T14:07:33Z FETCH /x 200 1")


def test_percentile_uses_nearest_rank():
    values = [40, 10, 30, 20]
    assert percentile(values, 50) == 20
    assert percentile(values, 95) == 40
    assert percentile(values, 25) == 10


def test_aggregate_counts_statuses_and_malformed_lines():
    report = aggregate(LOG)
    assert report["requests"] == 5
    assert report["malformed"] == 1
    assert report["malformed_lines"] == [4]
    assert report["status"] == {"200": 2, "201": 1, "404": 1, "503": 1}
    assert report["status_classes"] == {"1xx": 0, "2xx": 3, "3xx": 0, "4xx": 1, "5xx": 1}


def test_aggregate_top_paths_and_latency():
    report = aggregate(LOG, top=2)
    assert report["top_paths"] == [
        {"path": "/api/users", "count": 4},
        {"path": "/health", "count": 1},
    ]
    assert report["latency"]["GET /api/users"] == {
        "count": 3,
        "p50": 20.0,
        "p95": 30.0,
        "p99": 30.0,
        "max": 30.0,
    }


def test_aggregate_time_window():
    report = aggregate(LOG, start="2024-03-05T14:00:01Z", end="2024-03-05T14:00:03Z")
    assert report["requests"] == 2
    assert report["status"] == {"200": 1, "201": 1}
