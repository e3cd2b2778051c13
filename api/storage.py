"""Uploaded archives, kept by content hash under the data folder (written once,
read-only), and the database as storage every worker can reach (uploads and challenge
bundles by content hash), so workers on other machines need no shared folder."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import utcnow
from api.models import Blob
from grader import bundle

if TYPE_CHECKING:
    from api.services import Services

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class ArchiveStore:
    """``<data_dir>/archives/ab/abcdef…``: one immutable file per distinct upload."""

    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "archives"
        self.tmp = data_dir / "tmp"

    def path(self, sha256: str) -> Path:
        if not _SHA256.match(sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def temp_file(self) -> tuple[int, Path]:
        """A fresh private file on the same file system as the store (so a move is atomic)."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="upload-", dir=self.tmp)
        return fd, Path(name)

    def put(self, temp: Path, sha256: str) -> Path:
        """Move ``temp`` into the store under its hash; an existing copy wins (same bytes)."""
        dest = self.path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(temp, 0o444)
        try:
            os.link(temp, dest)  # never replaces: a stored archive is immutable
        except FileExistsError:
            pass
        finally:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
        return dest

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()


# --- the database as shared storage (workers on other machines) ---------------------------


def put_blob(db: Session, sha256: str, kind: str, data: bytes) -> None:
    """Store ``data`` under its hash unless a row has it already (bytes by hash never
    change, so the first writer wins and later ones are no-ops)."""
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    if db.get(Blob, sha256) is None:
        db.add(Blob(sha256=sha256, kind=kind, size=len(data), data=data, created_at=utcnow()))
        try:
            db.flush()
        except IntegrityError:  # another writer stored the same bytes meanwhile
            db.rollback()


def get_blob(db: Session, sha256: str) -> bytes | None:
    """The bytes stored under ``sha256``, checked against it (None when absent or not
    matching: a corrupt row is as good as none)."""
    row = db.get(Blob, sha256)
    if row is None:
        return None
    data = bytes(row.data)
    return data if hashlib.sha256(data).hexdigest() == sha256 else None


def fetch_upload(svc: Services, sha256: str) -> Path | None:
    """The stored upload ``sha256`` as a local file: this worker's copy, or the
    database's written into this worker's store; None when neither has it."""
    store = ArchiveStore(svc.settings.data_dir)
    if store.exists(sha256):
        return store.path(sha256)
    with svc.session() as db:
        data = get_blob(db, sha256)
    if data is None:
        return None
    fd, temp = store.temp_file()
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return store.put(temp, sha256)


def challenge_folder(svc: Services, slug: str, bundle_hash: str | None) -> Path | None:
    """The challenge ``slug`` as the submission is to be graded against it: this
    machine's challenges folder when it holds the same bundle (or no bundle is named),
    else the bundle from the database, unpacked once into the cache; None when neither."""
    local = svc.settings.challenges_dir / slug
    here = (local / "challenge.toml").is_file()
    if here and (bundle_hash is None or bundle.pack(local)[0] == bundle_hash):
        return local
    if bundle_hash is None:
        return None
    cached = svc.settings.cache_dir / "bundles" / bundle_hash / slug
    if (cached / "challenge.toml").is_file():
        return cached
    with svc.session() as db:
        data = get_blob(db, bundle_hash)
    if data is None:
        return None
    return bundle.unpack(data, bundle_hash, cached)
