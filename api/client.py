"""A small client of the HTTP API: what ``grader submit`` uses."""

from __future__ import annotations

import io
import tarfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

_SKIP = frozenset({"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
FINISHED = ("graded", "error")


class ClientError(Exception):
    """The server refused the request (4xx): the input is at fault."""


class ServerError(Exception):
    """The server failed or could not be reached (5xx, network, timeout)."""


@dataclass
class Payload:
    filename: str
    data: bytes


def pack(path: Path) -> Payload:
    """A file as it is; a folder as a .tar.gz of its files (caches and VCS left out)."""
    if path.is_file():
        return Payload(path.name, path.read_bytes())
    if not path.is_dir():
        raise ClientError(f"{path}: no such file or folder")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for item in sorted(path.rglob("*")):
            rel = item.relative_to(path)
            if any(p in _SKIP for p in rel.parts):
                continue
            tar.add(item, arcname=rel.as_posix(), recursive=False)
    return Payload(f"{path.name or 'submission'}.tar.gz", buf.getvalue())


def _message(resp: httpx.Response) -> str:
    try:
        err = resp.json()["error"]
        return f"{err['message']} ({err['code']}, HTTP {resp.status_code})"
    except (ValueError, KeyError, TypeError):
        return f"HTTP {resp.status_code}: {resp.text[:200]}"


class Client:
    """Calls the API with a bearer token; 4xx raise ``ClientError``, the rest ``ServerError``."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = httpx.Client(
            base_url=url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
        )

    def close(self) -> None:
        self.http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            resp = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServerError(f"cannot reach {self.http.base_url}: {exc}") from None
        if 400 <= resp.status_code < 500:
            raise ClientError(_message(resp))
        if resp.status_code >= 500:
            raise ServerError(_message(resp))
        return resp

    def upload(
        self,
        challenge: str,
        payload: Payload,
        *,
        callback_url: str | None = None,
        idempotency_key: str | None = None,
        retries: int = 3,
        language: str | None = None,
    ) -> dict[str, Any]:
        """POST the upload; network failures are retried with the same Idempotency-Key, so
        a retry never makes a second submission. ``language``: a service challenge's
        language of the submission (the service recognises it from the files otherwise)."""
        key = idempotency_key or uuid.uuid4().hex
        fields = {"callback_url": callback_url, "language": language}
        data = {k: v for k, v in fields.items() if v} or None
        for attempt in range(retries + 1):
            try:
                resp = self._request(
                    "POST",
                    f"/v1/challenges/{challenge}/submissions",
                    files={"file": (payload.filename, payload.data, "application/octet-stream")},
                    data=data,
                    headers={"Idempotency-Key": key},
                )
                body: dict[str, Any] = resp.json()
                return body
            except ServerError:
                if attempt == retries:
                    raise
                time.sleep(min(8.0, 1.0 * 2**attempt))
        raise AssertionError("unreachable")

    def submission(self, submission_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self._request("GET", f"/v1/submissions/{submission_id}").json()
        return body

    def wait(
        self,
        submission_id: str,
        *,
        timeout: float,
        interval: float = 1.0,
        on_status: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll until graded or error; ``ServerError`` when ``timeout`` passes first."""
        deadline = time.monotonic() + timeout
        failures = 0
        while True:
            try:
                state = self.submission(submission_id)
                failures = 0
            except ServerError:
                failures += 1
                if failures > 5 or time.monotonic() > deadline:
                    raise
                time.sleep(interval)
                continue
            if on_status is not None:
                on_status(state)
            if state.get("status") in FINISHED:
                return state
            if time.monotonic() > deadline:
                raise ServerError(
                    f"submission {submission_id} still {state.get('status')} after {timeout:g}s"
                )
            time.sleep(interval)
