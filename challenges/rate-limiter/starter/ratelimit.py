"""Token-bucket rate limiting: a single bucket and a limiter with one bucket per key.

See README.md for the exact rules. Keep every name and signature below.
"""

from __future__ import annotations


class RateLimitError(Exception):
    """Raised by ``RateLimiter.consume`` when a request is denied.

    ``str(exc)`` is ``rate limit exceeded for key '<key>': retry after <s>s``
    with the retry-after in seconds and 3 decimals; the exception also has the
    attributes ``key`` and ``retry_after``.
    """

    def __init__(self, key: str, retry_after: float) -> None:
        """Record the key and how many seconds to wait before retrying."""
        raise NotImplementedError


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``refill_rate`` tokens per second."""

    def __init__(self, capacity: float, refill_rate: float, now: float = 0.0) -> None:
        """Create a bucket that is full at time ``now``.

        Raises TypeError / ValueError (naming the parameter) for invalid values.
        """
        raise NotImplementedError

    def available(self, now: float) -> float:
        """Return the tokens available at time ``now``."""
        raise NotImplementedError

    def try_consume(self, now: float, cost: float = 1) -> bool:
        """Take ``cost`` tokens if available at ``now``; return whether it was."""
        raise NotImplementedError

    def retry_after(self, now: float, cost: float = 1) -> float:
        """Return the seconds until ``cost`` tokens are available (0.0 if now)."""
        raise NotImplementedError


class RateLimiter:
    """Independent token buckets, one per key, all with the same parameters."""

    def __init__(self, capacity: float, refill_rate: float) -> None:
        """Create a limiter whose buckets all use ``capacity`` and ``refill_rate``."""
        raise NotImplementedError

    def allow(self, key: str, now: float, cost: float = 1) -> bool:
        """Return whether a request of ``cost`` for ``key`` at ``now`` is allowed."""
        raise NotImplementedError

    def check(self, key: str, now: float, cost: float = 1) -> dict:
        """Decide one request; return ``{"allowed", "remaining", "retry_after"}``."""
        raise NotImplementedError

    def consume(self, key: str, now: float, cost: float = 1) -> float:
        """Take ``cost`` tokens or raise ``RateLimitError``; return tokens left."""
        raise NotImplementedError

    def remaining(self, key: str, now: float) -> float:
        """Return the tokens available to ``key`` at ``now`` (capacity if new)."""
        raise NotImplementedError

    def retry_after(self, key: str, now: float, cost: float = 1) -> float:
        """Return the seconds ``key`` must wait until ``cost`` tokens are available."""
        raise NotImplementedError

    def reset(self, key: str) -> bool:
        """Forget ``key``'s bucket; return whether it existed."""
        raise NotImplementedError

    def keys(self) -> list[str]:
        """Return the keys that currently have a bucket, sorted."""
        raise NotImplementedError

    def prune(self, now: float) -> int:
        """Forget every bucket that is full at ``now``; return how many."""
        raise NotImplementedError
