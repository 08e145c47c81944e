"""The storage contract, run against every backend (see conftest.py for the list)."""

from __future__ import annotations

import asyncio

import pytest
from watch_events import collect

from kubeds.storage import errors
from kubeds.storage.interface import Backend, EventType

P = "/registry/core/pods/"


async def test_create_get_and_revision_grows(backend: Backend) -> None:
    r0 = await backend.current_revision()
    kv = await backend.create(P + "a", b"1")
    assert kv.mod_revision == kv.create_revision == r0 + 1
    assert await backend.current_revision() == r0 + 1
    got = await backend.get(P + "a")
    assert got == kv


async def test_create_on_existing_key_fails_and_keeps_value(backend: Backend) -> None:
    await backend.create(P + "a", b"1")
    with pytest.raises(errors.KeyExists):
        await backend.create(P + "a", b"2")
    got = await backend.get(P + "a")
    assert got is not None and got.value == b"1"


async def test_create_after_delete_is_allowed(backend: Backend) -> None:
    await backend.create(P + "a", b"1")
    await backend.delete(P + "a")
    kv = await backend.create(P + "a", b"2")
    assert kv.create_revision == kv.mod_revision


async def test_update_with_stale_revision_is_a_conflict(backend: Backend) -> None:
    v1 = await backend.create(P + "a", b"1")
    v2 = await backend.update(P + "a", b"2", expected_revision=v1.mod_revision)
    assert v2.create_revision == v1.create_revision and v2.mod_revision > v1.mod_revision
    with pytest.raises(errors.Conflict) as info:
        await backend.update(P + "a", b"3", expected_revision=v1.mod_revision)
    assert info.value.current is not None and info.value.current.value == b"2"
    got = await backend.get(P + "a")
    assert got is not None and got.value == b"2"


async def test_delete_with_stale_revision_is_a_conflict(backend: Backend) -> None:
    v1 = await backend.create(P + "a", b"1")
    await backend.update(P + "a", b"2", expected_revision=v1.mod_revision)
    with pytest.raises(errors.Conflict):
        await backend.delete(P + "a", expected_revision=v1.mod_revision)
    assert await backend.get(P + "a") is not None


async def test_update_and_delete_of_missing_key(backend: Backend) -> None:
    with pytest.raises(errors.KeyNotFound):
        await backend.update(P + "nope", b"x", expected_revision=0)
    with pytest.raises(errors.KeyNotFound):
        await backend.delete(P + "nope")
    with pytest.raises(errors.Conflict):
        await backend.update(P + "nope", b"x", expected_revision=5)


async def test_delete_returns_last_value_at_the_delete_revision(backend: Backend) -> None:
    v1 = await backend.create(P + "a", b"1")
    gone = await backend.delete(P + "a", expected_revision=v1.mod_revision)
    assert gone.value == b"1" and gone.mod_revision == v1.mod_revision + 1
    assert await backend.get(P + "a") is None
    assert await backend.current_revision() == gone.mod_revision


async def test_concurrent_writers_lose_no_update(backend: Backend) -> None:
    """N writers increment one counter with CAS and retries: the count is exact."""
    key = "/registry/counter"
    await backend.create(key, b"0")
    writers, each = 16, 25
    conflicts = 0

    async def writer() -> None:
        nonlocal conflicts
        for _ in range(each):
            while True:
                cur = await backend.get(key)
                assert cur is not None
                await asyncio.sleep(0)  # a client's round trip: let other writers run in between
                try:
                    await backend.update(
                        key, str(int(cur.value) + 1).encode(), expected_revision=cur.mod_revision
                    )
                    break
                except errors.Conflict:
                    conflicts += 1
                    await asyncio.sleep(0.001)  # back off as client-go's RetryOnConflict does

    await asyncio.gather(*(writer() for _ in range(writers)))
    final = await backend.get(key)
    assert final is not None and int(final.value) == writers * each
    assert conflicts > 0, "writers never raced; the test did not exercise CAS"


async def test_list_is_sorted_with_limit_and_start(backend: Backend) -> None:
    for name in ["c", "a", "b", "d"]:
        await backend.create(P + name, name.encode())
    await backend.create("/registry/core/nodes/n1", b"n")
    res = await backend.list(P)
    assert [kv.key for kv in res.kvs] == [P + n for n in "abcd"]
    assert res.revision == await backend.current_revision() and not res.more
    page = await backend.list(P, limit=2)
    assert [kv.value for kv in page.kvs] == [b"a", b"b"] and page.more
    rest = await backend.list(P, limit=2, start=page.kvs[-1].key + "\x00")
    assert [kv.value for kv in rest.kvs] == [b"c", b"d"] and not rest.more
    assert await backend.count(P) == 4


async def test_list_at_a_past_revision(backend: Backend) -> None:
    a = await backend.create(P + "a", b"a1")
    await backend.create(P + "b", b"b1")
    past = await backend.current_revision()
    await backend.update(P + "a", b"a2", expected_revision=a.mod_revision)
    await backend.delete(P + "b")
    await backend.create(P + "c", b"c1")
    then = await backend.list(P, revision=past)
    assert [(kv.key, kv.value) for kv in then.kvs] == [(P + "a", b"a1"), (P + "b", b"b1")]
    assert then.revision == past
    now = await backend.list(P)
    assert [(kv.key, kv.value) for kv in now.kvs] == [(P + "a", b"a2"), (P + "c", b"c1")]
    assert (await backend.get(P + "b", revision=past)) is not None
    with pytest.raises(errors.FutureRevision):
        await backend.list(P, revision=now.revision + 10)


async def test_watch_delivers_every_change_in_order_across_keys(backend: Backend) -> None:
    start = await backend.current_revision()
    w = await backend.watch(P, revision=start)
    n = 60
    revisions: dict[str, int] = {}
    for i in range(n):
        key = f"{P}k{i % 7}"
        if key in revisions:
            kv = await backend.update(key, str(i).encode(), expected_revision=revisions[key])
        else:
            kv = await backend.create(key, str(i).encode())
        revisions[key] = kv.mod_revision
    await backend.create("/registry/core/nodes/other", b"x")  # outside the prefix
    got = await collect(w, n)
    w.close()
    assert [e.revision for e in got] == sorted(e.revision for e in got)
    assert len(got) == n and all(e.kv.key.startswith(P) for e in got)
    assert [int(e.kv.value) for e in got] == list(range(n))
    updates = [e for e in got if e.type is EventType.UPDATE]
    assert updates and all(e.prev is not None and int(e.prev.value) == int(e.kv.value) - 7 for e in updates)


async def test_watch_from_a_past_revision_replays_then_follows(backend: Backend) -> None:
    a = await backend.create(P + "a", b"1")
    mark = await backend.current_revision()
    await backend.update(P + "a", b"2", expected_revision=a.mod_revision)
    await backend.delete(P + "a")
    w = await backend.watch(P, revision=mark)
    await backend.create(P + "b", b"3")
    got = await collect(w, 3)
    w.close()
    assert [e.type for e in got] == [EventType.UPDATE, EventType.DELETE, EventType.CREATE]
    assert got[1].kv.value == b"2" and got[1].prev is not None and got[1].prev.value == b"2"


async def test_hundreds_of_watchers_all_get_every_event(backend: Backend) -> None:
    start = await backend.current_revision()
    watchers = [await backend.watch(P, revision=start) for _ in range(300)]
    for i in range(20):
        await backend.create(f"{P}w{i}", b"x")
    results = await asyncio.gather(*(collect(w, 20) for w in watchers))
    for w in watchers:
        w.close()
    assert all(len(r) == 20 for r in results)


async def test_compaction_forgets_history_and_raises_compacted(backend: Backend) -> None:
    a = await backend.create(P + "a", b"1")
    await backend.create(P + "b", b"1")
    await backend.update(P + "a", b"2", expected_revision=a.mod_revision)
    await backend.delete(P + "b")
    old = a.mod_revision
    mark = await backend.current_revision()
    await backend.create(P + "c", b"1")
    await backend.compact(mark)
    assert await backend.compacted_revision() == mark
    with pytest.raises(errors.Compacted):
        await backend.list(P, revision=old)
    with pytest.raises(errors.Compacted):
        await backend.watch(P, revision=old)
    # At and after the compacted revision everything is still there.
    at = await backend.list(P, revision=mark)
    assert [(kv.key, kv.value) for kv in at.kvs] == [(P + "a", b"2")]
    w = await backend.watch(P, revision=mark)
    got = await collect(w, 1)
    w.close()
    assert got[0].kv.key == P + "c"
    current = await backend.list(P)
    assert [kv.key for kv in current.kvs] == [P + "a", P + "c"]


async def test_closed_backend_refuses_work(backend: Backend) -> None:
    await backend.close()
    with pytest.raises(errors.Unavailable):
        await backend.create(P + "a", b"1")


async def test_reopen_keeps_state_and_revision(persistent_backend: tuple[Backend, object]) -> None:
    b, reopen = persistent_backend
    a = await b.create(P + "a", b"1")
    await b.update(P + "a", b"2", expected_revision=a.mod_revision)
    await b.create(P + "b", b"1")
    await b.delete(P + "b")
    rev = await b.current_revision()
    b2 = await reopen()  # type: ignore[operator]
    assert await b2.current_revision() == rev
    got = await b2.get(P + "a")
    assert got is not None and got.value == b"2" and got.create_revision == a.create_revision
    assert await b2.get(P + "b") is None
    kv = await b2.create(P + "c", b"1")
    assert kv.mod_revision == rev + 1


async def test_watch_from_a_revision_after_restart(persistent_backend: tuple[Backend, object]) -> None:
    b, reopen = persistent_backend
    a = await b.create(P + "a", b"1")
    mark = await b.current_revision()
    await b.update(P + "a", b"2", expected_revision=a.mod_revision)
    await b.create(P + "b", b"x")
    await b.delete(P + "b")
    b2 = await reopen()  # type: ignore[operator]
    w = await b2.watch(P, revision=mark)
    await b2.create(P + "c", b"live")
    got = await collect(w, 4)
    w.close()
    assert [(e.type, e.kv.key) for e in got] == [
        (EventType.UPDATE, P + "a"),
        (EventType.CREATE, P + "b"),
        (EventType.DELETE, P + "b"),
        (EventType.CREATE, P + "c"),
    ]
    assert got[0].prev is not None and got[0].prev.value == b"1"
    assert got[2].kv.value == b"x" and got[2].prev is not None
    # A past list after restart is served from disk.
    then = await b2.list(P, revision=mark)
    assert [(kv.key, kv.value) for kv in then.kvs] == [(P + "a", b"1")]


async def test_compaction_survives_restart(persistent_backend: tuple[Backend, object]) -> None:
    b, reopen = persistent_backend
    for i in range(5):
        await b.create(f"{P}{i}", b"x")
    for i in range(3):
        await b.delete(f"{P}{i}")
    mark = await b.current_revision()
    await b.compact(mark)
    b2 = await reopen()  # type: ignore[operator]
    assert await b2.compacted_revision() == mark
    assert await b2.current_revision() == mark
    with pytest.raises(errors.Compacted):
        await b2.watch(P, revision=1)
    assert [kv.key for kv in (await b2.list(P)).kvs] == [P + "3", P + "4"]
