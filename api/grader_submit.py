#!/usr/bin/env python3
"""grader-submit: upload a solution to a grader service and wait for its feedback.

A single file that needs only Python 3.9+ (standard library): candidates download it
from the service (``GET /v1/client/grader-submit.py``) instead of installing grader.

    python3 grader-submit.py --url URL --token TOKEN [--language LANG] CHALLENGE PATH

PATH is a source file, a folder (sent as .tar.gz, caches and VCS folders left out),
a .zip or a .tar.gz. Prints the feedback the challenge allows; exits 0 when graded,
2 when the upload is refused, 3 when the service fails or cannot be reached.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

SKIP = {"__pycache__", ".git", ".pytest_cache", ".mypy_cache", ".ruff_cache", "node_modules"}


class Refused(Exception):
    """The service refused the request (4xx)."""


class Failed(Exception):
    """The service failed or could not be reached."""


def pack(path: Path) -> tuple[str, bytes]:
    if path.is_file():
        return path.name, path.read_bytes()
    if not path.is_dir():
        raise Refused(f"{path}: no such file or folder")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for item in sorted(path.rglob("*")):
            rel = item.relative_to(path)
            if any(p in SKIP for p in rel.parts) or item.is_symlink():
                continue
            tar.add(item, arcname=rel.as_posix(), recursive=False)
    return f"{path.name or 'submission'}.tar.gz", buf.getvalue()


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[str, bytes]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        parts.append(f"{head}{value}\r\n".encode())
    safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{safe}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


def request(
    url: str,
    token: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, object]:
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            data = json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise _refusal(exc) from None
    except (urllib.error.URLError, OSError) as exc:
        raise Failed(f"cannot reach {url}: {exc}") from None
    if not isinstance(data, dict):
        raise Failed(f"{url}: the answer is not a JSON object")
    return data


def _refusal(exc: urllib.error.HTTPError) -> Exception:
    try:
        err = json.loads(exc.read().decode("utf-8"))["error"]
        message = f"{err['message']} ({err['code']}, HTTP {exc.code})"
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {exc.code}"
    return (Refused if 400 <= exc.code < 500 else Failed)(message)


def show(state: dict[str, object]) -> str:
    lines = [f"submission {state.get('id')}: {state.get('status')}"]
    feedback = state.get("feedback")
    if isinstance(feedback, dict):
        public = feedback.get("public_tests")
        if isinstance(public, dict):
            lines.append(f"public tests: {public.get('passed')} of {public.get('total')} passed")
            for test in public.get("tests") or []:
                if isinstance(test, dict):
                    lines.append(f"  {test.get('outcome', '?'):<12} {test.get('id')}")
        hidden = feedback.get("hidden_tests")
        if isinstance(hidden, dict) and hidden.get("total") is not None:
            lines.append(f"hidden tests: {hidden.get('passed')} of {hidden.get('total')} passed")
        scores = feedback.get("scores")
        if isinstance(scores, dict):
            lines.append(f"score: {scores.get('total')} / 100")
    error = state.get("error")
    if isinstance(error, dict):
        lines.append(f"error: {error.get('message')}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="grader-submit", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the grader service, e.g. https://grader.example")
    ap.add_argument("--token", required=True, help="your candidate token")
    ap.add_argument("--language", help="the language, for challenges offered in several")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the result")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("challenge")
    ap.add_argument("path", type=Path)
    args = ap.parse_args(argv)
    base = args.url.rstrip("/")
    try:
        filename, data = pack(args.path)
        fields = {"language": args.language} if args.language else {}
        ctype, body = multipart(fields, filename, data)
        key = uuid.uuid4().hex
        headers = {"Content-Type": ctype, "Idempotency-Key": key}
        url = f"{base}/v1/challenges/{args.challenge}/submissions"
        for attempt in range(4):
            try:
                sub = request(url, args.token, "POST", body, headers)
                break
            except Failed:
                if attempt == 3:
                    raise
                time.sleep(2**attempt)
        deadline = time.monotonic() + args.timeout
        while True:
            state = request(f"{base}/v1/submissions/{sub['id']}", args.token)
            if state.get("status") in ("graded", "error"):
                break
            if time.monotonic() > deadline:
                raise Failed(f"still {state.get('status')} after {args.timeout:g} s")
            time.sleep(1.0)
    except Refused as exc:
        print(f"grader-submit: {exc}", file=sys.stderr)
        return 2
    except Failed as exc:
        print(f"grader-submit: {exc}", file=sys.stderr)
        return 3
    print(json.dumps(state, indent=2) if args.json else show(state))
    return 0 if state.get("status") == "graded" else 3


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
