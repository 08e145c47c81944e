"""The reconcile-loop base class: workers pulling keys from a rate-limited queue and calling ``sync``.

Mirrors the worker half of every upstream controller (``pkg/controller/daemon/daemon_controller.go``
``Run``/``runWorker``/``processNextWorkItem``): wait for the informers' caches, start ``workers``
tasks, and in each: ``key = get()``; ``sync(key)``; on success ``forget(key)`` (reset its backoff); on
an exception log it with the key and ``add_rate_limited(key)``; always ``done(key)``. A key is never
synced by two workers at once (the queue's processing set), so ``sync`` needs no locks.

Subclasses set ``kind`` (for log lines: ``error syncing DaemonSet kube-system/kube-proxy``), append
the informers they read to ``self.informers`` (workers start only once all have synced, upstream's
``WaitForNamedCacheSync``), register event handlers that call :meth:`enqueue`, and implement
:meth:`sync`. :meth:`run` ends after :meth:`shutdown`, once the workers have drained; cancelling it
shuts the queue down and cancels the workers.
"""

from __future__ import annotations

import abc
import asyncio
import logging

from kubeds import clock as clock_mod
from kubeds.client import errors as client_errors
from kubeds.machinery import informer as informer_mod, ratelimit, workqueue

__all__ = ["Controller"]

log = logging.getLogger(__name__)


class Controller(abc.ABC):
    """Runs ``workers`` tasks that sync keys taken from :attr:`queue`."""

    #: The kind of object the keys name, for log lines (``DaemonSet``, ``Node``...).
    kind: str = "object"

    def __init__(
        self,
        *,
        name: str,
        workers: int = 1,
        clock: clock_mod.Clock = clock_mod.REAL,
        queue: workqueue.RateLimitingQueue | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.name = name
        self.workers = workers
        self.clock = clock
        self.queue = queue or workqueue.RateLimitingQueue(
            clock=clock, rate_limiter=ratelimit.default_controller_rate_limiter(clock), name=name
        )
        self.informers: list[informer_mod.Informer] = []

    @abc.abstractmethod
    async def sync(self, key: str) -> None:
        """Reconcile the object named ``key``; raise to be retried with backoff."""

    def enqueue(self, key: str) -> None:
        self.queue.add(key)

    def enqueue_after(self, key: str, seconds: float) -> None:
        self.queue.add_after(key, seconds)

    async def run(self) -> None:
        """Wait for the informers, then process keys until :meth:`shutdown`."""
        log.info("starting %s controller", self.name)
        try:
            for inf in self.informers:
                await inf.wait_for_sync()
            log.debug("%s controller: caches synced", self.name)
            async with asyncio.TaskGroup() as group:
                for index in range(self.workers):
                    group.create_task(self._worker(), name=f"{self.name}-worker-{index}")
        finally:
            self.queue.shutdown()
            log.info("shutting down %s controller", self.name)

    def shutdown(self) -> None:
        """Stop handing out keys; workers finish what is queued and :meth:`run` returns."""
        self.queue.shutdown()

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except workqueue.ShutDown:
                return
            await self.process(key)

    async def process(self, key: str) -> None:
        """One work item: sync, then forget or requeue with backoff; always mark it done."""
        try:
            await self.sync(key)
        except client_errors.Conflict as exc:
            # A stale cache is normal: the informer will catch up and the retry will see it.
            log.info("conflict syncing %s %s, requeuing: %s", self.kind, key, exc)
            self.queue.add_rate_limited(key)
        except Exception as exc:
            log.error("error syncing %s %s, requeuing: %s", self.kind, key, exc, exc_info=exc)
            self.queue.add_rate_limited(key)
        else:
            self.queue.forget(key)
        finally:
            self.queue.done(key)
