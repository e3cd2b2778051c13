"""Service benchmark: throughput and latency of the whole stack on this machine.

Starts its own Redis (free port), the API (`grader serve`) and N workers (`grader worker`)
on SQLite in a temporary folder, with a trivial one-test challenge; uploads M submissions
at once over HTTP and waits for all of them, then a few one at a time. Reports
submissions graded per minute under load, and the upload-to-graded time (server
timestamps: created_at -> finished_at) under load and on an idle queue. Everything it
starts, it stops.

    .venv/bin/python bench/service_bench.py [--workers 2] [--submissions 30]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TOML = """\
title = "Echo (benchmark)"
language = "python"
version = 1
entrypoint = "echo.py"
[limits]
wall_seconds = 30
test_seconds = 5
"""
SOLUTION = '"""Echo."""\n\n\ndef echo(value):\n    """Return the value."""\n    return value\n'
TEST = "from echo import echo\n\n\ndef test_echo():\n    assert echo(1) == 1\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


class Stack:
    """Redis, the API and the workers as subprocesses in their own process groups."""

    def __init__(self, workdir: Path, workers: int) -> None:
        self.workdir = workdir
        self.workers = workers
        self.procs: list[subprocess.Popen[bytes]] = []
        self.redis_port = free_port()
        self.api_port = free_port()
        challenges = workdir / "challenges" / "echo"
        for rel, text in {
            "challenge.toml": TOML,
            "README.md": "# Echo\n",
            "solution/echo.py": SOLUTION,
            "starter/echo.py": "",
            "tests/public/test_echo.py": TEST,
        }.items():
            (challenges / rel).parent.mkdir(parents=True, exist_ok=True)
            (challenges / rel).write_text(text)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
        self.env.update(
            {
                "GRADER_CHALLENGES_DIR": str(workdir / "challenges"),
                "GRADER_DATA_DIR": str(workdir / "data"),
                "GRADER_CACHE_DIR": str(workdir / "cache"),
                "GRADER_DATABASE_URL": f"sqlite:///{workdir / 'grader.db'}",
                "GRADER_REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "GRADER_SECRET_KEY": secrets.token_hex(32),
                "GRADER_SWEEP_INTERVAL_SECONDS": "5",
            }
        )

    def _start(self, args: list[str], log: str) -> subprocess.Popen[bytes]:
        with (self.workdir / log).open("wb") as out:
            proc = subprocess.Popen(
                args,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def start(self) -> str:
        redis_server = shutil.which("redis-server")
        if redis_server is None:
            raise SystemExit("redis-server is missing (apt-get install -y redis-server)")
        self._start(
            [
                redis_server,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            "redis.log",
        )
        grader = [sys.executable, "-m", "api.cli"]
        url = f"http://127.0.0.1:{self.api_port}"
        self._start([*grader, "serve", "--port", str(self.api_port)], "api.log")

        def up() -> bool:
            try:
                return httpx.get(url + "/openapi.json", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait(up, 60, "the API")
        for n in range(self.workers):
            self._start([*grader, "worker", "--hostname", f"bench{n}@localhost"], f"worker{n}.log")
        return url

    def token(self) -> str:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "api.cli",
                "token",
                "create",
                "--role",
                "reviewer",
                "--name",
                "bench",
            ],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout.strip()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def submit_all(client: httpx.Client, count: int) -> list[str]:
    ids = []
    for n in range(count):
        # A distinct file each time: nothing is deduplicated on the way.
        body = SOLUTION + f"\n# submission {n}\n"
        resp = client.post(
            "/v1/challenges/echo/submissions", files={"file": ("echo.py", body.encode())}
        )
        resp.raise_for_status()
        ids.append(resp.json()["id"])
    return ids


def collect(client: httpx.Client, ids: list[str], timeout: float) -> list[dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(done) < len(ids):
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(done)} of {len(ids)} finished in {timeout:g}s")
        for sub_id in ids:
            if sub_id not in done:
                state = client.get(f"/v1/submissions/{sub_id}").json()
                if state["status"] in ("graded", "error"):
                    done[sub_id] = state
        time.sleep(0.5)
    return [done[i] for i in ids]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--submissions", type=int, default=30)
    parser.add_argument(
        "--idle", type=int, default=5, help="then this many, one at a time, on an idle queue"
    )
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args()

    from runners.images import build

    build("python")
    workdir = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    stack = Stack(workdir, args.workers)
    try:
        url = stack.start()
        token = stack.token()
        with httpx.Client(
            base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            # Warm-up: the challenge's expected tests are collected once, then cached.
            collect(client, submit_all(client, 1), args.timeout)
            t0 = time.monotonic()
            ids = submit_all(client, args.submissions)
            upload_s = time.monotonic() - t0
            states = collect(client, ids, args.timeout)
            # One at a time on an idle queue: the latency a lone candidate sees.
            idle = [
                collect(client, submit_all(client, 1), args.timeout)[0] for _ in range(args.idle)
            ]
    finally:
        stack.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    def ts(value: str) -> float:
        return datetime.fromisoformat(value).timestamp()

    graded = [s for s in states if s["status"] == "graded"]
    latencies = sorted(ts(s["finished_at"]) - ts(s["created_at"]) for s in graded)
    span = max(ts(s["finished_at"]) for s in states) - min(ts(s["created_at"]) for s in states)
    result = {
        "workers": args.workers,
        "submissions": args.submissions,
        "graded": len(graded),
        "errors": len(states) - len(graded),
        "uploads_seconds": round(upload_s, 2),
        "span_seconds": round(span, 2),
        "submissions_per_minute": round(len(states) / span * 60, 1),
        "upload_to_graded_median_s": round(statistics.median(latencies), 2),
        "upload_to_graded_p90_s": round(latencies[int(0.9 * (len(latencies) - 1))], 2),
        "idle_upload_to_graded_median_s": round(
            statistics.median(ts(s["finished_at"]) - ts(s["created_at"]) for s in idle), 2
        )
        if idle
        else None,
        "grading_median_s": round(
            statistics.median(ts(s["finished_at"]) - ts(s["started_at"]) for s in graded), 2
        ),
        "cpus": os.cpu_count(),
    }
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"service-{int(time.time())}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
