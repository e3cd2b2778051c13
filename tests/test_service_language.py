"""grader.service: a submission's language is recognised from its files, and a service
run's job gives every container what it needs and the service no grader secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.challenge import load_challenge
from grader.errors import SubmissionError
from grader.service import detect_language, job
from runners.base import CANDIDATE_ROLE, TESTS_ROLE
from runners.harness import grader_contract as C

ORDERS = Path(__file__).parent.parent / "challenges" / "orders-api"
KV = Path(__file__).parent / "service_challenges" / "kv"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["go.mod", "main.go", "store.go"], "go"),
        (["app.py", "store.py"], "python"),
        (["main.go", "scripts/seed.py", "scripts/more.py"], "python"),
        (["go.mod", "main.go", "scripts/seed.py", "scripts/more.py"], "go"),
    ],
)
def test_the_language_is_recognised_from_markers_then_sources(
    files: list[str], expected: str
) -> None:
    ch = load_challenge(ORDERS)
    assert detect_language(ch, files) == expected


def test_an_unrecognisable_submission_asks_for_the_language() -> None:
    ch = load_challenge(ORDERS)
    with pytest.raises(SubmissionError, match="name it"):
        detect_language(ch, ["README.md"])


def test_the_job_gives_the_service_its_database_and_the_tests_their_fixtures(
    tmp_path: Path,
) -> None:
    ch = load_challenge(KV).for_language("python")
    built = job(ch, tmp_path, ("app.py",), token="t" * 32, label="run-x")
    cand, tests = built.commands[CANDIDATE_ROLE], built.commands[TESTS_ROLE]
    assert built.service is not None
    (db,) = built.service.databases
    assert db.name == "postgres" and db.files["schema.sql"].startswith(b"CREATE TABLE kv")
    url = cand.env["DATABASE_URL"]
    assert url.startswith("postgresql://u") and "@127.0.0.1:5432/d" in url
    assert cand.env["PORT"] == "8080" and cand.image == "python"
    # The service never gets the control token, the run token or the tests.
    assert built.service.control_token not in json.dumps(dict(cand.env))
    assert not cand.results and not tests.code
    fixtures = json.loads(tests.env[C.SERVICE_ENV])
    assert fixtures["token"] == built.service.control_token
    assert fixtures["databases"]["postgres"]["url"] == url
    assert tests.argv[-2:] == (
        f"{C.ROOT_PLACEHOLDER}/tests/public/test_kv.py",
        f"{C.ROOT_PLACEHOLDER}/tests/hidden/test_kv_hidden.py",
    )
    # Fresh credentials for every run.
    again = job(ch, tmp_path, ("app.py",), token="t" * 32, label="run-y")
    assert again.commands[CANDIDATE_ROLE].env["DATABASE_URL"] != url
