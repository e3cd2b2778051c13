"""Every shipped challenge proves itself: reference 100 on correctness, starter less,
weighted tests exist — in the challenge's own isolation mode, on the real runner; and
each known-bad submission (``bad/<name>/``) that names them fails the tests it should.

A service challenge is proven fully (its reference graded) in its first language; in
each other language its reference is proven by the run that collects the tests (every
test passes there) and its starter is graded: one run less per language (CI time)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

from grader.challenge import load_challenge
from grader.engine import expected_tests, grade
from grader.service import detect_language
from grader.submission import open_submission
from grader.validate import validate_challenge
from runners.docker import DockerRunner

REPO = Path(__file__).resolve().parents[1]
CHALLENGES = REPO / "challenges"
SLUGS = sorted(p.name for p in CHALLENGES.iterdir() if (p / "challenge.toml").is_file())
OTHER_LANGUAGES = [
    (slug, name)
    for slug in SLUGS
    for name in load_challenge(CHALLENGES / slug).languages[1:]
    if load_challenge(CHALLENGES / slug).is_service
]
# Known-bad submissions whose expect.toml names the tests they fail (``fails``): each is
# graded here to prove it fails exactly those (health's known-bad check only bounds the
# score).
BAD = sorted(
    (slug, p.parent.name)
    for slug in SLUGS
    for p in (CHALLENGES / slug).glob("bad/*/expect.toml")
    if "fails" in tomllib.loads(p.read_text(encoding="utf-8"))
)

# Small challenges that prove a language's runner end to end (not for candidates).
CONFORMANCE = "conformance-"

pytestmark = [pytest.mark.docker]


@pytest.fixture
def cache(challenge_cache: Path) -> Path:
    """The session's cache: a challenge's tests are collected once per language."""
    return challenge_cache


def test_there_are_at_least_three_challenges() -> None:
    assert len(SLUGS) >= 3


# A service challenge with performance cases grades each language's reference twice
# over (correctness, then a performance run with two services and their databases):
# orders-api takes about five minutes on a busy two-core machine.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("slug", SLUGS)
def test_challenge_validates(slug: str, docker_runner: DockerRunner, cache: Path) -> None:
    ch = load_challenge(CHALLENGES / slug)
    first = ch.languages[:1] if ch.is_service else None
    problems, summary = validate_challenge(ch, docker_runner, cache_dir=cache, languages=first)
    assert problems == [], problems
    assert "reference 100 correctness" in summary
    if slug.startswith(CONFORMANCE) or _pytest_hidden(slug):
        return
    # Go subtests and Java parameterized cases are tests of their own: count the ids
    # the reference run reported (validate just ran it: this reads its cache).
    expected = expected_tests(ch, docker_runner, cache_dir=cache)
    hidden = [
        i for i in expected.ids if ch.visibility(i) == "hidden" and i not in expected.author_skipped
    ]
    assert len(hidden) >= 15, f"{slug}: only {len(hidden)} hidden tests"


@pytest.mark.parametrize(("slug", "language"), OTHER_LANGUAGES, ids=lambda v: str(v))
def test_service_challenge_validates_in_each_other_language(
    slug: str, language: str, docker_runner: DockerRunner, cache: Path
) -> None:
    ch = load_challenge(CHALLENGES / slug)
    problems, summary = validate_challenge(
        ch, docker_runner, cache_dir=cache, languages=[language], grade_reference=False
    )
    assert problems == [], problems
    assert "reference 100 correctness" in summary


@pytest.mark.parametrize(("slug", "name"), BAD, ids=lambda v: str(v))
def test_a_known_bad_submission_fails_the_tests_it_should(
    slug: str, name: str, docker_runner: DockerRunner, cache: Path, tmp_path: Path
) -> None:
    ch = load_challenge(CHALLENGES / slug)
    folder = ch.root / "bad" / name
    expect = tomllib.loads((folder / "expect.toml").read_text())
    files = shutil.copytree(folder, tmp_path / name, ignore=shutil.ignore_patterns("expect.toml"))
    if ch.is_service:
        found = detect_language(ch, [p.relative_to(files).as_posix() for p in files.rglob("*")])
        assert found == expect["language"]
        ch = ch.for_language(found)
    report = grade(
        ch, open_submission(files, tmp_path, ignore=ch.ignores), docker_runner, cache_dir=cache
    )
    failing = {t.id for t in report.tests if t.counted and t.outcome != "passed"}
    assert failing == set(expect["fails"]), [(t.id, t.message) for t in report.tests]
    assert report.scores.correctness <= expect["max_correctness"]


def _hidden_files(slug: str) -> list[Path]:
    return sorted(
        p for p in (REPO / "challenges" / slug / "tests" / "hidden").rglob("*") if p.is_file()
    )


def _pytest_hidden(slug: str) -> bool:
    return all(p.suffix == ".py" for p in _hidden_files(slug))


@pytest.mark.parametrize("slug", [s for s in SLUGS if _pytest_hidden(s)])
def test_hidden_tests_are_substantial(slug: str) -> None:
    text = "".join(p.read_text() for p in _hidden_files(slug) if p.name.startswith("test_"))
    assert text.count("def test_") >= 15
