"""Recording core/v1 Events about objects, fire-and-forget, as controllers do.

Mirrors client-go ``tools/record/event.go`` (``recorder.generateEvent``/``makeEvent``,
``recordToSink``/``recordEvent``) with the correlation of :mod:`.eventcorrelator`:

* :meth:`EventRecorder.event` never blocks and never fails: it validates the type (``Normal`` or
  ``Warning``; anything else is logged and dropped, as upstream), builds the Event and queues it (at
  most 1000 pending, upstream's ``maxQueuedEvents``; more are dropped with a log line). A background
  task started by :meth:`start` writes them in order.
* The Event is shaped like upstream's: name ``<object name>.<hex of the UnixNano timestamp>``, in the
  object's namespace (``default`` for cluster-scoped objects), ``involvedObject`` with
  kind/namespace/name/uid/apiVersion/resourceVersion, ``source`` {component, host},
  ``firstTimestamp = lastTimestamp``, ``count: 1``, ``reportingComponent``/``reportingInstance``.
  Names stay unique even when the (fake) clock has not moved: the nanosecond stamp is bumped past the
  last one used, so two events in the same tick do not collide.
* Writing: a repeat the correlator recognises is a strategic-merge PATCH of ``count``,
  ``lastTimestamp`` and ``message``; if that Event is gone (404) it is created instead. A rejection by
  the server (any Status error) is logged and not retried; a transport failure is retried up to 12
  times, 10 s apart on the clock (the first wait randomised), as upstream.

:meth:`stop` writes what is still queued, then ends the task.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import logging
import random
from collections.abc import Mapping
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors
from kubeds.machinery import eventcorrelator

__all__ = ["EVENT_TYPE_NORMAL", "EVENT_TYPE_WARNING", "EventRecorder", "make_event"]

log = logging.getLogger(__name__)

EVENT_TYPE_NORMAL = "Normal"
EVENT_TYPE_WARNING = "Warning"
DEFAULT_NAMESPACE = "default"
MAX_QUEUED_EVENTS = 1000
MAX_TRIES_PER_EVENT = 12
SLEEP_BETWEEN_TRIES = 10.0
MSG_UNSUPPORTED_TYPE = "Unsupported event type: '{type}'"


def object_reference(obj: Mapping[str, Any]) -> dict[str, Any]:
    """An ObjectReference to ``obj`` (upstream ``reference.GetReference``); empty fields are left out."""
    metadata = obj.get("metadata") or {}
    ref = {
        "kind": obj.get("kind"),
        "namespace": metadata.get("namespace"),
        "name": metadata.get("name"),
        "uid": metadata.get("uid"),
        "apiVersion": obj.get("apiVersion"),
        "resourceVersion": metadata.get("resourceVersion"),
    }
    return {k: v for k, v in ref.items() if v}


def make_event(
    obj: Mapping[str, Any],
    *,
    type: str,
    reason: str,
    message: str,
    component: str,
    host: str,
    timestamp: str,
    name: str,
) -> dict[str, Any]:
    """The core/v1 Event upstream's recorder builds (``makeEvent``)."""
    ref = object_reference(obj)
    source: dict[str, str] = {"component": component}
    if host:
        source["host"] = host
    event: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": ref.get("namespace") or DEFAULT_NAMESPACE},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": timestamp,
        "lastTimestamp": timestamp,
        "count": 1,
        "type": type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host,
    }
    return event


class EventRecorder:
    """Queue Events about objects and write them in the background, aggregated like upstream."""

    def __init__(
        self,
        api: api_mod.ApiClient,
        *,
        component: str,
        host: str = "",
        clock: clock_mod.Clock = clock_mod.REAL,
        rng: random.Random | None = None,
    ) -> None:
        self._events = api.resource("v1", "events")
        self.component = component
        self.host = host
        self._clock = clock
        self._rng = rng or random.Random()
        self._correlator = eventcorrelator.EventCorrelator(clock=clock)
        self._pending: collections.deque[dict[str, Any]] = collections.deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_nanos = 0
        self._stamp: tuple[int, str] = (-1, "")

    def event(self, obj: Mapping[str, Any], type: str, reason: str, message: str) -> None:
        """Record an event about ``obj`` (fire-and-forget)."""
        if type not in (EVENT_TYPE_NORMAL, EVENT_TYPE_WARNING):
            log.error(MSG_UNSUPPORTED_TYPE.format(type=type) + " is not supported, event dropped")
            return
        if len(self._pending) >= MAX_QUEUED_EVENTS:
            log.error("event queue is full, dropping event %s %s: %s", type, reason, message)
            return
        now = self._clock.now()
        ref_name = str((obj.get("metadata") or {}).get("name") or "")
        nanos = self._unique_nanos(now)
        self._pending.append(
            make_event(
                obj,
                type=type,
                reason=reason,
                message=message,
                component=self.component,
                host=self.host,
                timestamp=self._timestamp(now),
                name=f"{ref_name}.{nanos:x}",
            )
        )
        self._idle.clear()
        self._wakeup.set()

    def eventf(self, obj: Mapping[str, Any], type: str, reason: str, fmt: str, *args: object) -> None:
        """:meth:`event` with a %-format message."""
        self.event(obj, type, reason, fmt % args if args else fmt)

    def _timestamp(self, now: dt.datetime) -> str:
        """``format_time(now)``, formatted once per second (a busy scheduler records thousands)."""
        second = int(now.timestamp())
        if self._stamp[0] != second:
            self._stamp = (second, clock_mod.format_time(now))
        return self._stamp[1]

    def _unique_nanos(self, now: dt.datetime) -> int:
        delta = now - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        nanos = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
        nanos = max(nanos, self._last_nanos + 1)
        self._last_nanos = nanos
        return nanos

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        """Start the background writer (needs a running loop)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._write_loop(), name=f"events:{self.component}"
            )

    async def flush(self) -> None:
        """Wait until every queued event has been written (or given up on)."""
        if self._task is None or self._task.done():
            return
        await self._idle.wait()

    async def stop(self) -> None:
        """Write what is queued, then stop the writer."""
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _write_loop(self) -> None:
        while True:
            while not self._pending:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
            event = self._pending.popleft()
            try:
                await self._record_to_sink(event)
            except Exception:
                log.exception("unexpected failure writing event %s", event["metadata"].get("name"))

    async def _record_to_sink(self, event: dict[str, Any]) -> None:
        result = self._correlator.correlate(event, name_for=str(event["metadata"]["name"]))
        if result.skip:
            return
        for attempt in range(1, MAX_TRIES_PER_EVENT + 1):
            if await self._record(result.event, result.patch):
                return
            if attempt == MAX_TRIES_PER_EVENT:
                break
            delay = SLEEP_BETWEEN_TRIES
            if attempt == 1:
                # Randomise the first wait so that many recorders do not retry in lockstep.
                delay = self._rng.random() * SLEEP_BETWEEN_TRIES
            await self._clock.sleep(delay)
        log.error("unable to write event %r (retry limit exceeded!)", event["metadata"].get("name"))

    async def _record(self, event: dict[str, Any], patch: dict[str, Any] | None) -> bool:
        """One write; True when done (written, or rejected for good), False to retry."""
        namespace = event["metadata"].get("namespace")
        try:
            written: dict[str, Any] | None = None
            if patch is not None:
                try:
                    written = await self._events.patch(
                        event["metadata"]["name"], patch, namespace=namespace, patch_type="strategic"
                    )
                except errors.NotFound:
                    written = None
            if written is None:
                body = {
                    **event,
                    "metadata": {k: v for k, v in event["metadata"].items() if k != "resourceVersion"},
                }
                written = await self._events.create(body, namespace=namespace)
        except errors.TransportError as exc:
            log.warning("unable to write event %s (may retry): %s", event["metadata"].get("name"), exc)
            return False
        except errors.ApiError as exc:
            if isinstance(exc, errors.AlreadyExists):
                log.debug("server rejected event %s: %s", event["metadata"].get("name"), exc)
            else:
                log.error(
                    "server rejected event %s: %s (will not retry!)", event["metadata"].get("name"), exc
                )
            return True
        self._correlator.update_state(written)
        return True
