"""In-process fixtures for the browser UI and its API: the app under FastAPI's TestClient,
a real SQLite database, real archives in the store; no Redis (grading messages go to an
in-memory broker that no worker reads)."""

from __future__ import annotations

import hashlib
import io
import re
import secrets
import shutil
import tarfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # Starlette's TestClient announces a future move to httpx2; nothing to act on here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from similarity_corpus import PYTHON, reference_files, starter_files

from api.app import create_app
from api.auth import create_token
from api.db import upgrade, utcnow
from api.models import Submission
from api.queue import make_celery
from api.services import Services
from api.storage import ArchiveStore
from grader.report import (
    ChallengeRef,
    Flag,
    Report,
    Scores,
    SourceFile,
    StyleFinding,
    StyleSection,
    SubmissionRef,
    TestResult,
)
from grader.settings import Settings

REPO = Path(__file__).resolve().parents[2]
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def closed_port_url() -> str:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def words_challenge(root: Path, *, toml_extra: str = "") -> Path:
    """A Python challenge whose starter and reference are the similarity corpus's."""
    ch = root / "words"
    for rel, text in {**starter_files(PYTHON), **reference_files(PYTHON)}.items():
        (ch / rel).parent.mkdir(parents=True, exist_ok=True)
        (ch / rel).write_text(text)
    (ch / "tests" / "public").mkdir(parents=True, exist_ok=True)
    (ch / "tests" / "public" / "test_words.py").write_text(
        "from words import top_words\n\ndef test_one():\n    assert top_words('a a b', 1)"
        " == [('a', 2)]\n"
    )
    (ch / "README.md").write_text("# Top words\n\nWrite **top_words**.\n\n<script>x</script>\n")
    (ch / "challenge.toml").write_text('title = "Top words"\nlanguage = "python"\n' + toml_extra)
    return ch


@dataclass
class Env:
    """The app, its services and helpers to make tokens, submissions and signed-in clients."""

    svc: Services
    app: Any
    challenges: Path
    tokens: dict[str, tuple[int, str]] = field(default_factory=dict)

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver")

    def token(self, role: str, name: str) -> tuple[int, str]:
        with self.svc.session() as db:
            row, secret = create_token(db, role, name)
            return row.id, secret

    def bearer(self, secret: str) -> TestClient:
        c = self.client()
        c.headers["Authorization"] = f"Bearer {secret}"
        return c

    def sign_in(self, secret: str) -> TestClient:
        c = self.client()
        form = c.get("/ui/sign-in")
        resp = c.post(
            "/ui/sign-in",
            data={"csrf": csrf_of(form.text), "token": secret, "next": "/ui/challenges"},
            follow_redirects=False,
        )
        assert resp.status_code == 303, resp.text
        return c

    def reviewer(self, name: str = "rita") -> TestClient:
        _, secret = self.token("reviewer", name)
        return self.sign_in(secret)

    def store(self, files: dict[str, str]) -> tuple[str, str, int]:
        """Store an upload (a .tar.gz of ``files``, or the single file) as the API would."""
        if len(files) == 1 and "/" not in next(iter(files)):
            name, text = next(iter(files.items()))
            data, filename = text.encode(), name
        else:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                for rel, text in files.items():
                    raw = text.encode()
                    info = tarfile.TarInfo(rel)
                    info.size = len(raw)
                    tar.addfile(info, io.BytesIO(raw))
            data, filename = buf.getvalue(), "solution.tar.gz"
        sha = hashlib.sha256(data).hexdigest()
        store = ArchiveStore(self.svc.settings.data_dir)
        fd, tmp = store.temp_file()
        with open(fd, "wb") as f:
            f.write(data)
        store.put(tmp, sha)
        return sha, filename, len(data)

    def submission(
        self,
        token_id: int,
        *,
        slug: str = "words",
        total: float | None = 50.0,
        status: str = "graded",
        files: dict[str, str] | None = None,
        flags: list[Flag] | None = None,
        tests: list[TestResult] | None = None,
        scores: dict[str, float] | None = None,
        version: int = 1,
        findings: list[StyleFinding] | None = None,
        when: Any = None,
    ) -> str:
        files = files or {"words.py": f"# {secrets.token_hex(4)}\nx = 1\n"}
        sha, filename, size = self.store(files)
        sub_id = secrets.token_hex(16)
        now = when or utcnow()
        report = None
        if status in ("graded", "error"):
            sc = {
                "correctness": total or 0.0,
                "style": 80.0,
                "complexity": 70.0,
                "docs": 60.0,
                **(scores or {}),
            }
            report = Report(
                status="graded" if status == "graded" else "error",
                challenge=ChallengeRef(slug=slug, version=version),
                submission=SubmissionRef(id=sub_id, sha256=sha),
                flags=flags or [],
                tests=tests
                or [
                    TestResult(
                        id="tests/public/test_words.py::test_one",
                        visibility="public",
                        weight=1,
                        outcome="passed",
                    )
                ],
                style=StyleSection(findings=findings or [], lines_of_code=10),
                scores=Scores(total=total or 0.0, **sc),
                weights={"correctness": 70, "style": 15, "complexity": 10, "docs": 5},
                sources=[SourceFile(path=p, text=t) for p, t in sorted(files.items())],
            ).model_dump(mode="json")
        with self.svc.session() as db:
            db.add(
                Submission(
                    id=sub_id,
                    challenge_slug=slug,
                    challenge_version=version,
                    token_id=token_id,
                    sha256=sha,
                    filename=filename,
                    size_bytes=size,
                    status=status,
                    attempts=1,
                    generation=1,
                    stale=False,
                    report=report,
                    total=total if status == "graded" else None,
                    created_at=now,
                    enqueued_at=now,
                    started_at=now if status != "queued" else None,
                    finished_at=now if status in ("graded", "error") else None,
                )
            )
        return sub_id


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, html[:500]
    return found.group(1)


def make_env(tmp_path: Path, **settings: Any) -> Iterator[Env]:
    challenges = tmp_path / "challenges"
    challenges.mkdir()
    shutil.copytree(REPO / "challenges" / "rate-limiter", challenges / "rate-limiter")
    words_challenge(challenges, toml_extra=settings.pop("toml_extra", ""))
    values: dict[str, Any] = {
        "challenges_dir": challenges,
        "data_dir": tmp_path / "data",
        "cache_dir": tmp_path / "cache",
        "database_url": f"sqlite:///{tmp_path / 'g.db'}",
        "redis_url": closed_port_url(),
        "secret_key": secrets.token_hex(32),
        "log_level": "WARNING",
    }
    values.update(settings)
    settings = Settings(**values)
    # Grading messages go to kombu's in-memory transport: published, never consumed.
    celery = make_celery(settings.model_copy(update={"redis_url": "memory://"}))
    svc = Services.build(settings, celery=celery)
    upgrade(svc.engine)
    yield Env(svc=svc, app=create_app(services=svc), challenges=challenges)
    svc.close()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from make_env(tmp_path)
