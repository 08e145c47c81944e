"""One decode per watch event for all in-process watchers (kubeds.wire.SharedLines), and its checks.

No upstream unit test covers this (it is kubeds' own optimisation of the in-process transport); the
behaviour asserted is the contract in kubeds/wire.py: the identical event object for the very line
the server shared, a private decode otherwise, bounded memory, and mutation detection.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from kubeds import wire
from kubeds.apiserver import watch as server_watch
from kubeds.apiserver.handler import APIServer
from kubeds.client import api as api_mod
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.storage.memory import MemoryBackend


def _line(name: str, event_type: str = "ADDED") -> bytes:
    obj = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": "default"}}
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


class _Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, line: bytes) -> dict[str, Any]:
        self.calls += 1
        decoded: dict[str, Any] = orjson.loads(line)
        return decoded


def test_registered_line_is_decoded_once_and_shared() -> None:
    memo = wire.SharedLines(capacity=8)
    line = _line("a")
    memo.share(line)
    decoder = _Counting()
    first = memo.decode(line, decoder)
    second = memo.decode(line, decoder)
    assert first is not None and first is second
    assert decoder.calls == 1
    assert memo.hits == 1
    assert memo.lookup(line) is first


def test_equal_bytes_of_another_object_are_not_shared() -> None:
    memo = wire.SharedLines(capacity=8)
    line = _line("a")
    memo.share(line)
    copy = bytes(bytearray(line))
    assert copy == line and copy is not line
    assert memo.decode(copy, _Counting()) is None
    assert memo.lookup(copy) is None


def test_unregistered_line_is_not_remembered() -> None:
    memo = wire.SharedLines(capacity=8)
    line = _line("a")
    decoder = _Counting()
    assert memo.decode(line, decoder) is None
    assert decoder.calls == 0
    assert len(memo) == 0


def test_server_supplied_event_is_returned_without_decoding() -> None:
    memo = wire.SharedLines(capacity=8)
    line = _line("a")
    event = orjson.loads(line)
    memo.share(line, event)
    decoder = _Counting()
    assert memo.decode(line, decoder) is event
    assert decoder.calls == 0


def test_ring_is_bounded_and_forgets_the_oldest() -> None:
    memo = wire.SharedLines(capacity=2)
    lines = [_line(name) for name in ("a", "b", "c")]
    for line in lines:
        memo.share(line)
    assert len(memo) == 2
    assert memo.decode(lines[0], _Counting()) is None  # forgotten: the watcher decodes its own copy
    assert memo.decode(lines[2], _Counting()) is not None


def test_sharing_the_same_line_again_keeps_its_decode() -> None:
    memo = wire.SharedLines(capacity=4)
    line = _line("a")
    memo.share(line)
    event = memo.decode(line, _Counting())
    memo.share(line)
    assert memo.decode(line, _Counting()) is event
    assert len(memo) == 1


def test_failing_decoder_leaves_the_entry_undecoded() -> None:
    memo = wire.SharedLines(capacity=4)
    line = b"not json\n"
    memo.share(line)

    def broken(_: bytes) -> dict[str, Any]:
        raise ValueError("bad")

    with pytest.raises(ValueError):
        memo.decode(line, broken)
    assert memo.lookup(line) is None


# -- verification ---------------------------------------------------------------------------------


def test_mutation_of_a_shared_event_is_detected_on_demand() -> None:
    memo = wire.SharedLines(capacity=8, verify=True)
    line = _line("a")
    memo.share(line)
    event = memo.decode(line, _Counting())
    assert event is not None
    memo.check()  # untouched: fine
    event["object"]["metadata"]["labels"] = {"changed": "yes"}
    with pytest.raises(wire.SharedObjectMutated, match=r"ADDED Pod default/a"):
        memo.check()
    memo.check()  # each mutation is reported once


def test_mutation_is_detected_when_the_entry_leaves_the_ring(caplog: pytest.LogCaptureFixture) -> None:
    memo = wire.SharedLines(capacity=1, verify=True)
    line = _line("a")
    event = orjson.loads(line)
    memo.share(line, event)
    event["object"]["metadata"]["name"] = "renamed"
    with caplog.at_level(logging.ERROR, logger="kubeds.wire"):
        memo.share(_line("b"))  # evicts the mutated entry
    assert len(memo) == 1
    assert memo.violations == ["ADDED Pod default/renamed resourceVersion=None"]
    assert any("mutated in place" in r.getMessage() for r in caplog.records)
    with pytest.raises(wire.SharedObjectMutated):
        memo.check()


def test_mutation_is_not_tracked_when_verification_is_off() -> None:
    memo = wire.SharedLines(capacity=8, verify=False)
    line = _line("a")
    memo.share(line)
    event = memo.decode(line, _Counting())
    assert event is not None
    event["object"]["metadata"]["name"] = "renamed"
    memo.check()
    assert memo.violations == []


def test_verification_follows_the_module_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    memo = wire.SharedLines(capacity=8)
    monkeypatch.setattr(wire, "VERIFY_SHARED_OBJECTS", True)
    assert memo.verifying
    line = _line("a")
    memo.share(line)
    event = memo.decode(line, _Counting())
    assert event is not None
    event["type"] = "MODIFIED"
    with pytest.raises(wire.SharedObjectMutated):
        memo.check()


# -- the client's decode path -----------------------------------------------------------------------


async def _chunks(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _decode_all(*chunks: bytes) -> list[dict[str, Any]]:
    return [event async for event in api_mod._decode_events(_chunks(*chunks))]


async def test_client_decode_takes_the_shared_event_for_a_whole_shared_line() -> None:
    line = _line("shared-whole")
    wire.SHARED_LINES.share(line)
    first = await _decode_all(line)
    second = await _decode_all(line)
    assert first[0] is second[0]
    assert first[0]["object"]["metadata"]["name"] == "shared-whole"


async def test_client_decode_of_a_split_or_copied_line_is_private() -> None:
    line = _line("shared-split")
    wire.SHARED_LINES.share(line)
    shared = (await _decode_all(line))[0]
    split = (await _decode_all(line[:10], line[10:]))[0]
    copied = (await _decode_all(bytes(bytearray(line))))[0]
    assert split == shared and split is not shared
    assert copied == shared and copied is not shared


async def test_client_decode_after_a_partial_chunk_is_private() -> None:
    # A shared line arriving while the buffer holds a partial line is decoded in sequence.
    head = _line("partial")
    line = _line("after-partial")
    wire.SHARED_LINES.share(line)
    shared = (await _decode_all(line))[0]
    events = await _decode_all(head[:5], head[5:] + line)
    assert [e["object"]["metadata"]["name"] for e in events] == ["partial", "after-partial"]
    events = await _decode_all(head[:5], head[5:], line)
    assert events[1] is shared


# -- the in-process server and clients ----------------------------------------------------------------


AUDIENCE = "/registry/pods/"


def test_server_registers_each_shared_line() -> None:
    memo = wire.SharedLines(capacity=8)
    shared = server_watch.SharedEvents(decoded=memo)
    shared.join(AUDIENCE)
    shared.join(AUDIENCE)
    value = orjson.dumps({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "ns"}})
    line = shared.line("ADDED", value, 7, audience=AUDIENCE)
    assert shared.line("ADDED", value, 7, audience=AUDIENCE) is line
    event = memo.decode(line, _Counting())
    assert event is not None
    assert event["object"]["metadata"] == {"resourceVersion": "7", "name": "p", "namespace": "ns"}


def test_server_shares_nothing_with_a_lone_watcher() -> None:
    memo = wire.SharedLines(capacity=8)
    shared = server_watch.SharedEvents(decoded=memo)
    value = orjson.dumps({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "namespace": "ns"}})
    shared.join(AUDIENCE)
    shared.join("/registry/nodes/")  # another resource's watcher is no audience for pods
    lone = shared.line("ADDED", value, 7, audience=AUDIENCE)
    assert memo.decode(lone, _Counting()) is None
    shared.join(AUDIENCE)
    second = shared.line("MODIFIED", value, 8, audience=AUDIENCE)
    assert memo.decode(second, _Counting()) is not None
    shared.leave(AUDIENCE)
    third = shared.line("MODIFIED", value, 9, audience=AUDIENCE)
    assert memo.decode(third, _Counting()) is None
    assert len(memo) == 1


def test_server_shares_its_decode_when_it_had_to_decode() -> None:
    memo = wire.SharedLines(capacity=8)
    shared = server_watch.SharedEvents(decoded=memo)
    shared.join(AUDIENCE)
    shared.join(AUDIENCE)
    # Keys in another order than the splice expects: the server decodes, and shares that decode.
    value = orjson.dumps({"spec": {"a": 1}, "metadata": {"name": "p"}, "kind": "Pod", "apiVersion": "v1"})
    line = shared.line("MODIFIED", value, 9, audience=AUDIENCE)
    decoder = _Counting()
    event = memo.decode(line, decoder)
    assert decoder.calls == 0
    assert event == orjson.loads(line)
    assert event is not None and event["object"]["metadata"]["resourceVersion"] == "9"


async def _next_event(stream: Any) -> dict[str, Any]:
    event: dict[str, Any] = await stream.__anext__()
    return event


async def test_in_process_watchers_share_one_event_object() -> None:
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=FakeClock())
    await server.start()
    try:
        clients = [api_mod.ApiClient(InProcessTransport(server.handle), clock=FakeClock()) for _ in range(3)]
        pods = [c.resource("v1", "configmaps") for c in clients]
        listed = await pods[0].list(namespace="default")
        rv = listed["metadata"]["resourceVersion"]
        async with contextlib.AsyncExitStack() as stack:
            streams = [
                await stack.enter_async_context(
                    contextlib.aclosing(
                        p.watch(namespace="default", resource_version=rv, allow_bookmarks=False)
                    )
                )
                for p in pods
            ]
            for name in ("first", "second"):
                body = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name},
                    "data": {"k": name},
                }
                await pods[0].create(body, namespace="default")
            # The server stream of each watcher starts (joins the audience) on its first read, so
            # the first event went out before the three were watching; the second is shared.
            firsts = [await _next_event(s) for s in streams]
            seconds = [await _next_event(s) for s in streams]
        assert [e["object"]["data"] for e in firsts] == [{"k": "first"}] * 3
        assert seconds[0]["type"] == "ADDED"
        assert seconds[0]["object"]["data"] == {"k": "second"}
        assert seconds[1] is seconds[0] and seconds[2] is seconds[0]
    finally:
        await server.close()
        await backend.close()


@pytest.mark.parametrize(("value", "expected"), [("1", "True"), ("0", "False"), ("", "False")])
def test_verification_can_be_switched_on_from_the_environment(value: str, expected: str) -> None:
    env = {**os.environ, wire.VERIFY_ENV: value}
    out = subprocess.run(
        [sys.executable, "-c", "import kubeds.wire as w; print(w.VERIFY_SHARED_OBJECTS)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == expected


def test_clear_forgets_every_line_and_checks_each() -> None:
    memo = wire.SharedLines(capacity=8, verify=True)
    line = _line("a")
    event = orjson.loads(line)
    memo.share(line, event)
    event["object"]["kind"] = "Changed"
    memo.clear()
    assert len(memo) == 0
    assert memo.decode(line, _Counting()) is None
    with pytest.raises(wire.SharedObjectMutated, match="ADDED Changed default/a"):
        memo.check()
