"""Browser sessions of ``/ui/``: a signed, HttpOnly, SameSite=Strict cookie naming a server
side session row (so sign-out and token revocation end it at once), and CSRF tokens.

The cookie is ``<secret>.<hmac>``: the HMAC (keyed with ``GRADER_SECRET_KEY``) rejects forged
or altered cookies before the database is asked; the row is found by the secret's SHA-256
(the secret itself is never stored). Each session has its own CSRF token, which every form
carries and every POST checks; before sign-in (the sign-in form, an invitation's accept
button) a double-submit cookie plays that part. POSTs whose ``Origin`` is another site are
refused as well.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select, update

from api.auth import Principal
from api.db import utcnow
from api.models import Invitation, Token, UiSession
from api.services import Services

COOKIE = "grader_session"
PRE_COOKIE = "grader_csrf"
COOKIE_PATH = "/ui"


class UiError(Exception):
    """A page-level refusal, shown as an HTML error page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SignInRequired(Exception):  # noqa: N818 - a signal to redirect, not a failure
    """No valid session: send the browser to the sign-in page."""


@dataclass(frozen=True)
class UiUser:
    """The signed-in person behind a request."""

    principal: Principal
    session_id: str
    csrf: str
    blind: bool
    seed: str

    @property
    def is_reviewer(self) -> bool:
        return self.principal.is_reviewer


def _mac(key: str, value: str) -> str:
    return hmac.new(key.encode(), f"grader-ui:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def _signed(key: str, raw: str) -> str:
    return f"{raw}.{_mac(key, raw)}"


def _unsigned(key: str, value: str | None) -> str | None:
    if not value or len(value) > 200 or "." not in value:
        return None
    raw, _, mac = value.rpartition(".")
    return raw if hmac.compare_digest(mac, _mac(key, raw)) else None


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def start(svc: Services, principal: Principal, response: Response, request: Request) -> None:
    """A new session for ``principal``; sets the cookie on ``response``."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    hours = svc.settings.ui_session_hours
    with svc.session() as db:
        db.add(
            UiSession(
                id=_hash(raw),
                token_id=principal.token_id,
                csrf=secrets.token_urlsafe(32),
                blind=False,
                seed=secrets.token_hex(16),
                created_at=now,
                expires_at=now + timedelta(hours=hours),
            )
        )
    response.set_cookie(
        COOKIE,
        _signed(svc.settings.secret_key, raw),
        max_age=int(hours * 3600),
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(PRE_COOKIE, path=COOKIE_PATH)


def current(svc: Services, request: Request) -> UiUser | None:
    """The live session of this request, or None (no cookie, forged, expired, ended, or its
    token revoked)."""
    raw = _unsigned(svc.settings.secret_key, request.cookies.get(COOKIE))
    if raw is None:
        return None
    now = utcnow()
    with svc.session() as db:
        found = db.execute(
            select(UiSession, Token)
            .join(Token, Token.id == UiSession.token_id)
            .where(
                UiSession.id == _hash(raw),
                UiSession.ended_at.is_(None),
                UiSession.expires_at > now,
                Token.revoked_at.is_(None),
            )
        ).first()
        if found is None:
            return None
        sess, token = found
        bound = db.scalar(select(Invitation.challenge_slug).where(Invitation.token_id == token.id))
    principal = Principal(token_id=token.id, role=token.role, name=token.name, challenge=bound)
    return UiUser(
        principal=principal, session_id=sess.id, csrf=sess.csrf, blind=sess.blind, seed=sess.seed
    )


def end(svc: Services, user: UiUser, response: Response) -> None:
    with svc.session() as db:
        db.execute(
            update(UiSession).where(UiSession.id == user.session_id).values(ended_at=utcnow())
        )
    response.delete_cookie(COOKIE, path=COOKIE_PATH)


def set_blind(svc: Services, user: UiUser, blind: bool) -> None:
    with svc.session() as db:
        db.execute(update(UiSession).where(UiSession.id == user.session_id).values(blind=blind))


def check_origin(request: Request) -> None:
    """Refuse a POST sent by another site (SameSite=Strict already keeps its cookie away)."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent by old browsers or non-browser clients; CSRF still holds
        return
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin != own:
        raise UiError(403, "this form was sent from another site")


def check_csrf(user: UiUser, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, user.csrf):
        raise UiError(
            403, "the form expired or did not come from this site; reload the page and try again"
        )


def pre_session_token(svc: Services, request: Request) -> tuple[str, str | None]:
    """The CSRF token of the sign-in forms, and the cookie to set when there is none yet."""
    raw = _unsigned(svc.settings.secret_key, request.cookies.get(PRE_COOKIE))
    if raw is not None:
        return raw, None
    raw = secrets.token_urlsafe(24)
    return raw, _signed(svc.settings.secret_key, raw)


def set_pre_cookie(response: Response, value: str | None, request: Request) -> None:
    if value is not None:
        response.set_cookie(
            PRE_COOKIE,
            value,
            max_age=3600,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=_secure(request),
        )


def check_pre_session(svc: Services, request: Request, submitted: str | None) -> None:
    raw = _unsigned(svc.settings.secret_key, request.cookies.get(PRE_COOKIE))
    if raw is None or not submitted or not hmac.compare_digest(raw, submitted):
        raise UiError(403, "the sign-in form expired; reload the page and try again")


def pseudonym(user: UiUser, token_id: int) -> str:
    """A stable stand-in for a candidate's name within one blind session."""
    digest = hmac.new(user.seed.encode(), str(token_id).encode(), hashlib.sha256).digest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "Candidate " + "".join(alphabet[b % len(alphabet)] for b in digest[:4])
