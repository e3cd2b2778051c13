"""A challenge folder packs into the same bytes every time, and unpacks only when the
bytes match the hash they are asked for."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from grader import bundle
from grader.challenge import load_challenge
from grader.errors import ChallengeError

REPO = Path(__file__).resolve().parents[1]


def test_the_same_folder_packs_to_the_same_bytes(tmp_path: Path) -> None:
    source = REPO / "challenges" / "rate-limiter"
    first = bundle.pack(source)
    copy = tmp_path / "rate-limiter"
    import shutil

    shutil.copytree(source, copy)
    for path in copy.rglob("*"):  # other times, same content
        os.utime(path, (time.time() - 1000, time.time() - 1000))
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert bundle.pack(copy) == first
    (copy / "README.md").write_text("changed\n")
    assert bundle.pack(copy)[0] != first[0]


def test_a_bundle_unpacks_into_a_challenge_that_loads(tmp_path: Path) -> None:
    sha, data = bundle.pack(REPO / "challenges" / "lru-cache")
    dest = bundle.unpack(data, sha, tmp_path / sha / "lru-cache")
    ch = load_challenge(dest)
    assert ch.slug == "lru-cache" and ch.test_files()
    assert not list(tmp_path.glob(f"{sha}/.unpack-*"))


def test_bytes_that_do_not_match_their_hash_are_refused(tmp_path: Path) -> None:
    sha, data = bundle.pack(REPO / "challenges" / "lru-cache")
    with pytest.raises(ChallengeError, match="do not match its hash"):
        bundle.unpack(data + b"x", sha, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_bundle_with_a_link_is_refused(tmp_path: Path) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo("evil")
        info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tar.addfile(info)
    data = gzip.compress(raw.getvalue())
    import hashlib

    with pytest.raises(ChallengeError, match="not a file or a folder"):
        bundle.unpack(data, hashlib.sha256(data).hexdigest(), tmp_path / "x")
    assert not (tmp_path / "x").exists()
