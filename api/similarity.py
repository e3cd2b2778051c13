"""Similarity in the service: index a graded submission and compare it with the challenge's
earlier ones (all versions), incrementally; the method is ``grader.similarity``.

The worker calls :func:`index_quietly` after storing a graded report. A submission is
fingerprinted once (its fingerprints are kept in ``similarity_index``), then compared with
every indexed submission of the same challenge from *other* tokens (a candidate's own
resubmissions are not copies). Pairs scoring at least :data:`STORE_FLOOR` are kept in
``similarity_pairs`` with their matching regions; lower ones are noise and are dropped.
Fingerprints are stored first and pairs after, so two submissions indexed at the same time
still meet: the later of the two sees the earlier's fingerprints.
"""

from __future__ import annotations

import tempfile
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from api.challenges import find
from api.db import utcnow
from api.models import SimilarityIndex, SimilarityPair, Submission
from api.services import Services
from api.storage import ArchiveStore
from grader import similarity as sim
from grader.challenge import Challenge
from grader.errors import SubmissionError
from grader.submission import open_submission

log = structlog.get_logger("grader.similarity")

STORE_FLOOR = 0.1


@dataclass(frozen=True)
class PairOut:
    a: str
    b: str
    score: float
    regions: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "score": round(self.score, 4), "regions": self.regions}


def _fingerprint(svc: Services, row: Submission) -> sim.Fingerprints | None:
    archive = ArchiveStore(svc.settings.data_dir).path(row.sha256)
    if not archive.is_file():
        return None
    with tempfile.TemporaryDirectory(prefix="grader-similarity-") as tmp:
        try:
            sub = open_submission(archive, tmp, svc.settings.upload_limits(), filename=row.filename)
        except SubmissionError:
            return None
        return sim.fingerprint_files(sim.read_sources(sub.root))


def index_submission(
    svc: Services, submission_id: str, *, base: frozenset[int] | None = None
) -> int:
    """Fingerprint one graded submission and store its pairs; returns the pairs stored.
    Idempotent: an indexed submission is not indexed again."""
    params = sim.DEFAULT_PARAMS
    with svc.session() as db:
        row = db.get(Submission, submission_id)
        if row is None or row.status != "graded":
            return 0
        done = db.get(SimilarityIndex, submission_id)
        if done is not None and done.tag == params.tag:
            return 0
    challenge = find(svc.settings.challenges_dir, row.challenge_slug)
    if challenge is None or not challenge.config.similarity.enabled:
        return 0
    prints = _fingerprint(svc, row)
    if prints is None:
        return 0
    with svc.session() as db:
        done = db.get(SimilarityIndex, submission_id)
        if done is None:
            db.add(
                SimilarityIndex(
                    submission_id=row.id,
                    challenge_slug=row.challenge_slug,
                    token_id=row.token_id,
                    tag=params.tag,
                    hashes=sorted(prints.hashes()),
                    data=prints.to_json(),
                    created_at=utcnow(),
                )
            )
        else:
            done.tag, done.hashes, done.data = params.tag, sorted(prints.hashes()), prints.to_json()
    if base is None:
        base = sim.base_of(challenge.root, params)
    return _compare_with_earlier(svc, row, prints, base)


def _compare_with_earlier(
    svc: Services, row: Submission, prints: sim.Fingerprints, base: frozenset[int]
) -> int:
    params = sim.DEFAULT_PARAMS
    with svc.session() as db:
        others = db.execute(
            select(SimilarityIndex.submission_id, SimilarityIndex.hashes).where(
                SimilarityIndex.challenge_slug == row.challenge_slug,
                SimilarityIndex.submission_id != row.id,
                SimilarityIndex.token_id != row.token_id,
                SimilarityIndex.tag == params.tag,
            )
        ).all()
        known = {
            (a, b)
            for a, b in db.execute(
                select(SimilarityPair.a_id, SimilarityPair.b_id).where(
                    or_(SimilarityPair.a_id == row.id, SimilarityPair.b_id == row.id)
                )
            )
        }
    own = prints.hashes() - base
    kept: dict[str, tuple[float, AbstractSet[int]]] = {}
    for other_id, hashes in others:
        first, second = sorted((row.id, other_id))
        if (first, second) in known:
            continue
        # Most pairs score low: decide on the hash sets, build regions only for pairs kept.
        score, shared = sim.score_sets(own, set(hashes) - base, params)
        if score >= STORE_FLOOR:
            kept[other_id] = (score, shared)
    with svc.session() as db:
        details: dict[str, dict[str, Any]] = dict(
            db.execute(
                select(SimilarityIndex.submission_id, SimilarityIndex.data).where(
                    SimilarityIndex.submission_id.in_(list(kept))
                )
            ).all()
        )
    new_pairs = []
    for other_id, (score, shared) in kept.items():
        first, second = sorted((row.id, other_id))
        other = sim.Fingerprints.from_json(details[other_id])
        a, b = (prints, other) if first == row.id else (other, prints)
        new_pairs.append(
            SimilarityPair(
                challenge_slug=row.challenge_slug,
                a_id=first,
                b_id=second,
                score=score,
                regions=[r.to_json() for r in sim.regions(a, b, shared)],
                created_at=utcnow(),
            )
        )
    try:
        with svc.session() as db:
            db.add_all(new_pairs)
        return len(new_pairs)
    except IntegrityError:
        pass  # a pair was stored meanwhile by the other side: store the rest one by one
    stored = 0
    for pair in new_pairs:
        try:
            with svc.session() as db:
                db.merge(pair)
            stored += 1
        except IntegrityError:
            continue
    return stored


def index_quietly(svc: Services, submission_id: str) -> None:
    """The worker's hook: similarity never fails a grading."""
    try:
        stored = index_submission(svc, submission_id)
        log.info("similarity indexed", submission_id=submission_id, pairs=stored)
    except Exception as exc:  # noqa: BLE001 - any failure here is logged, grading stands
        log.warning(
            "similarity indexing failed",
            submission_id=submission_id,
            error=f"{type(exc).__name__}: {exc}",
        )


def index_challenge(svc: Services, challenge: Challenge) -> int:
    """Index every graded, not yet indexed submission of a challenge, oldest first (for
    submissions graded before similarity existed); returns how many were indexed."""
    with svc.session() as db:
        ids = db.scalars(
            select(Submission.id)
            .outerjoin(SimilarityIndex, SimilarityIndex.submission_id == Submission.id)
            .where(
                Submission.challenge_slug == challenge.slug,
                Submission.status == "graded",
                SimilarityIndex.submission_id.is_(None),
            )
            .order_by(Submission.created_at, Submission.id)
        ).all()
    base = sim.base_of(challenge.root)
    for sub_id in ids:
        index_submission(svc, sub_id, base=base)
    return len(ids)


def pairs(
    svc: Services,
    slug: str,
    *,
    min_score: float = 0.0,
    limit: int = 500,
    submission_id: str | None = None,
) -> list[PairOut]:
    """A challenge's stored pairs, highest first (optionally those of one submission)."""
    with svc.session() as db:
        query = select(SimilarityPair).where(
            SimilarityPair.challenge_slug == slug, SimilarityPair.score >= min_score
        )
        if submission_id is not None:
            query = query.where(
                or_(SimilarityPair.a_id == submission_id, SimilarityPair.b_id == submission_id)
            )
        rows = db.scalars(
            query.order_by(
                SimilarityPair.score.desc(), SimilarityPair.a_id, SimilarityPair.b_id
            ).limit(limit)
        ).all()
        return [PairOut(r.a_id, r.b_id, r.score, list(r.regions)) for r in rows]


def pair(svc: Services, a_id: str, b_id: str) -> PairOut | None:
    first, second = sorted((a_id, b_id))
    with svc.session() as db:
        row = db.scalar(
            select(SimilarityPair).where(
                SimilarityPair.a_id == first, SimilarityPair.b_id == second
            )
        )
        return None if row is None else PairOut(row.a_id, row.b_id, row.score, list(row.regions))


def flagged_ids(svc: Services, challenge: Challenge) -> dict[str, float]:
    """Submissions in a pair at or above the challenge's threshold, with their best score."""
    out: dict[str, float] = {}
    for p in pairs(
        svc, challenge.slug, min_score=challenge.config.similarity.threshold, limit=100_000
    ):
        for sub_id in (p.a, p.b):
            out[sub_id] = max(out.get(sub_id, 0.0), p.score)
    return out
