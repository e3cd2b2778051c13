"""Challenges: the list, one statement, the starter files."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api import invitations
from api.challenges import catalogue, starter_archive, statement
from api.deps import PrincipalDep, ServicesDep, challenge_or_404
from api.errors import responses
from api.schemas import ChallengeDetail, ChallengeList, ChallengeSummary
from grader.challenge import Challenge

router = APIRouter(prefix="/v1/challenges", tags=["challenges"], responses=responses(401))

_MEDIA = {"tar.gz": "application/gzip", "zip": "application/zip"}


def _summary(ch: Challenge) -> ChallengeSummary:
    return ChallengeSummary(slug=ch.slug, title=ch.config.title, version=ch.config.version,
                            language=ch.config.language)


@router.get("", response_model=ChallengeList)
def list_challenges(svc: ServicesDep, principal: PrincipalDep) -> ChallengeList:
    """Every challenge on offer (an invited candidate's: its own only)."""
    return ChallengeList(items=[_summary(ch) for ch in catalogue(svc.settings.challenges_dir)
                                if principal.challenge in (None, ch.slug)])


@router.get("/{slug}", response_model=ChallengeDetail, responses=responses(404))
def get_challenge(slug: str, svc: ServicesDep, principal: PrincipalDep) -> ChallengeDetail:
    """The statement, limits and feedback policy of one challenge."""
    ch = challenge_or_404(svc, slug, principal)
    base = f"/v1/challenges/{ch.slug}/starter"
    return ChallengeDetail(
        **_summary(ch).model_dump(),
        statement=statement(ch),
        entrypoint=ch.config.entrypoint,
        limits=ch.config.limits.model_dump(),
        feedback=ch.config.feedback.model_dump(),
        starter={"tar.gz": f"{base}?format=tar.gz", "zip": f"{base}?format=zip"},
    )


@router.get(
    "/{slug}/starter",
    response_class=Response,
    responses={**responses(404), 200: {
        "description": "the starter files as an archive",
        "content": {m: {"schema": {"type": "string", "format": "binary"}}
                    for m in _MEDIA.values()},
    }},
)
async def get_starter(
    slug: str,
    svc: ServicesDep,
    principal: PrincipalDep,
    fmt: Literal["tar.gz", "zip"] = Query("tar.gz", alias="format"),
) -> Response:
    """The starter files (never the tests), as ``<slug>/...`` in a .tar.gz or a .zip. An
    invited candidate's time window starts at the first download."""
    ch = challenge_or_404(svc, slug, principal)
    data = await run_in_threadpool(starter_archive, ch, fmt)
    await run_in_threadpool(invitations.start_clock, svc, principal)
    return Response(data, media_type=_MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{ch.slug}-starter.{fmt}"'})
