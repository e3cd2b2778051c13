"""Reviewers' pages: ranking, filters and sorting, a submission's report and source,
decisions and notes, the audit log, side by side, CSV export, blind review."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import Env, csrf_of, make_env

from api.db import utcnow
from grader.report import Flag, StyleFinding
from grader.report import TestResult as Result


def _ids_in_order(html: str) -> list[str]:
    return re.findall(r'<tr data-id="([0-9a-f]{32})">', html)


def _names_in_order(html: str) -> list[str]:
    return re.findall(r'<a href="/ui/submissions/[0-9a-f]{32}">([^<]+)</a>', html)


@pytest.fixture
def people(env: Env) -> dict[str, int]:
    return {n: env.token("candidate", n)[0] for n in ("ann", "bob", "cat")}


def test_challenges_page_counts_submissions_and_candidates(
    env: Env, people: dict[str, int]
) -> None:
    env.submission(people["ann"], total=40)
    env.submission(people["ann"], total=60)
    env.submission(people["bob"], status="queued", total=None)
    html = env.reviewer().get("/ui/challenges").text
    row = re.search(r'href="/ui/challenges/words">Top words</a>.*?</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(\d+)</td>', row.group(0))
    assert cells == ["1", "3", "2", "2", "0"]  # version, submissions, candidates, graded, flagged


def test_the_ranking_shows_one_row_per_candidate_their_best(
    env: Env, people: dict[str, int]
) -> None:
    old = utcnow() - timedelta(hours=2)
    ann_best = env.submission(people["ann"], total=90, when=old)
    for t in (88, 87, 86, 85):  # the resubmissions that used to crowd the top
        env.submission(people["ann"], total=t)
    bob = env.submission(people["bob"], total=70)
    cat = env.submission(people["cat"], status="queued", total=None)
    c = env.reviewer()
    html = c.get("/ui/challenges/words").text
    assert _ids_in_order(html) == [ann_best, bob, cat]
    assert ">5</td>" in html  # ann's attempts
    every = _ids_in_order(c.get("/ui/challenges/words?rows=all").text)
    assert len(every) == 7 and every[0] == ann_best


def test_the_ranking_can_show_each_candidates_last_submission(tmp_path: Path) -> None:
    for env in make_env(tmp_path, toml_extra='[ranking]\nper_candidate = "last"\n'):
        ann = env.token("candidate", "ann")[0]
        env.submission(ann, total=90, when=utcnow() - timedelta(hours=1))
        last = env.submission(ann, total=10)
        assert _ids_in_order(env.reviewer().get("/ui/challenges/words").text) == [last]


def test_filters_by_status_score_flag_and_decision(env: Env, people: dict[str, int]) -> None:
    low = env.submission(people["ann"], total=20)
    flagged = env.submission(
        people["bob"], total=75, flags=[Flag(code="tamper-suspect", message="imports _pytest")]
    )
    broken = env.submission(people["cat"], status="error", total=None)
    c = env.reviewer()
    assert _ids_in_order(c.get("/ui/challenges/words?status=error").text) == [broken]
    assert _ids_in_order(c.get("/ui/challenges/words?min=50&max=80").text) == [flagged]
    assert _ids_in_order(c.get("/ui/challenges/words?flag=tamper").text) == [flagged]
    assert set(_ids_in_order(c.get("/ui/challenges/words?flag=none").text)) == {low, broken}
    csrf = csrf_of(c.get(f"/ui/submissions/{low}").text)
    c.post(f"/ui/submissions/{low}/review", data={"csrf": csrf, "decision": "reject"})
    assert _ids_in_order(c.get("/ui/challenges/words?decision=reject").text) == [low]
    assert low not in _ids_in_order(c.get("/ui/challenges/words?decision=none").text)
    odd = c.get("/ui/challenges/words?status=bogus&min=abc")
    assert odd.status_code == 200 and "Ignored" in odd.text
    assert len(_ids_in_order(odd.text)) == 3


def test_sorting_by_each_score_both_ways(env: Env, people: dict[str, int]) -> None:
    a = env.submission(people["ann"], total=90, scores={"style": 10.0, "docs": 90.0})
    b = env.submission(people["bob"], total=50, scores={"style": 95.0, "docs": 20.0})
    q = env.submission(people["cat"], status="queued", total=None)
    c = env.reviewer()
    assert _ids_in_order(c.get("/ui/challenges/words").text) == [a, b, q]
    assert _ids_in_order(c.get("/ui/challenges/words?sort=style").text) == [b, a, q]
    assert _ids_in_order(c.get("/ui/challenges/words?sort=style&order=asc").text) == [a, b, q]
    assert _ids_in_order(c.get("/ui/challenges/words?sort=docs").text) == [a, b, q]
    assert _ids_in_order(c.get("/ui/challenges/words?sort=total&order=asc").text) == [b, a, q]
    html = c.get("/ui/challenges/words?sort=style").text
    assert 'href="?sort=style&amp;order=asc"' in html  # the heading link turns the order


def test_a_submission_page_has_flags_on_top_then_report_and_highlighted_source(
    env: Env, people: dict[str, int]
) -> None:
    code = 'def top_words(text, n):\n    """Docs."""\n    l = 1\n    return []\n'
    sub = env.submission(
        people["ann"],
        total=61.5,
        files={"words.py": code},
        flags=[Flag(code="tamper-suspect", message="reaches for pytest internals")],
        tests=[
            Result(
                id="tests/hidden/test_h.py::test_secret",
                visibility="hidden",
                weight=2,
                outcome="failed",
                message="AssertionError: 3 != 4",
            )
        ],
        findings=[
            StyleFinding(
                file="words.py",
                line=3,
                column=5,
                code="E741",
                message="Ambiguous variable name: `l`",
            )
        ],
    )
    html = env.reviewer().get(f"/ui/submissions/{sub}").text
    assert html.index('id="flags"') < html.index('id="tests"') < html.index('id="sources"')
    assert "reaches for pytest internals" in html and ">61.5<" in html
    assert "tests/hidden/test_h.py::test_secret" in html and "AssertionError: 3 != 4" in html
    line3 = re.search(r'<li id="s0-L3" class=" note">(.*?)</li>', html, re.S)
    assert line3 is not None and "E741 (col 5): Ambiguous variable name" in line3.group(1)
    line1 = re.search(r'<li id="s0-L1"[^>]*>(.*?)</li>', html, re.S)
    assert line1 is not None and '<span class="k">def</span>' in line1.group(1)
    assert '<span class="nf">top_words</span>' in line1.group(1)


def test_a_decision_and_a_note_are_stored_with_author_and_time_and_audited(
    env: Env, people: dict[str, int]
) -> None:
    sub = env.submission(people["ann"], total=80)
    c = env.reviewer("rita")
    page = c.get(f"/ui/submissions/{sub}")
    assert 'id="current-decision">none yet' in page.text
    resp = c.post(
        f"/ui/submissions/{sub}/review",
        data={
            "csrf": csrf_of(page.text),
            "decision": "advance",
            "note": "clean code,\nstrong tests",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303
    page = c.get(f"/ui/submissions/{sub}").text
    assert re.search(
        r'id="current-decision">advance</strong>\s*<span class="meta">by rita at '
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC",
        page,
    )
    assert "clean code,\nstrong tests" in page
    c.post(f"/ui/submissions/{sub}/review", data={"csrf": csrf_of(page), "note": "2nd look"})
    page = c.get(f"/ui/submissions/{sub}").text
    assert 'id="current-decision">advance' in page  # a note alone keeps the decision
    assert page.index("2nd look") < page.index("strong tests")  # newest first
    bad = c.post(f"/ui/submissions/{sub}/review", data={"csrf": csrf_of(page), "decision": "hire"})
    assert bad.status_code == 422
    empty = c.post(f"/ui/submissions/{sub}/review", data={"csrf": csrf_of(page)})
    assert empty.status_code == 422
    audit = c.get("/ui/audit").text
    assert audit.count(">decision<") == 1 and audit.count(">note<") == 1
    assert f'/ui/submissions/{sub}"' in audit and ">rita<" in audit


def test_regrade_buttons_queue_the_submission_again(env: Env, people: dict[str, int]) -> None:
    sub = env.submission(people["ann"], total=80)
    c = env.reviewer()
    csrf = csrf_of(c.get(f"/ui/submissions/{sub}").text)
    resp = c.post(f"/ui/submissions/{sub}/regrade", data={"csrf": csrf}, follow_redirects=False)
    assert resp.status_code == 303
    page = c.get(f"/ui/submissions/{sub}").text
    assert "status <strong>queued</strong>" in page and 'id="regrade" disabled' in page
    assert ">regrade<" in c.get("/ui/audit").text


def test_compare_shows_scores_tests_that_differ_and_a_source_diff(
    env: Env, people: dict[str, int]
) -> None:
    tests_a = [
        Result(id="t::one", visibility="public", weight=1, outcome="passed"),
        Result(id="t::two", visibility="hidden", weight=1, outcome="failed"),
    ]
    tests_b = [
        Result(id="t::one", visibility="public", weight=1, outcome="passed"),
        Result(id="t::two", visibility="hidden", weight=1, outcome="passed"),
    ]
    a = env.submission(people["ann"], total=50, tests=tests_a, files={"words.py": "a = 1\nb = 2\n"})
    b = env.submission(
        people["bob"], total=75.5, tests=tests_b, files={"words.py": "a = 1\nb = 3\n"}
    )
    c = env.reviewer()
    ranking = c.get("/ui/challenges/words").text
    assert 'action="/ui/compare"' in ranking and f'name="id" value="{a}"' in ranking
    html = c.get(f"/ui/compare?id={a}&id={b}").text
    assert "+25.5" in html
    differing = re.search(r'<table id="differing">.*?</table>', html, re.S)
    assert differing is not None
    assert "t::two" in differing.group(0) and "t::one" not in differing.group(0)
    assert '<div class="del">-b = 2</div>' in html and '<div class="add">+b = 3</div>' in html
    assert c.get(f"/ui/compare?id={a}").status_code == 422
    assert c.get(f"/ui/compare?a={a}&b={'0' * 32}").status_code == 404


def test_csv_export_has_scores_flags_and_decisions_and_defuses_formulas(
    env: Env, people: dict[str, int]
) -> None:
    a = env.submission(people["ann"], total=90, flags=[Flag(code="tamper-suspect", message="x")])
    env.submission(people["bob"], total=40)
    c = env.reviewer("rita")
    csrf = csrf_of(c.get(f"/ui/submissions/{a}").text)
    c.post(
        f"/ui/submissions/{a}/review",
        data={"csrf": csrf, "decision": "hold", "note": '=HYPERLINK("http://x")'},
    )
    resp = c.get("/ui/challenges/words/export.csv")
    assert resp.headers["content-type"].startswith("text/csv")
    assert 'filename="words-submissions.csv"' in resp.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["candidate"] for r in rows] == ["ann", "bob"]
    first = rows[0]
    assert first["rank"] == "1" and first["total"] == "90.0" and first["style"] == "80.0"
    assert first["flags"] == "tamper-suspect" and first["decision"] == "hold"
    assert first["decided_by"] == "rita" and first["note"].startswith("'=HYPERLINK")
    filtered = c.get("/ui/challenges/words/export.csv?decision=hold").text
    assert len(list(csv.DictReader(io.StringIO(filtered)))) == 1
    assert ">export<" in c.get("/ui/audit").text


def test_blind_review_hides_names_and_shuffles_the_order(env: Env) -> None:
    ids = []
    for i in range(12):
        token_id, _ = env.token("candidate", f"person{i:02d}")
        ids.append(env.submission(token_id, total=90 - i))
    c = env.reviewer()
    ranked = _ids_in_order(c.get("/ui/challenges/words").text)
    assert ranked == ids
    page = c.get("/ui/challenges/words")
    c.post("/ui/blind", data={"csrf": csrf_of(page.text), "back": "/ui/challenges/words"})
    blind = c.get("/ui/challenges/words").text
    assert 'aria-pressed="true"' in blind
    assert "person" not in blind
    names = _names_in_order(blind)
    assert all(n.startswith("Candidate ") for n in names) and len(set(names)) == 12
    order = _ids_in_order(blind)
    assert sorted(order) == sorted(ids) and order != ids
    assert _ids_in_order(c.get("/ui/challenges/words").text) == order  # stable per session
    assert _ids_in_order(c.get("/ui/challenges/words?sort=total").text) == ids
    for path in (
        f"/ui/submissions/{ids[0]}",
        f"/ui/compare?a={ids[0]}&b={ids[1]}",
        "/ui/challenges/words/export.csv",
        "/ui/challenges/words/similarity",
    ):
        assert "person" not in c.get(path).text, path
    page = c.get("/ui/challenges/words")
    c.post("/ui/blind", data={"csrf": csrf_of(page.text), "back": "/ui/challenges/words"})
    assert "person00" in c.get("/ui/challenges/words").text
    audit = c.get("/ui/audit").text
    assert ">blind-on<" in audit and ">blind-off<" in audit


def test_the_api_ranking_can_show_one_row_per_candidate(env: Env, people: dict[str, int]) -> None:
    best = env.submission(people["ann"], total=90, when=utcnow() - timedelta(hours=1))
    for t in (89, 88, 87):
        env.submission(people["ann"], total=t)
    bob = env.submission(people["bob"], total=60)
    _, reviewer = env.token("reviewer", "rita")
    api = env.bearer(reviewer)
    every = api.get("/v1/challenges/words/submissions").json()
    assert every["count"] == 5
    listing = api.get("/v1/challenges/words/submissions?rows=candidates").json()
    assert listing["count"] == 2
    assert [(i["id"], i["rank"], i["token_name"]) for i in listing["items"]] == [
        (best, 1, "ann"),
        (bob, 2, "bob"),
    ]
    assert listing["items"][0]["scores"]["style"] == 80.0
    page = api.get("/v1/challenges/words/submissions?rows=candidates&limit=1&offset=1").json()
    assert [i["id"] for i in page["items"]] == [bob]
