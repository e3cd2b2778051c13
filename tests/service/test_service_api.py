"""The HTTP API in-process (uvicorn in a thread, real Redis, SQLite): roles on every
endpoint, the error shape, uploads refused with a one-line reason and nothing stored,
idempotency, the candidate's view, tokens, health and metrics."""

from __future__ import annotations

import io
import json
import socket
import tarfile
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import RATE_LIMITER, Api, run_cli, upload, wait_until
from sqlalchemy import func, select

from api.db import utcnow
from api.models import Invitation, Submission, Token, WebhookDelivery
from grader import report as rep
from grader.report import ChallengeRef, Report, Scores, SubmissionRef

pytestmark = [pytest.mark.service]

SOLUTION = RATE_LIMITER / "solution" / "ratelimit.py"
HIDDEN_ID = "tests/hidden/test_hidden_bucket.py::test_secret_hidden_case"
HIDDEN_MESSAGE = "AssertionError: hidden expectation 1234567 was not met"


def fake_report(sub_id: str, sha: str, total: float = 62.5) -> Report:
    return Report(
        challenge=ChallengeRef(slug="rate-limiter", version=1),
        submission=SubmissionRef(id=sub_id, sha256=sha),
        tests=[
            rep.TestResult(
                id="tests/public/test_public_ratelimit.py::test_ok",
                visibility="public",
                weight=1,
                outcome="passed",
            ),
            rep.TestResult(
                id="tests/public/test_public_ratelimit.py::test_bad",
                visibility="public",
                weight=1,
                outcome="failed",
                message="assert 1 == 2",
            ),
            rep.TestResult(
                id=HIDDEN_ID,
                visibility="hidden",
                weight=2,
                outcome="failed",
                message=HIDDEN_MESSAGE,
                output="hidden output 7654321",
            ),
        ],
        scores=Scores(correctness=50, style=80, complexity=90, docs=100, total=total),
        weights={"correctness": 70, "style": 15, "complexity": 10, "docs": 5},
    )


def insert_graded(api: Api, owner: str, *, total: float = 62.5, version: int = 1) -> str:
    """A graded submission stored directly (no worker, no Docker)."""
    resp = upload(api.client(owner), SOLUTION)
    assert resp.status_code == 202, resp.text
    sub_id: str = resp.json()["id"]
    with api.services.session() as db:
        row = db.get(Submission, sub_id)
        assert row is not None
        report = fake_report(sub_id, row.sha256, total)
        report.challenge.version = version
        row.status = "graded"
        row.report = report.model_dump(mode="json")
        row.total = total
        row.challenge_version = version
        row.started_at = row.finished_at = utcnow()
        row.grading_seconds = 3.0
    return sub_id


@pytest.fixture
def api(live_api: Callable[..., Api]) -> Api:
    return live_api()


def assert_error(resp: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert "\n" not in body["error"]["message"] and "Traceback" not in body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    error: dict[str, Any] = body["error"]
    return error


def stored(api: Api) -> tuple[int, list[Path]]:
    with api.services.session() as db:
        rows = db.scalar(select(func.count()).select_from(Submission)) or 0
    archives = api.settings.data_dir / "archives"
    files = [p for p in archives.rglob("*") if p.is_file()] if archives.exists() else []
    return rows, files


# --- roles -------------------------------------------------------------------------------------

CALLERS = ("anonymous", "candidate", "other", "reviewer", "admin")


def _expect(*codes: int) -> dict[str, int]:
    return dict(zip(CALLERS, codes, strict=True))


@pytest.mark.docker
def test_every_endpoint_answers_each_role_as_designed(api: Api) -> None:
    """401 without a token, 403 for the wrong role, 404 for another candidate's submission."""
    sub_id = insert_graded(api, "candidate")
    spare = api.client("admin").post("/v1/tokens", json={"role": "candidate"}).json()["id"]
    solution = SOLUTION.read_bytes()
    report = f"/v1/submissions/{sub_id}/report"
    table: list[tuple[str, str, dict[str, Any], dict[str, int]]] = [
        ("GET", "/v1/challenges", {}, _expect(401, 200, 200, 200, 200)),
        ("GET", "/v1/challenges/rate-limiter", {}, _expect(401, 200, 200, 200, 200)),
        ("GET", "/v1/challenges/rate-limiter/starter", {}, _expect(401, 200, 200, 200, 200)),
        (
            "POST",
            "/v1/challenges/rate-limiter/submissions",
            {"files": {"file": ("ratelimit.py", solution)}},
            _expect(401, 202, 202, 202, 202),
        ),
        ("GET", f"/v1/submissions/{sub_id}", {}, _expect(401, 200, 404, 200, 200)),
        ("GET", report, {}, _expect(401, 403, 403, 200, 200)),
        ("GET", report + ".json", {}, _expect(401, 403, 403, 200, 200)),
        ("GET", report + ".md", {}, _expect(401, 403, 403, 200, 200)),
        ("GET", report + ".html", {}, _expect(401, 403, 403, 200, 200)),
        ("GET", "/v1/challenges/rate-limiter/submissions", {}, _expect(401, 403, 403, 200, 200)),
        ("POST", f"/v1/submissions/{sub_id}/regrade", {}, _expect(401, 403, 403, 202, 202)),
        ("POST", "/v1/challenges/rate-limiter/regrade", {}, _expect(401, 403, 403, 202, 202)),
        ("GET", "/v1/tokens", {}, _expect(401, 403, 403, 403, 200)),
        ("POST", "/v1/tokens", {"json": {"role": "reviewer"}}, _expect(401, 403, 403, 403, 201)),
        ("DELETE", f"/v1/tokens/{spare}", {}, _expect(401, 403, 403, 403, 200)),
        ("GET", "/healthz", {}, _expect(200, 200, 200, 200, 200)),
        ("GET", "/metrics", {}, _expect(200, 200, 200, 200, 200)),
    ]
    clients = {c: api.client(None if c == "anonymous" else c) for c in CALLERS}
    problems = []
    for method, path, kwargs, expected in table:
        for caller, status in expected.items():
            resp = clients[caller].request(method, path, **kwargs)
            if resp.status_code != status:
                problems.append(f"{method} {path} as {caller}: {resp.status_code} != {status}")
            elif status >= 400:
                assert_error(resp, status)
            if status == 401:
                assert resp.headers["www-authenticate"].startswith("Bearer")
    assert not problems, "\n".join(problems)


def test_a_revoked_or_unknown_token_is_refused(api: Api) -> None:
    admin = api.client("admin")
    made = admin.post("/v1/tokens", json={"role": "reviewer", "name": "temp"}).json()
    fresh = httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {made['token']}"})
    assert fresh.get("/v1/challenges").status_code == 200
    assert admin.delete(f"/v1/tokens/{made['id']}").json()["revoked_at"] is not None
    assert_error(fresh.get("/v1/challenges"), 401, "unauthorized")
    bogus = httpx.Client(base_url=api.url, headers={"Authorization": "Bearer grd_nope"})
    assert_error(bogus.get("/v1/challenges"), 401)
    basic = httpx.Client(base_url=api.url, headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert_error(basic.get("/v1/challenges"), 401)
    for c in (fresh, bogus, basic):
        c.close()
    # An admin cannot lock itself out.
    assert_error(admin.delete(f"/v1/tokens/{api.token_ids['admin']}"), 409)
    listed = admin.get("/v1/tokens").json()["items"]
    assert all("token" not in item for item in listed)
    assert {item["name"] for item in listed} >= {"temp", "admin-name"}


# --- the error shape ---------------------------------------------------------------------------


def test_errors_are_json_with_code_and_message_for_every_status(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    reviewer = api.client("reviewer")
    assert_error(reviewer.get("/v1/no-such-thing"), 404, "not-found")
    assert_error(reviewer.delete("/v1/challenges"), 405, "method-not-allowed")
    assert_error(
        reviewer.get("/v1/challenges/rate-limiter/submissions?limit=0"), 422, "invalid-request"
    )
    assert_error(reviewer.get("/v1/challenges/rate-limiter/submissions?status=bogus"), 422)
    assert_error(reviewer.get("/v1/challenges/rate-limiter/starter?format=rar"), 422)
    assert_error(reviewer.get("/v1/challenges/../../etc/passwd"), 404)
    assert_error(reviewer.get("/v1/challenges/NOT_A_SLUG"), 404)
    assert_error(reviewer.get("/v1/submissions/" + "0" * 32), 404)
    assert_error(reviewer.get("/v1/submissions/%00"), 404)
    assert_error(api.client("admin").post("/v1/tokens", json={"role": "root"}), 422)
    assert_error(
        api.client("admin").post(
            "/v1/tokens", content=b"{not json", headers={"content-type": "application/json"}
        ),
        422,
    )
    assert_error(api.client("admin").delete("/v1/tokens/99999999999999"), 404)
    # A big JSON body is refused before it is read, token or not.
    assert_error(
        httpx.post(
            api.url + "/v1/tokens",
            content=b"[" * 200_000,
            headers={"content-type": "application/json"},
        ),
        413,
        "too-large",
    )

    import api.routes.challenges as routes

    def explode(_: Path) -> list[Any]:
        raise RuntimeError("secret internal detail /etc/grader")

    monkeypatch.setattr(routes, "catalogue", explode)
    error = assert_error(reviewer.get("/v1/challenges"), 500, "internal-error")
    assert "secret internal detail" not in error["message"]


# --- uploads -----------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _tar_with_symlink() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        link = tarfile.TarInfo("ratelimit.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tar.addfile(link)
    return buf.getvalue()


BAD_UPLOADS = {
    "zip-slip": ("sol.zip", _zip({"../ratelimit.py": b"x = 1\n"}), 422),
    "absolute-path": ("sol.zip", _zip({"/tmp/ratelimit.py": b"x = 1\n"}), 422),
    "symlink": ("sol.tar.gz", _tar_with_symlink(), 422),
    "zip-bomb": ("sol.zip", _zip({"ratelimit.py": b"\0" * (30 * 1024 * 1024)}), 422),
    "not-an-archive": ("sol.bin", b"\x7fELF\x02\x01\x01" + b"\x00" * 100, 422),
    "not-utf8-name": ("sol.zip", b"", 422),
    "empty": ("sol.tar.gz", b"", 422),
}


def _not_utf8_zip() -> bytes:
    data = bytearray(_zip({"r\xe9.py": b"x = 1\n"}))
    # Drop the UTF-8 flag and write the name as raw latin-1 bytes, which are not UTF-8.
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        pos = data.find(sig)
        flag_at = pos + (6 if sig == b"PK\x03\x04" else 8)
        data[flag_at] &= ~0x08 & 0xFF
        data[flag_at + 1] &= ~0x08 & 0xFF
    return bytes(data.replace("r\xe9.py".encode(), b"r\xe9.py"))


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_a_bad_upload_is_refused_with_a_one_line_reason_and_nothing_stored(
    api: Api, case: str
) -> None:
    name, data, status = BAD_UPLOADS[case]
    if case == "not-utf8-name":
        data = _not_utf8_zip()
    resp = api.client("candidate").post(
        "/v1/challenges/rate-limiter/submissions", files={"file": (name, data)}
    )
    error = assert_error(resp, status)
    assert error["message"].startswith("refused:") or error["code"] == "invalid-submission"
    assert stored(api) == (0, [])
    assert not any((api.settings.data_dir / "tmp").iterdir())


def test_an_oversized_upload_is_refused_while_streaming(live_api: Callable[..., Api]) -> None:
    api = live_api(max_upload_bytes=256 * 1024)
    client = api.client("candidate")
    assert_error(upload_bytes(client, b"x" * (300 * 1024)), 413, "too-large")

    # A client that sends part of an endless chunked body, then stops and listens: the
    # answer must come while the body is still incomplete, i.e. at the limit, not the end.
    host, port = api.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /v1/challenges/rate-limiter/submissions HTTP/1.1\r\n"
            b"Host: test\r\nAuthorization: Bearer "
            + api.tokens["candidate"].encode()
            + b"\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.py"\r\n\r\n'
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        chunk = b"x" * 65536
        for _ in range(6):  # 384 KiB of a body that never ends
            sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        answer = b""
        while b'"too-large"' not in answer and (part := sock.recv(65536)):
            answer += part
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b'"too-large"' in answer
    assert stored(api) == (0, [])


def upload_bytes(
    client: httpx.Client, content: bytes, name: str = "ratelimit.py", **kwargs: Any
) -> httpx.Response:
    return client.post(
        "/v1/challenges/rate-limiter/submissions", files={"file": (name, content)}, **kwargs
    )


def test_malformed_requests_to_the_upload_endpoint_are_4xx(api: Api) -> None:
    client = api.client("candidate")
    url = "/v1/challenges/rate-limiter/submissions"
    assert_error(client.post(url, json={"file": "x"}), 415)
    assert_error(client.post(url, data={"callback_url": "http://x"}), 415)
    assert_error(client.post(url, files={"callback_url": (None, "http://x")}), 422)
    assert_error(
        client.post(url, content=b"garbage", headers={"content-type": "multipart/form-data"}), 422
    )
    assert_error(
        client.post(
            url,
            content=b"--b\r\ngarbage",
            headers={"content-type": "multipart/form-data; boundary=b"},
        ),
        422,
    )
    assert_error(upload_bytes(client, b"x = 1\n", data={"callback_url": "ftp://example.com"}), 422)
    assert_error(
        upload_bytes(client, b"x = 1\n", data={"callback_url": "http://u:p@example.com/"}), 422
    )
    assert_error(upload(client, SOLUTION, slug="no-such-challenge"), 404)
    assert_error(upload_bytes(client, b"x = 1\n", headers={"Idempotency-Key": "x" * 300}), 422)
    assert stored(api) == (0, [])


def test_private_callback_urls_are_refused_unless_allowed(live_api: Callable[..., Api]) -> None:
    api = live_api(webhook_allow_private=False)
    client = api.client("candidate")
    for url in (
        "http://127.0.0.1:6379/",
        "http://localhost/x",
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
    ):
        assert_error(upload_bytes(client, b"x = 1\n", data={"callback_url": url}), 422)


def test_an_upload_is_stored_once_by_content_hash_and_queued(api: Api) -> None:
    client = api.client("candidate")
    first = upload(client, SOLUTION)
    assert first.status_code == 202
    body = first.json()
    assert body["status"] == "queued" and body["feedback"] is None and body["review"] is None
    assert first.headers["location"] == f"/v1/submissions/{body['id']}"
    again = upload(client, SOLUTION)
    assert again.json()["id"] != body["id"]
    rows, files = stored(api)
    assert rows == 2 and [f.name for f in files] == [body["sha256"]]
    assert files[0].stat().st_mode & 0o222 == 0  # read-only: stored archives are immutable


def test_idempotency_key_returns_the_same_submission_for_the_same_token(api: Api) -> None:
    client = api.client("candidate")
    headers = {"Idempotency-Key": "retry-1"}
    first = upload(client, SOLUTION, headers=headers)
    second = upload(client, SOLUTION, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert_error(upload_bytes(client, b"x = 2\n", headers=headers), 422, "idempotency-key-reused")
    # The key is scoped per token: another candidate's upload is its own submission.
    other = upload(api.client("other"), SOLUTION, headers=headers)
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
    assert stored(api)[0] == 2


def test_a_candidate_cannot_flood_the_queue(live_api: Callable[..., Api]) -> None:
    api = live_api(max_pending_per_candidate=2)
    client = api.client("candidate")
    assert upload(client, SOLUTION).status_code == 202
    assert upload(client, SOLUTION).status_code == 202
    assert_error(upload(client, SOLUTION), 429, "too-many-pending")
    assert upload(api.client("reviewer"), SOLUTION).status_code == 202


# --- what each role sees -----------------------------------------------------------------------


def test_a_candidate_sees_only_what_the_feedback_policy_allows(api: Api) -> None:
    sub_id = insert_graded(api, "candidate")
    resp = api.client("candidate").get(f"/v1/submissions/{sub_id}")
    assert resp.status_code == 200
    text = resp.text
    for secret in ("test_secret_hidden_case", "1234567", "7654321", "hidden expectation"):
        assert secret not in text
    body = resp.json()
    assert body["review"] is None
    feedback = body["feedback"]
    assert feedback["hidden_tests"] == {"shown": "count", "passed": 0, "total": 1}
    assert feedback["public_tests"]["passed"] == 1 and feedback["scores"] is None
    reviewer = api.client("reviewer").get(f"/v1/submissions/{sub_id}").json()
    assert reviewer["review"]["total"] == 62.5
    assert reviewer["review"]["token_name"] == "candidate-name"
    full = api.client("reviewer").get(f"/v1/submissions/{sub_id}/report.json")
    assert HIDDEN_MESSAGE in full.text
    assert Report.model_validate_json(full.text).submission.id == sub_id


def test_reports_render_as_json_markdown_and_self_contained_html(api: Api) -> None:
    sub_id = insert_graded(api, "candidate")
    reviewer = api.client("reviewer")
    as_json = reviewer.get(f"/v1/submissions/{sub_id}/report")
    assert as_json.headers["content-type"] == "application/json"
    assert json.loads(as_json.text)["schema_version"] == 1
    md = reviewer.get(f"/v1/submissions/{sub_id}/report.md")
    assert md.headers["content-type"].startswith("text/markdown") and "rate-limiter" in md.text
    html = reviewer.get(f"/v1/submissions/{sub_id}/report.html")
    assert html.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in html.headers["content-security-policy"]
    assert "<html" in html.text.lower()
    assert_error(reviewer.get(f"/v1/submissions/{sub_id}/report.pdf"), 404)
    queued = upload(api.client("candidate"), SOLUTION).json()["id"]
    assert_error(reviewer.get(f"/v1/submissions/{queued}/report"), 409, "not-graded")


def test_the_ranked_list_puts_the_best_total_first(api: Api) -> None:
    low = insert_graded(api, "candidate", total=40.0)
    high = insert_graded(api, "other", total=95.5)
    queued = upload(api.client("candidate"), SOLUTION).json()["id"]
    listing = api.client("reviewer").get("/v1/challenges/rate-limiter/submissions").json()
    assert [i["id"] for i in listing["items"]] == [high, low, queued]
    assert [i["rank"] for i in listing["items"]] == [1, 2, None]
    assert listing["count"] == 3 and listing["items"][0]["token_name"] == "other-name"
    page = (
        api.client("reviewer")
        .get("/v1/challenges/rate-limiter/submissions?limit=1&offset=1")
        .json()
    )
    assert [(i["id"], i["rank"]) for i in page["items"]] == [(low, 2)]
    graded = (
        api.client("reviewer").get("/v1/challenges/rate-limiter/submissions?status=graded").json()
    )
    assert graded["count"] == 2


def test_a_report_from_an_older_challenge_version_is_stale_and_can_be_regraded(
    api: Api, tmp_path: Path
) -> None:
    old = insert_graded(api, "candidate", version=0)
    current = insert_graded(api, "candidate", version=1)
    reviewer = api.client("reviewer")
    assert reviewer.get(f"/v1/submissions/{old}").json()["stale"] is True
    assert reviewer.get(f"/v1/submissions/{current}").json()["stale"] is False
    assert reviewer.get(f"/v1/submissions/{old}/report").headers["x-grader-stale"] == "true"
    out = reviewer.post("/v1/challenges/rate-limiter/regrade?scope=stale").json()
    assert out == {"queued": 1, "skipped": 0, "ids": [old]}
    state = reviewer.get(f"/v1/submissions/{old}").json()
    assert state["status"] == "queued" and state["review"]["attempts"] == 0
    # Queued again: re-grading it once more is a no-op; everything else is re-queued.
    assert reviewer.post(f"/v1/submissions/{old}/regrade").status_code == 202
    out = reviewer.post("/v1/challenges/rate-limiter/regrade").json()
    assert out["ids"] == [current] and out["skipped"] == 1


def test_the_starter_archive_holds_the_starter_files_only(api: Api) -> None:
    client = api.client("candidate")
    detail = client.get("/v1/challenges/rate-limiter").json()
    assert detail["statement"].startswith("# Token-bucket rate limiter")
    assert detail["feedback"] == {
        "public_tests": "full",
        "hidden_tests": "count",
        "score": False,
        "hide_hidden_until_deadline": False,
    }
    tgz = client.get(detail["starter"]["tar.gz"])
    assert tgz.headers["content-type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(tgz.content)) as tar:
        assert tar.getnames() == ["rate-limiter/ratelimit.py"]
    zipped = client.get(detail["starter"]["zip"])
    assert zipfile.ZipFile(io.BytesIO(zipped.content)).namelist() == ["rate-limiter/ratelimit.py"]
    assert client.get(detail["starter"]["zip"]).content == zipped.content  # reproducible
    listed = client.get("/v1/challenges").json()["items"]
    assert {
        "slug": "rate-limiter",
        "title": "Token-bucket rate limiter",
        "version": 1,
        "language": "python",
        "kind": "tests",
        "languages": ["python"],
    } in listed


# --- operations --------------------------------------------------------------------------------


@pytest.mark.docker
def test_healthz_reports_each_dependency(live_api: Callable[..., Api]) -> None:
    healthy = live_api()
    resp = httpx.get(healthy.url + "/healthz")
    assert resp.status_code == 200, resp.text
    assert {k: v["ok"] for k, v in resp.json()["checks"].items()} == {
        "database": True,
        "redis": True,
        "docker": True,
    }
    broken = live_api(redis_url="redis://127.0.0.1:1/0")
    resp = httpx.get(broken.url + "/healthz")
    assert resp.status_code == 503
    checks = resp.json()["checks"]
    assert checks["redis"]["ok"] is False and checks["database"]["ok"] is True


def test_metrics_expose_statuses_queue_depth_and_durations(api: Api) -> None:
    insert_graded(api, "candidate")
    upload(api.client("candidate"), SOLUTION)
    text = httpx.get(api.url + "/metrics").text
    assert 'grader_submissions{status="graded"} 1.0' in text
    assert 'grader_submissions{status="queued"} 1.0' in text
    assert 'grader_grading_duration_seconds_bucket{le="5.0"} 1.0' in text
    assert "grader_grading_duration_seconds_count 1.0" in text
    assert 'grader_queue_depth{queue="grader"}' in text
    assert (
        'grader_http_requests_total{method="POST",route="/v1/challenges/{slug}/submissions"' in text
    )


# --- secrets, tokens and migrations from the command line -------------------------------------


@pytest.mark.parametrize("secret", ["", "changeme", "CHANGE-ME", "short"])
def test_the_service_refuses_to_start_without_a_real_secret(
    make_settings: Callable[..., Any], secret: str
) -> None:
    from api.app import ConfigError, create_app

    settings = make_settings(secret_key=secret)
    with pytest.raises(ConfigError):
        create_app(settings)
    for command in ("serve", "worker"):
        proc = run_cli(settings, command, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert "GRADER_SECRET_KEY" in proc.stderr and "Traceback" not in proc.stderr


def test_tokens_are_made_listed_and_revoked_from_the_command_line(
    make_settings: Callable[..., Any],
) -> None:
    settings = make_settings()
    made = run_cli(settings, "token", "create", "--role", "reviewer", "--name", "Ada")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert token.startswith("grd_") and len(token) > 40 and "not shown again" in made.stderr
    listed = run_cli(settings, "token", "list")
    assert "reviewer" in listed.stdout and "Ada" in listed.stdout and token not in listed.stdout
    # Only the hash is stored.
    from api.db import make_engine

    engine = make_engine(settings)
    with engine.connect() as conn:
        dump = "\n".join(str(r) for r in conn.exec_driver_sql("SELECT * FROM tokens"))
    engine.dispose()
    assert token not in dump
    token_id = listed.stdout.split()[0]
    assert run_cli(settings, "token", "revoke", token_id).returncode == 0
    assert "revoked:20" in run_cli(settings, "token", "list").stdout
    assert run_cli(settings, "token", "revoke", "999").returncode == 2
    assert run_cli(settings, "token", "create", "--role", "root").returncode == 2
    upgraded = run_cli(settings, "db", "upgrade")
    assert upgraded.returncode == 0 and "0004" in upgraded.stdout


def test_a_nul_character_is_refused_and_nothing_is_stored(
    database_url: str, live_api: Callable[..., Api]
) -> None:
    """PostgreSQL refuses NUL mid-statement (SQLite takes it): either way the client gets a
    422 naming the field, never a 500, and no row is written."""
    api = live_api(database_url=database_url)
    admin, reviewer = api.client("admin"), api.client("reviewer")
    with api.services.session() as db:
        before = (
            db.scalar(select(func.count()).select_from(Token)),
            db.scalar(select(func.count()).select_from(Invitation)),
        )
    message = assert_error(reviewer.get("/v1/invitations?challenge=a%00b"), 422, "invalid-request")
    assert "challenge" in message["message"] and "NUL" in message["message"]
    assert_error(reviewer.get("/v1/challenges/rate-limiter/submissions?status=%00"), 422)
    assert_error(reviewer.get("/v1/challenges/rate%00limiter"), 404, "not-found")
    made = admin.post("/v1/tokens", json={"role": "reviewer", "name": "a\u0000b"})
    assert "name" in assert_error(made, 422, "invalid-request")["message"]
    for field in ("candidate_name", "challenge"):
        body = {"challenge": "rate-limiter", "candidate_name": "Ada"} | {field: "A\u0000"}
        invited = reviewer.post("/v1/invitations", json=body)
        assert field in assert_error(invited, 422, "invalid-request")["message"]
    with api.services.session() as db:
        after = (
            db.scalar(select(func.count()).select_from(Token)),
            db.scalar(select(func.count()).select_from(Invitation)),
        )
    assert after == before
    # The request that is well formed still works on the same connection pool.
    assert reviewer.get("/v1/invitations?challenge=rate-limiter").status_code == 200


def test_migrations_match_the_models(database_url: str, make_settings: Callable[..., Any]) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from api.db import make_engine, upgrade
    from api.models import Base

    engine = make_engine(make_settings(database_url=database_url))
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def test_webhook_signatures_verify_and_expire() -> None:
    from api.webhooks import sign, verify

    body = '{"id":"x"}'
    sig = sign("k" * 32, "1700000000", body)
    assert sig.startswith("sha256=")
    assert verify("k" * 32, "1700000000", body, sig, now=1700000100)
    assert not verify("k" * 32, "1700000000", body + " ", sig, now=1700000100)
    assert not verify("j" * 32, "1700000000", body, sig, now=1700000100)
    assert not verify("k" * 32, "1700000000", body, sig, now=1700009999)


def test_the_sweep_resends_stuck_submissions_and_due_webhooks(api: Api) -> None:
    from api.sweep import sweep

    sub_id = upload(api.client("candidate"), SOLUTION).json()["id"]
    running = upload(api.client("other"), SOLUTION).json()["id"]
    long_ago = utcnow() - timedelta(hours=1)
    with api.services.session() as db:
        row = db.get(Submission, sub_id)
        assert row is not None
        row.enqueued_at = long_ago
        other = db.get(Submission, running)
        assert other is not None
        other.status, other.heartbeat_at, other.generation = "running", long_ago, 1
        db.add(
            WebhookDelivery(
                submission_id=sub_id,
                url="http://127.0.0.1:9/",
                body="{}",
                status="pending",
                attempts=1,
                next_attempt_at=long_ago,
                created_at=long_ago,
            )
        )
    result = sweep(api.services)
    assert result.requeued == [sub_id] and result.reclaimed == [running]
    assert len(result.webhooks) == 1
    again = sweep(api.services)
    assert again.requeued == [] and again.reclaimed == []
    with api.services.session() as db:
        row = db.get(Submission, running)
        assert row is not None and row.status == "queued" and row.worker is None
    wait_until(lambda: True, 0, "nothing")


def test_the_openapi_schema_documents_every_endpoint(api: Api) -> None:
    docs = httpx.get(api.url + "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    paths = httpx.get(api.url + "/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/v1/challenges",
        "/v1/challenges/{slug}",
        "/v1/challenges/{slug}/starter",
        "/v1/challenges/{slug}/submissions",
        "/v1/submissions/{submission_id}",
        "/v1/submissions/{submission_id}/report",
        "/v1/submissions/{submission_id}/report.{fmt}",
        "/v1/submissions/{submission_id}/regrade",
        "/v1/challenges/{slug}/regrade",
        "/v1/tokens",
        "/v1/tokens/{token_id}",
        "/healthz",
        "/metrics",
    }
    upload_op = paths["/v1/challenges/{slug}/submissions"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    assert "413" in upload_op["responses"] and "401" in upload_op["responses"]


def test_webhooks_are_not_sent_to_private_addresses_unless_allowed() -> None:
    from api.webhooks import UnsafeTarget, check_target

    for url in (
        "http://127.0.0.1:8000/x",
        "http://localhost/",
        "http://[::1]/",
        "http://10.1.2.3/",
        "http://169.254.169.254/",
    ):
        with pytest.raises(UnsafeTarget):
            check_target(url, allow_private=False)
        check_target(url, allow_private=True)


def test_a_service_challenge_lists_its_languages_and_serves_a_starter_per_language(
    api: Api,
) -> None:
    client = api.client("candidate")
    detail = client.get("/v1/challenges/orders-api").json()
    assert detail["kind"] == "service" and "go" in detail["languages"]
    assert detail["service"]["databases"] == ["postgres"]
    assert "github.com/lib/pq" in " ".join(detail["service"]["languages"]["go"]["libraries"])
    go = client.get("/v1/challenges/orders-api/starter", params={"language": "go"})
    with tarfile.open(fileobj=io.BytesIO(go.content)) as tar:
        assert sorted(tar.getnames()) == ["orders-api/go.mod", "orders-api/main.go"]
    every = client.get("/v1/challenges/orders-api/starter")
    with tarfile.open(fileobj=io.BytesIO(every.content)) as tar:
        names = tar.getnames()
    assert "orders-api/go/main.go" in names and "orders-api/python/app.py" in names
    assert not any("tests" in n or "solution" in n for n in names)
    assert_error(client.get("/v1/challenges/orders-api/starter", params={"language": "cobol"}), 404)


def test_languages_are_listed_with_their_service_libraries(api: Api) -> None:
    items = api.client("candidate").get("/v1/languages").json()["items"]
    by_name = {i["name"]: i for i in items}
    assert set(by_name) == {"python", "go", "java", "javascript", "ruby", "php"}
    assert any("psycopg" in lib for lib in by_name["python"]["service"]["libraries"])
    assert by_name["go"]["service"]["start"]


def test_a_service_submission_records_its_language_given_or_recognised(
    api: Api, tmp_path: Path
) -> None:
    client = api.client("candidate")
    main = tmp_path / "main.go"
    main.write_text("package main\n\nfunc main() {}\n")
    given = client.post(
        "/v1/challenges/orders-api/submissions",
        files={"file": ("main.go", main.read_bytes())},
        data={"language": "go"},
    )
    assert given.status_code == 202, given.text
    recognised = client.post(
        "/v1/challenges/orders-api/submissions", files={"file": ("app.py", b"print('hi')\n")}
    )
    assert recognised.status_code == 202, recognised.text
    wrong = client.post(
        "/v1/challenges/orders-api/submissions",
        files={"file": ("main.go", main.read_bytes())},
        data={"language": "cobol"},
    )
    assert_error(wrong, 422)
    with api.services.session() as db:
        from api.models import Submission

        langs = {row.id: row.language for row in db.query(Submission).all()}
    assert langs[given.json()["id"]] == "go"
    assert langs[recognised.json()["id"]] == "python"
