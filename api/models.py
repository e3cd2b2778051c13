"""The service's tables: tokens, submissions, webhook deliveries (SQLAlchemy 2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("candidate", "reviewer", "admin")
STATUSES = ("queued", "running", "graded", "error")
DELIVERY_STATUSES = ("pending", "delivered", "failed")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, whatever the database keeps (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class Token(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Submission(Base):
    """One upload and the state of its grading; the database is the queue's source of truth."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("token_id", "idempotency_key", name="uq_submissions_token_idem"),
        Index("ix_submissions_status_enqueued", "status", "enqueued_at"),
        Index("ix_submissions_challenge_total", "challenge_slug", "total"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    challenge_slug: Mapped[str] = mapped_column(String(100))
    # At upload: the version then current; once graded: the version it was graded against.
    challenge_version: Mapped[int] = mapped_column(Integer)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    # Attempts at the current grading request (reset by a re-grade).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Bumped by every claim, never reset: a fencing token, so a worker that lost its claim
    # (presumed dead, then came back) cannot overwrite the result of the one that took over.
    generation: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    total: Mapped[float | None] = mapped_column(Float, nullable=True)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    grading_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    callback_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # The language it is graded in (a service challenge offers several).
    language: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The challenge bundle (grader.bundle) it is to be graded against, by content hash: a
    # worker without the challenges folder fetches it from the blobs table.
    challenge_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Blob(Base):
    """Bytes by content hash, for workers on other machines: uploads and challenge
    bundles. Written once (an existing row wins), verified by the reader."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookDelivery(Base):
    """A callback owed for a finished submission; the body is fixed when it is created."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# --- reviewers in a browser: sessions, reviews, audit, invitations, similarity ---------------

DECISIONS = ("advance", "hold", "reject")


class UiSession(Base):
    """A browser session of ``/ui/``: only the SHA-256 of the cookie's secret is stored."""

    __tablename__ = "ui_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    blind: Mapped[bool] = mapped_column(Boolean, default=False)
    seed: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Review(Base):
    """A reviewer's note and/or decision on a submission; the newest decision counts."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    decision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    author_token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"))
    author_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One reviewer action (sign-in, decision, note, re-grade, export, invitation, ...)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(40))
    challenge_slug: Mapped[str | None] = mapped_column(String(100), nullable=True)
    submission_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class Invitation(Base):
    """A candidate token bound to one challenge, with a time window and an attempt cap."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("tokens.id"), unique=True)
    challenge_slug: Mapped[str] = mapped_column(String(100), index=True)
    candidate_name: Mapped[str] = mapped_column(String(200))
    window_minutes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_attempts: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("tokens.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SimilarityIndex(Base):
    """A submission's fingerprints (``grader.similarity.Fingerprints`` as JSON)."""

    __tablename__ = "similarity_index"

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    challenge_slug: Mapped[str] = mapped_column(String(100), index=True)
    token_id: Mapped[int] = mapped_column(Integer)
    tag: Mapped[str] = mapped_column(String(40))
    # The kept hashes alone: every later submission reads them, so they are cheap to load.
    hashes: Mapped[list[int]] = mapped_column(JSONType)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SimilarityPair(Base):
    """Two submissions of a challenge and how alike they are (``a_id`` < ``b_id``)."""

    __tablename__ = "similarity_pairs"
    __table_args__ = (
        UniqueConstraint("a_id", "b_id", name="uq_similarity_pairs_ab"),
        Index("ix_similarity_pairs_challenge_score", "challenge_slug", "score"),
        Index("ix_similarity_pairs_b", "b_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    challenge_slug: Mapped[str] = mapped_column(String(100))
    a_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    b_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    score: Mapped[float] = mapped_column(Float)
    regions: Mapped[list[Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
