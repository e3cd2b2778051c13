"""Every shipped challenge proves itself: reference 100 on correctness, starter less,
weighted tests exist — in the challenge's own isolation mode, on the real runner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from grader.challenge import load_challenge
from grader.validate import validate_challenge
from runners.docker import DockerRunner

REPO = Path(__file__).resolve().parents[1]
SLUGS = sorted(p.name for p in (REPO / "challenges").iterdir() if (p / "challenge.toml").is_file())

pytestmark = [pytest.mark.docker]


def test_there_are_at_least_three_challenges() -> None:
    assert len(SLUGS) >= 3


@pytest.mark.parametrize("slug", SLUGS)
def test_challenge_validates(slug: str, docker_runner: DockerRunner, tmp_path: Path) -> None:
    ch = load_challenge(REPO / "challenges" / slug)
    problems, summary = validate_challenge(ch, docker_runner, cache_dir=tmp_path)
    assert problems == [], problems
    assert "reference 100 correctness" in summary


# How a test is declared in each language's test files (a lower bound of the test count:
# a table-driven test counts once).
TEST_DECLARATIONS = {
    "python": r"\bdef test_",
    "javascript": r"^\s*(?:test|it)(?:\.each\b[^(]*\([^)]*\))?\s*\(",
    "ruby": r"^\s*(?:def test_|it\s+['\"])",
    "php": r"\bfunction test\w*\s*\(",
    "go": r"^func Test\w+\s*\(",
    "java": r"@(?:Test|ParameterizedTest)\b",
}


@pytest.mark.parametrize("slug", [s for s in SLUGS if not s.startswith("conformance-")])
def test_hidden_tests_are_substantial(slug: str) -> None:
    """Real challenges (not the runners' conformance ones) hide a substantial test set."""
    ch = load_challenge(REPO / "challenges" / slug)
    hidden = [f for f in ch.test_files() if f.startswith("tests/hidden/")]
    text = "".join((ch.root / f).read_text() for f in hidden)
    # Service challenges' tests are pytest whatever the service's language.
    language = "python" if ch.config.kind == "service" else ch.language.name
    declared = re.findall(TEST_DECLARATIONS[language], text, re.MULTILINE)
    assert len(declared) >= 15, f"{len(declared)} hidden tests declared"
