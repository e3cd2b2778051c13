"""``grader validate --strict`` through the real sandbox: strong tests pass and leave a
record that the next run reuses; a deleted assertion lets a mutant survive and the
run fails showing it as a diff with its line; a known-bad submission above its bar
fails; a test that depends on chance is found flaky; a slow test warns; the mutants
of every language's scaffold build and are graded."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from test_cli import grader

from grader.challenge import load_challenge
from grader.engine import expected_tests, reference_complexity
from grader.health.checks import Context, Shared, grade_folder, mutation
from grader.languages import LANGUAGES
from grader.mutation import mutants_of
from grader.scaffold import write_scaffold
from runners.docker import DockerRunner

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.timeout(900)]

CLAMP = '''\
"""Clamp a number into a range."""


def clamp(x, lo, hi):
    """Return ``x`` bounded to ``[lo, hi]``."""
    if lo > hi:
        raise ValueError("lo must not exceed hi")
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
'''

CLAMP_TESTS = """\
import pytest

from clamp import clamp


def test_below():
    assert clamp(-3, 1, 9) == 1


def test_above():
    assert clamp(12, 1, 9) == 9


def test_empty_range_raises():
    with pytest.raises(ValueError):
        clamp(1, 5, 4)


def test_ranges_of_one_point():
    assert clamp(2, 1, 2) == 2
    assert clamp(7, 3, 3) == 3
"""

WEAK_ASSERTION = "    assert clamp(7, 3, 3) == 3\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def clamp_challenge(root: Path) -> Path:
    """A challenge whose tests kill every mutant but the two equivalent ones (accepted)."""
    mutants = mutants_of("python", "clamp.py", CLAMP)
    # `x < lo` → `x <= lo` returns lo == x; `x > hi` → `x >= hi` returns hi == x.
    equivalent = [m for m in mutants if m.description in ("`<` → `<=`", "`>` → `>=`")]
    equivalent = [m for m in equivalent if m.line in (8, 10)]
    assert len(equivalent) == 2
    accepted = "".join(
        f'"{m.id}" = "returns the bound, which equals x there"\n' for m in equivalent
    )
    return write(
        root,
        {
            "challenge.toml": 'title = "Clamp"\nlanguage = "python"\n'
            # Flakiness has its own test below: two runs are enough here.
            "[health]\nmin_mutation_score = 100\nflaky_runs = 2\n"
            f"[health.accepted]\n{accepted}",
            "solution/clamp.py": CLAMP,
            "starter/clamp.py": "def clamp(x, lo, hi):\n    return x\n",
            "tests/public/test_public_clamp.py": "from clamp import clamp\n\n\n"
            "def test_inside():\n    assert clamp(5, 1, 9) == 5\n",
            "tests/hidden/test_clamp.py": CLAMP_TESTS,
            "bad/no-upper-bound/clamp.py": "def clamp(x, lo, hi):\n"
            "    if lo > hi:\n        raise ValueError('empty')\n    return max(x, lo)\n",
            "bad/no-upper-bound/expect.toml": 'description = "forgets hi"\nmax_correctness = 60\n',
            "bad/no-validation/clamp.py": "def clamp(x, lo, hi):\n    return min(max(x, lo), hi)\n",
            "bad/no-validation/expect.toml": "max_correctness = 80\n",
        },
    )


def strict(root: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    """Run --strict twice over: the text the author reads and the JSON."""
    out = root.parent / "health.json"
    proc = grader(
        "validate",
        "--strict",
        "--jobs",
        "2",
        "--format",
        "json",
        "-o",
        out,
        *extra,
        root,
        cwd=root.parent,
        timeout=600,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    data = json.loads(out.read_text())
    return proc.returncode, proc.stderr, data["challenges"][0]


def test_strong_tests_pass_and_the_record_is_reused(
    tmp_path: Path, docker_runner: DockerRunner
) -> None:
    root = clamp_challenge(tmp_path / "clamp")
    code, err, first = strict(root)
    assert code == 0, json.dumps(first, indent=1)
    checks = first["checks"]
    assert {k: c["verdict"] for k, c in checks.items()} == {
        "mutation": "pass",
        "flakiness": "pass",
        "time_margins": "pass",
        "known_bad": "pass",
    }
    mutation = checks["mutation"]
    assert mutation["source"] == "computed"
    assert (mutation["score"], mutation["survived"], mutation["accepted"]) == (100, 0, 2)
    assert mutation["total"] == 10 and mutation["killed"] + mutation["timeout"] == 8
    assert {m["reason"] for m in mutation["mutants"] if m["status"] == "accepted"} == {
        "returns the bound, which equals x there"
    }
    assert [(s["name"], s["correctness"]) for s in checks["known_bad"]["submissions"]] == [
        ("no-upper-bound", 60),
        ("no-validation", 80),
    ]
    record = json.loads((root / "health.json").read_text())
    assert len(record["mutants"]) == 10

    # Nothing that decides the results changed: the record is used, and re-checked.
    code, _, second = strict(root)
    assert code == 0
    again = second["checks"]["mutation"]
    assert again["source"] == "record" and again["score"] == 100
    assert again["rechecked"] == 2 + 3  # both (accepted) survivors and 3 killed
    assert again["differs"] == []


def test_a_deleted_assertion_lets_a_mutant_survive_and_fails_showing_it(
    tmp_path: Path, docker_runner: DockerRunner
) -> None:
    root = clamp_challenge(tmp_path / "clamp")
    test = root / "tests" / "hidden" / "test_clamp.py"
    assert WEAK_ASSERTION in test.read_text()
    test.write_text(test.read_text().replace(WEAK_ASSERTION, ""))
    write(
        root,
        {
            "bad/returns-input/clamp.py": "def clamp(x, lo, hi):\n    return x\n",
            "bad/returns-input/expect.toml": "max_correctness = 10\n",
        },
    )
    proc = grader("validate", "--strict", root, cwd=tmp_path, timeout=600)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert "Traceback" not in out + proc.stderr
    assert out.startswith("FAIL clamp: ")
    assert "  mutation      FAIL  score 87.5% (min 100%): 7 of 8 killed, 1 survived" in out
    # The weakened test no longer catches no-upper-bound either (its bar is 60);
    # returns-input passes test_inside and the weakened test: 2 of 5.
    assert (
        "  known-bad     FAIL  scored above their max_correctness: "
        "no-upper-bound 80 > 60, returns-input 40 > 10"
    ) in out
    survivor = next(
        m
        for m in mutants_of("python", "clamp.py", CLAMP)
        if m.line == 6 and m.description == "`>` → `>=`"
    )
    assert f"{survivor.id} clamp.py line 6 (comparison: `>` → `>=`) — survived" in out
    diff = (
        "      --- a/clamp.py\n"
        "      +++ b/clamp.py\n"
        "      @@ -5,3 +5,3 @@\n"
        '           """Return ``x`` bounded to ``[lo, hi]``."""\n'
        "      -    if lo > hi:\n"
        "      +    if lo >= hi:\n"
        '               raise ValueError("lo must not exceed hi")\n'
    )
    assert diff in out, out


def test_a_chance_test_is_flaky_and_a_slow_one_warns(
    tmp_path: Path, docker_runner: DockerRunner
) -> None:
    root = write(
        tmp_path / "coin",
        {
            "challenge.toml": 'title = "Coin"\nlanguage = "python"\n'
            "[limits]\ntest_seconds = 1.5\n[health]\nflaky_runs = 12\nmin_known_bad = 0\n",
            "solution/one.py": '"""One."""\n\n\ndef one():\n    """1."""\n    return 1\n',
            "starter/one.py": "def one():\n    return 0\n",
            "tests/hidden/test_one.py": """\
                import random
                import time

                from one import one


                def test_one():
                    assert one() == 1


                def test_coin():
                    assert random.random() < 0.5


                def test_slow():
                    time.sleep(0.6)
                    assert one() == 1
                """,
        },
    )
    code, _, result = strict(root)
    assert code == 1
    checks = result["checks"]
    flaky = checks["flakiness"]
    assert flaky["verdict"] == "fail" and flaky["runs"] == 12
    assert [f["id"] for f in flaky["flaky"]] == ["tests/hidden/test_one.py::test_coin"]
    assert set(flaky["flaky"][0]["outcomes"]) == {"passed", "failed"}
    margins = checks["time_margins"]
    assert margins["verdict"] == "warn", margins
    assert margins["slowest_test"] == "tests/hidden/test_one.py::test_slow"
    assert 1.5 / margins["test"]["seconds"] < 3
    # The coin may have failed the reference's own validation run: then mutants are skipped.
    assert checks["mutation"]["verdict"] in ("pass", "skipped")


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_languages_scaffold_yields_mutants_that_build_and_are_graded(
    language: str, tmp_path: Path, docker_runner: DockerRunner
) -> None:
    root = tmp_path / f"scaffold-{language}"
    write_scaffold(root, root.name, language)
    ch = load_challenge(root)
    cache = tmp_path / "cache"
    ctx = Context(challenge=ch, runner=docker_runner, cache_dir=cache, write_record=False)
    shared = Shared(
        expected=expected_tests(ch, docker_runner, cache_dir=cache),
        reference=reference_complexity(ch, docker_runner, cache_dir=cache),
    )
    ref = grade_folder(ctx, ch, ch.solution_dir, shared)
    assert ref.scores.correctness == 100
    found = mutation(ctx, shared, [ref], set())
    assert found.total > 0
    # Every mutant is a program of the language: it builds and its tests load it.
    assert found.invalid == 0, [m.description for m in found.mutants if m.status == "invalid"]
    assert found.killed + found.timeout + found.survived == found.total
    assert found.score is not None
