"""Invitations: a candidate token bound to one challenge, a time window from the first
starter download, an attempt cap, feedback held back until the deadline, the candidate page."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Env, csrf_of, make_env
from sqlalchemy import select, update

from api.db import utcnow
from api.models import Invitation, Submission
from grader.report import Flag
from grader.report import TestResult as Result


def invite(env: Env, **body: Any) -> dict[str, Any]:
    _, reviewer = env.token("reviewer", "rita")
    resp = env.bearer(reviewer).post(
        "/v1/invitations", json={"challenge": "words", "candidate_name": "Carla", **body}
    )
    assert resp.status_code == 201, resp.text
    out: dict[str, Any] = resp.json()
    return out


def upload(env: Env, token: str, slug: str = "words") -> Any:
    return env.bearer(token).post(
        f"/v1/challenges/{slug}/submissions",
        files={"file": ("words.py", b"def top_words(t, n):\n    return []\n")},
    )


def started_at(env: Env, token_id: int) -> Any:
    with env.svc.session() as db:
        return db.scalar(select(Invitation.started_at).where(Invitation.token_id == token_id))


def age_the_clock(env: Env, token_id: int, minutes: int) -> None:
    with env.svc.session() as db:
        db.execute(
            update(Invitation)
            .where(Invitation.token_id == token_id)
            .values(started_at=utcnow() - timedelta(minutes=minutes))
        )


def test_a_reviewer_invites_over_the_api_and_gets_a_link_once(env: Env) -> None:
    made = invite(env, window_minutes=90, max_attempts=3)
    assert made["token"].startswith("grd_") and made["challenge"] == "words"
    assert made["link"] == f"http://testserver/ui/invite/{made['token']}"
    assert made["window_minutes"] == 90 and made["max_attempts"] == 3
    _, reviewer = env.token("reviewer", "rob")
    listed = env.bearer(reviewer).get("/v1/invitations?challenge=words").json()["items"]
    assert [i["candidate_name"] for i in listed] == ["Carla"]
    assert made["token"] not in str(listed)
    api = env.bearer(reviewer)
    assert (
        api.post("/v1/invitations", json={"challenge": "nope", "candidate_name": "x"}).status_code
        == 404
    )
    assert (
        api.post(
            "/v1/invitations",
            json={"challenge": "words", "candidate_name": "x", "window_minutes": 0},
        ).status_code
        == 422
    )


def test_an_invited_token_reaches_its_own_challenge_only(env: Env) -> None:
    made = invite(env)
    api = env.bearer(made["token"])
    assert [c["slug"] for c in api.get("/v1/challenges").json()["items"]] == ["words"]
    assert api.get("/v1/challenges/words").status_code == 200
    assert api.get("/v1/challenges/rate-limiter").status_code == 404
    assert api.get("/v1/challenges/rate-limiter/starter").status_code == 404
    assert upload(env, made["token"], "rate-limiter").status_code == 404
    assert upload(env, made["token"]).status_code == 202


def test_the_window_starts_at_the_first_starter_download_and_closes(env: Env) -> None:
    made = invite(env, window_minutes=60)
    api = env.bearer(made["token"])
    assert started_at(env, made["token_id"]) is None
    assert api.get("/v1/challenges/words/starter?format=zip").status_code == 200
    first = started_at(env, made["token_id"])
    assert first is not None and abs((utcnow() - first).total_seconds()) < 30
    api.get("/v1/challenges/words/starter")
    assert started_at(env, made["token_id"]) == first  # a second download moves nothing
    assert upload(env, made["token"]).status_code == 202
    age_the_clock(env, made["token_id"], 61)
    late = upload(env, made["token"])
    assert late.status_code == 403 and late.json()["error"]["code"] == "deadline-passed"


def test_the_first_upload_starts_the_window_too(env: Env) -> None:
    made = invite(env, window_minutes=60)
    assert upload(env, made["token"]).status_code == 202
    assert started_at(env, made["token_id"]) is not None


def test_graded_attempts_are_capped_and_our_errors_do_not_count(env: Env) -> None:
    made = invite(env, max_attempts=2)
    assert upload(env, made["token"]).status_code == 202
    second = upload(env, made["token"])
    assert second.status_code == 202
    third = upload(env, made["token"])
    assert third.status_code == 403 and third.json()["error"]["code"] == "no-attempts-left"
    with env.svc.session() as db:
        db.execute(
            update(Submission).where(Submission.id == second.json()["id"]).values(status="error")
        )
    assert upload(env, made["token"]).status_code == 202


@pytest.fixture
def embargo_env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(
        tmp_path,
        toml_extra=(
            '[feedback]\nhidden_tests = "count"\nscore = true\nhide_hidden_until_deadline = true\n'
        ),
    )


def test_hidden_results_and_the_score_wait_for_the_deadline(embargo_env: Env) -> None:
    env = embargo_env
    made = invite(env, window_minutes=60)
    sub = env.submission(
        made["token_id"],
        total=55,
        tests=[
            Result(
                id="tests/public/test_words.py::test_one",
                visibility="public",
                weight=1,
                outcome="passed",
            ),
            Result(
                id="tests/hidden/test_h.py::test_h", visibility="hidden", weight=1, outcome="failed"
            ),
        ],
    )
    api = env.bearer(made["token"])
    api.get("/v1/challenges/words/starter")
    during = api.get(f"/v1/submissions/{sub}").json()["feedback"]
    assert during["public_tests"]["passed"] == 1
    assert during["hidden_tests"] is None and during["scores"] is None
    assert during["limits_hit"] == []
    age_the_clock(env, made["token_id"], 61)
    after = api.get(f"/v1/submissions/{sub}").json()["feedback"]
    assert after["hidden_tests"] == {"shown": "count", "passed": 0, "total": 1}
    assert after["scores"]["total"] == 55
    # An uninvited token has no deadline: the hidden results stay back.
    carl, carl_token = env.token("candidate", "carl")
    other = env.submission(carl)
    assert (
        env.bearer(carl_token).get(f"/v1/submissions/{other}").json()["feedback"]["hidden_tests"]
        is None
    )


def _open_invitation(
    env: Env, reviewer: Any, *, window: str = "2", attempts: str = "2"
) -> tuple[Any, str]:
    page = reviewer.get("/ui/challenges/words/invitations")
    made = reviewer.post(
        "/ui/challenges/words/invitations",
        data={
            "csrf": csrf_of(page.text),
            "candidate_name": "Dana Candidate",
            "window_hours": window,
            "max_attempts": attempts,
        },
    )
    assert made.status_code == 200 and "Dana Candidate" in made.text
    link = re.search(r'id="invite-link" readonly value="http://testserver([^"]+)"', made.text)
    assert link is not None
    cand = env.client()
    landing = cand.get(link.group(1))
    token = link.group(1).rsplit("/", 1)[1]
    assert landing.status_code == 200 and "Dana Candidate" in landing.text
    assert cand.get("/ui/candidate", follow_redirects=False).status_code == 303  # not yet in
    opened = cand.post(
        "/ui/invite", data={"csrf": csrf_of(landing.text), "token": token}, follow_redirects=False
    )
    assert opened.status_code == 303
    return cand, token


def test_the_invitation_link_opens_a_page_to_work_from(env: Env) -> None:
    reviewer = env.reviewer()
    cand, _ = _open_invitation(env, reviewer)
    page = cand.get("/ui/candidate").text
    assert "<h3>Top words</h3>" in page and "<strong>top_words</strong>" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page  # raw HTML in the statement is text
    assert "You have 2 h 0 min; the clock starts" in page
    assert "Graded attempts left: <strong>2</strong> of 2" in page
    starter = cand.get("/ui/candidate/starter?format=zip")
    assert starter.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(starter.content)).namelist()
    assert names == ["words/words.py"]
    page = cand.get("/ui/candidate").text
    assert re.search(r"Time left: <strong>1 h 59 min|Time left: <strong>2 h 0 min", page)
    sent = cand.post(
        "/ui/candidate/submissions",
        data={"csrf": csrf_of(page)},
        files={"file": ("words.py", b"def top_words(t, n):\n    return []\n")},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/ui/candidate?sent=")
    page = cand.get(sent.headers["location"]).text
    assert "Received" in page and 'id="pending"' in page and "queued" in page
    assert "Graded attempts left: <strong>1</strong> of 2" in page
    forged = cand.post(
        "/ui/candidate/submissions", data={"csrf": "nope"}, files={"file": ("words.py", b"x = 1\n")}
    )
    assert forged.status_code == 403
    refused = cand.post(
        "/ui/candidate/submissions",
        data={"csrf": csrf_of(page)},
        files={"file": ("sol.zip", b"PK\x03\x04broken")},
    )
    assert refused.status_code == 422 and 'id="upload-error"' in refused.text
    cand.post(
        "/ui/candidate/submissions",
        data={"csrf": csrf_of(page)},
        files={"file": ("words.py", b"x = 2\n")},
    )
    page = cand.get("/ui/candidate").text
    assert "you have used every attempt" in page and 'id="file"' not in page


def test_the_candidate_page_shows_only_what_the_policy_allows(env: Env) -> None:
    reviewer = env.reviewer()
    cand, token = _open_invitation(env, reviewer)
    with env.svc.session() as db:
        token_id = db.scalar(select(Invitation.token_id).order_by(Invitation.id.desc()))
    assert token_id is not None
    env.submission(
        token_id,
        total=42,
        flags=[Flag(code="tamper-suspect", message="x")],
        tests=[
            Result(
                id="tests/hidden/test_h.py::test_secret_case",
                visibility="hidden",
                weight=1,
                outcome="failed",
                message="hidden detail",
            )
        ],
    )
    page = cand.get("/ui/candidate").text
    assert "Hidden tests: <strong>0 of 1</strong>" in page
    for secret in ("tamper-suspect", "test_secret_case", "hidden detail", "42.0", "alike"):
        assert secret not in page


def test_withdrawing_an_invitation_stops_its_token_and_its_session(env: Env) -> None:
    reviewer = env.reviewer()
    cand, token = _open_invitation(env, reviewer)
    page = reviewer.get("/ui/challenges/words/invitations").text
    inv_id = re.search(r'action="/ui/invitations/(\d+)/revoke"', page)
    assert inv_id is not None
    reviewer.post(f"/ui/invitations/{inv_id.group(1)}/revoke", data={"csrf": csrf_of(page)})
    assert "withdrawn" in reviewer.get("/ui/challenges/words/invitations").text
    assert cand.get("/ui/candidate", follow_redirects=False).status_code == 303
    assert env.bearer(token).get("/v1/challenges").status_code == 401
    assert env.client().get(f"/ui/invite/{token}").status_code == 404
