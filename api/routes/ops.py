"""Operations: health and Prometheus metrics (no token needed)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.health import check_all
from api.metrics import Metrics
from api.schemas import HealthOut

router = APIRouter(tags=["operations"])


@router.get(
    "/healthz",
    response_model=HealthOut,
    responses={503: {"model": HealthOut, "description": "a check failed"}},
)
async def healthz(svc: ServicesDep) -> JSONResponse:
    """The database, Redis and the Docker engine: 200 when all answer, 503 otherwise."""
    health = await check_all(svc)
    return JSONResponse(
        health.model_dump(),
        status_code=200 if health.status == "ok" else 503,
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(request: Request) -> Response:
    """Submissions by status, queue depth, grading durations, HTTP requests."""
    registry: Metrics = request.app.state.metrics
    body = await run_in_threadpool(generate_latest, registry.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


_CLIENT = Path(__file__).resolve().parents[1] / "grader_submit.py"


@router.get(
    "/v1/client/grader-submit.py",
    response_class=Response,
    responses={
        200: {
            "description": "a one-file client for candidates (Python 3.9+, standard library only)",
            "content": {"text/x-python": {"schema": {"type": "string"}}},
        }
    },
)
def client_script() -> Response:
    """``grader-submit.py``: upload a solution and wait for its feedback, no install needed."""
    return Response(
        _CLIENT.read_bytes(),
        media_type="text/x-python; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="grader-submit.py"'},
    )
