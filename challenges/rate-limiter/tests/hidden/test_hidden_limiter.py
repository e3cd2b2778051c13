"""Hidden tests: RateLimiter (per-key buckets, decisions, bookkeeping)."""

import unittest

import pytest

from ratelimit import RateLimiter, RateLimitError


class TestDecisions:
    def test_new_key_bucket_is_full_at_its_first_request(self):
        limiter = RateLimiter(capacity=2, refill_rate=1)
        assert limiter.allow("early", now=0)
        assert limiter.allow("late", now=1000)
        assert limiter.allow("late", now=1000)
        assert not limiter.allow("late", now=1000)

    def test_keys_never_share_tokens(self):
        limiter = RateLimiter(capacity=2, refill_rate=0.5)
        assert limiter.allow("a", now=0, cost=2)
        assert not limiter.allow("a", now=1)
        assert limiter.allow("b", now=1, cost=2)
        assert limiter.remaining("a", now=2) == pytest.approx(1.0)
        assert limiter.remaining("b", now=2) == pytest.approx(0.5)

    def test_check_when_denied_reports_remaining_and_retry_after(self):
        limiter = RateLimiter(capacity=4, refill_rate=2)
        assert limiter.check("k", now=0, cost=4)["allowed"] is True
        result = limiter.check("k", now=0.25, cost=3)
        assert sorted(result) == ["allowed", "remaining", "retry_after"]
        assert result["allowed"] is False
        assert result["remaining"] == pytest.approx(0.5)
        assert result["retry_after"] == pytest.approx(1.25)
        result = limiter.check("k", now=2, cost=1.5)
        assert result["allowed"] is True
        assert result["remaining"] == pytest.approx(2.5)
        assert result["retry_after"] == 0.0

    def test_consume_raises_with_retry_after_in_message(self):
        limiter = RateLimiter(capacity=1, refill_rate=4)
        assert limiter.consume("alice", now=0) == pytest.approx(0.0)
        with pytest.raises(
            RateLimitError,
            match=r"^rate limit exceeded for key 'alice': retry after 0\.250s$",
        ):
            limiter.consume("alice", now=0)
        with pytest.raises(RateLimitError, match=r"retry after 0\.125s"):
            limiter.consume("alice", now=0.125)

    def test_consume_denied_takes_nothing(self):
        limiter = RateLimiter(capacity=3, refill_rate=1)
        assert limiter.consume("k", now=0, cost=3) == pytest.approx(0.0)
        with pytest.raises(RateLimitError):
            limiter.consume("k", now=1, cost=2)
        assert limiter.consume("k", now=2, cost=2) == pytest.approx(0.0)

    def test_time_order_is_per_key(self):
        limiter = RateLimiter(capacity=1, refill_rate=1)
        assert limiter.allow("a", now=10)
        assert limiter.allow("b", now=5)
        with pytest.raises(ValueError, match="backwards"):
            limiter.allow("a", now=9)
        assert limiter.allow("a", now=11)

    def test_invalid_cost_creates_no_bucket(self):
        limiter = RateLimiter(capacity=5, refill_rate=1)
        with pytest.raises(ValueError, match="cost"):
            limiter.allow("a", now=0, cost=0)
        with pytest.raises(ValueError, match="cost"):
            limiter.check("b", now=0, cost=6)
        with pytest.raises(TypeError, match="cost"):
            limiter.consume("c", now=0, cost="2")
        assert limiter.keys() == []


class TestBookkeeping:
    def test_unknown_key_queries_create_no_bucket(self):
        limiter = RateLimiter(capacity=7, refill_rate=1)
        assert limiter.remaining("ghost", now=50) == pytest.approx(7.0)
        assert limiter.retry_after("ghost", now=50, cost=7) == 0.0
        assert limiter.keys() == []
        assert limiter.allow("ghost", now=10, cost=7)

    def test_keys_are_sorted(self):
        limiter = RateLimiter(capacity=1, refill_rate=1)
        for key in ["mallory", "alice", "zoe", "bob"]:
            limiter.allow(key, now=0)
        assert limiter.keys() == ["alice", "bob", "mallory", "zoe"]

    def test_reset_forgets_the_bucket(self):
        limiter = RateLimiter(capacity=2, refill_rate=1)
        assert limiter.allow("a", now=100, cost=2)
        assert limiter.reset("a") is True
        assert limiter.reset("a") is False
        assert limiter.reset("never-seen") is False
        assert limiter.keys() == []
        assert limiter.allow("a", now=0, cost=2)

    def test_prune_forgets_only_full_buckets(self):
        limiter = RateLimiter(capacity=4, refill_rate=1)
        limiter.allow("drained", now=0, cost=4)
        limiter.allow("half", now=8, cost=4)
        limiter.allow("refilled", now=0, cost=1)
        assert limiter.prune(now=3) == 1
        assert limiter.keys() == ["drained", "half"]
        assert limiter.prune(now=10) == 1
        assert limiter.keys() == ["half"]
        assert limiter.prune(now=10) == 0
        assert limiter.remaining("half", now=10) == pytest.approx(2.0)


def test_many_keys_are_independent():
    limiter = RateLimiter(capacity=2, refill_rate=1)
    keys = [f"user-{i:03d}" for i in range(200)]
    first = [limiter.allow(k, now=0, cost=2) for k in keys]
    second = [limiter.allow(k, now=0.5) for k in keys]
    assert all(first)
    assert not any(second)
    assert limiter.keys() == keys


def test_long_run_allows_burst_plus_refill_rate():
    limiter = RateLimiter(capacity=5, refill_rate=2)
    allowed = [limiter.allow("k", now=i * 0.125) for i in range(400)]
    # 5 tokens at start plus 2 tokens/s over 49.875 s = 104.75 tokens.
    assert sum(allowed) == 104
    assert allowed[:5] == [True] * 5
    assert allowed[-4:].count(True) == 1


class TestLimiterValidation(unittest.TestCase):
    def test_rejects_invalid_parameters(self):
        with self.assertRaises(ValueError):
            RateLimiter(capacity=-1, refill_rate=1)
        with self.assertRaises(ValueError):
            RateLimiter(capacity=1, refill_rate=float("inf"))
        with self.assertRaises(TypeError):
            RateLimiter(capacity=1, refill_rate=None)
        with self.assertRaises(TypeError):
            RateLimiter(capacity="5", refill_rate=1)
        with self.assertRaises(TypeError):
            RateLimiter(capacity=5, refill_rate=[1])

    def test_rate_limit_exceeded_is_an_exception(self):
        limiter = RateLimiter(capacity=1, refill_rate=1)
        limiter.consume("x", now=0)
        with self.assertRaises(Exception) as ctx:
            limiter.consume("x", now=0)
        self.assertIn("retry after 1.000s", str(ctx.exception))


class TestErrorsAndDefaults:
    def test_rate_limit_error_carries_the_key_and_retry_after(self):
        limiter = RateLimiter(capacity=2, refill_rate=4)
        limiter.consume("bob", now=0, cost=2)
        with pytest.raises(RateLimitError) as denied:
            limiter.consume("bob", now=0.125)
        assert denied.value.key == "bob"
        assert denied.value.retry_after == pytest.approx(0.125)

    def test_check_costs_one_token_by_default(self):
        limiter = RateLimiter(capacity=2, refill_rate=1)
        first = limiter.check("k", now=0)
        assert first["allowed"] is True
        assert first["remaining"] == pytest.approx(1.0)
        assert limiter.check("k", now=0)["remaining"] == pytest.approx(0.0)
        denied = limiter.check("k", now=0.25)
        assert denied["allowed"] is False
        assert denied["retry_after"] == pytest.approx(0.75)

    def test_retry_after_validates_the_cost_for_an_unknown_key_too(self):
        limiter = RateLimiter(capacity=2, refill_rate=1)
        with pytest.raises(ValueError, match="cost"):
            limiter.retry_after("ghost", now=0, cost=3)
        with pytest.raises(TypeError, match="cost"):
            limiter.retry_after("ghost", now=0, cost="1")
        assert limiter.keys() == []

    def test_prune_forgets_a_bucket_full_at_the_time_it_last_saw(self):
        limiter = RateLimiter(capacity=2, refill_rate=1)
        assert limiter.allow("a", now=0, cost=2)
        # retry_after reaches the bucket: it has now seen t=5, where it is full again.
        assert limiter.retry_after("a", now=5) == 0.0
        assert limiter.prune(now=5) == 1
        assert limiter.keys() == []
