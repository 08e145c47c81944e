"""EventRecorder and correlation (client-go tools/record event_test.go / events_cache_test.go behaviour:
event shape, identical repeats patched with count, aggregation past 10 similar messages, spam filter,
retry rules)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from machinery_fakes import FakeApi, settle

from kubeds import wire
from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.machinery import events as events_mod

DS: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "kube-proxy", "namespace": "kube-system", "uid": "ds-uid", "resourceVersion": "7"},
}
NODE: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "uid": "node-uid"}}


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def recorder(fake: FakeApi, clock: FakeClock) -> AsyncIterator[events_mod.EventRecorder]:
    rec = events_mod.EventRecorder(
        ApiClient(fake), component="daemonset-controller", host="host-1", clock=clock, rng=random.Random(0)
    )
    rec.start()
    yield rec
    await asyncio.wait_for(rec.stop(), 1)


def stored(fake: FakeApi) -> list[dict[str, Any]]:
    return [obj for (plural, _, _), obj in sorted(fake.objects.items()) if plural == "events"]


def writes(fake: FakeApi) -> list[tuple[str, Any]]:
    return [(r.method, json.loads(r.body)) for r in fake.requests if r.method in ("POST", "PATCH")]


async def test_event_shape(recorder: events_mod.EventRecorder, fake: FakeApi, clock: FakeClock) -> None:
    recorder.event(DS, "Normal", "SuccessfulCreate", "Created pod: kube-proxy-abcde")
    await recorder.flush()
    (event,) = stored(fake)
    nanos = int(clock.now().timestamp()) * 1_000_000_000
    assert event["metadata"]["name"] == f"kube-proxy.{nanos:x}"
    assert event["metadata"]["namespace"] == "kube-system"
    assert event["involvedObject"] == {
        "kind": "DaemonSet",
        "namespace": "kube-system",
        "name": "kube-proxy",
        "uid": "ds-uid",
        "apiVersion": "apps/v1",
        "resourceVersion": "7",
    }
    assert event["source"] == {"component": "daemonset-controller", "host": "host-1"}
    assert event["firstTimestamp"] == event["lastTimestamp"] == "2026-01-01T00:00:00Z"
    assert event["count"] == 1
    assert event["type"] == "Normal"
    assert event["reason"] == "SuccessfulCreate"
    assert event["message"] == "Created pod: kube-proxy-abcde"
    assert event["reportingComponent"] == "daemonset-controller"
    assert event["reportingInstance"] == "host-1"


async def test_cluster_scoped_object_events_go_to_default(
    recorder: events_mod.EventRecorder, fake: FakeApi
) -> None:
    recorder.event(NODE, "Warning", "NodeNotReady", "Node node-1 status is now: NodeNotReady")
    await recorder.flush()
    (event,) = stored(fake)
    assert event["metadata"]["namespace"] == "default"
    assert "namespace" not in event["involvedObject"]


async def test_identical_repeats_are_patched_with_count(
    recorder: events_mod.EventRecorder, fake: FakeApi, clock: FakeClock
) -> None:
    recorder.event(DS, "Warning", "FailedCreate", "quota exceeded")
    await recorder.flush()
    clock.advance(30)
    recorder.event(DS, "Warning", "FailedCreate", "quota exceeded")
    clock.advance(30)
    recorder.event(DS, "Warning", "FailedCreate", "quota exceeded")
    await recorder.flush()
    (event,) = stored(fake)
    assert event["count"] == 3
    assert event["firstTimestamp"] == "2026-01-01T00:00:00Z"
    assert event["lastTimestamp"] == "2026-01-01T00:01:00Z"
    methods = [m for m, _ in writes(fake)]
    assert methods == ["POST", "PATCH", "PATCH"]
    _, patch = writes(fake)[1]
    assert patch == {"count": 2, "lastTimestamp": "2026-01-01T00:00:30Z", "message": "quota exceeded"}
    patch_req = next(r for r in fake.requests if r.method == "PATCH")
    assert patch_req.headers["content-type"] == "application/strategic-merge-patch+json"


async def test_different_messages_are_separate_events_with_unique_names(
    recorder: events_mod.EventRecorder, fake: FakeApi
) -> None:
    # The clock does not move: names must still differ.
    for i in range(3):
        recorder.event(DS, "Normal", "SuccessfulCreate", f"Created pod: p{i}")
    await recorder.flush()
    events = stored(fake)
    assert len(events) == 3
    assert len({e["metadata"]["name"] for e in events}) == 3


async def test_similar_events_are_aggregated_past_ten_messages(
    recorder: events_mod.EventRecorder, fake: FakeApi
) -> None:
    for i in range(12):
        recorder.event(DS, "Normal", "SuccessfulCreate", f"Created pod: p{i}")
    await recorder.flush()
    events = stored(fake)
    plain = [e for e in events if not e["message"].startswith("(combined")]
    combined = [e for e in events if e["message"].startswith("(combined from similar events): ")]
    assert len(plain) == 9
    (aggregate,) = combined
    assert aggregate["count"] == 3
    assert aggregate["message"] == "(combined from similar events): Created pod: p11"


async def test_spam_filter_allows_burst_of_25_per_object(
    recorder: events_mod.EventRecorder, fake: FakeApi, clock: FakeClock
) -> None:
    for _ in range(30):
        recorder.event(DS, "Warning", "FailedCreate", "same")
    await recorder.flush()
    (event,) = stored(fake)
    assert event["count"] == 25
    clock.advance(300)  # one token per 5 minutes
    recorder.event(DS, "Warning", "FailedCreate", "same")
    recorder.event(DS, "Warning", "FailedCreate", "same")
    await recorder.flush()
    # One more write; as upstream, the count includes the occurrences the filter dropped.
    assert stored(fake)[0]["count"] == 31
    assert [m for m, _ in writes(fake)].count("PATCH") == 25


async def test_unsupported_type_is_dropped(recorder: events_mod.EventRecorder, fake: FakeApi) -> None:
    recorder.event(DS, "Info", "Whatever", "m")
    assert recorder.pending == 0
    await recorder.flush()
    assert stored(fake) == []


async def test_patch_of_vanished_event_creates_it_again(
    recorder: events_mod.EventRecorder, fake: FakeApi
) -> None:
    recorder.event(DS, "Warning", "FailedCreate", "x")
    await recorder.flush()
    (event,) = stored(fake)
    fake.silently_remove("events", event["metadata"]["name"], "kube-system")
    recorder.event(DS, "Warning", "FailedCreate", "x")
    await recorder.flush()
    (again,) = stored(fake)
    assert again["metadata"]["name"] == event["metadata"]["name"]
    assert again["count"] == 2
    assert [m for m, _ in writes(fake)] == ["POST", "PATCH", "POST"]


async def test_transport_errors_are_retried_on_the_clock(
    recorder: events_mod.EventRecorder, fake: FakeApi, clock: FakeClock
) -> None:
    fake.fail_next(errors.TransportError("connection refused"))
    fake.fail_next(errors.TransportError("connection refused"))
    recorder.event(DS, "Normal", "SuccessfulCreate", "m")
    await settle(50)
    assert stored(fake) == [] and clock.sleepers == 1
    clock.advance(10)  # first wait is randomised below 10 s
    await settle(50)
    assert stored(fake) == [] and clock.sleepers == 1
    clock.advance(10)
    await recorder.flush()
    assert len(stored(fake)) == 1


async def test_server_rejection_is_not_retried(
    recorder: events_mod.EventRecorder, fake: FakeApi, clock: FakeClock
) -> None:
    body = b'{"kind":"Status","code":422,"reason":"Invalid","message":"bad"}'
    fake.fail_next(wire.Response(422, {}, body))
    recorder.event(DS, "Normal", "SuccessfulCreate", "first")
    recorder.event(DS, "Normal", "SuccessfulCreate", "second")
    await recorder.flush()
    assert [e["message"] for e in stored(fake)] == ["second"]
    assert clock.sleepers == 0


async def test_eventf_formats(recorder: events_mod.EventRecorder, fake: FakeApi) -> None:
    recorder.eventf(DS, "Normal", "SuccessfulDelete", "Deleted pod: %s", "kube-proxy-x")
    await recorder.flush()
    assert stored(fake)[0]["message"] == "Deleted pod: kube-proxy-x"
