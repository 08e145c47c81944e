"""Informers: a local, indexed copy of one resource kept current by list + watch, with event handlers.

Mirrors client-go ``tools/cache/reflector.go`` (``ListAndWatch``) and ``shared_informer.go``
(``HandleDeltas``, ``AddEventHandler``) on asyncio, without the DeltaFIFO: each event is applied to
the :class:`~kubeds.machinery.cache.Indexer` and handed to the handlers immediately, on the loop, so
handlers see the store already updated, in event order.

The reflector loop (:meth:`Informer.run`):

1. LIST (paged, ``list_all``) and record the list's ``resourceVersion``. Items get the
   ``apiVersion``/``kind`` the List implies when the server leaves them out, as client-go's unstructured
   decoding does. The store is replaced and handlers get ``on_add`` for new keys, ``on_update(old, new)``
   for keys already cached (upstream's Replaced/Sync deltas become OnUpdate), then ``on_delete`` for
   cached keys the list no longer has (upstream wraps those in ``DeletedFinalStateUnknown``; here
   handlers get the last cached object). After the first list, :meth:`has_synced` is true.
2. WATCH from that resourceVersion with bookmarks and a ``timeoutSeconds`` jittered in [300, 600)
   (upstream ``minWatchTimeout * (1 + rand)``). ADDED/MODIFIED update the store (``on_update`` if the
   key was cached, else ``on_add``); DELETED removes it and calls ``on_delete`` with the event's object
   (the final state); BOOKMARK only advances the resourceVersion.
3. When the server ends the stream, watch again from the last resourceVersion seen. A stream that ends
   at once with no event counts as an error (upstream's "very short watch").
4. ``410 Gone``/``Expired`` (an ERROR event or the request's answer) means the resourceVersion was
   compacted: relist at once. Any other failure backs off on the clock (0.8 s doubling to 30 s, with
   up to 100 % jitter, as the reflector's backoff manager) and retries the step that failed.

``resync_period > 0`` re-delivers every cached object as ``on_update(obj, obj)`` on that period (the
shared informer's resync). **Cached objects and the objects handlers get are read-only**: in one
process a watch event's object is decoded once and shared by every in-process informer that receives
it (:mod:`kubeds.wire`), as client-go's shared informers share theirs; copy before changing anything.
Handlers are plain synchronous functions that must only enqueue keys; an
exception in one is logged and does not stop the others. A handler added once the informer holds
objects first gets a synthetic ``on_add`` for each of them, as upstream's late registration does.

:class:`SharedInformerFactory` (``informers/factory.go``) hands out one informer per
(apiVersion, resource, namespace, selectors), starts them as tasks and waits for their caches.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Callable
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.machinery import cache

__all__ = ["Informer", "SharedInformerFactory"]

log = logging.getLogger(__name__)

MIN_WATCH_TIMEOUT_SECONDS = 300.0
SHORT_WATCH_SECONDS = 1.0
BACKOFF_INITIAL = 0.8
BACKOFF_MAX = 30.0
BACKOFF_JITTER = 1.0
MSG_SHORT_WATCH = (
    "very short watch: {name}: Unexpected watch close - watch lasted less than a second and no items received"
)

AddHandler = Callable[[dict[str, Any]], None]
UpdateHandler = Callable[[dict[str, Any], dict[str, Any]], None]
DeleteHandler = Callable[[dict[str, Any]], None]


class _ShortWatch(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class _Handler:
    on_add: AddHandler | None
    on_update: UpdateHandler | None
    on_delete: DeleteHandler | None


class _Backoff:
    """Exponential backoff with jitter on the clock (client-go ``wait.Backoff`` with Jitter 1.0)."""

    def __init__(self, *, clock: clock_mod.Clock, rng: random.Random) -> None:
        self._clock = clock
        self._rng = rng
        self._next = BACKOFF_INITIAL

    def reset(self) -> None:
        self._next = BACKOFF_INITIAL

    async def wait(self) -> None:
        delay = self._next * (1.0 + BACKOFF_JITTER * self._rng.random())
        self._next = min(self._next * 2.0, BACKOFF_MAX)
        await self._clock.sleep(delay)


class Informer:
    """List + watch one resource into an :class:`~kubeds.machinery.cache.Indexer` and notify handlers."""

    def __init__(
        self,
        resource: api_mod.ResourceClient,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        clock: clock_mod.Clock = clock_mod.REAL,
        resync_period: float = 0,
        name: str = "",
        rng: random.Random | None = None,
    ) -> None:
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.name = name or f"{resource.api_version}/{resource.plural}"
        self.indexer = cache.Indexer({cache.NAMESPACE_INDEX: cache.index_by_namespace})
        self._clock = clock
        self._rng = rng or random.Random()
        self._handlers: list[_Handler] = []
        self._synced = asyncio.Event()
        self._last_rv = ""
        self._inner: asyncio.Task[None] | None = None
        self._stopped = False

    # -- handlers -------------------------------------------------------------------------------

    def add_event_handler(
        self,
        *,
        on_add: AddHandler | None = None,
        on_update: UpdateHandler | None = None,
        on_delete: DeleteHandler | None = None,
    ) -> None:
        """Register callbacks; if the cache already holds objects, ``on_add`` runs for each now."""
        handler = _Handler(on_add, on_update, on_delete)
        self._handlers.append(handler)
        if on_add is not None:
            for obj in self.indexer.list():
                self._call(on_add, obj)

    def _notify_add(self, obj: dict[str, Any]) -> None:
        for handler in list(self._handlers):
            if handler.on_add is not None:
                self._call(handler.on_add, obj)

    def _notify_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        for handler in list(self._handlers):
            if handler.on_update is not None:
                self._call(handler.on_update, old, new)

    def _notify_delete(self, obj: dict[str, Any]) -> None:
        for handler in list(self._handlers):
            if handler.on_delete is not None:
                self._call(handler.on_delete, obj)

    def _call(self, func: Callable[..., None], *args: dict[str, Any]) -> None:
        try:
            func(*args)
        except Exception:
            log.exception("informer %s: event handler %r failed", self.name, func)

    # -- state ----------------------------------------------------------------------------------

    def has_synced(self) -> bool:
        """Whether the first list has been stored and delivered to the handlers."""
        return self._synced.is_set()

    async def wait_for_sync(self) -> None:
        await self._synced.wait()

    @property
    def last_sync_resource_version(self) -> str:
        """The resourceVersion of the last list, event or bookmark applied."""
        return self._last_rv

    # -- running --------------------------------------------------------------------------------

    async def run(self) -> None:
        """List and watch until :meth:`stop` (then return) or cancellation (then raise)."""
        if self._inner is not None and not self._inner.done():
            raise RuntimeError(f"informer {self.name} is already running")
        self._stopped = False
        self._inner = asyncio.get_running_loop().create_task(self._run(), name=f"informer:{self.name}")
        try:
            await self._inner
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            # The inner task was cancelled by stop(): a normal end.

    def stop(self) -> None:
        """Stop watching; :meth:`run` returns."""
        self._stopped = True
        if self._inner is not None:
            self._inner.cancel()

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._reflect())
            if self.resync_period > 0:
                group.create_task(self._resync_loop())

    async def _reflect(self) -> None:
        backoff = _Backoff(clock=self._clock, rng=self._rng)
        need_list = True
        while not self._stopped:
            try:
                if need_list:
                    await self._list()
                    need_list = False
                    backoff.reset()
                if await self._watch():
                    backoff.reset()
            except errors.Gone as exc:
                log.info("informer %s: watch of %s expired (%s); relisting", self.name, self._last_rv, exc)
                need_list = True
            except (errors.ApiError, errors.TransportError, _ShortWatch) as exc:
                step = "list" if need_list else "watch"
                log.warning("informer %s: %s failed: %s; backing off", self.name, step, exc)
                await backoff.wait()
            except Exception:
                log.exception("informer %s: unexpected failure; backing off", self.name)
                await backoff.wait()

    async def _list(self) -> None:
        result = await self.resource.list_all(
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
        )
        items = [_with_type_meta(item, result) for item in result.get("items") or []]
        self._replace(items)
        self._last_rv = str((result.get("metadata") or {}).get("resourceVersion") or "")
        if not self._synced.is_set():
            log.debug("informer %s: synced %d objects at %s", self.name, len(items), self._last_rv)
            self._synced.set()

    def _replace(self, items: list[dict[str, Any]]) -> None:
        previous = {cache.meta_namespace_key(obj): obj for obj in self.indexer.list()}
        self.indexer.replace(items)
        seen: set[str] = set()
        for obj in items:
            key = cache.meta_namespace_key(obj)
            seen.add(key)
            old = previous.get(key)
            if old is None:
                self._notify_add(obj)
            else:
                self._notify_update(old, obj)
        for key, old in previous.items():
            if key not in seen:
                self._notify_delete(old)

    async def _watch(self) -> bool:
        """One watch from the last resourceVersion; returns whether it delivered any event."""
        timeout = int(MIN_WATCH_TIMEOUT_SECONDS * (1.0 + self._rng.random()))
        started = self._clock.monotonic()
        count = 0
        stream = self.resource.watch(
            namespace=self.namespace,
            resource_version=self._last_rv,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            timeout_seconds=timeout,
            allow_bookmarks=True,
        )
        async with contextlib.aclosing(stream) as events:
            async for event in events:
                count += 1
                self._apply(event)
        if count == 0 and self._clock.monotonic() - started < SHORT_WATCH_SECONDS:
            raise _ShortWatch(MSG_SHORT_WATCH.format(name=self.name))
        return count > 0

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        obj: dict[str, Any] = event["object"]
        rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
        if kind in ("ADDED", "MODIFIED"):
            old = self.indexer.get(obj)
            self.indexer.update(obj)
            if old is None:
                self._notify_add(obj)
            else:
                self._notify_update(old, obj)
        elif kind == "DELETED":
            self.indexer.delete(obj)
            self._notify_delete(obj)
        elif kind != "BOOKMARK":
            log.warning("informer %s: unable to understand watch event type %r", self.name, kind)
            return
        if rv:
            self._last_rv = rv

    async def _resync_loop(self) -> None:
        while True:
            await self._clock.sleep(self.resync_period)
            if self.has_synced():
                for obj in self.indexer.list():
                    self._notify_update(obj, obj)


def _with_type_meta(item: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """List items may omit apiVersion/kind: fill them in from the List, as client-go's decoder does."""
    if item.get("apiVersion") and item.get("kind"):
        return item
    list_kind = str(result.get("kind") or "")
    type_meta = {
        "apiVersion": item.get("apiVersion") or result.get("apiVersion"),
        "kind": item.get("kind") or (list_kind.removesuffix("List") if list_kind.endswith("List") else ""),
    }
    filled = dict(item)
    for field, value in type_meta.items():
        if value and not filled.get(field):
            filled[field] = value
    return filled


_FactoryKey = tuple[str, str, str | None, str, str]


class SharedInformerFactory:
    """One :class:`Informer` per (apiVersion, plural, namespace, selectors), started and synced together."""

    def __init__(
        self,
        api: api_mod.ApiClient,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
        resync_period: float = 0,
        rng: random.Random | None = None,
    ) -> None:
        self.api = api
        self._clock = clock
        self._resync_period = resync_period
        self._rng = rng or random.Random()
        self._informers: dict[_FactoryKey, Informer] = {}
        self._tasks: dict[_FactoryKey, asyncio.Task[None]] = {}

    def informer(
        self,
        api_version: str,
        plural: str,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
    ) -> Informer:
        """The shared informer for these arguments, created on first request."""
        key: _FactoryKey = (api_version, plural, namespace, label_selector, field_selector)
        informer = self._informers.get(key)
        if informer is None:
            informer = Informer(
                self.api.resource(api_version, plural),
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                clock=self._clock,
                resync_period=self._resync_period,
                name=_informer_name(key),
                rng=random.Random(self._rng.random()),
            )
            self._informers[key] = informer
        return informer

    @property
    def informers(self) -> list[Informer]:
        return list(self._informers.values())

    def start(self) -> None:
        """Start every informer not yet started (may be called again after requesting more)."""
        loop = asyncio.get_running_loop()
        for key, informer in self._informers.items():
            if key not in self._tasks:
                self._tasks[key] = loop.create_task(informer.run(), name=f"informer:{informer.name}")

    async def wait_for_cache_sync(self, timeout: float | None = None) -> bool:
        """Wait until every started informer has synced; False if ``timeout`` (clock seconds) passes first."""
        started = [self._informers[key] for key in self._tasks]
        waiting = asyncio.ensure_future(asyncio.gather(*(inf.wait_for_sync() for inf in started)))
        if timeout is None:
            await waiting
            return True
        sleeper = asyncio.ensure_future(self._clock.sleep(timeout))
        try:
            await asyncio.wait((waiting, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            if not waiting.done():
                waiting.cancel()
        return all(inf.has_synced() for inf in started)

    async def stop(self) -> None:
        """Stop every informer and wait for their tasks to end."""
        for informer in self._informers.values():
            informer.stop()
        tasks = list(self._tasks.values())
        for task in tasks:
            # A task that has not begun running would otherwise miss the stop.
            task.cancel()
        self._tasks.clear()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("informer ended with %r", result)


def _informer_name(key: _FactoryKey) -> str:
    api_version, plural, namespace, label_selector, field_selector = key
    parts = [f"{api_version}/{plural}"]
    if namespace:
        parts.append(f"ns={namespace}")
    if label_selector:
        parts.append(f"labels={label_selector}")
    if field_selector:
        parts.append(f"fields={field_selector}")
    return " ".join(parts)
