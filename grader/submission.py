"""Opening an upload: check it against the submission rules, then unpack it into a private folder.

Everything that can be judged from an archive's directory or headers is judged before the
first byte is written; while unpacking, the bytes actually produced are counted again, since
headers can lie. A refusal leaves nothing behind and raises ``SubmissionError`` with a
one-line reason naming the member and the rule.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import gzip
import hashlib
import io
import itertools
import lzma
import os
import re
import shutil
import stat
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from grader.errors import SubmissionError

Ignore = Callable[[str], bool]


def source_suffixes() -> tuple[str, ...]:
    """What a single-file upload may be: a source file of any supported language."""
    from grader.languages import LANGUAGES

    return tuple(sorted({s for lang in LANGUAGES.values() for s in lang.source_suffixes}))


def ignores_nothing_but_metadata(rel_path: str) -> bool:
    """The default ``ignore``: archiver metadata only (the language adds its own rules)."""
    from grader.languages.base import is_os_metadata

    return is_os_metadata(rel_path)


_NOT_RECOGNISED = "not a .zip, .tar.gz or source file"
# Below this size a high compression ratio cannot hurt (actual bytes are counted anyway), and
# small, repetitive files (fixtures, generated tables) legitimately compress very well.
_RATIO_FLOOR = 256 * 1024
_MAX_COMPONENT_BYTES = 255
_MAX_PATH_BYTES = 1024
_CHUNK = 64 * 1024
_ZIP_METHODS = frozenset(
    {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_GZIP_MAGIC = b"\x1f\x8b"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")
# Errors the stdlib raises while decoding a hostile archive; they all mean "corrupt".
_READ_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    struct.error,
    IndexError,
    KeyError,
    OverflowError,
)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


@dataclass(frozen=True)
class UploadLimits:
    """What an upload may weigh and hold."""

    max_compressed_bytes: int = 5 * 1024 * 1024
    max_unpacked_bytes: int = 20 * 1024 * 1024
    max_files: int = 500
    max_depth: int = 8
    # Per-member and whole-archive compression ratio above which an archive is a bomb.
    max_ratio: float = 200.0


@dataclass(frozen=True)
class Submission:
    """An accepted upload, unpacked into ``root`` (regular files and directories only)."""

    root: Path
    sha256: str
    files: tuple[str, ...]
    ignored: tuple[str, ...]


def open_submission(
    path: str | Path,
    workdir: str | Path,
    limits: UploadLimits = UploadLimits(),  # noqa: B008 - frozen dataclass, safe to share
    *,
    filename: str | None = None,
    ignore: Ignore = ignores_nothing_but_metadata,
) -> Submission:
    """Check ``path`` (a directory, a ``.py`` file, a ``.zip`` or a ``.tar.gz``) and unpack it
    into a fresh private folder under ``workdir``; raise ``SubmissionError`` on any refusal."""
    src = Path(path)
    label = filename if filename is not None else src.name
    fd = os.open(src, os.O_RDONLY | os.O_NONBLOCK)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            return _open_directory(src, Path(workdir), limits, label, ignore)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(label, "not a regular file")
        if st.st_size > limits.max_compressed_bytes:
            raise _refuse(label, _over("the upload is", st.st_size, limits.max_compressed_bytes))
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limits.max_compressed_bytes + 1)
    finally:
        os.close(fd)
    if len(data) > limits.max_compressed_bytes:
        raise _refuse(label, _over("the upload is", len(data), limits.max_compressed_bytes))

    if data.startswith(_ZIP_MAGIC):
        plan, pump = _plan_zip(data, limits, label, ignore)
    elif data.startswith(_GZIP_MAGIC):
        plan, pump = _plan_tar(data, limits, label, ignore)
    else:
        plan, pump = _plan_source(data, limits, label, ignore)
    digest = hashlib.sha256(data).hexdigest()
    return _unpack(plan, pump, Path(workdir), lambda: digest)


# --- messages -------------------------------------------------------------------------------


def _show(name: str) -> str:
    """Quote a member name for a one-line message, escaping anything unprintable."""
    out = []
    for ch in name[:200]:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a raw byte kept by surrogateescape
            out.append(f"\\x{code - 0xDC00:02x}")
        elif ch in '"\\':
            out.append("\\" + ch)
        elif not ch.isprintable():
            out.append(ch.encode("unicode_escape", "backslashreplace").decode("ascii"))
        else:
            out.append(ch)
    return '"' + "".join(out) + ("..." if len(name) > 200 else "") + '"'


def _refuse(name: str, rule: str) -> SubmissionError:
    return SubmissionError(f"refused: {_show(name)}: {rule}")


def _size(n: float) -> str:
    if n < 1024 * 1024:
        return f"{int(n)} bytes"
    if n < 1024 * 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    return f"{n / (1024 * 1024 * 1024):.1f} GiB"


def _over(what: str, n: int, limit: int) -> str:
    shown, cap = _size(n), _size(limit)
    if shown == cap:  # rounding would hide the difference
        shown, cap = f"{n} bytes", f"{limit} bytes"
    return f"{what} {shown}, over the limit of {cap}"


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- the plan: every member checked before anything is written --------------------------------


@dataclass(frozen=True)
class _Member:
    """One file or directory of the upload, as it will be written."""

    name: str  # as the upload spells it, for messages
    parts: tuple[str, ...]  # validated path components
    is_dir: bool
    size: int  # declared size in bytes
    index: int = -1  # position in the archive
    source: tuple[str, ...] = ()  # path components inside a directory upload


def _split_name(name: str) -> tuple[str, ...]:
    """Validate a member name and return its path components (``.`` and empty ones dropped)."""
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        raise _refuse(name, "name is not valid UTF-8") from None
    if _CONTROL.search(name):
        raise _refuse(name, "name contains a control character")
    if len(encoded) > _MAX_PATH_BYTES:
        raise _refuse(name, f"name is longer than {_MAX_PATH_BYTES} bytes")
    posix = name.replace("\\", "/")  # Windows tools write backslashes; judge them as separators
    if posix.startswith("/"):
        raise _refuse(name, "absolute path")
    if _DRIVE.match(posix):
        raise _refuse(name, "absolute path (Windows drive letter)")
    parts = tuple(p for p in posix.split("/") if p not in ("", "."))
    if ".." in parts:
        raise _refuse(name, "path escapes the submission")
    if any(len(p.encode("utf-8")) > _MAX_COMPONENT_BYTES for p in parts):
        raise _refuse(name, f"a path component is longer than {_MAX_COMPONENT_BYTES} bytes")
    return parts


class _Plan:
    """Collects the members of an upload, enforcing the limits as each one is added."""

    def __init__(
        self, limits: UploadLimits, label: str, ignore: Ignore, *, compressed: int | None
    ) -> None:
        self.ignore = ignore
        self.limits = limits
        self.label = label
        self.compressed = compressed  # upload size, for the whole-archive ratio
        self.members: list[_Member] = []
        self.wrapper: str | None = None
        self._files = 0
        self._dirs = 0
        self._total = 0
        self._seen: dict[str, tuple[str, bool]] = {}  # folded path -> (path, is_dir)
        # An archive may wrap everything in one folder, stripped later: allow one more level.
        self._depth_slack = 1 if compressed is not None else 0

    def add(
        self,
        name: str,
        *,
        is_dir: bool,
        size: int,
        packed: int | None = None,
        index: int = -1,
        source: tuple[str, ...] = (),
    ) -> None:
        parts = _split_name(name)
        if not parts:
            if is_dir:
                return  # "./": the archive's own root
            raise _refuse(name, "member has no file name")
        limits = self.limits
        depth = len(parts) if is_dir else len(parts) - 1
        if depth > limits.max_depth + self._depth_slack:
            raise _refuse(name, f"deeper than {limits.max_depth} directory levels")
        if is_dir:
            self._dirs += 1
            if self._dirs > limits.max_files:
                raise _refuse(name, f"more than {limits.max_files} directories")
        else:
            self._files += 1
            if self._files > limits.max_files:
                raise _refuse(name, f"more than {limits.max_files} files")
            if size > limits.max_unpacked_bytes:
                raise _refuse(name, _over("the file declares", size, limits.max_unpacked_bytes))
            self._total += size
            if self._total > limits.max_unpacked_bytes:
                raise _refuse(
                    name,
                    f"the upload unpacks to more than the {_size(limits.max_unpacked_bytes)} limit",
                )
            if packed is not None and size >= _RATIO_FLOOR and size > limits.max_ratio * packed:
                ratio = size / max(packed, 1)
                raise _refuse(
                    name,
                    f"compression ratio {ratio:.0f} is above {limits.max_ratio:g} (zip bomb)",
                )
            whole = self.compressed
            if (
                whole is not None
                and self._total >= _RATIO_FLOOR
                and self._total > limits.max_ratio * whole
            ):
                ratio = self._total / max(whole, 1)
                raise _refuse(
                    name,
                    f"the archive's compression ratio reaches {ratio:.0f}, above "
                    f"{limits.max_ratio:g} (zip bomb)",
                )
        self._claim(name, parts, is_dir)
        self.members.append(_Member(name, parts, is_dir, size, index, source))

    def _claim(self, name: str, parts: tuple[str, ...], is_dir: bool) -> None:
        """Refuse duplicates, case-insensitive collisions and file/directory clashes."""
        for depth in range(1, len(parts) + 1):
            path = "/".join(parts[:depth])
            as_dir = is_dir or depth < len(parts)
            key = path.casefold()
            previous = self._seen.get(key)
            if previous is None:
                self._seen[key] = (path, as_dir)
                continue
            other, other_is_dir = previous
            if other != path:
                raise _refuse(name, f"collides with {_show(other)} (names differ only in case)")
            if as_dir and other_is_dir:
                continue
            if not as_dir and not other_is_dir:
                raise _refuse(name, "duplicate member")
            raise _refuse(name, f"{_show(path)} is both a file and a directory")

    def finish(self) -> None:
        """Strip a single wrapping folder and apply the rules that need the whole listing."""
        files = [m for m in self.members if not m.is_dir]
        # Dropped members (config files, __MACOSX/ metadata) do not stop a wrapper folder
        # from being recognised.
        tops = {m.parts[0] for m in self.members if not self.ignores(m)}
        if (
            self.compressed is not None
            and files
            and len(tops) == 1
            and all(len(m.parts) > 1 for m in files if not self.ignores(m))
        ):
            self.wrapper = tops.pop()
            self.members = [
                _Member(m.name, m.parts[1:], m.is_dir, m.size, m.index, m.source)
                if m.parts[0] == self.wrapper
                else m  # dropped metadata beside the wrapper keeps its own name
                for m in self.members
                if len(m.parts) > 1 or m.parts[0] != self.wrapper
            ]
        for m in self.members:
            depth = len(m.parts) if m.is_dir else len(m.parts) - 1
            if depth > self.limits.max_depth:
                raise _refuse(m.name, f"deeper than {self.limits.max_depth} directory levels")
        if not files:
            raise _refuse(self.label, "the submission is empty")
        if not any(not m.is_dir and not self.ignores(m) for m in self.members):
            raise _refuse(self.label, "the submission is empty once config files are dropped")

    def ignores(self, member: _Member) -> bool:
        """True for a member that would configure the test run; it is never written."""
        rel = "/".join(member.parts)
        if self.ignore(rel):
            return True
        return self.wrapper is not None and self.ignore(f"{self.wrapper}/{rel}")


# --- readers for each kind of upload ------------------------------------------------------------

# Opens the data of a planned member as a ``read(n) -> bytes`` function (one call per member,
# in plan order).
_Reader = Callable[[int], bytes]
_Pump = Callable[[list[_Member]], Generator[tuple[_Member, _Reader], None, None]]


def _plan_source(
    data: bytes, limits: UploadLimits, label: str, ignore: Ignore
) -> tuple[_Plan, _Pump]:
    if not label.endswith(source_suffixes()) or b"\0" in data:
        raise _refuse(label, _NOT_RECOGNISED)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse(label, f"{_NOT_RECOGNISED} (source must be UTF-8 text)") from None
    if "/" in label.replace("\\", "/"):
        raise _refuse(label, "a single file's name must not contain a path")
    plan = _Plan(limits, label, ignore, compressed=None)
    plan.add(label, is_dir=False, size=len(data))
    plan.finish()

    def pump(members: list[_Member]) -> Generator[tuple[_Member, _Reader], None, None]:
        for member in members:
            yield member, io.BytesIO(data).read

    return plan, pump


def _zip_entry_count(data: bytes) -> int | None:
    """The member count the end-of-central-directory record declares (None if not found)."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 22 > len(data):
        return None
    count: int = struct.unpack_from("<H", data, end + 10)[0]
    return None if count == 0xFFFF else count  # 0xFFFF: the real count is in the ZIP64 record


def _zip_member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, which must be UTF-8 whether or not the entry says so."""
    name = info.orig_filename
    if not info.flag_bits & 0x800:
        # Without the UTF-8 flag zipfile decodes as cp437; the bytes must still be UTF-8.
        raw = name.encode("cp437")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(
                raw.decode("utf-8", "surrogateescape"), "name is not valid UTF-8"
            ) from None
    _split_name(name)
    return name


def _check_zip_member(info: zipfile.ZipInfo, name: str) -> bool:
    """Refuse a member that is not a plain file or directory; whether it is a directory."""
    kind = stat.S_IFMT(info.external_attr >> 16)
    if kind == stat.S_IFLNK:
        raise _refuse(name, "symlinks are not accepted")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise _refuse(name, "device files, FIFOs and sockets are not accepted")
    if info.flag_bits & 0x41:
        raise _refuse(name, "encrypted members are not accepted")
    if info.compress_type not in _ZIP_METHODS:
        raise _refuse(name, f"unsupported compression method {info.compress_type}")
    is_dir = name.replace("\\", "/").endswith("/")
    if is_dir and info.file_size:
        raise _refuse(name, "a directory entry carries data")
    if kind == stat.S_IFDIR and not is_dir:
        raise _refuse(name, "a directory entry without a trailing slash")
    if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
        raise _refuse(name, "stored member whose sizes disagree")
    return is_dir


def _plan_zip(data: bytes, limits: UploadLimits, label: str, ignore: Ignore) -> tuple[_Plan, _Pump]:
    count = _zip_entry_count(data)
    if count is not None and count > 2 * limits.max_files:
        # Files and directories are each capped at max_files; refuse before parsing them all.
        raise _refuse(
            label, f"the archive lists {count} members; at most {limits.max_files} files allowed"
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except UnicodeDecodeError as exc:
        raw = exc.object if isinstance(exc.object, bytes) else b""
        raise _refuse(raw.decode("utf-8", "surrogateescape"), "name is not valid UTF-8") from None
    except _READ_ERRORS as exc:
        raise _refuse(label, f"not a valid .zip ({_brief(exc)})") from None

    plan = _Plan(limits, label, ignore, compressed=len(data))
    infos = zf.infolist()
    for index, info in enumerate(infos):
        name = _zip_member_name(info)
        is_dir = _check_zip_member(info, name)
        plan.add(name, is_dir=is_dir, size=info.file_size, packed=info.compress_size, index=index)
    plan.finish()

    def pump(members: list[_Member]) -> Generator[tuple[_Member, _Reader], None, None]:
        for member in members:
            info = infos[member.index]
            # Ask for one byte more than declared: getting it proves the header lied. zipfile
            # would report that as a bad CRC, so it skips the CRC (no CRC attribute) and we
            # check it ourselves once the member has been read.
            probe = copy.copy(info)
            probe.file_size = member.size + 1
            del probe.CRC
            try:
                stream = zf.open(probe)
            except _READ_ERRORS as exc:
                raise _refuse(member.name, f"cannot be read ({_brief(exc)})") from None
            with stream:
                reader = _CrcReader(stream)
                yield member, reader
            if reader.crc != info.CRC:
                raise _refuse(member.name, "fails its CRC check")

    return plan, pump


class _CrcReader:
    """A ``read(n)`` that keeps the CRC-32 of what it returned."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.crc = 0

    def __call__(self, n: int) -> bytes:
        chunk = self._f.read(n)
        self.crc = zlib.crc32(chunk, self.crc)
        return chunk


class _ArchiveTooBig(Exception):
    """The decompressed tar stream went past its budget."""


class _Bounded:
    """A read-only view of a decompressed stream that refuses to go past ``budget`` bytes.

    ``tarfile`` reads long-name and pax headers whole, at whatever size the header declares;
    this keeps a lying header from decompressing gigabytes.
    """

    def __init__(self, raw: gzip.GzipFile, budget: int) -> None:
        self._raw = raw
        self._budget = budget

    def read(self, size: int = -1, /) -> bytes:
        pos = self._raw.tell()
        if size < 0:
            size = self._budget - pos + 1
        if pos + size > self._budget:
            raise _ArchiveTooBig
        return self._raw.read(size)

    def seek(self, pos: int, whence: int = 0, /) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("only absolute seeks")
        if pos > self._budget:
            raise _ArchiveTooBig
        return self._raw.seek(pos)

    def tell(self) -> int:
        return self._raw.tell()

    def write(self, b: bytes, /) -> int:
        raise io.UnsupportedOperation("read-only")

    def close(self) -> None:
        self._raw.close()


def _open_tar(data: bytes, limits: UploadLimits) -> tarfile.TarFile:
    # Headers cost 512 bytes each, pax and long-name records a little more.
    budget = limits.max_unpacked_bytes + 2 * limits.max_files * 8192 + 1024 * 1024
    stream = _Bounded(gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb"), budget)
    return tarfile.open(fileobj=stream, mode="r:", encoding="utf-8", errors="surrogateescape")


def _plan_tar(data: bytes, limits: UploadLimits, label: str, ignore: Ignore) -> tuple[_Plan, _Pump]:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as gz:
            head = gz.read(512)
    except _READ_ERRORS as exc:
        raise _refuse(label, f"not a valid .tar.gz ({_brief(exc)})") from None
    if not head.strip(b"\0"):
        raise _refuse(label, "the submission is empty")
    try:
        tf = _open_tar(data, limits)
    except _ArchiveTooBig:
        raise _refuse(label, "the archive unpacks past the limit") from None
    except (tarfile.TarError, *_READ_ERRORS) as exc:
        raise _refuse(label, f"{_NOT_RECOGNISED} ({_brief(exc)})") from None

    plan = _Plan(limits, label, ignore, compressed=len(data))
    with tf:
        for index in itertools.count():
            try:
                member = tf.next()
            except _ArchiveTooBig:
                raise _refuse(label, "the archive unpacks past the limit") from None
            except (tarfile.TarError, *_READ_ERRORS) as exc:
                raise _refuse(label, f"corrupt .tar.gz ({_brief(exc)})") from None
            if member is None:
                break
            _check_tar_member(member, plan, index)
    plan.finish()

    return plan, functools.partial(_tar_pump, data, limits, label)


def _tar_pump(
    data: bytes, limits: UploadLimits, label: str, members: list[_Member]
) -> Generator[tuple[_Member, _Reader], None, None]:
    """Each planned member of the .tar.gz with its reader, from a second pass over it."""
    wanted = {m.index: m for m in members}
    try:
        with _open_tar(data, limits) as again:
            for position, info in enumerate(again):
                planned = wanted.pop(position, None)
                if planned is None:
                    continue
                stream = again.extractfile(info)
                if stream is None or info.name != planned.name or info.size != planned.size:
                    raise _refuse(planned.name, "the archive changed while being read")
                with stream:
                    yield planned, stream.read
                if not wanted:
                    break
    except _ArchiveTooBig:
        raise _refuse(label, "the archive unpacks past the limit") from None
    except (tarfile.TarError, *_READ_ERRORS) as exc:
        raise _refuse(label, f"corrupt .tar.gz ({_brief(exc)})") from None
    if wanted:
        raise _refuse(label, "the archive changed while being read")


def _check_tar_member(member: tarfile.TarInfo, plan: _Plan, index: int) -> None:
    name = member.name
    _split_name(name)
    if member.issym():
        raise _refuse(name, "symlinks are not accepted")
    if member.islnk():
        raise _refuse(name, "hard links are not accepted")
    if member.ischr() or member.isblk() or member.isfifo():
        raise _refuse(name, "device files, FIFOs and sockets are not accepted")
    if member.issparse():
        raise _refuse(name, "sparse files are not accepted")
    if member.isdir():
        plan.add(name, is_dir=True, size=0, index=index)
    elif member.isreg():
        plan.add(name, is_dir=False, size=member.size, index=index)
    else:
        raise _refuse(name, f"unsupported tar member type {member.type!r}")


class _HashingReader:
    """A ``read(n)`` that also hashes what it returns."""

    def __init__(self, f: IO[bytes]) -> None:
        self._f = f
        self.hash = hashlib.sha256()

    def __call__(self, n: int) -> bytes:
        chunk = self._f.read(n)
        self.hash.update(chunk)
        return chunk


def _open_directory(
    src: Path, workdir: Path, limits: UploadLimits, label: str, ignore: Ignore
) -> Submission:
    plan = _Plan(limits, label, ignore, compressed=None)
    _walk(src, (), plan)
    plan.finish()
    digests: dict[str, bytes] = {}

    def pump(members: list[_Member]) -> Generator[tuple[_Member, _Reader], None, None]:
        for member in members:
            with os.fdopen(_open_beneath(src, member), "rb") as f:
                reader = _HashingReader(f)
                yield member, reader
            digests["/".join(member.source)] = reader.hash.digest()

    def tree_hash() -> str:
        # Over sorted (path, content digest): the same tree always hashes the same.
        h = hashlib.sha256()
        for rel in sorted(digests):
            h.update(rel.encode("utf-8") + b"\0" + digests[rel])
        return h.hexdigest()

    # Ignored files are read too, so that they count in the hash like they would in an archive.
    return _unpack(plan, pump, workdir, tree_hash, read_ignored=True)


def _walk(folder: Path, rel: tuple[str, ...], plan: _Plan) -> None:
    with os.scandir(folder) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        source = (*rel, entry.name)
        name = "/".join(source)
        if entry.is_symlink():
            raise _refuse(name, "symlinks are not accepted")
        if entry.is_dir(follow_symlinks=False):
            plan.add(name + "/", is_dir=True, size=0, source=source)
            _walk(Path(entry.path), source, plan)
        elif entry.is_file(follow_symlinks=False):
            size = entry.stat(follow_symlinks=False).st_size
            plan.add(name, is_dir=False, size=size, source=source)
        else:
            raise _refuse(name, "device files, FIFOs and sockets are not accepted")


def _open_beneath(src: Path, member: _Member) -> int:
    """Open a file of a directory upload without following any link on the way."""
    dir_flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    fd = os.open(src, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in member.source[:-1]:
            nxt = os.open(part, dir_flags, dir_fd=fd)
            os.close(fd)
            fd = nxt
        leaf = os.open(member.source[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except OSError:
        raise _refuse(member.name, "the folder changed while being read") from None
    finally:
        os.close(fd)
    if not stat.S_ISREG(os.fstat(leaf).st_mode):
        os.close(leaf)
        raise _refuse(member.name, "the folder changed while being read")
    return leaf


# --- writing ----------------------------------------------------------------------------------


def _unpack(
    plan: _Plan,
    pump: _Pump,
    workdir: Path,
    digest: Callable[[], str],
    *,
    read_ignored: bool = False,
) -> Submission:
    """Write the planned members into a fresh private folder; on any failure remove it."""
    root = Path(tempfile.mkdtemp(prefix="submission-", dir=workdir))
    try:
        made: set[tuple[str, ...]] = set()
        for member in plan.members:
            if member.is_dir and not plan.ignores(member):
                _make_dirs(root, member.parts, made)
        files = [m for m in plan.members if not m.is_dir]
        todo = files if read_ignored else [m for m in files if not plan.ignores(m)]
        left = plan.limits.max_unpacked_bytes
        # closing(): on a refusal, the reader's open files are closed now, not at collection.
        with contextlib.closing(pump(todo)) as pumped:
            for member, read in pumped:
                if plan.ignores(member):
                    left -= _copy(member, read, left, None)
                    continue
                _make_dirs(root, member.parts[:-1], made)
                fd = os.open(root.joinpath(*member.parts), _WRITE_FLAGS, 0o644)
                with os.fdopen(fd, "wb") as out:
                    left -= _copy(member, read, left, out)
        kept = sorted("/".join(m.parts) for m in files if not plan.ignores(m))
        dropped = sorted("/".join(m.parts) for m in files if plan.ignores(m))
        return Submission(root, digest(), tuple(kept), tuple(dropped))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise


def _make_dirs(root: Path, parts: tuple[str, ...], made: set[tuple[str, ...]]) -> None:
    for depth in range(1, len(parts) + 1):
        prefix = parts[:depth]
        if prefix not in made:
            os.mkdir(root.joinpath(*prefix), 0o755)
            made.add(prefix)


def _copy(member: _Member, read: _Reader, left: int, out: IO[bytes] | None) -> int:
    """Copy one member (or just read it, for ``out=None``), counting the bytes really produced,
    and refuse as soon as they pass the declared size or the size budget left."""
    limit = min(member.size, left)
    total = 0
    while True:
        try:
            chunk = read(min(_CHUNK, limit - total + 1))
        except (_ArchiveTooBig, *_READ_ERRORS) as exc:
            raise _refuse(member.name, f"cannot be read ({_brief(exc)})") from None
        if not chunk:
            break
        total += len(chunk)
        if total > member.size:
            raise _refuse(member.name, "holds more data than its header declares")
        if total > left:
            raise _refuse(member.name, "the upload unpacks past the size limit")
        if out is not None:
            out.write(chunk)
    if total != member.size:
        raise _refuse(member.name, "holds less data than its header declares")
    return total
