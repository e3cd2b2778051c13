"""Hidden tests: recency, eviction order, counters and capacity changes."""

import unittest

from lrucache import LRUCache


class TestEvictionOrder(unittest.TestCase):
    def test_put_existing_key_does_not_evict(self):
        cache = LRUCache(capacity=2)
        cache.put("a", 1, now=0)
        cache.put("b", 2, now=0)
        cache.put("a", 10, now=1)
        self.assertEqual(cache.keys(), ["b", "a"])
        self.assertEqual(cache.get("a", now=1), 10)
        self.assertEqual(cache.stats()["evictions"], 0)
        cache.put("c", 3, now=2)
        self.assertEqual(cache.keys(), ["a", "c"])

    def test_peek_changes_neither_recency_nor_counters(self):
        cache = LRUCache(capacity=2)
        cache.put("a", 1, now=0)
        cache.put("b", 2, now=0)
        self.assertEqual(cache.peek("a", now=1), 1)
        self.assertEqual(cache.peek("zzz", now=1, default="none"), "none")
        cache.put("c", 3, now=1)
        self.assertEqual(cache.keys(), ["b", "c"])
        self.assertEqual(
            cache.stats(), {"hits": 0, "misses": 0, "evictions": 1, "expirations": 0}
        )

    def test_miss_changes_no_recency(self):
        cache = LRUCache(capacity=3)
        for i, key in enumerate(["x", "y", "z"]):
            cache.put(key, i, now=0)
        self.assertIsNone(cache.get("nope", now=0))
        self.assertEqual(cache.keys(), ["x", "y", "z"])

    def test_delete_reports_and_frees_a_slot(self):
        cache = LRUCache(capacity=2)
        cache.put("a", 1, now=0)
        cache.put("b", 2, now=0)
        self.assertTrue(cache.delete("a", now=0))
        self.assertFalse(cache.delete("a", now=0))
        self.assertFalse(cache.delete("never", now=0))
        cache.put("c", 3, now=0)
        self.assertEqual(cache.keys(), ["b", "c"])
        self.assertEqual(cache.stats()["evictions"], 0)
        self.assertEqual(len(cache), 2)

    def test_capacity_of_one_keeps_only_the_last_key(self):
        cache = LRUCache(capacity=1)
        for i in range(5):
            cache.put(f"k{i}", i, now=i)
        self.assertEqual(cache.keys(), ["k4"])
        self.assertEqual(cache.stats()["evictions"], 4)

    def test_resize_smaller_evicts_least_recent_first(self):
        cache = LRUCache(capacity=4)
        for key in "abcd":
            cache.put(key, key.upper(), now=0)
        cache.get("a", now=1)
        self.assertEqual(cache.resize(2, now=2), 2)
        self.assertEqual(cache.keys(), ["d", "a"])
        self.assertEqual(cache.stats()["evictions"], 2)
        cache.put("e", "E", now=3)
        self.assertEqual(cache.keys(), ["a", "e"])

    def test_resize_larger_keeps_everything(self):
        cache = LRUCache(capacity=2)
        cache.put("a", 1, now=0)
        cache.put("b", 2, now=0)
        self.assertEqual(cache.resize(3, now=0), 0)
        cache.put("c", 3, now=0)
        self.assertEqual(cache.keys(), ["a", "b", "c"])
        self.assertEqual(cache.stats()["evictions"], 0)

    def test_invalid_capacity_raises(self):
        for bad in (2.0, "3", True, None):
            with self.assertRaises(TypeError):
                LRUCache(capacity=bad)
        for bad in (0, -1):
            with self.assertRaises(ValueError):
                LRUCache(capacity=bad)
        cache = LRUCache(capacity=2)
        cache.put("a", 1, now=0)
        with self.assertRaises(ValueError):
            cache.resize(0, now=0)
        self.assertEqual(cache.keys(), ["a"])

    def test_clear_keeps_counters_and_capacity(self):
        cache = LRUCache(capacity=2)
        cache.put("a", 1, now=0)
        cache.get("a", now=0)
        cache.get("b", now=0)
        cache.clear()
        self.assertEqual(len(cache), 0)
        self.assertEqual(cache.keys(), [])
        self.assertEqual(
            cache.stats(), {"hits": 1, "misses": 1, "evictions": 0, "expirations": 0}
        )
        for key in "xyz":
            cache.put(key, 0, now=1)
        self.assertEqual(cache.keys(), ["y", "z"])

    def test_stored_none_is_a_hit(self):
        cache = LRUCache(capacity=2, default_ttl=60)
        self.assertEqual(
            cache.stats(), {"hits": 0, "misses": 0, "evictions": 0, "expirations": 0}
        )
        cache.put("k", None, now=0)
        self.assertIsNone(cache.get("k", now=0, default="missing"))
        self.assertEqual(cache.stats()["hits"], 1)
        self.assertEqual(cache.stats()["misses"], 0)


def test_keys_of_different_types_are_distinct():
    cache = LRUCache(capacity=3)
    cache.put(1, "int", now=0)
    cache.put("1", "str", now=0)
    cache.put((1, 2), "tuple", now=0)
    assert cache.get(1, now=0) == "int"
    assert cache.get("1", now=0) == "str"
    assert cache.get((1, 2), now=0) == "tuple"
    assert len(cache) == 3


def test_large_workload_keeps_the_most_recent_keys():
    cache = LRUCache(capacity=100)
    for i in range(300):
        cache.put(i, i * i, now=i)
        if i % 10 == 0:
            # Keep key 0 hot: it must survive every eviction.
            assert cache.get(0, now=i) == 0
    expected = [*range(201, 291), 0, *range(291, 300)]
    assert cache.keys() == expected
    assert len(cache) == 100
    stats = cache.stats()
    assert stats == {"hits": 30, "misses": 0, "evictions": 200, "expirations": 0}
