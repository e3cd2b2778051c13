"""Hidden tests: a single TokenBucket (refill, costs, validation, time)."""

import pytest

from ratelimit import TokenBucket


def test_bucket_starts_full_at_creation_time():
    bucket = TokenBucket(capacity=5, refill_rate=1, now=100)
    assert bucket.available(now=100) == pytest.approx(5.0)
    assert bucket.try_consume(now=100, cost=5)
    assert not bucket.try_consume(now=100)


def test_bucket_refill_is_continuous_and_fractional():
    bucket = TokenBucket(capacity=4, refill_rate=0.5)
    assert bucket.try_consume(now=0, cost=4)
    assert bucket.available(now=1) == pytest.approx(0.5)
    assert not bucket.try_consume(now=1.5)
    assert bucket.try_consume(now=2)
    assert bucket.available(now=2) == pytest.approx(0.0)


def test_bucket_never_exceeds_capacity_after_long_idle():
    bucket = TokenBucket(capacity=3, refill_rate=100)
    assert bucket.try_consume(now=0, cost=2)
    assert bucket.available(now=1_000_000_000) == pytest.approx(3.0)
    assert bucket.try_consume(now=1_000_000_000, cost=3)
    assert not bucket.try_consume(now=1_000_000_000, cost=0.5)


def test_bucket_denied_request_takes_nothing():
    bucket = TokenBucket(capacity=2, refill_rate=1)
    assert bucket.try_consume(now=0, cost=2)
    assert not bucket.try_consume(now=0.5, cost=1)
    assert bucket.available(now=0.5) == pytest.approx(0.5)
    assert bucket.try_consume(now=1.0, cost=1)


def test_bucket_cost_equal_to_capacity_is_allowed_when_full():
    bucket = TokenBucket(capacity=2.5, refill_rate=1)
    assert bucket.try_consume(now=0, cost=2.5)
    assert not bucket.try_consume(now=2.0, cost=2.5)
    assert bucket.try_consume(now=2.5, cost=2.5)


def test_bucket_tolerates_floating_point_rounding():
    # (0.7 - 0.6) * 1 is 0.09999999999999998 in binary floating point.
    bucket = TokenBucket(capacity=1, refill_rate=1)
    assert bucket.try_consume(now=0.6, cost=1)
    assert bucket.try_consume(now=0.7, cost=0.1)
    assert bucket.available(now=0.7) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize(
    ("capacity", "refill_rate", "error", "name"),
    [
        (0, 1, ValueError, "capacity"),
        (float("nan"), 1, ValueError, "capacity"),
        (True, 1, TypeError, "capacity"),
        (10, -0.5, ValueError, "refill_rate"),
    ],
)
def test_bucket_rejects_bad_parameters(capacity, refill_rate, error, name):
    with pytest.raises(error, match=name):
        TokenBucket(capacity=capacity, refill_rate=refill_rate)


@pytest.mark.parametrize(
    ("cost", "error"),
    [(0, ValueError), (10.5, ValueError), ("1", TypeError)],
)
def test_bucket_rejects_bad_cost_and_takes_nothing(cost, error):
    bucket = TokenBucket(capacity=10, refill_rate=1)
    with pytest.raises(error, match="cost"):
        bucket.try_consume(now=0, cost=cost)
    with pytest.raises(error, match="cost"):
        bucket.retry_after(now=0, cost=cost)
    assert bucket.available(now=0) == pytest.approx(10.0)


def test_bucket_time_must_not_go_backwards():
    bucket = TokenBucket(capacity=2, refill_rate=1, now=10)
    assert bucket.try_consume(now=10)
    assert bucket.try_consume(now=10)
    with pytest.raises(ValueError, match="backwards"):
        bucket.try_consume(now=9.5)
    with pytest.raises(ValueError, match="backwards"):
        bucket.available(now=9.999)


def test_bucket_retry_after_for_fractional_cost():
    bucket = TokenBucket(capacity=10, refill_rate=4)
    assert bucket.try_consume(now=0, cost=10)
    assert bucket.retry_after(now=0, cost=2.5) == pytest.approx(0.625)
    assert bucket.retry_after(now=0.5, cost=2.5) == pytest.approx(0.125)
    assert bucket.retry_after(now=0.625, cost=2.5) == pytest.approx(0.0)
    assert bucket.available(now=0.625) == pytest.approx(2.5)
    assert bucket.try_consume(now=0.625, cost=2.5)


def test_bucket_retry_after_costs_one_token_by_default():
    bucket = TokenBucket(capacity=3, refill_rate=2)
    assert bucket.try_consume(now=0, cost=3)
    assert bucket.retry_after(now=0) == pytest.approx(0.5)
    assert bucket.retry_after(now=0.25) == pytest.approx(0.25)
    assert bucket.retry_after(now=0.5) == 0.0
