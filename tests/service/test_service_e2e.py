"""End to end on real components: `grader serve` and `grader worker` subprocesses, Redis,
SQLite or PostgreSQL, Docker sandboxes. Upload over HTTP, queued, graded, the reviewer's
report; webhooks; re-grades; `grader submit`."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import (
    RATE_LIMITER,
    REPO,
    HookServer,
    Procs,
    copy_challenges,
    run_cli,
    upload,
    wait_finished,
    wait_until,
)

from api.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from grader.settings import Settings

pytestmark = [pytest.mark.service, pytest.mark.docker]

SOLUTION = RATE_LIMITER / "solution" / "ratelimit.py"


@dataclass
class Stack:
    url: str
    settings: Settings
    tokens: dict[str, str]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str) -> httpx.Client:
        client = httpx.Client(
            base_url=self.url, timeout=60, headers={"Authorization": f"Bearer {self.tokens[role]}"}
        )
        self.clients.append(client)
        return client


@pytest.fixture
def start_stack(
    runner_image: str, make_settings: Callable[..., Settings], procs: Procs, tmp_path: Path
) -> Iterator[Callable[..., Stack]]:
    """API and one worker as subprocesses; tokens made with `grader token create`; the
    challenges named (rate-limiter by default) in a folder of the test's own."""
    stacks: list[Stack] = []

    def start(*slugs: str, **overrides: Any) -> Stack:
        challenges = copy_challenges(tmp_path / "challenges", *(slugs or ("rate-limiter",)))
        settings = make_settings(challenges_dir=challenges, **overrides)
        tokens = {}
        for role in ("candidate", "reviewer", "admin"):
            made = run_cli(settings, "token", "create", "--role", role, "--name", f"{role}-e2e")
            assert made.returncode == 0, made.stderr
            tokens[role] = made.stdout.strip()
        _, url = procs.serve(settings)
        procs.worker(settings)
        stack = Stack(url, settings, tokens)
        stacks.append(stack)
        return stack

    yield start
    for stack in stacks:
        for client in stack.clients:
            client.close()


def starter_tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(RATE_LIMITER / "starter" / "ratelimit.py", arcname="ratelimit.py")
    return buf.getvalue()


def test_a_passing_and_a_failing_solution_are_graded_end_to_end(
    start_stack: Callable[..., Stack],
    database_url: str,
    hooks: HookServer,
    sandbox_cleanup: list[str],
) -> None:
    stack = start_stack(database_url=database_url)
    candidate, reviewer = stack.client("candidate"), stack.client("reviewer")
    good = upload(candidate, SOLUTION, data={"callback_url": hooks.url})
    bad = candidate.post(
        "/v1/challenges/rate-limiter/submissions",
        files={"file": ("starter.tar.gz", starter_tarball())},
        data={"callback_url": hooks.url},
    )
    assert good.status_code == bad.status_code == 202, (good.text, bad.text)
    good_id, bad_id = good.json()["id"], bad.json()["id"]
    sandbox_cleanup.extend([good_id, bad_id])
    assert good.json()["status"] == "queued"

    passed, failed = wait_finished(candidate, good_id), wait_finished(candidate, bad_id)
    assert passed["status"] == failed["status"] == "graded", (passed, failed)

    view = passed["feedback"]
    assert view["public_tests"]["passed"] == view["public_tests"]["total"] > 0
    assert view["hidden_tests"]["passed"] == view["hidden_tests"]["total"] > 0
    assert view["scores"] is None  # the challenge does not show candidates their score
    weak = failed["feedback"]
    assert weak["hidden_tests"]["passed"] < weak["hidden_tests"]["total"]

    full = reviewer.get(f"/v1/submissions/{good_id}/report.json").json()
    assert full["status"] == "graded" and full["scores"]["correctness"] == 100
    assert full["submission"]["id"] == good_id and full["timings"]["queued_s"] >= 0
    weak_report = reviewer.get(f"/v1/submissions/{bad_id}/report.json").json()
    assert weak_report["scores"]["correctness"] < 100

    # Hidden test names, messages and output never reach the candidate.
    candidate_text = candidate.get(f"/v1/submissions/{bad_id}").text
    for test in weak_report["tests"]:
        if test["visibility"] == "hidden":
            assert test["id"] not in candidate_text
            assert test["id"].rpartition("::")[2] not in candidate_text
            for line in (test["message"] or "").splitlines():
                if len(line.strip()) >= 12:
                    assert line.strip() not in candidate_text
    assert reviewer.get(f"/v1/submissions/{bad_id}/report.md").status_code == 200
    assert "<html" in reviewer.get(f"/v1/submissions/{bad_id}/report.html").text.lower()

    ranked = reviewer.get("/v1/challenges/rate-limiter/submissions").json()["items"]
    assert [i["id"] for i in ranked] == [good_id, bad_id] and ranked[0]["rank"] == 1

    # One signed webhook each; a candidate's callback carries no score under this policy.
    wait_until(lambda: len(hooks.received) >= 2, 30, "two webhooks")
    for hook in hooks.received:
        assert verify(
            stack.settings.secret_key,
            hook.headers[TIMESTAMP_HEADER],
            hook.body,
            hook.headers[SIGNATURE_HEADER],
        )
    bodies = {b["id"]: b for b in hooks.bodies()}
    assert set(bodies) == {good_id, bad_id}
    assert bodies[good_id]["status"] == "graded" and "total" not in bodies[good_id]
    assert bodies[good_id]["challenge"] == {"slug": "rate-limiter", "version": 1}

    metrics = httpx.get(stack.url + "/metrics").text
    assert 'grader_submissions{status="graded"} 2.0' in metrics
    assert "grader_grading_duration_seconds_count 2.0" in metrics


def test_a_reviewer_regrades_and_a_version_bump_marks_reports_stale(
    start_stack: Callable[..., Stack], sandbox_cleanup: list[str], hooks: HookServer
) -> None:
    stack = start_stack()
    reviewer = stack.client("reviewer")
    hooks.fail_first = 1  # the first delivery fails: it is retried with backoff
    sub_id = upload(
        reviewer, RATE_LIMITER / "starter" / "ratelimit.py", data={"callback_url": hooks.url}
    ).json()["id"]
    sandbox_cleanup.append(sub_id)
    first = wait_finished(reviewer, sub_id)
    assert first["status"] == "graded" and first["stale"] is False
    wait_until(lambda: hooks.received, 30, "the webhook, on its second attempt")
    assert hooks.calls == 2 and "total" in hooks.bodies()[0]  # a reviewer's callback: score

    again = reviewer.post(f"/v1/submissions/{sub_id}/regrade")
    # The worker may take it before the answer is written.
    assert again.status_code == 202 and again.json()["status"] in ("queued", "running")
    second = wait_finished(reviewer, sub_id)
    assert second["status"] == "graded" and second["finished_at"] > first["finished_at"]
    assert second["review"]["attempts"] == 1

    toml = stack.settings.challenges_dir / "rate-limiter" / "challenge.toml"
    toml.write_text(toml.read_text().replace("version = 1", "version = 2"))
    stale = reviewer.get(f"/v1/submissions/{sub_id}").json()
    assert stale["stale"] is True and stale["challenge"]["version"] == 1
    out = reviewer.post("/v1/challenges/rate-limiter/regrade?scope=stale").json()
    assert out["ids"] == [sub_id]
    third = wait_finished(reviewer, sub_id)
    assert third["stale"] is False and third["challenge"]["version"] == 2
    report = reviewer.get(f"/v1/submissions/{sub_id}/report.json").json()
    assert report["challenge"]["version"] == 2


def test_grader_submit_uploads_waits_and_exits_by_the_result(
    start_stack: Callable[..., Stack], tmp_path: Path, sandbox_cleanup: list[str]
) -> None:
    stack = start_stack()
    folder = tmp_path / "my-solution"
    folder.mkdir()
    (folder / "ratelimit.py").write_bytes(SOLUTION.read_bytes())

    def submit(role: str, *args: str) -> Any:
        proc = run_cli(
            stack.settings,
            "submit",
            "--url",
            stack.url,
            "--token",
            stack.tokens[role],
            *args,
            timeout=300,
        )
        return proc

    ok = submit("candidate", "rate-limiter", str(folder), "--format", "json")
    assert ok.returncode == 0, ok.stderr
    state = json.loads(ok.stdout)
    sandbox_cleanup.append(state["id"])
    assert state["status"] == "graded" and state["feedback"]["hidden_tests"]["total"] > 0

    below = submit(
        "reviewer",
        "rate-limiter",
        str(RATE_LIMITER / "starter" / "ratelimit.py"),
        "--fail-under",
        "99",
    )
    assert below.returncode == 1, below.stderr
    assert "hidden tests:" in below.stdout
    sandbox_cleanup.append(below.stdout.split()[1].rstrip(":"))

    hidden_score = submit("candidate", "rate-limiter", str(SOLUTION), "--fail-under", "50")
    assert hidden_score.returncode == 2 and "does not show scores" in hidden_score.stderr
    sandbox_cleanup.append(hidden_score.stdout.split()[1].rstrip(":"))

    unknown = submit("candidate", "no-such-challenge", str(SOLUTION))
    assert unknown.returncode == 2 and "no challenge" in unknown.stderr
    missing = submit("candidate", "rate-limiter", str(tmp_path / "nothing-here"))
    assert missing.returncode == 2
    bad_token = run_cli(
        stack.settings,
        "submit",
        "--url",
        stack.url,
        "--token",
        "grd_wrong",
        "rate-limiter",
        str(SOLUTION),
    )
    assert bad_token.returncode == 2 and "unauthorized" in bad_token.stderr
    down = run_cli(
        stack.settings,
        "submit",
        "--url",
        "http://127.0.0.1:9",
        "--token",
        "x",
        "rate-limiter",
        str(SOLUTION),
    )
    assert down.returncode == 3 and "Traceback" not in down.stderr


def test_a_candidate_submits_with_the_one_file_client_the_service_serves(
    start_stack: Callable[..., Stack], tmp_path: Path, sandbox_cleanup: list[str]
) -> None:
    """No install: the script comes from the service and runs on the standard library
    alone (-I -S: no site-packages, so no grader, no httpx)."""
    import subprocess
    import sys

    stack = start_stack()
    script = httpx.get(f"{stack.url}/v1/client/grader-submit.py", timeout=30)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/x-python")
    path = tmp_path / "grader-submit.py"
    path.write_bytes(script.content)
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "ratelimit.py").write_bytes(SOLUTION.read_bytes())

    def client(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-I", "-S", str(path), "--url", stack.url, *args],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    ok = client("--token", stack.tokens["candidate"], "--json", "rate-limiter", str(folder))
    assert ok.returncode == 0, ok.stderr
    state = json.loads(ok.stdout)
    sandbox_cleanup.append(state["id"])
    assert state["status"] == "graded"
    assert state["feedback"]["public_tests"]["passed"] == state["feedback"]["public_tests"]["total"]
    refused = client("--token", stack.tokens["candidate"], "no-such-challenge", str(folder))
    assert refused.returncode == 2 and "HTTP 404" in refused.stderr
    bad_token = client("--token", "nope", "rate-limiter", str(folder))
    assert bad_token.returncode == 2 and "HTTP 401" in bad_token.stderr


def tarball(folder: Path) -> bytes:
    """A .tar.gz of the files of ``folder`` (at its top)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            tar.add(path, arcname=path.relative_to(folder).as_posix())
    return buf.getvalue()


def test_a_service_submission_is_graded_end_to_end_in_the_language_named_or_recognised(
    start_stack: Callable[..., Stack], sandbox_cleanup: list[str]
) -> None:
    stack = start_stack("orders-api")
    candidate, reviewer = stack.client("candidate"), stack.client("reviewer")

    # What a candidate reads before writing: the libraries per language, one starter.
    langs = {i["name"]: i for i in candidate.get("/v1/languages").json()["items"]}
    assert any("Express" in lib for lib in langs["javascript"]["service"]["libraries"])
    assert any("JDBC" in lib for lib in langs["java"]["service"]["libraries"])
    assert any("PDO" in lib for lib in langs["php"]["service"]["libraries"])
    assert langs["ruby"]["service"]["env"]["RACK_ENV"] == "production"
    detail = candidate.get("/v1/challenges/orders-api").json()
    assert detail["languages"] == ["python", "go", "javascript", "ruby", "php", "java"]
    assert "CLASSPATH" in detail["service"]["languages"]["java"]["env"]
    go = candidate.get("/v1/challenges/orders-api/starter", params={"language": "go"})
    assert go.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(go.content)) as tar:
        assert sorted(tar.getnames()) == ["orders-api/go.mod", "orders-api/main.go"]

    orders = REPO / "challenges" / "orders-api"
    named = candidate.post(
        "/v1/challenges/orders-api/submissions",
        files={"file": ("mine.tar.gz", tarball(orders / "solution" / "php"))},
        data={"language": "php"},
    )
    recognised = candidate.post(
        "/v1/challenges/orders-api/submissions",
        files={"file": ("start.tar.gz", tarball(orders / "starter" / "php"))},
    )
    assert named.status_code == recognised.status_code == 202, (named.text, recognised.text)
    named_id, recognised_id = named.json()["id"], recognised.json()["id"]
    sandbox_cleanup.extend([named_id, recognised_id])
    for sub_id in (named_id, recognised_id):
        assert wait_finished(candidate, sub_id, timeout=300)["status"] == "graded"

    good = reviewer.get(f"/v1/submissions/{named_id}/report.json").json()
    assert good["language"] == "php" and good["scores"]["correctness"] == 100
    service = good["service"]
    assert service["language"] == "php" and service["ready"] is True
    assert service["restarts"] == 1 and service["databases"] == ["postgres"]
    (schema,) = good["database"]["schemas"]
    assert schema["engine"] == "postgres" and schema["problem"] is None
    tables = {t["name"]: t for t in schema["tables"]}
    assert set(tables) == {"products", "orders", "order_items"}
    assert tables["order_items"]["primary_key"] == ["order_id", "product_id"]
    assert [s["engine"] for s in good["database"]["reference"]] == ["postgres"]
    markdown = reviewer.get(f"/v1/submissions/{named_id}/report.md").text
    assert "**Service:** php on port 8080" in markdown

    weak = reviewer.get(f"/v1/submissions/{recognised_id}/report.json").json()
    assert weak["language"] == "php" and weak["scores"]["correctness"] < 100
    assert weak["service"]["ready"] is True
    # The service made no tables: the section says so, beside the reference's design.
    assert weak["database"]["schemas"][0]["tables"] == []
    assert weak["database"]["reference"][0]["tables"]

    # The candidate sees the feedback the policy allows, not the service's log or schema.
    mine = candidate.get(f"/v1/submissions/{named_id}").json()
    assert "service" not in json.dumps(mine["feedback"])
    assert "order_items" not in json.dumps(mine)
