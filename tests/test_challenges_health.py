"""Every shipped challenge passes ``grader validate --strict`` (the CI step): its tests
kill the reference's mutants (bar: its ``[health] min_mutation_score``), none is flaky,
the time margins hold, and its known-bad submissions stay under their bars.

The mutation results come from the challenge's committed ``health.json`` when its
content key is current (every survivor and a sample of the killed are graded again);
when it is not, they are computed here, which takes minutes per challenge: refresh
the record with ``grader validate --strict challenges/<slug>`` and commit it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import grader

from grader.challenge import load_challenge
from grader.health.checks import load_known_bad
from runners.docker import DockerRunner

REPO = Path(__file__).resolve().parents[1]
SLUGS = sorted(p.name for p in (REPO / "challenges").iterdir() if (p / "challenge.toml").is_file())


@pytest.mark.parametrize("slug", SLUGS)
def test_shipped_challenge_has_known_bad_submissions(slug: str) -> None:
    ch = load_challenge(REPO / "challenges" / slug)
    bad = load_known_bad(ch)
    assert len(bad) >= max(2, ch.config.health.min_known_bad)
    assert all(exp.description for _, _, exp in bad), "say which mistake each one stands for"


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("slug", SLUGS)
def test_shipped_challenge_is_healthy(
    slug: str, tmp_path: Path, docker_runner: DockerRunner
) -> None:
    out = tmp_path / "health.json"
    proc = grader(
        "validate",
        "--strict",
        "--no-record",
        "--format",
        "json",
        "-o",
        out,
        REPO / "challenges" / slug,
        cwd=tmp_path,
        timeout=3000,
    )
    assert "Traceback" not in proc.stdout + proc.stderr
    result = json.loads(out.read_text())["challenges"][0]
    summary = {k: (c["verdict"], c["message"]) for k, c in (result["checks"] or {}).items()}
    assert proc.returncode == 0, json.dumps({"problems": result["problems"], **summary}, indent=1)
    assert result["verdict"] in ("pass", "warn")
