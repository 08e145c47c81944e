"""Client-side event correlation: aggregate repeats into one Event with a count, and throttle spam.

Mirrors client-go ``tools/record/events_cache.go`` (``EventCorrelator``), in the same three stages
applied to every new event:

1. **Aggregator** (``EventAggregator``, keyed by ``EventAggregatorByReasonFunc``: source,
   involvedObject, type, reason, reporting controller/instance). If 10 or more *different* messages
   arrive for one key within 10 minutes, further ones are replaced by a single event with the message
   ``(combined from similar events): <message>``, deduplicated under the aggregate key.
2. **Logger** (``eventLogger.eventObserve``, keyed by ``getEventKey``: source, involvedObject, type,
   reason and message). A repeat of an event already written becomes a PATCH of the existing Event:
   same name, ``count + 1``, new ``lastTimestamp`` (and the message), keeping ``firstTimestamp``.
3. **Spam filter** (``EventSourceObjectSpamFilter``): per source + involvedObject, a token bucket
   of 25 refilled at one event per 5 minutes; events beyond it are dropped.

Caches are LRUs of 4096 entries, as upstream. After a successful write the recorder calls
:meth:`EventCorrelator.update_state` with the server's Event so the next repeat patches the right
name and count.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any, Generic, TypeVar

from kubeds import clock as clock_mod, wire

__all__ = ["CorrelateResult", "EventCorrelator", "event_key"]

MAX_LRU_CACHE_ENTRIES = 4096
DEFAULT_AGGREGATE_MAX_EVENTS = 10
DEFAULT_AGGREGATE_INTERVAL_SECONDS = 600.0
DEFAULT_SPAM_BURST = 25
DEFAULT_SPAM_QPS = 1.0 / 300.0
COMBINED_PREFIX = "(combined from similar events): "

K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._data: collections.OrderedDict[K, V] = collections.OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def add(self, key: K, value: V) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._size:
            self._data.popitem(last=False)


def _ref(event: dict[str, Any]) -> dict[str, Any]:
    ref = event.get("involvedObject")
    return ref if isinstance(ref, dict) else {}


def _source(event: dict[str, Any]) -> dict[str, Any]:
    source = event.get("source")
    return source if isinstance(source, dict) else {}


def _s(part: object) -> str:
    return "" if part is None else part if type(part) is str else str(part)


def _keys(event: dict[str, Any]) -> tuple[str, str, str]:
    """(``getEventKey``, ``EventAggregatorByReasonFunc``'s key, the spam filter's key), built at once.

    Every event goes through all three, so the shared parts are rendered once.
    """
    ref, source = _ref(event), _source(event)
    component, host = _s(source.get("component")), _s(source.get("host"))
    kind, namespace, name = _s(ref.get("kind")), _s(ref.get("namespace")), _s(ref.get("name"))
    uid, api_version = _s(ref.get("uid")), _s(ref.get("apiVersion"))
    type_, reason = _s(event.get("type")), _s(event.get("reason"))
    spam = "".join((component, host, kind, namespace, name, uid, api_version))
    full = "".join(
        (component, host, kind, namespace, name, _s(ref.get("fieldPath")), uid, api_version, type_, reason)
    ) + _s(event.get("message"))
    aggregate = "".join(
        (
            spam,
            type_,
            reason,
            _s(event.get("reportingComponent")),
            _s(event.get("reportingInstance")),
        )
    )
    return full, aggregate, spam


def event_key(event: dict[str, Any]) -> str:
    """Upstream ``getEventKey``: identical events (same message) share it."""
    return _keys(event)[0]


def _spam_key(event: dict[str, Any]) -> str:
    return _keys(event)[2]


def _aggregate_key(event: dict[str, Any]) -> tuple[str, str]:
    """Upstream ``EventAggregatorByReasonFunc``: (aggregate key, message)."""
    return _keys(event)[1], str(event.get("message") or "")


@dataclasses.dataclass(slots=True)
class _AggregateRecord:
    local_keys: set[str]
    last_timestamp: float


@dataclasses.dataclass(slots=True)
class _EventLog:
    count: int
    first_timestamp: str
    name: str
    resource_version: str


@dataclasses.dataclass(slots=True)
class _SpamRecord:
    tokens: float
    last: float


@dataclasses.dataclass
class CorrelateResult:
    """What to write: ``event`` (created, or patched with ``patch`` when set), or nothing if ``skip``."""

    event: dict[str, Any]
    patch: dict[str, Any] | None
    skip: bool


class EventCorrelator:
    """Aggregation, deduplication and spam filtering of the events one recorder emits."""

    def __init__(self, *, clock: clock_mod.Clock = clock_mod.REAL) -> None:
        self._clock = clock
        self._aggregates: _LRU[str, _AggregateRecord] = _LRU(MAX_LRU_CACHE_ENTRIES)
        self._logs: _LRU[str, _EventLog] = _LRU(MAX_LRU_CACHE_ENTRIES)
        self._spam: _LRU[str, _SpamRecord] = _LRU(MAX_LRU_CACHE_ENTRIES)

    def correlate(self, event: dict[str, Any], *, name_for: str) -> CorrelateResult:
        """Run ``event`` through aggregation, deduplication and the spam filter.

        ``name_for`` is the name an aggregate event gets if one has to be created (the recorder's
        ``<object>.<hex timestamp>``).
        """
        keys = _keys(event)
        aggregated, cache_key = self._aggregate(event, keys, name_for=name_for)
        observed, patch = self._observe(aggregated, cache_key)
        # The aggregate event keeps the source and involvedObject: the spam key is the same.
        if self._filtered(keys[2]):
            return CorrelateResult(event=observed, patch=None, skip=True)
        return CorrelateResult(event=observed, patch=patch, skip=False)

    def update_state(self, event: dict[str, Any]) -> None:
        """Remember the server's copy of a written event (its name, resourceVersion and count)."""
        metadata = event.get("metadata") or {}
        key = event_key(event)
        self._logs.add(
            key,
            _EventLog(
                count=int(event.get("count") or 1),
                first_timestamp=str(event.get("firstTimestamp") or ""),
                name=str(metadata.get("name") or ""),
                resource_version=str(metadata.get("resourceVersion") or ""),
            ),
        )

    def _aggregate(
        self, event: dict[str, Any], keys: tuple[str, str, str], *, name_for: str
    ) -> tuple[dict[str, Any], str]:
        now = self._clock.monotonic()
        full_key, aggregate_key = keys[0], keys[1]
        local_key = str(event.get("message") or "")
        record = self._aggregates.get(aggregate_key)
        if record is None or now - record.last_timestamp > DEFAULT_AGGREGATE_INTERVAL_SECONDS:
            record = _AggregateRecord(local_keys=set(), last_timestamp=now)
        record.local_keys.add(local_key)
        record.last_timestamp = now
        self._aggregates.add(aggregate_key, record)
        if len(record.local_keys) < DEFAULT_AGGREGATE_MAX_EVENTS:
            return event, full_key
        # Do not let the set of distinct messages grow past the threshold.
        record.local_keys.pop()
        timestamp = event.get("lastTimestamp")
        combined = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name_for, "namespace": (event.get("metadata") or {}).get("namespace")},
            "count": 1,
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "involvedObject": dict(_ref(event)),  # flat: strings only
            "message": COMBINED_PREFIX + str(event.get("message") or ""),
            "type": event.get("type"),
            "reason": event.get("reason"),
            "source": dict(_source(event)),
        }
        return combined, aggregate_key

    def _observe(self, event: dict[str, Any], cache_key: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        last = self._logs.get(cache_key)
        patch: dict[str, Any] | None = None
        if last is not None and last.count > 0:
            event = wire.clone_json(event)
            event["metadata"]["name"] = last.name
            if last.resource_version:
                event["metadata"]["resourceVersion"] = last.resource_version
            event["firstTimestamp"] = last.first_timestamp
            event["count"] = last.count + 1
            patch = {
                "count": event["count"],
                "lastTimestamp": event.get("lastTimestamp"),
                "message": event.get("message"),
            }
        self._logs.add(
            cache_key,
            _EventLog(
                count=int(event.get("count") or 1),
                first_timestamp=str(event.get("firstTimestamp") or ""),
                name=str(event["metadata"].get("name") or ""),
                resource_version=str(event["metadata"].get("resourceVersion") or ""),
            ),
        )
        return event, patch

    def _filtered(self, key: str) -> bool:
        now = self._clock.monotonic()
        record = self._spam.get(key)
        if record is None:
            record = _SpamRecord(tokens=float(DEFAULT_SPAM_BURST), last=now)
        record.tokens = min(float(DEFAULT_SPAM_BURST), record.tokens + (now - record.last) * DEFAULT_SPAM_QPS)
        record.last = now
        self._spam.add(key, record)
        if record.tokens < 1.0:
            return True
        record.tokens -= 1.0
        return False
