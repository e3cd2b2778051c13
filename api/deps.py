"""FastAPI dependencies, as ``Annotated`` aliases that handlers take as typed parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal, authenticate
from api.challenges import find
from api.errors import ApiError
from api.services import Services
from grader.challenge import Challenge

_bearer = HTTPBearer(auto_error=False, description="A token from `grader token create`")
_CHALLENGE = '"Bearer"'


def get_services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(get_services)]


def get_principal(
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from ``Authorization: Bearer <token>``; 401 without a live token."""
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "send a bearer token: Authorization: Bearer <token>",
            {"WWW-Authenticate": "Bearer"},
        )
    with svc.session() as db:
        principal = authenticate(db, credentials.credentials)
    if principal is None:
        raise ApiError(
            401,
            "unauthorized",
            "the token is unknown or revoked",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_reviewer(principal: PrincipalDep) -> Principal:
    if not principal.is_reviewer:
        raise ApiError(403, "forbidden", "reviewers only")
    return principal


def get_admin(principal: PrincipalDep) -> Principal:
    if principal.role != "admin":
        raise ApiError(403, "forbidden", "admins only")
    return principal


ReviewerDep = Annotated[Principal, Depends(get_reviewer)]
AdminDep = Annotated[Principal, Depends(get_admin)]


def challenge_or_404(svc: Services, slug: str, principal: Principal | None = None) -> Challenge:
    """The challenge ``slug``; 404 when there is none, or when ``principal`` is an invited
    candidate bound to another challenge."""
    challenge = find(svc.settings.challenges_dir, slug)
    if challenge is None or (principal is not None and principal.challenge not in (None, slug)):
        raise ApiError(404, "not-found", f"no challenge {slug[:100]!r}")
    return challenge
