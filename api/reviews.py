"""Reviewing a challenge's submissions: ranked rows (one per candidate or all), filters,
sorting, notes and decisions, CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import Principal
from api.db import utcnow
from api.errors import ApiError
from api.models import DECISIONS, Review, Submission, Token
from api.schemas import ChallengeRefOut, RankedItem, RankedList
from api.services import Services
from grader.challenge import Challenge

SCORE_KEYS = ("total", "correctness", "style", "complexity", "docs")
SORT_KEYS = (*SCORE_KEYS, "submitted")
FLAG_FILTERS = ("any", "tamper", "similar", "none")
DECISION_FILTERS = (*DECISIONS, "none")
STATUSES = ("queued", "running", "graded", "error")
MAX_NOTE = 10_000


@dataclass
class Row:
    """One submission as a ranking shows it."""

    id: str
    token_id: int
    name: str
    filename: str
    status: str
    total: float | None
    scores: dict[str, float]
    flags: list[str]
    created_at: datetime
    finished_at: datetime | None
    stale: bool
    similar: float | None = None
    decision: str | None = None
    decided_by: str = ""
    decided_at: datetime | None = None
    note: str = ""
    rank: int | None = None
    attempts: int = 1
    version: int = 0

    def score(self, key: str) -> float | None:
        if key == "total":
            return self.total
        return self.scores.get(key) if self.status == "graded" else None


@dataclass
class Filters:
    status: str | None = None
    min_total: float | None = None
    max_total: float | None = None
    flag: str | None = None
    decision: str | None = None
    sort: str = "total"
    order: Literal["asc", "desc"] = "desc"
    rows: Literal["candidates", "all"] = "candidates"
    explicit_sort: bool = False
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, q: dict[str, str]) -> Filters:
        """From query parameters; anything unknown is dropped and named in ``problems``."""
        f = cls()

        def pick(name: str, allowed: tuple[str, ...]) -> str | None:
            value = q.get(name, "").strip()
            if not value:
                return None
            if value not in allowed:
                f.problems.append(f"{name}: {value[:40]!r} is not one of {', '.join(allowed)}")
                return None
            return value

        def number(name: str) -> float | None:
            value = q.get(name, "").strip()
            if not value:
                return None
            try:
                x = float(value)
            except ValueError:
                f.problems.append(f"{name}: {value[:40]!r} is not a number")
                return None
            if not 0 <= x <= 100:
                f.problems.append(f"{name}: must be between 0 and 100")
                return None
            return x

        f.status = pick("status", STATUSES)
        f.flag = pick("flag", FLAG_FILTERS)
        f.decision = pick("decision", DECISION_FILTERS)
        f.min_total, f.max_total = number("min"), number("max")
        sort = pick("sort", SORT_KEYS)
        f.explicit_sort = sort is not None
        f.sort = sort or "total"
        f.order = "asc" if pick("order", ("asc", "desc")) == "asc" else "desc"
        f.rows = "all" if pick("rows", ("candidates", "all")) == "all" else "candidates"
        return f

    def keep(self, row: Row) -> bool:
        if self.status is not None and row.status != self.status:
            return False
        if self.min_total is not None and (row.total is None or row.total < self.min_total):
            return False
        if self.max_total is not None and (row.total is None or row.total > self.max_total):
            return False
        if self.flag == "any" and not (row.flags or row.similar is not None):
            return False
        if self.flag == "tamper" and not row.flags:
            return False
        if self.flag == "similar" and row.similar is None:
            return False
        if self.flag == "none" and (row.flags or row.similar is not None):
            return False
        if self.decision == "none":
            return row.decision is None
        return self.decision is None or row.decision == self.decision


def load_rows(svc: Services, challenge: Challenge, similar: dict[str, float]) -> list[Row]:
    """Every submission of ``challenge`` with its scores, flags and current decision."""
    with svc.session() as db:
        result = db.execute(
            select(
                Submission.id,
                Submission.token_id,
                Token.name,
                Submission.filename,
                Submission.status,
                Submission.total,
                Submission.report["scores"],
                Submission.report["flags"],
                Submission.created_at,
                Submission.finished_at,
                Submission.challenge_version,
                Submission.stale,
            )
            .join(Token, Token.id == Submission.token_id)
            .where(Submission.challenge_slug == challenge.slug)
        ).all()
        rows = []
        for (
            sub_id,
            token_id,
            name,
            filename,
            status,
            total,
            scores,
            flags,
            created,
            finished,
            version,
            stale,
        ) in result:
            rows.append(
                Row(
                    id=sub_id,
                    token_id=token_id,
                    name=name or "",
                    filename=filename,
                    status=status,
                    total=total if status == "graded" else None,
                    scores=_floats(scores),
                    flags=_flag_codes(flags),
                    created_at=created,
                    finished_at=finished,
                    stale=bool(stale)
                    or (status == "graded" and version < challenge.config.version),
                    similar=similar.get(sub_id),
                )
            )
        _attach_decisions(db, rows)
    attempts: dict[int, int] = {}
    for r in rows:
        attempts[r.token_id] = attempts.get(r.token_id, 0) + 1
    for r in rows:
        r.attempts = attempts[r.token_id]
    return rows


def _floats(value: Any) -> dict[str, float]:
    if not isinstance(value, dict):
        return {}
    return {k: float(v) for k, v in value.items() if isinstance(v, int | float)}


def _flag_codes(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [str(f.get("code", "flag")) for f in value if isinstance(f, dict)]


def _attach_decisions(db: Session, rows: list[Row]) -> None:
    by_id = {r.id: r for r in rows}
    if not by_id:
        return
    reviews = db.scalars(
        select(Review)
        .where(Review.submission_id.in_(list(by_id)))
        .order_by(Review.created_at, Review.id)
    ).all()
    for rv in reviews:
        row = by_id[rv.submission_id]
        if rv.decision is not None:
            row.decision, row.decided_by, row.decided_at = (
                rv.decision,
                rv.author_name,
                rv.created_at,
            )
        if rv.note:
            row.note = rv.note


def one_per_candidate(rows: list[Row], mode: str) -> list[Row]:
    """Each candidate's best graded submission (``best``) or latest graded one (``last``);
    a candidate with none graded is shown by their latest submission."""
    chosen: dict[int, Row] = {}
    for r in rows:
        cur = chosen.get(r.token_id)
        if cur is None or _better(r, cur, mode):
            chosen[r.token_id] = r
    return list(chosen.values())


def _better(new: Row, cur: Row, mode: str) -> bool:
    new_g, cur_g = new.status == "graded", cur.status == "graded"
    if new_g != cur_g:
        return new_g
    if new_g and mode == "best" and new.total != cur.total:
        return (new.total or 0.0) > (cur.total or 0.0)
    return (new.created_at, new.id) > (cur.created_at, cur.id)


def ranked(rows: list[Row]) -> list[Row]:
    """Graded rows get ranks by total (1 is best; ties: the earlier finish)."""
    graded = sorted(
        (r for r in rows if r.status == "graded"),
        key=lambda r: (-(r.total or 0.0), r.finished_at or r.created_at, r.id),
    )
    for i, r in enumerate(graded, start=1):
        r.rank = i
    return rows


def sort_rows(rows: list[Row], key: str, order: str) -> list[Row]:
    """By one score (missing scores last, whatever the order) or by submission time."""
    if key == "submitted":
        return sorted(rows, key=lambda r: (r.created_at, r.id), reverse=order == "desc")
    present = [r for r in rows if r.score(key) is not None]
    missing = [r for r in rows if r.score(key) is None]
    present.sort(key=lambda r: (r.score(key) or 0.0, -(r.rank or 0)), reverse=order == "desc")
    missing.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    return present + missing


def view(
    svc: Services, challenge: Challenge, filters: Filters, similar: dict[str, float]
) -> list[Row]:
    rows = load_rows(svc, challenge, similar)
    if filters.rows == "candidates":
        rows = one_per_candidate(rows, challenge.config.ranking.per_candidate)
    ranked(rows)
    rows = [r for r in rows if filters.keep(r)]
    return sort_rows(rows, filters.sort, filters.order)


def ranked_list(
    svc: Services, challenge: Challenge, *, status: str | None, limit: int, offset: int
) -> RankedList:
    """The API's ranked list with one row per candidate (``rows=candidates``)."""
    rows = ranked(
        one_per_candidate(load_rows(svc, challenge, {}), challenge.config.ranking.per_candidate)
    )
    rows = sort_rows([r for r in rows if status is None or r.status == status], "total", "desc")
    items = [
        RankedItem(
            rank=r.rank,
            id=r.id,
            token_id=r.token_id,
            token_name=r.name,
            status=r.status,  # type: ignore[arg-type]
            total=r.total,
            scores=r.scores or None,
            stale=r.stale,
            challenge_version=r.version,
            created_at=r.created_at,
            finished_at=r.finished_at,
        )
        for r in rows[offset : offset + limit]
    ]
    return RankedList(
        challenge=ChallengeRefOut(slug=challenge.slug, version=challenge.config.version),
        count=len(rows),
        limit=limit,
        offset=offset,
        items=items,
    )


# --- notes and decisions -------------------------------------------------------------------


def add_review(
    db: Session, principal: Principal, submission_id: str, *, decision: str | None, note: str
) -> Review:
    if decision is not None and decision not in DECISIONS:
        raise ApiError(422, "invalid-request", f"decision: one of {', '.join(DECISIONS)}")
    note = note.replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE:
        raise ApiError(422, "invalid-request", f"note: at most {MAX_NOTE} characters")
    if "\0" in note:
        raise ApiError(422, "invalid-request", "note: contains a NUL character")
    if decision is None and not note:
        raise ApiError(422, "invalid-request", "give a decision, a note, or both")
    review = Review(
        submission_id=submission_id,
        decision=decision,
        note=note,
        author_token_id=principal.token_id,
        author_name=principal.name,
        created_at=utcnow(),
    )
    db.add(review)
    db.flush()
    return review


def history(db: Session, submission_id: str) -> list[Review]:
    return list(
        db.scalars(
            select(Review)
            .where(Review.submission_id == submission_id)
            .order_by(Review.created_at.desc(), Review.id.desc())
        ).all()
    )


# --- export --------------------------------------------------------------------------------

CSV_COLUMNS = (
    "rank",
    "submission",
    "candidate",
    "status",
    *SCORE_KEYS,
    "flags",
    "similarity",
    "decision",
    "decided_by",
    "decided_at",
    "note",
    "submitted_at",
    "attempts",
)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


def _score_cell(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def to_csv(rows: list[Row], *, names: dict[int, str]) -> str:
    """The rows as CSV; ``names`` maps token ids to what the candidate column shows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    r.rank,
                    r.id,
                    names.get(r.token_id, r.name),
                    r.status,
                    *(_score_cell(r.score(k)) for k in SCORE_KEYS),
                    " ".join(r.flags),
                    "" if r.similar is None else f"{r.similar:.2f}",
                    r.decision or "",
                    r.decided_by,
                    r.decided_at.isoformat() if r.decided_at else "",
                    r.note,
                    r.created_at.isoformat(),
                    r.attempts,
                )
            ]
        )
    return buf.getvalue()
