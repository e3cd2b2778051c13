"""Operations: health and Prometheus metrics (no token needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.health import check_all
from api.metrics import Metrics
from api.schemas import HealthOut

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "a check failed"}})
async def healthz(svc: ServicesDep) -> JSONResponse:
    """The database, Redis and the Docker engine: 200 when all answer, 503 otherwise."""
    health = await check_all(svc)
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ok" else 503,
                        headers={"Cache-Control": "no-store"})


@router.get("/metrics", response_class=Response, responses={200: {
    "description": "Prometheus text format",
    "content": {"text/plain": {"schema": {"type": "string"}}},
}})
async def metrics(request: Request) -> Response:
    """Submissions by status, queue depth, grading durations, HTTP requests."""
    registry: Metrics = request.app.state.metrics
    body = await run_in_threadpool(generate_latest, registry.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
