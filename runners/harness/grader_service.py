"""Fixtures for a service challenge's tests (a pytest plugin, ``-p grader_service``).

Runs in the tests container only: the candidate's service runs in another container
and is reached over the run's private loopback. Fixtures:

- ``base_url``: ``http://127.0.0.1:<port>``;
- ``http``: an ``httpx.Client`` on it (one per test);
- ``service``: ``.restart()`` (the databases keep their data; waits until it is ready
  again), ``.logs()`` (its log so far), ``.status()``, ``.url``, ``.port``;
- ``db``: a connection (autocommit) to the run's PostgreSQL (psycopg) or, when the
  challenge has no PostgreSQL, its MySQL/MariaDB (PyMySQL); ``postgres`` and ``mysql``
  name each; ``db_url``;
- ``redis``: a ``redis.Redis`` client (strings decoded).

Before the first test the plugin waits for the service: its build, then its readiness
(the ``ready`` path answering 2xx, or the port accepting) within ``ready_seconds`` of
its start. A service that never gets ready, crashes at start or does not build makes
every test an error with the cause. After the tests it writes what it saw
(``out/service.json``) and the schema the service left in the database
(``out/schema.json``). Configuration comes from the ``GRADER_SERVICE`` variable.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

import grader_contract as C
import httpx
import pytest

CONFIG: dict[str, Any] = json.loads(os.environ.pop(C.SERVICE_ENV, "") or "{}")
OUT = os.path.join(C.ROOT, C.OUT_DIR)
MAX_TABLES = 200
MAX_COLUMNS = 200
MAX_INDEXES = 100
MAX_TEXT = 300
STATE: dict[str, Any] = {
    "ready": False,
    "ready_s": None,
    "cause": None,
    "message": None,
    "restarts": 0,
    "restart_ready_s": [],
}


class ServiceNotReady(Exception):
    """The service did not become ready (the message says why)."""


def _control(op: str, timeout: float = 5.0) -> dict[str, Any]:
    """One request to the candidate container's launcher; {} when it does not answer."""
    host, _, port = str(CONFIG.get("control", "127.0.0.1:7412")).rpartition(":")
    line = json.dumps({"token": CONFIG.get("token", ""), "op": op}).encode() + b"\n"
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as sock:
            sock.sendall(line)
            buf = bytearray()
            while b"\n" not in buf and len(buf) < 4 * 1024 * 1024:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
    except OSError:
        return {}
    try:
        reply = json.loads(bytes(buf).split(b"\n", 1)[0] or b"{}")
    except ValueError:
        return {}
    return reply if isinstance(reply, dict) else {}


def _listening_ports() -> list[int]:
    """TCP ports listening on the run's loopback (its namespace is the run's alone)."""
    ports: set[int] = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path, encoding="ascii") as fh:
                lines = fh.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 3 and parts[3] == "0A":
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return sorted(ports)


def _probe() -> bool:
    """One readiness check: the ready path answers 2xx, or the port accepts."""
    port = int(CONFIG.get("port", 8080))
    path = CONFIG.get("ready_path")
    if not path:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return True
        except OSError:
            return False
    try:
        response = httpx.get(f"{CONFIG['base_url']}{path}", timeout=2.0)
    except httpx.HTTPError:
        return False
    return 200 <= response.status_code < 300


def _exit_text(status: dict[str, Any]) -> str:
    exits = status.get("exits") or []
    if not exits:
        return "it exited"
    last = exits[-1]
    how = f"signal {last['signal']}" if last.get("signal") else f"code {last.get('code')}"
    return f"it exited with {how} {last.get('at_s')} s into the run"


def wait_ready(limit: float | None = None) -> float:
    """Wait until the service answers; the seconds it took from its (re)start.

    Raises ServiceNotReady (with a cause in ``.args[0]`` and a message) otherwise.
    """
    ready_seconds = float(CONFIG.get("ready_seconds", 30))
    limit = ready_seconds if limit is None else limit
    port = int(CONFIG.get("port", 8080))
    build_deadline = time.monotonic() + float(CONFIG.get("wall_seconds", 600))
    status: dict[str, Any] = {}
    while True:
        status = _control("status")
        state = status.get("state")
        if state == "build-failed":
            raise ServiceNotReady("build-failed", "the service does not build (see its build log)")
        if state == "exited":
            raise ServiceNotReady("service-crashed", f"the service stopped: {_exit_text(status)}")
        if state == "running":
            if _probe():
                again = _control("status")
                return float(again.get("running_s") or status.get("running_s") or 0.0)
            running = float(status.get("running_s") or 0.0)
            if running > limit:
                break
        if time.monotonic() > build_deadline:
            raise ServiceNotReady("service-not-ready", "the service's container did not answer")
        time.sleep(0.1)
    others = [
        p for p in _listening_ports() if p != port and p not in CONFIG.get("reserved_ports", [])
    ]
    what = (
        f"GET {CONFIG.get('ready_path')} did not answer 2xx"
        if CONFIG.get("ready_path")
        else ("the port did not accept connections")
    )
    message = f"the service was not ready within {limit:g} s of its start ({what} on port {port})"
    if port not in _listening_ports():
        message += f"; nothing listens on port {port}"
        if others:
            message += f", the service listens on {', '.join(map(str, others[:5]))} instead"
            message += " (it must listen on 0.0.0.0:$PORT)"
    raise ServiceNotReady("service-not-ready", message)


class Service:
    """The candidate's service, as the tests see it."""

    def __init__(self) -> None:
        self.port = int(CONFIG.get("port", 8080))
        self.url = str(CONFIG.get("base_url", f"http://127.0.0.1:{self.port}"))

    def restart(self, wait: bool = True) -> float | None:
        """Restart the service (the databases keep their data); with ``wait``, wait until
        it is ready again and return the seconds that took."""
        reply = _control("restart", timeout=15.0)
        if not reply.get("ok"):
            raise RuntimeError(f"the service could not be restarted ({reply.get('error')})")
        STATE["restarts"] += 1
        if not wait:
            return None
        try:
            took = wait_ready()
        except ServiceNotReady as exc:
            pytest.fail(f"{exc.args[0]}: after a restart, {exc.args[1]}", pytrace=False)
        STATE["restart_ready_s"].append(round(took, 3))
        return took

    def logs(self) -> str:
        """The service's log so far (its first and last bytes when it is long)."""
        return str(_control("logs").get("log", ""))

    def status(self) -> dict[str, Any]:
        """The launcher's view: state, seconds running, starts, exits."""
        return _control("status")


def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        took = wait_ready()
    except ServiceNotReady as exc:
        STATE.update(ready=False, cause=exc.args[0], message=exc.args[1])
    else:
        STATE.update(ready=True, ready_s=round(took, 3))


@pytest.fixture(autouse=True)
def _grader_service_ready() -> None:
    if not STATE["ready"]:
        pytest.fail(f"{STATE['cause']}: {STATE['message']}", pytrace=False)


@pytest.fixture(scope="session")
def base_url() -> str:
    return str(CONFIG.get("base_url", ""))


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        yield client


@pytest.fixture(scope="session")
def service() -> Service:
    return Service()


def _database(name: str) -> dict[str, Any]:
    dbs = CONFIG.get("databases") or {}
    info = dbs.get(name)
    if not isinstance(info, dict):
        raise pytest.UsageError(f"this challenge has no {name} database ([databases] {name})")
    return info


def _postgres_connection() -> Any:
    import psycopg

    return psycopg.connect(_database("postgres")["url"], autocommit=True, connect_timeout=5)


def _mysql_connection() -> Any:
    import pymysql

    info = _database("mysql")
    return pymysql.connect(
        host=info["host"],
        port=int(info["port"]),
        user=info["user"],
        password=info["password"],
        database=info["name"],
        autocommit=True,
        connect_timeout=5,
        charset="utf8mb4",
    )


@pytest.fixture
def postgres() -> Iterator[Any]:
    conn = _postgres_connection()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def mysql() -> Iterator[Any]:
    conn = _mysql_connection()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def db() -> Iterator[Any]:
    dbs = CONFIG.get("databases") or {}
    conn = _postgres_connection() if "postgres" in dbs else _mysql_connection()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def db_url() -> str:
    dbs = CONFIG.get("databases") or {}
    return str(_database("postgres" if "postgres" in dbs else "mysql")["url"])


@pytest.fixture
def redis() -> Iterator[Any]:
    import redis as redis_lib

    client = redis_lib.Redis.from_url(
        _database("redis")["url"], decode_responses=True, socket_timeout=5
    )
    try:
        yield client
    finally:
        client.close()


# -- after the tests ---------------------------------------------------------------------


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    return value


def _table(tables: dict[str, dict[str, Any]], name: str) -> dict[str, Any] | None:
    if name not in tables and len(tables) < MAX_TABLES:
        tables[name] = {
            "name": _clip(name),
            "columns": [],
            "primary_key": [],
            "foreign_keys": [],
            "unique": [],
            "checks": [],
            "indexes": [],
        }
    return tables.get(name)


_PG_COLUMNS = """
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0
  AND NOT a.attisdropped
ORDER BY c.relname, a.attnum
LIMIT 20000
"""
_PG_CONSTRAINTS = """
SELECT cl.relname, con.conname, con.contype,
  ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.o),
  fcl.relname,
  ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
        JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.o),
  pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
JOIN pg_namespace n ON n.oid = cl.relnamespace
LEFT JOIN pg_class fcl ON fcl.oid = con.confrelid
WHERE n.nspname = 'public' AND cl.relkind IN ('r', 'p')
ORDER BY cl.relname, con.conname
LIMIT 20000
"""
_PG_INDEXES = """
SELECT t.relname, i.relname, ix.indisunique, ix.indisprimary,
  ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k, true)
        FROM generate_series(1, ix.indnkeyatts) k ORDER BY k),
  pg_get_indexdef(ix.indexrelid)
FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public'
ORDER BY t.relname, i.relname
LIMIT 20000
"""


def _postgres_schema() -> dict[str, Any]:
    tables: dict[str, dict[str, Any]] = {}
    with _postgres_connection() as conn:
        conn.execute("SET statement_timeout = 5000")
        for table, col, typ, nullable, default in conn.execute(_PG_COLUMNS):
            t = _table(tables, table)
            if t is not None and len(t["columns"]) < MAX_COLUMNS:
                t["columns"].append(
                    {
                        "name": _clip(col),
                        "type": _clip(typ),
                        "nullable": bool(nullable),
                        "default": _clip(default),
                    }
                )
        for table, name, kind, cols, ref, ref_cols, definition in conn.execute(_PG_CONSTRAINTS):
            t = _table(tables, table)
            if t is None:
                continue
            cols = [_clip(c) for c in cols][:MAX_COLUMNS]
            if kind == "p":
                t["primary_key"] = cols
            elif kind == "f" and len(t["foreign_keys"]) < MAX_INDEXES:
                t["foreign_keys"].append(
                    {
                        "name": _clip(name),
                        "columns": cols,
                        "references_table": _clip(ref),
                        "references_columns": [_clip(c) for c in ref_cols],
                    }
                )
            elif kind == "u" and len(t["unique"]) < MAX_INDEXES:
                t["unique"].append(cols)
            elif kind == "c" and len(t["checks"]) < MAX_INDEXES:
                t["checks"].append(_clip(definition))
        for table, name, unique, primary, cols, definition in conn.execute(_PG_INDEXES):
            t = _table(tables, table)
            if t is not None and len(t["indexes"]) < MAX_INDEXES:
                t["indexes"].append(
                    {
                        "name": _clip(name),
                        "columns": [_clip(c) for c in cols],
                        "unique": bool(unique),
                        "primary": bool(primary),
                        "definition": _clip(definition),
                    }
                )
    return {
        "engine": "postgres",
        "tables": list(tables.values()),
        "truncated": len(tables) >= MAX_TABLES,
    }


def _mysql_schema() -> dict[str, Any]:
    tables: dict[str, dict[str, Any]] = {}
    conn = _mysql_connection()
    try:
        cur = conn.cursor()
        cur.execute("SET SESSION max_statement_time = 5")
        cur.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "ORDER BY TABLE_NAME, ORDINAL_POSITION LIMIT 20000"
        )
        for table, col, typ, nullable, default, extra in cur.fetchall():
            t = _table(tables, table)
            if t is not None and len(t["columns"]) < MAX_COLUMNS:
                typ = f"{typ} {extra}".strip() if extra else typ
                t["columns"].append(
                    {
                        "name": _clip(col),
                        "type": _clip(typ),
                        "nullable": nullable == "YES",
                        "default": _clip(default),
                    }
                )
        cur.execute(
            "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
            "k.REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE k "
            "WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL "
            "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION LIMIT 20000"
        )
        fks: dict[tuple[str, str], dict[str, Any]] = {}
        for table, name, col, ref, ref_col in cur.fetchall():
            t = _table(tables, table)
            if t is None:
                continue
            fk = fks.get((table, name))
            if fk is None and len(t["foreign_keys"]) < MAX_INDEXES:
                fk = fks[(table, name)] = {
                    "name": _clip(name),
                    "columns": [],
                    "references_table": _clip(ref),
                    "references_columns": [],
                }
                t["foreign_keys"].append(fk)
            if fk is not None:
                fk["columns"].append(_clip(col))
                fk["references_columns"].append(_clip(ref_col))
        cur.execute(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX LIMIT 20000"
        )
        indexes: dict[tuple[str, str], dict[str, Any]] = {}
        for table, name, non_unique, col in cur.fetchall():
            t = _table(tables, table)
            if t is None:
                continue
            ix = indexes.get((table, name))
            if ix is None and len(t["indexes"]) < MAX_INDEXES:
                ix = indexes[(table, name)] = {
                    "name": _clip(name),
                    "columns": [],
                    "unique": not int(non_unique),
                    "primary": name == "PRIMARY",
                    "definition": None,
                }
                t["indexes"].append(ix)
            if ix is not None:
                ix["columns"].append(_clip(col))
                if name == "PRIMARY":
                    t["primary_key"] = list(ix["columns"])
    finally:
        conn.close()
    return {
        "engine": "mysql",
        "tables": list(tables.values()),
        "truncated": len(tables) >= MAX_TABLES,
    }


def _schemas() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    dbs = CONFIG.get("databases") or {}
    for name, read in (("postgres", _postgres_schema), ("mysql", _mysql_schema)):
        if name not in dbs:
            continue
        try:
            out.append(read())
        except Exception as exc:  # noqa: BLE001 - the database is the candidate's to break
            out.append(
                {
                    "engine": name,
                    "tables": [],
                    "problem": f"the schema could not be read ({type(exc).__name__}: "
                    f"{str(exc)[:300]})",
                }
            )
    return out


def _write(name: str, data: dict[str, Any]) -> None:
    try:
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as fh:
            json.dump(data, fh)
    except OSError:
        pass


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _write(C.SERVICE_FILE, dict(STATE))
    schemas = _schemas()
    if schemas:
        _write(C.SCHEMA_FILE, {"databases": schemas})
