"""Submissions: accepting an upload, what each role sees of one, ranking, re-grading."""

from __future__ import annotations

import ipaddress
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import structlog
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.auth import Principal
from api.challenges import find
from api.db import utcnow
from api.errors import ApiError
from api.models import Submission, Token
from api.queue import enqueue_grade
from api.schemas import (
    ChallengeRefOut,
    RankedItem,
    RankedList,
    RegradeOut,
    ReviewInfo,
    SubmissionOut,
)
from api.services import Services
from api.storage import ArchiveStore, put_blob
from api.uploads import Upload
from grader.challenge import Challenge, Feedback
from grader.errors import SubmissionError
from grader.report import Report
from grader.service import detect_language
from grader.submission import open_submission
from grader.views import candidate_view

log = structlog.get_logger("grader.api")

PENDING = ("queued", "running")
FINISHED = ("graded", "error")
# When a challenge is gone, a candidate sees nothing beyond the status.
_NOTHING = Feedback(public_tests="none", hidden_tests="none", score=False)
_MAX_IDEMPOTENCY_KEY = 200
_MAX_URL = 2048


def new_id() -> str:
    return secrets.token_hex(16)


def is_submission_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


# --- accepting an upload ---------------------------------------------------------------------


def check_idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > _MAX_IDEMPOTENCY_KEY or not key.isprintable() or not key.isascii():
        raise ApiError(
            422,
            "invalid-request",
            f"Idempotency-Key must be 1-{_MAX_IDEMPOTENCY_KEY} printable ASCII characters",
        )
    return key


def check_callback_url(url: str | None, *, allow_private: bool) -> str | None:
    """A callback must be an absolute http(s) URL without credentials."""
    if url is None or url == "":
        return None
    bad = ApiError(
        422, "invalid-request", "callback_url must be an absolute http:// or https:// URL"
    )
    if len(url) > _MAX_URL or not url.isprintable() or any(c.isspace() for c in url):
        raise bad
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise bad from None
    if parts.scheme not in ("http", "https") or not host:
        raise bad
    if parts.username is not None or parts.password is not None:
        raise ApiError(422, "invalid-request", "callback_url must not carry credentials")
    if not allow_private:
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            addr = None
        if (addr is not None and not addr.is_global) or host.lower() == "localhost":
            raise ApiError(
                422,
                "invalid-request",
                "callback_url must not point at a private or loopback address",
            )
    return url


@dataclass
class Accepted:
    submission: Submission
    replayed: bool


def accept_upload(
    svc: Services,
    principal: Principal,
    challenge: Challenge,
    upload: Upload,
    *,
    idempotency_key: str | None,
    callback_url: str | None,
    language: str | None = None,
) -> Accepted:
    """Check the upload like the CLI does, store it by hash, record it as queued.

    A refused upload leaves nothing behind. With an ``Idempotency-Key`` a retry of the
    same upload (same token, same bytes) returns the submission made the first time.
    A service challenge's submission is in one of its languages: ``language``, or the
    one its files show.
    """
    settings = svc.settings
    if language is not None and language not in challenge.languages:
        upload.discard()
        raise ApiError(
            422,
            "invalid-request",
            f"language {language[:32]!r}: {challenge.slug} is in {', '.join(challenge.languages)}",
        )
    try:
        if idempotency_key is not None:
            with svc.session() as db:
                earlier = _by_idempotency_key(db, principal, idempotency_key)
                if earlier is not None:
                    return Accepted(_replay(earlier, challenge, upload), replayed=True)
        with svc.session() as db:
            _check_pending_limit(db, principal, settings.max_pending_per_candidate)
        with tempfile.TemporaryDirectory(prefix="grader-check-") as tmp:
            try:
                sub = open_submission(
                    upload.path,
                    tmp,
                    settings.upload_limits(),
                    filename=upload.filename,
                    ignore=challenge.ignores,
                )
                if challenge.is_service and language is None:
                    language = detect_language(challenge, sub.files)
            except SubmissionError as exc:
                raise ApiError(422, "invalid-submission", str(exc)) from None
        archive = upload.path.read_bytes()
        ArchiveStore(settings.data_dir).put(upload.path, upload.sha256)
    finally:
        upload.discard()
    bundle_hash = publish(svc, challenge, upload_sha256=upload.sha256, upload=archive)

    now = utcnow()
    row = Submission(
        id=new_id(),
        challenge_slug=challenge.slug,
        challenge_version=challenge.config.version,
        token_id=principal.token_id,
        sha256=upload.sha256,
        filename=upload.filename,
        size_bytes=upload.size,
        status="queued",
        attempts=0,
        generation=0,
        stale=False,
        idempotency_key=idempotency_key,
        callback_url=callback_url,
        created_at=now,
        language=language if challenge.is_service else challenge.config.language,
        enqueued_at=now,
        challenge_hash=bundle_hash,
    )
    try:
        with svc.session() as db:
            db.add(row)
    except IntegrityError:
        if idempotency_key is None:
            raise
        # The same key raced us: the other request stored first, answer with its submission.
        with svc.session() as db:
            earlier = _by_idempotency_key(db, principal, idempotency_key)
        if earlier is None:
            raise
        return Accepted(_replay(earlier, challenge, upload), replayed=True)
    log.info(
        "submission accepted",
        submission_id=row.id,
        challenge=challenge.slug,
        sha256=row.sha256,
        size=row.size_bytes,
    )
    publish_or_flag(svc, row.id)
    return Accepted(row, replayed=False)


def publish(
    svc: Services,
    challenge: Challenge,
    *,
    upload_sha256: str | None = None,
    upload: bytes | None = None,
) -> str:
    """Put the challenge's bundle (and an upload) where every worker can reach it: the
    database, by content hash. Returns the bundle's hash."""
    from grader import bundle

    bundle_hash, data = bundle.pack(challenge.root)
    with svc.session() as db:
        put_blob(db, bundle_hash, "challenge", data)
        if upload is not None and upload_sha256 is not None:
            put_blob(db, upload_sha256, "upload", upload)
    return bundle_hash


def publish_or_flag(svc: Services, submission_id: str) -> None:
    """Send the grading message; if the broker is down, date the row back so the next
    sweep re-sends it (the row, not the message, is what counts)."""
    if enqueue_grade(svc.celery, submission_id):
        return
    overdue = utcnow() - timedelta(seconds=svc.settings.stuck_after_seconds + 1)
    with svc.session() as db:
        db.execute(
            update(Submission)
            .where(Submission.id == submission_id, Submission.status == "queued")
            .values(enqueued_at=overdue)
        )


def _by_idempotency_key(db: Session, principal: Principal, key: str) -> Submission | None:
    return db.scalar(
        select(Submission).where(
            Submission.token_id == principal.token_id, Submission.idempotency_key == key
        )
    )


def _replay(earlier: Submission, challenge: Challenge, upload: Upload) -> Submission:
    if earlier.sha256 != upload.sha256 or earlier.challenge_slug != challenge.slug:
        raise ApiError(
            422, "idempotency-key-reused", "this Idempotency-Key was used for a different upload"
        )
    return earlier


def _check_pending_limit(db: Session, principal: Principal, limit: int) -> None:
    if principal.role != "candidate" or limit <= 0:
        return
    pending = db.scalar(
        select(func.count())
        .select_from(Submission)
        .where(Submission.token_id == principal.token_id, Submission.status.in_(PENDING))
    )
    if (pending or 0) >= limit:
        raise ApiError(
            429,
            "too-many-pending",
            f"{pending} of your submissions are still being graded; wait for one to finish",
            {"Retry-After": "30"},
        )


# --- reading ---------------------------------------------------------------------------------


def get_visible(db: Session, principal: Principal, submission_id: str) -> Submission:
    """The submission, if this principal may see it; 404 otherwise (even when it exists)."""
    row = db.get(Submission, submission_id) if is_submission_id(submission_id) else None
    if row is None or (not principal.is_reviewer and row.token_id != principal.token_id):
        raise ApiError(404, "not-found", f"no submission {submission_id[:64]!r}")
    return row


def is_stale(row: Submission, challenge: Challenge | None) -> bool:
    if row.stale:
        return True
    return (
        row.status == "graded"
        and challenge is not None
        and row.challenge_version < challenge.config.version
    )


def load_report(row: Submission) -> Report | None:
    if row.report is None:
        return None
    try:
        return Report.model_validate(row.report)
    except ValueError:
        log.error("stored report does not validate", submission_id=row.id)
        return None


def report_links(submission_id: str) -> dict[str, str]:
    base = f"/v1/submissions/{submission_id}/report"
    return {"json": f"{base}.json", "md": f"{base}.md", "html": f"{base}.html"}


def submission_out(
    row: Submission,
    principal: Principal,
    challenge: Challenge | None,
    token_name: str = "",
    *,
    policy: Feedback | None = None,
) -> SubmissionOut:
    """What ``principal`` may see: the candidate view always, the review part for reviewers.
    ``policy`` overrides the challenge's feedback policy (``api.invitations.feedback_for``)."""
    report = load_report(row) if row.status in FINISHED else None
    feedback_policy = challenge.config.feedback if challenge is not None else _NOTHING
    if policy is not None:
        feedback_policy = policy
    feedback = candidate_view(report, feedback_policy) if report is not None else None
    review = None
    if principal.is_reviewer:
        full = load_report(row)
        review = ReviewInfo(
            total=row.total,
            scores=full.scores.model_dump() if full is not None else None,
            error=row.error,
            attempts=row.attempts,
            token_id=row.token_id,
            token_name=token_name,
            callback_url=row.callback_url,
            worker=row.worker,
            report=report_links(row.id),
        )
    return SubmissionOut(
        id=row.id,
        challenge=ChallengeRefOut(slug=row.challenge_slug, version=row.challenge_version),
        status=row.status,  # type: ignore[arg-type]
        stale=is_stale(row, challenge),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        filename=row.filename,
        sha256=row.sha256,
        size_bytes=row.size_bytes,
        feedback=feedback,
        review=review,
    )


def token_name(db: Session, token_id: int) -> str:
    return db.scalar(select(Token.name).where(Token.id == token_id)) or ""


def ranked(
    db: Session, challenge: Challenge, *, status: str | None, limit: int, offset: int
) -> RankedList:
    """Graded submissions best first (ties: the earlier finish), then the rest, newest first."""
    where: list[Any] = [Submission.challenge_slug == challenge.slug]
    if status is not None:
        where.append(Submission.status == status)
    graded_first = case((Submission.status == "graded", 0), else_=1)
    query = (
        select(Submission, Token.name)
        .join(Token, Token.id == Submission.token_id)
        .where(*where)
        .order_by(
            graded_first,
            Submission.total.desc().nulls_last(),
            Submission.finished_at.asc(),
            Submission.created_at.desc(),
            Submission.id,
        )
        .limit(limit)
        .offset(offset)
    )
    count = db.scalar(select(func.count()).select_from(Submission).where(*where)) or 0
    graded_before = 0
    if status in (None, "graded") and offset:
        graded_before = min(
            offset,
            db.scalar(
                select(func.count())
                .select_from(Submission)
                .where(Submission.challenge_slug == challenge.slug, Submission.status == "graded")
            )
            or 0,
        )
    items = []
    rank = graded_before
    for row, name in db.execute(query).all():
        graded = row.status == "graded"
        if graded:
            rank += 1
        report = load_report(row) if row.report is not None else None
        items.append(
            RankedItem(
                rank=rank if graded else None,
                id=row.id,
                token_id=row.token_id,
                token_name=name or "",
                status=row.status,  # type: ignore[arg-type]
                total=row.total,
                scores=report.scores.model_dump() if report is not None else None,
                stale=is_stale(row, challenge),
                challenge_version=row.challenge_version,
                created_at=row.created_at,
                finished_at=row.finished_at,
            )
        )
    return RankedList(
        challenge=ChallengeRefOut(slug=challenge.slug, version=challenge.config.version),
        count=count,
        limit=limit,
        offset=offset,
        items=items,
    )


# --- re-grading ------------------------------------------------------------------------------


def _requeue(db: Session, ids: list[str], bundle_hash: str | None) -> list[str]:
    """Move finished submissions back to queued (attempts start over), to be graded against
    the challenge's bundle ``bundle_hash`` (its current content); returns those moved."""
    if not ids:
        return []
    now = utcnow()
    moved = []
    for sub_id in ids:
        res = db.connection().execute(
            update(Submission)
            .where(Submission.id == sub_id, Submission.status.in_(FINISHED))
            .values(
                status="queued",
                attempts=0,
                error=None,
                enqueued_at=now,
                started_at=None,
                heartbeat_at=None,
                worker=None,
                challenge_hash=bundle_hash,
            )
        )
        if res.rowcount == 1:
            moved.append(sub_id)
    return moved


def regrade_one(svc: Services, row: Submission) -> None:
    if row.status == "running":
        raise ApiError(409, "conflict", "the submission is being graded right now")
    if row.status == "queued":
        return
    challenge = find(svc.settings.challenges_dir, row.challenge_slug)
    bundle_hash = publish(svc, challenge) if challenge is not None else row.challenge_hash
    with svc.session() as db:
        moved = _requeue(db, [row.id], bundle_hash)
    if not moved:
        raise ApiError(409, "conflict", "the submission changed state; try again")
    for sub_id in moved:
        publish_or_flag(svc, sub_id)
    log.info("re-grade requested", submission_id=row.id, challenge=row.challenge_slug)


def regrade_challenge(svc: Services, challenge: Challenge, *, stale_only: bool) -> RegradeOut:
    where: list[Any] = [Submission.challenge_slug == challenge.slug]
    if stale_only:
        where.append(Submission.challenge_version < challenge.config.version)
    with svc.session() as db:
        rows = db.execute(select(Submission.id, Submission.status).where(*where)).all()
        candidates = [r.id for r in rows if r.status in FINISHED]
        moved = _requeue(db, candidates, publish(svc, challenge))
    for sub_id in moved:
        publish_or_flag(svc, sub_id)
    log.info("re-grade of a challenge requested", challenge=challenge.slug, queued=len(moved))
    return RegradeOut(queued=len(moved), skipped=len(rows) - len(moved), ids=moved)
