"""Watch fan-out shares work between watchers: one decode per stored value, one line per event.

The events each watcher receives must be exactly what a private decode gave before (the shapes of
upstream ``cacher/cache_watcher.go`` ``convertToWatchEvent``), with ``metadata.resourceVersion`` the
event's revision; the sharing itself is checked by counting decodes and by line identity.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from conftest import Client, pod

from kubeds import wire
from kubeds.apiserver import watch
from kubeds.apiserver.handler import APIServer
from kubeds.apiserver.listing import build_filter
from kubeds.apiserver.resources import lookup
from kubeds.apiserver.store import Store
from kubeds.clock import FakeClock
from kubeds.storage.interface import KeyValue

PODS = "/api/v1/namespaces/default/pods"
MERGE = "application/merge-patch+json"


async def _open(client: Client, **query: str) -> AsyncIterator[bytes]:
    resp = await client.get(PODS, query={"watch": "true", **query})
    stream: AsyncIterator[bytes] | None = resp.raw.stream
    assert resp.status == 200 and stream is not None
    return stream


async def _line(stream: AsyncIterator[bytes]) -> bytes:
    return await asyncio.wait_for(stream.__anext__(), timeout=2)


def _event(line: bytes) -> tuple[str, dict[str, Any]]:
    event = json.loads(line)
    return event["type"], event["object"]


async def _close(*streams: AsyncIterator[bytes]) -> None:
    for s in streams:
        await s.aclose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "revision", "expected"),
    [
        (
            b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"},"spec":{}}',
            7,
            b'{"apiVersion":"v1","kind":"Pod","metadata":{"resourceVersion":"7","name":"a"},"spec":{}}',
        ),
        (
            b'{"apiVersion":"v1","kind":"Pod","metadata":{},"spec":{}}',
            12,
            b'{"apiVersion":"v1","kind":"Pod","metadata":{"resourceVersion":"12"},"spec":{}}',
        ),
        # metadata not the first nested object: not spliced
        (b'{"spec":{"x":1},"metadata":{"name":"a"}}', 3, None),
        # a resourceVersion already present (an Event's involvedObject): not spliced
        (b'{"kind":"Event","metadata":{"name":"e"},"involvedObject":{"resourceVersion":"5"}}', 9, None),
        (b'{"kind":"Pod"}', 1, None),
    ],
)
def test_object_bytes_splices_the_revision(value: bytes, revision: int, expected: bytes | None) -> None:
    assert Store.object_bytes(value, revision) == expected


def test_shared_line_matches_a_private_encode_and_is_built_once() -> None:
    shared = watch.SharedEvents()
    for value in (
        b'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","labels":{"x":"1"}},"status":{}}',
        b'{"kind":"Event","metadata":{"name":"e"},"involvedObject":{"resourceVersion":"5"}}',
    ):
        line = shared.line("MODIFIED", value, 42)
        event = orjson.loads(line)
        expected = orjson.loads(value)
        expected["metadata"]["resourceVersion"] = "42"
        assert event == {"type": "MODIFIED", "object": expected}
        assert line.endswith(b"\n")
        assert shared.line("MODIFIED", value, 42) is line
        assert shared.line("DELETED", value, 42) is not line


def count_decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """From now on, every ``orjson.loads`` of the test is noted in the returned list."""
    calls: list[bytes] = []
    real = orjson.loads

    def counting(data: bytes) -> Any:
        calls.append(data)
        return real(data)

    monkeypatch.setattr(orjson, "loads", counting)
    return calls


def test_shared_matches_decodes_each_value_once(monkeypatch: pytest.MonkeyPatch) -> None:
    pods = lookup("", "v1", "pods")
    assert pods is not None
    calls = count_decodes(monkeypatch)
    shared = watch.SharedEvents(views=2, facts=2)
    value = orjson.dumps(pod("a", labels={"app": "web"}) | {"status": {"phase": "Running"}})
    cases = [
        (build_filter(pods, "app=web"), True),
        (build_filter(pods, "app=db"), False),
        (build_filter(pods, "", "status.phase=Running"), True),
        (build_filter(pods, "app=web", "status.phase!=Running"), False),
        (build_filter(pods), True),
    ]
    for flt, want in cases:
        assert shared.matches(flt, value) is want
    assert calls == [value]
    # An equal value in other bytes objects is another version: decoded on its own; the LRU
    # (size 2) then forgets the first.
    other, third = bytes(bytearray(value)), bytes(bytearray(value))
    assert shared.matches(cases[0][0], other) and shared.matches(cases[0][0], third)
    assert shared.matches(cases[0][0], value)
    assert len(calls) == 4


def test_selector_facts_outlive_decoded_views(monkeypatch: pytest.MonkeyPatch) -> None:
    """An update event matches the previous version too: its labels and fields are still known after
    its decode left the (small) view ring, so it is not decoded again; a ring of facts as small
    as the views would decode it again (the case before the facts ring existed)."""
    pods = lookup("", "v1", "pods")
    assert pods is not None
    calls = count_decodes(monkeypatch)
    flt = build_filter(pods, "app=web", "spec.nodeName!=")
    versions = [
        orjson.dumps(pod("a", labels={"app": "web"}) | {"spec": {"nodeName": f"n{i}"}}) for i in range(5)
    ]
    # Two watchers, the second a whole stream behind the first: five versions, decoded once each
    # with a ring that holds them; with a ring of one, every previous version is decoded again
    # (1 + 4 * 2 per watcher).
    for facts, decodes in ((64, 5), (1, 18)):
        calls.clear()
        shared = watch.SharedEvents(views=1, facts=facts)
        for _watcher in range(2):
            assert shared.matches(flt, versions[0])
            for prev, cur in itertools.pairwise(versions):
                assert shared.matches(flt, cur) and shared.matches(flt, prev)
        assert len(calls) == decodes, (facts, len(calls))


async def test_watchers_with_and_without_selectors_share_lines(client: Client, api: APIServer) -> None:
    created = await client.post(PODS, pod("a", labels={"app": "web"}))
    rv = created.body["metadata"]["resourceVersion"]
    plain = await _open(client, resourceVersion=rv)
    plain2 = await _open(client, resourceVersion=rv)
    labelled = await _open(client, resourceVersion=rv, labelSelector="app=web")
    named = await _open(client, resourceVersion=rv, fieldSelector="metadata.name=a")

    patched = await client.patch(f"{PODS}/a", {"metadata": {"annotations": {"k": "v"}}}, content_type=MERGE)
    lines = [await _line(s) for s in (plain, plain2, labelled, named)]
    assert all(line is lines[0] for line in lines)
    kind, obj = _event(lines[0])
    assert kind == "MODIFIED" and obj == patched.body

    # The label leaves the selection: the labelled watcher gets DELETED with the previous state at
    # the event's revision; the others get MODIFIED.
    moved = await client.patch(f"{PODS}/a", {"metadata": {"labels": {"app": "db"}}}, content_type=MERGE)
    new_rv = moved.body["metadata"]["resourceVersion"]
    kind, obj = _event(await _line(labelled))
    assert (kind, obj["metadata"]["labels"], obj["metadata"]["resourceVersion"]) == (
        "DELETED",
        {"app": "web"},
        new_rv,
    )
    assert obj["metadata"]["annotations"] == {"k": "v"}
    for s in (plain, plain2, named):
        assert _event(await _line(s)) == ("MODIFIED", moved.body)

    deleted = await client.delete(f"{PODS}/a")
    assert deleted.status == 200
    gone_rv = deleted.body["metadata"]["resourceVersion"]
    assert int(gone_rv) > int(new_rv)
    for s in (plain, plain2, named):
        kind, obj = _event(await _line(s))
        assert (kind, obj) == ("DELETED", deleted.body)
    await _close(plain, plain2, labelled, named)
    assert watch.shared_events(api.store) is watch.shared_events(api.store)


async def test_graceful_delete_returns_the_stored_object(client: Client) -> None:
    await client.post(PODS, pod("a", node="n1"))  # bound: graceful (an unbound pod goes at once)
    first = await client.delete(f"{PODS}/a", {"gracePeriodSeconds": 30})
    live = await client.get(f"{PODS}/a")
    assert first.status == 200 and first.body == live.body
    assert first.body["metadata"]["deletionGracePeriodSeconds"] == 30
    final = await client.delete(f"{PODS}/a", {"gracePeriodSeconds": 0})
    assert final.status == 200
    assert int(final.body["metadata"]["resourceVersion"]) > int(live.body["metadata"]["resourceVersion"])
    assert (await client.get(f"{PODS}/a")).status == 404


def test_line_of_a_value_a_selector_decoded_carries_that_decode() -> None:
    """In-process clients take the line's event from the memo instead of parsing the line: when a
    selector already decoded the value, the event is built from that decode, and it must be exactly
    what parsing the line gives (revision included, sections shared read-only with the view)."""
    pods = lookup("", "v1", "pods")
    assert pods is not None
    memo = wire.SharedLines(capacity=8)
    shared = watch.SharedEvents(decoded=memo)
    shared.join("pods")
    shared.join("pods")  # two JSON watchers: lines are shared
    decoded = orjson.dumps(pod("a", labels={"app": "web"}) | {"status": {"phase": "Running"}})
    assert shared.matches(build_filter(pods, "app=web"), decoded)
    line = shared.line("MODIFIED", decoded, 42, audience="pods")
    event = memo.lookup(line)
    assert event is not None and event == orjson.loads(line)
    assert event["object"]["metadata"]["resourceVersion"] == "42"
    assert list(event["object"]["metadata"]) == list(orjson.loads(line)["object"]["metadata"])
    # A value no selector decoded: the line is registered without an event (the client decodes it).
    plain = orjson.dumps(pod("b"))
    assert memo.lookup(shared.line("ADDED", plain, 43, audience="pods")) is None


async def test_selectors_match_what_this_server_wrote_without_decoding_it(
    client: Client, api: APIServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store tells the watch fan-out what it writes (labels, field set) while watchers with
    selectors run, so matching a value this server wrote never decodes it; the facts are copies,
    so the writer changing the object it got back changes nothing."""
    decodes: list[bytes] = []
    real_view = watch.SharedEvents._view

    def counting(self: watch.SharedEvents, value: bytes) -> Any:
        cached = self._views.get(id(value))
        if cached is None or cached.value is not value:
            decodes.append(value)
        return real_view(self, value)

    monkeypatch.setattr(watch.SharedEvents, "_view", counting)
    created = await client.post(PODS, pod("a", labels={"app": "web"}))
    rv = created.body["metadata"]["resourceVersion"]
    labelled = await _open(client, resourceVersion=rv, labelSelector="app=web")
    named = await _open(client, resourceVersion=rv, fieldSelector="metadata.name=a")
    # Written before the watchers ran: the first event's two versions are decoded, once each.
    await client.patch(f"{PODS}/a", {"metadata": {"annotations": {"k": "v"}}}, content_type=MERGE)
    assert [_event(await _line(s))[0] for s in (labelled, named)] == ["MODIFIED", "MODIFIED"]
    assert len(decodes) == 2
    decodes.clear()
    # Written while they run: known from the write.
    moved = await client.patch(f"{PODS}/a", {"metadata": {"labels": {"app": "db"}}}, content_type=MERGE)
    moved.body["metadata"]["labels"]["app"] = "web"  # the writer's own copy: not what was stored
    kind, obj = _event(await _line(labelled))
    assert (kind, obj["metadata"]["labels"]) == ("DELETED", {"app": "web"})
    kind, obj = _event(await _line(named))
    assert (kind, obj["metadata"]["labels"]) == ("MODIFIED", {"app": "db"})
    await client.patch(f"{PODS}/a", {"metadata": {"labels": {"app": "web"}}}, content_type=MERGE)
    assert _event(await _line(labelled))[0] == "ADDED"
    assert decodes == []


def test_a_write_is_recognised_by_key_and_revision_in_other_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """etcd's watch hands out its own bytes for a value this server wrote: the facts noted at the
    write answer for its key and revision, so it is not decoded; another revision of the key is."""
    pods = lookup("", "v1", "pods")
    assert pods is not None
    shared = watch.SharedEvents()
    shared.select("Pod", +1)
    obj = pod("a", node="n1", labels={"app": "web"})
    value = orjson.dumps(obj)
    shared.written(pods, value, obj)
    shared.committed(value, KeyValue("/registry/pods/default/a", value, 7, 7))
    decodes = count_decodes(monkeypatch)
    flt = build_filter(pods, "app=web", "spec.nodeName=n1")
    from_watch = bytes(bytearray(value))  # equal content, other bytes
    assert shared.matches(flt, from_watch, KeyValue("/registry/pods/default/a", from_watch, 7, 7))
    assert decodes == []
    assert shared.matches(flt, from_watch, KeyValue("/registry/pods/default/a", from_watch, 7, 8))
    assert decodes == [from_watch]


def test_a_version_written_long_ago_is_known_when_its_key_is_written_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An update event matches the previous object too. A pod written long ago (its facts gone from
    both rings since) is known again when its key is next written, so neither its update event nor
    a later deletion of it decodes anything; the per-key memo keeps no value bytes."""
    pods = lookup("", "v1", "pods")
    assert pods is not None
    shared = watch.SharedEvents(facts=4)
    shared.select("Pod", +1)
    flt = build_filter(pods, "app=web", "")

    def write(name: str, revision: int, labels: dict[str, str]) -> KeyValue:
        obj = pod(name, node="n1", labels=labels)
        value = orjson.dumps(obj)
        shared.written(pods, value, obj)
        kv = KeyValue(f"/registry/pods/default/{name}", value, 1, revision)
        shared.committed(value, kv)
        return kv

    old = write("a", 1, {"app": "web"})
    for i in range(10):  # pushes a's facts out of the rings of 4
        write(f"other-{i}", 2 + i, {"app": "db"})
    decodes = count_decodes(monkeypatch)
    new = write("a", 20, {"app": "db"})
    from_watch = bytes(bytearray(old.value))  # the previous version, in other bytes (etcd's watch)
    assert shared.matches(flt, from_watch, KeyValue(old.key, from_watch, 1, old.mod_revision))
    assert not shared.matches(flt, new.value, new)
    last = bytes(bytearray(new.value))  # deleted later: the last state is the key's latest version
    for i in range(10):
        write(f"more-{i}", 30 + i, {"app": "db"})
    assert not shared.matches(flt, last, KeyValue(new.key, last, 1, new.mod_revision))
    assert decodes == []
    assert all(facts.value == b"" for _, facts in shared._latest.values())
    # An unknown revision of the key is decoded as before.
    other = bytes(bytearray(new.value))
    assert not shared.matches(flt, other, KeyValue(new.key, other, 1, 99))
    assert decodes == [other]


async def test_a_watch_keeps_one_timer_across_batches(
    client: Client, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bookmark/deadline timer is made at most once per interval, not once per batch of events
    (one per event on etcd, whose watch answers one revision at a time); bookmarks still come on time."""
    sleeps: list[float] = []
    real_sleep = clock.sleep

    async def counting(seconds: float) -> None:
        sleeps.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(clock, "sleep", counting)
    created = await client.post(PODS, pod("a"))
    rv = created.body["metadata"]["resourceVersion"]
    stream = await _open(client, resourceVersion=rv, allowWatchBookmarks="true")
    for i in range(20):
        await client.patch(f"{PODS}/a", {"metadata": {"annotations": {"n": str(i)}}}, content_type=MERGE)
        assert _event(await _line(stream))[0] == "MODIFIED"
    assert len(sleeps) <= 1  # made only when the watcher had nothing to send, and then kept
    clock.advance(watch.BOOKMARK_INTERVAL)
    kind, obj = _event(await _line(stream))
    assert kind == "BOOKMARK" and int(obj["metadata"]["resourceVersion"]) > int(rv)
