"""A challenge folder as one byte-identical archive, and back: how a challenge reaches a
worker on another machine (through the database, by content hash, verified).

``pack`` makes a deterministic ``.tar.gz`` (sorted members, fixed times and owners, no
caches), so the same folder always gives the same bytes and the same SHA-256;
``unpack`` checks the hash before anything is written and extracts regular files and
folders only.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from grader.errors import ChallengeError

_SKIP = frozenset({"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
MAX_BUNDLE_BYTES = 64 * 1024 * 1024


def pack(root: Path) -> tuple[str, bytes]:
    """(sha256, bytes) of the folder ``root`` as a deterministic ``.tar.gz``."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if _SKIP.intersection(rel.parts) or path.is_symlink():
                continue
            info = tarfile.TarInfo(rel.as_posix())
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if path.is_dir():
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            elif path.is_file():
                data = path.read_bytes()
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    data = gzip.compress(raw.getvalue(), compresslevel=6, mtime=0)
    return hashlib.sha256(data).hexdigest(), data


def unpack(data: bytes, sha256: str, dest: Path) -> Path:
    """Extract a bundle whose hash is ``sha256`` into the new folder ``dest``; returns it.

    Refuses (ChallengeError) a bundle whose bytes do not hash to ``sha256`` or that holds
    anything but regular files and folders under ``dest``. The folder appears whole or
    not at all (extracted beside it, then renamed).
    """
    if len(data) > MAX_BUNDLE_BYTES or hashlib.sha256(data).hexdigest() != sha256:
        raise ChallengeError(f"challenge bundle {sha256[:12]}: its bytes do not match its hash")
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                if not (member.isfile() or member.isdir()):
                    raise ChallengeError(
                        f"challenge bundle {sha256[:12]}: {member.name!r} is not a file or a folder"
                    )
            tar.extractall(work, filter="data")
        try:
            os.rename(work, dest)
        except OSError:
            if not dest.is_dir():  # not another worker's identical copy: a real failure
                raise
            shutil.rmtree(work, ignore_errors=True)
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise ChallengeError(f"challenge bundle {sha256[:12]} cannot be unpacked: {exc}") from None
    return dest
