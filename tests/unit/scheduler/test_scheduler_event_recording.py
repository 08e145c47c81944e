"""The scheduler's event recording shortcuts: correlator keys built at once, timestamps per second.

The keys must be exactly client-go's (``tools/record/events_cache.go``: ``getEventKey``,
``EventAggregatorByReasonFunc`` and ``getSpamKey`` join their parts with no separator; the reference
below is that join); the recorder formats ``firstTimestamp`` once per second but names stay unique
and timestamps follow the clock. (That the scheduler records one ``Scheduled`` event per bound pod,
with upstream's message, is in ``test_scheduler_component.py``.)
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock, format_time
from kubeds.machinery import eventcorrelator, events as events_mod


def _join(*parts: object) -> str:
    return "".join("" if p is None else str(p) for p in parts)


def _reference_keys(e: dict[str, Any]) -> tuple[str, str, str]:
    ref, src = e.get("involvedObject") or {}, e.get("source") or {}
    full = _join(
        src.get("component"),
        src.get("host"),
        ref.get("kind"),
        ref.get("namespace"),
        ref.get("name"),
        ref.get("fieldPath"),
        ref.get("uid"),
        ref.get("apiVersion"),
        e.get("type"),
        e.get("reason"),
        e.get("message"),
    )
    aggregate = _join(
        src.get("component"),
        src.get("host"),
        ref.get("kind"),
        ref.get("namespace"),
        ref.get("name"),
        ref.get("uid"),
        ref.get("apiVersion"),
        e.get("type"),
        e.get("reason"),
        e.get("reportingComponent"),
        e.get("reportingInstance"),
    )
    spam = _join(
        src.get("component"),
        src.get("host"),
        ref.get("kind"),
        ref.get("namespace"),
        ref.get("name"),
        ref.get("uid"),
        ref.get("apiVersion"),
    )
    return full, aggregate, spam


EVENTS: list[dict[str, Any]] = [
    events_mod.make_event(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "9"},
        },
        type="Normal",
        reason="Scheduled",
        message="Successfully assigned ns/p to n1",
        component="default-scheduler",
        host="",
        timestamp="2026-01-01T00:00:00Z",
        name="p.1",
    ),
    {"involvedObject": {"kind": "Node", "name": "n", "fieldPath": "spec", "uid": 7}, "source": {"host": "h"}},
    {"type": "Warning", "reason": None, "message": 3, "reportingComponent": "c", "reportingInstance": "i"},
    {},
]


@pytest.mark.parametrize("event", EVENTS)
def test_keys_are_client_go_joins(event: dict[str, Any]) -> None:
    full, aggregate, spam = _reference_keys(event)
    assert eventcorrelator._keys(event) == (full, aggregate, spam)
    assert eventcorrelator.event_key(event) == full


class _NoApi:
    async def request(self, req: Any) -> Any:  # never reached: the recorder is not started
        raise AssertionError(req)


def test_timestamps_follow_the_clock_and_names_stay_unique() -> None:
    clock = FakeClock()
    rec = events_mod.EventRecorder(ApiClient(_NoApi()), component="default-scheduler", clock=clock)  # type: ignore[arg-type]
    pod = {"kind": "Pod", "metadata": {"name": "p", "namespace": "ns"}}
    for _ in range(3):
        rec.event(pod, "Normal", "Scheduled", "m")
    clock.advance(1.5)
    rec.event(pod, "Normal", "Scheduled", "m")
    queued = list(rec._pending)
    stamps = [e["firstTimestamp"] for e in queued]
    start = clock.now() - dt.timedelta(seconds=1.5)
    assert stamps == [format_time(start)] * 3 + [format_time(clock.now())]
    assert stamps[0] != stamps[-1]
    assert len({e["metadata"]["name"] for e in queued}) == 4
