"""The grading task's body: claim a queued submission, grade it with the engine the CLI
uses, store the report. Idempotent: only a ``queued`` row can be claimed (atomically, with
``attempts + 1``), and only the claim that is still current can store its result."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from api import invitations, similarity
from api.challenges import SLUG
from api.db import utcnow
from api.models import Submission, Token
from api.queue import enqueue_grade, enqueue_webhook
from api.services import Services
from api.storage import challenge_folder, fetch_upload
from api.webhooks import create_delivery, payload
from grader.challenge import Challenge, load_challenge
from grader.engine import grade
from grader.errors import ChallengeError, SandboxError, SubmissionError
from grader.report import ChallengeRef, ErrorInfo, Report, SubmissionRef
from grader.service import detect_language
from grader.submission import open_submission
from runners import make_runner

if TYPE_CHECKING:
    from runners.docker import SandboxPool

log = structlog.get_logger("grader.worker")

_RETRY_BASE_S = 2.0
_RETRY_MAX_S = 120.0


class _Permanent(Exception):
    """Grading cannot succeed however often it is tried (bad challenge, refused upload)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Claim:
    """A claimed submission: what the grading needs, and the generation that fences it."""

    id: str
    generation: int
    attempts: int
    slug: str
    sha256: str
    filename: str
    created_at: datetime
    started_at: datetime
    # The worker holding the claim (its sandboxes carry its name: see api.sweep).
    worker: str = ""
    language: str | None = None
    # The challenge bundle to grade against (None: rows from before bundles existed).
    challenge_hash: str | None = None


def retry_delay(attempt: int) -> float:
    return float(min(_RETRY_MAX_S, _RETRY_BASE_S * 2 ** max(0, attempt - 1)))


def grade_submission(svc: Services, submission_id: str, *, worker: str = "") -> str:
    """Grade one submission by id; returns what happened (for logs and tests)."""
    bound = log.bind(submission_id=submission_id)
    claim = _claim(svc, submission_id, worker)
    if isinstance(claim, str):
        bound.info("nothing to grade", outcome=claim)
        return claim
    bound = bound.bind(challenge=claim.slug, attempt=claim.attempts)
    bound.info("grading")
    beat = _Heartbeat(svc, claim)
    beat.start()
    try:
        report = _run(svc, claim)
    except _Permanent as exc:
        bound.warning("grading failed for good", code=exc.code, error=str(exc))
        return _store_error(svc, claim, exc.code, str(exc))
    except SandboxError as exc:
        bound.warning("sandbox failure", error=str(exc))
        return _retry_or_fail(svc, claim, "sandbox-error", str(exc))
    except Exception as exc:  # noqa: BLE001 - a bug or an outage of ours: retry, then report
        bound.error("grading crashed", exc_info=exc)
        return _retry_or_fail(
            svc, claim, "internal-error", f"{type(exc).__name__}: {str(exc)[:300]}"
        )
    finally:
        beat.stop()
    outcome = _store_report(svc, claim, report)
    if outcome == "graded":
        similarity.index_quietly(svc, claim.id)
    bound.info(
        "graded" if outcome == "graded" else "result dropped",
        outcome=outcome,
        total=report.scores.total,
    )
    return outcome


def _claim(svc: Services, submission_id: str, worker: str) -> Claim | str:
    max_attempts = svc.settings.task_max_attempts
    now = utcnow()
    with svc.session() as db:
        row = db.get(Submission, submission_id)
        if row is None:
            return "missing"
        if row.status != "queued":
            return f"already-{row.status}"
        exhausted = row.attempts >= max_attempts
        claimed = 0
        if not exhausted:
            claimed = (
                db.connection()
                .execute(
                    update(Submission)
                    .where(
                        Submission.id == submission_id,
                        Submission.status == "queued",
                        Submission.attempts < max_attempts,
                    )
                    .values(
                        status="running",
                        attempts=Submission.attempts + 1,
                        generation=Submission.generation + 1,
                        started_at=now,
                        heartbeat_at=now,
                        worker=worker[:200] or None,
                    )
                )
                .rowcount
            )
            if claimed == 1:
                db.refresh(row)
    if exhausted:
        return _give_up(svc, row)
    if claimed != 1:
        return "claimed-elsewhere"
    return Claim(
        id=row.id,
        generation=row.generation,
        attempts=row.attempts,
        slug=row.challenge_slug,
        sha256=row.sha256,
        filename=row.filename,
        created_at=row.created_at,
        started_at=now,
        worker=worker[:200],
        language=row.language,
        challenge_hash=row.challenge_hash,
    )


def _give_up(svc: Services, row: Submission) -> str:
    """Every attempt died (the worker was killed, or the grading hung): stop trying."""
    message = (
        f"grading did not finish after {row.attempts} attempts "
        "(the worker died or was stopped each time)"
    )
    report = _error_report(row, "gave-up", message).model_dump(mode="json")
    with svc.session() as db:
        gave_up = (
            db.connection()
            .execute(
                update(Submission)
                .where(
                    Submission.id == row.id,
                    Submission.status == "queued",
                    Submission.attempts >= svc.settings.task_max_attempts,
                )
                .values(
                    status="error",
                    finished_at=utcnow(),
                    report=report,
                    total=None,
                    error={"code": "gave-up", "message": message, "attempts": row.attempts},
                )
            )
            .rowcount
        )
        delivery = _owed_webhook(db, svc, row.id) if gave_up else None
    if delivery is not None:
        enqueue_webhook(svc.celery, delivery)
    return "gave-up"


def _load_challenge(svc: Services, slug: str, bundle_hash: str | None) -> Challenge:
    """The challenge as the submission is to be graded: this machine's folder, or the
    bundle the API published (a worker on another machine has no challenges folder)."""
    if not SLUG.match(slug):
        raise _Permanent("challenge-unavailable", f"no challenge {slug!r}")
    try:
        folder = challenge_folder(svc, slug, bundle_hash)
        if folder is None:
            raise _Permanent(
                "challenge-unavailable", f"no challenge {slug!r} here nor in the database"
            )
        return load_challenge(folder)
    except ChallengeError as exc:
        raise _Permanent("challenge-unavailable", str(exc)) from None


def _pool(svc: Services, claim: Claim) -> SandboxPool | None:
    """This worker's pool of pre-started sandboxes (drained when the worker stops)."""
    from runners.docker import shared_pool

    settings = svc.settings
    return shared_pool(
        size=settings.sandbox_pool_size,
        max_age_s=settings.sandbox_pool_max_age_seconds,
        name_prefix=settings.container_prefix,
        owner=claim.worker or None,
    )


def _run(svc: Services, claim: Claim) -> Report:
    settings = svc.settings
    challenge = _load_challenge(svc, claim.slug, claim.challenge_hash)
    archive = fetch_upload(svc, claim.sha256)
    if archive is None:
        raise SandboxError(
            f"the upload {claim.sha256[:12]} is neither in this worker's data "
            "folder nor in the database"
        )
    with tempfile.TemporaryDirectory(prefix="grader-task-") as tmp:
        try:
            sub = open_submission(
                archive,
                tmp,
                settings.upload_limits(),
                filename=claim.filename,
                ignore=challenge.ignores,
            )
            if challenge.is_service:
                challenge = challenge.for_language(
                    claim.language
                    if claim.language in challenge.languages
                    else detect_language(challenge, sub.files)
                )
        except SubmissionError as exc:
            raise _Permanent("invalid-submission", str(exc)) from None
        if sub.sha256 != claim.sha256:
            raise _Permanent("storage-corrupt", "the stored upload does not match its hash")
        runner = make_runner("docker", owner=claim.worker or None, pool=_pool(svc, claim))
        queued_s = (claim.started_at - claim.created_at).total_seconds()
        return grade(
            challenge,
            sub,
            runner,
            submission_id=claim.id,
            label=claim.id,
            queued_s=max(0.0, queued_s),
            cache_dir=settings.cache_dir,
        )


def _fenced(claim: Claim) -> Any:
    """Rows this claim may still write: running, and not taken over since."""
    return update(Submission).where(
        Submission.id == claim.id,
        Submission.status == "running",
        Submission.generation == claim.generation,
    )


def _finish(svc: Services, claim: Claim, outcome: str, **values: Any) -> str:
    """Write a final status under the claim's fence, then send any webhook owed.

    Returns ``outcome``, or "superseded" when the row was presumed dead and re-queued
    meanwhile (the claim that took over wins)."""
    now = utcnow()
    with svc.session() as db:
        stored = (
            db.connection()
            .execute(
                _fenced(claim).values(
                    finished_at=now,
                    heartbeat_at=now,
                    grading_seconds=(now - claim.started_at).total_seconds(),
                    **values,
                )
            )
            .rowcount
        )
        if stored != 1:
            return "superseded"
        delivery = _owed_webhook(db, svc, claim.id)
    if delivery is not None:
        enqueue_webhook(svc.celery, delivery)
    return outcome


def _store_report(svc: Services, claim: Claim, report: Report) -> str:
    status = "graded" if report.status == "graded" else "error"
    error = report.error.model_dump() if report.error is not None else None
    return _finish(
        svc,
        claim,
        status,
        status=status,
        report=report.model_dump(mode="json"),
        total=report.scores.total if status == "graded" else None,
        challenge_version=report.challenge.version,
        stale=False,
        error=error,
    )


def _error_report(row: Submission | Claim, code: str, message: str) -> Report:
    slug = row.challenge_slug if isinstance(row, Submission) else row.slug
    version = row.challenge_version if isinstance(row, Submission) else 0
    return Report(
        status="error",
        error=ErrorInfo(code=code, message=message),
        challenge=ChallengeRef(slug=slug, version=version),
        submission=SubmissionRef(id=row.id, sha256=row.sha256),
    )


def _store_error(svc: Services, claim: Claim, code: str, message: str) -> str:
    report = _error_report(claim, code, message)
    with svc.session() as db:
        version = db.get(Submission, claim.id)
        if version is not None:
            report.challenge.version = version.challenge_version
    return _finish(
        svc,
        claim,
        "error",
        status="error",
        report=report.model_dump(mode="json"),
        total=None,
        error={"code": code, "message": message, "attempts": claim.attempts},
    )


def _retry_or_fail(svc: Services, claim: Claim, code: str, message: str) -> str:
    if claim.attempts >= svc.settings.task_max_attempts:
        return _store_error(svc, claim, code, message)
    wait = retry_delay(claim.attempts)
    with svc.session() as db:
        moved = (
            db.connection()
            .execute(
                _fenced(claim).values(
                    status="queued",
                    worker=None,
                    heartbeat_at=None,
                    error={"code": code, "message": message, "attempts": claim.attempts},
                    # The sweep leaves it alone until the retry is due (and overdue).
                    enqueued_at=utcnow() + timedelta(seconds=wait),
                )
            )
            .rowcount
        )
    if moved != 1:
        return "superseded"
    enqueue_grade(svc.celery, claim.id, countdown=wait)
    return "retry"


def _owed_webhook(db: Session, svc: Services, submission_id: str) -> int | None:
    """Record the delivery a finished submission owes; the caller sends it after commit."""
    row = db.get(Submission, submission_id)
    if row is None:
        return None
    db.refresh(row)
    if not row.callback_url:
        return None
    token = db.get(Token, row.token_id)
    challenge = None
    if SLUG.match(row.challenge_slug):
        try:
            challenge = load_challenge(svc.settings.challenges_dir / row.challenge_slug)
        except ChallengeError:
            challenge = None
    body = payload(
        row,
        uploader_role=token.role if token is not None else "candidate",
        feedback=(
            invitations.feedback_for(db, row.token_id, challenge) if challenge is not None else None
        ),
    )
    return create_delivery(db, row, body).id


class _Heartbeat:
    """Touches ``heartbeat_at`` while a grading runs, so the sweep can tell a slow grading
    from a dead worker."""

    def __init__(self, svc: Services, claim: Claim) -> None:
        self._svc = svc
        self._claim = claim
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"heartbeat-{claim.id[:8]}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        interval = self._svc.settings.heartbeat_every()
        while not self._stop.wait(interval):
            try:
                with self._svc.session() as db:
                    alive = (
                        db.connection()
                        .execute(_fenced(self._claim).values(heartbeat_at=utcnow()))
                        .rowcount
                    )
                if not alive:
                    log.warning("lost the claim while grading", submission_id=self._claim.id)
                    return
            except Exception as exc:  # noqa: BLE001 - keep beating through a database blip
                log.warning("heartbeat failed", submission_id=self._claim.id, error=str(exc))
