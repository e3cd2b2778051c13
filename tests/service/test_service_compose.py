"""The composed stack (docker-compose.yml): it needs its secrets, and it grades."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from service_support import RATE_LIMITER, REPO, free_port, wait_until

pytestmark = [pytest.mark.service, pytest.mark.docker]


def compose(
    env: dict[str, str], project: str, *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is missing: apt-get install -y docker-compose")
    return subprocess.run(
        [exe, "-p", project, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def base_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GRADER_") and k != "POSTGRES_PASSWORD"
    }


def test_the_compose_file_has_no_default_secrets(tmp_path: Path) -> None:
    env = base_env()
    missing = compose(env, "grader-test-config", "config")
    assert missing.returncode != 0
    assert "POSTGRES_PASSWORD" in missing.stderr or "GRADER_SECRET_KEY" in missing.stderr
    env.update(GRADER_SECRET_KEY=secrets.token_hex(32), POSTGRES_PASSWORD=secrets.token_hex(8))
    ok = compose(env, "grader-test-config", "config")
    assert ok.returncode == 0, ok.stderr
    assert env["GRADER_SECRET_KEY"] in ok.stdout


def test_redis_and_postgres_are_published_only_with_the_multi_host_file() -> None:
    env = base_env()
    env.update(GRADER_SECRET_KEY=secrets.token_hex(32), POSTGRES_PASSWORD=secrets.token_hex(8))
    alone = compose(env, "grader-test-config", "config")
    assert alone.returncode == 0, alone.stderr
    # Only the API is published (on 127.0.0.1): a Redis or PostgreSQL already running on
    # the host is not in the way, and neither is reachable from outside the stack.
    assert "6379:6379" not in alone.stdout and "5432:5432" not in alone.stdout
    assert "127.0.0.1:8000:8000" in alone.stdout
    files = ("-f", "docker-compose.yml", "-f", "deploy/publish-queue.yml", "config")
    unset = compose(env, "grader-test-config", *files)
    assert unset.returncode != 0 and "GRADER_PUBLISH_QUEUE" in unset.stderr
    published = compose({**env, "GRADER_PUBLISH_QUEUE": "10.9.8.7"}, "grader-test-config", *files)
    assert published.returncode == 0, published.stderr
    assert "10.9.8.7:6379:6379" in published.stdout
    assert "10.9.8.7:5432:5432" in published.stdout


@pytest.fixture
def stack_env(runner_image: str) -> Iterator[tuple[str, dict[str, str], str]]:
    build = subprocess.run(
        ["bash", str(REPO / "deploy" / "build.sh")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    project = f"grader-test-{secrets.token_hex(4)}"
    port = free_port()
    env = base_env()
    env.update(
        GRADER_SECRET_KEY=secrets.token_hex(32),
        POSTGRES_PASSWORD=secrets.token_hex(16),
        GRADER_PORT=str(port),
    )
    try:
        yield project, env, f"http://127.0.0.1:{port}"
    finally:
        logs = compose(env, project, "logs", "--no-color", "--tail=50")
        down = compose(env, project, "down", "-v", "--remove-orphans", "-t", "20")
        if down.returncode != 0:
            print(down.stderr)
        print(logs.stdout[-5000:])


@pytest.mark.slow
def test_the_composed_stack_grades_a_submission_with_two_workers(
    stack_env: tuple[str, dict[str, str], str], sandbox_cleanup: list[str]
) -> None:
    project, env, url = stack_env
    up = compose(env, project, "up", "-d", "--scale", "worker=2")
    assert up.returncode == 0, up.stderr

    def healthy() -> bool:
        try:
            return httpx.get(url + "/healthz", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    wait_until(healthy, 180, "the stack's /healthz to answer 200", interval=1)
    tokens = {}
    for role in ("candidate", "reviewer"):
        made = compose(
            env, project, "exec", "-T", "api", "grader", "token", "create", "--role", role
        )
        assert made.returncode == 0, made.stderr
        tokens[role] = made.stdout.strip()
    candidate = httpx.Client(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {tokens['candidate']}"}
    )
    reviewer = httpx.Client(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {tokens['reviewer']}"}
    )
    with candidate, reviewer:
        solution = RATE_LIMITER / "solution" / "ratelimit.py"
        resp = candidate.post(
            "/v1/challenges/rate-limiter/submissions",
            files={"file": (solution.name, solution.read_bytes())},
        )
        assert resp.status_code == 202, resp.text
        sub_id = resp.json()["id"]
        sandbox_cleanup.append(sub_id)

        def graded() -> bool:
            return candidate.get(f"/v1/submissions/{sub_id}").json()["status"] in (
                "graded",
                "error",
            )

        wait_until(graded, 180, "the submission to be graded", interval=1)
        report = reviewer.get(f"/v1/submissions/{sub_id}/report.json").json()
        assert report["status"] == "graded", report
        assert report["scores"]["correctness"] == 100
        state = reviewer.get(f"/v1/submissions/{sub_id}").json()
        assert state["review"]["worker"].startswith("grader@")

    # A placeholder secret: the service refuses to start.
    refused = compose(
        {**env, "GRADER_SECRET_KEY": "changeme"}, project, "run", "--rm", "-T", "--no-deps", "api"
    )
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "placeholder" in refused.stderr + refused.stdout
