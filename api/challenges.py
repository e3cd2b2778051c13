"""The challenges the service offers: found by slug under ``challenges_dir``, loaded fresh
(so a version bump is seen at once), and their starter files packed for download."""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from pathlib import Path

import structlog

from grader.challenge import Challenge, load_challenge
from grader.errors import ChallengeError

log = structlog.get_logger("grader.api")

SLUG = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_SKIP_PARTS = frozenset({"__pycache__", ".git", ".ruff_cache", ".pytest_cache", ".mypy_cache"})
# A fixed timestamp keeps starter archives byte-identical between requests.
_EPOCH = 315532800  # 1980-01-01, the earliest a zip can say


def find(challenges_dir: Path, slug: str) -> Challenge | None:
    """The challenge ``slug``, or None if there is none (or it does not load)."""
    if not SLUG.match(slug) or len(slug) > 100:
        return None
    folder = challenges_dir / slug
    if not (folder / "challenge.toml").is_file():
        return None
    try:
        return load_challenge(folder)
    except ChallengeError as exc:
        log.warning("challenge does not load", slug=slug, error=str(exc))
        return None


def catalogue(challenges_dir: Path) -> list[Challenge]:
    """Every challenge that loads, by slug."""
    if not challenges_dir.is_dir():
        return []
    out = []
    for folder in sorted(challenges_dir.iterdir()):
        if folder.is_dir() and SLUG.match(folder.name):
            ch = find(challenges_dir, folder.name)
            if ch is not None:
                out.append(ch)
    return out


def statement(challenge: Challenge) -> str:
    try:
        return challenge.statement.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _starter_files(challenge: Challenge) -> list[tuple[str, Path]]:
    # A service challenge with no language chosen: every language's starter folder.
    everything = challenge.is_service and challenge.chosen is None
    root = challenge.root / "starter" if everything else challenge.starter_dir
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(p in _SKIP_PARTS for p in rel.parts) or path.is_symlink() or not path.is_file():
            continue
        files.append((rel.as_posix(), path))
    return files


def starter_archive(challenge: Challenge, fmt: str) -> bytes:
    """The starter folder as ``<slug>/...`` in a .tar.gz or a .zip (never the tests)."""
    prefix = challenge.slug
    buf = io.BytesIO()
    if fmt == "zip":
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for rel, path in _starter_files(challenge):
                info = zipfile.ZipInfo(f"{prefix}/{rel}", date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = 0o644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, path.read_bytes())
        return buf.getvalue()
    import gzip

    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for rel, path in _starter_files(challenge):
            data = path.read_bytes()
            member = tarfile.TarInfo(f"{prefix}/{rel}")
            member.size = len(data)
            member.mode = 0o644
            member.mtime = _EPOCH
            tar.addfile(member, io.BytesIO(data))
    return buf.getvalue()
