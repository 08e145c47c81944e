"""A CAS conflict in ``Store.guaranteed_update``/``Store.delete`` retries with the value it reports.

Upstream's etcd3 ``GuaranteedUpdate`` (staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go)
refreshes its state from the failed transaction's get response instead of reading again; every
kubeds backend's :class:`~kubeds.storage.errors.Conflict` carries that value (``current``), so a
retry costs no extra read. The interleaving writer here is a direct backend write made while the
request is between its read and its write.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.apiserver.errors import StatusError
from kubeds.apiserver.resources import Resource, lookup
from kubeds.apiserver.store import DeleteOptions, Store, WriteContext
from kubeds.clock import FakeClock
from kubeds.storage.interface import KeyValue
from kubeds.storage.memory import MemoryBackend


class CountingBackend(MemoryBackend):
    def __init__(self) -> None:
        super().__init__()
        self.gets = 0

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        self.gets += 1
        return await super().get(key, revision=revision)


def configmaps() -> Resource:
    r = lookup("", "v1", "configmaps")
    assert r is not None
    return r


async def setup() -> tuple[CountingBackend, Store, str]:
    backend = CountingBackend()
    await backend.start()
    store = Store(backend, clock=FakeClock())
    body = {"metadata": {"name": "cm", "labels": {"a": "1"}}, "data": {"k": "v"}}
    await store.create(configmaps(), "default", body, ctx=WriteContext())
    backend.gets = 0
    return backend, store, store.key(configmaps(), "default", "cm")


async def sneak_label(backend: CountingBackend, key: str, label: str) -> None:
    """Another writer's change, straight to storage (bypassing the store under test)."""
    kv = await MemoryBackend.get(backend, key)
    assert kv is not None
    obj = Store.decode(kv)
    obj["metadata"]["labels"][label] = "x"
    obj["metadata"].pop("resourceVersion", None)
    await backend.update(key, Store.encode(obj), expected_revision=kv.mod_revision)


async def test_update_conflict_retries_on_the_reported_value_without_reading_again() -> None:
    backend, store, key = await setup()
    calls: list[dict[str, str]] = []

    async def mutate(obj: dict[str, Any]) -> dict[str, Any]:
        calls.append(dict(obj["metadata"]["labels"]))
        if len(calls) == 1:
            await sneak_label(backend, key, "other")
        obj["metadata"]["labels"]["mine"] = "y"
        return obj

    out = await store.guaranteed_update(configmaps(), "default", "cm", mutate, ctx=WriteContext())
    assert calls == [{"a": "1"}, {"a": "1", "other": "x"}]  # the retry saw the other writer's change
    assert out["metadata"]["labels"] == {"a": "1", "other": "x", "mine": "y"}
    assert backend.gets == 1  # the first read only
    stored = await MemoryBackend.get(backend, key)
    assert stored is not None and Store.decode(stored)["metadata"]["labels"]["mine"] == "y"


async def test_update_conflict_with_a_deleted_object_is_not_found() -> None:
    backend, store, key = await setup()

    async def mutate(obj: dict[str, Any]) -> dict[str, Any]:
        await backend.delete(key)
        obj["metadata"]["labels"]["mine"] = "y"
        return obj

    with pytest.raises(StatusError) as info:
        await store.guaranteed_update(configmaps(), "default", "cm", mutate, ctx=WriteContext())
    assert info.value.status()["code"] == 404
    assert backend.gets == 2  # nothing was reported as stored, so it read again


async def test_delete_conflict_retries_on_the_reported_value_without_reading_again() -> None:
    backend, store, key = await setup()
    sneaked = False
    real_delete = backend.delete

    async def delete_after_a_sneak(k: str, *, expected_revision: int = 0) -> KeyValue:
        nonlocal sneaked
        if not sneaked:
            sneaked = True
            await sneak_label(backend, key, "other")
        return await real_delete(k, expected_revision=expected_revision)

    setattr(backend, "delete", delete_after_a_sneak)  # noqa: B010 - instance override for this test
    obj, deleted_now = await store.delete(
        configmaps(), "default", "cm", ctx=WriteContext(), options=DeleteOptions()
    )
    assert deleted_now
    assert obj["metadata"]["labels"] == {"a": "1", "other": "x"}  # the last state, with the other change
    assert backend.gets == 1
    assert await MemoryBackend.get(backend, key) is None
