"""Tokens (admins): list, create, revoke."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.auth import create_token, revoke_token
from api.deps import AdminDep, ServicesDep
from api.errors import ApiError, responses
from api.models import Token
from api.schemas import TokenCreate, TokenCreated, TokenList, TokenOut

router = APIRouter(prefix="/v1/tokens", tags=["tokens"], responses=responses(401, 403))


def token_out(row: Token) -> TokenOut:
    return TokenOut(
        id=row.id,
        role=row.role,  # type: ignore[arg-type]
        name=row.name,
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


@router.get("", response_model=TokenList)
def list_tokens(svc: ServicesDep, _: AdminDep) -> TokenList:
    """Every token, revoked ones included (never the secrets: only their first characters)."""
    with svc.session() as db:
        rows = db.scalars(select(Token).order_by(Token.id)).all()
        return TokenList(items=[token_out(r) for r in rows])


@router.post("", status_code=201, response_model=TokenCreated, responses=responses(422))
def create(body: TokenCreate, svc: ServicesDep, _: AdminDep) -> TokenCreated:
    """A new token; the secret is in this response only."""
    if not body.name.isprintable():
        raise ApiError(422, "invalid-request", "name: must be printable text")
    with svc.session() as db:
        row, secret = create_token(db, body.role, body.name)
        return TokenCreated(**token_out(row).model_dump(), token=secret)


@router.delete("/{token_id}", response_model=TokenOut, responses=responses(404, 409, 422))
def revoke(token_id: int, svc: ServicesDep, admin: AdminDep) -> TokenOut:
    """Revoke a token at once (revoking twice is harmless)."""
    if token_id == admin.token_id:
        raise ApiError(409, "conflict", "refusing to revoke the token this request uses")
    if not 0 < token_id < 2**31:
        raise ApiError(404, "not-found", f"no token {token_id}")
    with svc.session() as db:
        row = revoke_token(db, token_id)
        if row is None:
            raise ApiError(404, "not-found", f"no token {token_id}")
        return token_out(row)
