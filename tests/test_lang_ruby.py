"""Ruby end to end on the real image (challenges/conformance-ruby): Minitest and RSpec
ids, outcomes of typical bugs, load failures, exits in either framework, weights,
visibility, author skips, the candidate's view, RuboCop findings, comment coverage of
public methods and lizard complexity."""

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

CHALLENGE = CHALLENGES / "conformance-ruby"
MT = "tests/public/calc_test.rb::CalcTest::"
SPEC = "tests/hidden/calc_spec.rb::"
EDGES = "tests/hidden/test_slug_edges.rb::"
EDGE = EDGES + "SlugEdgesTest::"

EXPECTED_IDS = {
    MT + "test_add",
    MT + "test_divide",
    MT + "test_divide_by_zero",
    MT + "test_skipped_by_the_author",
    SPEC + "Calc .mean::averages",
    SPEC + "Calc .mean::averages several lists",
    SPEC + "Calc .mean::is skipped by the author",
    SPEC + "Calc .mean with an empty array::raises ArgumentError",
    SPEC + "Calc .add::is disabled by the author",
    SPEC + 'Slug::makes "hello-world"',
    SPEC + 'Slug::makes "many-spaces"',
    SPEC + 'Slug::makes "ünïcödé-straße-2"',
    EDGE + "test_punctuation_only",
    EDGE + "test_digits_are_kept",
    EDGES + "Slug::test_0001_is idempotent (Minitest spec style)",
}
AUTHOR_SKIPPED = {
    MT + "test_skipped_by_the_author",
    SPEC + "Calc .mean::is skipped by the author",
    SPEC + "Calc .add::is disabled by the author",
}

TALLY = """
  # Keeps a running total.
  class Tally
    # An empty tally.
    def initialize
      @sum = 0
    end

    # Adds one number.
    def add(number)
      @sum = grow(number)
    end

    def total
      @sum
    end

    private

    def grow(number)
      @sum + number
    end
  end
end
"""

VARIANTS = {
    "reference": Variant(),
    # Two typical bugs: no zero check, and dashes left at the ends of a slug.
    "bugs": Variant(
        replace={
            "calc.rb": [
                ('    raise ZeroDivisionError, "division by zero" if divisor.zero?\n\n', "")
            ],
            "lib/slug.rb": [('.gsub(/\\A-+|-+\\z/, "")', "")],
        }
    ),
    "syntax_error": Variant(
        replace={"lib/slug.rb": [("def self.make(text)", "def self.make(text")]}
    ),
    # Without lib/slug.rb, the two test files that require it do not load.
    "missing_lib": Variant(drop=("lib/slug.rb",)),
    # `exit` in the middle of a Minitest test (divide by 2) and of an RSpec example
    # (the mean of [1, 2, 3, 4]): each process ends there.
    "exits": Variant(
        replace={
            "calc.rb": [
                (
                    "    raise ZeroDivisionError",
                    "    exit if divisor == 2\n    raise ZeroDivisionError",
                ),
                (
                    '    raise ArgumentError, "mean',
                    '    exit 3 if numbers == [1, 2, 3, 4]\n    raise ArgumentError, "mean',
                ),
            ]
        }
    ),
    "style_and_docs": Variant(
        replace={
            "calc.rb": [
                ("    left + right\n", "    return left+right\n"),
                ("  end\nend\n", "  end\n" + TALLY),
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
    return grade_variants(challenge, VARIANTS, docker_runner, tmp_path_factory.mktemp("lang-rb"))


def report(graded: tuple[ExpectedTests, dict[str, Report]], name: str) -> Report:
    rep = graded[1][name]
    assert rep.status == "graded", rep.error
    return rep


def test_ids_follow_classes_and_example_groups(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    expected, _ = graded
    assert set(expected.ids) == EXPECTED_IDS
    assert len(expected.ids) == len(EXPECTED_IDS)
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
        MT + "test_divide_by_zero",
        SPEC + 'Slug::makes "hello-world"',
        SPEC + 'Slug::makes "many-spaces"',
        EDGE + "test_punctuation_only",
    }
    assert failing(rep) == lost
    assert {outcomes(rep)[i] for i in lost} == {"failed"}
    passing = {t.id for t in rep.tests if t.counted} - lost
    assert rep.scores.correctness == pytest.approx(weighted_share(rep, passing), abs=0.051)
    by_id = {t.id: t for t in rep.tests}
    assert by_id[MT + "test_divide_by_zero"].weight == 2
    assert by_id[SPEC + "Calc .mean with an empty array::raises ArgumentError"].weight == 3
    assert {t.visibility for t in rep.tests if t.id.startswith("tests/hidden/")} == {"hidden"}
    assert not flags(rep, "tamper-suspect")


def test_candidate_view_hides_hidden_tests(
    challenge: Challenge, graded: tuple[ExpectedTests, dict[str, Report]]
) -> None:
    rep = report(graded, "bugs")
    view = candidate_view(rep, challenge.config.feedback)
    text = json.dumps(view, ensure_ascii=False)
    assert "makes" not in text and "calc_spec" not in text and "punctuation" not in text
    assert (view["hidden_tests"]["passed"], view["hidden_tests"]["total"]) == (6, 9)
    public = {t["id"]: t["outcome"] for t in view["public_tests"]["tests"]}
    assert public == {
        MT + "test_add": "passed",
        MT + "test_divide": "passed",
        MT + "test_divide_by_zero": "failed",
        MT + "test_skipped_by_the_author": "not counted",
    }


def test_syntax_error_is_a_graded_build_failure(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "syntax_error")
    assert {t.outcome for t in rep.tests} == {"error"}
    assert rep.scores.correctness == 0
    assert flags(rep, "build-failed")
    assert rep.run is not None and "lib/slug.rb" in rep.run.build_log
    assert not flags(rep, "tamper-suspect")


def test_a_file_that_does_not_load_costs_only_its_tests(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "missing_lib")
    errored = {t.id for t in rep.tests if t.outcome == "error"}
    assert errored == {i for i in EXPECTED_IDS if i.startswith((SPEC, EDGES))}
    assert all("LoadError" in (t.message or "") for t in rep.tests if t.id in errored)
    assert {outcomes(rep)[i] for i in EXPECTED_IDS if i.startswith(MT)} == {"passed", "skipped"}
    assert not flags(rep, "build-failed")
    assert not flags(rep, "tamper-suspect")


def test_exit_in_either_framework_fails_the_test_in_progress_only(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "exits")
    got = outcomes(rep)
    by_id = {t.id: t for t in rep.tests}
    assert got[MT + "test_divide"] == "error"
    assert "exited while this test ran" in (by_id[MT + "test_divide"].message or "")
    assert got[SPEC + "Calc .mean::averages"] == "error"
    assert "exited while this example ran" in (by_id[SPEC + "Calc .mean::averages"].message or "")
    # RSpec runs in the order defined: everything after the exit is not reported.
    assert got[SPEC + 'Slug::makes "hello-world"'] == "not_reported"
    # Minitest's order is random (seeded): the other tests finished or never ran.
    for i in (MT + "test_add", MT + "test_divide_by_zero", EDGE + "test_digits_are_kept"):
        assert got[i] in ("passed", "not_reported"), i
    stopped = " ".join(flags(rep, "results-missing"))
    assert "minitest stopped during calc_test.rb: CalcTest test_divide" in stopped
    assert "rspec stopped during calc_spec.rb: Calc .mean averages" in stopped
    passed = {i for i, o in got.items() if o == "passed"}
    assert rep.scores.correctness == pytest.approx(weighted_share(rep, passed), abs=0.051)


def test_style_findings_come_with_file_line_and_rule(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "style_and_docs")
    found = {(f.file, f.line, f.code) for f in rep.style.findings}
    assert ("calc.rb", 7, "Style/RedundantReturn") in found
    assert ("calc.rb", 7, "Layout/SpaceAroundOperators") in found
    assert report(graded, "reference").style.findings == []


def test_docs_count_public_methods_and_classes_not_private_ones(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    ref = report(graded, "reference")
    assert (ref.docs.documented, ref.docs.total) == (6, 6)
    rep = report(graded, "style_and_docs")
    names = [i.name for i in rep.docs.items]
    assert "grow" not in names  # private: not counted
    assert {i.name for i in rep.docs.items if not i.documented} == {"total"}
    assert (rep.docs.documented, rep.docs.total) == (9, 10)


def test_complexity_comes_from_lizard(graded: tuple[ExpectedTests, dict[str, Report]]) -> None:
    rep = report(graded, "reference")
    cc = {f.name: f.complexity for f in rep.complexity.functions}
    assert cc == {"self.add": 1, "self.divide": 2, "self.mean": 2, "self.make": 1}
    assert rep.complexity.reference is not None


def test_scaffold_validates_through_the_cli(tmp_path: Path, docker_runner: DockerRunner) -> None:
    made = grader_cli("new", "rb-demo", "--language", "ruby", "--dir", tmp_path, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checked = grader_cli("validate", tmp_path / "rb-demo", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "reference 100 correctness" in checked.stdout


@pytest.fixture(scope="module")
def bad_reports(
    docker_runner: DockerRunner, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[float, Report]]:
    grader = Grader(docker_runner, tmp_path_factory.mktemp("rb-bad"))
    challenge = load_challenge(CHALLENGES / "shopping-cart")
    ceilings = bad_submissions("shopping-cart")
    jobs = {
        name: (lambda name=name: grader.grade(challenge, challenge.root / "bad" / name, name))
        for name in ceilings
    }
    graded = grader.grade_all(jobs)
    return {name: (ceilings[name], graded[name]) for name in ceilings}


def test_known_bad_submissions_stay_under_their_ceiling(
    bad_reports: dict[str, tuple[float, Report]],
) -> None:
    """challenges/shopping-cart/bad/: each typical mistake is caught by the tests (the data
    `grader validate --strict` checks)."""
    assert len(bad_reports) == 2
    for name, (ceiling, rep) in bad_reports.items():
        assert rep.status == "graded", (name, rep.error)
        assert 0 < rep.scores.correctness <= ceiling < 100, (name, rep.scores.correctness)
