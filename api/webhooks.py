"""Webhooks: a signed summary POSTed to a submission's callback URL when it finishes.

Signature: ``X-Grader-Signature: sha256=<hex>`` where hex is HMAC-SHA256 with
``GRADER_SECRET_KEY`` over ``f"{timestamp}.{body}"`` and ``timestamp`` is the
``X-Grader-Timestamp`` header (Unix seconds). Receivers check it with ``verify``.
Deliveries are retried with exponential backoff; each carries ``X-Grader-Delivery``
(its id) so a receiver can drop a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.auth import REVIEWERS
from api.db import utcnow
from api.models import Submission, WebhookDelivery
from api.queue import enqueue_webhook
from api.services import Services
from grader import __version__
from grader.challenge import Feedback

log = structlog.get_logger("grader.webhooks")

SIGNATURE_HEADER = "X-Grader-Signature"
TIMESTAMP_HEADER = "X-Grader-Timestamp"
DELIVERY_HEADER = "X-Grader-Delivery"
EVENT = "submission.finished"
_BACKOFF_BASE_S = 2.0
_BACKOFF_MAX_S = 600.0


def sign(secret: str, timestamp: str, body: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: str,
    signature: str,
    *,
    tolerance_s: float = 300.0,
    now: float | None = None,
) -> bool:
    """True when ``signature`` is ours for this body and the timestamp is recent."""
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): 2, 4, 8, ... capped."""
    return float(min(_BACKOFF_MAX_S, _BACKOFF_BASE_S * 2 ** max(0, attempt - 1)))


def payload(row: Submission, *, uploader_role: str, feedback: Feedback | None) -> dict[str, Any]:
    """The summary sent on completion. The caller chose the URL, so it shows no more than
    the caller may see: a candidate's callback carries the total only when the challenge
    shows candidates their score, and an error only as its code."""
    body: dict[str, Any] = {
        "event": EVENT,
        "id": row.id,
        "status": row.status,
        "challenge": {"slug": row.challenge_slug, "version": row.challenge_version},
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        "url": f"/v1/submissions/{row.id}",
    }
    sees_score = uploader_role in REVIEWERS or (feedback is not None and feedback.score)
    if row.status == "graded" and sees_score:
        body["total"] = row.total
    if row.status == "error" and row.error is not None:
        body["error"] = {"code": row.error.get("code", "error")}
    return body


def create_delivery(db: Session, row: Submission, body: dict[str, Any]) -> WebhookDelivery:
    now = utcnow()
    delivery = WebhookDelivery(
        submission_id=row.id,
        url=row.callback_url or "",
        status="pending",
        attempts=0,
        body=json.dumps(body, separators=(",", ":"), sort_keys=True),
        next_attempt_at=now,
        created_at=now,
    )
    db.add(delivery)
    db.flush()
    return delivery


class UnsafeTarget(Exception):
    """The callback URL resolves somewhere the service must not send to."""


def check_target(url: str, *, allow_private: bool) -> None:
    """Refuse URLs that resolve to loopback, private, link-local or reserved addresses
    (they would let a caller reach the service's own network)."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeTarget(f"cannot resolve {host!r}: {exc}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        if not addr.is_global:
            raise UnsafeTarget(f"{host!r} resolves to a non-public address ({addr})")


def deliver(svc: Services, delivery_id: int, *, client: httpx.Client | None = None) -> str:
    """One attempt at a delivery; schedules the next one on failure. Returns what happened."""
    settings = svc.settings
    now = utcnow()
    lease = now + timedelta(seconds=settings.webhook_timeout_seconds + 30)
    with svc.session() as db:
        # Claim the attempt: a duplicate message (sweep, redelivery) finds nothing to do.
        claimed = (
            db.connection()
            .execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.id == delivery_id,
                    WebhookDelivery.status == "pending",
                    WebhookDelivery.next_attempt_at <= now + timedelta(seconds=1),
                )
                .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=lease)
            )
            .rowcount
        )
        row = db.get(WebhookDelivery, delivery_id) if claimed else None
        if row is None:
            return "skipped"
        url, body, attempt, sub_id = row.url, row.body, row.attempts, row.submission_id
    bound = log.bind(submission_id=sub_id, delivery_id=delivery_id, attempt=attempt)
    status_code: int | None = None
    error: str | None = None
    permanent = False
    try:
        check_target(url, allow_private=settings.webhook_allow_private)
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"grader/{__version__}",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(settings.secret_key, timestamp, body),
            DELIVERY_HEADER: str(delivery_id),
            "X-Grader-Event": EVENT,
        }
        own = client is None
        http = client or httpx.Client(
            timeout=settings.webhook_timeout_seconds, follow_redirects=False, trust_env=False
        )
        try:
            resp = http.post(url, content=body.encode(), headers=headers)
        finally:
            if own:
                http.close()
        status_code = resp.status_code
        if not 200 <= resp.status_code < 300:
            error = f"HTTP {resp.status_code}"
    except UnsafeTarget as exc:
        error, permanent = str(exc), True
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]

    finished = utcnow()
    if error is None:
        _finish(
            svc,
            delivery_id,
            attempt,
            status="delivered",
            response_status=status_code,
            delivered_at=finished,
        )
        bound.info("webhook delivered", status=status_code)
        return "delivered"
    if permanent or attempt >= settings.webhook_max_attempts:
        _finish(
            svc,
            delivery_id,
            attempt,
            status="failed",
            response_status=status_code,
            last_error=error,
        )
        bound.warning("webhook failed for good", error=error)
        return "failed"
    wait = backoff(attempt)
    _finish(
        svc,
        delivery_id,
        attempt,
        status="pending",
        response_status=status_code,
        last_error=error,
        next_attempt_at=finished + timedelta(seconds=wait),
    )
    enqueue_webhook(svc.celery, delivery_id, countdown=wait)
    bound.info("webhook failed; will retry", error=error, retry_in_s=wait)
    return "retry"


def _finish(
    svc: Services,
    delivery_id: int,
    attempt: int,
    *,
    status: str,
    response_status: int | None,
    last_error: str | None = None,
    delivered_at: datetime | None = None,
    next_attempt_at: datetime | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "response_status": response_status,
        "last_error": last_error,
    }
    if delivered_at is not None:
        values["delivered_at"] = delivered_at
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    with svc.session() as db:
        db.connection().execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.attempts == attempt)
            .values(**values)
        )
