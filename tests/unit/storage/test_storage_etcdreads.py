"""``ReadBatcher``: reads asked for in one event-loop iteration are sent together, in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubeds.storage import errors
from kubeds.storage.etcdreads import MAX_TXN_OPS, ReadBatcher


class Sender:
    def __init__(self, fail: Exception | None = None) -> None:
        self.sent: list[list[str]] = []
        self.fail = fail

    async def __call__(self, requests: list[Any]) -> list[Any]:
        self.sent.append(list(requests))
        await asyncio.sleep(0)
        if self.fail is not None:
            raise self.fail
        return [f"answer to {r}" for r in requests]


async def test_reads_of_one_iteration_go_in_one_batch_and_each_gets_its_answer() -> None:
    send = Sender()
    reads = ReadBatcher(send)
    out = await asyncio.gather(*(reads.range(k) for k in ("a", "b", "c")))
    assert out == ["answer to a", "answer to b", "answer to c"]
    assert send.sent == [["a", "b", "c"]]
    assert reads.calls == 1


async def test_a_read_after_a_batch_left_goes_in_the_next_one() -> None:
    send = Sender()
    reads = ReadBatcher(send)
    assert await reads.range("a") == "answer to a"
    assert await reads.range("b") == "answer to b"
    assert send.sent == [["a"], ["b"]]


async def test_batches_stay_within_etcds_max_txn_ops() -> None:
    send = Sender()
    reads = ReadBatcher(send)
    keys = [str(i) for i in range(MAX_TXN_OPS * 2 + 1)]
    out = await asyncio.gather(*(reads.range(k) for k in keys))
    assert out == [f"answer to {k}" for k in keys]
    assert [len(b) for b in send.sent] == [MAX_TXN_OPS, MAX_TXN_OPS, 1]


async def test_a_failed_batch_fails_each_read_with_the_error() -> None:
    reads = ReadBatcher(Sender(fail=errors.Unavailable("etcd at x: UNAVAILABLE")))
    results = await asyncio.gather(reads.range("a"), reads.range("b"), return_exceptions=True)
    assert all(isinstance(r, errors.Unavailable) for r in results)


async def test_a_cancelled_reader_does_not_disturb_the_others() -> None:
    send = Sender()
    reads = ReadBatcher(send)
    doomed = asyncio.create_task(reads.range("a"))
    kept = asyncio.create_task(reads.range("b"))
    await asyncio.sleep(0)
    doomed.cancel()
    assert await kept == "answer to b"
    with pytest.raises(asyncio.CancelledError):
        await doomed


class SlowSender(Sender):
    """Answers only when released, so reads can be asked for while a batch is out."""

    def __init__(self, fail_first: Exception | None = None) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.fail_first = fail_first

    async def __call__(self, requests: list[Any]) -> list[Any]:
        self.sent.append(list(requests))
        first = len(self.sent) == 1
        await self.release.wait()
        if first and self.fail_first is not None:
            raise self.fail_first
        return [f"answer to {r}" for r in requests]


async def test_reads_asked_while_a_batch_is_out_wait_for_it_and_go_together() -> None:
    send = SlowSender()
    reads = ReadBatcher(send)
    first = asyncio.create_task(reads.range("a"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # "a" is out
    later = [asyncio.create_task(reads.range(k)) for k in ("b", "c")]
    for _ in range(3):
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    more = asyncio.create_task(reads.range("d"))  # a later iteration, still while "a" is out
    for _ in range(3):
        await asyncio.sleep(0)
    assert send.sent == [["a"]]  # nothing else goes while a batch is out
    send.release.set()
    assert await first == "answer to a"
    assert [await t for t in later] + [await more] == ["answer to b", "answer to c", "answer to d"]
    assert send.sent == [["a"], ["b", "c", "d"]]


async def test_reads_waiting_behind_a_failed_batch_still_go() -> None:
    send = SlowSender(fail_first=errors.Unavailable("etcd at x: UNAVAILABLE"))
    reads = ReadBatcher(send)
    first = asyncio.create_task(reads.range("a"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    second = asyncio.create_task(reads.range("b"))
    await asyncio.sleep(0)
    send.release.set()
    with pytest.raises(errors.Unavailable):
        await first
    assert await second == "answer to b"
