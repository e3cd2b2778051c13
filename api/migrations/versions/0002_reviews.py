"""Reviewers in a browser: UI sessions, reviews, audit log, invitations, similarity.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("blind", sa.Boolean(), nullable=False),
        sa.Column("seed", sa.String(32), nullable=False),
        _ts("created_at"),
        _ts("expires_at"),
        _ts("ended_at", nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["tokens.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ui_sessions_token_id", "ui_sessions", ["token_id"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author_token_id", sa.Integer(), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["author_token_id"], ["tokens.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_reviews_submission_id", "reviews", ["submission_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _ts("at"),
        sa.Column("actor_token_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("challenge_slug", sa.String(100), nullable=True),
        sa.Column("submission_id", sa.String(32), nullable=True),
        sa.Column("detail", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("challenge_slug", sa.String(100), nullable=False),
        sa.Column("candidate_name", sa.String(200), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=True),
        sa.Column("max_attempts", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("started_at", nullable=True),
        sa.ForeignKeyConstraint(["token_id"], ["tokens.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["tokens.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_id"),
    )
    op.create_index("ix_invitations_challenge_slug", "invitations", ["challenge_slug"])
    op.create_table(
        "similarity_index",
        sa.Column("submission_id", sa.String(32), nullable=False),
        sa.Column("challenge_slug", sa.String(100), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(40), nullable=False),
        sa.Column("hashes", _JSON, nullable=False),
        sa.Column("data", _JSON, nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"]),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_index("ix_similarity_index_challenge_slug", "similarity_index", ["challenge_slug"])
    op.create_table(
        "similarity_pairs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("challenge_slug", sa.String(100), nullable=False),
        sa.Column("a_id", sa.String(32), nullable=False),
        sa.Column("b_id", sa.String(32), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("regions", _JSON, nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["a_id"], ["submissions.id"]),
        sa.ForeignKeyConstraint(["b_id"], ["submissions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("a_id", "b_id", name="uq_similarity_pairs_ab"),
    )
    op.create_index(
        "ix_similarity_pairs_challenge_score", "similarity_pairs", ["challenge_slug", "score"]
    )
    op.create_index("ix_similarity_pairs_b", "similarity_pairs", ["b_id"])


def downgrade() -> None:
    op.drop_table("similarity_pairs")
    op.drop_table("similarity_index")
    op.drop_table("invitations")
    op.drop_table("audit_log")
    op.drop_table("reviews")
    op.drop_table("ui_sessions")
