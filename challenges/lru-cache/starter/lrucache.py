"""A least-recently-used cache whose entries may expire after a time-to-live.

See README.md for the exact rules. Keep every name and signature below.
"""

from __future__ import annotations

from typing import Any


class LRUCache:
    """A bounded key-value cache that evicts the least recently used entry.

    Time is passed in explicitly; the cache's clock is the largest ``now`` seen.
    An entry is gone the instant the clock reaches its expiry time.
    """

    def __init__(self, capacity: int, default_ttl: float | None = None) -> None:
        """Create an empty cache holding at most ``capacity`` entries."""
        raise NotImplementedError

    def get(self, key: Any, now: float, default: Any = None) -> Any:
        """Return the live value for ``key`` (a hit, now most recent) or ``default``."""
        raise NotImplementedError

    def peek(self, key: Any, now: float, default: Any = None) -> Any:
        """Return the live value for ``key`` or ``default``; no recency, no stats."""
        raise NotImplementedError

    def put(self, key: Any, value: Any, now: float, ttl: float | None = None) -> None:
        """Store ``value`` under ``key`` as the most recent entry, evicting if full."""
        raise NotImplementedError

    def delete(self, key: Any, now: float) -> bool:
        """Remove ``key``; return whether a live entry was removed."""
        raise NotImplementedError

    def resize(self, capacity: int, now: float) -> int:
        """Change the capacity, evicting LRU entries to fit; return how many."""
        raise NotImplementedError

    def clear(self) -> None:
        """Remove every entry; statistics and the clock are kept."""
        raise NotImplementedError

    def keys(self) -> list:
        """Return the live keys, least recently used first."""
        raise NotImplementedError

    def stats(self) -> dict:
        """Return the ``hits``, ``misses``, ``evictions`` and ``expirations`` counts."""
        raise NotImplementedError

    def __len__(self) -> int:
        """Return the number of live entries at the cache's clock."""
        raise NotImplementedError
