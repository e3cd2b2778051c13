"""Uploaded archives, kept by content hash under the data folder; written once, read-only."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path

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
