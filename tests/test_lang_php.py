"""PHP end to end on the real image (challenges/conformance-php): PHPUnit 9-style ids
with data sets, outcomes of typical bugs, a parse error, a test file that stops PHPUnit
while loading, an exit mid-run, weights, visibility, author skips, the candidate's view,
PSR-12 findings, docblock coverage and lizard complexity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lang_support import (
    CHALLENGES,
    Grader,
    Variant,
    bad_submissions,
    failing,
    flags,
    grade_variants,
    grader_cli,
    outcomes,
    weighted_share,
)

from grader.challenge import Challenge, load_challenge
from grader.engine import ExpectedTests
from grader.report import Report
from grader.views import candidate_view
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker]

CHALLENGE = CHALLENGES / "conformance-php"
CALC = "tests/public/CalcTest.php::CalcTest::"
MEAN = "tests/hidden/MeanTest.php::MeanTest::"
SLUG = "tests/hidden/SlugTest.php::SlugTest::"

EXPECTED_IDS = [
    CALC + "testAdd",
    CALC + "testDivideByZero",
    CALC + "testDivide with data set #0",
    CALC + "testDivide with data set #1",
    CALC + "testDivide with data set #2",
    CALC + "testSkippedByTheAuthor",
    MEAN + "testMean",
    MEAN + "testMeanOfNothing",
    SLUG + 'testSlugify with data set "punctuation"',
    SLUG + 'testSlugify with data set "spaces"',
    SLUG + 'testSlugify with data set "unicode"',
    SLUG + "testPunctuationOnly",
    SLUG + "testIncompleteByTheAuthor",
]
AUTHOR_SKIPPED = {CALC + "testSkippedByTheAuthor", SLUG + "testIncompleteByTheAuthor"}

EXTRA_METHODS = """
    public static function half(int|float $value): float
    {
        return self::scale($value, 0.5);
    }

    private static function scale(int|float $value, float $factor): float
    {
        return $value * $factor;
    }
}
"""

VARIANTS = {
    "reference": Variant(),
    # Two typical bugs: an integer mean, and dashes left at the ends of a slug.
    "bugs": Variant(
        replace={
            "Calc.php": [
                (
                    "return array_sum($numbers) / count($numbers);",
                    "return (float) intdiv(array_sum($numbers), count($numbers));",
                )
            ],
            "slug.php": [("return trim((string) $slug, '-');", "return (string) $slug;")],
        }
    ),
    "syntax_error": Variant(
        replace={"Calc.php": [("return $left + $right;", "return $left + $right")]}
    ),
    # Without slug.php, SlugTest.php's require_once stops PHPUnit while it loads the
    # test files: each file then runs on its own.
    "missing_file": Variant(drop=("slug.php",)),
    # Calc::mean([1, 2, 3, 4]) ends the process, in the middle of MeanTest::testMean.
    "exit_in_test": Variant(
        replace={
            "Calc.php": [
                (
                    "        if ($numbers === []) {",
                    "        if (count($numbers) === 4) {\n            exit(0);\n        }\n"
                    "        if ($numbers === []) {",
                )
            ]
        }
    ),
    "style_and_docs": Variant(
        replace={
            "Calc.php": [
                (
                    "        return $left + $right;",
                    "        if ($left == 0) return $right;\n        return $left+$right;",
                ),
                (
                    "        return array_sum($numbers) / count($numbers);\n    }\n}\n",
                    "        return array_sum($numbers) / count($numbers);\n    }\n"
                    + EXTRA_METHODS,
                ),
            ]
        }
    ),
}


@pytest.fixture(scope="module")
def challenge() -> Challenge:
    return load_challenge(CHALLENGE)


@pytest.fixture(scope="module")
def graded(
    challenge: Challenge, docker_runner: DockerRunner, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ExpectedTests, dict[str, Report]]:
    return grade_variants(challenge, VARIANTS, docker_runner, tmp_path_factory.mktemp("lang-php"))


def report(graded: tuple[ExpectedTests, dict[str, Report]], name: str) -> Report:
    rep = graded[1][name]
    assert rep.status == "graded", rep.error
    return rep


def test_ids_follow_classes_methods_and_data_sets(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    expected, _ = graded
    assert expected.ids == EXPECTED_IDS
    assert expected.author_skipped == AUTHOR_SKIPPED


def test_reference_scores_100_without_flags(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "reference")
    assert rep.scores.correctness == 100
    assert {t.id for t in rep.tests if not t.counted} == AUTHOR_SKIPPED
    assert all(t.outcome == "passed" for t in rep.tests if t.counted)
    assert rep.flags == []


def test_typical_bugs_lose_exactly_their_tests(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "bugs")
    lost = {
        MEAN + "testMean",
        SLUG + 'testSlugify with data set "punctuation"',
        SLUG + 'testSlugify with data set "spaces"',
        SLUG + "testPunctuationOnly",
    }
    assert failing(rep) == lost
    assert {outcomes(rep)[i] for i in lost} == {"failed"}
    passing = {t.id for t in rep.tests if t.counted} - lost
    assert rep.scores.correctness == pytest.approx(weighted_share(rep, passing), abs=0.051)
    by_id = {t.id: t for t in rep.tests}
    assert by_id[SLUG + 'testSlugify with data set "punctuation"'].weight == 3
    assert by_id[CALC + "testDivide with data set #1"].weight == 1
    assert {t.visibility for t in rep.tests if t.id.startswith("tests/public/")} == {"public"}
    assert not flags(rep, "tamper-suspect")


def test_candidate_view_hides_hidden_tests(
    challenge: Challenge, graded: tuple[ExpectedTests, dict[str, Report]]
) -> None:
    rep = report(graded, "bugs")
    view = candidate_view(rep, challenge.config.feedback)
    text = json.dumps(view)
    assert "Slug" not in text and "Mean" not in text
    assert (view["hidden_tests"]["passed"], view["hidden_tests"]["total"]) == (2, 6)
    assert {t["outcome"] for t in view["public_tests"]["tests"]} == {"passed", "not counted"}


def test_parse_error_is_a_graded_build_failure(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "syntax_error")
    assert {t.outcome for t in rep.tests} == {"error"}
    assert rep.scores.correctness == 0
    assert flags(rep, "build-failed")
    assert rep.run is not None and "Calc.php" in rep.run.build_log
    assert not flags(rep, "tamper-suspect")


def test_a_file_that_stops_phpunit_costs_only_its_tests(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "missing_file")
    errored = {t.id for t in rep.tests if t.outcome == "error"}
    assert errored == {i for i in EXPECTED_IDS if i.startswith(SLUG)}
    assert failing(rep) == errored - AUTHOR_SKIPPED
    assert {outcomes(rep)[i] for i in EXPECTED_IDS if i.startswith((CALC, MEAN))} == {
        "passed",
        "skipped",
    }
    assert not flags(rep, "build-failed")
    assert not flags(rep, "tamper-suspect")


def test_exit_mid_run_fails_the_test_in_progress_and_keeps_finished_ones(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "exit_in_test")
    got = outcomes(rep)
    assert {got[i] for i in EXPECTED_IDS if i.startswith(CALC)} == {"passed", "skipped"}
    assert got[MEAN + "testMean"] == "error"
    assert "exited while this test ran" in (
        {t.id: t for t in rep.tests}[MEAN + "testMean"].message or ""
    )
    assert {got[i] for i in EXPECTED_IDS if i.startswith(SLUG)} == {"not_reported"}
    assert got[MEAN + "testMeanOfNothing"] == "not_reported"
    stopped = "phpunit stopped during MeanTest.php: MeanTest testMean"
    assert any(stopped in m for m in flags(rep, "results-missing"))
    assert any("ends the test process" in m for m in flags(rep, "tamper-suspect"))
    passed = {i for i, o in got.items() if o == "passed"}
    assert rep.scores.correctness == pytest.approx(weighted_share(rep, passed), abs=0.051)


def test_style_findings_come_with_file_line_and_rule(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "style_and_docs")
    found = {(f.file, f.line, f.code) for f in rep.style.findings}
    assert ("Calc.php", 15, "Generic.ControlStructures.InlineControlStructure.NotAllowed") in found
    assert ("Calc.php", 16, "PSR12.Operators.OperatorSpacing.NoSpaceBefore") in found
    assert report(graded, "reference").style.findings == []


def test_docs_count_public_functions_classes_and_methods(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    ref = report(graded, "reference")
    assert (ref.docs.documented, ref.docs.total) == (5, 5)
    rep = report(graded, "style_and_docs")
    assert "scale" not in {i.name for i in rep.docs.items}  # private: not counted
    assert {i.name for i in rep.docs.items if not i.documented} == {"half"}
    assert (rep.docs.documented, rep.docs.total) == (5, 6)


def test_complexity_comes_from_lizard(graded: tuple[ExpectedTests, dict[str, Report]]) -> None:
    rep = report(graded, "reference")
    cc = {f.name: f.complexity for f in rep.complexity.functions}
    assert cc == {"Calc::add": 1, "Calc::divide": 2, "Calc::mean": 2, "slugify": 1}
    assert rep.complexity.reference is not None


def test_scaffold_validates_through_the_cli(tmp_path: Path, docker_runner: DockerRunner) -> None:
    made = grader_cli("new", "php-demo", "--language", "php", "--dir", tmp_path, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checked = grader_cli("validate", tmp_path / "php-demo", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "reference 100 correctness" in checked.stdout


@pytest.fixture(scope="module")
def bad_reports(
    docker_runner: DockerRunner, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[float, Report]]:
    grader = Grader(docker_runner, tmp_path_factory.mktemp("php-bad"))
    challenge = load_challenge(CHALLENGES / "invoice-calculator")
    ceilings = bad_submissions("invoice-calculator")
    jobs = {
        name: (lambda name=name: grader.grade(challenge, challenge.root / "bad" / name, name))
        for name in ceilings
    }
    graded = grader.grade_all(jobs)
    return {name: (ceilings[name], graded[name]) for name in ceilings}


def test_known_bad_submissions_stay_under_their_ceiling(
    bad_reports: dict[str, tuple[float, Report]],
) -> None:
    """challenges/invoice-calculator/bad/: each typical mistake is caught by the tests (the data
    `grader validate --strict` checks)."""
    assert len(bad_reports) == 2
    for name, (ceiling, rep) in bad_reports.items():
        assert rep.status == "graded", (name, rep.error)
        assert 0 < rep.scores.correctness <= ceiling < 100, (name, rep.scores.correctness)
