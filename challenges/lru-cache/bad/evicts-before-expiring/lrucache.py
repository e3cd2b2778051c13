"""A least-recently-used cache whose entries may expire after a time-to-live."""

from __future__ import annotations

import heapq
import math
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any


@dataclass
class _Entry:
    """A stored value and the clock time at which it expires (``inf``: never)."""

    value: Any
    expires_at: float


def _capacity(value: object) -> int:
    """Return ``value`` if it is a valid capacity (an int >= 1)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"capacity must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"capacity must be at least 1, got {value}")
    return value


def _ttl(name: str, value: object) -> float | None:
    """Return ``value`` if it is None or a valid time-to-live (a positive number)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number or None, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


class LRUCache:
    """A bounded key-value cache that evicts the least recently used entry.

    Time is passed in explicitly; the cache's clock is the largest ``now`` seen.
    An entry is gone the instant the clock reaches its expiry time.
    """

    def __init__(self, capacity: int, default_ttl: float | None = None) -> None:
        """Create an empty cache holding at most ``capacity`` entries."""
        self.capacity = _capacity(capacity)
        self.default_ttl = _ttl("default_ttl", default_ttl)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._deadlines: list[tuple[float, int, Hashable]] = []
        self._sequence = 0
        self._clock = -math.inf
        self._stats = {"hits": 0, "misses": 0, "evictions": 0, "expirations": 0}

    def _advance(self, now: float) -> None:
        """Move the clock to ``now`` and drop every entry that has expired by then."""
        if now < self._clock:
            raise ValueError(f"time went backwards: {now!r} < {self._clock!r}")
        self._clock = now
        while self._deadlines and self._deadlines[0][0] <= now:
            expires_at, _, key = heapq.heappop(self._deadlines)
            entry = self._entries.get(key)
            # Overwritten or deleted entries leave stale deadlines behind.
            if entry is not None and entry.expires_at == expires_at:
                del self._entries[key]
                self._stats["expirations"] += 1

    def _evict_down_to(self, size: int) -> int:
        """Evict least recently used entries until at most ``size`` remain."""
        evicted = 0
        while len(self._entries) > size:
            self._entries.popitem(last=False)
            evicted += 1
        self._stats["evictions"] += evicted
        return evicted

    def get(self, key: Hashable, now: float, default: Any = None) -> Any:
        """Return the live value for ``key`` (a hit, now most recent) or ``default``."""
        self._advance(now)
        entry = self._entries.get(key)
        if entry is None:
            self._stats["misses"] += 1
            return default
        self._stats["hits"] += 1
        self._entries.move_to_end(key)
        return entry.value

    def peek(self, key: Hashable, now: float, default: Any = None) -> Any:
        """Return the live value for ``key`` or ``default``; no recency, no stats."""
        self._advance(now)
        entry = self._entries.get(key)
        return default if entry is None else entry.value

    def put(
        self, key: Hashable, value: Any, now: float, ttl: float | None = None
    ) -> None:
        """Store ``value`` under ``key`` as the most recent entry, evicting if full."""
        ttl = _ttl("ttl", ttl)
        # Make room first, then look at the clock.
        if key not in self._entries:
            self._evict_down_to(self.capacity - 1)
        self._advance(now)
        if ttl is None:
            ttl = self.default_ttl
        expires_at = math.inf if ttl is None else now + ttl
        if key in self._entries:
            self._entries.move_to_end(key)
        else:
            self._evict_down_to(self.capacity - 1)
        self._entries[key] = _Entry(value, expires_at)
        if expires_at != math.inf:
            self._sequence += 1
            heapq.heappush(self._deadlines, (expires_at, self._sequence, key))

    def delete(self, key: Hashable, now: float) -> bool:
        """Remove ``key``; return whether a live entry was removed."""
        self._advance(now)
        return self._entries.pop(key, None) is not None

    def resize(self, capacity: int, now: float) -> int:
        """Change the capacity, evicting LRU entries to fit; return how many."""
        capacity = _capacity(capacity)
        self._advance(now)
        self.capacity = capacity
        return self._evict_down_to(capacity)

    def clear(self) -> None:
        """Remove every entry; statistics and the clock are kept."""
        self._entries.clear()
        self._deadlines.clear()

    def keys(self) -> list[Hashable]:
        """Return the live keys, least recently used first."""
        return list(self._entries)

    def stats(self) -> dict[str, int]:
        """Return the ``hits``, ``misses``, ``evictions`` and ``expirations`` counts."""
        return dict(self._stats)

    def __len__(self) -> int:
        """Return the number of live entries at the cache's clock."""
        return len(self._entries)
