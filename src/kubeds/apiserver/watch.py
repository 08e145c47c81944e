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
import collections
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import orjson

from kubeds import wire
from kubeds.apiserver import errors
from kubeds.apiserver.listing import Filter, ListPage, list_objects
from kubeds.apiserver.registry import Strategy, strategy_for
from kubeds.apiserver.resources import Resource, storage_prefix
from kubeds.apiserver.store import Store
from kubeds.clock import Clock
from kubeds.storage import errors as serr
from kubeds.storage.interface import Event, EventType, KeyValue, WatchStream

__all__ = [
    "BOOKMARK_INTERVAL",
    "DEFAULT_TIMEOUT",
    "SharedEvents",
    "TableRenderer",
    "open_watch",
    "shared_events",
]

BOOKMARK_INTERVAL = 5.0
DEFAULT_TIMEOUT = 1800.0
#: Event lines (bytes, invisible to the cyclic GC) remembered for watchers that have not sent them yet.
SHARED_LINES = 2048
#: Decoded stored values (for selectors) remembered likewise: few, as every decoded object is work for
#: the cyclic GC; the watchers of a store take each committed batch in turn, so a batch's worth is enough.
SHARED_VIEWS = 256
#: Labels and field sets of stored values remembered for selectors: small entries (the value bytes,
#: which the storage's event window holds anyway, and two small dicts), so many more than views.
SHARED_FACTS = 8192
#: The facts of the latest version of each key, kept without its value (labels and field set): when a
#: key is written again its previous version's facts go back into the rings, because the update event
#: matches the previous object too, and that version may have been written long before (a pod Running
#: since the rollout, marked for deletion by the rolling update); a deletion's last state is found here.
SHARED_KEYS = 16384

# (objects, include_headers) -> Table object
TableRenderer = Callable[[list[dict[str, Any]], bool], dict[str, Any]]


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return bytes(orjson.dumps({"type": event_type, "object": obj})) + b"\n"


class _Encoder:
    """One watcher's encoding: shared lines for JSON, a per-watcher Table (headers sent once)."""

    def __init__(self, table: TableRenderer | None, shared: SharedEvents, *, audience: str = "") -> None:
        self._table = table
        self._shared = shared
        self.audience = audience
        self._headers_sent = False

    @property
    def shares_lines(self) -> bool:
        """Whether stored versions go out as the shared JSON lines (not a per-watcher Table)."""
        return self._table is None

    def event(self, event_type: str, obj: dict[str, Any]) -> bytes:
        if self._table is None or event_type in ("ERROR", "BOOKMARK"):
            return _line(event_type, obj)
        rendered = self._table([obj], not self._headers_sent)
        self._headers_sent = True
        return _line(event_type, rendered)

    def stored(self, event_type: str, value: bytes, revision: int) -> bytes:
        """The line for a stored version served at ``revision``."""
        if self._table is None:
            return self._shared.line(event_type, value, revision, audience=self.audience)
        return self.event(event_type, _decode(value, revision))


_K = TypeVar("_K")
_V = TypeVar("_V")


def _put(ring: collections.OrderedDict[_K, _V], key: _K, value: _V, *, limit: int) -> None:
    """Remember ``value`` in the bounded ``ring``, forgetting the oldest entry past ``limit``."""
    ring[key] = value
    if len(ring) > limit:
        ring.popitem(last=False)


def _with_rv(stored: dict[str, Any], revision: int) -> dict[str, Any]:
    """What decoding :meth:`Store.object_bytes` of the value decoded as ``stored`` gives, sharing
    every section but the top level and ``metadata`` with ``stored`` (both are read-only)."""
    meta = stored.get("metadata")
    rv = {"resourceVersion": str(revision)}
    return {**stored, "metadata": {**rv, **meta} if isinstance(meta, dict) else rv}


def _decode(value: bytes, revision: int) -> dict[str, Any]:
    """A private decode of ``value`` with ``metadata.resourceVersion`` = ``revision``."""
    obj: dict[str, Any] = orjson.loads(value)
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    meta["resourceVersion"] = str(revision)
    return obj


class SharedEvents:
    """What every watcher of one store would compute alike for an event, computed once.

    The broadcaster hands the same :class:`~kubeds.storage.interface.Event` (and value bytes) to
    every watcher, so the selector view of a stored value (its decode and the kind's field set) and
    the JSON line of an event are memoised here, keyed by the identity of the value bytes (the entry
    holds them, so an identity is never reused while it is remembered). Decoded objects are only
    read (selector matching); lines are immutable bytes. Upstream's watch cache likewise decodes
    each event once and serialises each object once per encoding for all its watchers
    (``cacher.go`` ``cachingObject``). Bounded LRUs: a watcher lagging further behind decodes again.

    Each line is also registered in :data:`kubeds.wire.SHARED_LINES` (with its event dict when the
    line had to be built from a decode), so in-process clients receiving that very ``bytes`` object
    share one decode of it instead of each parsing it again; only while the line's audience (the
    JSON watchers of its resource, :meth:`join`/:meth:`leave`) has more than one watcher, since a
    lone watcher has nobody to share with and the memo would only keep its events alive longer.
    """

    def __init__(
        self,
        *,
        lines: int = SHARED_LINES,
        views: int = SHARED_VIEWS,
        facts: int = SHARED_FACTS,
        keys: int = SHARED_KEYS,
        decoded: wire.SharedLines | None = None,
    ) -> None:
        self._decoded = decoded  # None: kubeds.wire.SHARED_LINES, looked up when used
        self._audiences: collections.Counter[str] = collections.Counter()
        self.max_lines = lines
        self.max_views = views
        self._views: collections.OrderedDict[int, _View] = collections.OrderedDict()
        self.max_facts = facts
        self._selecting: collections.Counter[str] = collections.Counter()
        self._facts: collections.OrderedDict[int, _Facts] = collections.OrderedDict()
        self._by_revision: collections.OrderedDict[tuple[str, int], _Facts] = collections.OrderedDict()
        self.max_keys = keys
        self._latest: collections.OrderedDict[str, tuple[int, _Facts]] = collections.OrderedDict()
        self._lines: collections.OrderedDict[tuple[int, str, int], tuple[bytes, bytes]] = (
            collections.OrderedDict()
        )

    def matches(self, flt: Filter, value: bytes, kv: KeyValue | None = None) -> bool:
        """``flt.matches`` on the stored ``value`` (of ``kv``), decoding it (and its field set) once.

        What selectors need of a value (labels, field set) outlives its decode in a larger ring
        (:class:`_Facts`): an update event matches the previous version too, which earlier events
        already decoded, and watchers far apart in the stream would otherwise each decode it again.
        Values this server wrote are known from the write (:meth:`written`), by identity, or by key
        and revision when the backend's watch hands out other bytes for them (:meth:`committed`).
        """
        if flt.everything:
            return True
        facts: _View | _Facts | None = self._facts.get(id(value))
        if facts is None or facts.value is not value:
            facts = self._known(kv) if kv is not None else None
            if facts is None:
                facts = view = self._view(value)
                if not flt.fields.empty:
                    view.fields = flt.strategy.field_set(view.obj)
                    view.strategy = flt.strategy
                self._remember(_Facts(value, view.labels, view.strategy, view.fields))
        if not flt.labels.empty and not flt.labels.matches(facts.labels):
            return False
        if flt.fields.empty:
            return True
        if facts.strategy is not flt.strategy:
            facts.fields = flt.strategy.field_set(self._view(value).obj)
            facts.strategy = flt.strategy
        return flt.fields.matches(facts.fields)

    def _remember(self, facts: _Facts) -> None:
        _put(self._facts, id(facts.value), facts, limit=self.max_facts)

    def _known(self, kv: KeyValue) -> _Facts | None:
        """The facts of the version ``kv`` names, by key and revision (no identity needed)."""
        latest = self._latest.get(kv.key)
        if latest is not None and latest[0] == kv.mod_revision:
            return latest[1]
        return self._by_revision.get((kv.key, kv.mod_revision))

    def committed(self, value: bytes, kv: KeyValue) -> None:
        """``value``'s write is stored as ``kv``: its facts become the key's latest, which also answer
        for ``(key, revision)``, how an event from a backend that hands out other bytes for it (etcd's
        watch) is recognised; the key's previous version (whose update event comes next) moves to
        the ring of earlier versions."""
        facts = self._facts.get(id(value))
        if facts is None or facts.value is not value:
            return
        previous = self._latest.pop(kv.key, None)
        if previous is not None:
            _put(self._by_revision, (kv.key, previous[0]), previous[1], limit=self.max_facts)
        # Without the value: a key's entry must not keep a deleted object's bytes alive.
        _put(
            self._latest,
            kv.key,
            (kv.mod_revision, _Facts(b"", facts.labels, facts.strategy, facts.fields)),
            limit=self.max_keys,
        )

    def written(self, resource: Resource, value: bytes, obj: dict[str, Any]) -> None:
        """The store is about to write ``value``, the JSON of ``obj``: while watchers with selectors
        watch ``resource``, note its labels and field set now, so their matching never decodes it.
        ``obj`` is then handed to the writer's client: nothing of it is kept but copies."""
        if not self._selecting[resource.kind]:
            return
        strategy = strategy_for(resource.kind)
        labels = (obj.get("metadata") or {}).get("labels") or {}
        self._remember(_Facts(value, dict(labels), strategy, strategy.field_set(obj)))

    def select(self, kind: str, change: int) -> None:
        """A watcher of ``kind`` with a selector starts (+1) or ends (-1)."""
        self._selecting[kind] += change

    def join(self, audience: str) -> None:
        """A JSON watcher of ``audience`` starts."""
        self._audiences[audience] += 1

    def leave(self, audience: str) -> None:
        """A JSON watcher of ``audience`` has ended."""
        left = self._audiences[audience] - 1
        if left > 0:
            self._audiences[audience] = left
        else:
            del self._audiences[audience]

    def line(self, event_type: str, value: bytes, revision: int, *, audience: str = "") -> bytes:
        """The line of a stored ``value`` served at ``revision``, made once for every watcher."""
        key = (id(value), event_type, revision)
        hit = self._lines.get(key)
        if hit is not None and hit[0] is value:
            return hit[1]
        body = Store.object_bytes(value, revision)
        shared = self._audiences[audience] > 1
        if body is None:
            event = {"type": event_type, "object": _decode(value, revision)}
            data = bytes(orjson.dumps(event)) + b"\n"
            if shared:
                self._memo().share(data, event)
        else:
            data = b'{"type":"' + event_type.encode() + b'","object":' + body + b"}\n"
            if shared:
                # A selector already decoded the value: the clients' decode is that, plus the revision.
                view = self._views.get(id(value))
                known = None
                if view is not None and view.value is value:
                    known = {"type": event_type, "object": _with_rv(view.obj, revision)}
                self._memo().share(data, known)
        _put(self._lines, key, (value, data), limit=self.max_lines)
        return data

    def _memo(self) -> wire.SharedLines:
        return wire.SHARED_LINES if self._decoded is None else self._decoded

    def _view(self, value: bytes) -> _View:
        key = id(value)
        view = self._views.get(key)
        if view is not None and view.value is value:
            return view
        view = _View(value, orjson.loads(value))
        _put(self._views, key, view, limit=self.max_views)
        return view


class _View:
    """A stored value, decoded, with the field set of the last strategy that asked."""

    __slots__ = ("fields", "obj", "strategy", "value")

    def __init__(self, value: bytes, obj: dict[str, Any]) -> None:
        self.value = value
        self.obj = obj
        self.strategy: Strategy | None = None
        self.fields: dict[str, str] = {}

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = (self.obj.get("metadata") or {}).get("labels") or {}
        return labels


class _Facts:
    """What selectors need of a stored value, kept without the decoded object: its labels (read-only)
    and the field set of the last strategy that asked."""

    __slots__ = ("fields", "labels", "strategy", "value")

    def __init__(
        self, value: bytes, labels: dict[str, str], strategy: Strategy | None, fields: dict[str, str]
    ) -> None:
        self.value = value
        self.labels = labels
        self.strategy = strategy
        self.fields = fields


_SHARED: weakref.WeakKeyDictionary[Store, SharedEvents] = weakref.WeakKeyDictionary()


def shared_events(store: Store) -> SharedEvents:
    """The :class:`SharedEvents` of ``store`` (one per store, made on first use)."""
    shared = _SHARED.get(store)
    if shared is None:
        shared = _SHARED[store] = SharedEvents()
        store.on_write = shared.written
        store.on_commit = shared.committed
    return shared


def _convert(event: Event, shared: SharedEvents, flt: Filter, encoder: _Encoder) -> bytes | None:
    """Upstream ``convertToWatchEvent``: the line this watcher gets for ``event``, if any."""
    cur = event.kv
    if event.type is EventType.CREATE:
        if shared.matches(flt, cur.value, cur):
            return encoder.stored("ADDED", cur.value, event.revision)
        return None
    prev = event.prev
    if event.type is EventType.DELETE:
        last = prev if prev is not None else cur
        if shared.matches(flt, last.value, last) or (
            last.value is not cur.value and shared.matches(flt, cur.value)
        ):
            return encoder.stored("DELETED", cur.value, event.revision)
        return None
    cur_ok = shared.matches(flt, cur.value, cur)
    prev_ok = prev is not None and shared.matches(flt, prev.value, prev)
    if cur_ok and prev_ok:
        return encoder.stored("MODIFIED", cur.value, event.revision)
    if cur_ok:
        return encoder.stored("ADDED", cur.value, event.revision)
    if prev_ok and prev is not None:
        return encoder.stored("DELETED", prev.value, event.revision)
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
    shared = shared_events(store)
    encoder = _Encoder(table, shared, audience=storage_prefix(resource, None))
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
        shared=shared,
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
    shared: SharedEvents,
    resource: Resource,
    flt: Filter,
    encoder: _Encoder,
    initial: list[dict[str, Any]],
    revision: int,
    clock: Clock,
    timeout: float,
    bookmark_interval: float,
) -> AsyncIterator[bytes]:
    sleeper: asyncio.Future[None] | None = None
    last_rv = revision
    start = clock.monotonic()
    deadline = start + timeout if timeout > 0 else float("inf")
    next_bookmark = start + bookmark_interval if bookmark_interval > 0 else float("inf")
    if encoder.shares_lines:
        shared.join(encoder.audience)
    selecting = not flt.everything
    if selecting:
        shared.select(resource.kind, +1)
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
            try:
                # Everything queued since the last look, as one batch: no task and no wait when
                # the store has already delivered (a watcher that fell behind catches up at once).
                batch = stream.take()
            except (StopAsyncIteration, serr.StorageError):
                return
            if batch is None:
                if sleeper is not None and sleeper.done():
                    sleeper = None  # its time has come: the top of the loop sends the bookmark or ends
                    continue
                wake = min(deadline, next_bookmark)
                if sleeper is None and wake != float("inf"):
                    # One timer until the next bookmark (or the deadline), kept across batches: a
                    # timer per batch cost more than the batch itself on small batches (etcd's).
                    sleeper = asyncio.ensure_future(clock.sleep(wake - now))
                    sleeper.add_done_callback(lambda _: stream.poke())
                await stream.wait()
                continue
            for event in batch:
                last_rv = max(last_rv, event.revision)
                line = _convert(event, shared, flt, encoder)
                if line is not None:
                    yield line
    finally:
        if encoder.shares_lines:
            shared.leave(encoder.audience)
        if selecting:
            shared.select(resource.kind, -1)
        if sleeper is not None and not sleeper.done():
            sleeper.cancel()
            with contextlib.suppress(BaseException):
                await sleeper
        stream.close()
