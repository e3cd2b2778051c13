"""Helpers of the service tests: the servers and processes tests start (and stop)."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from grader.settings import Settings

REPO = Path(__file__).resolve().parents[2]
CHALLENGES = REPO / "challenges"
RATE_LIMITER = CHALLENGES / "rate-limiter"
ROLES = ("candidate", "reviewer", "admin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


# --- Redis -------------------------------------------------------------------------------------


class RedisServer:
    """redis-server on a free port, without persistence: a restart loses every message."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is missing: apt-get install -y redis-server")
        self.proc = subprocess.Popen(
            [
                exe,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--protected-mode",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, 10, "redis-server to answer")

    def _answers(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


# --- PostgreSQL --------------------------------------------------------------------------------


class PostgresServer:
    """A throw-away cluster (initdb) on a free port; runs as the postgres user under root."""

    def __init__(self) -> None:
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            pytest.fail("PostgreSQL is missing: apt-get install -y postgresql")
        self.bin = bins[-1].parent
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="grader-test-pg-"))
        self.data = self.base / "data"
        self._user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            self._user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self._user, *args], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stderr or proc.stdout}")

    def start(self) -> None:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        opts = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.base / "postgres.log"),
            "-o",
            opts,
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )
        shutil.rmtree(self.base, ignore_errors=True)

    def create_database(self) -> str:
        import psycopg

        name = "t_" + secrets.token_hex(6)
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


# --- settings and subprocesses -----------------------------------------------------------------

SETTINGS_ENV = (
    "challenges_dir",
    "data_dir",
    "cache_dir",
    "database_url",
    "redis_url",
    "secret_key",
    "task_max_attempts",
    "stuck_after_seconds",
    "sweep_interval_seconds",
    "worker_concurrency",
    "heartbeat_seconds",
    "heartbeat_timeout_seconds",
    "webhook_allow_private",
    "webhook_max_attempts",
    "max_pending_per_candidate",
    "log_level",
    "max_upload_bytes",
)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment that makes a subprocess build the same ``Settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}
    for name in SETTINGS_ENV:
        env[f"GRADER_{name.upper()}"] = str(getattr(settings, name))
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Proc:
    """A subprocess in its own process group, with its output in a log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 30) -> None:
        if self.alive():
            self.kill(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout)
        # Whatever the main process left in its group goes too.
        self.kill(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Procs:
    """Starts grader commands as subprocesses; ``stop_all`` stops every one."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.started: list[Proc] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> Proc:
        log = self.logdir / f"{name}-{len(self.started)}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "api.cli", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.started.append(proc)
        return proc

    def worker(self, settings: Settings, *extra: str) -> Proc:
        return self.start("worker", ["worker", *extra], settings_env(settings))

    def serve(self, settings: Settings) -> tuple[Proc, str]:
        port = free_port()
        proc = self.start("serve", ["serve", "--port", str(port)], settings_env(settings))
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if not proc.alive():
                raise AssertionError(f"grader serve exited:\n{proc.output()}")
            try:
                return httpx.get(url + "/healthz", timeout=5).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        wait_until(up, 30, "grader serve")
        return proc, url

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()


def run_cli(
    settings: Settings, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=settings_env(settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


# --- the API in-process ------------------------------------------------------------------------


class LiveServer:
    """uvicorn serving an app object in a thread on 127.0.0.1 (real HTTP, real streaming)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_config=None,
                lifespan="on",
                access_log=False,
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        wait_until(lambda: self.server.started or not self.thread.is_alive(), 20, "uvicorn")
        assert self.server.started, "uvicorn did not start"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@dataclass
class Api:
    """A running API with one token per role, plus ``other``: a second candidate."""

    url: str
    settings: Settings
    services: Any
    tokens: dict[str, str]
    token_ids: dict[str, int]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self.clients.append(client)
        return client


def make_tokens(services: Any) -> tuple[dict[str, str], dict[str, int]]:
    from api.auth import create_token

    tokens: dict[str, str] = {}
    ids: dict[str, int] = {}
    with services.session() as db:
        for key, role in (
            ("candidate", "candidate"),
            ("reviewer", "reviewer"),
            ("admin", "admin"),
            ("other", "candidate"),
        ):
            row, secret = create_token(db, role, f"{key}-name")
            tokens[key], ids[key] = secret, row.id
    return tokens, ids


# --- webhooks ----------------------------------------------------------------------------------


@dataclass
class Hook:
    headers: dict[str, str]
    body: str


class HookServer:
    """A webhook receiver on 127.0.0.1; answers 500 to the first ``fail_first`` calls."""

    def __init__(self) -> None:
        self.received: list[Hook] = []
        self.fail_first = 0
        self.calls = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length).decode()
                outer.calls += 1
                if outer.calls <= outer.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.received.append(Hook(dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(h.body) for h in self.received]


# --- HTTP helpers ------------------------------------------------------------------------------


def wait_finished(client: httpx.Client, submission_id: str, timeout: float = 180) -> Any:
    def done() -> Any:
        state = client.get(f"/v1/submissions/{submission_id}").json()
        return state if state["status"] in ("graded", "error") else None

    return wait_until(done, timeout, f"submission {submission_id} to finish", interval=0.3)


def upload(
    client: httpx.Client, path: Path, slug: str = "rate-limiter", **kwargs: Any
) -> httpx.Response:
    return client.post(
        f"/v1/challenges/{slug}/submissions",
        files={"file": (path.name, path.read_bytes())},
        **kwargs,
    )


# --- challenges made for a test ----------------------------------------------------------------

ECHO_TOML = """\
title = "Echo (slow: {sleep}s)"
language = "python"
version = {version}
entrypoint = "echo.py"

[limits]
wall_seconds = 60
test_seconds = {test_seconds}

[feedback]
public_tests = "full"
hidden_tests = "count"
score = true
"""

ECHO_SOLUTION = '''\
"""Echo."""


def echo(value):
    """Return ``value`` unchanged."""
    return value
'''

ECHO_TEST = """\
import time

from echo import echo


def test_echo_returns_its_argument():
    time.sleep({sleep})
    assert echo(41) == 41
"""


def write_echo_challenge(
    parent: Path, slug: str = "echo", *, sleep: float = 0, version: int = 1
) -> Path:
    """A trivial challenge (one test); ``sleep`` makes its test take that long."""
    root = parent / slug
    files = {
        "challenge.toml": ECHO_TOML.format(
            sleep=sleep, version=version, test_seconds=max(5, int(sleep) + 10)
        ),
        "README.md": "# Echo\n\nWrite `echo(value)` in `echo.py`.\n",
        "solution/echo.py": ECHO_SOLUTION,
        "starter/echo.py": "def echo(value):\n    return None\n",
        "tests/public/test_echo.py": ECHO_TEST.format(sleep=sleep),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def copy_challenges(dest: Path, *slugs: str) -> Path:
    """A private challenges folder (a test may bump a version) with the named challenges."""
    dest.mkdir(parents=True, exist_ok=True)
    for slug in slugs:
        shutil.copytree(
            CHALLENGES / slug,
            dest / slug,
            ignore=shutil.ignore_patterns("__pycache__", ".ruff_cache"),
        )
    return dest
