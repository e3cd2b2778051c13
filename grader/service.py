"""Service challenges: a run's job, a submission's language, the report's sections.

The candidate ships an HTTP service; the challenge's pytest tests reach it over the
run's private loopback. One run: a container per database (fresh, random
credentials, the challenge's schema loaded), the candidate's container (the
language's image: its build step, then its service, as an unprivileged user with the
challenge's limits) and the tests container (Python's image, the harness's pytest
with the ``grader_service`` fixtures), which alone holds the tests and writes
results. The runner knows none of this: it runs the ``Job`` built here.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grader.errors import SubmissionError
from grader.languages import get as get_language
from grader.languages.driver import LINT_COMMAND, DriverLanguage
from grader.languages.python import pytest_command
from grader.report import (
    DatabaseSection,
    Flag,
    SchemaInfo,
    ServiceExit,
    ServiceSection,
)
from runners.base import CANDIDATE_ROLE, TESTS_ROLE, Command, Database, Job, ServiceRun
from runners.harness import grader_contract as C

if TYPE_CHECKING:
    from grader.challenge import Challenge
    from runners.base import RunResult

CONTROL_PORT = 7412


@dataclass(frozen=True)
class Engine:
    """A database a challenge can ask for: its image recipe and port."""

    image: str
    port: int
    sql: bool = True


ENGINES: dict[str, Engine] = {
    "postgres": Engine("postgres", 5432),
    "mysql": Engine("mariadb", 3306),
    "redis": Engine("redis", 6379, sql=False),
}
# Host names the run's loopback answers to, for services written for compose files.
HOST_ALIASES = ("postgres", "mysql", "mariadb", "redis", "db")


def detect_language(challenge: Challenge, files: tuple[str, ...] | list[str]) -> str:
    """The language of a submission to a service challenge, from its files: marker
    files (go.mod, package.json...) first, then the count of source files."""
    names = challenge.languages
    if len(names) == 1:
        return names[0]
    scores = sorted(((get_language(n).detect_score(files), n) for n in names), reverse=True)
    best, runner_up = scores[0], scores[1]
    if best[0] == 0 or best[0] == runner_up[0]:
        raise SubmissionError(
            "cannot tell which language the submission is in "
            f"({', '.join(names)}): name it (API field `language`, CLI --language)"
        )
    return best[1]


def _credentials() -> tuple[str, str, str]:
    """A fresh user, password and database name ([a-z0-9_] only, as the images check)."""
    return f"u{secrets.token_hex(6)}", secrets.token_hex(16), f"d{secrets.token_hex(6)}"


def _databases(challenge: Challenge) -> tuple[list[Database], dict[str, str], dict[str, Any]]:
    """The run's database containers, the service's variables, the fixtures' view."""
    cfg = challenge.config.databases
    dbs: list[Database] = []
    env: dict[str, str] = {}
    view: dict[str, Any] = {}
    for name in cfg.names():
        engine = ENGINES[name]
        user, password, dbname = _credentials()
        db_cfg = getattr(cfg, name)
        files: dict[str, bytes] = {}
        schema = getattr(db_cfg, "schema_file", None)
        if schema:
            files["schema.sql"] = (challenge.root / schema).read_bytes()
        host, port = "127.0.0.1", engine.port
        dbs.append(
            Database(
                name=name,
                image=engine.image,
                port=port,
                env={"DB_USER": user, "DB_PASSWORD": password, "DB_NAME": dbname},
                files=files,
                memory_mb=db_cfg.memory_mb,
                # Past the run's own deadlines (the host removes it long before).
                lifetime_s=challenge.config.limits.wall_seconds + 300,
            )
        )
        if name == "postgres":
            url = f"postgresql://{user}:{password}@{host}:{port}/{dbname}?sslmode=disable"
            env.update(
                DATABASE_URL=url,
                PGHOST=host,
                PGPORT=str(port),
                PGUSER=user,
                PGPASSWORD=password,
                PGDATABASE=dbname,
                PGSSLMODE="disable",
            )
        elif name == "mysql":
            url = f"mysql://{user}:{password}@{host}:{port}/{dbname}"
            env.update(
                MYSQL_URL=url,
                MYSQL_HOST=host,
                MYSQL_PORT=str(port),
                MYSQL_USER=user,
                MYSQL_PASSWORD=password,
                MYSQL_DATABASE=dbname,
            )
        else:
            url = f"redis://:{password}@{host}:{port}/0"
            env.update(
                REDIS_URL=url, REDIS_HOST=host, REDIS_PORT=str(port), REDIS_PASSWORD=password
            )
        view[name] = {
            "url": url,
            "host": host,
            "port": port,
            "user": user,
            "password": password,
            "name": dbname,
        }
    if "mysql" in view and "postgres" not in view:
        env["DATABASE_URL"] = view["mysql"]["url"]
    return dbs, env, view


def job(
    challenge: Challenge,
    submission_dir: Path,
    submission_files: tuple[str, ...],
    *,
    token: str,
    label: str,
) -> Job:
    """The run of a service challenge's tests against a submission in ``challenge``'s
    chosen language (see ``Challenge.for_language``)."""
    lang = challenge.language
    svc = challenge.service
    dbs, db_env, db_view = _databases(challenge)
    port = svc.port
    base_url = f"http://127.0.0.1:{port}"
    env = {**lang.service_env, "PORT": str(port), "HOST": "0.0.0.0", **db_env}
    build = svc.build.get(lang.name, lang.service_build)
    start = svc.start.get(lang.name, lang.service_start)
    lint: tuple[str, ...] = ()
    if isinstance(lang, DriverLanguage):
        sources = lang.source_files(submission_files)
        if sources:
            # The read-only copy the launcher took the work folder from: the linter's
            # own layout (Go's under /work) must not land inside what it reads.
            src = f"{C.ROOT_PLACEHOLDER}/{C.SUBMISSION_DIR}"
            lint = (LINT_COMMAND, "--src", src, *sources)
    control_token = secrets.token_hex(16)
    reserved = sorted({CONTROL_PORT, *(d.port for d in dbs)})
    fixtures = {
        "base_url": base_url,
        "port": port,
        "ready_path": svc.ready,
        "ready_seconds": svc.ready_seconds,
        "wall_seconds": challenge.config.limits.wall_seconds,
        "control": f"127.0.0.1:{CONTROL_PORT}",
        "token": control_token,
        "databases": db_view,
        "reserved_ports": reserved,
    }
    tests_argv = pytest_command(challenge.config.limits.test_seconds, path=None)
    tests_argv += ["-p", "grader_service"]
    tests_argv += [f"{C.ROOT_PLACEHOLDER}/{f}" for f in challenge.test_files()]
    commands = {
        CANDIDATE_ROLE: Command(
            argv=("sh", "-c", start),
            build=("sh", "-c", build) if build else (),
            lint=lint,
            env=env,
            code=True,
            image=lang.image,
        ),
        TESTS_ROLE: Command(
            argv=tuple(tests_argv),
            env={C.SERVICE_ENV: json.dumps(fixtures)},
            results=True,
            code=False,
            image="python",
        ),
    }
    return Job(
        image="python",
        submission_dir=submission_dir,
        tests_root=challenge.root,
        commands=commands,
        limits=challenge.run_limits(),
        label=label,
        token=token,
        isolation="service",
        submission_files=submission_files,
        service=ServiceRun(
            port=port,
            ready_path=svc.ready,
            ready_seconds=svc.ready_seconds,
            databases=tuple(dbs),
            control_port=CONTROL_PORT,
            control_token=control_token,
            host_aliases=HOST_ALIASES,
        ),
    )


# -- after the run ------------------------------------------------------------------------


def _json(data: bytes | None) -> dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _float(value: object) -> float | None:
    return round(float(value), 3) if isinstance(value, int | float) else None


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


def schemas(result: RunResult) -> list[SchemaInfo]:
    """The schemas the tests container read after the tests (unreadable: none)."""
    doc = _json(result.extra.get(C.SCHEMA_FILE))
    out: list[SchemaInfo] = []
    for raw in doc.get("databases") or []:
        try:
            out.append(SchemaInfo.model_validate(raw))
        except ValueError:
            out.append(
                SchemaInfo(
                    engine=str(raw.get("engine", "?"))[:20] if isinstance(raw, dict) else "?",
                    problem="the schema report could not be read",
                )
            )
    return out


def section(challenge: Challenge, result: RunResult) -> tuple[ServiceSection, list[Flag]]:
    """The report's ``service`` section and the flags the run deserves."""
    seen = _json(result.extra.get(C.SERVICE_FILE))
    launcher: dict[str, Any] = dict(result.service or {})
    exits = []
    for raw in launcher.get("exits") or []:
        if isinstance(raw, dict) and raw.get("signal") != "restart":
            code = raw.get("code")
            exits.append(
                ServiceExit(
                    code=code if isinstance(code, int) else None,
                    signal=str(raw["signal"]) if raw.get("signal") else None,
                    at_s=_float(raw.get("at_s")),
                )
            )
    svc = challenge.service
    cause = seen.get("cause") if isinstance(seen.get("cause"), str) else None
    message = seen.get("message") if isinstance(seen.get("message"), str) else None
    if not seen and not result.build_failed:
        cause, message = "service-not-ready", "the tests never saw the service (no report)"
    sec = ServiceSection(
        language=challenge.language.name,
        port=svc.port,
        ready=bool(seen.get("ready")),
        ready_s=_float(seen.get("ready_s")),
        ready_seconds=svc.ready_seconds,
        cause=cause,
        message=message,
        starts=_int(launcher.get("starts")),
        restarts=_int(launcher.get("restarts")),
        exits=exits,
        log=str(launcher.get("log") or ""),
        log_bytes=_int(launcher.get("log_bytes")),
        databases=challenge.config.databases.names(),
    )
    flags: list[Flag] = []
    if cause in ("service-not-ready", "service-crashed"):
        flags.append(Flag(code=cause, message=message or cause))
    if sec.ready and exits:
        last = exits[-1]
        how = f"signal {last.signal}" if last.signal else f"code {last.code}"
        flags.append(
            Flag(
                code="service-crashed",
                message=f"the service stopped by itself {len(exits)} time"
                f"{'s' if len(exits) != 1 else ''} during the tests (last: {how} at "
                f"{last.at_s} s); tests after that could not reach it (its log is in the report)",
            )
        )
    return sec, flags


def database_section(
    result: RunResult, reference: list[SchemaInfo] | None
) -> DatabaseSection | None:
    """The schema the service left, beside the reference's (SQL databases only)."""
    found = schemas(result)
    if not found and not reference:
        return None
    return DatabaseSection(schemas=found, reference=reference)
