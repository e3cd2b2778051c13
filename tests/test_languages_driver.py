"""grader/languages/driver.py: the image driver's JUnit document becomes test results —
what an early end, a forged suite, a build failure and a limit do to them."""

from __future__ import annotations

from grader.languages import get
from grader.languages.base import Results
from grader.languages.driver import EARLY_END
from runners.base import RunResult

TOKEN = "t" * 32
FILES = ["tests/public/a.test.js", "tests/hidden/b.test.js"]
SENTINEL = (
    '<testcase classname="grader.sentinel" name="grader sentinel" file="&lt;sentinel&gt;">'
    '<failure message="always">always</failure></testcase>'
)


def suite(cases: str, *, token: str = TOKEN, **props: str) -> str:
    extra = "".join(f'<property name="{k}" value="{v}"/>' for k, v in props.items())
    return (
        f'<testsuite name="s"><properties><property name="grader_run" value="{token}"/>'
        f"{extra}</properties>{cases}</testsuite>"
    )


def case(file: str, name: str, inner: str = "", classname: str = "") -> str:
    return f'<testcase classname="{classname}" name="{name}" file="{file}">{inner}</testcase>'


def read(*suites: str, timed_out: bool = False) -> Results:
    xml = f"<testsuites>{''.join(suites)}</testsuites>".encode()
    run = RunResult(exit_code=1, results=xml, timed_out=timed_out)
    return get("javascript").read_results(run, TOKEN, FILES)


PASSED_A = case("a.test.js", "adds")
FAILED_B = case(
    "b.test.js", "divides", '<failure message="Error: nope">Error: nope\n  at x</failure>'
)


def test_a_complete_run_keeps_every_outcome_without_a_problem() -> None:
    res = read(suite(PASSED_A + FAILED_B), suite(SENTINEL))
    assert {k: v.outcome for k, v in res.cases.items()} == {
        "tests/public/a.test.js::adds": "passed",
        "tests/hidden/b.test.js::divides": "failed",
    }
    assert res.problem is None and not res.tampered


def test_the_summary_line_is_not_repeated_in_the_message() -> None:
    res = read(suite(FAILED_B), suite(SENTINEL))
    assert res.cases["tests/hidden/b.test.js::divides"].message == "Error: nope\n  at x"


def test_an_early_end_keeps_what_finished_and_is_flagged() -> None:
    in_progress = case("b.test.js", "divides", '<error message="exited">exited</error>')
    res = read(suite(PASSED_A + in_progress))
    assert {k: v.outcome for k, v in res.cases.items()} == {
        "tests/public/a.test.js::adds": "passed",
        "tests/hidden/b.test.js::divides": "error",
    }
    assert res.tampered and res.problem == EARLY_END


def test_one_of_several_processes_ending_early_is_flagged_by_name() -> None:
    res = read(suite(PASSED_A), suite(SENTINEL), suite("", grader_incomplete="minitest (Ruby)"))
    assert res.cases["tests/public/a.test.js::adds"].outcome == "passed"
    assert res.tampered and res.problem == f"minitest (Ruby): {EARLY_END}"


def test_an_early_end_with_forged_output_keeps_nothing() -> None:
    anomaly = suite("", grader_anomaly="jest: a test suite without the run token was dropped")
    res = read(suite(PASSED_A), anomaly)
    assert res.cases == {} and res.tampered
    assert "without the run token" in res.problem and EARLY_END in res.problem


def test_forged_output_in_a_complete_run_is_flagged_and_the_real_results_kept() -> None:
    anomaly = suite("", grader_anomaly="jest: a test suite without the run token was dropped")
    res = read(suite(PASSED_A), suite(SENTINEL), anomaly)
    assert res.cases["tests/public/a.test.js::adds"].outcome == "passed"
    assert res.tampered and "without the run token" in res.problem


def test_a_sentinel_reported_passed_throws_everything_away() -> None:
    passed_sentinel = '<testcase classname="grader.sentinel" name="s" file="&lt;sentinel&gt;"/>'
    res = read(suite(PASSED_A), suite(passed_sentinel))
    assert res.cases == {} and res.tampered


def test_a_suite_with_another_token_throws_everything_away() -> None:
    res = read(suite(PASSED_A, token="f" * 32), suite(SENTINEL))
    assert res.cases == {} and res.tampered


def test_a_build_failure_or_a_limit_is_no_early_end() -> None:
    built = read(suite("", grader_build="failed"))
    assert built.build_failed and built.problem is None
    stopped = read(suite(PASSED_A), timed_out=True)
    assert stopped.problem is None and not stopped.tampered
    one_file = read(
        suite("", grader_build="failed", grader_build_file="b.test.js"), suite(SENTINEL)
    )
    assert set(one_file.file_errors) == {"tests/hidden/b.test.js"}
    assert one_file.problem is None


def test_the_worst_of_two_reports_of_one_test_counts() -> None:
    res = read(
        suite(PASSED_A),
        suite(case("a.test.js", "adds", '<failure message="x">x</failure>')),
        suite(SENTINEL),
    )
    assert res.cases["tests/public/a.test.js::adds"].outcome == "failed"
