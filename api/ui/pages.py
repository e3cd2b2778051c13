"""Reviewers' pages under ``/ui/``: sign-in, challenges, a ranked challenge, a submission,
two side by side, similarity, invitations, the audit log, CSV export."""

from __future__ import annotations

import random
import tempfile
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import case, func, select

from api import audit, invitations, reviews
from api import similarity as simi
from api import submissions as subs
from api.auth import authenticate, revoke_token
from api.challenges import catalogue, find
from api.db import utcnow
from api.errors import ApiError
from api.models import DECISIONS, Invitation, Submission, Token
from api.services import Services
from api.storage import ArchiveStore
from api.ui import sessions
from api.ui.render import Renderer, diff, highlight
from api.ui.sessions import SignInRequired, UiError, UiUser
from grader import similarity as sim
from grader.challenge import Challenge
from grader.errors import SubmissionError
from grader.report import Report, SourceFile
from grader.submission import open_submission

router = APIRouter(prefix="/ui", include_in_schema=False)

# No script at all: every page works without JavaScript, and nothing can run in it.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    # No URL (an invitation link carries a token) leaves for another site; "no-referrer"
    # would also make browsers send "Origin: null" on our own form posts.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def renderer(request: Request) -> Renderer:
    r: Renderer = request.app.state.ui
    return r


def page(
    request: Request, user: UiUser | None, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    html = renderer(request).render(template, user=user, request=request, status=status, **context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def signed_in(request: Request) -> UiUser:
    user = sessions.current(services(request), request)
    if user is None:
        raise SignInRequired
    return user


def reviewer(user: Annotated[UiUser, Depends(signed_in)]) -> UiUser:
    if not user.is_reviewer:
        raise UiError(403, "this page is for reviewers; your invitation page is at /ui/candidate")
    return user


ReviewerUi = Annotated[UiUser, Depends(reviewer)]
Csrf = Annotated[str, Form()]


def posted(request: Request, user: UiUser, csrf: str) -> None:
    sessions.check_origin(request)
    sessions.check_csrf(user, csrf)


def challenge_or_404(svc: Services, slug: str) -> Challenge:
    ch = find(svc.settings.challenges_dir, slug)
    if ch is None:
        raise UiError(404, f"no challenge {slug[:100]!r}")
    return ch


def submission_or_404(svc: Services, user: UiUser, sub_id: str) -> Submission:
    try:
        with svc.session() as db:
            return subs.get_visible(db, user.principal, sub_id)
    except ApiError:
        raise UiError(404, f"no submission {sub_id[:64]!r}") from None


def namer(user: UiUser) -> Any:
    """Candidate names as this session shows them (pseudonyms in blind mode)."""

    def name(token_id: int, real: str) -> str:
        return sessions.pseudonym(user, token_id) if user.blind else (real or f"token {token_id}")

    return name


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- signing in and out --------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/ui/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui/challenges"


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    user = sessions.current(services(request), request)
    if user is None:
        return redirect("/ui/sign-in")
    return redirect("/ui/challenges" if user.is_reviewer else "/ui/candidate")


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request, next: str | None = None) -> Response:
    svc = services(request)
    token, cookie = sessions.pre_session_token(svc, request)
    resp = page(request, None, "sign_in.html", csrf=token, next=_safe_next(next), error=None)
    sessions.set_pre_cookie(resp, cookie, request)
    return resp


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(
    request: Request,
    csrf: Csrf = "",
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    svc = services(request)
    sessions.check_origin(request)
    sessions.check_pre_session(svc, request, csrf)
    with svc.session() as db:
        principal = authenticate(db, token.strip())
        if principal is not None and principal.is_reviewer:
            audit.record(db, principal, "sign-in")
    if principal is None or (not principal.is_reviewer and principal.challenge is None):
        message = (
            "that token is unknown or revoked"
            if principal is None
            else "candidates open their page through their invitation link"
        )
        return page(
            request,
            None,
            "sign_in.html",
            status=401,
            csrf=csrf,
            next=_safe_next(next),
            error=message,
        )
    resp = redirect(_safe_next(next) if principal.is_reviewer else "/ui/candidate")
    sessions.start(svc, principal, resp, request)
    return resp


@router.post("/sign-out")
def sign_out(
    request: Request, user: Annotated[UiUser, Depends(signed_in)], csrf: Csrf = ""
) -> Response:
    posted(request, user, csrf)
    svc = services(request)
    if user.is_reviewer:
        with svc.session() as db:
            audit.record(db, user.principal, "sign-out")
    resp = redirect("/ui/sign-in")
    sessions.end(svc, user, resp)
    return resp


@router.post("/blind")
def toggle_blind(
    request: Request, user: ReviewerUi, csrf: Csrf = "", back: Annotated[str, Form()] = ""
) -> Response:
    """Blind review on or off for this session."""
    posted(request, user, csrf)
    svc = services(request)
    sessions.set_blind(svc, user, not user.blind)
    with svc.session() as db:
        audit.record(db, user.principal, "blind-on" if not user.blind else "blind-off")
    return redirect(_safe_next(back))


# --- challenges ----------------------------------------------------------------------------


@router.get("/challenges", response_class=HTMLResponse)
def challenges_page(request: Request, user: ReviewerUi) -> Response:
    svc = services(request)
    with svc.session() as db:
        counts = {
            slug: (n, people, graded)
            for slug, n, people, graded in db.execute(
                select(
                    Submission.challenge_slug,
                    func.count(),
                    func.count(func.distinct(Submission.token_id)),
                    func.sum(case((Submission.status == "graded", 1), else_=0)),
                ).group_by(Submission.challenge_slug)
            ).all()
        }
    items = []
    for ch in catalogue(svc.settings.challenges_dir):
        n, people, graded = counts.get(ch.slug, (0, 0, 0))
        items.append(
            {
                "challenge": ch,
                "submissions": n,
                "candidates": people,
                "graded": graded or 0,
                "flagged": len(simi.flagged_ids(svc, ch)),
            }
        )
    return page(request, user, "challenges.html", items=items)


@router.get("/challenges/{slug}", response_class=HTMLResponse)
def challenge_page(slug: str, request: Request, user: ReviewerUi) -> Response:
    svc = services(request)
    ch = challenge_or_404(svc, slug)
    filters = reviews.Filters.parse(dict(request.query_params))
    rows = reviews.view(svc, ch, filters, simi.flagged_ids(svc, ch))
    if user.blind and not filters.explicit_sort:
        random.Random(f"{user.seed}:{ch.slug}").shuffle(rows)
    params = dict(request.query_params)

    def sort_link(key: str) -> str:
        again = filters.explicit_sort and filters.sort == key and filters.order == "desc"
        return "?" + urlencode({**params, "sort": key, "order": "asc" if again else "desc"})

    return page(
        request,
        user,
        "challenge.html",
        challenge=ch,
        rows=rows,
        f=filters,
        name=namer(user),
        query=urlencode(params),
        sort_link=sort_link,
        statuses=reviews.STATUSES,
        flags=reviews.FLAG_FILTERS,
        decisions=reviews.DECISION_FILTERS,
        sorts=reviews.SORT_KEYS,
    )


@router.get("/challenges/{slug}/export.csv")
def export_csv(slug: str, request: Request, user: ReviewerUi) -> Response:
    """The ranking as shown (same filters), as CSV."""
    svc = services(request)
    ch = challenge_or_404(svc, slug)
    filters = reviews.Filters.parse(dict(request.query_params))
    rows = reviews.view(svc, ch, filters, simi.flagged_ids(svc, ch))
    name = namer(user)
    names = {r.token_id: name(r.token_id, r.name) for r in rows}
    with svc.session() as db:
        audit.record(
            db,
            user.principal,
            "export",
            challenge=ch.slug,
            detail={"rows": len(rows), "blind": user.blind},
        )
    return Response(
        reviews.to_csv(rows, names=names),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{ch.slug}-submissions.csv"'},
    )


@router.post("/challenges/{slug}/regrade")
def regrade_challenge(
    slug: str,
    request: Request,
    user: ReviewerUi,
    csrf: Csrf = "",
    scope: Annotated[str, Form()] = "stale",
) -> Response:
    posted(request, user, csrf)
    svc = services(request)
    ch = challenge_or_404(svc, slug)
    out = subs.regrade_challenge(svc, ch, stale_only=scope != "all")
    with svc.session() as db:
        audit.record(
            db,
            user.principal,
            "regrade-challenge",
            challenge=ch.slug,
            detail={"scope": scope, "queued": out.queued},
        )
    return redirect(f"/ui/challenges/{ch.slug}")


@router.post("/challenges/{slug}/similarity/index")
def index_similarity(slug: str, request: Request, user: ReviewerUi, csrf: Csrf = "") -> Response:
    """Fingerprint graded submissions that are not indexed yet (graded before similarity
    existed, or while it was switched off)."""
    posted(request, user, csrf)
    svc = services(request)
    ch = challenge_or_404(svc, slug)
    done = simi.index_challenge(svc, ch)
    with svc.session() as db:
        audit.record(
            db, user.principal, "index-similarity", challenge=ch.slug, detail={"indexed": done}
        )
    return redirect(f"/ui/challenges/{ch.slug}/similarity")


@router.get("/challenges/{slug}/similarity", response_class=HTMLResponse)
def similarity_page(slug: str, request: Request, user: ReviewerUi) -> Response:
    svc = services(request)
    ch = challenge_or_404(svc, slug)
    pairs = simi.pairs(svc, ch.slug, limit=500)
    with svc.session() as db:
        owners = dict(
            db.execute(
                select(Submission.id, Submission.token_id).where(
                    Submission.challenge_slug == ch.slug
                )
            ).all()
        )
        people = dict(db.execute(select(Token.id, Token.name)).all())
    name = namer(user)
    labels = {sid: name(tid, people.get(tid, "")) for sid, tid in owners.items()}
    return page(
        request,
        user,
        "similarity.html",
        challenge=ch,
        pairs=pairs,
        labels=labels,
        threshold=ch.config.similarity.threshold,
        floor=simi.STORE_FLOOR,
    )


# --- one submission ------------------------------------------------------------------------


def sources_of(svc: Services, row: Submission, report: Report | None) -> list[SourceFile]:
    """The report's sources; else (a language whose report keeps none) read from the upload."""
    if report is not None and report.sources:
        return report.sources
    archive = ArchiveStore(svc.settings.data_dir).path(row.sha256)
    if not archive.is_file():
        return []
    with tempfile.TemporaryDirectory(prefix="grader-ui-") as tmp:
        try:
            sub = open_submission(archive, tmp, svc.settings.upload_limits(), filename=row.filename)
        except SubmissionError:
            return []
        return [SourceFile(path=p, text=t) for p, t in sorted(sim.read_sources(sub.root).items())]


def _notes(report: Report | None) -> dict[str, dict[int, list[str]]]:
    out: dict[str, dict[int, list[str]]] = {}
    if report is not None:
        for f in report.style.findings:
            out.setdefault(f.file, {}).setdefault(f.line, []).append(
                f"{f.code} (col {f.column}): {f.message}"
            )
    return out


@router.get("/submissions/{sub_id}", response_class=HTMLResponse)
def submission_page(sub_id: str, request: Request, user: ReviewerUi) -> Response:
    svc = services(request)
    row = submission_or_404(svc, user, sub_id)
    report = subs.load_report(row)
    ch = find(svc.settings.challenges_dir, row.challenge_slug)
    notes = _notes(report)
    files = [
        (src, highlight(src.text, src.path, notes=notes.get(src.path)))
        for src in sources_of(svc, row, report)
    ]
    similar = simi.pairs(svc, row.challenge_slug, submission_id=row.id, limit=50)
    threshold = ch.config.similarity.threshold if ch is not None else 1.0
    with svc.session() as db:
        token = db.get(Token, row.token_id)
        history = reviews.history(db, row.id)
        owners = dict(
            db.execute(
                select(Submission.id, Submission.token_id).where(
                    Submission.id.in_([p.a for p in similar] + [p.b for p in similar])
                )
            ).all()
        )
        people = dict(
            db.execute(
                select(Token.id, Token.name).where(Token.id.in_(list(owners.values())))
            ).all()
        )
    name = namer(user)
    labels = {sid: name(tid, people.get(tid, "")) for sid, tid in owners.items()}
    decision = next((r for r in history if r.decision is not None), None)
    return page(
        request,
        user,
        "submission.html",
        row=row,
        report=report,
        challenge=ch,
        files=files,
        similar=similar,
        threshold=threshold,
        labels=labels,
        candidate=name(row.token_id, token.name if token else ""),
        history=history,
        decision=decision,
        decisions=DECISIONS,
        stale=subs.is_stale(row, ch),
    )


@router.post("/submissions/{sub_id}/review")
def review(
    sub_id: str,
    request: Request,
    user: ReviewerUi,
    csrf: Csrf = "",
    decision: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    """Record a note and/or a decision (advance, hold, reject)."""
    posted(request, user, csrf)
    svc = services(request)
    row = submission_or_404(svc, user, sub_id)
    try:
        with svc.session() as db:
            rv = reviews.add_review(
                db, user.principal, row.id, decision=decision or None, note=note
            )
            audit.record(
                db,
                user.principal,
                "decision" if rv.decision else "note",
                challenge=row.challenge_slug,
                submission=row.id,
                detail={"decision": rv.decision, "note_chars": len(rv.note)},
            )
    except ApiError as exc:
        raise UiError(exc.status, exc.message) from None
    return redirect(f"/ui/submissions/{row.id}#review")


@router.post("/submissions/{sub_id}/regrade")
def regrade(sub_id: str, request: Request, user: ReviewerUi, csrf: Csrf = "") -> Response:
    posted(request, user, csrf)
    svc = services(request)
    row = submission_or_404(svc, user, sub_id)
    try:
        subs.regrade_one(svc, row)
    except ApiError as exc:
        raise UiError(exc.status, exc.message) from None
    with svc.session() as db:
        audit.record(db, user.principal, "regrade", challenge=row.challenge_slug, submission=row.id)
    return redirect(f"/ui/submissions/{row.id}")


# --- two submissions -----------------------------------------------------------------------


def _two(request: Request) -> tuple[str, str]:
    q = request.query_params
    ids = [v for v in q.getlist("id") if v] or [v for v in (q.get("a"), q.get("b")) if v]
    if len(ids) != 2 or ids[0] == ids[1]:
        raise UiError(422, "choose exactly two different submissions to compare")
    return ids[0], ids[1]


@router.get("/compare", response_class=HTMLResponse)
def compare_page(request: Request, user: ReviewerUi) -> Response:
    svc = services(request)
    a_id, b_id = _two(request)
    rows = [submission_or_404(svc, user, a_id), submission_or_404(svc, user, b_id)]
    reports = [subs.load_report(r) for r in rows]
    with svc.session() as db:
        people = dict(
            db.execute(
                select(Token.id, Token.name).where(Token.id.in_([r.token_id for r in rows]))
            ).all()
        )
    name = namer(user)
    labels = [name(r.token_id, people.get(r.token_id, "")) for r in rows]
    outcomes: list[dict[str, str]] = [
        {t.id: t.outcome for t in rep.tests} if rep is not None else {} for rep in reports
    ]
    differing = [
        (tid, outcomes[0].get(tid, "absent"), outcomes[1].get(tid, "absent"))
        for tid in sorted(set(outcomes[0]) | set(outcomes[1]))
        if outcomes[0].get(tid) != outcomes[1].get(tid)
    ]
    srcs = [
        {s.path: s.text for s in sources_of(svc, r, rep)}
        for r, rep in zip(rows, reports, strict=True)
    ]
    diffs = []
    for path in sorted(set(srcs[0]) | set(srcs[1])):
        lines = diff(srcs[0].get(path, ""), srcs[1].get(path, ""), f"a/{path}", f"b/{path}")
        diffs.append((path, lines, path not in srcs[0], path not in srcs[1]))
    pair = simi.pair(svc, a_id, b_id)
    return page(
        request,
        user,
        "compare.html",
        rows=rows,
        reports=reports,
        labels=labels,
        differing=differing,
        diffs=diffs,
        pair=pair,
        keys=reviews.SCORE_KEYS,
    )


@router.get("/similarity/{a_id}/{b_id}", response_class=HTMLResponse)
def pair_page(a_id: str, b_id: str, request: Request, user: ReviewerUi) -> Response:
    """Both sources side by side, the matching regions highlighted."""
    svc = services(request)
    rows = [submission_or_404(svc, user, a_id), submission_or_404(svc, user, b_id)]
    found = simi.pair(svc, a_id, b_id)
    if found is not None and found.a != a_id:
        return redirect(f"/ui/similarity/{found.a}/{found.b}")
    regions = found.regions if found is not None else []
    sides = []
    for side, row in zip(("a", "b"), rows, strict=True):
        hits: dict[str, set[int]] = {}
        for reg in regions:
            span = reg[side]
            hits.setdefault(span["file"], set()).update(range(span["start"], span["end"] + 1))
        report = subs.load_report(row)
        files = [
            (src, highlight(src.text, src.path, hits=hits.get(src.path)))
            for src in sources_of(svc, row, report)
        ]
        sides.append({"row": row, "files": files})
    with svc.session() as db:
        people = dict(
            db.execute(
                select(Token.id, Token.name).where(Token.id.in_([r.token_id for r in rows]))
            ).all()
        )
    name = namer(user)
    ch = find(svc.settings.challenges_dir, rows[0].challenge_slug)
    return page(
        request,
        user,
        "pair.html",
        pair=found,
        sides=sides,
        regions=regions,
        labels=[name(r.token_id, people.get(r.token_id, "")) for r in rows],
        threshold=ch.config.similarity.threshold if ch else 1.0,
    )


# --- invitations and the audit log ---------------------------------------------------------


def _invitations_page(
    request: Request,
    user: UiUser,
    ch: Challenge,
    *,
    created: Any = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    svc = services(request)
    with svc.session() as db:
        items = []
        for inv, token in invitations.listing(db, ch.slug):
            st = invitations.State(
                inv, invitations.attempts_used(db, inv.token_id, ch.slug), utcnow()
            )
            items.append({"inv": inv, "token": token, "state": st})
    return page(
        request,
        user,
        "invitations.html",
        status=status,
        challenge=ch,
        items=items,
        created=created,
        error=error,
    )


@router.get("/challenges/{slug}/invitations", response_class=HTMLResponse)
def invitations_page(slug: str, request: Request, user: ReviewerUi) -> Response:
    return _invitations_page(request, user, challenge_or_404(services(request), slug))


def _optional_int(value: str, what: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise ApiError(422, "invalid-request", f"{what}: a whole number, or empty") from None


@router.post("/challenges/{slug}/invitations", response_class=HTMLResponse)
def invite(
    slug: str,
    request: Request,
    user: ReviewerUi,
    csrf: Csrf = "",
    candidate_name: Annotated[str, Form()] = "",
    window_hours: Annotated[str, Form()] = "",
    max_attempts: Annotated[str, Form()] = "",
) -> Response:
    posted(request, user, csrf)
    svc = services(request)
    ch = challenge_or_404(svc, slug)
    try:
        hours = _optional_int(window_hours, "time window (hours)")
        attempts = _optional_int(max_attempts, "attempts")
        with svc.session() as db:
            inv, secret = invitations.create(
                db,
                challenge=ch,
                candidate_name=candidate_name,
                window_minutes=hours * 60 if hours is not None else None,
                max_attempts=attempts,
                creator=user.principal,
            )
            audit.record(
                db,
                user.principal,
                "invite",
                challenge=ch.slug,
                detail={"invitation": inv.id, "candidate": inv.candidate_name},
            )
            created = {
                "name": inv.candidate_name,
                "link": str(request.url_for("ui_invite", token=secret)),
            }
    except ApiError as exc:
        return _invitations_page(request, user, ch, error=exc.message, status=422)
    return _invitations_page(request, user, ch, created=created)


@router.post("/invitations/{inv_id}/revoke")
def revoke_invitation(inv_id: int, request: Request, user: ReviewerUi, csrf: Csrf = "") -> Response:
    posted(request, user, csrf)
    svc = services(request)
    with svc.session() as db:
        inv = db.get(Invitation, inv_id) if 0 < inv_id < 2**31 else None
        if inv is None:
            raise UiError(404, f"no invitation {inv_id}")
        revoke_token(db, inv.token_id)
        audit.record(
            db,
            user.principal,
            "revoke-invitation",
            challenge=inv.challenge_slug,
            detail={"invitation": inv.id},
        )
        slug = inv.challenge_slug
    return redirect(f"/ui/challenges/{slug}/invitations")


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, user: ReviewerUi) -> Response:
    svc = services(request)
    with svc.session() as db:
        entries = audit.recent(db, limit=300)
    return page(request, user, "audit.html", entries=entries)
