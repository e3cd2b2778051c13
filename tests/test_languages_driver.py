"""grader/languages/driver.py: the image driver's JUnit document becomes test results —
what a stopped framework, a forged suite, a build failure and a limit do to them."""

from __future__ import annotations

from grader.languages import get
from grader.languages.base import Results
from runners.base import RunResult

TOKEN = "t" * 32
FILES = ["tests/public/a.test.js", "tests/hidden/b.test.js"]
SENTINEL = (
    '<testcase classname="grader.sentinel" name="grader sentinel" file="&lt;sentinel&gt;">'
    '<failure message="always">always</failure></testcase>'
)
STOPPED = "jest stopped during b.test.js: divides (exit status 0); the tests after it did not run"


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


def outcomes(res: Results) -> dict[str, str]:
    return {k: v.outcome for k, v in res.cases.items()}


PASSED_A = case("a.test.js", "adds")
FAILED_B = case(
    "b.test.js", "divides", '<failure message="Error: nope">Error: nope\n  at x</failure>'
)
EXITED_B = case("b.test.js", "divides", '<error message="exited">exited</error>')


def test_a_complete_run_keeps_every_outcome_without_a_problem() -> None:
    res = read(suite(PASSED_A + FAILED_B), suite(SENTINEL))
    assert outcomes(res) == {
        "tests/public/a.test.js::adds": "passed",
        "tests/hidden/b.test.js::divides": "failed",
    }
    assert res.problem is None and not res.tampered


def test_the_summary_line_is_not_repeated_in_the_message() -> None:
    res = read(suite(FAILED_B), suite(SENTINEL))
    assert res.cases["tests/hidden/b.test.js::divides"].message == "Error: nope\n  at x"


def test_a_stopped_framework_keeps_what_finished_and_says_where() -> None:
    res = read(suite(PASSED_A + EXITED_B), suite("", grader_stopped=STOPPED))
    assert outcomes(res) == {
        "tests/public/a.test.js::adds": "passed",
        "tests/hidden/b.test.js::divides": "error",
    }
    assert res.problem == STOPPED and not res.tampered


def test_a_missing_sentinel_without_a_stop_throws_everything_away() -> None:
    res = read(suite(PASSED_A + EXITED_B))
    assert res.cases == {} and res.tampered
    assert res.problem is not None and "sentinel" in res.problem


def test_forged_output_is_flagged_and_the_real_results_kept() -> None:
    anomaly = suite("", grader_anomaly="jest: a test suite without the run token was dropped")
    res = read(suite(PASSED_A), suite(SENTINEL), anomaly)
    assert outcomes(res) == {"tests/public/a.test.js::adds": "passed"}
    assert res.tampered and res.problem is not None and "without the run token" in res.problem


def test_a_sentinel_reported_passed_throws_everything_away() -> None:
    passed_sentinel = '<testcase classname="grader.sentinel" name="s" file="&lt;sentinel&gt;"/>'
    res = read(suite(PASSED_A), suite(passed_sentinel))
    assert res.cases == {} and res.tampered


def test_a_suite_with_another_token_throws_everything_away() -> None:
    res = read(suite(PASSED_A, token="f" * 32), suite(SENTINEL))
    assert res.cases == {} and res.tampered


def test_a_build_failure_or_a_limit_needs_no_sentinel() -> None:
    built = read(suite("", grader_build="failed"))
    assert built.build_failed and built.problem is None
    stopped = read(suite(PASSED_A), timed_out=True)
    assert stopped.problem is None and not stopped.tampered
    assert outcomes(stopped) == {"tests/public/a.test.js::adds": "passed"}
    one_file = read(
        suite("", grader_build="failed", grader_build_file="b.test.js"), suite(SENTINEL)
    )
    assert set(one_file.file_errors) == {"tests/hidden/b.test.js"}
    assert one_file.problem is None


def test_the_worst_of_two_reports_of_one_test_counts() -> None:
    forged_pass = case("a.test.js", "adds")
    real_fail = case("a.test.js", "adds", '<failure message="x">x</failure>')
    res = read(suite(forged_pass), suite(real_fail), suite(SENTINEL))
    assert outcomes(res) == {"tests/public/a.test.js::adds": "failed"}


def test_every_stopped_process_is_named() -> None:
    """Ruby runs Minitest and RSpec in two processes: each may stop on its own."""
    other = "rspec stopped during a.test.js: adds (exit status 3); the tests after it did not run"
    res = read(
        suite(PASSED_A + EXITED_B),
        suite("", grader_stopped=STOPPED),
        suite("", grader_stopped=other),
    )
    assert res.problem == f"{STOPPED}; {other}"
