"""Invitations: a candidate token bound to one challenge, with a time window that starts at
the first starter download (or first upload) and a cap on graded attempts.

Rules, for a candidate token with an invitation:

- it sees and reaches its own challenge only (any other answers 404, as if it did not exist);
- its clock starts the first time it downloads the starter or uploads; from then on it may
  upload until ``started_at + window_minutes`` (403 ``deadline-passed`` afterwards);
- it may have at most ``max_attempts`` submissions that were not lost to an error of ours
  (403 ``no-attempts-left``); refused uploads are never stored and never count;
- under ``[feedback] hide_hidden_until_deadline``, nothing of the hidden tests (nor the score)
  is shown until its deadline has passed.

Candidate tokens without an invitation work as before unless the operator sets
``GRADER_OPEN_CANDIDATE_TOKENS=false``; then they may not upload (403 ``invitation-required``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.auth import Principal, create_token
from api.db import utcnow
from api.errors import ApiError
from api.models import Invitation, Submission, Token
from api.services import Services
from grader.challenge import Challenge, Feedback

COUNTED_STATUSES = ("queued", "running", "graded")
MAX_WINDOW_MINUTES = 60 * 24 * 60  # sixty days
MAX_ATTEMPTS = 1000


@dataclass(frozen=True)
class State:
    """An invitation as its candidate sees it at one moment."""

    invitation: Invitation
    attempts_used: int
    now: datetime

    @property
    def deadline(self) -> datetime | None:
        inv = self.invitation
        if inv.window_minutes is None or inv.started_at is None:
            return None
        return inv.started_at + timedelta(minutes=inv.window_minutes)

    @property
    def closed(self) -> bool:
        deadline = self.deadline
        return deadline is not None and self.now >= deadline

    @property
    def seconds_left(self) -> float | None:
        deadline = self.deadline
        return None if deadline is None else max(0.0, (deadline - self.now).total_seconds())

    @property
    def attempts_left(self) -> int | None:
        cap = self.invitation.max_attempts
        return None if cap is None else max(0, cap - self.attempts_used)

    @property
    def deadline_passed(self) -> bool:
        """The feedback rule's question: is the hidden-test embargo over?"""
        return self.closed


def for_token(db: Session, token_id: int) -> Invitation | None:
    return db.scalar(select(Invitation).where(Invitation.token_id == token_id))


def attempts_used(db: Session, token_id: int, slug: str) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(Submission)
            .where(
                Submission.token_id == token_id,
                Submission.challenge_slug == slug,
                Submission.status.in_(COUNTED_STATUSES),
            )
        )
        or 0
    )


def state(db: Session, token_id: int) -> State | None:
    inv = for_token(db, token_id)
    if inv is None:
        return None
    return State(inv, attempts_used(db, token_id, inv.challenge_slug), utcnow())


def create(
    db: Session,
    *,
    challenge: Challenge,
    candidate_name: str,
    window_minutes: int | None,
    max_attempts: int | None,
    creator: Principal,
) -> tuple[Invitation, str]:
    """A new candidate token bound to ``challenge``; returns the invitation and the secret."""
    name = " ".join(candidate_name.split())
    if not name or len(name) > 200 or not name.isprintable():
        raise ApiError(422, "invalid-request", "candidate_name: 1-200 printable characters")
    if window_minutes is not None and not 1 <= window_minutes <= MAX_WINDOW_MINUTES:
        raise ApiError(
            422, "invalid-request", f"window_minutes: between 1 and {MAX_WINDOW_MINUTES} (or none)"
        )
    if max_attempts is not None and not 1 <= max_attempts <= MAX_ATTEMPTS:
        raise ApiError(422, "invalid-request", f"max_attempts: between 1 and {MAX_ATTEMPTS}")
    token, secret = create_token(db, "candidate", name)
    inv = Invitation(
        token_id=token.id,
        challenge_slug=challenge.slug,
        candidate_name=name,
        window_minutes=window_minutes,
        max_attempts=max_attempts,
        created_by=creator.token_id,
        created_at=utcnow(),
    )
    db.add(inv)
    db.flush()
    return inv, secret


def listing(db: Session, slug: str | None = None) -> list[tuple[Invitation, Token]]:
    query = select(Invitation, Token).join(Token, Token.id == Invitation.token_id)
    if slug is not None:
        query = query.where(Invitation.challenge_slug == slug)
    return [(inv, tok) for inv, tok in db.execute(query.order_by(Invitation.id.desc())).all()]


def start_clock(svc: Services, principal: Principal) -> None:
    """The invited candidate's window starts now, unless it already has."""
    if principal.challenge is None:
        return
    with svc.session() as db:
        db.execute(
            update(Invitation)
            .where(Invitation.token_id == principal.token_id, Invitation.started_at.is_(None))
            .values(started_at=utcnow())
        )


def check_submit(svc: Services, principal: Principal, challenge: Challenge) -> None:
    """May ``principal`` upload to ``challenge`` now? Raises the refusal; starts the clock."""
    if principal.role != "candidate":
        return
    if principal.challenge is None:
        if not svc.settings.open_candidate_tokens:
            raise ApiError(
                403,
                "invitation-required",
                "this service admits invited candidates only; use your invitation",
            )
        return
    if principal.challenge != challenge.slug:
        raise ApiError(404, "not-found", f"no challenge {challenge.slug!r}")
    with svc.session() as db:
        st = state(db, principal.token_id)
    if st is None:
        return
    if st.closed:
        raise ApiError(403, "deadline-passed", "the time window of this invitation has ended")
    left = st.attempts_left
    if left is not None and left <= 0:
        raise ApiError(
            403,
            "no-attempts-left",
            f"all {st.invitation.max_attempts} attempts of this invitation are used",
        )
    start_clock(svc, principal)


def feedback_for(db: Session, token_id: int, challenge: Challenge) -> Feedback:
    """The challenge's feedback policy as it applies to this token's submissions now."""
    policy = challenge.config.feedback
    if not policy.hide_hidden_until_deadline:
        return policy
    st = state(db, token_id)
    if st is not None and st.deadline_passed:
        return policy
    return policy.model_copy(update={"hidden_tests": "none", "score": False})
