"""Watcher.take / wait / poke: what the API server's watch loop reads a watcher with."""

from __future__ import annotations

import asyncio

import pytest

from kubeds.storage import errors
from kubeds.storage.broadcaster import Watcher
from kubeds.storage.interface import Event, EventType, KeyValue


def _event(rev: int) -> Event:
    return Event(EventType.UPDATE, KeyValue(f"/k/{rev}", b"{}", 1, rev), None)


async def test_take_hands_out_every_queued_batch_as_one_in_revision_order() -> None:
    w = Watcher("/k/", after=0)
    assert w.take() is None
    w.push([_event(1), _event(2)])
    w.push([_event(3)])
    w.push([_event(2)])  # at or below the last queued revision: a duplicate, dropped
    batch = w.take()
    assert batch is not None
    assert [e.revision for e in batch] == [1, 2, 3]
    assert w.take() is None


async def test_wait_returns_when_events_arrive_or_on_poke() -> None:
    w = Watcher("/k/", after=0)
    waiting = asyncio.ensure_future(w.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    w.push([_event(1)])
    await asyncio.wait_for(waiting, 1)
    assert w.take() is not None
    waiting = asyncio.ensure_future(w.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    w.poke()  # a timer of the consumer's
    await asyncio.wait_for(waiting, 1)
    assert w.take() is None
    w.push([_event(2)])
    await asyncio.wait_for(w.wait(), 1)  # something queued: no waiting at all


async def test_take_after_close_drains_then_ends_or_raises_the_failure() -> None:
    w = Watcher("/k/", after=0)
    w.push([_event(1)])
    w.close()
    batch = w.take()
    assert batch is not None and [e.revision for e in batch] == [1]
    with pytest.raises(StopAsyncIteration):
        w.take()
    await asyncio.wait_for(w.wait(), 1)  # a closed watcher never blocks

    failed = Watcher("/k/", after=0, max_pending=1)
    failed.push([_event(1), _event(2)])  # more than max_pending: the watcher is failed
    with pytest.raises(errors.Unavailable):
        failed.take()
