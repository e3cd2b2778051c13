"""Hidden tests: time-to-live, the clock, expiry counting and validation."""

import pytest

from lrucache import LRUCache


@pytest.mark.parametrize(
    ("now", "expected"),
    [(14.999, "v"), (15, None), (1000, None)],
)
def test_ttl_boundary_is_exclusive(now, expected):
    cache = LRUCache(capacity=4)
    cache.put("k", "v", now=10, ttl=5)
    assert cache.get("k", now=now) == expected


def test_default_ttl_applies_when_ttl_is_omitted_or_none():
    cache = LRUCache(capacity=4, default_ttl=10)
    cache.put("omitted", 1, now=0)
    cache.put("none", 2, now=0, ttl=None)
    cache.put("own", 3, now=0, ttl=20)
    assert cache.keys() == ["omitted", "none", "own"]
    assert cache.peek("omitted", now=9.5) == 1
    assert cache.keys() == ["omitted", "none", "own"]
    assert cache.peek("own", now=10) == 3
    assert cache.keys() == ["own"]
    assert cache.stats()["expirations"] == 2


def test_overwrite_replaces_value_and_expiry():
    cache = LRUCache(capacity=2)
    cache.put("k", "old", now=0, ttl=10)
    cache.put("k", "new", now=8, ttl=10)
    assert cache.get("k", now=12) == "new"
    assert cache.get("k", now=17.5) == "new"
    assert cache.get("k", now=18) is None
    assert cache.stats() == {"hits": 2, "misses": 1, "evictions": 0, "expirations": 1}


def test_overwrite_without_ttl_uses_default_not_previous_ttl():
    cache = LRUCache(capacity=2, default_ttl=100)
    cache.put("k", 1, now=0, ttl=5)
    cache.put("k", 2, now=1)
    assert cache.get("k", now=50) == 2
    assert cache.get("k", now=101) is None


def test_reading_does_not_extend_lifetime():
    cache = LRUCache(capacity=2)
    cache.put("k", 1, now=0, ttl=3)
    for t in (0.5, 1, 1.5, 2, 2.5):
        assert cache.get("k", now=t) == 1
    assert cache.get("k", now=3) is None


def test_expired_entries_are_dropped_before_any_eviction():
    cache = LRUCache(capacity=2)
    cache.put("short", 1, now=0, ttl=5)
    cache.put("long", 2, now=0)
    cache.put("new", 3, now=6)
    assert cache.keys() == ["long", "new"]
    assert cache.stats() == {"hits": 0, "misses": 0, "evictions": 0, "expirations": 1}


def test_expired_entry_is_not_evicted_in_place_of_a_live_one():
    cache = LRUCache(capacity=3)
    cache.put("a", 1, now=0)
    cache.put("b", 2, now=0, ttl=4)
    cache.put("c", 3, now=0)
    cache.put("d", 4, now=5)
    cache.put("e", 5, now=5)
    assert cache.keys() == ["c", "d", "e"]
    assert cache.stats()["evictions"] == 1
    assert cache.stats()["expirations"] == 1


def test_each_expiration_is_counted_once_by_whichever_call_moves_the_clock():
    cache = LRUCache(capacity=5)
    cache.put("a", 1, now=0, ttl=1)
    cache.put("b", 2, now=0, ttl=2)
    cache.put("c", 3, now=0)
    assert cache.peek("c", now=1.5) == 3
    assert len(cache) == 2
    assert cache.stats()["expirations"] == 1
    assert cache.delete("b", now=2) is False
    assert cache.get("a", now=3) is None
    assert cache.get("b", now=3) is None
    assert cache.stats() == {"hits": 0, "misses": 2, "evictions": 0, "expirations": 2}


def test_len_and_keys_follow_the_clock():
    cache = LRUCache(capacity=10)
    for i in range(5):
        cache.put(f"k{i}", i, now=0, ttl=i + 1)
    assert len(cache) == 5
    cache.peek("nothing", now=3)
    assert len(cache) == 2
    assert cache.keys() == ["k3", "k4"]
    assert cache.stats()["expirations"] == 3
    cache.put("forever", "x", now=3)
    assert cache.peek("forever", now=10**12) == "x"
    assert cache.keys() == ["forever"]
    assert cache.stats()["expirations"] == 5


def test_resize_drops_expired_entries_without_counting_evictions():
    cache = LRUCache(capacity=3)
    cache.put("a", 1, now=0, ttl=1)
    cache.put("b", 2, now=0)
    cache.put("c", 3, now=0)
    assert cache.resize(2, now=5) == 0
    assert cache.keys() == ["b", "c"]
    assert cache.stats()["evictions"] == 0
    assert cache.stats()["expirations"] == 1


def test_many_entries_expire_at_once():
    cache = LRUCache(capacity=500, default_ttl=60)
    for i in range(200):
        cache.put(i, str(i), now=i / 100)
    assert len(cache) == 200
    assert cache.peek(199, now=61) == "199"
    assert len(cache) == 99
    assert cache.keys()[0] == 101
    assert cache.peek(0, now=100) is None
    assert len(cache) == 0
    assert cache.stats()["expirations"] == 200


@pytest.mark.parametrize(
    ("ttl", "error"), [(0, ValueError), (-2.5, ValueError), ("5", TypeError)]
)
def test_invalid_ttl_raises_and_changes_nothing(ttl, error):
    cache = LRUCache(capacity=2)
    cache.put("keep", 1, now=0)
    with pytest.raises(error, match="ttl"):
        cache.put("bad", 2, now=100, ttl=ttl)
    assert cache.keys() == ["keep"]
    cache.put("later", 3, now=50)
    assert cache.keys() == ["keep", "later"]


def test_invalid_default_ttl_raises():
    with pytest.raises(ValueError, match="default_ttl"):
        LRUCache(capacity=2, default_ttl=0)
    with pytest.raises(ValueError, match="default_ttl"):
        LRUCache(capacity=2, default_ttl=float("inf"))
    with pytest.raises(TypeError, match="default_ttl"):
        LRUCache(capacity=2, default_ttl="60")


def test_time_going_backwards_raises_from_every_method():
    cache = LRUCache(capacity=2)
    cache.put("a", 1, now=10)
    cache.get("a", now=10)
    for call in (
        lambda: cache.get("a", now=9),
        lambda: cache.peek("a", now=9.99),
        lambda: cache.put("b", 2, now=0),
        lambda: cache.delete("a", now=5),
        lambda: cache.resize(1, now=1),
    ):
        with pytest.raises(ValueError, match="backwards"):
            call()
    assert cache.keys() == ["a"]
    assert cache.stats()["hits"] == 1


def test_keys_of_different_types_can_expire_at_the_same_moment():
    cache = LRUCache(capacity=4, default_ttl=5)
    cache.put(1, "int", now=0)
    cache.put("1", "str", now=0)
    cache.put((1, 2), "tuple", now=0)
    assert cache.get("1", now=4.5) == "str"
    assert cache.peek(1, now=5) is None
    assert len(cache) == 0
    assert cache.stats()["expirations"] == 3
