"""The service's commands, added to the ``grader`` command: serve, worker, submit, token, db.

``grader`` (the engine's CLI) never imports ``api``; the console script is ``main`` here,
which takes ``grader.cli.cli``, registers these commands on it and runs it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

EXIT_OK, EXIT_BELOW, EXIT_INPUT, EXIT_INFRA = 0, 1, 2, 3


def _fail(message: str, code: int) -> None:
    click.echo(f"grader: {message}", err=True)
    sys.exit(code)


def _settings() -> Any:
    from grader.settings import Settings

    return Settings()


def _sessions() -> Any:
    """A migrated database's services (for the token and db commands)."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.db import make_engine, session_factory, upgrade

    settings = _settings()
    try:
        engine = make_engine(settings)
        upgrade(engine)
    except (SQLAlchemyError, OSError) as exc:
        _fail(f"cannot open the database: {str(exc).splitlines()[0]}", EXIT_INFRA)
    return engine, session_factory(engine)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="uvicorn worker processes",
)
@click.option("--access-log/--no-access-log", default=False, show_default=True)
def serve(host: str, port: int, workers: int, access_log: bool) -> None:
    """Run the HTTP API (uvicorn); migrates the database first."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from api.auth import secret_problem
    from api.db import make_engine, upgrade
    from api.logs import configure

    settings = _settings()
    problem = secret_problem(settings.secret_key)
    if problem is not None:
        _fail(f"refusing to start: {problem}", EXIT_INPUT)
    configure(settings)
    try:
        engine = make_engine(settings)
        upgrade(engine)
        engine.dispose()
    except (SQLAlchemyError, OSError) as exc:
        _fail(f"cannot migrate the database: {str(exc).splitlines()[0]}", EXIT_INFRA)
    uvicorn.run(
        "api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_config=None,
        proxy_headers=False,
        timeout_graceful_shutdown=30,
    )


@click.command()
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="gradings at once in this worker (default: GRADER_WORKER_CONCURRENCY)",
)
@click.option("--hostname", default=None, help="worker name (default: grader@HOST-PID)")
@click.option(
    "--sweep/--no-sweep",
    default=True,
    show_default=True,
    help="re-send submissions stuck in queued/running",
)
def worker(concurrency: int | None, hostname: str | None, sweep: bool) -> None:
    """Run a grading worker (Celery on Redis) with the periodic sweep."""
    from sqlalchemy.exc import SQLAlchemyError

    from api.worker import ConfigError, run_worker

    try:
        code = run_worker(_settings(), concurrency=concurrency, hostname=hostname, sweep=sweep)
    except ConfigError as exc:
        _fail(f"refusing to start: {exc}", EXIT_INPUT)
    except (SQLAlchemyError, OSError) as exc:
        _fail(f"cannot start the worker: {str(exc).splitlines()[0]}", EXIT_INFRA)
    sys.exit(code)


# --- submit ------------------------------------------------------------------------------------


class _Progress:
    """A status line on a terminal (stderr); nothing when piped."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self._status: Any = None
        self._started = time.monotonic()

    def __enter__(self) -> _Progress:
        if self.enabled:
            from rich.console import Console

            self._status = Console(stderr=True).status("uploading")
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)

    def say(self, message: str) -> None:
        if self._status is not None:
            self._status.update(f"{message} ({time.monotonic() - self._started:.0f}s)")


def _text(state: dict[str, Any]) -> str:
    lines = [
        f"submission {state['id']}: {state['status']} "
        f"({state['challenge']['slug']} v{state['challenge']['version']})"
    ]
    view = state.get("feedback") or {}
    error = view.get("error")
    if error:
        lines.append(f"error: {error['message']}")
    public = view.get("public_tests")
    if public:
        lines.append(f"public tests: {public['passed']}/{public['total']} passed")
        for t in public.get("tests", []):
            mark = "PASS" if t.get("outcome") == "passed" else "FAIL"
            msg = (t.get("message") or "").strip().splitlines()
            lines.append(
                f"  {mark} {t['id']}" + (f": {msg[0][:160]}" if msg and mark == "FAIL" else "")
            )
    hidden = view.get("hidden_tests")
    if hidden and hidden.get("total"):
        lines.append(f"hidden tests: {hidden['passed']}/{hidden['total']} passed")
    if view.get("limits_hit"):
        lines.append("limits hit: " + ", ".join(view["limits_hit"]))
    scores = view.get("scores")
    if scores:
        lines.append(
            "score: "
            + f"{scores['total']:.1f}/100 ("
            + ", ".join(f"{k} {v:.1f}" for k, v in scores.items() if k != "total")
            + ")"
        )
    if state.get("stale"):
        lines.append("note: graded against an older version of the challenge")
    return "\n".join(lines)


def _total(state: dict[str, Any]) -> float | None:
    scores = (state.get("feedback") or {}).get("scores")
    if scores:
        return float(scores["total"])
    review = state.get("review") or {}
    return float(review["total"]) if review.get("total") is not None else None


@click.command()
@click.option(
    "--url",
    required=True,
    envvar="GRADER_URL",
    help="the service, e.g. http://127.0.0.1:8000 (or GRADER_URL)",
)
@click.option(
    "--token", required=True, envvar="GRADER_TOKEN", help="bearer token (or GRADER_TOKEN)"
)
@click.argument("challenge")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    help="exit 1 when the total is below this (needs a challenge that shows scores)",
)
@click.option("--callback-url", default=None, help="POSTed a signed summary when done")
@click.option(
    "--timeout",
    type=click.FloatRange(1),
    default=900,
    show_default=True,
    help="seconds to wait for the result",
)
@click.option("--no-wait", is_flag=True, help="print the submission id and return at once")
@click.option(
    "--language",
    default=None,
    help="a service challenge's language of the submission (default: recognised from its files)",
)
def submit(
    url: str,
    token: str,
    challenge: str,
    path: Path,
    fmt: str,
    fail_under: float | None,
    callback_url: str | None,
    timeout: float,
    no_wait: bool,
    language: str | None,
) -> None:
    """Upload PATH (a file, a .zip/.tar.gz, or a folder) as a solution of CHALLENGE and wait
    for the result. Exit 0 graded, 1 below --fail-under, 2 bad input, 3 server error."""
    from api.client import Client, ClientError, ServerError, pack

    client = Client(url, token)
    try:
        with _Progress() as progress:
            payload = pack(path)
            created = client.upload(
                challenge, payload, callback_url=callback_url, language=language
            )
            if no_wait:
                click.echo(created["id"])
                return
            state = client.wait(
                created["id"],
                timeout=timeout,
                on_status=lambda s: progress.say(str(s.get("status"))),
            )
    except ClientError as exc:
        _fail(str(exc), EXIT_INPUT)
        return
    except ServerError as exc:
        _fail(str(exc), EXIT_INFRA)
        return
    except OSError as exc:
        _fail(f"{path}: {exc.strerror or exc}", EXIT_INPUT)
        return
    finally:
        client.close()
    click.echo(json.dumps(state, indent=2) if fmt == "json" else _text(state))
    if state["status"] == "error":
        code = ((state.get("feedback") or {}).get("error") or {}).get("code")
        sys.exit(EXIT_INPUT if code == "invalid-submission" else EXIT_INFRA)
    if fail_under is not None:
        total = _total(state)
        if total is None:
            _fail("this challenge does not show scores; --fail-under cannot be checked", EXIT_INPUT)
        elif total < fail_under:
            sys.exit(EXIT_BELOW)


# --- tokens and the database ------------------------------------------------------------------


@click.group()
def token() -> None:
    """Bearer tokens of the HTTP API (stored hashed)."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["candidate", "reviewer", "admin"]))
@click.option("--name", default="", help="who holds it (shown to reviewers)")
def token_create(role: str, name: str) -> None:
    """Create a token and print it (the only time it is shown)."""
    from api.auth import create_token

    if len(name) > 200 or not name.isprintable():
        _fail("--name: at most 200 printable characters", EXIT_INPUT)
    _, sessions = _sessions()
    with sessions() as db, db.begin():
        row, secret = create_token(db, role, name)
        token_id = row.id
    click.echo(secret)
    click.echo(
        f"created token {token_id} ({role}{', ' + name if name else ''}); it is not shown again",
        err=True,
    )


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    from api.auth import revoke_token

    _, sessions = _sessions()
    with sessions() as db, db.begin():
        row = revoke_token(db, token_id)
    if row is None:
        _fail(f"no token {token_id}", EXIT_INPUT)
    click.echo(f"revoked token {token_id}")


@token.command("list")
def token_list() -> None:
    """Every token: id, role, name, first characters, created, revoked."""
    from sqlalchemy import select

    from api.models import Token

    _, sessions = _sessions()
    with sessions() as db:
        rows = db.scalars(select(Token).order_by(Token.id)).all()
    for row in rows:
        revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "-"
        click.echo(
            f"{row.id}\t{row.role}\t{row.prefix}…\t"
            f"{row.created_at.isoformat(timespec='seconds')}\trevoked:{revoked}\t"
            f"{row.name}"
        )


@click.group()
def db() -> None:
    """The service's database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (also done at the start of serve and worker)."""
    from api.db import current_revision

    engine, _ = _sessions()
    click.echo(f"database at revision {current_revision(engine)}")


def register(group: click.Group) -> None:
    """Add the service's commands to the ``grader`` command group."""
    for command in (serve, worker, submit, token, db):
        group.add_command(command)


def main() -> None:
    """The ``grader`` console script: the engine's commands plus the service's."""
    from grader.cli import cli
    from grader.cli import main as grader_main

    register(cli)
    grader_main()


if __name__ == "__main__":
    main()
