"""Go end to end, on the real Go image in the real sandbox: scores, test ids of subtests,
weights and author skips, build failures, crashes mid-run, the candidate's view, the
analysis (gofmt + go vet, lizard, doc comments) and the scaffold.

Every submission is graded once, a few at a time, by the module's fixture; each test
reads the reports it needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from lang_support import (
    CHALLENGES,
    Grader,
    bad_submissions,
    challenge_from,
    flag_codes,
    grader_cli,
    not_passed,
    outcomes,
)

from grader.challenge import Challenge, load_challenge
from grader.languages.driver import MAX_BUILD_LOG
from grader.report import Report
from grader.views import candidate_view
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker]

CONFORMANCE = CHALLENGES / "conformance-go"
ROUTER = CHALLENGES / "http-router"
PUBLIC = "tests/public/stats_test.go"
HIDDEN = "tests/hidden/stats_hidden_test.go"

# A challenge whose submissions crash, exit or skip part-way. Go runs the tests of
# probe_test.go (public) before those of steps_test.go (hidden): files in name order.
PROBE = {
    "challenge.toml": """\
        title = "Probe"
        language = "go"
        [limits]
        wall_seconds = 60
        test_seconds = 10
        """,
    "solution/go.mod": "module probe\n\ngo 1.26\n",
    "solution/probe.go": """\
        // Package probe doubles numbers.
        package probe

        // Double returns 2n.
        func Double(n int) int { return 2 * n }

        // Supported reports whether the optional feature is there.
        func Supported() bool { return true }
        """,
    "starter/probe.go": "package probe\n",
    "tests/public/probe_test.go": """\
        package probe

        import "testing"

        func TestFirst(t *testing.T) {
        \tif Double(1) != 2 {
        \t\tt.Fatal("Double(1) != 2")
        \t}
        }
        """,
    "tests/hidden/steps_test.go": """\
        package probe

        import (
        \t"fmt"
        \t"testing"
        )

        func TestSteps(t *testing.T) {
        \tfor _, n := range []int{1, 2, 3} {
        \t\tt.Run(fmt.Sprintf("n%d", n), func(t *testing.T) {
        \t\t\tif got := Double(n); got != 2*n {
        \t\t\t\tt.Fatalf("Double(%d) = %d", n, got)
        \t\t\t}
        \t\t})
        \t}
        }

        func TestFeature(t *testing.T) {
        \tif !Supported() {
        \t\tt.Skip("the feature is not supported")
        \t}
        \tif Double(0) != 0 {
        \t\tt.Fatal("Double(0) != 0")
        \t}
        }

        func TestLast(t *testing.T) {
        \tif Double(10) != 20 {
        \t\tt.Fatal("Double(10) != 20")
        \t}
        }
        """,
}
P_FIRST = "tests/public/probe_test.go::TestFirst"
P_STEPS = "tests/hidden/steps_test.go::TestSteps/n"
P_FEATURE = "tests/hidden/steps_test.go::TestFeature"
P_LAST = "tests/hidden/steps_test.go::TestLast"


def _probe_with(double_body: str, *, supported: str = "true", imports: str = "") -> dict[str, str]:
    return {
        "go.mod": "module probe\n\ngo 1.26\n",
        "probe.go": f"// Package probe doubles numbers.\npackage probe\n\n{imports}\n"
        f"// Double returns 2n.\nfunc Double(n int) int {{\n{double_body}\n\treturn 2 * n\n}}\n\n"
        f"// Supported reports whether the optional feature is there.\n"
        f"func Supported() bool {{ return {supported} }}\n",
    }


# Correct, but with a gofmt finding (spaces for indentation), a vet finding (a Printf
# verb without its argument), an undocumented exported function and a branchy helper.
MESSY_STATS = """\
// Package stats computes small statistics of integers.
package stats

import "fmt"

func Sum(xs []int) int {
    total := 0
	for _, x := range xs {
		total += x
	}
	return total
}

// Max returns the largest of xs, and false when xs is empty.
func Max(xs []int) (int, bool) {
	if len(xs) == 0 {
		fmt.Printf("empty input %d\\n")
		return 0, false
	}
	best := xs[0]
	for _, x := range xs[1:] {
		if x > best {
			best = x
		}
	}
	return best, true
}

func grade(x int) string {
	if x > 90 {
		return "A"
	} else if x > 80 {
		return "B"
	} else if x > 70 {
		return "C"
	} else if x > 60 {
		return "D"
	} else if x > 50 && x%2 == 0 {
		return "E"
	} else if x > 40 || x == -1 {
		return "F"
	} else if x > 30 {
		return "G"
	} else if x > 20 {
		return "H"
	}
	return "I"
}
"""
PRINTF_LINE = MESSY_STATS.splitlines().index('\t\tfmt.Printf("empty input %d\\n")') + 1


@pytest.fixture(scope="module")
def go(docker_runner: DockerRunner, tmp_path_factory: pytest.TempPathFactory) -> Grader:
    return Grader(docker_runner, tmp_path_factory.mktemp("lang-go"))


@pytest.fixture(scope="module")
def probe(go: Grader) -> Challenge:
    return challenge_from(go.work / "probe", PROBE)


@pytest.fixture(scope="module")
def reports(go: Grader, probe: Challenge) -> dict[str, Report]:
    conf, router = load_challenge(CONFORMANCE), load_challenge(ROUTER)
    long_name = "undefined" + "x" * 40_000
    jobs: dict[str, Callable[[], Report]] = {
        "reference": lambda: go.grade(conf, conf.solution_dir, "reference"),
        "starter": lambda: go.grade(conf, conf.starter_dir, "starter"),
        "messy": lambda: go.grade_files(
            conf, {"go.mod": "module stats\n\ngo 1.26\n", "stats.go": MESSY_STATS}, "messy"
        ),
        "own-tests": lambda: go.grade_files(
            conf,
            {
                "go.mod": "module stats\n\ngo 1.26\n",
                "stats.go": (CONFORMANCE / "solution" / "stats.go").read_text(encoding="utf-8"),
                "my_test.go": "package stats\n\nfunc TestMine(t *testing.T) { not go }\n",
            },
            "own-tests",
        ),
        "syntax": lambda: go.grade_files(
            probe, _probe_with(f"\tif n < 0 {{\n\t\treturn {long_name}\n\t}}"), "syntax"
        ),
        "missing": lambda: go.grade_files(
            probe,
            {
                "go.mod": "module probe\n",
                "probe.go": "package probe\n\nfunc Double(n int) int {\n\treturn 2 * n\n}\n",
            },
            "missing",
        ),
        "panic": lambda: go.grade_files(
            probe, _probe_with('\tif n == 2 {\n\t\tpanic("two")\n\t}'), "panic"
        ),
        "exit": lambda: go.grade_files(
            probe,
            _probe_with("\tif n == 2 {\n\t\tos.Exit(3)\n\t}", imports='import "os"\n'),
            "exit",
        ),
        "skips": lambda: go.grade_files(probe, _probe_with("", supported="false"), "skips"),
    }
    for name in bad_submissions("http-router"):
        jobs[f"bad-{name}"] = lambda name=name: go.grade(
            router, ROUTER / "bad" / name, f"bad-{name}"
        )
    return go.grade_all(jobs)


def test_correct_submission_scores_100_with_subtests_as_their_own_tests(
    reports: dict[str, Report],
) -> None:
    report = reports["reference"]
    assert report.status == "graded"
    assert report.scores.correctness == 100
    assert outcomes(report) == {
        f"{PUBLIC}::TestSum/empty": "passed",
        f"{PUBLIC}::TestSum/one": "passed",
        f"{PUBLIC}::TestSum/many": "passed",
        f"{PUBLIC}::TestMaxOfEmpty": "passed",
        f"{HIDDEN}::TestMax/positive/one": "passed",
        f"{HIDDEN}::TestMax/positive/many": "passed",
        f"{HIDDEN}::TestMax/negative/all": "passed",
        f"{HIDDEN}::TestMax/negative/mixed": "passed",
        f"{HIDDEN}::TestMax/todo": "skipped",
        f"{HIDDEN}::TestSumLarge": "passed",
        f"{HIDDEN}::TestSkippedByTheAuthor": "skipped",
    }
    assert report.flags == []


def test_weights_visibility_and_author_skips(reports: dict[str, Report]) -> None:
    """The starter fails one weight-2 test of twelve weighted units: 10/12. The author's
    skips (a test and a subtest) are not counted; the helper file beside the hidden
    tests is no test of its own."""
    report = reports["starter"]
    by_id = {t.id: t for t in report.tests}
    assert not_passed(report) == {f"{HIDDEN}::TestMax/negative/all": "failed"}
    assert by_id[f"{HIDDEN}::TestMax/negative/all"].weight == 2
    assert by_id[f"{HIDDEN}::TestSumLarge"].weight == 3
    assert report.scores.correctness == pytest.approx(100 * 10 / 12, abs=0.05)
    skipped = {t.id for t in report.tests if not t.counted}
    assert skipped == {f"{HIDDEN}::TestMax/todo", f"{HIDDEN}::TestSkippedByTheAuthor"}
    assert {t.id for t in report.tests if t.visibility == "public"} == {
        f"{PUBLIC}::TestSum/empty",
        f"{PUBLIC}::TestSum/one",
        f"{PUBLIC}::TestSum/many",
        f"{PUBLIC}::TestMaxOfEmpty",
    }
    assert not any("cases_test.go" in t.id for t in report.tests)
    message = by_id[f"{HIDDEN}::TestMax/negative/all"].message or ""
    assert "Max([-5 -2 -9]) = 0, true; want -2, true" in message


def test_candidate_view_follows_the_feedback_policy(reports: dict[str, Report]) -> None:
    """hidden_tests = "count": counts only, no hidden id or message; public "full" is
    served as pass-fail (candidate code shares the tests' process); score = true."""
    report = reports["starter"]
    feedback = load_challenge(CONFORMANCE).config.feedback
    view = candidate_view(report, feedback)
    text = json.dumps(view)
    assert view["hidden_tests"] == {"shown": "count", "passed": 4, "total": 5}
    assert view["public_tests"]["shown"] == "pass-fail"
    assert view["public_tests"]["passed"] == 4
    assert "stats_hidden_test" not in text
    assert "TestMax/" not in text
    assert "Max([-5" not in text
    assert view["scores"]["correctness"] == report.scores.correctness
    assert "flags" not in view


@pytest.mark.parametrize("bad", sorted(bad_submissions("http-router")))
def test_typical_bugs_lose_exactly_their_tests(bad: str, reports: dict[str, Report]) -> None:
    """The router's known-bad submissions fail the tests their mistake is about, and
    stay at or under the correctness their expect.toml allows."""
    lose = {
        "no-backtracking": {
            "TestPriority/backtracks_from_static",
            "TestPriority/param_falls_back_to_catch_all",
            "TestPriority/backtracks_across_levels",
            "TestMethods/other_methods_do_not_shadow",
        },
        "path-before-method": {
            "TestMethods/allowed_lists_every_matching_route",
            "TestMethods/other_methods_do_not_shadow",
        },
    }
    report = reports[f"bad-{bad}"]
    failing = not_passed(report)
    assert {i.rsplit("::", 1)[1] for i in failing} == lose[bad]
    assert set(failing.values()) == {"failed"}
    assert all(i.startswith("tests/hidden/router_match_test.go::") for i in failing)
    assert report.scores.correctness <= bad_submissions("http-router")[bad]
    assert report.flags == []


def test_a_submission_that_does_not_build_is_graded(reports: dict[str, Report]) -> None:
    """Every test errors, a build-failed flag, the compiler's log (bounded) for
    reviewers; never an infrastructure error."""
    report = reports["syntax"]
    assert report.status == "graded" and report.error is None
    assert {t.outcome for t in report.tests} == {"error"}
    assert len(report.tests) == 6
    assert "build-failed" in flag_codes(report)
    assert report.run is not None
    log = report.run.build_log
    assert "probe.go:8" in log and "undefined: undefinedxxx" in log
    assert len(log) <= MAX_BUILD_LOG + 100
    assert "characters cut" in log
    assert report.scores.correctness == 0 and report.scores.total == 0


def test_tests_that_call_a_missing_function_are_a_build_failure(
    reports: dict[str, Report],
) -> None:
    report = reports["missing"]
    assert {t.outcome for t in report.tests} == {"error"}
    assert "build-failed" in flag_codes(report)
    assert report.run is not None and "undefined: Supported" in report.run.build_log


def test_a_panic_mid_run_fails_that_test_and_keeps_the_finished_ones(
    reports: dict[str, Report],
) -> None:
    report = reports["panic"]
    assert report.status == "graded"
    assert outcomes(report) == {
        P_FIRST: "passed",
        f"{P_STEPS}1": "passed",
        f"{P_STEPS}2": "failed",
        f"{P_STEPS}3": "not_reported",
        P_FEATURE: "not_reported",
        P_LAST: "not_reported",
    }
    assert report.scores.correctness == pytest.approx(100 * 2 / 6, abs=0.05)
    codes = flag_codes(report)
    assert "results-missing" in codes and "tamper-suspect" not in codes
    stopped = next(f.message for f in report.flags if "stopped" in f.message)
    assert "panic: two" in stopped
    last = {t.id: t.message or "" for t in report.tests}[P_LAST]
    assert "not reported" in last and "stopped" in last


def test_an_exit_mid_run_errors_the_test_in_progress(reports: dict[str, Report]) -> None:
    report = reports["exit"]
    assert outcomes(report) == {
        P_FIRST: "passed",
        f"{P_STEPS}1": "passed",
        f"{P_STEPS}2": "error",
        f"{P_STEPS}3": "not_reported",
        P_FEATURE: "not_reported",
        P_LAST: "not_reported",
    }
    message = {t.id: t.message or "" for t in report.tests}[f"{P_STEPS}2"]
    assert "stopped while this test ran" in message
    assert "tamper-suspect" not in flag_codes(report)


def test_a_test_that_skips_only_for_this_submission_counts_as_failed(
    reports: dict[str, Report],
) -> None:
    report = reports["skips"]
    feature = next(t for t in report.tests if t.id == P_FEATURE)
    assert feature.outcome == "skipped" and feature.counted
    assert report.scores.correctness == pytest.approx(100 * 5 / 6, abs=0.05)


def test_style_findings_come_from_gofmt_and_vet_with_file_line_and_rule(
    reports: dict[str, Report],
) -> None:
    report = reports["messy"]
    assert report.scores.correctness == 100
    found = {(f.file, f.code) for f in report.style.findings}
    assert ("stats.go", "gofmt") in found
    printf = [f for f in report.style.findings if f.code == "vet/printf"]
    assert len(printf) == 1 and printf[0].file == "stats.go" and printf[0].line == PRINTF_LINE
    assert "%d" in printf[0].message
    assert report.scores.style < 100


def test_docs_count_exported_identifiers(reports: dict[str, Report]) -> None:
    """Sum and Max are exported, grade is not: one of two documented."""
    report = reports["messy"]
    items = {(i.name, i.documented) for i in report.docs.items}
    assert items == {("Sum", False), ("Max", True)}
    assert report.scores.docs == 50


def test_complexity_comes_from_lizard(reports: dict[str, Report]) -> None:
    report = reports["messy"]
    by_name = {f.name: f for f in report.complexity.functions}
    # Eight ifs, one && and one ||: 1 + 10.
    assert by_name["grade"].complexity == 11 and by_name["grade"].rank == "C"
    assert by_name["Sum"].complexity == 2
    assert report.complexity.hotspots[0].name == "grade"
    assert report.scores.complexity < reports["reference"].scores.complexity


def test_scaffold_validates_from_the_command_line(tmp_path: Path) -> None:
    made = grader_cli("new", "word-count", "--language", "go", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checked = grader_cli("validate", "challenges/word-count", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "reference 100 correctness" in checked.stdout


def test_the_submissions_own_tests_never_run(reports: dict[str, Report]) -> None:
    """A candidate's own test file (here one that does not compile) is left out: only the
    challenge's tests run."""
    report = reports["own-tests"]
    assert report.scores.correctness == 100
    assert "build-failed" not in flag_codes(report)
    assert not any("my_test" in t.id for t in report.tests)
