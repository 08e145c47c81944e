"""Rate limiters; tables ported from client-go util/workqueue/default_rate_limiters_test.go."""

from __future__ import annotations

import pytest

from kubeds.clock import FakeClock
from kubeds.machinery import ratelimit

MS = 0.001


def test_item_exponential_failure_rate_limiter() -> None:
    # upstream TestItemExponentialFailureRateLimiter
    limiter = ratelimit.ItemExponentialFailureRateLimiter(1 * MS, 1.0)
    assert [limiter.when("one") for _ in range(5)] == pytest.approx([1 * MS, 2 * MS, 4 * MS, 8 * MS, 16 * MS])
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == pytest.approx([1 * MS, 2 * MS])
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == pytest.approx(1 * MS)


def test_item_exponential_failure_rate_limiter_overflow() -> None:
    # upstream TestItemExponentialFailureRateLimiterOverFlow
    limiter = ratelimit.ItemExponentialFailureRateLimiter(1 * MS, 1000.0)
    for _ in range(5):
        limiter.when("one")
    assert limiter.when("one") == pytest.approx(32 * MS)
    for _ in range(1000):
        limiter.when("overflow1")
    assert limiter.when("overflow1") == 1000.0

    limiter = ratelimit.ItemExponentialFailureRateLimiter(60.0, 1000 * 3600.0)
    for _ in range(2):
        limiter.when("two")
    assert limiter.when("two") == pytest.approx(4 * 60.0)
    for _ in range(1000):
        limiter.when("overflow2")
    assert limiter.when("overflow2") == 1000 * 3600.0


def test_default_backoff_is_5ms_doubling_capped_at_1000s() -> None:
    limiter = ratelimit.ItemExponentialFailureRateLimiter()
    delays = [limiter.when("k") for _ in range(25)]
    assert delays[:4] == pytest.approx([0.005, 0.010, 0.020, 0.040])
    assert max(delays) == 1000.0
    assert delays[-1] == 1000.0


def test_item_fast_slow_rate_limiter() -> None:
    # upstream TestItemFastSlowRateLimiter
    limiter = ratelimit.ItemFastSlowRateLimiter(5 * MS, 10.0, 3)
    assert [limiter.when("one") for _ in range(5)] == pytest.approx([5 * MS, 5 * MS, 5 * MS, 10.0, 10.0])
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == pytest.approx([5 * MS, 5 * MS])
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == pytest.approx(5 * MS)


def test_max_of_rate_limiter() -> None:
    # upstream TestMaxOfRateLimiter
    limiter = ratelimit.MaxOfRateLimiter(
        ratelimit.ItemFastSlowRateLimiter(5 * MS, 3.0, 3),
        ratelimit.ItemExponentialFailureRateLimiter(1 * MS, 1.0),
    )
    assert [limiter.when("one") for _ in range(5)] == pytest.approx([5 * MS, 5 * MS, 5 * MS, 3.0, 3.0])
    assert limiter.num_requeues("one") == 5
    assert [limiter.when("two") for _ in range(2)] == pytest.approx([5 * MS, 5 * MS])
    assert limiter.num_requeues("two") == 2
    limiter.forget("one")
    assert limiter.num_requeues("one") == 0
    assert limiter.when("one") == pytest.approx(5 * MS)


def test_bucket_rate_limiter_allows_burst_then_qps() -> None:
    clock = FakeClock()
    limiter = ratelimit.BucketRateLimiter(10, 100, clock=clock)
    assert [limiter.when(i) for i in range(100)] == [0.0] * 100
    # The bucket is empty: each further item reserves the next token, 1/qps apart.
    assert limiter.when("a") == pytest.approx(0.1)
    assert limiter.when("b") == pytest.approx(0.2)
    clock.advance(1.0)  # ten tokens refilled, two of them already promised
    assert [limiter.when(i) for i in range(8)] == [0.0] * 8
    assert limiter.when("c") == pytest.approx(0.1)
    assert limiter.num_requeues("c") == 0


def test_default_controller_rate_limiter_is_max_of_backoff_and_bucket() -> None:
    clock = FakeClock()
    limiter = ratelimit.default_controller_rate_limiter(clock)
    assert limiter.when("k") == pytest.approx(0.005)
    assert limiter.when("k") == pytest.approx(0.010)
    assert limiter.num_requeues("k") == 2
    # Drain the bucket with other keys: the overall 10 qps limit then dominates a fresh key's 5 ms.
    for i in range(98):
        limiter.when(f"other-{i}")
    assert limiter.when("fresh") == pytest.approx(0.1)
    limiter.forget("k")
    assert limiter.num_requeues("k") == 0
