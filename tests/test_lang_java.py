"""Java end to end, on the real Java image in the real sandbox: scores, test ids of
nested and parameterized tests, weights and author skips (disabled, aborted), build
failures of the submission and of one hidden test file, crashes and exits mid-run, the
candidate's view, the analysis (checkstyle, lizard, Javadoc) and the scaffold.

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

CONFORMANCE = CHALLENGES / "conformance-java"
ORDER_BOOK = CHALLENGES / "order-book"
PUBLIC = "tests/public/RomanTest.java::RomanTest"
HIDDEN = "tests/hidden/RomanHiddenTest.java::RomanHiddenTest"

# A challenge whose submissions crash, exit or skip part-way (the hidden class runs its
# tests in a fixed order, after the public class).
PROBE = {
    "challenge.toml": """\
        title = "Probe"
        language = "java"
        [limits]
        wall_seconds = 60
        test_seconds = 10
        memory_mb = 384
        """,
    "solution/Probe.java": """\
        /** Doubles numbers. */
        public final class Probe {
            private Probe() {
            }

            /**
             * Twice n.
             *
             * @param n a number
             * @return 2n
             */
            public static int twice(int n) {
                return 2 * n;
            }

            /**
             * Whether the optional feature is there.
             *
             * @return true
             */
            public static boolean supported() {
                return true;
            }
        }
        """,
    "starter/Probe.java": "/** Doubles numbers. */\npublic final class Probe {\n}\n",
    "tests/public/ProbeTest.java": """\
        import static org.assertj.core.api.Assertions.assertThat;

        import org.junit.jupiter.api.Test;

        class ProbeTest {
            @Test
            void first() {
                assertThat(Probe.twice(1)).isEqualTo(2);
            }
        }
        """,
    "tests/hidden/StepsTest.java": """\
        import static org.assertj.core.api.Assertions.assertThat;

        import org.junit.jupiter.api.Assumptions;
        import org.junit.jupiter.api.MethodOrderer;
        import org.junit.jupiter.api.Order;
        import org.junit.jupiter.api.Test;
        import org.junit.jupiter.api.TestMethodOrder;
        import org.junit.jupiter.params.ParameterizedTest;
        import org.junit.jupiter.params.provider.ValueSource;

        @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
        class StepsTest {
            @ParameterizedTest
            @ValueSource(ints = {1, 2, 3})
            @Order(1)
            void steps(int n) {
                assertThat(Probe.twice(n)).isEqualTo(2 * n);
            }

            @Test
            @Order(2)
            void feature() {
                Assumptions.assumeTrue(Probe.supported(), "the feature is not supported");
                assertThat(Probe.twice(0)).isZero();
            }

            @Test
            @Order(3)
            void last() {
                assertThat(Probe.twice(10)).isEqualTo(20);
            }
        }
        """,
}
P_FIRST = "tests/public/ProbeTest.java::ProbeTest::first"
P_STEPS = "tests/hidden/StepsTest.java::StepsTest::steps"
P_FEATURE = "tests/hidden/StepsTest.java::StepsTest::feature"
P_LAST = "tests/hidden/StepsTest.java::StepsTest::last"


def _probe_with(twice_body: str, *, supported: str = "true") -> dict[str, str]:
    return {
        "Probe.java": "/** Doubles numbers. */\npublic final class Probe {\n"
        "    private Probe() {\n    }\n\n"
        "    /** @param n a number @return 2n */\n"
        f"    public static int twice(int n) {{\n{twice_body}\n        return 2 * n;\n    }}\n\n"
        "    /** @return whether the feature is there */\n"
        f"    public static boolean supported() {{\n        return {supported};\n    }}\n}}\n"
    }


# Correct, but with checkstyle findings (an unused import, a constant not in upper case,
# an if without braces), a public method without Javadoc and a branchy parser.
MESSY_ROMAN = """\
import java.util.List;

/** Roman numerals from 1 to 3999. */
public final class Roman {
    private static final int[] values = {1000, 900, 500, 400, 100, 90, 50, 40, 10, 9, 5, 4, 1};
    private static final String[] SYMBOLS =
        {"M", "CM", "D", "CD", "C", "XC", "L", "XL", "X", "IX", "V", "IV", "I"};

    private Roman() {
    }

    public static String toRoman(int n) {
        if (n < 1 || n > 3999) throw new IllegalArgumentException("out of range: " + n);
        StringBuilder out = new StringBuilder();
        int rest = n;
        for (int i = 0; i < values.length; i++) {
            while (rest >= values[i]) {
                out.append(SYMBOLS[i]);
                rest -= values[i];
            }
        }
        return out.toString();
    }

    /**
     * The number a Roman numeral stands for.
     *
     * @param s a numeral
     * @return its value
     */
    public static int fromRoman(String s) {
        int total = 0;
        int previous = 0;
        for (int i = s.length() - 1; i >= 0; i--) {
            int v;
            switch (s.charAt(i)) {
                case 'I': v = 1; break;
                case 'V': v = 5; break;
                case 'X': v = 10; break;
                case 'L': v = 50; break;
                case 'C': v = 100; break;
                case 'D': v = 500; break;
                case 'M': v = 1000; break;
                default: throw new IllegalArgumentException("not a numeral: " + s);
            }
            if (v < previous) {
                total -= v;
            } else {
                total += v;
                previous = v;
            }
        }
        return total;
    }
}
"""
BRACES_LINE = (
    MESSY_ROMAN.splitlines().index(
        '        if (n < 1 || n > 3999) throw new IllegalArgumentException("out of range: " + n);'
    )
    + 1
)


@pytest.fixture(scope="module")
def java(docker_runner: DockerRunner, tmp_path_factory: pytest.TempPathFactory) -> Grader:
    return Grader(docker_runner, tmp_path_factory.mktemp("lang-java"))


@pytest.fixture(scope="module")
def probe(java: Grader) -> Challenge:
    return challenge_from(java.work / "probe", PROBE)


@pytest.fixture(scope="module")
def reports(java: Grader, probe: Challenge) -> dict[str, Report]:
    conf, book = load_challenge(CONFORMANCE), load_challenge(ORDER_BOOK)
    roman = (CONFORMANCE / "solution" / "Roman.java").read_text(encoding="utf-8")
    without_parser = roman[: roman.index("    /**\n     * The number a Roman")] + "}\n"
    long_name = "undefined" + "x" * 40_000
    jobs: dict[str, Callable[[], Report]] = {
        "reference": lambda: java.grade(conf, conf.solution_dir, "reference"),
        "starter": lambda: java.grade(conf, conf.starter_dir, "starter"),
        "messy": lambda: java.grade_files(conf, {"Roman.java": MESSY_ROMAN}, "messy"),
        "own-tests": lambda: java.grade_files(
            conf,
            {
                "Roman.java": roman,
                "MyRomanTest.java": "import org.mockito.Mockito;\nclass MyRomanTest {}\n",
                "src/test/java/Fixtures.java": "class Fixtures { not java }\n",
            },
            "own-tests",
        ),
        "hidden-file": lambda: java.grade_files(
            conf, {"Roman.java": without_parser}, "hidden-file"
        ),
        "syntax": lambda: java.grade_files(
            probe,
            _probe_with(f"        if (n < 0) {{\n            return {long_name};\n        }}"),
            "syntax",
        ),
        "crash": lambda: java.grade_files(
            probe,
            _probe_with(
                '        if (n == 2) {\n            throw new OutOfMemoryError("two");\n        }'
            ),
            "crash",
        ),
        "exit": lambda: java.grade_files(
            probe,
            _probe_with("        if (n == 2) {\n            System.exit(3);\n        }"),
            "exit",
        ),
        "skips": lambda: java.grade_files(probe, _probe_with("", supported="false"), "skips"),
    }
    for name in bad_submissions("order-book"):
        jobs[f"bad-{name}"] = lambda name=name: java.grade(
            book, ORDER_BOOK / "bad" / name, f"bad-{name}"
        )
    return java.grade_all(jobs)


def test_correct_submission_scores_100_with_nested_and_parameterized_ids(
    reports: dict[str, Report],
) -> None:
    report = reports["reference"]
    assert report.status == "graded"
    assert report.scores.correctness == 100
    assert outcomes(report) == {
        f"{PUBLIC}::additiveNumbers[1]": "passed",
        f"{PUBLIC}::additiveNumbers[2]": "passed",
        f"{PUBLIC}::additiveNumbers[3]": "passed",
        f"{PUBLIC}::rejectsZero": "passed",
        f"{HIDDEN}::subtractiveForms[1]": "passed",
        f"{HIDDEN}::subtractiveForms[2]": "passed",
        f"{HIDDEN}::subtractiveForms[3]": "passed",
        f"{HIDDEN}::subtractiveForms[4]": "passed",
        f"{HIDDEN}::largest": "passed",
        f"{HIDDEN}$Parsing::parsesWhatItPrints": "passed",
        f"{HIDDEN}$Parsing::parsesLowerCase": "skipped",
        f"{HIDDEN}$Parsing::abortedByAnAssumption": "skipped",
    }
    assert report.flags == []


def test_weights_visibility_and_author_skips(reports: dict[str, Report]) -> None:
    """The starter passes the public tests (4) of 13 weighted units; a disabled test and
    one an assumption aborts skip under the reference too, so they are not counted."""
    report = reports["starter"]
    by_id = {t.id: t for t in report.tests}
    assert not_passed(report) == {
        f"{HIDDEN}::subtractiveForms[1]": "failed",
        f"{HIDDEN}::subtractiveForms[2]": "failed",
        f"{HIDDEN}::subtractiveForms[3]": "failed",
        f"{HIDDEN}::subtractiveForms[4]": "failed",
        f"{HIDDEN}::largest": "failed",
        f"{HIDDEN}$Parsing::parsesWhatItPrints": "error",
    }
    assert by_id[f"{HIDDEN}$Parsing::parsesWhatItPrints"].weight == 3
    assert by_id[f"{HIDDEN}::largest"].weight == 2
    assert report.scores.correctness == pytest.approx(100 * 4 / 13, abs=0.05)
    assert {t.id for t in report.tests if not t.counted} == {
        f"{HIDDEN}$Parsing::parsesLowerCase",
        f"{HIDDEN}$Parsing::abortedByAnAssumption",
    }
    assert {t.visibility for t in report.tests if t.id.startswith(PUBLIC)} == {"public"}
    message = by_id[f"{HIDDEN}::subtractiveForms[1]"].message or ""
    assert 'expected: "IV"' in message and 'but was: "IIII"' in message
    # The helper beside the hidden tests (Samples.java) is no test of its own.
    assert not any("Samples" in t.id for t in report.tests)


def test_candidate_view_follows_the_feedback_policy(reports: dict[str, Report]) -> None:
    report = reports["starter"]
    view = candidate_view(report, load_challenge(CONFORMANCE).config.feedback)
    text = json.dumps(view)
    assert view["hidden_tests"] == {"shown": "count", "passed": 0, "total": 6}
    assert view["public_tests"]["shown"] == "pass-fail"
    assert view["public_tests"]["passed"] == 4
    assert "RomanHiddenTest" not in text and "IIII" not in text
    assert view["scores"]["correctness"] == report.scores.correctness
    assert "flags" not in view


@pytest.mark.parametrize("bad", sorted(bad_submissions("order-book")))
def test_typical_bugs_lose_exactly_their_tests(bad: str, reports: dict[str, Report]) -> None:
    lose = {
        "amend-keeps-place": {
            "com.example.orderbook.BookKeepingTest$Amending::increasingGoesToTheBackOfItsLevel",
        },
        "trades-at-incoming-price": {
            "com.example.orderbook.OrderBookTest::fillsAtTheRestingPrice",
            "com.example.orderbook.MatchingTest$SellSide::sellMatchesTheHighestBidsFirst",
            "com.example.orderbook.MatchingTest$PriceTimePriority::bestPriceFirst",
            "com.example.orderbook.MatchingTest$PriceTimePriority::sweepsSeveralLevels",
            "com.example.orderbook.MatchingTest$PriceTimePriority::"
            "tradesAtTheRestingPriceNotTheIncoming",
        },
    }
    report = reports[f"bad-{bad}"]
    failing = not_passed(report)
    assert {i.split("::", 1)[1] for i in failing} == lose[bad]
    assert set(failing.values()) == {"failed"}
    assert report.scores.correctness <= bad_submissions("order-book")[bad]
    assert report.flags == []


def test_a_submission_that_does_not_compile_is_graded(reports: dict[str, Report]) -> None:
    report = reports["syntax"]
    assert report.status == "graded" and report.error is None
    assert {t.outcome for t in report.tests} == {"error"}
    assert len(report.tests) == 6
    assert "build-failed" in flag_codes(report)
    assert report.run is not None
    log = report.run.build_log
    assert "Probe.java:9: error: cannot find symbol" in log
    assert len(log) <= MAX_BUILD_LOG + 100 and "characters cut" in log


def test_a_hidden_test_file_that_does_not_compile_costs_only_its_tests(
    reports: dict[str, Report],
) -> None:
    """Without fromRoman the hidden test file does not compile: its tests error, the
    public file's still run and pass, and the submission itself built."""
    report = reports["hidden-file"]
    assert not_passed(report) == {
        f"{HIDDEN}::subtractiveForms[1]": "error",
        f"{HIDDEN}::subtractiveForms[2]": "error",
        f"{HIDDEN}::subtractiveForms[3]": "error",
        f"{HIDDEN}::subtractiveForms[4]": "error",
        f"{HIDDEN}::largest": "error",
        f"{HIDDEN}$Parsing::parsesWhatItPrints": "error",
    }
    assert {t.outcome for t in report.tests if t.id.startswith(PUBLIC)} == {"passed"}
    assert "build-failed" not in flag_codes(report)
    message = next(t.message for t in report.tests if t.id == f"{HIDDEN}::largest") or ""
    assert "does not build" in message and "fromRoman" in message
    assert report.scores.correctness == pytest.approx(100 * 4 / 13, abs=0.05)


def test_a_crash_mid_run_errors_that_test_and_keeps_the_finished_ones(
    reports: dict[str, Report],
) -> None:
    report = reports["crash"]
    assert report.status == "graded"
    assert outcomes(report) == {
        P_FIRST: "passed",
        f"{P_STEPS}[1]": "passed",
        f"{P_STEPS}[2]": "error",
        f"{P_STEPS}[3]": "not_reported",
        P_FEATURE: "not_reported",
        P_LAST: "not_reported",
    }
    codes = flag_codes(report)
    assert "results-missing" in codes and "tamper-suspect" not in codes
    assert any("StepsTest.steps[2]" in f.message for f in report.flags)
    assert report.scores.correctness == pytest.approx(100 * 2 / 6, abs=0.05)


def test_an_exit_mid_run_errors_the_test_in_progress(reports: dict[str, Report]) -> None:
    report = reports["exit"]
    assert outcomes(report) == {
        P_FIRST: "passed",
        f"{P_STEPS}[1]": "passed",
        f"{P_STEPS}[2]": "error",
        f"{P_STEPS}[3]": "not_reported",
        P_FEATURE: "not_reported",
        P_LAST: "not_reported",
    }
    message = {t.id: t.message or "" for t in report.tests}[f"{P_STEPS}[2]"]
    assert "the JVM exited while this test ran" in message
    # System.exit in a submission is also evidence for the reviewer (the static scan).
    assert any(f.code == "tamper-suspect" and "Probe.java" in f.message for f in report.flags)


def test_a_test_that_skips_only_for_this_submission_counts_as_failed(
    reports: dict[str, Report],
) -> None:
    report = reports["skips"]
    feature = next(t for t in report.tests if t.id == P_FEATURE)
    assert feature.outcome == "skipped" and feature.counted
    assert report.scores.correctness == pytest.approx(100 * 5 / 6, abs=0.05)


def test_style_findings_come_from_checkstyle_with_file_line_and_rule(
    reports: dict[str, Report],
) -> None:
    report = reports["messy"]
    assert report.scores.correctness == 100
    found = {(f.file, f.line, f.code) for f in report.style.findings}
    assert ("Roman.java", 1, "UnusedImports") in found
    assert ("Roman.java", 5, "ConstantName") in found
    assert ("Roman.java", BRACES_LINE, "NeedBraces") in found
    assert report.scores.style < 100


def test_docs_count_javadoc_on_public_types_and_methods(reports: dict[str, Report]) -> None:
    report = reports["messy"]
    items = {(i.name, i.documented) for i in report.docs.items}
    assert items == {("Roman", True), ("toRoman", False), ("fromRoman", True)}
    assert report.scores.docs == pytest.approx(100 * 2 / 3, abs=0.05)


def test_complexity_comes_from_lizard(reports: dict[str, Report]) -> None:
    report = reports["messy"]
    by_name = {f.name.rsplit(":", 1)[-1]: f for f in report.complexity.functions}
    # A for, seven cases and an if: 1 + 9.
    assert by_name["fromRoman"].complexity == 10
    assert by_name["toRoman"].complexity == 5
    assert report.complexity.hotspots[0].name.endswith("fromRoman")


def test_scaffold_validates_from_the_command_line(tmp_path: Path) -> None:
    made = grader_cli("new", "word-count", "--language", "java", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checked = grader_cli("validate", "challenges/word-count", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "reference 100 correctness" in checked.stdout


def test_the_submissions_own_tests_never_stop_the_build(reports: dict[str, Report]) -> None:
    """A candidate's own test (here needing Mockito, which the image lacks) and a helper
    under src/test/ that does not compile stay out of the run and out of the analysis."""
    report = reports["own-tests"]
    assert report.scores.correctness == 100
    assert "build-failed" not in flag_codes(report)
    analysed = {f.file for f in report.complexity.files} | {i.file for i in report.docs.items}
    assert analysed == {"Roman.java"}
