"""Small shared pieces for the node controllers: a queue worker that calls a function, and periodic loops.

:class:`QueueWorker` adapts :class:`kubeds.machinery.controller.Controller` (rate-limited queue,
``forget``/``add_rate_limited``/``done`` discipline, N workers) to a plain ``sync`` coroutine, so one
component can own several queues (upstream's node lifecycle controller has a node queue and a pod
queue, the taint eviction controller the same). :func:`every` is ``wait.UntilWithContext``: run, then
sleep the period on the injected clock, forever, logging failures instead of dying.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from kubeds import clock as clock_mod
from kubeds.machinery import controller as controller_mod

__all__ = ["QueueWorker", "every"]

log = logging.getLogger(__name__)

SyncFn = Callable[[str], Awaitable[None]]


class QueueWorker(controller_mod.Controller):
    """A :class:`~kubeds.machinery.controller.Controller` whose ``sync`` is a given coroutine function."""

    def __init__(
        self, sync: SyncFn, *, name: str, kind: str, workers: int = 1, clock: clock_mod.Clock = clock_mod.REAL
    ) -> None:
        super().__init__(name=name, workers=workers, clock=clock)
        self.kind = kind
        self._sync = sync

    async def sync(self, key: str) -> None:
        await self._sync(key)


async def every(
    period: float, fn: Callable[[], Awaitable[None]], *, clock: clock_mod.Clock, name: str
) -> None:
    """Call ``fn`` now and then every ``period`` seconds until cancelled; failures are logged."""
    while True:
        try:
            await fn()
        except Exception:
            log.exception("%s failed; retrying in %ss", name, period)
        await clock.sleep(period)
