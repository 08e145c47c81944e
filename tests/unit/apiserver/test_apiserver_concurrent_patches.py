"""Patches without a resourceVersion never fail with 409 because of concurrent writers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson

from kubeds.apiserver.handler import APIServer
from kubeds.clock import REAL
from kubeds.storage import SQLiteBackend
from kubeds.wire import Request


async def test_concurrent_merge_patches_all_succeed_and_all_apply(tmp_path: Path) -> None:
    # SQLite, because its writes really suspend: patches interleave between read and write.
    backend = SQLiteBackend(tmp_path / "state.db")
    await backend.start()
    api = APIServer(backend, clock=REAL)
    await api.start()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {}}
    resp = await api.handle(
        Request("POST", "/api/v1/namespaces/default/configmaps", body=orjson.dumps(cm),
                headers={"content-type": "application/json"})
    )  # fmt: skip
    assert resp.status == 201

    async def patch(i: int) -> int:
        body = orjson.dumps({"data": {f"k{i}": str(i)}})
        r = await api.handle(
            Request("PATCH", "/api/v1/namespaces/default/configmaps/c", body=body,
                    headers={"content-type": "application/merge-patch+json"})
        )  # fmt: skip
        return r.status

    statuses = await asyncio.gather(*(patch(i) for i in range(40)))
    assert statuses == [200] * 40
    got = await api.handle(Request("GET", "/api/v1/namespaces/default/configmaps/c"))
    assert len(orjson.loads(got.body)["data"]) == 40
    # A PUT carrying a stale resourceVersion still fails with 409.
    stale = dict(cm, metadata={"name": "c", "resourceVersion": "1"})
    r = await api.handle(
        Request("PUT", "/api/v1/namespaces/default/configmaps/c", body=orjson.dumps(stale),
                headers={"content-type": "application/json"})
    )  # fmt: skip
    assert r.status == 409
    await backend.close()
