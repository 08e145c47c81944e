"""What the etcd backend adds to the contract: shared etcd, foreign writers, failures, failover.

All against real etcd servers (``etcd_server.py``): the session server from conftest for the
sharing tests, and servers of their own for the tests that kill one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc  # type: ignore[import-untyped]
import pytest
from aetcd import rpc  # type: ignore[import-untyped]
from etcd_server import EtcdMember, free_port, start_cluster

from kubeds.storage import errors
from kubeds.storage.etcd import MSG_UNREACHABLE, EtcdBackend
from kubeds.storage.interface import Event, EventType, WatchStream

P = "/registry/apps/daemonsets/"


async def collect(w: WatchStream, n: int, timeout: float = 5.0) -> list[list[Event]]:
    batches: list[list[Event]] = []

    async def run() -> None:
        async for batch in w:
            batches.append(batch)
            if sum(len(b) for b in batches) >= n:
                return

    await asyncio.wait_for(run(), timeout)
    return batches


@pytest.fixture
async def two_servers(etcd_server: EtcdMember) -> AsyncIterator[tuple[EtcdBackend, EtcdBackend]]:
    """Two API servers' backends on one etcd, same prefix (as two kube-apiservers would be)."""
    prefix = f"/kubeds-test/{uuid.uuid4().hex}"
    a = EtcdBackend([etcd_server.client_url], prefix=prefix)
    b = EtcdBackend([etcd_server.client_url], prefix=prefix)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_watches_on_two_servers_see_every_change_in_the_same_order(
    two_servers: tuple[EtcdBackend, EtcdBackend],
) -> None:
    a, b = two_servers
    start = await a.current_revision()
    wa, wb = await a.watch(P, revision=start), await b.watch(P, revision=start)

    async def writer(backend: EtcdBackend, name: str) -> None:
        kv = await backend.create(P + name, b"0")
        for i in range(1, 15):
            kv = await backend.update(P + name, str(i).encode(), expected_revision=kv.mod_revision)

    await asyncio.gather(writer(a, "from-a"), writer(b, "from-b"))
    got_a = [e for batch in await collect(wa, 30) for e in batch]
    got_b = [e for batch in await collect(wb, 30) for e in batch]
    wa.close()
    wb.close()
    seen = [(e.type, e.kv.key, e.kv.value, e.revision) for e in got_a]
    assert seen == [(e.type, e.kv.key, e.kv.value, e.revision) for e in got_b]
    assert [e.revision for e in got_a] == list(range(start + 1, start + 31))
    assert {e.kv.key for e in got_a} == {P + "from-a", P + "from-b"}


async def test_cas_across_servers_conflicts(two_servers: tuple[EtcdBackend, EtcdBackend]) -> None:
    a, b = two_servers
    v1 = await a.create(P + "x", b"1")
    with pytest.raises(errors.KeyExists):
        await b.create(P + "x", b"other")
    v2 = await b.update(P + "x", b"2", expected_revision=v1.mod_revision)
    with pytest.raises(errors.Conflict) as info:
        await a.update(P + "x", b"stale", expected_revision=v1.mod_revision)
    assert info.value.current == v2
    gone = await a.delete(P + "x", expected_revision=v2.mod_revision)
    assert (gone.value, gone.create_revision) == (b"2", v1.create_revision)


async def test_a_foreign_transaction_is_one_batch(two_servers: tuple[EtcdBackend, EtcdBackend]) -> None:
    """A writer outside kubeds (etcdctl txn) puts two keys at one revision: one batch, both events."""
    a, _ = two_servers
    start = await a.current_revision()
    w = await a.watch(P, revision=start)
    prefix = a._prefix
    channel = grpc.aio.insecure_channel(a.endpoint.removeprefix("http://"))
    try:
        kv = rpc.KVStub(channel)
        ops = [
            rpc.RequestOp(request_put=rpc.PutRequest(key=prefix + (P + n).encode(), value=b"v")) for n in "pq"
        ]
        await kv.Txn(rpc.TxnRequest(success=ops))
    finally:
        await channel.close()
    batches = await collect(w, 2)
    w.close()
    assert len(batches) == 1
    assert [(e.type, e.kv.key, e.revision) for e in batches[0]] == [
        (EventType.CREATE, P + "p", start + 1),
        (EventType.CREATE, P + "q", start + 1),
    ]


async def test_compaction_by_another_server_is_learnt(two_servers: tuple[EtcdBackend, EtcdBackend]) -> None:
    a, b = two_servers
    old = (await a.create(P + "c", b"1")).mod_revision
    await a.update(P + "c", b"2", expected_revision=old)
    mark = await a.current_revision()
    await b.compact(mark)
    assert await a.compacted_revision() < mark  # a has not heard of it yet
    with pytest.raises(errors.Compacted) as info:
        await a.list(P, revision=old)
    assert info.value.compacted == mark and await a.compacted_revision() == mark
    with pytest.raises(errors.Compacted):
        await a.watch(P, revision=mark - 1)
    assert [kv.value for kv in (await a.list(P, revision=mark)).kvs] == [b"2"]


async def test_unreachable_etcd_is_unavailable_with_a_clear_message() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    backend = EtcdBackend([url])
    with pytest.raises(errors.Unavailable) as info:
        await backend.start()
    assert str(info.value) == MSG_UNREACHABLE.format(urls=url)
    assert "is it running? start it or pass --etcd-endpoints" in str(info.value)


async def test_start_skips_a_dead_endpoint(etcd_server: EtcdMember) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    backend = EtcdBackend([dead, etcd_server.client_url], prefix=f"/kubeds-test/{uuid.uuid4().hex}")
    await backend.start()
    try:
        assert backend.endpoint == etcd_server.client_url
        kv = await backend.create(P + "a", b"1")
        assert await backend.get(P + "a") == kv
    finally:
        await backend.close()


async def test_closing_the_backend_ends_its_watches_cleanly(etcd_server: EtcdMember) -> None:
    backend = EtcdBackend([etcd_server.client_url], prefix=f"/kubeds-test/{uuid.uuid4().hex}")
    await backend.start()
    w = await backend.watch(P, revision=await backend.current_revision())
    await backend.close()
    assert [batch async for batch in w] == []


async def test_a_dying_etcd_breaks_watches_with_unavailable(tmp_path: Path) -> None:
    (member,) = start_cluster(tmp_path, size=1)
    backend = EtcdBackend([member.client_url])
    try:
        await backend.start()
        w = await backend.watch(P, revision=await backend.current_revision())
        await backend.create(P + "a", b"1")
        member.kill()

        async def drain() -> list[Event]:
            return [e async for batch in w for e in batch]

        with pytest.raises(errors.Unavailable):
            await asyncio.wait_for(drain(), 10)
        with pytest.raises(errors.Unavailable):
            await backend.get(P + "a")
    finally:
        await backend.close()
        member.stop()


async def test_three_members_survive_losing_the_one_in_use(tmp_path: Path) -> None:
    """Kill the member the backend talks to: reads go on at once, writes after one Unavailable at most."""
    members = start_cluster(tmp_path, size=3)
    backend = EtcdBackend([m.client_url for m in members])
    try:
        await backend.start()
        kv = await backend.create(P + "a", b"1")
        used = next(m for m in members if m.client_url == backend.endpoint)
        used.kill()
        got = await backend.get(P + "a")
        assert got == kv and backend.endpoint != used.client_url
        for _attempt in range(20):
            try:
                kv = await backend.update(P + "a", b"2", expected_revision=kv.mod_revision)
                break
            except errors.Unavailable:
                await asyncio.sleep(0.2)  # a leader election may be under way
        assert (await backend.get(P + "a")) == kv and kv.value == b"2"
        used.start()  # it rejoins and catches up
        again = EtcdBackend([used.client_url])
        await again.start()
        try:
            for _attempt in range(50):
                if await again.get(P + "a") == kv:
                    break
                await asyncio.sleep(0.1)
            assert await again.get(P + "a") == kv
        finally:
            await again.close()
    finally:
        await backend.close()
        for m in members:
            m.stop()
