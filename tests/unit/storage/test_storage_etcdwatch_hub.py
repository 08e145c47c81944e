"""``WatchHub`` against a scripted etcd watch stream: the paths a healthy etcd rarely takes.

The sharing itself is tested against a real etcd in ``tests/contract/test_etcd_watch_feeds.py``;
here a fake ``Watch`` stub answers each stream with scripted responses (etcd's ``WatchResponse``
messages), to pin what watchers see when etcd refuses a watch, cancels one, or the stream breaks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aetcd import rpc  # type: ignore[import-untyped]

from kubeds.storage import errors
from kubeds.storage.etcdwatch import WatchHub
from kubeds.storage.interface import Event, EventType, KeyValue

END = object()


class FakeCall:
    """One ``Watch`` stream: yields what the test puts in ``responses``; ``END`` ends it cleanly."""

    def __init__(self, requests: AsyncIterator[Any]) -> None:
        self.requests = requests
        self.responses: asyncio.Queue[Any] = asyncio.Queue()
        self.cancelled = False

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            item = await self.responses.get()
            if item is END:
                return
            yield item

    def cancel(self) -> bool:
        self.cancelled = True
        self.responses.put_nowait(END)
        return True


class FakeStub:
    def __init__(self) -> None:
        self.calls: list[FakeCall] = []

    def Watch(self, requests: AsyncIterator[Any]) -> FakeCall:
        call = FakeCall(requests)
        self.calls.append(call)
        return call


def events_of(resp: Any) -> list[Event]:
    return [
        Event(
            EventType.CREATE,
            KeyValue(e.kv.key.decode(), e.kv.value, e.kv.mod_revision, e.kv.mod_revision),
            None,
        )
        for e in resp.events
    ]


def hub_on(stub: FakeStub, learnt: list[int] | None = None) -> WatchHub:
    return WatchHub(
        stub,
        events=events_of,
        learn_compacted=(learnt if learnt is not None else []).append,
        key_range=lambda p: (p.encode(), p.encode() + b"\xff"),
        max_pending=100,
        timeout=2.0,
    )


def put(key: str, rev: int) -> Any:
    kv = rpc.KeyValue(key=key.encode(), value=b"v", create_revision=rev, mod_revision=rev)
    return rpc.WatchResponse(events=[rpc.Event(type=0, kv=kv)])


async def add_when_created(hub: WatchHub, stub: FakeStub, prefix: str, after: int) -> Any:
    task = asyncio.create_task(hub.add(prefix, after=after))
    await asyncio.sleep(0)
    stub.calls[-1].responses.put_nowait(rpc.WatchResponse(created=True))
    return await task


async def test_a_refused_watch_raises_unavailable_and_is_not_shared_afterwards() -> None:
    stub = FakeStub()
    hub = hub_on(stub)
    task = asyncio.create_task(hub.add("/p/", after=5))
    await asyncio.sleep(0)
    stub.calls[0].responses.put_nowait(rpc.WatchResponse(created=True, canceled=True, cancel_reason="nope"))
    with pytest.raises(errors.Unavailable, match="etcd canceled the watch: nope"):
        await task
    assert hub.feed_count == 0
    await add_when_created(hub, stub, "/p/", 5)
    assert len(stub.calls) == 2  # a new etcd watch, not the refused one


async def test_a_create_request_asks_for_prev_kv_from_the_next_revision() -> None:
    stub = FakeStub()
    hub = hub_on(stub)
    await add_when_created(hub, stub, "/p/", 41)
    first = await stub.calls[0].requests.__anext__()
    assert first.create_request.key == b"/p/"
    assert first.create_request.start_revision == 42
    assert first.create_request.prev_kv


async def test_etcd_canceling_a_feed_fails_all_its_watchers_with_unavailable() -> None:
    stub = FakeStub()
    hub = hub_on(stub)
    w1 = await add_when_created(hub, stub, "/p/", 0)
    w2 = await hub.add("/p/a", after=0)
    assert len(stub.calls) == 1
    stub.calls[0].responses.put_nowait(put("/p/a", 3))
    stub.calls[0].responses.put_nowait(put("/p/b", 4))
    assert [e.revision for e in await anext(aiter(w1))] == [3]  # one response, one batch
    assert [e.revision for e in await anext(aiter(w1))] == [4]
    assert [e.revision for e in await anext(aiter(w2))] == [3]  # only its own prefix
    stub.calls[0].responses.put_nowait(rpc.WatchResponse(canceled=True, cancel_reason="gone"))
    for w in (w1, w2):
        with pytest.raises(errors.Unavailable, match="etcd canceled the watch: gone"):
            async for _ in w:
                pass
    assert hub.feed_count == 0 and stub.calls[0].cancelled


async def test_a_stream_that_ends_fails_its_watchers_but_not_the_hub() -> None:
    stub = FakeStub()
    hub = hub_on(stub)
    w = await add_when_created(hub, stub, "/p/", 0)
    stub.calls[0].responses.put_nowait(END)
    with pytest.raises(errors.Unavailable, match="etcd watch stream ended: closed by etcd"):
        async for _ in w:
            pass
    assert not hub.broken
    await add_when_created(hub, stub, "/p/", 0)
    assert hub.feed_count == 1


async def test_compaction_is_learnt_and_fails_watchers_with_compacted() -> None:
    stub = FakeStub()
    learnt: list[int] = []
    hub = hub_on(stub, learnt)
    w = await add_when_created(hub, stub, "/p/", 2)
    stub.calls[0].responses.put_nowait(rpc.WatchResponse(compact_revision=9, canceled=True))
    with pytest.raises(errors.Compacted) as info:
        async for _ in w:
            pass
    assert info.value.compacted == 9 and info.value.requested == 2
    assert learnt == [9]


async def test_closing_the_hub_ends_watchers_cleanly() -> None:
    stub = FakeStub()
    hub = hub_on(stub)
    w = await add_when_created(hub, stub, "/p/", 0)
    await hub.aclose()
    assert [b async for b in w] == []
    assert hub.broken
    with pytest.raises(errors.Unavailable):
        await hub.add("/p/", after=0)
