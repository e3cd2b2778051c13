"""JavaScript end to end on the real image (challenges/conformance-javascript): ids,
outcomes of typical bugs, load failures, an exit mid-run, weights, visibility, author
skips, the candidate's view, ESLint findings, JSDoc coverage and lizard complexity."""

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

CHALLENGE = CHALLENGES / "conformance-javascript"
PUB = "tests/public/mathx.test.js::"
MATH = "tests/hidden/mathx.hidden.test.js::"
STR = "tests/hidden/strings.test.js::"

EXPECTED_IDS = [
    PUB + "mathx › add::adds two numbers",
    PUB + "mathx › add::the author skips this one",
    PUB + "mathx › divide::divides",
    PUB + "mathx › divide::refuses zero",
    MATH + "mean of a small list",
    MATH + "mean of a single number",
    MATH + "mean of nothing is a TypeError",
    MATH + "add is commutative for floats",
    MATH + "mean of a generator",
    STR + 'strings › slugify::slugify("Hello, World!") is "hello-world"',
    STR + 'strings › slugify::slugify("  many   spaces  ") is "many-spaces"',
    STR + 'strings › slugify::slugify("Ünïcödé Straße 2") is "ünïcödé-straße-2"',
    STR + "strings › slugify › edges::gives an empty slug for punctuation only",
    STR + "strings::shouts",
]
AUTHOR_SKIPPED = {PUB + "mathx › add::the author skips this one", MATH + "mean of a generator"}

VARIANTS = {
    "reference": Variant(),
    # Two typical bugs: no zero check, and dashes left at the ends of a slug.
    "bugs": Variant(
        replace={
            "mathx.js": [
                ("  if (b === 0) {\n    throw new RangeError('division by zero');\n  }\n", "")
            ],
            "strings.js": [(".replace(/^-+|-+$/g, '')", "")],
        }
    ),
    "syntax_error": Variant(
        replace={"strings.js": [("function shout(text) {", "function shout(text {")]}
    ),
    "missing_module": Variant(drop=("strings.js",)),
    # mean([5]) ends the process: in the middle of "mean of a single number".
    "exit_in_test": Variant(
        replace={
            "mathx.js": [
                (
                    "  if (!Array.isArray(numbers)",
                    "  if (numbers.length === 1) process.exit(0);\n  if (!Array.isArray(numbers)",
                )
            ]
        }
    ),
    "style_and_docs": Variant(
        replace={
            "mathx.js": [
                (
                    "function add(a, b) {\n  return a + b;\n}",
                    "function add(a, b) {\n  var sum = a + b;\n"
                    "  if (sum == '0') return 0;\n  return sum;\n}",
                ),
                # An exported function without JSDoc, and an undocumented helper that is
                # not exported (not counted).
                ("/**\n * a divided by b; a RangeError when b is 0.", "/*\n * a divided by b."),
                ("module.exports = {", "function helper() {\n  return 1;\n}\n\nmodule.exports = {"),
            ]
        }
    ),
}


pytestmark = [pytest.mark.docker]


@pytest.fixture(scope="module")
def challenge() -> Challenge:
    return load_challenge(CHALLENGE)


@pytest.fixture(scope="module")
def graded(
    challenge: Challenge, docker_runner: DockerRunner, tmp_path_factory: pytest.TempPathFactory
) -> tuple[ExpectedTests, dict[str, Report]]:
    return grade_variants(challenge, VARIANTS, docker_runner, tmp_path_factory.mktemp("lang-js"))


def report(graded: tuple[ExpectedTests, dict[str, Report]], name: str) -> Report:
    rep = graded[1][name]
    assert rep.status == "graded", rep.error
    return rep


def test_ids_follow_files_describe_blocks_and_each_rows(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    expected, _ = graded
    assert sorted(expected.ids) == sorted(EXPECTED_IDS)
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
        PUB + "mathx › divide::refuses zero",
        STR + 'strings › slugify::slugify("Hello, World!") is "hello-world"',
        STR + 'strings › slugify::slugify("  many   spaces  ") is "many-spaces"',
        STR + "strings › slugify › edges::gives an empty slug for punctuation only",
    }
    assert failing(rep) == lost
    assert {outcomes(rep)[i] for i in lost} == {"failed"}
    passing = {t.id for t in rep.tests if t.counted} - lost
    assert rep.scores.correctness == pytest.approx(weighted_share(rep, passing), abs=0.051)
    assert not flags(rep, "tamper-suspect")


def test_weights_and_visibility_come_from_the_challenge(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "bugs")
    by_id = {t.id: t for t in rep.tests}
    assert by_id[PUB + "mathx › divide::refuses zero"].weight == 2
    assert by_id[STR + 'strings › slugify::slugify("Hello, World!") is "hello-world"'].weight == 3
    assert by_id[MATH + "mean of a small list"].weight == 1
    assert {t.visibility for t in rep.tests if t.id.startswith("tests/public/")} == {"public"}
    assert {t.visibility for t in rep.tests if t.id.startswith("tests/hidden/")} == {"hidden"}
    # 16 counted weight units, 7 of them lost (2 + 3 + 1 + 1).
    assert rep.scores.correctness == pytest.approx(100 * 9 / 16, abs=0.051)


def test_candidate_view_hides_hidden_tests(
    challenge: Challenge, graded: tuple[ExpectedTests, dict[str, Report]]
) -> None:
    rep = report(graded, "bugs")
    view = candidate_view(rep, challenge.config.feedback)
    text = json.dumps(view, ensure_ascii=False)
    for t in rep.tests:
        if t.visibility == "hidden":
            assert t.id.split("::")[-1] not in text
    assert (view["hidden_tests"]["passed"], view["hidden_tests"]["total"]) == (6, 9)
    assert "tests" not in view["hidden_tests"]  # the policy shows a count only
    # In-process runs show public tests as pass/fail only (their messages could carry
    # what the code read in the tests' process).
    assert view["public_tests"]["shown"] == "pass-fail"
    public = {t["id"]: t["outcome"] for t in view["public_tests"]["tests"]}
    assert public[PUB + "mathx › divide::refuses zero"] == "failed"
    assert public[PUB + "mathx › add::the author skips this one"] == "not counted"
    assert all(set(t) == {"id", "outcome"} for t in view["public_tests"]["tests"])


def test_syntax_error_is_a_graded_build_failure(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "syntax_error")
    assert {t.outcome for t in rep.tests} == {"error"}
    assert rep.scores.correctness == 0
    assert flags(rep, "build-failed")
    assert rep.run is not None and "strings.js:" in rep.run.build_log
    assert not flags(rep, "tamper-suspect")


def test_missing_module_costs_only_the_file_that_loads_it(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "missing_module")
    errored = {t.id for t in rep.tests if t.outcome == "error"}
    assert errored == {i for i in EXPECTED_IDS if i.startswith(STR)}
    assert all("Cannot find module" in (t.message or "") for t in rep.tests if t.id in errored)
    assert failing(rep) == errored
    assert not flags(rep, "build-failed")
    assert not flags(rep, "tamper-suspect")


def test_exit_mid_run_fails_the_test_in_progress_and_keeps_finished_ones(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "exit_in_test")
    got = outcomes(rep)
    # Files run in path order: mathx.hidden.test.js first, so its first test finished.
    assert got[MATH + "mean of a small list"] == "passed"
    assert got[MATH + "mean of a single number"] == "error"
    assert "exited while this test ran" in (
        {t.id: t for t in rep.tests}[MATH + "mean of a single number"].message or ""
    )
    later = [
        MATH + "mean of nothing is a TypeError",
        PUB + "mathx › divide::divides",
        STR + "strings::shouts",
    ]
    assert {got[i] for i in later} == {"not_reported"}
    stopped = "jest stopped during mathx.hidden.test.js: mean of a single number"
    assert any(stopped in m for m in flags(rep, "results-missing"))
    assert any("ends the test process" in m for m in flags(rep, "tamper-suspect"))
    assert rep.scores.correctness == pytest.approx(
        weighted_share(rep, {MATH + "mean of a small list"}), abs=0.051
    )


def test_style_findings_come_with_file_line_and_rule(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    rep = report(graded, "style_and_docs")
    found = {(f.file, f.line, f.code) for f in rep.style.findings}
    assert ("mathx.js", 10, "no-var") in found
    assert ("mathx.js", 11, "eqeqeq") in found
    assert report(graded, "reference").style.findings == []
    assert rep.scores.style < 100


def test_docs_count_exported_functions_with_jsdoc(
    graded: tuple[ExpectedTests, dict[str, Report]],
) -> None:
    ref = report(graded, "reference")
    assert (ref.docs.documented, ref.docs.total) == (5, 5)
    assert {i.name for i in ref.docs.items} == {"add", "divide", "mean", "slugify", "shout"}
    rep = report(graded, "style_and_docs")
    undocumented = {i.name for i in rep.docs.items if not i.documented}
    assert undocumented == {"divide"}  # a plain /* comment is not JSDoc
    assert "helper" not in {i.name for i in rep.docs.items}  # not exported: not counted
    assert (rep.docs.documented, rep.docs.total) == (4, 5)


def test_complexity_comes_from_lizard(graded: tuple[ExpectedTests, dict[str, Report]]) -> None:
    rep = report(graded, "reference")
    cc = {(f.file, f.name): f.complexity for f in rep.complexity.functions}
    assert cc[("mathx.js", "add")] == 1
    assert cc[("mathx.js", "divide")] == 2
    assert cc[("mathx.js", "mean")] == 3  # if + ||
    assert rep.complexity.reference is not None


def test_scaffold_validates_through_the_cli(tmp_path: Path, docker_runner: DockerRunner) -> None:
    made = grader_cli("new", "js-demo", "--language", "javascript", "--dir", tmp_path, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    checked = grader_cli("validate", tmp_path / "js-demo", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ok" in checked.stdout and "reference 100 correctness" in checked.stdout


@pytest.fixture(scope="module")
def bad_reports(
    docker_runner: DockerRunner, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[float, Report]]:
    grader = Grader(docker_runner, tmp_path_factory.mktemp("js-bad"))
    challenge = load_challenge(CHALLENGES / "request-router")
    ceilings = bad_submissions("request-router")
    jobs = {
        name: (lambda name=name: grader.grade(challenge, challenge.root / "bad" / name, name))
        for name in ceilings
    }
    graded = grader.grade_all(jobs)
    return {name: (ceilings[name], graded[name]) for name in ceilings}


def test_known_bad_submissions_stay_under_their_ceiling(
    bad_reports: dict[str, tuple[float, Report]],
) -> None:
    """challenges/request-router/bad/: each typical mistake is caught by the tests (the data
    `grader validate --strict` checks)."""
    assert len(bad_reports) == 2
    for name, (ceiling, rep) in bad_reports.items():
        assert rep.status == "graded", (name, rep.error)
        assert 0 < rep.scores.correctness <= ceiling < 100, (name, rep.scores.correctness)
