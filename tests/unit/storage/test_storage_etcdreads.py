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
