"""JUnit XML → outcomes: id mapping, worst-outcome for duplicates, DTDs refused."""

from __future__ import annotations

import pytest

from grader.junit import parse_junit

FILES = ["tests/public/test_a.py", "tests/hidden/test_b.py"]


def xml(cases: str) -> bytes:
    return (
        f'<?xml version="1.0"?><testsuites><testsuite name="pytest">{cases}'
        "</testsuite></testsuites>"
    ).encode()


def test_ids_come_from_file_and_classname() -> None:
    cases, errors = parse_junit(
        xml(
            '<testcase classname="tests.public.test_a" name="test_x" '
            'file="tests/public/test_a.py" time="0.5"/>'
            '<testcase classname="tests.hidden.test_b.TestK" name="test_y[1.5-a]" time="0.1">'
            '<failure message="boom">trace</failure><system-out>printed</system-out></testcase>'
        ),
        FILES,
    )
    assert errors == {}
    assert cases["tests/public/test_a.py::test_x"].outcome == "passed"
    assert cases["tests/public/test_a.py::test_x"].duration_s == 0.5
    y = cases["tests/hidden/test_b.py::TestK::test_y[1.5-a]"]
    assert (y.outcome, y.message, y.output) == ("failed", "boom\ntrace", "printed")


@pytest.mark.parametrize(
    ("element", "outcome"),
    [
        ('<error message="e"/>', "error"),
        ('<skipped message="s"/>', "skipped"),
        ('<failure message="f"/>', "failed"),
        ("", "passed"),
    ],
)
def test_outcome_kinds(element: str, outcome: str) -> None:
    cases, _ = parse_junit(
        xml(f'<testcase classname="tests.public.test_a" name="t">{element}</testcase>'), FILES
    )
    assert cases["tests/public/test_a.py::t"].outcome == outcome


def test_duplicate_case_keeps_the_worst_outcome() -> None:
    body = (
        '<testcase classname="tests.public.test_a" name="t"><failure message="real"/></testcase>'
        '<testcase classname="tests.public.test_a" name="t"/>'
    )
    cases, _ = parse_junit(xml(body), FILES)
    assert cases["tests/public/test_a.py::t"].outcome == "failed"


def test_collection_error_is_reported_per_file() -> None:
    body = (
        '<testcase classname="" name="tests.hidden.test_b">'
        '<error message="collection failure">ImportError: no module</error></testcase>'
    )
    cases, errors = parse_junit(xml(body), FILES)
    assert cases == {}
    assert "ImportError" in errors["tests/hidden/test_b.py"]


def test_unknown_files_are_ignored() -> None:
    cases, _ = parse_junit(xml('<testcase classname="evil.test_z" name="t"/>'), FILES)
    assert cases == {}


def test_dtd_is_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><testsuites/>'
    with pytest.raises(ValueError, match="DTD"):
        parse_junit(bomb, FILES)


def test_long_messages_are_clipped() -> None:
    body = (
        f'<testcase classname="tests.public.test_a" name="t">'
        f'<failure message="{"x" * 50000}"/></testcase>'
    )
    cases, _ = parse_junit(xml(body), FILES)
    msg = cases["tests/public/test_a.py::t"].message
    assert msg is not None and len(msg) < 9000 and "truncated" in msg


def test_a_performance_record_is_kept_whole_other_properties_are_clipped() -> None:
    record = "x" * 20_000
    xml = (
        '<testsuites><testsuite name="s"><testcase classname="tests.perf.test_p" name="t">'
        f'<properties><property name="grader_perf" value="{record}"/>'
        f'<property name="grader_tamper" value="{record}"/></properties>'
        "</testcase></testsuite></testsuites>"
    ).encode()
    cases, _ = parse_junit(xml, ["tests/perf/test_p.py"])
    case = cases["tests/perf/test_p.py::t"]
    assert case.property_values("grader_perf") == [record]
    assert len(case.property_values("grader_tamper")[0]) == 2000
