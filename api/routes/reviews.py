"""Reviewers' extras over the API: similarity between submissions, invitations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from api import audit, invitations
from api import similarity as simi
from api.auth import revoke_token
from api.deps import ReviewerDep, ServicesDep, challenge_or_404
from api.errors import ApiError, responses
from api.models import Invitation, Token
from api.schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationList,
    InvitationOut,
    SimilarityOut,
    SimilarityPairOut,
)

router = APIRouter(tags=["reviewers"], responses=responses(401, 403))


@router.get(
    "/v1/challenges/{slug}/similarity", response_model=SimilarityOut, responses=responses(404, 422)
)
def get_similarity(
    slug: str,
    svc: ServicesDep,
    _: ReviewerDep,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> SimilarityOut:
    """Pairs of a challenge's submissions by how alike they are, highest first, with the
    matching line regions of both (reviewers). Pairs under 0.1 are not kept."""
    challenge = challenge_or_404(svc, slug)
    found = simi.pairs(svc, challenge.slug, min_score=min_score, limit=limit)
    return SimilarityOut(
        threshold=challenge.config.similarity.threshold,
        pairs=[SimilarityPairOut.model_validate(p.to_json()) for p in found],
    )


def invitation_out(inv: Invitation, token: Token) -> InvitationOut:
    return InvitationOut(
        id=inv.id,
        challenge=inv.challenge_slug,
        candidate_name=inv.candidate_name,
        token_id=inv.token_id,
        token_prefix=token.prefix,
        window_minutes=inv.window_minutes,
        max_attempts=inv.max_attempts,
        created_at=inv.created_at,
        started_at=inv.started_at,
        revoked=token.revoked_at is not None,
    )


def invite_link(request: Request, secret: str) -> str:
    return str(request.url_for("ui_invite", token=secret))


@router.post(
    "/v1/invitations",
    status_code=201,
    response_model=InvitationCreated,
    responses=responses(404, 422),
)
def create_invitation(
    body: InvitationCreate, request: Request, svc: ServicesDep, principal: ReviewerDep
) -> InvitationCreated:
    """Invite a candidate to one challenge: a candidate token bound to it, with a time
    window (from the first starter download) and a cap on graded attempts (reviewers)."""
    challenge = challenge_or_404(svc, body.challenge)
    with svc.session() as db:
        inv, secret = invitations.create(
            db,
            challenge=challenge,
            candidate_name=body.candidate_name,
            window_minutes=body.window_minutes,
            max_attempts=body.max_attempts,
            creator=principal,
        )
        token = db.get(Token, inv.token_id)
        assert token is not None
        out = invitation_out(inv, token)
        audit.record(
            db,
            principal,
            "invite",
            challenge=challenge.slug,
            detail={"invitation": inv.id, "candidate": inv.candidate_name},
        )
    return InvitationCreated(**out.model_dump(), token=secret, link=invite_link(request, secret))


@router.get("/v1/invitations", response_model=InvitationList, responses=responses(422))
def list_invitations(
    svc: ServicesDep, _: ReviewerDep, challenge: str | None = None
) -> InvitationList:
    """Invitations, newest first (optionally of one challenge); never the tokens."""
    with svc.session() as db:
        return InvitationList(
            items=[invitation_out(i, t) for i, t in invitations.listing(db, challenge)]
        )


@router.delete(
    "/v1/invitations/{invitation_id}", response_model=InvitationOut, responses=responses(404, 422)
)
async def revoke_invitation(
    invitation_id: int, svc: ServicesDep, principal: ReviewerDep
) -> InvitationOut:
    """Withdraw an invitation: its token stops working at once."""

    def revoke() -> InvitationOut:
        with svc.session() as db:
            inv = db.get(Invitation, invitation_id) if 0 < invitation_id < 2**31 else None
            if inv is None:
                raise ApiError(404, "not-found", f"no invitation {invitation_id}")
            token = revoke_token(db, inv.token_id)
            assert token is not None
            audit.record(
                db,
                principal,
                "revoke-invitation",
                challenge=inv.challenge_slug,
                detail={"invitation": inv.id},
            )
            return invitation_out(inv, token)

    return await run_in_threadpool(revoke)
