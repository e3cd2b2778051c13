"""The UI's doors: sessions, CSRF, who reaches which page, escaping, CSP, static files."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import Env, csrf_of, make_env
from sqlalchemy import update

from api.db import utcnow
from api.models import UiSession
from grader.report import Flag, StyleFinding
from grader.report import TestResult as Result

PAGES = (
    "/ui/challenges",
    "/ui/challenges/words",
    "/ui/challenges/words/similarity",
    "/ui/challenges/words/invitations",
    "/ui/audit",
)


def test_pages_redirect_to_sign_in_without_a_session(env: Env) -> None:
    c = env.client()
    for path in (*PAGES, "/ui/candidate", "/ui/challenges/words/export.csv"):
        resp = c.get(path, follow_redirects=False)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/ui/sign-in?next=/ui/")


def test_sign_in_sets_a_signed_httponly_strict_expiring_cookie(env: Env) -> None:
    _, secret = env.token("reviewer", "rita")
    c = env.client()
    form = c.get("/ui/sign-in")
    resp = c.post(
        "/ui/sign-in",
        data={"csrf": csrf_of(form.text), "token": secret, "next": "/ui/audit"},
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/ui/audit"
    cookie = next(v for v in resp.headers.get_list("set-cookie") if v.startswith("grader_session="))
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= attrs
    assert "samesite=strict" in cookie.lower() and "path=/ui" in cookie.lower()
    assert secret not in cookie
    assert c.get("/ui/challenges").status_code == 200


def test_sign_in_refuses_bad_tokens_candidates_and_missing_csrf(env: Env) -> None:
    _, candidate = env.token("candidate", "carl")
    _, reviewer = env.token("reviewer", "rita")
    c = env.client()
    csrf = csrf_of(c.get("/ui/sign-in").text)
    bad = c.post("/ui/sign-in", data={"csrf": csrf, "token": "grd_nope"})
    assert bad.status_code == 401 and "unknown or revoked" in bad.text
    cand = c.post("/ui/sign-in", data={"csrf": csrf, "token": candidate})
    assert cand.status_code == 401 and "invitation link" in cand.text
    fresh = env.client()
    no_csrf = fresh.post("/ui/sign-in", data={"csrf": "x", "token": reviewer})
    assert no_csrf.status_code == 403
    assert fresh.get("/ui/challenges", follow_redirects=False).status_code == 303


def test_an_open_redirect_after_sign_in_is_refused(env: Env) -> None:
    _, secret = env.token("reviewer", "rita")
    c = env.client()
    csrf = csrf_of(c.get("/ui/sign-in").text)
    resp = c.post(
        "/ui/sign-in",
        data={"csrf": csrf, "token": secret, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/ui/challenges"


def test_a_forged_or_altered_cookie_is_no_session(env: Env) -> None:
    c = env.reviewer()
    value = c.cookies["grader_session"]
    raw, _, mac = value.rpartition(".")
    forged = env.client()
    forged.cookies.set("grader_session", f"{raw}.{'0' * len(mac)}", path="/ui")
    assert forged.get("/ui/challenges", follow_redirects=False).status_code == 303
    other = env.client()
    other.cookies.set("grader_session", f"{raw[:-2]}xx.{mac}", path="/ui")
    assert other.get("/ui/challenges", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_even_for_a_copied_cookie(env: Env) -> None:
    c = env.reviewer()
    value = c.cookies["grader_session"]
    page = c.get("/ui/challenges")
    out = c.post("/ui/sign-out", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ui/sign-in"
    replay = env.client()
    replay.cookies.set("grader_session", value, path="/ui")
    assert replay.get("/ui/challenges", follow_redirects=False).status_code == 303


def test_an_expired_session_or_a_revoked_token_ends_the_session(env: Env) -> None:
    token_id, secret = env.token("reviewer", "rita")
    c = env.sign_in(secret)
    with env.svc.session() as db:
        db.execute(update(UiSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert c.get("/ui/challenges", follow_redirects=False).status_code == 303
    c = env.sign_in(secret)
    assert c.get("/ui/challenges").status_code == 200
    _, admin = env.token("admin", "ada")
    assert env.bearer(admin).delete(f"/v1/tokens/{token_id}").status_code == 200
    assert c.get("/ui/challenges", follow_redirects=False).status_code == 303


def test_every_form_post_needs_the_session_csrf_token_and_this_origin(env: Env) -> None:
    rid, _ = env.token("candidate", "carl")
    sub = env.submission(rid)
    c = env.reviewer()
    csrf = csrf_of(c.get(f"/ui/submissions/{sub}").text)
    posts = [
        (f"/ui/submissions/{sub}/review", {"decision": "advance"}),
        (f"/ui/submissions/{sub}/regrade", {}),
        ("/ui/blind", {}),
        ("/ui/challenges/words/invitations", {"candidate_name": "x"}),
        ("/ui/challenges/words/regrade", {}),
        ("/ui/sign-out", {}),
    ]
    for path, data in posts:
        assert c.post(path, data=data).status_code == 403, path
        assert c.post(path, data={**data, "csrf": "wrong"}).status_code == 403, path
    foreign = c.post(
        f"/ui/submissions/{sub}/review",
        data={"csrf": csrf, "decision": "hold"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    ok = c.post(
        f"/ui/submissions/{sub}/review",
        data={"csrf": csrf, "decision": "hold"},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_candidates_cannot_reach_reviewer_pages_or_the_review_api(env: Env) -> None:
    rev = env.reviewer()
    made = rev.post(
        "/ui/challenges/words/invitations",
        data={
            "csrf": csrf_of(rev.get("/ui/challenges/words/invitations").text),
            "candidate_name": "Carla",
            "window_hours": "2",
            "max_attempts": "2",
        },
    )
    link = re.search(r'id="invite-link" readonly value="([^"]+)"', made.text)
    assert link is not None
    token = link.group(1).rsplit("/", 1)[1]
    other_id, _ = env.token("candidate", "other")
    other_sub = env.submission(other_id)
    cand = env.client()
    landing = cand.get(link.group(1).replace("http://testserver", ""))
    assert landing.status_code == 200
    opened = cand.post(
        "/ui/invite", data={"csrf": csrf_of(landing.text), "token": token}, follow_redirects=False
    )
    assert opened.headers["location"] == "/ui/candidate"
    assert cand.get("/ui/candidate").status_code == 200
    for path in (
        *PAGES,
        f"/ui/submissions/{other_sub}",
        "/ui/challenges/words/export.csv",
        f"/ui/compare?a={other_sub}&b={other_sub[::-1]}",
    ):
        resp = cand.get(path, follow_redirects=False)
        assert resp.status_code == 403, path
        assert "other" not in resp.text
    api = env.bearer(token)
    assert api.get(f"/v1/submissions/{other_sub}").status_code == 404
    assert api.get("/v1/challenges/words/similarity").status_code == 403
    assert api.get("/v1/challenges/words/submissions").status_code == 403
    assert (
        api.post("/v1/invitations", json={"challenge": "words", "candidate_name": "x"}).status_code
        == 403
    )


HOSTILE = "<script>alert(1)</script>"


def test_every_page_escapes_submission_content(env: Env) -> None:
    cid, _ = env.token("candidate", HOSTILE)
    code = f'"""{HOSTILE}"""\ndef f():\n    return "{HOSTILE}"  # {HOSTILE}\n'
    a = env.submission(
        cid,
        files={"words.py": code, "evil<b>.py": "x = 1\n"},
        flags=[Flag(code="tamper-suspect", message=HOSTILE)],
        tests=[
            Result(
                id=f"tests/public/t.py::{HOSTILE}",
                visibility="public",
                weight=1,
                outcome="failed",
                message=HOSTILE,
                output=HOSTILE,
            )
        ],
        findings=[StyleFinding(file="words.py", line=2, code="E1", message=HOSTILE)],
    )
    bid, _ = env.token("candidate", "b")
    b = env.submission(bid, files={"words.py": code.replace("f()", "g()")})
    c = env.reviewer()
    c.post(
        f"/ui/submissions/{a}/review",
        data={"csrf": csrf_of(c.get(f"/ui/submissions/{a}").text), "note": HOSTILE},
    )
    c.post(
        "/ui/challenges/words/invitations",
        data={"csrf": csrf_of(c.get("/ui/audit").text), "candidate_name": HOSTILE},
    )
    for path in (
        f"/ui/submissions/{a}",
        "/ui/challenges/words",
        f"/ui/compare?a={a}&b={b}",
        f"/ui/similarity/{a}/{b}",
        "/ui/audit",
        "/ui/challenges/words/invitations",
    ):
        html = c.get(path).text
        assert "<script" not in html.lower(), path
        assert "&lt;script&gt;" in html or "\\u003cscript\\u003e" in html, path
    page = c.get(f"/ui/submissions/{a}").text
    assert "<b>" not in page and "evil&lt;b&gt;.py" in page


def test_pages_carry_a_strict_csp_no_script_and_no_inline_style(env: Env) -> None:
    cid, _ = env.token("candidate", "carl")
    sub = env.submission(cid)
    c = env.reviewer()
    for path in (*PAGES, f"/ui/submissions/{sub}", "/ui/sign-in"):
        resp = c.get(path)
        csp = resp.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert resp.headers["referrer-policy"] == "same-origin"
        assert "<script" not in resp.text and " style=" not in resp.text
        assert resp.headers["cache-control"] == "no-store"


def test_static_files_are_cached_for_long_under_their_hash(env: Env) -> None:
    html = env.client().get("/ui/sign-in").text
    css = re.search(r'href="(/ui/static/[0-9a-f]{16}/app\.css)"', html)
    assert css is not None
    resp = env.client().get(css.group(1))
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/css")
    assert "max-age=31536000" in resp.headers["cache-control"]
    assert ".hl .k" in resp.text  # the syntax highlighting styles ride along
    assert env.client().get("/ui/static/0000000000000000/app.css").status_code == 404
    assert env.client().get("/ui/static/x/../../etc/passwd").status_code == 404


@pytest.fixture
def closed_env(tmp_path: Path) -> Env:  # type: ignore[misc]
    yield from make_env(tmp_path, open_candidate_tokens=False)


def test_operators_can_close_the_open_door_for_uninvited_candidates(closed_env: Env) -> None:
    _, candidate = closed_env.token("candidate", "carl")
    resp = closed_env.bearer(candidate).post(
        "/v1/challenges/words/submissions", files={"file": ("words.py", b"x = 1\n")}
    )
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "invitation-required"
    _, reviewer = closed_env.token("reviewer", "rita")
    ok = closed_env.bearer(reviewer).post(
        "/v1/challenges/words/submissions", files={"file": ("words.py", b"x = 1\n")}
    )
    assert ok.status_code == 202
