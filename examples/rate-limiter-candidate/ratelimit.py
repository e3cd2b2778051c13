# A plausible candidate's submission: mostly right, a few edge cases missed,
# some style slips and a missing docstring or two. Used by `make demo`.
import math


class RateLimitError(Exception):
    def __init__(self, key, retry_after):
        super().__init__(f"rate limit exceeded for key {key!r}: retry after {retry_after:.3f}s")
        self.key = key
        self.retry_after = retry_after


class TokenBucket:
    """Token bucket."""

    def __init__(self, capacity, refill_rate, now=0.0):
        if capacity <= 0 or refill_rate <= 0:
            raise ValueError("capacity and refill_rate must be positive")
        self.capacity = float(capacity)
        self.refill_rate = float(refill_rate)
        self.tokens = self.capacity
        self.last_seen = now

    def available(self, now):
        if now > self.last_seen:
            self.tokens = min(self.capacity, self.tokens + (now - self.last_seen) * self.refill_rate)
            self.last_seen = now
        return self.tokens

    def retry_after(self, now, cost=1):
        missing = cost - self.available(now)
        if missing <= 0: return 0.0
        return missing / self.refill_rate

    def try_consume(self, now, cost=1):
        if self.available(now) >= cost:
            self.tokens -= cost
            return True
        else:
            return False


class RateLimiter:
    """Per-key limiter."""

    def __init__(self, capacity, refill_rate):
        if capacity <= 0 or refill_rate <= 0:
            raise ValueError("capacity and refill_rate must be positive")
        self.capacity = capacity
        self.refill_rate = refill_rate
        self.buckets = {}

    def _get(self, key, now):
        if key not in self.buckets:
            self.buckets[key] = TokenBucket(self.capacity, self.refill_rate, now)
        return self.buckets[key]

    def check(self, key, now, cost=1):
        b = self._get(key, now)
        ok = b.try_consume(now, cost)
        return {"allowed": ok, "remaining": b.available(now), "retry_after": 0.0 if ok else b.retry_after(now, cost)}

    def allow(self, key, now, cost=1):
        return self._get(key, now).try_consume(now, cost)

    def consume(self, key, now, cost=1):
        b = self._get(key, now)
        if not b.try_consume(now, cost):
            raise RateLimitError(key, b.retry_after(now, cost))
        return b.available(now)

    def remaining(self, key, now):
        if key in self.buckets:
            return self.buckets[key].available(now)
        return self.capacity

    def retry_after(self, key, now, cost=1):
        if key not in self.buckets:
            return 0.0
        return self.buckets[key].retry_after(now, cost)

    def reset(self, key):
        return self.buckets.pop(key, None) != None

    def keys(self):
        return sorted(self.buckets.keys())

    def prune(self, now):
        full = [k for k, b in self.buckets.items() if b.available(now) >= self.capacity]
        for k in full:
            del self.buckets[k]
        return len(full)
