"""Challenge health without a sandbox: config keys, known-bad folders, the flakiness,
time-margin and known-bad verdicts, the mutation score, the record and its key, and
the three renderings. (The checks through the real sandbox: test_health_strict.py.)"""

from __future__ import annotations

import dataclasses
import json
import textwrap
from pathlib import Path

import pytest

from grader import report as rep
from grader.challenge import load_challenge, parse_config
from grader.errors import ChallengeError
from grader.health import checks, record
from grader.health.model import (
    ChallengeHealth,
    HealthChecks,
    MutationCheck,
    ValidationReport,
    worst,
)
from grader.health.render import render
from grader.mutation import MUTATOR_VERSION, mutants_of
from grader.report import ChallengeRef, Flag, Report, Scores, SubmissionRef, Timings

SOLUTION = textwrap.dedent(
    '''\
    """Clamp."""


    def clamp(x, lo, hi):
        """Bound x."""
        if lo > hi:
            raise ValueError("empty range")
        if x < lo:
            return lo
        return min(x, hi)
    '''
)


def make_challenge(root: Path, toml_extra: str = "") -> Path:
    files = {
        "challenge.toml": f'title = "Clamp"\nlanguage = "python"\n{toml_extra}',
        "solution/clamp.py": SOLUTION,
        "starter/clamp.py": "def clamp(x, lo, hi):\n    return x\n",
        "tests/hidden/test_clamp.py": "from clamp import clamp\n\n\n"
        "def test_low():\n    assert clamp(1, 2, 3) == 2\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def report(
    outcomes: dict[str, str],
    *,
    durations: float = 0.01,
    run_s: float = 1.0,
    correctness: float = 100.0,
    limits: list[str] | None = None,
) -> Report:
    return Report(
        challenge=ChallengeRef(slug="c", version=1),
        submission=SubmissionRef(id="s", sha256="0" * 64),
        tests=[
            rep.TestResult(id=i, visibility="hidden", weight=1, outcome=o, duration_s=durations)  # type: ignore[arg-type]
            for i, o in outcomes.items()
        ],
        scores=Scores(correctness=correctness),
        timings=Timings(run_s=run_s),
        limits_hit=limits or [],  # type: ignore[arg-type]
    )


# -- configuration ---------------------------------------------------------------------


def test_health_keys_have_defaults() -> None:
    cfg = parse_config('title = "x"\nlanguage = "python"\n', Path("c.toml")).health
    assert (cfg.min_mutation_score, cfg.flaky_runs, cfg.min_time_margin, cfg.min_known_bad) == (
        80,
        5,
        3,
        2,
    )
    assert cfg.accepted == {}


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[health]\nmin_mutation_score = 101\n", "health.min_mutation_score"),
        ("[health]\nflaky_runs = 1\n", "health.flaky_runs"),
        ("[health]\nmin_time_margin = 0.5\n", "health.min_time_margin"),
        ("[health]\nmutants = 3\n", "health.mutants: unknown key"),
        ('[health.accepted]\n"clamp.py" = "because it is equivalent"\n', "not a mutant id"),
        ('[health.accepted]\n"clamp.py#0123abcd" = " "\n', "give the reason"),
    ],
)
def test_bad_health_keys_are_named(toml: str, needle: str) -> None:
    with pytest.raises(ChallengeError) as err:
        parse_config(f'title = "x"\nlanguage = "python"\n{toml}', Path("ch/challenge.toml"))
    assert str(err.value).startswith("ch/challenge.toml: ")
    assert needle in str(err.value)


def test_known_bad_folders_load_with_their_expectations(tmp_path: Path) -> None:
    root = make_challenge(tmp_path / "c")
    for name, toml in (
        ("b-two", "max_correctness = 40\n"),
        ("a-one", 'max_correctness = 0\ndescription = "empty"\n'),
    ):
        (root / "bad" / name).mkdir(parents=True)
        (root / "bad" / name / "expect.toml").write_text(toml)
    found = checks.load_known_bad(load_challenge(root))
    assert [(n, e.max_correctness, e.description) for n, _, e in found] == [
        ("a-one", 0, "empty"),
        ("b-two", 40, ""),
    ]


@pytest.mark.parametrize(
    ("expect", "needle"),
    [
        (None, "expect.toml: missing"),
        ("max_correctness = 140\n", "max_correctness: Input should be less than or equal to 100"),
        ("max_correctness = 10\nmax = 3\n", "max: unknown key"),
        ("description = 'x'\n", "max_correctness: Field required"),
        ("max_correctness = \n", "not valid TOML"),
    ],
)
def test_a_broken_known_bad_folder_is_named(
    tmp_path: Path, expect: str | None, needle: str
) -> None:
    root = make_challenge(tmp_path / "c")
    (root / "bad" / "oops").mkdir(parents=True)
    if expect is not None:
        (root / "bad" / "oops" / "expect.toml").write_text(expect)
    with pytest.raises(ChallengeError) as err:
        checks.load_known_bad(load_challenge(root))
    assert f"{root / 'bad' / 'oops' / 'expect.toml'}: " in str(err.value)
    assert needle in str(err.value)


# -- verdicts --------------------------------------------------------------------------


def test_a_test_whose_outcome_changes_is_flaky() -> None:
    runs = [report({"a": "passed", "b": "passed"}), report({"a": "passed", "b": "failed"})]
    found = checks.flakiness(runs)
    assert found.verdict == "fail"
    assert [(f.id, f.outcomes) for f in found.flaky] == [("b", ["passed", "failed"])]
    assert checks.flakiness(runs[:1] * 3).verdict == "pass"


def test_time_margins_pass_warn_and_fail(tmp_path: Path) -> None:
    ch = load_challenge(
        make_challenge(tmp_path / "c", "[limits]\ntest_seconds = 2\nwall_seconds = 30\n")
    )
    ok = checks.time_margins(ch, [report({"a": "passed"}, durations=0.1, run_s=3)])
    assert ok.verdict == "pass" and ok.test is not None and ok.test.margin == 20
    assert ok.run is not None and ok.run.margin == 10
    slow = checks.time_margins(ch, [report({"a": "passed"}, durations=0.9, run_s=3)])
    assert slow.verdict == "warn" and "below the 3× margin" in slow.message
    assert slow.slowest_test == "a"
    long_run = checks.time_margins(ch, [report({"a": "passed"}, run_s=12)])
    assert long_run.verdict == "warn"
    hit = checks.time_margins(ch, [report({"a": "failed"}, durations=2, limits=["timeout"])])
    assert hit.verdict == "fail" and "hit a limit: timeout" in hit.message


def test_known_bad_must_stay_under_its_bar_and_there_must_be_enough(tmp_path: Path) -> None:
    ch = load_challenge(make_challenge(tmp_path / "c"))
    exp = checks.Expect(max_correctness=40)
    bad = [("one", tmp_path, exp), ("two", tmp_path, exp)]
    good = checks.known_bad(ch, bad, [report({}, correctness=40), report({}, correctness=0)])
    assert good.verdict == "pass"
    over = checks.known_bad(ch, bad, [report({}, correctness=40.5), report({}, correctness=0)])
    assert over.verdict == "fail" and "one 40.5 > 40" in over.message
    few = checks.known_bad(ch, bad[:1], [report({}, correctness=0)])
    assert few.verdict == "fail" and "1 known-bad submission under bad/, 2 needed" in few.message


def test_mutant_outcomes_ignore_flaky_tests_and_spot_timeouts_and_build_failures() -> None:
    assert checks._outcome(report({"a": "passed"}), set()).status == "survived"
    killed = checks._outcome(report({"a": "passed", "b": "failed"}), set())
    assert (killed.status, killed.killed_by) == ("killed", "b")
    assert checks._outcome(report({"b": "failed"}), {"b"}).status == "survived"
    assert checks._outcome(report({"b": "failed"}, limits=["timeout"]), set()).status == "timeout"
    broken = report({"b": "error"})
    broken.flags.append(Flag(code="build-failed", message="x"))
    assert checks._outcome(broken, set()).status == "invalid"


def test_mutant_limits_follow_the_reference_within_the_challenges(tmp_path: Path) -> None:
    ch = load_challenge(make_challenge(tmp_path / "c"))
    assert checks.mutant_limits(ch, [report({"a": "passed"}, durations=0.05, run_s=4)]) == (1.5, 20)
    assert checks.mutant_limits(ch, [report({"a": "passed"}, durations=2, run_s=30)]) == (5, 60)


def _score(tmp_path: Path, statuses: dict[str, str], accepted: str = "") -> MutationCheck:
    root = make_challenge(tmp_path / "c")
    ch = load_challenge(root)
    mutants = checks.reference_mutants(ch)
    ids = [m.id for m in mutants]
    toml = f'title = "Clamp"\nlanguage = "python"\n[health.accepted]\n{accepted}'
    (root / "challenge.toml").write_text(toml.replace("ID0", ids[0]))
    ch = load_challenge(root)
    outcomes = {i: record.Outcome(statuses.get(str(n), "killed"), "t") for n, i in enumerate(ids)}
    base = MutationCheck(verdict="pass", message="", min_score=80)
    return checks._score(ch, mutants, outcomes, set(ids), base, [])


def test_score_counts_killed_and_timeouts_over_judged_mutants(tmp_path: Path) -> None:
    total = len(checks.reference_mutants(load_challenge(make_challenge(tmp_path / "x"))))
    assert total >= 6
    out = _score(tmp_path, {"0": "survived", "1": "timeout", "2": "invalid"})
    assert (out.killed, out.timeout, out.survived, out.invalid) == (total - 3, 1, 1, 1)
    assert out.score == round(100 * (total - 2) / (total - 1), 1)
    survivor = next(m for m in out.mutants if m.status == "survived")
    assert survivor.diff and survivor.diff.startswith("--- a/clamp.py")
    assert next(m for m in out.mutants if m.status == "killed").diff is None


def test_accepted_survivors_leave_the_score_and_stale_ones_are_named(tmp_path: Path) -> None:
    out = _score(
        tmp_path,
        {"0": "survived", "1": "survived", "2": "survived"},
        accepted='"ID0" = "equivalent: min() bounds it anyway"\n'
        '"clamp.py#00000000" = "gone long ago, no longer here"\n',
    )
    assert (out.accepted, out.survived) == (1, 2)
    acc = next(m for m in out.mutants if m.status == "accepted")
    assert acc.reason == "equivalent: min() bounds it anyway"
    assert out.stale_accepted == ["clamp.py#00000000"]
    assert "accepted in challenge.toml but not surviving: clamp.py#00000000" in out.message
    assert out.verdict == "fail"  # 2 survivors among few mutants: under 80%


def test_no_mutants_is_a_warning(tmp_path: Path) -> None:
    root = make_challenge(tmp_path / "c")
    (root / "solution" / "clamp.py").write_text('"""Nothing to mutate."""\n')
    ch = load_challenge(root)
    out = checks._score(
        ch, [], {}, set(), MutationCheck(verdict="pass", message="", min_score=80), []
    )
    assert out.verdict == "warn" and out.score is None


def test_worst_verdict() -> None:
    assert worst(["pass", "skipped"]) == "pass"
    assert worst(["pass", "warn"]) == "warn"
    assert worst(["warn", "fail", "pass"]) == "fail"


# -- the record ------------------------------------------------------------------------


def test_the_content_key_follows_solution_tests_and_limits_only(tmp_path: Path) -> None:
    root = make_challenge(tmp_path / "c")
    key = record.content_key(load_challenge(root))
    (root / "bad" / "x").mkdir(parents=True)
    (root / "bad" / "x" / "expect.toml").write_text("max_correctness = 1\n")
    (root / "README.md").write_text("statement")
    (root / "challenge.toml").write_text(
        'title = "Renamed"\nlanguage = "python"\n[health]\nmin_mutation_score = 90\n'
    )
    assert record.content_key(load_challenge(root)) == key
    test = root / "tests" / "hidden" / "test_clamp.py"
    test.write_text(test.read_text().replace("== 2", "== 2  # same"))
    assert record.content_key(load_challenge(root)) != key
    test.write_text(test.read_text().replace("  # same", ""))
    assert record.content_key(load_challenge(root)) == key
    (root / "challenge.toml").write_text('title = "x"\nlanguage = "python"\n[limits]\npids = 65\n')
    assert record.content_key(load_challenge(root)) != key


def test_a_record_round_trips_and_is_read_only_for_its_key(tmp_path: Path) -> None:
    rec = record.Record(
        key="abc",
        outcomes={
            "f.py#00000001": record.Outcome("killed", "t::x"),
            "f.py#00000002": record.Outcome("survived"),
        },
        computed_s=12.34,
        jobs=2,
        test_seconds=1.5,
        wall_seconds=20,
    )
    path = tmp_path / "health.json"
    assert record.write(path, rec) is None
    data = json.loads(path.read_text())
    assert data["mutator_version"] == MUTATOR_VERSION and data["computed_s"] == 12.3
    back = record.read(path, "abc")
    assert back is not None and back.outcomes == rec.outcomes
    assert record.read(path, "other") is None
    path.write_text("{not json")
    assert record.read(path, "abc") is None
    assert record.write(tmp_path / "file" / "x.json", rec) is None
    (tmp_path / "blocked").write_text("")
    assert "cannot write" in (record.write(tmp_path / "blocked" / "x.json", rec) or "")


def test_stored_results_must_cover_every_mutant(tmp_path: Path) -> None:
    root = make_challenge(tmp_path / "c")
    ch = load_challenge(root)
    mutants = checks.reference_mutants(ch)
    key = record.content_key(ch)
    partial = record.Record(key=key, outcomes={mutants[0].id: record.Outcome("killed")})
    record.write(record.record_path(ch), partial)
    ctx = checks.Context(challenge=ch, runner=None)  # type: ignore[arg-type]
    assert checks._stored(ctx, key, mutants)[0] is None
    full = dataclasses.replace(partial, outcomes={m.id: record.Outcome("killed") for m in mutants})
    record.write(record.record_path(ch), full)
    found, source, where = checks._stored(ctx, key, mutants)
    assert found is not None and source == "record" and where == str(root / "health.json")
    assert checks._stored(dataclasses.replace(ctx, recompute=True), key, mutants)[0] is None


# -- rendering -------------------------------------------------------------------------


def _health(tmp_path: Path) -> ChallengeHealth:
    mut = _score(tmp_path, {"0": "survived", "3": "survived"})
    ch = load_challenge(tmp_path / "c")
    return ChallengeHealth(
        slug="c",
        version=1,
        language="python",
        verdict="fail",
        summary="1 test",
        checks=HealthChecks(
            mutation=mut,
            flakiness=checks.flakiness([report({"a": "passed"}), report({"a": "failed"})]),
            time_margins=checks.time_margins(ch, [report({"a": "passed"})]),
            known_bad=checks.known_bad(
                ch,
                [("one", tmp_path, checks.Expect(max_correctness=5))],
                [report({}, correctness=50)],
            ),
        ),
    )


def test_text_shows_each_verdict_and_survivors_as_diffs_with_their_line(tmp_path: Path) -> None:
    health = _health(tmp_path)
    survivor = next(m for m in health.checks.mutation.mutants if m.status == "survived")  # type: ignore[union-attr]
    out = render(ValidationReport(strict=True, challenges=[health]), "text")
    assert out.startswith("FAIL c: 1 test\n")
    for row in (
        "mutation      FAIL",
        "flakiness     FAIL",
        "time margins  ok",
        "known-bad     FAIL",
    ):
        assert row in out
    assert "flaky: a: passed, failed" in out
    assert f"{survivor.id} clamp.py line {survivor.line} (" in out
    assert "      --- a/clamp.py\n      +++ b/clamp.py\n      @@ -" in out
    assert "known-bad one: correctness 50 (at most 5) FAIL" in out


def test_markdown_and_json(tmp_path: Path) -> None:
    health = _health(tmp_path)
    rep = ValidationReport(strict=True, challenges=[health])
    md = render(rep, "md")
    assert md.startswith("### ❌ `c` — fail")
    assert "| mutation | ❌ fail |" in md and "```diff" in md and "| `one` | 50 | 5 | ❌ |" in md
    data = json.loads(render(rep, "json"))
    assert data["schema_version"] == 1 and data["strict"] is True
    checks_ = data["challenges"][0]["checks"]
    assert set(checks_) == {"mutation", "flakiness", "time_margins", "known_bad"}
    assert {c["verdict"] for c in checks_.values()} <= {"pass", "warn", "fail", "skipped"}
    assert ValidationReport.model_validate(data) == rep


def test_python_mutants_of_the_test_solution_exist() -> None:
    assert len(mutants_of("python", "clamp.py", SOLUTION)) >= 6


def test_a_mutant_the_tests_cannot_load_is_invalid_not_killed() -> None:
    broken = report({"a": "error", "b": "error"})
    for t in broken.tests:
        t.message = "collection error: does not build: SyntaxError: unexpected ','"
    assert checks._outcome(broken, set()).status == "invalid"
    broken.tests[0].message = "collection error: ImportError: no module named x"
    assert checks._outcome(broken, set()).status == "killed"


def test_caches_and_hidden_files_leave_the_content_key_alone(tmp_path: Path) -> None:
    root = make_challenge(tmp_path / "c")
    key = record.content_key(load_challenge(root))
    for rel in ("tests/hidden/__pycache__/x.pyc", "tests/.pytest_cache/v", "solution/.DS_Store"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("noise")
    assert record.content_key(load_challenge(root)) == key


def test_survivors_to_act_on_come_before_accepted_ones(tmp_path: Path) -> None:
    health = _health(tmp_path)
    assert health.checks is not None
    mut = health.checks.mutation
    first = mut.mutants[0].model_copy(update={"status": "accepted", "reason": "same thing"})
    health.checks.mutation = mut.model_copy(update={"mutants": [first, *mut.mutants[1:]]})
    out = render(ValidationReport(strict=True, challenges=[health]), "text")
    survived = out.index("— survived")
    assert survived < out.index("— accepted")
