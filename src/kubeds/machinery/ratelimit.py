"""Rate limiters deciding how long a work-queue item waits before it is retried.

Mirrors client-go ``util/workqueue/default_rate_limiters.go``:

* :class:`ItemExponentialFailureRateLimiter`: per item, ``base * 2**failures`` capped at
  ``max_delay`` (5 ms doubling up to 1000 s by default); :meth:`forget` resets the item.
* :class:`ItemFastSlowRateLimiter`: ``fast`` for the first ``max_fast_attempts`` failures, then ``slow``.
* :class:`BucketRateLimiter`: one token bucket shared by all items (golang.org/x/time/rate's
  ``Limiter.Reserve().Delay()``): the bucket starts full with ``burst`` tokens, refills at ``qps`` per
  second, and an item that finds it empty waits until its token would have been refilled.
* :class:`MaxOfRateLimiter`: the worst (longest) answer of several limiters.

:func:`default_controller_rate_limiter` is upstream's ``DefaultControllerRateLimiter``: the max of a
5 ms..1000 s per-item exponential backoff and a 10 qps / 100 burst overall bucket.

Delays are seconds as floats. Items are hashable keys (the queue stores ``ns/name`` strings). The bucket
reads time from the injected :class:`~kubeds.clock.Clock` (``monotonic``), so tests drive it with a
``FakeClock``.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from kubeds import clock as clock_mod

__all__ = [
    "BucketRateLimiter",
    "ItemExponentialFailureRateLimiter",
    "ItemFastSlowRateLimiter",
    "MaxOfRateLimiter",
    "RateLimiter",
    "default_controller_rate_limiter",
]

DEFAULT_BASE_DELAY = 0.005
DEFAULT_MAX_DELAY = 1000.0
DEFAULT_QPS = 10.0
DEFAULT_BURST = 100


class RateLimiter(Protocol):
    """What a rate-limited queue asks of its limiter (client-go ``workqueue.RateLimiter``)."""

    def when(self, item: Hashable) -> float:
        """How long ``item`` should wait before it is added again; counts one more failure."""
        ...

    def forget(self, item: Hashable) -> None:
        """Stop tracking ``item`` (it succeeded, or it is given up on)."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """How many failures ``item`` has had since it was last forgotten."""
        ...


class ItemExponentialFailureRateLimiter:
    """``base * 2**failures`` per item, capped at ``max_delay``."""

    def __init__(self, base: float = DEFAULT_BASE_DELAY, max_delay: float = DEFAULT_MAX_DELAY) -> None:
        self.base = base
        self.max_delay = max_delay
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        exp = self._failures.get(item, 0)
        self._failures[item] = exp + 1
        # Go guards against int64 overflow of the duration; here the cap alone is enough, but a huge
        # exponent must not build an enormous float first.
        if exp >= 1024:
            return self.max_delay
        backoff = self.base * (2.0**exp)
        return min(backoff, self.max_delay)

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class ItemFastSlowRateLimiter:
    """``fast`` for the first ``max_fast_attempts`` failures of an item, ``slow`` afterwards."""

    def __init__(self, fast: float, slow: float, max_fast_attempts: int) -> None:
        self.fast = fast
        self.slow = slow
        self.max_fast_attempts = max_fast_attempts
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        attempts = self._failures.get(item, 0) + 1
        self._failures[item] = attempts
        return self.fast if attempts <= self.max_fast_attempts else self.slow

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """One token bucket for every item: ``burst`` immediate adds, then ``qps`` per second."""

    def __init__(
        self,
        qps: float = DEFAULT_QPS,
        burst: int = DEFAULT_BURST,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be greater than zero")
        self.qps = qps
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock.monotonic()

    def when(self, item: Hashable) -> float:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._last)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self.qps)
        self._last = now
        # Reserve the token even when it is not there yet: later callers queue up behind this one.
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        return None

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest delay of several limiters; every limiter counts every failure."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max((limiter.when(item) for limiter in self.limiters), default=0.0)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max((limiter.num_requeues(item) for limiter in self.limiters), default=0)


def default_controller_rate_limiter(clock: clock_mod.Clock = clock_mod.REAL) -> RateLimiter:
    """Upstream ``DefaultControllerRateLimiter``: per-item 5 ms..1000 s backoff, overall 10 qps / 100 burst."""
    return MaxOfRateLimiter(
        ItemExponentialFailureRateLimiter(DEFAULT_BASE_DELAY, DEFAULT_MAX_DELAY),
        BucketRateLimiter(DEFAULT_QPS, DEFAULT_BURST, clock=clock),
    )
