"""The FastAPI application: ``create_app(settings)``; ``app_from_env()`` for uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors, ui
from api.auth import secret_problem
from api.errors import ApiError
from api.metrics import Metrics, MetricsMiddleware
from api.routes import challenges, ops, reviews, submissions, tokens
from api.services import Services
from grader import __version__
from grader.settings import Settings

DESCRIPTION = """Sandboxed grading of take-home coding challenges.

Authenticate with `Authorization: Bearer <token>` (tokens come from `grader token create`).
Every error is JSON: `{"error": {"code": "...", "message": "..."}}`.
"""


MAX_JSON_BODY = 64 * 1024


class ConfigError(Exception):
    """The service is not configured well enough to start."""


class _SecurityHeaders:
    """``nosniff`` everywhere; API answers are private and never cached."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_wrapper)


class _BodyLimit:
    """Bodies of everything but uploads are small JSON: refuse big ones before they are read
    (FastAPI reads a JSON body before it checks the caller's token)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_JSON_BODY) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").endswith("/submissions"):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await errors.error_response(413, "too-large", "the request body is too large")(
                    scope, receive, send
                )
                return
        seen = 0

        async def bounded() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise ApiError(413, "too-large", "the request body is too large")
            return message

        await self.app(scope, bounded, send)


class _NoNul:
    """A NUL character in a query parameter is refused (422), in the path answered 404, before
    any route sees it: no database stores one (PostgreSQL refuses it mid-query) and no
    resource is named with one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif "\0" in scope.get("path", ""):
            await errors.error_response(404, "not-found", "not found")(scope, receive, send)
        elif (problem := _query_nul(scope)) is not None:
            await errors.error_response(422, "invalid-request", problem)(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _query_nul(scope: Scope) -> str | None:
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="replace"):
        if "\0" in name or "\0" in value:
            return f"query parameter {name.replace(chr(0), '')!r}: contains a NUL character"
    return None


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """The API for ``settings`` (or for the given, already built ``services``)."""
    svc = services or Services.build(settings or Settings())
    problem = secret_problem(svc.settings.secret_key)
    if problem is not None:
        raise ConfigError(problem)
    owned = services is None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            svc.close()

    # FastAPIOffline serves the Swagger UI's assets itself: /docs works with no CDN.
    app = FastAPIOffline(
        title="grader",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = svc
    app.state.metrics = Metrics(svc)
    errors.install(app)
    for module in (challenges, submissions, reviews, tokens, ops):
        app.include_router(module.router)
    ui.install(app)
    app.include_router(challenges.languages_router)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_middleware(_BodyLimit)
    app.add_middleware(_NoNul)
    app.add_middleware(_SecurityHeaders)
    return app


def app_from_env() -> FastAPI:
    """uvicorn's factory (``grader serve``): settings from the environment."""
    from api.db import upgrade
    from api.logs import configure

    settings = Settings()
    configure(settings)
    app = create_app(settings)
    upgrade(app.state.services.engine)  # idempotent, and serialised between processes
    return app
