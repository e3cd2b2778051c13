"""Token-bucket rate limiting: a single bucket and a limiter with one bucket per key."""

from __future__ import annotations

import math

# Token counts are floats; a shortfall this small is rounding, not a real shortage.
EPSILON = 1e-9


class RateLimitError(Exception):
    """Raised by ``RateLimiter.consume`` when a request is denied."""

    def __init__(self, key: str, retry_after: float) -> None:
        """Record the key and how many seconds to wait before retrying."""
        super().__init__(
            f"rate limit exceeded for key {key!r}: retry after {retry_after:.3f}s"
        )
        self.key = key
        self.retry_after = retry_after


def _positive(name: str, value: object) -> float:
    """Return ``value`` as a float if it is a positive finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


def _cost(cost: object, capacity: float) -> float:
    """Validate a request cost: a positive number no larger than ``capacity``."""
    checked = _positive("cost", cost)
    if checked > capacity:
        raise ValueError(f"cost {checked!r} exceeds capacity {capacity!r}")
    return checked


class TokenBucket:
    """A bucket of ``capacity`` tokens refilled at ``refill_rate`` tokens per second."""

    def __init__(self, capacity: float, refill_rate: float, now: float = 0.0) -> None:
        """Create a bucket that is full at time ``now``."""
        self.capacity = _positive("capacity", capacity)
        self.refill_rate = _positive("refill_rate", refill_rate)
        self._tokens = self.capacity
        self.last_seen = float(now)

    def _advance(self, now: float) -> None:
        """Move the bucket's clock to ``now`` and add the tokens earned meanwhile."""
        if now < self.last_seen:
            raise ValueError(f"time went backwards: {now!r} < {self.last_seen!r}")
        earned = (now - self.last_seen) * self.refill_rate
        self._tokens = self._tokens + earned
        self.last_seen = now

    def available(self, now: float) -> float:
        """Return the tokens available at time ``now``."""
        self._advance(now)
        return self._tokens

    def retry_after(self, now: float, cost: float = 1) -> float:
        """Return the seconds until ``cost`` tokens are available (0.0 if now)."""
        cost = _cost(cost, self.capacity)
        missing = cost - self.available(now)
        return 0.0 if missing <= EPSILON else missing / self.refill_rate

    def try_consume(self, now: float, cost: float = 1) -> bool:
        """Take ``cost`` tokens if available at ``now``; return whether it was."""
        cost = _cost(cost, self.capacity)
        if self.available(now) + EPSILON < cost:
            return False
        self._tokens = max(0.0, self._tokens - cost)
        return True


class RateLimiter:
    """Independent token buckets, one per key, all with the same parameters."""

    def __init__(self, capacity: float, refill_rate: float) -> None:
        """Create a limiter whose buckets all use ``capacity`` and ``refill_rate``."""
        self.capacity = _positive("capacity", capacity)
        self.refill_rate = _positive("refill_rate", refill_rate)
        self._buckets: dict[str, TokenBucket] = {}

    def _bucket(self, key: str, now: float, cost: float) -> TokenBucket:
        """Validate ``cost``, then return the key's bucket (new and full if unknown)."""
        _cost(cost, self.capacity)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = TokenBucket(self.capacity, self.refill_rate, now)
            self._buckets[key] = bucket
        return bucket

    def check(self, key: str, now: float, cost: float = 1) -> dict[str, object]:
        """Decide one request; return ``allowed``, ``remaining`` and ``retry_after``."""
        bucket = self._bucket(key, now, cost)
        allowed = bucket.try_consume(now, cost)
        return {
            "allowed": allowed,
            "remaining": bucket.available(now),
            "retry_after": 0.0 if allowed else bucket.retry_after(now, cost),
        }

    def allow(self, key: str, now: float, cost: float = 1) -> bool:
        """Return whether a request of ``cost`` for ``key`` at ``now`` is allowed."""
        return self._bucket(key, now, cost).try_consume(now, cost)

    def consume(self, key: str, now: float, cost: float = 1) -> float:
        """Take ``cost`` tokens or raise ``RateLimitError``; return tokens left."""
        bucket = self._bucket(key, now, cost)
        if not bucket.try_consume(now, cost):
            raise RateLimitError(key, bucket.retry_after(now, cost))
        return bucket.available(now)

    def remaining(self, key: str, now: float) -> float:
        """Return the tokens available to ``key`` at ``now`` (capacity if new)."""
        bucket = self._buckets.get(key)
        return self.capacity if bucket is None else bucket.available(now)

    def retry_after(self, key: str, now: float, cost: float = 1) -> float:
        """Return the seconds ``key`` must wait until ``cost`` tokens are available."""
        _cost(cost, self.capacity)
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket.retry_after(now, cost)

    def reset(self, key: str) -> bool:
        """Forget ``key``'s bucket; return whether it existed."""
        return self._buckets.pop(key, None) is not None

    def keys(self) -> list[str]:
        """Return the keys that currently have a bucket, sorted."""
        return sorted(self._buckets)

    def prune(self, now: float) -> int:
        """Forget every bucket that is full at ``now``; return how many."""
        full = [
            key
            for key, bucket in self._buckets.items()
            if bucket.last_seen <= now
            and bucket.available(now) >= self.capacity - EPSILON
        ]
        for key in full:
            del self._buckets[key]
        return len(full)
