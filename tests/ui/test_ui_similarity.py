"""Similarity in the service: the worker indexes each graded submission against the
challenge's earlier ones; reviewers see pairs in the API and on pages; candidates never."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest
from conftest import Env, csrf_of
from similarity_corpus import GO, PYTHON, corpus, disguise, starter_files
from sqlalchemy import func, select

from api import grading
from api import similarity as simi
from api.models import SimilarityIndex, SimilarityPair, Submission
from grader.report import ChallengeRef, Report, Scores, SubmissionRef

SAMPLES = {s.name: s.text for s in corpus(PYTHON)}
ORIG, COPY = SAMPLES["python-f0-orig"], SAMPLES["python-f0-copy0"]
OTHER = SAMPLES["python-f3-orig"]


def _pairs(env: Env) -> list[tuple[str, str, float]]:
    with env.svc.session() as db:
        return [(p.a_id, p.b_id, p.score) for p in db.scalars(select(SimilarityPair))]


@pytest.fixture
def trio(env: Env) -> dict[str, str]:
    """ann wrote an original, bob a disguised copy of it, cat her own; ann resubmitted."""
    ids = {}
    for who, text in (("ann", ORIG), ("bob", COPY), ("cat", OTHER)):
        token_id, _ = env.token("candidate", who)
        ids[who] = env.submission(token_id, total=70, files={"words.py": text})
        if who == "ann":
            ids["ann2"] = env.submission(token_id, total=75, files={"words.py": ORIG + "\n"})
    for sub_id in ids.values():
        simi.index_submission(env.svc, sub_id)
    return ids


def test_a_copy_is_paired_across_candidates_but_resubmissions_are_not(
    env: Env, trio: dict[str, str]
) -> None:
    pairs = {frozenset((a, b)): s for a, b, s in _pairs(env)}
    threshold = 0.4
    assert pairs[frozenset((trio["ann"], trio["bob"]))] >= threshold
    assert pairs[frozenset((trio["ann2"], trio["bob"]))] >= threshold
    assert frozenset((trio["ann"], trio["ann2"])) not in pairs  # one candidate's own
    assert all(s < threshold for k, s in pairs.items() if trio["cat"] in k)
    assert all(a < b for a, b, _ in _pairs(env))
    assert simi.index_submission(env.svc, trio["bob"]) == 0  # indexed once


def test_the_starter_alone_makes_no_pair(env: Env) -> None:
    starter = starter_files(PYTHON)["starter/words.py"]
    for who in ("ann", "bob"):
        token_id, _ = env.token("candidate", who)
        simi.index_submission(env.svc, env.submission(token_id, files={"words.py": starter}))
    assert _pairs(env) == []


def test_submissions_of_older_challenge_versions_are_compared_too(env: Env) -> None:
    ann, _ = env.token("candidate", "ann")
    bob, _ = env.token("candidate", "bob")
    old = env.submission(ann, files={"words.py": ORIG}, version=0)
    new = env.submission(bob, files={"words.py": COPY}, version=1)
    simi.index_submission(env.svc, old)
    assert simi.index_submission(env.svc, new) == 1


def test_every_language_is_fingerprinted_by_its_file_names(env: Env) -> None:
    rng = random.Random(4)
    units = GO.families[2]
    ann, _ = env.token("candidate", "ann")
    bob, _ = env.token("candidate", "bob")
    a = env.submission(ann, files={"lib/words.go": disguise(GO, units, rng), "README.md": "x"})
    b = env.submission(bob, files={"lib/words.go": disguise(GO, units, rng)})
    simi.index_submission(env.svc, a)
    simi.index_submission(env.svc, b)
    [(_, _, score)] = _pairs(env)
    assert score >= 0.4
    with env.svc.session() as db:
        data = db.get(SimilarityIndex, a)
        assert data is not None and data.data["files"] == ["lib/words.go"]


def test_the_api_lists_pairs_highest_first_for_reviewers_only(
    env: Env, trio: dict[str, str]
) -> None:
    _, reviewer = env.token("reviewer", "rita")
    body = env.bearer(reviewer).get("/v1/challenges/words/similarity").json()
    assert body["threshold"] == 0.4
    scores = [p["score"] for p in body["pairs"]]
    assert scores == sorted(scores, reverse=True) and scores[0] >= 0.4
    top = body["pairs"][0]
    assert {top["a"], top["b"]} <= {trio["ann"], trio["ann2"], trio["bob"]}
    region = top["regions"][0]
    assert set(region) == {"a", "b"} and region["a"]["file"] == "words.py"
    assert 1 <= region["a"]["start"] <= region["a"]["end"]
    high = env.bearer(reviewer).get("/v1/challenges/words/similarity?min_score=0.99").json()
    assert all(p["score"] >= 0.99 for p in high["pairs"])
    _, candidate = env.token("candidate", "x")
    assert env.bearer(candidate).get("/v1/challenges/words/similarity").status_code == 403
    assert env.bearer(reviewer).get("/v1/challenges/nope/similarity").status_code == 404


def test_pairs_above_the_threshold_are_flagged_on_both_pages_and_the_ranking(
    env: Env, trio: dict[str, str]
) -> None:
    c = env.reviewer()
    for who in ("ann", "bob"):
        page = c.get(f"/ui/submissions/{trio[who]}").text
        assert 'id="similar-flags"' in page
        assert page.index('id="similar-flags"') < page.index('id="tests"')
    assert 'id="similar-flags"' not in c.get(f"/ui/submissions/{trio['cat']}").text
    ranking = c.get("/ui/challenges/words?flag=similar").text
    flagged = set(re.findall(r'<tr data-id="([0-9a-f]{32})">', ranking))
    assert flagged == {trio["ann2"], trio["bob"]}  # ann's best row, and bob
    assert "alike 0." in ranking


def test_the_pair_page_highlights_the_matching_regions_on_both_sides(
    env: Env, trio: dict[str, str]
) -> None:
    a, b = sorted((trio["ann"], trio["bob"]))
    c = env.reviewer()
    html = c.get(f"/ui/similarity/{a}/{b}").text
    assert re.search(r"Similarity 0\.\d\d", html)
    hits_a = re.findall(r'<li id="a0-L(\d+)" class="hit', html)
    hits_b = re.findall(r'<li id="b0-L(\d+)" class="hit', html)
    assert len(hits_a) >= 5 and len(hits_b) >= 5
    swapped = c.get(f"/ui/similarity/{b}/{a}", follow_redirects=False)
    assert swapped.status_code == 303 and swapped.headers["location"].endswith(f"/{a}/{b}")
    listing = c.get("/ui/challenges/words/similarity").text
    assert f"/ui/similarity/{a}/{b}" in listing


def test_a_backfill_indexes_what_was_graded_before(env: Env) -> None:
    ids = []
    for who, text in (("ann", ORIG), ("bob", COPY)):
        token_id, _ = env.token("candidate", who)
        ids.append(env.submission(token_id, files={"words.py": text}))
    c = env.reviewer()
    page = c.get("/ui/challenges/words/similarity").text
    assert "No pairs yet" in page
    c.post("/ui/challenges/words/similarity/index", data={"csrf": csrf_of(page)})
    assert len(_pairs(env)) == 1
    assert ">index-similarity<" in c.get("/ui/audit").text


def _graded_by_the_worker(env: Env, monkeypatch: pytest.MonkeyPatch, text: str, who: str) -> str:
    token_id, _ = env.token("candidate", who)
    sub_id = env.submission(token_id, status="queued", total=None, files={"words.py": text})

    def fake_run(svc: Any, claim: grading.Claim) -> Report:
        return Report(
            challenge=ChallengeRef(slug=claim.slug, version=1),
            submission=SubmissionRef(id=claim.id, sha256=claim.sha256),
            scores=Scores(total=50.0),
        )

    monkeypatch.setattr(grading, "_run", fake_run)
    assert grading.grade_submission(env.svc, sub_id, worker="test") == "graded"
    return sub_id


def test_the_worker_indexes_each_graded_submission(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _graded_by_the_worker(env, monkeypatch, ORIG, "ann")
    second = _graded_by_the_worker(env, monkeypatch, COPY, "bob")
    with env.svc.session() as db:
        assert db.scalar(select(func.count()).select_from(SimilarityIndex)) == 2
    [(a, b, score)] = _pairs(env)
    assert {a, b} == {first, second} and score >= 0.4


def test_a_failure_in_similarity_never_fails_the_grading(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(simi.sim, "fingerprint_files", broken)
    sub_id = _graded_by_the_worker(env, monkeypatch, ORIG, "ann")
    with env.svc.session() as db:
        row = db.get(Submission, sub_id)
        assert row is not None and row.status == "graded"
        assert db.get(SimilarityIndex, sub_id) is None
