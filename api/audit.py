"""The audit log of reviewer actions: who did what, to which challenge or submission, when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db import utcnow
from api.models import AuditEntry


def record(
    db: Session,
    actor: Principal | None,
    action: str,
    *,
    challenge: str | None = None,
    submission: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one entry in the caller's transaction (so it stands or falls with the action)."""
    db.add(
        AuditEntry(
            at=utcnow(),
            actor_token_id=actor.token_id if actor else None,
            actor_name=actor.name if actor else "",
            action=action[:40],
            challenge_slug=challenge,
            submission_id=submission,
            detail=detail,
        )
    )


def recent(db: Session, *, limit: int = 200, challenge: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry)
    if challenge is not None:
        query = query.where(AuditEntry.challenge_slug == challenge)
    return list(db.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)).all())
