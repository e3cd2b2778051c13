"""Alembic environment: the connection comes from ``api.db.upgrade`` (or the URL in the config)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from api.models import Base
from grader.settings import Settings

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from api.db import database_url

    url = config.get_main_option("sqlalchemy.url") or database_url(Settings())
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `grader db upgrade`")
run_online()
