"""WATCH: newline-delimited JSON events over the storage watch, filtered like the watch cache.

Mirrors ``k8s.io/apiserver/pkg/storage/cacher/cache_watcher.go`` and ``handlers/watch.go``:

* ``resourceVersion`` unset or ``"0"``: synthetic ``ADDED`` events for every object that matches
  now, then changes after that state's revision; ``"N"``: only changes after N; when N has been
  compacted the stream carries one ``ERROR`` event with a 410 ``Expired`` Status
  (``too old resource version: N (M)``) and ends;
* selectors are applied to both the new and the previous object (``convertToWatchEvent``): an
  update that enters the selection is ``ADDED``, one that leaves it is ``DELETED`` (the previous
  object with the event's resourceVersion), a deletion is ``DELETED`` with the last state;
* ``allowWatchBookmarks=true``: a ``BOOKMARK`` (kind, apiVersion, resourceVersion only) every
  :data:`BOOKMARK_INTERVAL` seconds, carrying the last revision the stream has passed;
* ``timeoutSeconds`` (default :data:`DEFAULT_TIMEOUT`, upstream's ``--min-request-timeout``) ends
  the stream cleanly, on the injected clock;
* with a Table Accept every event object is a one-row ``Table``; column definitions are sent with
  the first event only (``ERROR`` stays a plain Status).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from kubeds.apiserver import errors
from kubeds.apiserver.listing import Filter, ListPage, list_objects
from kubeds.apiserver.resources import Resource, storage_prefix
from kubeds.apiserver.store import Store
from kubeds.clock import Clock
from kubeds.storage import errors as serr
from kubeds.storage.interface import Event, EventType, WatchStream

__all__ = ["BOOKMARK_INTERVAL", "DEFAULT_TIMEOUT", "TableRenderer", "open_watch"]

BOOKMARK_INTERVAL = 5.0
DEFAULT_TIMEOUT = 1800.0

# (objects, include_headers) -> Table object
TableRenderer = Callable[[list[dict[str, Any]], bool], dict[str, Any]]


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return bytes(orjson.dumps({"type": event_type, "object": obj})) + b"\n"


class _Encoder:
    def __init__(self, table: TableRenderer | None) -> None:
        self._table = table
        self._headers_sent = False

    def event(self, event_type: str, obj: dict[str, Any]) -> bytes:
        if self._table is None or event_type in ("ERROR", "BOOKMARK"):
            return _line(event_type, obj)
        rendered = self._table([obj], not self._headers_sent)
        self._headers_sent = True
        return _line(event_type, rendered)


def _convert(event: Event, store: Store, flt: Filter) -> tuple[str, dict[str, Any]] | None:
    cur = store.decode(event.kv)
    if event.type is EventType.CREATE:
        return ("ADDED", cur) if flt.matches(cur) else None
    if event.type is EventType.DELETE:
        last = store.decode(event.prev) if event.prev is not None else cur
        if flt.matches(last) or flt.matches(cur):
            cur_meta = cur.setdefault("metadata", {})
            cur_meta["resourceVersion"] = str(event.revision)
            return "DELETED", cur
        return None
    prev = store.decode(event.prev) if event.prev is not None else None
    cur_ok = flt.matches(cur)
    prev_ok = prev is not None and flt.matches(prev)
    if cur_ok and prev_ok:
        return "MODIFIED", cur
    if cur_ok:
        return "ADDED", cur
    if prev_ok and prev is not None:
        prev.setdefault("metadata", {})["resourceVersion"] = str(event.revision)
        return "DELETED", prev
    return None


async def open_watch(
    store: Store,
    resource: Resource,
    namespace: str,
    *,
    flt: Filter,
    resource_version: str,
    allow_bookmarks: bool,
    timeout_seconds: float | None,
    clock: Clock,
    table: TableRenderer | None = None,
    bookmark_interval: float = BOOKMARK_INTERVAL,
) -> AsyncIterator[bytes]:
    """Set up the storage watch now (so no change is missed) and return the event stream."""
    encoder = _Encoder(table)
    prefix = storage_prefix(resource, namespace or None)
    initial: list[dict[str, Any]] = []
    if resource_version in ("", "0"):
        page: ListPage = await list_objects(store, resource, namespace, flt=flt)
        initial, revision = page.items, page.revision
    else:
        try:
            revision = int(resource_version)
        except ValueError:
            raise errors.bad_request(f'invalid resource version "{resource_version}"') from None
    try:
        stream = await store.backend.watch(prefix, revision=revision)
    except serr.Compacted as exc:
        status = errors.from_storage(exc, group=resource.group, resource=resource.plural, name="").status()
        return _single(encoder.event("ERROR", status))
    except serr.StorageError as exc:
        raise errors.from_storage(exc, group=resource.group, resource=resource.plural, name="") from None
    timeout = DEFAULT_TIMEOUT if timeout_seconds is None else float(timeout_seconds)
    return _run(
        stream,
        store=store,
        resource=resource,
        flt=flt,
        encoder=encoder,
        initial=initial,
        revision=revision,
        clock=clock,
        timeout=timeout,
        bookmark_interval=bookmark_interval if allow_bookmarks else 0.0,
    )


async def _single(chunk: bytes) -> AsyncIterator[bytes]:
    yield chunk


async def _run(
    stream: WatchStream,
    *,
    store: Store,
    resource: Resource,
    flt: Filter,
    encoder: _Encoder,
    initial: list[dict[str, Any]],
    revision: int,
    clock: Clock,
    timeout: float,
    bookmark_interval: float,
) -> AsyncIterator[bytes]:
    iterator = stream.__aiter__()
    next_batch: asyncio.Future[list[Event]] | None = None
    sleeper: asyncio.Future[None] | None = None
    last_rv = revision
    start = clock.monotonic()
    deadline = start + timeout if timeout > 0 else float("inf")
    next_bookmark = start + bookmark_interval if bookmark_interval > 0 else float("inf")
    try:
        for obj in initial:
            yield encoder.event("ADDED", obj)
        while True:
            now = clock.monotonic()
            if now >= deadline:
                return
            if now >= next_bookmark:
                bookmark = {
                    "kind": resource.kind,
                    "apiVersion": resource.api_version,
                    "metadata": {"resourceVersion": str(last_rv)},
                }
                yield encoder.event("BOOKMARK", bookmark)
                next_bookmark = now + bookmark_interval
                continue
            if next_batch is None:
                next_batch = asyncio.ensure_future(iterator.__anext__())
            wait = min(deadline, next_bookmark) - now
            sleeper = None
            waiters: set[asyncio.Future[Any]] = {next_batch}
            if wait != float("inf"):
                sleeper = asyncio.ensure_future(clock.sleep(wait))
                waiters.add(sleeper)
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            if sleeper is not None and sleeper not in done:
                sleeper.cancel()
            if next_batch not in done:
                continue
            try:
                batch = next_batch.result()
            except (StopAsyncIteration, serr.StorageError):
                return
            finally:
                next_batch = None
            for event in batch:
                last_rv = max(last_rv, event.revision)
                converted = _convert(event, store, flt)
                if converted is not None:
                    yield encoder.event(*converted)
    finally:
        for fut in (next_batch, sleeper):
            if fut is not None and not fut.done():
                fut.cancel()
                with contextlib.suppress(BaseException):
                    await fut
        stream.close()
