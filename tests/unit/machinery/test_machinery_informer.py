"""Informer and SharedInformerFactory against the in-memory fake transport (machinery_fakes.FakeApi).

Behaviour follows client-go tools/cache reflector_test.go (list then watch from the list RV, relist on
410, re-watch from the last RV on stream end, backoff on errors) and shared_informer_test.go (late
handlers get the current contents, update delivers (old, new))."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from machinery_fakes import FakeApi, settle

from kubeds import wire
from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.machinery import informer as informer_mod


def pod(name: str, namespace: str = "default", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


class Recorder:
    """Records handler calls as (kind, name, rv...) tuples."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def on_add(self, obj: dict[str, Any]) -> None:
        self.calls.append(("add", obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))

    def on_update(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.calls.append(
            (
                "update",
                new["metadata"]["name"],
                old["metadata"]["resourceVersion"],
                new["metadata"]["resourceVersion"],
            )
        )

    def on_delete(self, obj: dict[str, Any]) -> None:
        self.calls.append(("delete", obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))

    def register(self, inf: informer_mod.Informer) -> None:
        inf.add_event_handler(on_add=self.on_add, on_update=self.on_update, on_delete=self.on_delete)


async def eventually(predicate: Callable[[], bool], rounds: int = 500) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


@pytest.fixture
def fake() -> FakeApi:
    return FakeApi()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def running(fake: FakeApi, clock: FakeClock) -> AsyncIterator[tuple[informer_mod.Informer, Recorder]]:
    fake.put_object("pods", pod("a"))
    fake.put_object("pods", pod("b"))
    inf = informer_mod.Informer(
        ApiClient(fake).resource("v1", "pods"), clock=clock, name="pods", rng=random.Random(1)
    )
    rec = Recorder()
    rec.register(inf)
    task = asyncio.create_task(inf.run())
    await asyncio.wait_for(inf.wait_for_sync(), 1)
    await eventually(lambda: len(fake.watches) == 1)
    yield inf, rec
    inf.stop()
    await asyncio.wait_for(task, 1)


async def test_lists_then_watches_from_list_resource_version(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi
) -> None:
    inf, rec = running
    assert inf.has_synced()
    assert rec.calls == [("add", "a", "101"), ("add", "b", "102")]
    # List items come without apiVersion/kind from the server; the informer fills them in.
    cached = inf.indexer.get("default/a")
    assert cached is not None and cached["kind"] == "Pod" and cached["apiVersion"] == "v1"
    (watch,) = fake.requests_for("GET", watch=True)
    assert watch.param("resourceVersion") == "102"
    assert watch.param("allowWatchBookmarks") == "true"
    assert 300 <= int(watch.param("timeoutSeconds")) < 600


async def test_watch_events_update_store_and_call_handlers_in_order(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi
) -> None:
    inf, rec = running
    rec.calls.clear()
    fake.put_object("pods", pod("c"))
    fake.put_object("pods", pod("a", nodeName="n1"))
    fake.remove_object("pods", "b", "default")
    await eventually(lambda: len(rec.calls) == 3)
    assert rec.calls == [("add", "c", "103"), ("update", "a", "101", "104"), ("delete", "b", "105")]
    assert sorted(inf.indexer.keys()) == ["default/a", "default/c"]
    cached = inf.indexer.get("default/a")
    assert cached is not None and cached["spec"] == {"nodeName": "n1"}
    assert inf.last_sync_resource_version == "105"


async def test_bookmark_advances_resource_version_only(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi
) -> None:
    inf, rec = running
    rec.calls.clear()
    fake.bookmark("pods")
    await eventually(lambda: inf.last_sync_resource_version == "103")
    assert rec.calls == []


async def test_stream_end_rewatches_from_last_rv_without_losing_events(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi
) -> None:
    _inf, rec = running
    rec.calls.clear()
    fake.put_object("pods", pod("c"))
    await eventually(lambda: len(rec.calls) == 1)
    fake.close_watches()
    # Changes made while no watch is open are replayed by the next watch (from RV 103).
    fake.put_object("pods", pod("d"))
    await eventually(lambda: len(rec.calls) == 2)
    watches = fake.requests_for("GET", watch=True)
    assert [w.param("resourceVersion") for w in watches] == ["102", "103"]
    assert rec.calls == [("add", "c", "103"), ("add", "d", "104")]
    assert len(fake.requests_for("GET", watch=False)) == 1  # no relist


async def test_gone_relists_and_reconciles_the_store(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi
) -> None:
    inf, rec = running
    rec.calls.clear()
    # Changes the informer never sees as events: b vanishes, c appears, a changes.
    fake.silently_remove("pods", "b", "default")
    fake.objects[("pods", "default", "c")] = pod("c") | {
        "metadata": {"name": "c", "namespace": "default", "resourceVersion": "150"}
    }
    fake.objects[("pods", "default", "a")]["metadata"]["resourceVersion"] = "151"
    fake.expire_watches()
    await eventually(lambda: len(rec.calls) == 3)
    # Upstream Replace order: list items (update for known keys, add for new), then deletes.
    assert rec.calls == [("update", "a", "101", "151"), ("add", "c", "150"), ("delete", "b", "102")]
    assert sorted(inf.indexer.keys()) == ["default/a", "default/c"]
    assert len(fake.requests_for("GET", watch=False)) == 2
    await eventually(lambda: len(fake.watches) == 1)
    assert fake.requests_for("GET", watch=True)[-1].param("resourceVersion") == str(fake.rv)


async def test_watch_error_backs_off_on_the_clock(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi, clock: FakeClock
) -> None:
    _inf, rec = running
    rec.calls.clear()
    fake.put_object("pods", pod("c"))
    await eventually(lambda: len(rec.calls) == 1)
    fake.fail_next(errors.TransportError("connection refused"))
    fake.close_watches()
    await eventually(lambda: clock.sleepers == 1)
    before = len(fake.requests_for("GET", watch=True))
    await settle()
    assert len(fake.requests_for("GET", watch=True)) == before  # waiting, not spinning
    fake.put_object("pods", pod("d"))
    clock.advance(1.6)  # the first backoff is 0.8 s plus up to 100 % jitter
    await eventually(lambda: len(rec.calls) == 2)
    assert rec.calls == [("add", "c", "103"), ("add", "d", "104")]
    assert fake.requests_for("GET", watch=True)[-1].param("resourceVersion") == "103"


async def test_very_short_empty_watch_counts_as_error(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi, clock: FakeClock
) -> None:
    fake.close_watches()  # ends at once with no event, on a clock that has not moved
    await eventually(lambda: clock.sleepers == 1)
    assert len(fake.requests_for("GET", watch=True)) == 1


async def test_list_failure_backs_off_then_syncs(fake: FakeApi, clock: FakeClock) -> None:
    fake.put_object("pods", pod("a"))
    fake.fail_next(
        wire.Response(500, {}, b'{"kind":"Status","code":500,"reason":"InternalError","message":"x"}')
    )
    inf = informer_mod.Informer(ApiClient(fake).resource("v1", "pods"), clock=clock, rng=random.Random(2))
    task = asyncio.create_task(inf.run())
    await eventually(lambda: clock.sleepers == 1)
    assert not inf.has_synced()
    clock.advance(2)
    await asyncio.wait_for(inf.wait_for_sync(), 1)
    assert inf.indexer.keys() == ["default/a"]
    inf.stop()
    await asyncio.wait_for(task, 1)


async def test_late_handler_gets_synthetic_adds(running: tuple[informer_mod.Informer, Recorder]) -> None:
    inf, _ = running
    late = Recorder()
    late.register(inf)
    assert late.calls == [("add", "a", "101"), ("add", "b", "102")]


async def test_failing_handler_does_not_stop_others(
    running: tuple[informer_mod.Informer, Recorder], fake: FakeApi
) -> None:
    inf, rec = running

    def boom(obj: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    inf.add_event_handler(on_delete=boom)
    inf.add_event_handler(on_delete=rec.on_delete)
    rec.calls.clear()
    fake.remove_object("pods", "a", "default")
    # Registered twice (fixture + explicitly) after the failing one: both still see it.
    await eventually(lambda: len(rec.calls) == 2)
    assert rec.calls == [("delete", "a", "103"), ("delete", "a", "103")]


async def test_resync_redelivers_cache_as_updates(fake: FakeApi, clock: FakeClock) -> None:
    fake.put_object("pods", pod("a"))
    inf = informer_mod.Informer(ApiClient(fake).resource("v1", "pods"), clock=clock, resync_period=30)
    rec = Recorder()
    rec.register(inf)
    task = asyncio.create_task(inf.run())
    await inf.wait_for_sync()
    await eventually(lambda: clock.sleepers == 1)
    clock.advance(30)
    await eventually(lambda: len(rec.calls) == 2)
    assert rec.calls == [("add", "a", "101"), ("update", "a", "101", "101")]
    inf.stop()
    await asyncio.wait_for(task, 1)


async def test_namespace_and_selectors_are_sent(fake: FakeApi, clock: FakeClock) -> None:
    inf = informer_mod.Informer(
        ApiClient(fake).resource("v1", "pods"),
        namespace="kube-system",
        label_selector="app=x",
        field_selector="spec.nodeName=n1",
        clock=clock,
    )
    task = asyncio.create_task(inf.run())
    await inf.wait_for_sync()
    await eventually(lambda: len(fake.watches) == 1)
    for req in fake.requests:
        assert req.path == "/api/v1/namespaces/kube-system/pods"
        assert req.param("labelSelector") == "app=x"
        assert req.param("fieldSelector") == "spec.nodeName=n1"
    inf.stop()
    await asyncio.wait_for(task, 1)


async def test_cancelling_run_propagates(fake: FakeApi, clock: FakeClock) -> None:
    inf = informer_mod.Informer(ApiClient(fake).resource("v1", "pods"), clock=clock)
    task = asyncio.create_task(inf.run())
    await inf.wait_for_sync()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_factory_shares_informers_and_syncs(fake: FakeApi, clock: FakeClock) -> None:
    fake.put_object("pods", pod("a"))
    fake.put_object("nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    factory = informer_mod.SharedInformerFactory(ApiClient(fake), clock=clock)
    pods = factory.informer("v1", "pods")
    assert factory.informer("v1", "pods") is pods
    assert factory.informer("v1", "pods", namespace="x") is not pods
    nodes = factory.informer("v1", "nodes")
    factory.start()
    assert await factory.wait_for_cache_sync(timeout=10)
    assert pods.indexer.keys() == ["default/a"]
    assert nodes.indexer.keys() == ["n1"]
    await factory.stop()
    assert fake.watches == []  # every stream was closed


async def test_factory_sync_times_out_on_the_clock(fake: FakeApi, clock: FakeClock) -> None:
    for _ in range(50):
        fake.fail_next(wire.Response(503, {}, b""))
    factory = informer_mod.SharedInformerFactory(ApiClient(fake), clock=clock)
    factory.informer("v1", "pods")
    factory.start()
    waiting = asyncio.create_task(factory.wait_for_cache_sync(timeout=5))
    await eventually(lambda: clock.sleepers >= 2)
    clock.advance(5)
    assert await asyncio.wait_for(waiting, 1) is False
    await factory.stop()
