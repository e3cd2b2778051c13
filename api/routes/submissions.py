"""Submissions: upload, status and feedback, reports, the ranked list, re-grades."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api import invitations, reviews
from api import submissions as subs
from api.challenges import find
from api.deps import PrincipalDep, ReviewerDep, ServicesDep, challenge_or_404
from api.errors import ApiError, responses
from api.schemas import RankedList, RegradeOut, Status, SubmissionOut
from api.storage import ArchiveStore
from api.uploads import receive_upload
from grader.render import render

router = APIRouter(tags=["submissions"], responses=responses(401))

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "a .zip, a .tar.gz or a single source file",
                    },
                    "callback_url": {
                        "type": "string",
                        "maxLength": 2048,
                        "description": "POSTed a signed summary when grading finishes",
                    },
                    "language": {
                        "type": "string",
                        "maxLength": 32,
                        "description": "a service challenge's language of the submission "
                        "(default: recognised from its files)",
                    },
                },
            }
        }
    },
}
_REPORT_MEDIA = {
    "json": "application/json",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}
# The HTML report holds candidate-written text: no scripts, nothing fetched, not framed.
_HTML_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


@router.post(
    "/v1/challenges/{slug}/submissions",
    status_code=202,
    response_model=SubmissionOut,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=responses(404, 413, 415, 422, 429),
)
async def create_submission(
    slug: str,
    request: Request,
    svc: ServicesDep,
    principal: PrincipalDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    """Upload a solution (multipart field ``file``); it is checked like ``grader run`` checks
    it, stored, and queued. A retry with the same ``Idempotency-Key`` returns the same
    submission."""
    challenge = challenge_or_404(svc, slug, principal)
    await run_in_threadpool(invitations.check_submit, svc, principal, challenge)
    key = subs.check_idempotency_key(idempotency_key)
    settings = svc.settings
    upload = await receive_upload(
        request, ArchiveStore(settings.data_dir), settings.max_upload_bytes
    )
    try:
        callback = subs.check_callback_url(
            upload.fields.get("callback_url"), allow_private=settings.webhook_allow_private
        )
    except ApiError:
        upload.discard()
        raise
    language = upload.fields.get("language") or None
    accepted = await run_in_threadpool(
        subs.accept_upload,
        svc,
        principal,
        challenge,
        upload,
        idempotency_key=key,
        callback_url=callback,
        language=language,
    )
    out = subs.submission_out(accepted.submission, principal, challenge, principal.name)
    headers = {"Location": f"/v1/submissions/{out.id}"}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(out.model_dump(mode="json"), status_code=202, headers=headers)


@router.get(
    "/v1/submissions/{submission_id}", response_model=SubmissionOut, responses=responses(404)
)
def get_submission(submission_id: str, svc: ServicesDep, principal: PrincipalDep) -> SubmissionOut:
    """Status, and the feedback this caller may see (a candidate: only their own, only what
    the challenge's policy shows)."""
    challenge = None
    with svc.session() as db:
        row = subs.get_visible(db, principal, submission_id)
        name = subs.token_name(db, row.token_id) if principal.is_reviewer else ""
        challenge = find(svc.settings.challenges_dir, row.challenge_slug)
        policy = (
            invitations.feedback_for(db, row.token_id, challenge) if challenge is not None else None
        )
    return subs.submission_out(row, principal, challenge, name, policy=policy)


def _report(svc: ServicesDep, principal: ReviewerDep, submission_id: str, fmt: str) -> Response:
    if fmt not in _REPORT_MEDIA:
        raise ApiError(404, "not-found", f"no report format {fmt[:20]!r} (json, md, html)")
    with svc.session() as db:
        row = subs.get_visible(db, principal, submission_id)
    report = subs.load_report(row)
    if report is None:
        raise ApiError(409, "not-graded", f"the submission is {row.status}; no report yet")
    challenge = find(svc.settings.challenges_dir, row.challenge_slug)
    headers = {
        "X-Grader-Status": row.status,
        "X-Grader-Stale": "true" if subs.is_stale(row, challenge) else "false",
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = _HTML_CSP
    text = render(report, fmt, color=False) if fmt != "json" else report.model_dump_json()
    return Response(text, media_type=_REPORT_MEDIA[fmt], headers=headers)


_REPORT_RESPONSES = {
    **responses(403, 404, 409),
    200: {
        "description": "the full report",
        "content": {
            m.split(";")[0]: {"schema": {"type": "string"}}
            if m != "application/json"
            else {"schema": {"type": "object"}}
            for m in _REPORT_MEDIA.values()
        },
    },
}


@router.get(
    "/v1/submissions/{submission_id}/report", response_class=Response, responses=_REPORT_RESPONSES
)
def get_report(submission_id: str, svc: ServicesDep, principal: ReviewerDep) -> Response:
    """The full report as JSON (reviewers)."""
    return _report(svc, principal, submission_id, "json")


@router.get(
    "/v1/submissions/{submission_id}/report.{fmt}",
    response_class=Response,
    responses=_REPORT_RESPONSES,
)
def get_report_as(
    submission_id: str, fmt: str, svc: ServicesDep, principal: ReviewerDep
) -> Response:
    """The full report as ``json``, ``md`` or ``html`` (reviewers)."""
    return _report(svc, principal, submission_id, fmt)


@router.get(
    "/v1/challenges/{slug}/submissions",
    response_model=RankedList,
    responses=responses(403, 404, 422),
)
def list_submissions(
    slug: str,
    svc: ServicesDep,
    _: ReviewerDep,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    rows: Literal["submissions", "candidates"] = "submissions",
) -> RankedList:
    """A challenge's submissions, best graded total first (reviewers). ``rows=candidates``:
    one row per candidate, their best or last submission as the challenge's
    ``[ranking] per_candidate`` says."""
    challenge = challenge_or_404(svc, slug)
    if rows == "candidates":
        return reviews.ranked_list(svc, challenge, status=status, limit=limit, offset=offset)
    with svc.session() as db:
        return subs.ranked(db, challenge, status=status, limit=limit, offset=offset)


@router.post(
    "/v1/submissions/{submission_id}/regrade",
    status_code=202,
    response_model=SubmissionOut,
    responses=responses(403, 404, 409),
)
def regrade_submission(
    submission_id: str, svc: ServicesDep, principal: ReviewerDep
) -> SubmissionOut:
    """Grade one submission again, against the challenge as it is now (reviewers)."""
    with svc.session() as db:
        row = subs.get_visible(db, principal, submission_id)
    subs.regrade_one(svc, row)
    with svc.session() as db:
        row = subs.get_visible(db, principal, submission_id)
        name = subs.token_name(db, row.token_id)
    return subs.submission_out(
        row, principal, find(svc.settings.challenges_dir, row.challenge_slug), name
    )


@router.post(
    "/v1/challenges/{slug}/regrade",
    status_code=202,
    response_model=RegradeOut,
    responses=responses(403, 404, 422),
)
def regrade_challenge(
    slug: str,
    svc: ServicesDep,
    _: ReviewerDep,
    scope: Literal["all", "stale"] = "all",
) -> RegradeOut:
    """Grade every finished submission of a challenge again (``scope=stale``: only those
    graded against an older version). Submissions still queued or running are skipped."""
    challenge = challenge_or_404(svc, slug)
    return subs.regrade_challenge(svc, challenge, stale_only=scope == "stale")
