"""The UI in a real browser: Debian's Chromium driven by Playwright against a real uvicorn.

A reviewer signs in, browses a ranked list, filters and sorts it, compares two submissions,
reads a report and the similarity between two, records a decision, exports CSV, turns blind
review on, and invites a candidate, who opens the link and uploads from the page. Every page
is checked at 1280 px and 390 px wide, with axe-core's accessibility rules (labels,
headings, contrast, ...) and with no console error (a CSP violation is one).
"""

from __future__ import annotations

import csv
import io
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Env, make_env
from similarity_corpus import PYTHON, corpus

from api import similarity as simi
from grader.report import Flag, StyleFinding
from grader.report import TestResult as Result

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDTHS = (1280, 390)


class Server:
    """uvicorn serving the app on a free loopback port, in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False)
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "uvicorn did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Env, dict[str, str], str]]:
    for env in make_env(tmp_path):
        samples = {s.name: s.text for s in corpus(PYTHON)}
        ids: dict[str, str] = {}
        people = {
            n: env.token("candidate", n)[0]
            for n in ("Ann Archer", "Bo <b>Brown</b>", "Cy Cole", "Di Dunn")
        }
        ids["ann"] = env.submission(
            people["Ann Archer"],
            total=91.5,
            files={"words.py": samples["python-f0-orig"]},
            findings=[
                StyleFinding(
                    file="words.py",
                    line=9,
                    column=5,
                    code="E501",
                    message="Line too long (120 > 100)",
                )
            ],
            tests=[
                Result(
                    id="tests/public/test_words.py::test_one",
                    visibility="public",
                    weight=1,
                    outcome="passed",
                ),
                Result(
                    id="tests/hidden/test_h.py::test_ties",
                    visibility="hidden",
                    weight=2,
                    outcome="passed",
                ),
            ],
        )
        for total in (90.0, 89.0, 88.5):
            env.submission(
                people["Ann Archer"], total=total, files={"words.py": samples["python-f0-orig"]}
            )
        ids["bob"] = env.submission(
            people["Bo <b>Brown</b>"],
            total=72.0,
            files={"words.py": samples["python-f0-copy0"] + "\n# <script>alert(1)</script>\n"},
            flags=[Flag(code="tamper-suspect", message="imports _pytest internals")],
            tests=[
                Result(
                    id="tests/public/test_words.py::test_one",
                    visibility="public",
                    weight=1,
                    outcome="passed",
                ),
                Result(
                    id="tests/hidden/test_h.py::test_ties",
                    visibility="hidden",
                    weight=2,
                    outcome="failed",
                    message="assert [('a', 2)] == []",
                ),
            ],
        )
        ids["cy"] = env.submission(
            people["Cy Cole"], total=55.0, files={"words.py": samples["python-f3-orig"]}
        )
        ids["di"] = env.submission(people["Di Dunn"], status="queued", total=None)
        for sub_id in (ids["ann"], ids["bob"], ids["cy"]):
            simi.index_submission(env.svc, sub_id)
        _, secret = env.token("reviewer", "Rita Reviewer")
        yield env, ids, secret


class Browser:
    """One Chromium, its pages' console errors, and the checks every page passes."""

    def __init__(self, playwright: Any, base: str) -> None:
        self.base = base
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        self.errors: list[str] = []

    def context(self) -> Any:
        ctx = self.browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        ctx.on("page", self._watch)
        return ctx

    def _watch(self, page: Any) -> None:
        page.on(
            "console",
            lambda msg: msg.type == "error" and self.errors.append(f"{page.url}: {msg.text}"),
        )
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))

    def check(self, page: Any) -> None:
        """axe-core at both widths, and no sideways scrolling of the page itself."""
        from axe_playwright_python.sync_playwright import Axe

        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            results = Axe().run(
                page,
                options={
                    "runOnly": {
                        "type": "tag",
                        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
                    }
                },
            )
            assert results.violations_count == 0, (page.url, width, results.generate_report())
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, (page.url, width, overflow)
            assert page.locator("h1").first.is_visible()
        page.set_viewport_size({"width": 1280, "height": 900})

    def close(self) -> None:
        self.browser.close()


@pytest.fixture
def browser(
    seeded: tuple[Env, dict[str, str], str],
) -> Iterator[tuple[Browser, Env, dict[str, str], str]]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (scripts/setup.sh)")
    from playwright.sync_api import sync_playwright

    env, ids, secret = seeded
    with Server(env.app) as base, sync_playwright() as pw:
        b = Browser(pw, base)
        try:
            yield b, env, ids, secret
        finally:
            b.close()
    assert shutil.which("chromium") is not None


def test_a_reviewer_goes_from_sign_in_to_a_decision_and_an_export(
    browser: tuple[Browser, Env, dict[str, str], str], tmp_path: Path
) -> None:
    b, env, ids, secret = browser
    page = b.context().new_page()

    page.goto(f"{b.base}/ui/challenges/words")
    assert "/ui/sign-in" in page.url
    b.check(page)
    page.get_by_label("Token").fill(secret)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/challenges/words")

    # The ranking: one row per candidate, the best first, the queued one last.
    rows = page.locator("#ranking-table tbody tr")
    assert rows.count() == 4
    assert rows.nth(0).get_attribute("data-id") == ids["ann"]
    assert "Bo <b>Brown</b>" in rows.nth(1).inner_text()  # a name is text, not markup
    assert "tamper-suspect" in rows.nth(1).inner_text()
    b.check(page)

    # Filter and sort with the form.
    page.get_by_label("Sort by").select_option("style")
    page.get_by_label("Order").select_option("asc")
    page.get_by_label("Flags").select_option("tamper")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**sort=style**")
    assert page.locator("#ranking-table tbody tr").count() == 1
    page.goto(f"{b.base}/ui/challenges/words")

    # Compare two side by side.
    page.get_by_label("Select Ann Archer").check()
    page.get_by_label("Select Bo <b>Brown</b>").check()
    page.get_by_role("button", name="Compare the two selected").click()
    page.wait_for_url("**/ui/compare?**")
    assert "tests/hidden/test_h.py::test_ties" in page.locator("#differing").inner_text()
    assert page.locator(".diff .add").count() > 0
    b.check(page)

    # The similarity of the pair, regions highlighted on both sides.
    page.get_by_role("link", name="matching regions").click()
    page.wait_for_url("**/ui/similarity/**")
    assert page.locator(".sides li.hit").count() >= 10
    b.check(page)

    # A submission: flags on top, the report, the source; record a decision.
    page.goto(f"{b.base}/ui/submissions/{ids['bob']}")
    assert page.locator("#flags").is_visible() and page.locator("#similar-flags").is_visible()
    assert "<script>alert(1)</script>" in page.locator("#sources").inner_text()
    b.check(page)
    page.goto(f"{b.base}/ui/submissions/{ids['ann']}")
    assert "E501" in page.locator("#s0-L9").inner_text()
    page.get_by_label("advance").check()
    page.get_by_label("Note (for reviewers only)").fill("Strong tests; talk about heaps.")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"**/ui/submissions/{ids['ann']}#review")
    assert page.locator("#current-decision").inner_text() == "advance"
    assert "Strong tests" in page.locator("#history").inner_text()
    b.check(page)

    # Back on the ranking, filter by the decision, then export what is shown.
    page.goto(f"{b.base}/ui/challenges/words?decision=advance")
    assert page.locator("#ranking-table tbody tr").count() == 1
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    target = tmp_path / "export.csv"
    info.value.save_as(target)
    exported = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [(r["candidate"], r["decision"], r["decided_by"]) for r in exported] == [
        ("Ann Archer", "advance", "Rita Reviewer")
    ]

    # Blind review hides the names and shuffles.
    page.goto(f"{b.base}/ui/challenges/words")
    page.get_by_role("button", name="Blind review: off").click()
    page.wait_for_load_state()
    text = page.locator("#ranking-table").inner_text()
    assert "Ann Archer" not in text and "Candidate " in text
    b.check(page)

    for path in ("/ui/challenges", "/ui/challenges/words/similarity", "/ui/audit"):
        page.goto(b.base + path)
        b.check(page)
    assert "decision" in page.locator("#audit").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/ui/sign-in")
    assert b.errors == []


def test_a_candidate_opens_an_invitation_and_uploads_from_the_page(
    browser: tuple[Browser, Env, dict[str, str], str], tmp_path: Path
) -> None:
    b, env, _, secret = browser
    reviewer = b.context().new_page()
    reviewer.goto(f"{b.base}/ui/sign-in")
    reviewer.get_by_label("Token").fill(secret)
    reviewer.get_by_role("button", name="Sign in").click()
    reviewer.goto(f"{b.base}/ui/challenges/words/invitations")
    reviewer.get_by_label("Candidate's name").fill("Eve Example")
    reviewer.get_by_label("Time window (hours, from the first starter download)").fill("3")
    reviewer.get_by_label("Graded attempts").fill("2")
    reviewer.get_by_role("button", name="Invite").click()
    link = reviewer.get_by_label("Invitation link").input_value()
    assert "/ui/invite/grd_" in link
    b.check(reviewer)

    candidate = b.context().new_page()
    candidate.goto(link)
    b.check(candidate)
    candidate.get_by_role("button", name="Open my challenge page").click()
    candidate.wait_for_url("**/ui/candidate")
    assert candidate.get_by_role("heading", name="Top words", level=3).is_visible()
    assert "clock starts" in candidate.locator("#time-left").inner_text()
    b.check(candidate)
    with candidate.expect_download() as info:
        candidate.get_by_role("link", name="Download the starter (.zip)").click()
    assert info.value.suggested_filename == "words-starter.zip"
    candidate.reload()
    assert "Time left" in candidate.locator("#time-left").inner_text()
    solution = tmp_path / "words.py"
    solution.write_text("def top_words(text, n):\n    return []\n")
    candidate.get_by_label("Your solution: a .zip").set_input_files(str(solution))
    candidate.get_by_role("button", name="Upload").click()
    candidate.wait_for_url("**/ui/candidate?sent=**")
    assert "Graded attempts left: 1 of 2" in candidate.locator("#attempts-left").inner_text()
    assert "words.py" in candidate.locator("#results-h + article").inner_text()
    b.check(candidate)
    assert b.errors == []

    # The candidate cannot wander into the reviewers' pages (the browser logs the 403).
    resp = candidate.goto(f"{b.base}/ui/challenges/words")
    assert resp is not None and resp.status == 403
    assert "for reviewers" in candidate.locator("main").inner_text()
