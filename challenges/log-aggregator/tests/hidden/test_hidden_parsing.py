"""Hidden tests: the line format, malformed lines and percentiles."""

import pytest

from logagg import MalformedLineError, parse_line, percentile

STAMP = "2024-03-05T14:07:33Z"


def test_parse_line_converts_timestamps_to_utc_epoch_seconds():
    assert parse_line("1970-01-01T00:00:00Z GET / 200 0")["time"] == 0
    assert parse_line("2000-02-29T23:59:59Z GET / 200 0")["time"] == 951868799
    assert parse_line("2038-01-19T03:14:08Z GET / 200 0")["time"] == 2**31


def test_parse_line_drops_the_query_string_only():
    assert parse_line(f"{STAMP} GET /?x=1 200 1")["path"] == "/"
    assert parse_line(f"{STAMP} GET /a/b?c=1?d=2 200 1")["path"] == "/a/b"
    assert parse_line(f"{STAMP} GET /a%20b/c.json 200 1")["path"] == "/a%20b/c.json"


def test_parse_line_accepts_tabs_and_surrounding_whitespace():
    line = f"  {STAMP}\tDELETE\t/api/items/7   204 \t 1.25 \r\n"
    assert parse_line(line) == {
        "time": 1709647653,
        "method": "DELETE",
        "path": "/api/items/7",
        "status": 204,
        "latency_ms": 1.25,
    }
    assert parse_line("\t  # indented comment GET /x 200 1") is None


def test_parse_line_accepts_every_method_and_latency_form():
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]:
        assert parse_line(f"{STAMP} {method} /x 100 1")["method"] == method
    for text, value in [("0", 0.0), ("12.50", 12.5), ("007", 7.0), ("599.999", 599.999)]:
        assert parse_line(f"{STAMP} GET /x 599 {text}")["latency_ms"] == value


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (f"{STAMP} GET /x 200", "expected 5 fields"),
        (f"{STAMP} GET /x 200 1 extra", "expected 5 fields"),
        ("2024-02-30T10:00:00Z GET /x 200 1", "timestamp"),
        (f"{STAMP} get api 999 fast", "method"),
        (f"{STAMP} GET api/x 200 1", "path"),
        (f"{STAMP} GET /x 600 1", "status"),
        (f"{STAMP} GET /x 200 1e3", "latency"),
    ],
)
def test_malformed_line_error_names_the_first_broken_rule(line, fragment):
    with pytest.raises(MalformedLineError, match=fragment):
        parse_line(line)


def test_invalid_timestamps_are_malformed():
    for stamp in [
        "2024-03-05T14:07:33",
        "2024-03-05T14:07:33+00:00",
        "2024-3-05T14:07:33Z",
        "2024-03-05 14:07:33Z",
        "2024-03-05T24:00:00Z",
        "2024-03-05T23:59:60Z",
        "2023-02-29T00:00:00Z",
        "yesterday",
    ]:
        with pytest.raises(ValueError, match="timestamp|expected 5 fields"):
            parse_line(f"{stamp} GET /x 200 1")


def test_invalid_status_and_latency_are_malformed():
    for status in ["099", "20x", "2000", "20", "OK"]:
        with pytest.raises(MalformedLineError, match="status"):
            parse_line(f"{STAMP} GET /x {status} 1")
    for latency in ["-1", "+1", ".5", "5.", "nan", "inf", "1,5", "12ms"]:
        with pytest.raises(MalformedLineError, match="latency"):
            parse_line(f"{STAMP} GET /x 200 {latency}")


class TestPercentile:
    def test_one_to_one_hundred(self):
        values = list(range(100, 0, -1))
        assert percentile(values, 50) == 50
        assert percentile(values, 95) == 95
        assert percentile(values, 99) == 99
        assert percentile(values, 100) == 100
        assert percentile(values, 0.5) == 1
        assert percentile([7.5], 1) == 7.5
        assert percentile([7.5], 100) == 7.5

    def test_rank_rounds_up(self):
        values = [5, 1, 4, 2, 3]
        assert percentile(values, 12.5) == 1
        assert percentile(values, 20) == 1
        assert percentile(values, 40) == 2
        assert percentile(values, 41) == 3
        assert percentile(values, 80.5) == 5

    def test_rejects_empty_values_and_bad_p(self):
        with pytest.raises(ValueError):
            percentile([], 50)
        for p in [0, -5, 100.5, True, "50"]:
            with pytest.raises(ValueError):
                percentile([1, 2, 3], p)
