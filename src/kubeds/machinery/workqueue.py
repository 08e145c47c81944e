"""Work queues for reconcile loops: deduplicating, never handing one key to two workers, delayable.

Mirrors client-go ``util/workqueue`` on asyncio, in three layers as upstream:

* :class:`Queue` (``queue.go``): a FIFO of keys with a *dirty* set (a key waiting to be processed is
  queued once, however often it is added) and a *processing* set (a key handed out by :meth:`get` is
  not handed out again until :meth:`done`; if it is re-added meanwhile it goes back on the queue at
  ``done``). Keys come out in the order they were first added (fairness). :meth:`shutdown` stops
  accepting adds; :meth:`get` keeps returning what is queued and raises :class:`ShutDown` once the
  queue is drained.
* :class:`DelayingQueue` (``delaying_queue.go``): :meth:`add_after` holds a key until ``seconds`` have
  passed on the injected clock. One background task sleeps until the earliest deadline; a key that is
  already waiting keeps the earlier of its two deadlines.
* :class:`RateLimitingQueue` (``rate_limiting_queue.go``): :meth:`add_rate_limited` asks the
  :class:`~kubeds.machinery.ratelimit.RateLimiter` how long to wait (5 ms doubling up to 1000 s, plus
  an overall 10 qps bucket, by default); :meth:`forget` resets the key's backoff.

Everything runs on one event loop: no locks, and the synchronous methods (``add``, ``done``...) may be
called from informer event handlers. The delaying task is started lazily by the first delayed add
(so a queue can be built outside a running loop) and cancelled by :meth:`shutdown`.
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import logging

from kubeds import clock as clock_mod
from kubeds.machinery import ratelimit

__all__ = ["DelayingQueue", "Queue", "RateLimitingQueue", "ShutDown"]

log = logging.getLogger(__name__)


class ShutDown(Exception):
    """Raised by :meth:`Queue.get` once the queue is shut down and empty."""


class Queue:
    """A fair, deduplicating work queue that never processes one key concurrently."""

    def __init__(self, *, name: str = "") -> None:
        self.name = name
        self._queue: collections.deque[str] = collections.deque()
        self._dirty: set[str] = set()
        self._processing: set[str] = set()
        self._getters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._shutting_down = False
        self._drained: asyncio.Event | None = None

    def add(self, key: str) -> None:
        """Queue ``key`` unless it is already waiting; a key being processed is re-queued at ``done``."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wake_one()

    def __len__(self) -> int:
        """Keys waiting to be handed out (not counting those being processed or delayed)."""
        return len(self._queue)

    async def get(self) -> str:
        """The next key, waiting for one; it is processing until :meth:`done`.

        Raises :class:`ShutDown` when the queue is shut down and nothing is left.
        """
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name)
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    # We were woken for a key we will not take: pass the wake-up on.
                    self._wake_one()
                else:
                    self._discard_getter(waiter)
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: str) -> None:
        """Mark ``key`` processed; if it was added again meanwhile, queue it now."""
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()
        elif not self._processing and self._drained is not None:
            self._drained.set()

    def shutdown(self) -> None:
        """Stop accepting keys and wake every waiting :meth:`get` (they drain, then raise)."""
        self._shutting_down = True
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def shutdown_with_drain(self) -> None:
        """Shut down, then wait until every key handed out has been marked :meth:`done`."""
        self.shutdown()
        while self._processing:
            self._drained = asyncio.Event()
            await self._drained.wait()

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def is_processing(self, key: str) -> bool:
        """Whether a worker currently holds ``key``."""
        return key in self._processing

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _discard_getter(self, waiter: asyncio.Future[None]) -> None:
        try:
            self._getters.remove(waiter)
        except ValueError:
            pass


class DelayingQueue(Queue):
    """A :class:`Queue` whose keys can be added after a delay on the injected clock."""

    def __init__(self, *, clock: clock_mod.Clock = clock_mod.REAL, name: str = "") -> None:
        super().__init__(name=name)
        self._clock = clock
        self._waiting: dict[str, float] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self._waiting_task: asyncio.Task[None] | None = None

    def add_after(self, key: str, seconds: float) -> None:
        """Add ``key`` once ``seconds`` have passed (at once if ``seconds <= 0``)."""
        if self.shutting_down:
            return
        if seconds <= 0:
            self.add(key)
            return
        ready_at = self._clock.monotonic() + seconds
        current = self._waiting.get(key)
        if current is not None and current <= ready_at:
            return
        self._waiting[key] = ready_at
        heapq.heappush(self._heap, (ready_at, next(self._seq), key))
        self._wakeup.set()
        if self._waiting_task is None or self._waiting_task.done():
            self._waiting_task = asyncio.get_running_loop().create_task(
                self._waiting_loop(), name=f"workqueue-delay:{self.name}"
            )

    @property
    def waiting(self) -> int:
        """How many keys are held back by :meth:`add_after`."""
        return len(self._waiting)

    def shutdown(self) -> None:
        super().shutdown()
        self._waiting.clear()
        self._heap.clear()
        if self._waiting_task is not None:
            self._waiting_task.cancel()
            self._waiting_task = None

    def _release_ready(self) -> float | None:
        """Add every key whose deadline has passed; return the seconds until the next one."""
        now = self._clock.monotonic()
        while self._heap:
            ready_at, _, key = self._heap[0]
            if ready_at > now:
                return ready_at - now
            heapq.heappop(self._heap)
            # A stale heap entry (the key was re-scheduled earlier, then released) is skipped.
            if self._waiting.get(key) == ready_at:
                del self._waiting[key]
                self.add(key)
        return None

    async def _waiting_loop(self) -> None:
        while not self.shutting_down:
            self._wakeup.clear()
            delay = self._release_ready()
            if delay is None:
                await self._wakeup.wait()
                continue
            sleeper = asyncio.ensure_future(self._clock.sleep(delay))
            woken = asyncio.ensure_future(self._wakeup.wait())
            try:
                await asyncio.wait((sleeper, woken), return_when=asyncio.FIRST_COMPLETED)
            finally:
                sleeper.cancel()
                woken.cancel()


class RateLimitingQueue(DelayingQueue):
    """A :class:`DelayingQueue` that backs failing keys off through a rate limiter."""

    def __init__(
        self,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        rate_limiter: ratelimit.RateLimiter | None = None,
        name: str = "",
    ) -> None:
        super().__init__(clock=clock, name=name)
        self.rate_limiter = rate_limiter or ratelimit.default_controller_rate_limiter(clock)

    def add_rate_limited(self, key: str) -> None:
        """Add ``key`` after the delay the rate limiter gives it (one more failure counted)."""
        self.add_after(key, self.rate_limiter.when(key))

    def forget(self, key: str) -> None:
        """Reset ``key``'s backoff (call after a successful sync)."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: str) -> int:
        return self.rate_limiter.num_requeues(key)
