"""Tests for grader/submission.py: hostile uploads are refused cleanly, honest ones unpacked."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import struct
import tarfile
import time
import uuid
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.errors import SubmissionError
from grader.languages import get
from grader.submission import Submission, UploadLimits, open_submission

MiB = 1024 * 1024
GiB = 1024 * MiB
CODE = b"def allow(key):\n    return True\n"


# --- building archives -----------------------------------------------------------------------

ZipEntry = tuple[str | zipfile.ZipInfo, bytes]


def make_zip(entries: Iterable[ZipEntry], *, level: int = 6) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicates some tests need
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return buf.getvalue()


def zip_info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so that the mode bits mean what they say
    info.external_attr = mode << 16
    return info


def patch_zip(data: bytes, index: int, **fields: int) -> bytes:
    """Rewrite header fields of member ``index`` in both its central and local headers.

    ``fields``: flags, crc, compress_size, file_size.
    """
    central = {
        "flags": (8, "<H"),
        "crc": (16, "<I"),
        "compress_size": (20, "<I"),
        "file_size": (24, "<I"),
    }
    local = {
        "flags": (6, "<H"),
        "crc": (14, "<I"),
        "compress_size": (18, "<I"),
        "file_size": (22, "<I"),
    }
    out = bytearray(data)
    eocd = data.rindex(b"PK\x05\x06")
    (pos,) = struct.unpack_from("<I", data, eocd + 16)
    for _ in range(index):
        n, e, c = struct.unpack_from("<HHH", data, pos + 28)
        pos += 46 + n + e + c
    assert data[pos : pos + 4] == b"PK\x01\x02"
    (local_pos,) = struct.unpack_from("<I", data, pos + 42)
    assert data[local_pos : local_pos + 4] == b"PK\x03\x04"
    for field, value in fields.items():
        offset, fmt = central[field]
        struct.pack_into(fmt, out, pos + offset, value)
        offset, fmt = local[field]
        struct.pack_into(fmt, out, local_pos + offset, value)
    return bytes(out)


TarEntry = tuple[tarfile.TarInfo, bytes | None]


def tar_file(name: str, data: bytes = CODE) -> TarEntry:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def tar_special(name: str, kind: bytes, linkname: str = "") -> TarEntry:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    if kind == tarfile.DIRTYPE:
        info.mode = 0o755
    return info, None


def make_tgz(entries: Iterable[TarEntry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(
        fileobj=buf,
        mode="w:gz",
        format=tarfile.GNU_FORMAT,
        encoding="utf-8",
        errors="surrogateescape",
    ) as tf:
        for info, data in entries:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def make_archive(kind: str, entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A .zip or .tar.gz of plain files."""
    if kind == "zip":
        return make_zip(entries)
    return make_tgz([tar_file(name, data) for name, data in entries])


def zlib_crc(data: bytes) -> int:
    return zlib.crc32(data) & 0xFFFFFFFF


def raw_tgz(*headers: bytes) -> bytes:
    """A .tar.gz made of raw header blocks, with no member data behind them."""
    return gzip.compress(b"".join(headers) + b"\0" * 1024)


# --- the sandbox every test runs in ----------------------------------------------------------


def snapshot(base: Path) -> dict[str, bytes | None]:
    """Every path under ``base`` with the content of its regular files (links not followed)."""
    found: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk(base):
        for name in dirs + files:
            p = Path(folder, name)
            is_reg = stat.S_ISREG(p.lstat().st_mode)
            found[str(p.relative_to(base))] = p.read_bytes() if is_reg else None
    return found


PYTHON = get("python")


@dataclass
class Sandbox:
    base: Path
    workdir: Path
    outside: Path

    def upload(self, data: bytes, name: str = "upload.bin") -> Path:
        path = self.base / "uploads" / name
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        return path

    def accept(self, path: Path, *, filename: str | None = None) -> Submission:
        sub = open_submission(path, self.workdir, filename=filename, ignore=PYTHON.ignores)
        assert sub.root.parent == self.workdir
        assert stat.S_IMODE(sub.root.stat().st_mode) == 0o700
        on_disk = sorted(str(p.relative_to(sub.root)) for p in sub.root.rglob("*") if p.is_file())
        assert on_disk == list(sub.files)
        return sub

    def refuse(
        self,
        path: Path,
        match: str,
        *,
        fast: bool = False,
        limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen
        filename: str | None = None,
    ) -> str:
        """Assert a one-line refusal naming ``match``, leaving no trace anywhere."""
        before = snapshot(self.base)
        started = time.perf_counter()
        with pytest.raises(SubmissionError) as caught:
            open_submission(path, self.workdir, limits, filename=filename, ignore=PYTHON.ignores)
        elapsed = time.perf_counter() - started
        message = str(caught.value)
        assert message.startswith("refused: ")
        assert "\n" not in message and "\r" not in message
        assert message.isprintable(), message
        assert match in message, message
        assert list(self.workdir.iterdir()) == []
        assert snapshot(self.base) == before
        if fast:
            assert elapsed < 1.0, f"refusal took {elapsed:.2f}s"
        return message


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    workdir = tmp_path / "work"
    outside = tmp_path / "outside"
    workdir.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"do not touch")
    return Sandbox(tmp_path, workdir, outside)


def escape_target() -> str:
    return f"/tmp/grader-escape-{uuid.uuid4().hex}"


# --- accepted uploads ------------------------------------------------------------------------


def test_directory_upload_is_copied_with_its_tree(box: Sandbox) -> None:
    src = box.base / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "ratelimit.py").write_bytes(CODE)
    (src / "pkg" / "util.py").write_bytes(b"X = 1\n")
    (src / "empty").mkdir()
    sub = box.accept(src)
    assert sub.files == ("pkg/util.py", "ratelimit.py")
    assert sub.ignored == ()
    assert (sub.root / "ratelimit.py").read_bytes() == CODE
    assert (sub.root / "empty").is_dir()


def test_directory_hash_is_stable_and_depends_on_names_and_bytes(box: Sandbox) -> None:
    def tree(name: str, files: dict[str, bytes]) -> Path:
        root = box.base / name
        for rel, data in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(data)
        return root

    one = tree("one", {"a.py": CODE, "b/c.py": b"1"})
    same = tree("same", {"b/c.py": b"1", "a.py": CODE})
    other_bytes = tree("bytes", {"a.py": CODE, "b/c.py": b"2"})
    other_name = tree("name", {"a.py": CODE, "b/d.py": b"1"})
    digest = box.accept(one).sha256
    assert len(digest) == 64
    assert box.accept(one).sha256 == digest
    assert box.accept(same).sha256 == digest
    assert box.accept(other_bytes).sha256 != digest
    assert box.accept(other_name).sha256 != digest


def test_single_py_file_lands_under_its_original_name(box: Sandbox) -> None:
    upload = box.upload(CODE, "tmp-8f3a")
    sub = box.accept(upload, filename="ratelimit.py")
    assert sub.files == ("ratelimit.py",)
    assert (sub.root / "ratelimit.py").read_bytes() == CODE
    assert sub.sha256 == hashlib.sha256(CODE).hexdigest()


def test_zip_is_unpacked_and_hashed_over_the_upload_bytes(box: Sandbox) -> None:
    data = make_zip([("ratelimit.py", CODE), ("pkg/", b""), ("pkg/util.py", b"X = 1\n")])
    upload = box.upload(data, "solution.zip")
    first = box.accept(upload)
    second = box.accept(upload)
    assert first.files == ("pkg/util.py", "ratelimit.py")
    assert (first.root / "pkg" / "util.py").read_bytes() == b"X = 1\n"
    assert first.sha256 == second.sha256 == hashlib.sha256(data).hexdigest()
    assert first.root != second.root


def test_tar_gz_is_unpacked_and_hashed_over_the_upload_bytes(box: Sandbox) -> None:
    data = make_tgz(
        [tar_special("pkg", tarfile.DIRTYPE), tar_file("pkg/util.py"), tar_file("ratelimit.py")]
    )
    sub = box.accept(box.upload(data, "solution.tgz"))
    assert sub.files == ("pkg/util.py", "ratelimit.py")
    assert (sub.root / "ratelimit.py").read_bytes() == CODE
    assert sub.sha256 == hashlib.sha256(data).hexdigest()


def test_tar_made_with_dot_prefixed_names_is_accepted(box: Sandbox) -> None:
    data = make_tgz([tar_special(".", tarfile.DIRTYPE), tar_file("./ratelimit.py")])
    assert box.accept(box.upload(data)).files == ("ratelimit.py",)


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_single_wrapping_folder_is_stripped(box: Sandbox, kind: str) -> None:
    names = ["solution/ratelimit.py", "solution/pkg/util.py"]
    if kind == "zip":
        data = make_zip([("solution/", b"")] + [(n, CODE) for n in names])
    else:
        data = make_tgz([tar_special("solution", tarfile.DIRTYPE)] + [tar_file(n) for n in names])
    sub = box.accept(box.upload(data))
    assert sub.files == ("pkg/util.py", "ratelimit.py")
    assert (sub.root / "ratelimit.py").is_file()
    assert not (sub.root / "solution").exists()


def test_two_top_level_folders_are_kept_as_they_are(box: Sandbox) -> None:
    data = make_zip([("src/a.py", CODE), ("tests/test_a.py", CODE)])
    assert box.accept(box.upload(data)).files == ("src/a.py", "tests/test_a.py")


def test_config_files_are_dropped_and_listed_as_ignored(box: Sandbox) -> None:
    data = make_zip(
        [
            ("solution/ratelimit.py", CODE),
            ("solution/conftest.py", b"import os\n"),
            ("solution/pytest.ini", b"[pytest]\n"),
            ("solution/pyproject.toml", b"[tool.pytest.ini_options]\n"),
            ("solution/evil.pth", b"import os\n"),
            ("solution/sitecustomize.py", b"import os\n"),
            ("solution/pkg/__pycache__/util.cpython-311.pyc", b"\0"),
            ("solution/pkg/util.py", CODE),
        ]
    )
    sub = box.accept(box.upload(data))
    assert sub.files == ("pkg/util.py", "ratelimit.py")
    assert sub.ignored == (
        "conftest.py",
        "evil.pth",
        "pkg/__pycache__/util.cpython-311.pyc",
        "pyproject.toml",
        "pytest.ini",
        "sitecustomize.py",
    )
    for rel in sub.ignored:
        assert not (sub.root / rel).exists()
    assert not (sub.root / "pkg" / "__pycache__").exists()


def test_config_files_in_a_directory_upload_are_dropped(box: Sandbox) -> None:
    src = box.base / "src"
    src.mkdir()
    (src / "ratelimit.py").write_bytes(CODE)
    (src / "conftest.py").write_bytes(b"import os\n")
    sub = box.accept(src)
    assert sub.files == ("ratelimit.py",)
    assert sub.ignored == ("conftest.py",)
    assert not (sub.root / "conftest.py").exists()


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_archive_is_recognised_by_magic_bytes_whatever_its_name(box: Sandbox, kind: str) -> None:
    data = make_zip([("a.py", CODE)]) if kind == "zip" else make_tgz([tar_file("a.py")])
    upload = box.upload(data, "upload.tmp")
    assert box.accept(upload, filename="solution.py").files == ("a.py",)


def test_backslash_separators_from_windows_tools_become_folders(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("pkg\\util.py", CODE)])
    assert box.accept(box.upload(data)).files == ("a.py", "pkg/util.py")


def test_depth_is_counted_after_the_wrapping_folder_is_stripped(box: Sandbox) -> None:
    eight = "/".join("abcdefgh")
    data = make_zip([(f"solution/{eight}/x.py", CODE)])
    assert box.accept(box.upload(data)).files == (f"{eight}/x.py",)


# --- paths that escape -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../escaped.py", "a/../../escaped.py", "..\\..\\escaped.py", "ok/../../../x.py"]
)
@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_zip_slip_member_is_refused(box: Sandbox, name: str, kind: str) -> None:
    entries = [("fine.py", CODE), (name, CODE)]
    data = make_archive(kind, entries)
    box.refuse(box.upload(data), "path escapes the submission")
    assert not (box.base / "escaped.py").exists()


@pytest.mark.parametrize(
    "name",
    [
        escape_target(),
        "C:\\Windows\\evil.py",
        "c:evil.py",
        "\\\\server\\share\\evil.py",
        "\\evil.py",
    ],
)
@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_absolute_member_path_is_refused(box: Sandbox, name: str, kind: str) -> None:
    info = zipfile.ZipInfo(name)  # plain ZipInfo keeps a leading slash that writestr(str) strips
    data = make_zip([(info, CODE)]) if kind == "zip" else make_tgz([tar_file(name)])
    box.refuse(box.upload(data), "absolute path")
    assert not Path(name).exists()


# --- links and special files -----------------------------------------------------------------


def test_zip_symlink_member_is_refused(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), (zip_info("link", stat.S_IFLNK | 0o777), b"/etc/passwd")])
    box.refuse(box.upload(data), 'refused: "link": symlinks are not accepted')


def test_tar_symlink_member_is_refused(box: Sandbox) -> None:
    data = make_tgz([tar_file("a.py"), tar_special("link", tarfile.SYMTYPE, "/etc/passwd")])
    box.refuse(box.upload(data), 'refused: "link": symlinks are not accepted')


def test_tar_hard_link_member_is_refused(box: Sandbox) -> None:
    data = make_tgz([tar_file("a.py"), tar_special("hard.py", tarfile.LNKTYPE, "a.py")])
    box.refuse(box.upload(data), 'refused: "hard.py": hard links are not accepted')


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_symlink_to_a_folder_then_a_file_written_through_it_is_refused(
    box: Sandbox, kind: str
) -> None:
    target = str(box.outside)
    if kind == "zip":
        link = zip_info("sub", stat.S_IFLNK | 0o777)
        data = make_zip([(link, target.encode()), ("sub/pwned.py", CODE)])
    else:
        data = make_tgz([tar_special("sub", tarfile.SYMTYPE, target), tar_file("sub/pwned.py")])
    box.refuse(box.upload(data), '"sub": symlinks are not accepted')
    assert not (box.outside / "pwned.py").exists()


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_symlink_to_a_file_then_a_member_of_the_same_name_is_refused(
    box: Sandbox, kind: str
) -> None:
    target = str(box.outside / "secret.txt")
    if kind == "zip":
        link = zip_info("a.py", stat.S_IFLNK | 0o777)
        data = make_zip([(link, target.encode()), ("a.py", b"overwritten")])
    else:
        data = make_tgz([tar_special("a.py", tarfile.SYMTYPE, target), tar_file("a.py", b"x")])
    box.refuse(box.upload(data), '"a.py": symlinks are not accepted')
    assert (box.outside / "secret.txt").read_bytes() == b"do not touch"


def test_hard_link_to_an_outside_file_then_a_write_through_it_is_refused(box: Sandbox) -> None:
    target = str(box.outside / "secret.txt")
    data = make_tgz([tar_special("h.py", tarfile.LNKTYPE, target), tar_file("h.py", b"x")])
    box.refuse(box.upload(data), '"h.py": hard links are not accepted')
    assert (box.outside / "secret.txt").read_bytes() == b"do not touch"


@pytest.mark.parametrize("kind", [tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE])
def test_tar_device_files_and_fifos_are_refused(box: Sandbox, kind: bytes) -> None:
    data = make_tgz([tar_file("a.py"), tar_special("dev", kind)])
    box.refuse(box.upload(data), '"dev": device files, FIFOs and sockets are not accepted')


@pytest.mark.parametrize("mode", [stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO, stat.S_IFSOCK])
def test_zip_members_with_special_file_modes_are_refused(box: Sandbox, mode: int) -> None:
    data = make_zip([("a.py", CODE), (zip_info("dev", mode | 0o644), b"")])
    box.refuse(box.upload(data), '"dev": device files, FIFOs and sockets are not accepted')


def test_directory_upload_containing_a_symlink_is_refused(box: Sandbox) -> None:
    src = box.base / "src"
    (src / "pkg").mkdir(parents=True)
    (src / "a.py").write_bytes(CODE)
    (src / "pkg" / "leak.py").symlink_to(box.outside / "secret.txt")
    box.refuse(src, '"pkg/leak.py": symlinks are not accepted')


def test_directory_upload_containing_a_symlinked_folder_is_refused(box: Sandbox) -> None:
    src = box.base / "src"
    src.mkdir()
    (src / "a.py").write_bytes(CODE)
    (src / "out").symlink_to(box.outside, target_is_directory=True)
    box.refuse(src, '"out": symlinks are not accepted')


def test_directory_upload_containing_a_fifo_is_refused(box: Sandbox) -> None:
    src = box.base / "src"
    src.mkdir()
    (src / "a.py").write_bytes(CODE)
    os.mkfifo(src / "pipe")
    box.refuse(src, '"pipe": device files, FIFOs and sockets are not accepted', fast=True)


def test_upload_path_that_is_a_fifo_is_refused_without_blocking(box: Sandbox) -> None:
    fifo = box.base / "upload.fifo"
    os.mkfifo(fifo)
    box.refuse(fifo, "not a regular file", fast=True)


# --- bombs and sizes -------------------------------------------------------------------------


def test_zip_bomb_by_member_compression_ratio_is_refused(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("zeros.bin", b"\0" * (10 * MiB))], level=9)
    assert len(data) < 100_000  # a 10 MiB member: under the size limit, but a bomb by ratio
    box.refuse(box.upload(data), '"zeros.bin": compression ratio', fast=True)


def test_zip_bomb_of_many_small_members_is_refused_by_whole_archive_ratio(box: Sandbox) -> None:
    data = make_zip([(f"z{i}.bin", b"\0" * (200 * 1024)) for i in range(50)], level=9)
    box.refuse(box.upload(data), "the archive's compression ratio", fast=True)


def test_zip_bomb_by_total_declared_size_is_refused(box: Sandbox) -> None:
    # Incompressible parts, so that neither ratio gives the lie away, only the total.
    data = make_zip([(f"part{i}.bin", os.urandom(40_000)) for i in range(4)], level=0)
    for i in range(4):
        data = patch_zip(data, i, file_size=8 * MiB, compress_size=8 * MiB)
    box.refuse(box.upload(data), '"part2.bin": the upload unpacks to more than', fast=True)


def test_zip_declaring_a_gigabyte_is_refused_fast(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("bomb.bin", b"\0" * 1024)])
    data = patch_zip(data, 1, file_size=GiB)
    box.refuse(box.upload(data), '"bomb.bin": the file declares 1.0 GiB', fast=True)


def test_zip_member_holding_more_than_its_declared_size_is_refused(box: Sandbox) -> None:
    payload = os.urandom(64 * 1024)
    data = make_zip([("a.py", CODE), ("liar.bin", payload)])
    data = patch_zip(data, 1, file_size=10)
    box.refuse(box.upload(data), '"liar.bin": holds more data than its header declares')


def test_zip_member_holding_less_than_its_declared_size_is_refused(box: Sandbox) -> None:
    payload = os.urandom(1024)
    data = make_zip([("a.py", CODE), ("short.bin", payload)])
    data = patch_zip(data, 1, file_size=4096)
    box.refuse(box.upload(data), '"short.bin": holds less data than its header declares')


def test_zip_member_whose_data_fails_its_crc_is_refused(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("b.py", CODE)])
    data = patch_zip(data, 1, crc=zlib_crc(CODE) ^ 1)
    box.refuse(box.upload(data), '"b.py": fails its CRC check')


def test_tar_gz_bomb_is_refused_by_ratio(box: Sandbox) -> None:
    data = make_tgz([tar_file("a.py"), tar_file("zeros.bin", b"\0" * (10 * MiB))])
    box.refuse(box.upload(data), '"zeros.bin": the archive\'s compression ratio', fast=True)


def test_tar_member_declaring_a_gigabyte_is_refused_fast(box: Sandbox) -> None:
    info = tarfile.TarInfo("huge.bin")
    info.size = GiB
    data = raw_tgz(info.tobuf(tarfile.GNU_FORMAT))
    box.refuse(box.upload(data), '"huge.bin": the file declares 1.0 GiB', fast=True)


def test_tar_long_name_header_declaring_a_gigabyte_is_refused_fast(box: Sandbox) -> None:
    info = tarfile.TarInfo("././@LongLink")
    info.type = tarfile.GNUTYPE_LONGNAME
    info.size = GiB
    # tarfile would read the whole declared long name into memory before any member is seen.
    data = raw_tgz(info.tobuf(tarfile.GNU_FORMAT))
    box.refuse(box.upload(data), "the archive unpacks past the limit", fast=True)


def test_upload_over_the_compressed_limit_is_refused(box: Sandbox) -> None:
    upload = box.upload(b"#" * (5 * MiB + 1), "big.py")
    box.refuse(
        upload, '"big.py": the upload is 5242881 bytes, over the limit of 5242880', fast=True
    )


def test_member_over_the_unpacked_limit_on_its_own_is_refused(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("big.bin", b"x" * 64)], level=0)
    data = patch_zip(data, 1, file_size=30 * MiB, compress_size=30 * MiB)
    box.refuse(
        box.upload(data), '"big.bin": the file declares 30.0 MiB, over the limit of 20.0 MiB'
    )


def test_directory_upload_over_the_unpacked_limit_is_refused(box: Sandbox) -> None:
    src = box.base / "src"
    src.mkdir()
    (src / "a.py").write_bytes(CODE)
    (src / "big.bin").write_bytes(b"x" * 2048)
    box.refuse(src, '"big.bin"', limits=UploadLimits(max_unpacked_bytes=1024))


# --- counts and depth ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_ten_thousand_members_are_refused_fast(box: Sandbox, kind: str) -> None:
    if kind == "zip":
        data = make_zip([(f"f{i}.py", b"") for i in range(10_000)])
        match = "lists 10000 members"
    else:
        data = make_tgz([tar_file(f"f{i}.py", b"") for i in range(10_000)])
        match = '"f500.py": more than 500 files'
    box.refuse(box.upload(data), match, fast=True)


def test_zip_with_too_many_files_but_a_lying_member_count_is_refused(box: Sandbox) -> None:
    data = make_zip([(f"f{i}.py", b"") for i in range(600)])
    eocd = data.rindex(b"PK\x05\x06")
    lying = bytearray(data)
    struct.pack_into("<HH", lying, eocd + 8, 1, 1)
    box.refuse(box.upload(bytes(lying)), '"f500.py": more than 500 files', fast=True)


def test_directory_with_too_many_files_is_refused(box: Sandbox) -> None:
    src = box.base / "src"
    src.mkdir()
    for i in range(11):
        (src / f"f{i:02}.py").write_bytes(b"")
    box.refuse(src, '"f10.py": more than 10 files', limits=UploadLimits(max_files=10))


@pytest.mark.parametrize("kind", ["zip", "tgz", "dir"])
def test_nesting_deeper_than_the_limit_is_refused(box: Sandbox, kind: str) -> None:
    name = "/".join("abcdefghijkl") + "/deep.py"  # 12 folders
    entries = [("a.py", CODE), (name, CODE)]
    if kind == "zip":
        upload = box.upload(make_zip(entries))
    elif kind == "tgz":
        upload = box.upload(make_tgz([tar_file(n, d) for n, d in entries]))
    else:
        upload = box.base / "src"
        for n, d in entries:
            (upload / n).parent.mkdir(parents=True, exist_ok=True)
            (upload / n).write_bytes(d)
    box.refuse(upload, "deeper than 8 directory levels")


def test_absurdly_long_name_is_refused(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("x" * 300 + ".py", CODE)])
    box.refuse(box.upload(data), "longer than 255 bytes")


# --- names -----------------------------------------------------------------------------------


def test_tar_member_name_that_is_not_utf8_is_refused(box: Sandbox) -> None:
    data = make_tgz([tar_file("a.py"), tar_file("bad\udcff\udcfe.py")])  # raw bytes ff fe
    box.refuse(box.upload(data), 'refused: "bad\\xff\\xfe.py": name is not valid UTF-8')


def test_zip_name_without_utf8_flag_that_does_not_decode_is_refused(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("badXX.py", CODE)]).replace(b"badXX", b"bad\xff\xfe")
    box.refuse(box.upload(data), 'refused: "bad\\xff\\xfe.py": name is not valid UTF-8')


def test_zip_name_with_utf8_flag_that_does_not_decode_is_refused(box: Sandbox) -> None:
    data = make_zip([("a.py", CODE), ("badXX.py", CODE)]).replace(b"badXX", b"bad\xff\xfe")
    data = patch_zip(data, 1, flags=0x800)
    box.refuse(box.upload(data), 'refused: "bad\\xff\\xfe.py": name is not valid UTF-8')


def test_zip_name_in_utf8_without_the_flag_is_accepted(box: Sandbox) -> None:
    data = make_zip([("rXX.py", CODE)]).replace(b"rXX", "ré".encode())
    assert box.accept(box.upload(data)).files == ("ré.py",)


@pytest.mark.parametrize("name", ["\x1b[2Jclear.py", "two\nlines.py", "del\x7f.py", "tab\t.py"])
@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_name_with_a_control_character_is_refused(box: Sandbox, name: str, kind: str) -> None:
    data = make_zip([(name, CODE)]) if kind == "zip" else make_tgz([tar_file(name)])
    box.refuse(box.upload(data), "name contains a control character")


@pytest.mark.parametrize(
    ("first", "second"),
    [("Ratelimit.py", "ratelimit.py"), ("Src/a.py", "src/b.py"), ("STRASSE.py", "straße.py")],
)
@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_names_colliding_case_insensitively_are_refused(
    box: Sandbox, first: str, second: str, kind: str
) -> None:
    entries = [(first, CODE), (second, CODE)]
    data = make_archive(kind, entries)
    box.refuse(box.upload(data), "names differ only in case")


@pytest.mark.parametrize("kind", ["zip", "tgz"])
def test_duplicate_members_are_refused(box: Sandbox, kind: str) -> None:
    entries = [("a.py", CODE), ("a.py", b"second")]
    data = make_archive(kind, entries)
    box.refuse(box.upload(data), '"a.py": duplicate member')


@pytest.mark.parametrize("order", ["file first", "dir first"])
def test_member_that_is_both_a_file_and_a_directory_is_refused(box: Sandbox, order: str) -> None:
    entries = [("pkg", CODE), ("pkg/a.py", CODE)]
    if order == "dir first":
        entries.reverse()
    box.refuse(box.upload(make_zip(entries)), '"pkg" is both a file and a directory')


# --- what is not a submission ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7 not code", "report.pdf"),
        (b"print('hi')\n", "notes.txt"),
        (b"\x89PNG\r\n\x1a\n\0\0\0", "solution.py"),
        (gzip.compress(b"print('not a tar')\n" * 40), "solution.tar.gz"),
        (b"PK\x03\x04 truncated", "solution.zip"),
    ],
)
def test_upload_that_is_not_an_archive_or_source_file_is_refused(
    box: Sandbox, data: bytes, name: str
) -> None:
    box.refuse(box.upload(data, "tmp-upload"), f'"{name}": not a', filename=name)


def test_plain_uncompressed_tar_is_refused(box: Sandbox) -> None:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info, data = tar_file("a.py")
        tf.addfile(info, io.BytesIO(data))
    box.refuse(box.upload(buf.getvalue(), "a.tar"), "not a .zip, .tar.gz or source file")


@pytest.mark.parametrize("kind", ["zip", "zip-of-folders", "tgz", "dir"])
def test_empty_submission_is_refused(box: Sandbox, kind: str) -> None:
    if kind == "zip":
        upload = box.upload(make_zip([]))
    elif kind == "zip-of-folders":
        upload = box.upload(make_zip([("a/", b""), ("a/b/", b"")]))
    elif kind == "tgz":
        upload = box.upload(make_tgz([]))
    else:
        upload = box.base / "src"
        upload.mkdir()
    box.refuse(upload, "the submission is empty")


def test_submission_of_only_config_files_is_refused(box: Sandbox) -> None:
    data = make_zip([("conftest.py", b"import os\n"), ("pytest.ini", b"[pytest]\n")])
    box.refuse(box.upload(data), "the submission is empty once config files are dropped")


def test_encrypted_zip_member_is_refused(box: Sandbox) -> None:
    data = patch_zip(make_zip([("a.py", CODE), ("secret.py", CODE)]), 1, flags=0x1)
    box.refuse(box.upload(data), '"secret.py": encrypted members are not accepted')


def test_refusal_during_extraction_removes_the_files_already_written(box: Sandbox) -> None:
    good = [(f"ok{i}.py", CODE) for i in range(5)]
    data = make_zip([*good, ("liar.bin", os.urandom(4096))])
    data = patch_zip(data, 5, file_size=100)
    box.refuse(box.upload(data), '"liar.bin"')


def test_refusal_message_escapes_the_name_it_quotes(box: Sandbox) -> None:
    data = make_tgz([tar_file("\x1b[31mred\n.py")])
    message = box.refuse(box.upload(data), "control character")
    assert '"\\x1b[31mred\\n.py"' in message


def test_macos_metadata_is_dropped_and_wrapper_still_stripped(tmp_path: Path) -> None:
    """Finder's __MACOSX/ and ._ files are not part of a solution and do not hide the wrapper."""
    import zipfile

    archive = tmp_path / "mac.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("solution/ratelimit.py", "X = 1\n")
        zf.writestr("__MACOSX/solution/._ratelimit.py", b"\x00\x05\x16\x07")
        zf.writestr("solution/.DS_Store", b"\x00\x00\x00\x01Bud1")
    work = tmp_path / "work"
    work.mkdir()
    sub = open_submission(archive, work)
    assert sub.files == ("ratelimit.py",)
    assert ".DS_Store" in " ".join(sub.ignored) and "__MACOSX" in " ".join(sub.ignored)
