"""Challenges: the list, one statement, the starter files."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from api import invitations
from api.challenges import catalogue, starter_archive, statement
from api.deps import PrincipalDep, ServicesDep, challenge_or_404
from api.errors import ApiError, responses
from api.schemas import ChallengeDetail, ChallengeList, ChallengeSummary, LanguageList
from grader import languages
from grader.challenge import Challenge

router = APIRouter(prefix="/v1/challenges", tags=["challenges"], responses=responses(401))

_MEDIA = {"tar.gz": "application/gzip", "zip": "application/zip"}


def _summary(ch: Challenge) -> ChallengeSummary:
    return ChallengeSummary(
        slug=ch.slug,
        title=ch.config.title,
        version=ch.config.version,
        language=ch.language.name,
        kind=ch.config.kind,
        languages=ch.languages,
    )


def _service(ch: Challenge) -> dict[str, Any] | None:
    if not ch.is_service:
        return None
    svc = ch.service
    per_language = {}
    for name in ch.languages:
        lang = languages.get(name)
        per_language[name] = {
            "start": svc.start.get(name, lang.service_start),
            "build": svc.build.get(name, lang.service_build),
            "env": dict(lang.service_env),
            "libraries": list(lang.service_libraries),
        }
    return {
        "port": svc.port,
        "ready": svc.ready,
        "ready_seconds": svc.ready_seconds,
        "databases": ch.config.databases.names(),
        "languages": per_language,
    }


@router.get("", response_model=ChallengeList)
def list_challenges(svc: ServicesDep, principal: PrincipalDep) -> ChallengeList:
    """Every challenge on offer (an invited candidate's: its own only)."""
    return ChallengeList(
        items=[
            _summary(ch)
            for ch in catalogue(svc.settings.challenges_dir)
            if principal.challenge in (None, ch.slug)
        ]
    )


@router.get("/{slug}", response_model=ChallengeDetail, responses=responses(404))
def get_challenge(slug: str, svc: ServicesDep, principal: PrincipalDep) -> ChallengeDetail:
    """The statement, limits and feedback policy of one challenge."""
    ch = challenge_or_404(svc, slug, principal)
    base = f"/v1/challenges/{ch.slug}/starter"
    links = {"tar.gz": f"{base}?format=tar.gz", "zip": f"{base}?format=zip"}
    if ch.is_service:
        for name in ch.languages:
            links[f"{name}.tar.gz"] = f"{base}?format=tar.gz&language={name}"
            links[f"{name}.zip"] = f"{base}?format=zip&language={name}"
    return ChallengeDetail(
        **_summary(ch).model_dump(),
        statement=statement(ch),
        entrypoint=ch.config.entrypoint,
        limits=ch.config.limits.model_dump(),
        feedback=ch.config.feedback.model_dump(),
        starter=links,
        service=_service(ch),
    )


@router.get(
    "/{slug}/starter",
    response_class=Response,
    responses={
        **responses(404),
        200: {
            "description": "the starter files as an archive",
            "content": {
                m: {"schema": {"type": "string", "format": "binary"}} for m in _MEDIA.values()
            },
        },
    },
)
async def get_starter(
    slug: str,
    svc: ServicesDep,
    principal: PrincipalDep,
    fmt: Literal["tar.gz", "zip"] = Query("tar.gz", alias="format"),
    language: str | None = Query(None, max_length=32),
) -> Response:
    """The starter files (never the tests), as ``<slug>/...`` in a .tar.gz or a .zip; a
    service challenge's in one ``language`` (without one: every language's folder). An
    invited candidate's time window starts at the first download."""
    ch = challenge_or_404(svc, slug, principal)
    if language is not None:
        if language not in ch.languages:
            raise ApiError(
                404,
                "not-found",
                f"{ch.slug} is not offered in {language!r} (languages: {', '.join(ch.languages)})",
            )
        ch = ch.for_language(language)
    data = await run_in_threadpool(starter_archive, ch, fmt)
    await run_in_threadpool(invitations.start_clock, svc, principal)
    return Response(
        data,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{ch.slug}-starter.{fmt}"'},
    )


languages_router = APIRouter(prefix="/v1/languages", tags=["challenges"], responses=responses(401))


@languages_router.get("", response_model=LanguageList)
def list_languages(_: PrincipalDep) -> LanguageList:
    """Every language challenges can be written in: toolchain versions, test framework,
    linter, docs rule, libraries, and what a service in it may use and how it starts."""
    return LanguageList(items=[lang.describe() for lang in languages.LANGUAGES.values()])
