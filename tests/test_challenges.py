"""Every shipped challenge proves itself: reference 100 on correctness, starter less,
weighted tests exist — in the challenge's own isolation mode, on the real runner."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.challenge import load_challenge
from grader.engine import expected_tests
from grader.validate import validate_challenge
from runners.docker import DockerRunner

REPO = Path(__file__).resolve().parents[1]
SLUGS = sorted(p.name for p in (REPO / "challenges").iterdir() if (p / "challenge.toml").is_file())

# Small challenges that prove a language's runner end to end (not for candidates).
CONFORMANCE = "conformance-"

pytestmark = [pytest.mark.docker]


def test_there_are_at_least_three_challenges() -> None:
    assert len(SLUGS) >= 3


@pytest.mark.parametrize("slug", SLUGS)
def test_challenge_validates(slug: str, docker_runner: DockerRunner, tmp_path: Path) -> None:
    ch = load_challenge(REPO / "challenges" / slug)
    problems, summary = validate_challenge(ch, docker_runner, cache_dir=tmp_path)
    assert problems == [], problems
    assert "reference 100 correctness" in summary
    if slug.startswith(CONFORMANCE) or _pytest_hidden(slug):
        return
    # Go subtests and Java parameterized cases are tests of their own: count the ids
    # the reference run reported (validate just ran it: this reads its cache).
    expected = expected_tests(ch, docker_runner, cache_dir=tmp_path)
    hidden = [
        i for i in expected.ids if ch.visibility(i) == "hidden" and i not in expected.author_skipped
    ]
    assert len(hidden) >= 15, f"{slug}: only {len(hidden)} hidden tests"


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
