"""Hostile uploads, through the engine's entry (open_submission) and the ``grader run``
command: each is refused with a one-line reason, in well under a second, before
anything is written: nothing lands outside (or stays inside) the private folder.
"""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import tree_digest
from tests_support import make_adder_challenge

from grader.errors import SubmissionError
from grader.submission import open_submission

pytestmark = [pytest.mark.security]

REPO = Path(__file__).resolve().parents[2]
MiB = 1 << 20
CODE = b"def add(a, b):\n    return a + b\n"


def _zip(entries: list[tuple[str | zipfile.ZipInfo, bytes]], level: int = 9) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def _zip_link(name: str, target: str) -> bytes:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return _zip([("adder.py", CODE), (info, target.encode())])


def _tar(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf,
        mode="w:gz",
        format=tarfile.GNU_FORMAT,
        encoding="utf-8",
        errors="surrogateescape",
    ) as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.mode = 0o644
    return info


def _raw_name_zip() -> bytes:
    """A zip whose member name is the bytes ff fe (no UTF-8 flag): patched after writing."""
    data = _zip([("adder.py", CODE), ("QQ.py", CODE)])
    return data.replace(b"QQ.py", b"\xff\xfe.py")


def _two_letter_noise(size: int) -> bytes:
    """Data that compresses about 10:1: a bomb by total size, not by ratio."""
    return os.urandom(size).translate(bytes(b"b"[0] if i < 32 else b"a"[0] for i in range(256)))


@dataclass(frozen=True)
class Upload:
    filename: str
    build: Callable[[Path], bytes]
    reason: str  # a word of the one-line refusal


UPLOADS: dict[str, Upload] = {
    "zip_slip": Upload(
        "slip.zip",
        lambda t: _zip([("adder.py", CODE), ("../../escaped_slip.py", CODE)]),
        "escapes the submission",
    ),
    "zip_slip_backslashes": Upload(
        "slip2.zip",
        lambda t: _zip([("adder.py", CODE), ("..\\..\\escaped_backslash.py", CODE)]),
        "escapes the submission",
    ),
    "absolute_path_zip": Upload(
        "abs.zip",
        lambda t: _zip([("adder.py", CODE), (str(t / "absolute_zip.py"), CODE)]),
        "absolute path",
    ),
    "absolute_path_tar": Upload(
        "abs.tar.gz",
        lambda t: _tar([(_member("adder.py"), CODE), (_member(str(t / "absolute_tar.py")), CODE)]),
        "absolute path",
    ),
    "symlink_in_tar": Upload(
        "link.tar.gz",
        lambda t: _tar(
            [
                (_member("adder.py"), CODE),
                (_member("passwd.py", tarfile.SYMTYPE, "/etc/passwd"), None),
            ]
        ),
        "symlinks",
    ),
    "symlink_in_zip": Upload(
        "link.zip", lambda t: _zip_link("shadow.py", "/etc/shadow"), "symlinks"
    ),
    "hard_link_in_tar": Upload(
        "hard.tar.gz",
        lambda t: _tar(
            [
                (_member("adder.py"), CODE),
                (_member("hard.py", tarfile.LNKTYPE, "/etc/passwd"), None),
            ]
        ),
        "hard links",
    ),
    "write_through_a_link": Upload(
        "through.tar.gz",
        lambda t: _tar(
            [
                (_member("adder.py"), CODE),
                (_member("out", tarfile.SYMTYPE, str(t / "victim")), None),
                (_member("out/planted.py"), CODE),
            ]
        ),
        "symlinks",
    ),
    "write_through_a_hard_link": Upload(
        "through2.tar.gz",
        lambda t: _tar(
            [
                (_member("adder.py"), CODE),
                (_member("victim.py", tarfile.LNKTYPE, str(t / "victim" / "file.py")), None),
                (_member("victim.py"), b"owned = True\n"),
            ]
        ),
        "hard links",
    ),
    "device_file": Upload(
        "dev.tar.gz",
        lambda t: _tar(
            [
                (_member("adder.py"), CODE),
                (_member("sda", tarfile.BLKTYPE), None),
                (_member("mem", tarfile.CHRTYPE), None),
            ]
        ),
        "device files",
    ),
    "fifo": Upload(
        "fifo.tar.gz",
        lambda t: _tar([(_member("adder.py"), CODE), (_member("pipe", tarfile.FIFOTYPE), None)]),
        "FIFOs",
    ),
    "zip_bomb_by_ratio": Upload(
        "ratio.zip",
        lambda t: _zip([("adder.py", CODE), ("zeros.py", b"\0" * (12 * MiB))]),
        "zip bomb",
    ),
    "gzip_bomb_by_ratio": Upload(
        "ratio.tar.gz",
        lambda t: _tar([(_member("adder.py"), CODE), (_member("zeros.py"), b"#" * (12 * MiB))]),
        "zip bomb",
    ),
    "zip_bomb_by_total_size": Upload(
        "total.zip",
        lambda t: _zip(
            [("adder.py", CODE)]
            + [(f"noise{i}.txt", _two_letter_noise(7 * MiB)) for i in range(3)],
            level=6,
        ),
        "unpacks to more than",
    ),
    "ten_thousand_files": Upload(
        "many.zip", lambda t: _zip([(f"f{i}.py", b"") for i in range(10_000)], level=1), "members"
    ),
    "deep_nesting": Upload(
        "deep.zip",
        lambda t: _zip([("adder.py", CODE), ("/".join(["d"] * 30) + "/x.py", CODE)]),
        "directory levels",
    ),
    "non_utf8_name_zip": Upload("bytes.zip", lambda t: _raw_name_zip(), "not valid UTF-8"),
    "non_utf8_name_tar": Upload(
        "bytes.tar.gz",
        lambda t: _tar([(_member("adder.py"), CODE), (_member("\udcff\udcfe.py"), CODE)]),
        "not valid UTF-8",
    ),
    "control_characters_in_name": Upload(
        "ctrl.zip",
        lambda t: _zip([("adder.py", CODE), ("evil\x1b[2J\r.py", CODE)]),
        "control character",
    ),
    "case_colliding_names": Upload(
        "case.zip", lambda t: _zip([("adder.py", CODE), ("Adder.py", CODE)]), "differ only in case"
    ),
    "not_an_archive": Upload(
        "upload.zip", lambda t: b"\x89PNG\r\n\x1a\n" + os.urandom(4000), "not a .zip"
    ),
    "corrupt_zip": Upload(
        "broken.zip", lambda t: b"PK\x03\x04" + os.urandom(4000), "not a valid .zip"
    ),
    "oversized_single_file": Upload(
        "huge.py", lambda t: b"x = 1\n" * (6 * MiB // 6 + 10), "over the limit"
    ),
}


def _snapshot(root: Path, skip: Path) -> dict[str, str]:
    return {k: v for k, v in tree_digest(root).items() if not k.startswith(skip.name)}


@pytest.fixture
def hostile(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[Upload, Path, Path]:
    upload = UPLOADS[request.param]
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "file.py").write_text("original = True\n")
    path = tmp_path / "uploads" / upload.filename
    path.parent.mkdir()
    path.write_bytes(upload.build(tmp_path))
    return upload, path, tmp_path


@pytest.mark.parametrize("hostile", sorted(UPLOADS), indirect=True)
def test_upload_is_refused_before_anything_is_written(hostile: tuple[Upload, Path, Path]) -> None:
    upload, path, root = hostile
    work = root / "work"
    work.mkdir()
    before = _snapshot(root, work)
    t0 = time.monotonic()
    with pytest.raises(SubmissionError) as exc:
        open_submission(path, work)
    elapsed = time.monotonic() - t0
    message = str(exc.value)
    assert upload.reason in message, message
    assert "\n" not in message and len(message) < 400
    assert elapsed < 1.0, f"refusing took {elapsed:.2f} s"
    assert list(work.iterdir()) == [], "the private folder was not cleaned up"
    assert _snapshot(root, work) == before, "something was written outside the private folder"


@dataclass
class CliRun:
    proc: subprocess.CompletedProcess[str]
    seconds: float
    tmpdir: Path
    root: Path
    before: dict[str, str]


@pytest.fixture(scope="module")
def cli_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CliRun]:
    """``grader run`` on every hostile upload, a few at a time."""
    base = tmp_path_factory.mktemp("cli")
    challenge = make_adder_challenge(base / "challenge")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_")}

    def one(name: str) -> CliRun:
        upload = UPLOADS[name]
        root = base / name
        (root / "victim").mkdir(parents=True)
        (root / "victim" / "file.py").write_text("original = True\n")
        path = root / "uploads" / upload.filename
        path.parent.mkdir()
        path.write_bytes(upload.build(root))
        tmpdir = root / "tmp"
        tmpdir.mkdir()
        before = _snapshot(root, tmpdir)
        t0 = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "grader.cli", "run", str(challenge), str(path)],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
            check=False,
            env={**env, "TMPDIR": str(tmpdir), "GRADER_CACHE_DIR": str(base / "cache")},
        )
        return CliRun(proc, time.monotonic() - t0, tmpdir, root, before)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(sorted(UPLOADS), pool.map(one, sorted(UPLOADS)), strict=True))


@pytest.mark.parametrize("name", sorted(UPLOADS))
def test_grader_run_refuses_upload_with_exit_2(name: str, cli_runs: dict[str, CliRun]) -> None:
    run = cli_runs[name]
    lines = run.proc.stderr.strip().splitlines()
    assert run.proc.returncode == 2, run.proc.stderr
    assert "Traceback" not in run.proc.stderr + run.proc.stdout
    assert len(lines) == 1 and UPLOADS[name].reason in lines[0], run.proc.stderr
    assert run.seconds < 15, f"the command took {run.seconds:.1f} s"
    assert list(run.tmpdir.iterdir()) == [], "the private temporary folder was left behind"
    assert _snapshot(run.root, run.tmpdir) == run.before
