"""The etcd backend's shared watches (``kubeds.storage.etcdwatch``), against a real etcd.

Watchers under one prefix share one etcd watch (a feed); whatever feed serves them, each must see
exactly what a watch of its own would: every change under its prefix after its start revision, in
revision order, once.
"""

from __future__ import annotations

import pytest
from watch_events import collect

from kubeds.storage import errors, etcdwatch
from kubeds.storage.etcd import EtcdBackend
from kubeds.storage.interface import EventType, WatchStream

PODS = "/registry/core/pods/"
LEASES = "/registry/coordination.k8s.io/leases/"
NODE_LEASES = LEASES + "kube-node-lease/"


def feeds(b: EtcdBackend) -> int:
    return 0 if b._watch is None else b._watch.feed_count


async def take(w: WatchStream, n: int) -> list[tuple[str, int]]:
    """The first ``n`` events as ``(key, revision)``."""
    return [(e.kv.key, e.revision) for e in await collect(w, n)]


async def test_watchers_of_one_prefix_share_one_etcd_watch(etcd: EtcdBackend) -> None:
    start = await etcd.current_revision()
    ws = [await etcd.watch(PODS, revision=start) for _ in range(3)]
    assert feeds(etcd) == 1
    written = [(PODS + n, (await etcd.create(PODS + n, b"1")).mod_revision) for n in ("a", "b", "c")]
    for w in ws:
        assert await take(w, 3) == written


async def test_a_narrower_prefix_is_served_by_the_wider_feed_and_sees_only_its_keys(
    etcd: EtcdBackend,
) -> None:
    start = await etcd.current_revision()
    wide = await etcd.watch(LEASES, revision=start)
    narrow = await etcd.watch(NODE_LEASES, revision=start)
    assert feeds(etcd) == 1
    other = await etcd.create(LEASES + "kube-system/leader", b"1")
    mine = await etcd.create(NODE_LEASES + "n1", b"1")
    assert await take(wide, 2) == [(other.key, other.mod_revision), (mine.key, mine.mod_revision)]
    assert await take(narrow, 1) == [(mine.key, mine.mod_revision)]


async def test_a_namespaced_watch_opens_its_resources_feed_so_a_wider_one_shares_it(
    etcd: EtcdBackend,
) -> None:
    """Feeds are opened at the resource's prefix whatever the first watcher asked (etcdwatch.resource_root):
    the node-lease watch first, then every Lease, is still one etcd watch; each gets its own events."""
    start = await etcd.current_revision()
    narrow = await etcd.watch(NODE_LEASES, revision=start)
    wide = await etcd.watch(LEASES, revision=start)
    assert feeds(etcd) == 1
    other = await etcd.create(LEASES + "kube-system/leader", b"1")
    mine = await etcd.create(NODE_LEASES + "n1", b"1")
    assert await take(wide, 2) == [(other.key, other.mod_revision), (mine.key, mine.mod_revision)]
    assert await take(narrow, 1) == [(mine.key, mine.mod_revision)]


async def test_a_watcher_behind_the_feed_is_replayed_from_its_history(etcd: EtcdBackend) -> None:
    start = await etcd.current_revision()
    first = await etcd.watch(PODS, revision=start)
    a = await etcd.create(PODS + "a", b"1")
    b = await etcd.update(PODS + "a", b"2", expected_revision=a.mod_revision)
    c = await etcd.delete(PODS + "a")
    assert len(await take(first, 3)) == 3  # the feed has passed all three
    late = await etcd.watch(PODS, revision=a.mod_revision)  # wants b and c only
    assert feeds(etcd) == 1
    events = await collect(late, 2)
    assert [(e.type, e.revision) for e in events] == [
        (EventType.UPDATE, b.mod_revision),
        (EventType.DELETE, c.mod_revision),
    ]
    assert events[0].prev is not None and events[0].prev.value == b"1"


async def test_a_watcher_before_the_feeds_history_gets_an_etcd_watch_of_its_own(
    etcd: EtcdBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(etcdwatch, "FEED_HISTORY", 2)
    start = await etcd.current_revision()
    first = await etcd.watch(PODS, revision=start)
    written = [(PODS + n, (await etcd.create(PODS + n, b"1")).mod_revision) for n in ("a", "b", "c", "d")]
    assert await take(first, 4) == written
    from_start = await etcd.watch(PODS, revision=start)  # a, b have left the feed's history
    assert feeds(etcd) == 2
    assert await take(from_start, 4) == written
    from_b = await etcd.watch(PODS, revision=written[1][1])  # c and d are still in it
    assert feeds(etcd) == 2
    assert await take(from_b, 2) == written[2:]


async def test_a_watcher_ahead_of_the_feed_skips_what_it_did_not_ask_for(etcd: EtcdBackend) -> None:
    start = await etcd.current_revision()
    first = await etcd.watch(PODS, revision=start)
    a = await etcd.create(PODS + "a", b"1")
    ahead = await etcd.watch(PODS, revision=a.mod_revision)  # maybe before the feed has seen a
    b = await etcd.create(PODS + "b", b"1")
    assert await take(first, 2) == [(a.key, a.mod_revision), (b.key, b.mod_revision)]
    assert await take(ahead, 1) == [(b.key, b.mod_revision)]


async def test_the_last_watcher_closing_ends_the_feed(etcd: EtcdBackend) -> None:
    start = await etcd.current_revision()
    w1, w2 = await etcd.watch(PODS, revision=start), await etcd.watch(PODS, revision=start)
    w1.close()
    assert feeds(etcd) == 1
    w2.close()
    assert feeds(etcd) == 0
    again = await etcd.watch(PODS, revision=start)
    a = await etcd.create(PODS + "a", b"1")
    assert await take(again, 1) == [(a.key, a.mod_revision)]


async def test_compaction_under_a_feed_fails_every_watcher_with_compacted(etcd: EtcdBackend) -> None:
    """etcd cancels a watch whose start it has compacted; every watcher of that feed is told so."""
    keep = await etcd.watch(LEASES, revision=await etcd.current_revision())  # opens the hub
    a = await etcd.create(PODS + "a", b"1")
    await etcd.update(PODS + "a", b"2", expected_revision=a.mod_revision)
    await etcd.compact(await etcd.current_revision())
    hub = etcd._watch
    assert hub is not None
    ws = [await hub.add(PODS, after=a.mod_revision - 1) for _ in range(2)]  # below the compaction
    for w in ws:
        with pytest.raises(errors.Compacted):
            await take(w, 1)
    assert hub.feed_count == 1  # the pods feed is gone, the leases one is not
    keep.close()
    assert hub.feed_count == 0
