"""Bearer tokens: made here, shown once, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import ROLES, Invitation, Token

TOKEN_PREFIX = "grd_"
# Roles that may read what reviewers read (admins may do everything a reviewer does).
REVIEWERS = frozenset({"reviewer", "admin"})
_PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "secret",
        "password",
        "placeholder",
        "example",
        "xxx",
        "todo",
        "default",
        "insecure",
        "test",
        "dev",
    }
)
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, role and name."""

    token_id: int
    role: str
    name: str
    # An invited candidate's token reaches this one challenge only (``api.invitations``).
    challenge: str | None = None

    @property
    def is_reviewer(self) -> bool:
        return self.role in REVIEWERS


def hash_token(token: str) -> str:
    # The token carries 256 random bits, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def create_token(session: Session, role: str, name: str = "") -> tuple[Token, str]:
    """Store a new token and return it with its secret (the only time the secret exists)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (choose from {', '.join(ROLES)})")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = Token(
        role=role, name=name, token_hash=hash_token(secret), prefix=secret[:10], created_at=utcnow()
    )
    session.add(row)
    session.flush()
    return row, secret


def authenticate(session: Session, token: str) -> Principal | None:
    """The principal of a live token, or None for unknown or revoked tokens."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(Token).where(Token.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        return None
    bound = session.scalar(select(Invitation.challenge_slug).where(Invitation.token_id == row.id))
    return Principal(token_id=row.id, role=row.role, name=row.name, challenge=bound)


def revoke_token(session: Session, token_id: int) -> Token | None:
    row = session.get(Token, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is unfit to sign webhooks (None if it is fine)."""
    if not secret:
        return "GRADER_SECRET_KEY is not set"
    stripped = secret.strip().lower()
    if stripped in _PLACEHOLDER_SECRETS or stripped.startswith(("change", "your-", "<")):
        return "GRADER_SECRET_KEY is a placeholder; set a random value (openssl rand -hex 32)"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"GRADER_SECRET_KEY is shorter than {MIN_SECRET_LENGTH} characters"
    return None
