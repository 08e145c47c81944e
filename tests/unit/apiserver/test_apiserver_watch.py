"""WATCH through APIServer.handle: initial events, replay, 410, selector transitions, bookmarks,
timeout and Table events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from conftest import TABLE_ACCEPT, Client, pod

from kubeds.apiserver.handler import APIServer
from kubeds.clock import FakeClock

PODS = "/api/v1/namespaces/default/pods"
MERGE = "application/merge-patch+json"


async def _open(client: Client, path: str = PODS, **query: str) -> AsyncIterator[bytes]:
    resp = await client.get(path, query={"watch": "true", **query})
    assert resp.status == 200
    assert resp.raw.stream is not None
    return resp.raw.stream


async def _next(stream: AsyncIterator[bytes]) -> tuple[str, dict[str, Any]]:
    event = json.loads(await asyncio.wait_for(stream.__anext__(), timeout=2))
    return event["type"], event["object"]


async def _settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_initial_added_then_changes(client: Client) -> None:
    await client.post(PODS, pod("a"))
    for rv in ("", "0"):
        stream = await _open(client, **({"resourceVersion": rv} if rv else {}))
        kind, obj = await _next(stream)
        assert (kind, obj["metadata"]["name"], obj["kind"]) == ("ADDED", "a", "Pod")
        await stream.aclose()  # type: ignore[attr-defined]
    stream = await _open(client)
    await _next(stream)
    await client.patch(f"{PODS}/a", {"metadata": {"labels": {"x": "1"}}}, content_type=MERGE)
    kind, obj = await _next(stream)
    assert kind == "MODIFIED" and obj["metadata"]["labels"]["x"] == "1"
    deleted = await client.delete(f"{PODS}/a")
    kind, obj = await _next(stream)
    assert kind == "DELETED" and obj["metadata"]["name"] == "a"
    assert int(obj["metadata"]["resourceVersion"]) > int(deleted.body["metadata"]["resourceVersion"]) - 1
    await stream.aclose()  # type: ignore[attr-defined]


async def test_replay_after_resource_version(client: Client) -> None:
    first = await client.post(PODS, pod("a"))
    await client.post(PODS, pod("b"))
    await client.post(PODS, pod("c"))
    stream = await _open(client, resourceVersion=first.body["metadata"]["resourceVersion"])
    assert [(await _next(stream))[1]["metadata"]["name"] for _ in range(2)] == ["b", "c"]
    await stream.aclose()  # type: ignore[attr-defined]


async def test_compacted_resource_version_is_410_event(client: Client, api: APIServer) -> None:
    first = await client.post(PODS, pod("a"))
    await client.post(PODS, pod("b"))
    await api.backend.compact(await api.backend.current_revision())
    stream = await _open(client, resourceVersion=first.body["metadata"]["resourceVersion"])
    kind, status = await _next(stream)
    assert kind == "ERROR"
    assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
    assert status["message"].startswith(
        f"too old resource version: {first.body['metadata']['resourceVersion']} ("
    )
    rest = [chunk async for chunk in stream]
    assert rest == []


async def test_selector_transitions(client: Client) -> None:
    await client.post(PODS, pod("a", labels={"app": "web"}))
    stream = await _open(client, labelSelector="app=web")
    kind, obj = await _next(stream)
    assert (kind, obj["metadata"]["name"]) == ("ADDED", "a")
    await client.patch(f"{PODS}/a", {"metadata": {"labels": {"app": "db"}}}, content_type=MERGE)
    kind, obj = await _next(stream)
    assert kind == "DELETED" and obj["metadata"]["labels"]["app"] == "web"  # the last matching state
    await client.post(PODS, pod("other", labels={"app": "db"}))  # never matches: no event
    await client.patch(f"{PODS}/a", {"metadata": {"labels": {"app": "web"}}}, content_type=MERGE)
    kind, obj = await _next(stream)
    assert (kind, obj["metadata"]["name"]) == ("ADDED", "a")
    await stream.aclose()  # type: ignore[attr-defined]


async def test_field_selector_and_named_watch(client: Client) -> None:
    await client.post(PODS, pod("a"))
    await client.post(PODS, pod("b"))
    stream = await _open(client, fieldSelector="metadata.name=b", resourceVersion="0")
    kind, obj = await _next(stream)
    assert (kind, obj["metadata"]["name"]) == ("ADDED", "b")
    await stream.aclose()  # type: ignore[attr-defined]
    named = await _open(client, f"{PODS}/a")
    kind, obj = await _next(named)
    assert (kind, obj["metadata"]["name"]) == ("ADDED", "a")
    await named.aclose()  # type: ignore[attr-defined]
    legacy = await client.get("/api/v1/watch/namespaces/default/pods")
    assert legacy.raw.stream is not None
    names = {(await _next(legacy.raw.stream))[1]["metadata"]["name"] for _ in range(2)}
    assert names == {"a", "b"}
    await legacy.raw.stream.aclose()  # type: ignore[attr-defined]


async def test_bookmarks_and_timeout(client: Client, clock: FakeClock) -> None:
    created = await client.post(PODS, pod("a"))
    rv = created.body["metadata"]["resourceVersion"]
    stream = await _open(client, resourceVersion=rv, allowWatchBookmarks="true", timeoutSeconds="12")
    pending = asyncio.ensure_future(stream.__anext__())
    await _settle()
    assert not pending.done()
    clock.advance(5)
    event = json.loads(await asyncio.wait_for(pending, timeout=2))
    assert event == {
        "type": "BOOKMARK",
        "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": rv}},
    }
    await client.post(PODS, pod("b"))
    kind, obj = await _next(stream)
    assert (kind, obj["metadata"]["name"]) == ("ADDED", "b")
    pending = asyncio.ensure_future(stream.__anext__())
    await _settle()
    clock.advance(5)
    event = json.loads(await asyncio.wait_for(pending, timeout=2))
    assert event["type"] == "BOOKMARK"
    assert event["object"]["metadata"]["resourceVersion"] == obj["metadata"]["resourceVersion"]
    pending = asyncio.ensure_future(stream.__anext__())
    await _settle()
    clock.advance(2)
    try:
        await asyncio.wait_for(pending, timeout=2)
        raise AssertionError("the stream should have ended at timeoutSeconds")
    except StopAsyncIteration:
        pass


async def test_no_bookmarks_unless_asked(client: Client, clock: FakeClock) -> None:
    stream = await _open(client, resourceVersion="1", timeoutSeconds="30")
    pending = asyncio.ensure_future(stream.__anext__())
    await _settle()
    clock.advance(20)
    await _settle()
    assert not pending.done()
    await client.post(PODS, pod("x"))
    event = json.loads(await asyncio.wait_for(pending, timeout=2))
    assert event["type"] == "ADDED"
    await stream.aclose()  # type: ignore[attr-defined]


async def test_table_watch(client: Client) -> None:
    await client.post(PODS, pod("a"))
    resp = await client.get(PODS, query={"watch": "true"}, accept=TABLE_ACCEPT)
    assert resp.headers["content-type"].startswith("application/json;as=Table")
    stream = resp.raw.stream
    assert stream is not None
    kind, table = await _next(stream)
    assert kind == "ADDED" and table["kind"] == "Table"
    assert next(c["name"] for c in table["columnDefinitions"]) == "Name"
    assert table["rows"][0]["cells"][0] == "a"
    await client.patch(f"{PODS}/a", {"metadata": {"labels": {"x": "1"}}}, content_type=MERGE)
    kind, table = await _next(stream)
    assert kind == "MODIFIED"
    assert not table.get("columnDefinitions")
    assert table["rows"][0]["cells"][0] == "a"
    await stream.aclose()  # type: ignore[attr-defined]
