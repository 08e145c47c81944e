"""The etcd backend's batched reads (``kubeds.storage.etcdreads``), against a real etcd."""

from __future__ import annotations

import asyncio

from kubeds.storage.etcd import EtcdBackend

PODS = "/registry/core/pods/"


async def test_concurrent_gets_are_one_transaction_and_each_sees_its_key(etcd: EtcdBackend) -> None:
    """kubeds.storage.etcdreads: gets of one iteration go to etcd together (more than one txn's worth)."""
    written = {
        f"{PODS}p{i:03d}": (await etcd.create(f"{PODS}p{i:03d}", str(i).encode())) for i in range(0, 300, 2)
    }
    keys = [f"{PODS}p{i:03d}" for i in range(300)]  # every other one is missing
    before = etcd._reads.calls
    got = await asyncio.gather(*(etcd.get(k) for k in keys))
    assert etcd._reads.calls - before == 3  # 300 reads, at most 128 per transaction
    assert got == [written.get(k) for k in keys]
    updated = await etcd.update(keys[0], b"new", expected_revision=written[keys[0]].mod_revision)
    assert await etcd.get(keys[0]) == updated  # a read after a write sees it
