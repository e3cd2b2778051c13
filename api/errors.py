"""One error shape for every response: ``{"error": {"code", "message"}}``."""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger("grader.api")

_STATUS_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "too-many-requests",
    500: "internal-error",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    """Every error response."""

    error: ErrorBody


class ApiError(Exception):
    """An error meant for the client: status, a stable code and a one-line message."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": _one_line(message)}}
    return JSONResponse(body, status_code=status, headers=headers)


def _one_line(message: str) -> str:
    return " ".join(message.split())[:1000]


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
        problems.append(f"{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(problems) or "invalid request"


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("-", " ")
    return error_response(exc.status_code, code, detail, dict(exc.headers or {}))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "invalid-request", _validation_message(exc))


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable", path=request.url.path, error=str(exc).splitlines()[0])
    return error_response(
        503,
        "database-unavailable",
        "the database is unavailable; retry later",
        {"Retry-After": "5"},
    )


async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    # The statement failed as a whole (nothing was written); the client sent a value the
    # database cannot hold. The SQL and its parameters stay in the log.
    log.warning("value refused by the database", path=request.url.path, error=type(exc).__name__)
    return error_response(
        422,
        "invalid-request",
        "a value in the request cannot be stored (a NUL character, or a number out of range)",
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    ref = secrets.token_hex(6)
    log.error("unhandled error", path=request.url.path, ref=ref, exc_info=exc)
    return error_response(500, "internal-error", f"internal error (reference {ref})")


def install(app: FastAPI) -> None:
    """Route every kind of failure through the one error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route may answer with."""
    return {s: {"model": ErrorOut, "description": _STATUS_CODES.get(s, "error")} for s in statuses}
