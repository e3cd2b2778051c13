"""Receiving a multipart upload as a stream: the file goes to disk while it arrives, and
the size limit is enforced on the bytes received, so an oversized upload is refused (413)
as soon as it passes the limit, never buffered whole."""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from api.errors import ApiError
from api.storage import ArchiveStore

FILE_FIELD = "file"
# Room for the multipart framing and the small text fields around the file.
MULTIPART_OVERHEAD = 64 * 1024
MAX_FIELD_BYTES = 4096
MAX_PARTS = 8
MAX_FILENAME = 255


@dataclass
class Upload:
    """A received upload: the file on disk (a temp file) and the text fields."""

    path: Path
    filename: str
    size: int
    sha256: str
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def safe_filename(raw: str) -> str:
    """The last path component of a client-supplied file name, bounded, never empty."""
    name = PurePosixPath(raw.replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch.isprintable())
    if name in ("", ".", ".."):
        return "upload"
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > MAX_FILENAME:
        name = encoded[:MAX_FILENAME].decode("utf-8", "ignore")
    return name


class _Receiver:
    """Parser callbacks: route each part to the temp file or to a small text buffer."""

    def __init__(self, out: int, max_bytes: int) -> None:
        self.out = out
        self.max_bytes = max_bytes
        self.hash = hashlib.sha256()
        self.size = 0
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_seen = False
        self.parts = 0
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._buffer = bytearray()

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            raise ApiError(422, "invalid-request", f"too many form fields (at most {MAX_PARTS})")
        self._headers = {}
        self._name = None
        self._is_file = False
        self._buffer = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field = bytearray()
        self._header_value = bytearray()

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        raw_name = options.get(b"name")
        if raw_name is None:
            raise ApiError(422, "invalid-request", "a form part has no name")
        self._name = raw_name.decode("utf-8", "replace")
        if self._name == FILE_FIELD:
            if self.file_seen:
                raise ApiError(422, "invalid-request", "more than one 'file' part")
            self.file_seen = True
            self._is_file = True
            raw_filename = options.get(b"filename")
            # Browsers send UTF-8 bytes; the parser hands them over as latin-1.
            self.filename = safe_filename(
                raw_filename.decode("utf-8", "replace") if raw_filename is not None else ""
            )

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file:
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise ApiError(
                    413, "too-large", f"the upload is over the {_mib(self.max_bytes)} limit"
                )
            self.hash.update(chunk)
            _write_all(self.out, chunk)
        else:
            self._buffer += chunk
            if len(self._buffer) > MAX_FIELD_BYTES:
                raise ApiError(
                    422,
                    "invalid-request",
                    f"form field {self._name!r} is over {MAX_FIELD_BYTES} bytes",
                )

    def on_part_end(self) -> None:
        if not self._is_file and self._name is not None:
            try:
                self.fields[self._name] = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(
                    422, "invalid-request", f"form field {self._name!r} is not UTF-8 text"
                ) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


async def receive_upload(request: Request, store: ArchiveStore, max_bytes: int) -> Upload:
    """Stream a ``multipart/form-data`` body with a ``file`` part to a temp file."""
    ctype, options = parse_options_header(request.headers.get("content-type"))
    if ctype != b"multipart/form-data":
        raise ApiError(
            415,
            "unsupported-media-type",
            "send the upload as multipart/form-data with a 'file' part",
        )
    boundary = options.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise ApiError(422, "invalid-request", "multipart/form-data without a valid boundary")
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isdigit()
        and (int(declared) > max_bytes + MULTIPART_OVERHEAD)
    ):
        raise ApiError(413, "too-large", f"the upload is over the {_mib(max_bytes)} limit")

    fd, path = store.temp_file()
    receiver = _Receiver(fd, max_bytes)
    try:
        parser = MultipartParser(boundary, receiver.callbacks())  # type: ignore[arg-type]
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_bytes + MULTIPART_OVERHEAD:
                raise ApiError(413, "too-large", f"the upload is over the {_mib(max_bytes)} limit")
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except ApiError:
        _discard(fd, path)
        raise
    except ClientDisconnect:
        _discard(fd, path)
        raise ApiError(400, "bad-request", "the client went away during the upload") from None
    except (FormParserError, ValueError) as exc:
        _discard(fd, path)
        raise ApiError(422, "invalid-request", f"malformed multipart body: {exc}") from None
    except BaseException:
        _discard(fd, path)
        raise
    os.close(fd)
    if not receiver.file_seen:
        path.unlink(missing_ok=True)
        raise ApiError(422, "invalid-request", "the form has no 'file' part")
    return Upload(
        path=path,
        filename=receiver.filename or "upload",
        size=receiver.size,
        sha256=receiver.hash.hexdigest(),
        fields=receiver.fields,
    )


def _discard(fd: int, path: Path) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
    path.unlink(missing_ok=True)
