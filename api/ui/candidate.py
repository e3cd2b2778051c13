"""The invited candidate's pages: the invitation link, then one page with the statement, the
starter download, an upload form, the time left and the feedback the policy allows."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api import invitations
from api import submissions as subs
from api.auth import authenticate
from api.challenges import find, starter_archive, statement
from api.errors import ApiError
from api.models import Submission
from api.storage import ArchiveStore
from api.ui import sessions
from api.ui.pages import page, redirect, services, signed_in
from api.ui.render import markdown
from api.ui.sessions import UiError, UiUser
from api.uploads import receive_upload
from grader.challenge import Challenge
from grader.views import candidate_view

router = APIRouter(prefix="/ui", include_in_schema=False)

_MEDIA = {"tar.gz": "application/gzip", "zip": "application/zip"}


def invited(user: Annotated[UiUser, Depends(signed_in)]) -> UiUser:
    if user.principal.role != "candidate" or user.principal.challenge is None:
        raise UiError(403, "this page is for invited candidates")
    return user


CandidateUi = Annotated[UiUser, Depends(invited)]


def _challenge(request: Request, user: UiUser) -> Challenge:
    slug = user.principal.challenge or ""
    ch = find(services(request).settings.challenges_dir, slug)
    if ch is None:
        raise UiError(404, "the challenge of this invitation is no longer offered")
    return ch


@router.get("/invite/{token}", name="ui_invite", response_class=HTMLResponse)
def invitation(token: str, request: Request) -> Response:
    """The link a reviewer sends: a page with one button that opens the candidate's page
    (a button, so that merely fetching the link signs no browser in)."""
    svc = services(request)
    with svc.session() as db:
        principal = authenticate(db, token)
    ch = find(svc.settings.challenges_dir, principal.challenge or "") if principal else None
    if principal is None or ch is None:
        raise UiError(404, "this invitation link is not valid (mistyped, or withdrawn)")
    csrf, cookie = sessions.pre_session_token(svc, request)
    resp = page(
        request, None, "invite.html", challenge=ch, token=token, csrf=csrf, name=principal.name
    )
    sessions.set_pre_cookie(resp, cookie, request)
    return resp


@router.post("/invite")
def accept(
    request: Request, csrf: Annotated[str, Form()] = "", token: Annotated[str, Form()] = ""
) -> Response:
    svc = services(request)
    sessions.check_origin(request)
    sessions.check_pre_session(svc, request, csrf)
    with svc.session() as db:
        principal = authenticate(db, token)
    if principal is None or principal.challenge is None:
        raise UiError(404, "this invitation link is not valid (mistyped, or withdrawn)")
    resp = redirect("/ui/candidate")
    sessions.start(svc, principal, resp, request)
    return resp


def _candidate_page(
    request: Request, user: UiUser, *, error: str | None = None, status: int = 200
) -> Response:
    svc = services(request)
    ch = _challenge(request, user)
    token_id = user.principal.token_id
    with svc.session() as db:
        st = invitations.state(db, token_id)
        policy = invitations.feedback_for(db, token_id, ch)
        rows = db.scalars(
            select(Submission)
            .where(Submission.token_id == token_id, Submission.challenge_slug == ch.slug)
            .order_by(Submission.created_at.desc(), Submission.id)
        ).all()
    items: list[dict[str, Any]] = []
    for row in rows:
        report = subs.load_report(row) if row.status in subs.FINISHED else None
        items.append(
            {"row": row, "view": candidate_view(report, policy) if report is not None else None}
        )
    closed = st is not None and st.closed
    no_attempts = st is not None and st.attempts_left == 0
    return page(
        request,
        user,
        "candidate.html",
        status=status,
        challenge=ch,
        statement=markdown(statement(ch)),
        state=st,
        items=items,
        error=error,
        closed=closed,
        no_attempts=no_attempts,
        policy=policy,
        pending=any(r.status in subs.PENDING for r in rows),
        sent=request.query_params.get("sent"),
    )


@router.get("/candidate", response_class=HTMLResponse)
def candidate_page(request: Request, user: CandidateUi) -> Response:
    return _candidate_page(request, user)


@router.get("/candidate/starter")
def starter(
    request: Request,
    user: CandidateUi,
    fmt: Literal["zip", "tar.gz"] = Query("zip", alias="format"),
) -> Response:
    """The starter files; the first download starts the invitation's clock."""
    ch = _challenge(request, user)
    data = starter_archive(ch, fmt)
    invitations.start_clock(services(request), user.principal)
    return Response(
        data,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{ch.slug}-starter.{fmt}"'},
    )


async def _refused(request: Request, user: UiUser, exc: ApiError) -> Response:
    """The candidate's page again, with why the upload was refused."""
    return await run_in_threadpool(
        lambda: _candidate_page(request, user, error=exc.message, status=exc.status)
    )


@router.post("/candidate/submissions", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    """The upload form: checked like the API's upload, then queued for grading."""
    svc = services(request)
    user = await run_in_threadpool(signed_in, request)
    user = invited(user)
    sessions.check_origin(request)
    ch = await run_in_threadpool(_challenge, request, user)
    try:
        await run_in_threadpool(invitations.check_submit, svc, user.principal, ch)
        received = await receive_upload(
            request, ArchiveStore(svc.settings.data_dir), svc.settings.max_upload_bytes
        )
    except ApiError as exc:
        return await _refused(request, user, exc)
    try:
        sessions.check_csrf(user, received.fields.get("csrf"))
    except UiError:
        received.discard()
        raise
    try:
        accepted = await run_in_threadpool(
            lambda: subs.accept_upload(
                svc, user.principal, ch, received, idempotency_key=None, callback_url=None
            )
        )
    except ApiError as exc:
        return await _refused(request, user, exc)
    return redirect(f"/ui/candidate?sent={accepted.submission.id}")
