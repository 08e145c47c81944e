"""In-process responses carry the server's own object: no JSON encode on the server, no decode in
the client, and what the client gets is what decoding the JSON would give (``kubeds.wire.Response``)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kubeds import wire
from kubeds.apiserver.handler import APIServer
from kubeds.client import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.storage.memory import MemoryBackend


def test_body_is_encoded_only_when_read() -> None:
    obj = {"kind": "Status", "code": 200, "items": [1, "x", None]}
    resp = wire.Response(200, {"content-type": "application/json"}, obj=obj)
    assert resp.take_object() is obj
    assert orjson.loads(resp.body) == obj
    assert resp.take_object() is None  # once encoded, the bytes are the answer
    assert wire.Response(200, body=b"{}").take_object() is None


def test_verification_rejects_objects_json_would_change(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wire, "VERIFY_SHARED_OBJECTS", True)
    assert wire.Response(200, obj={"a": [1, 2]}).take_object() == {"a": [1, 2]}
    for changed in ({"a": (1, 2)}, {1: "x"}):
        with pytest.raises(AssertionError, match="JSON round trip"):
            wire.Response(200, obj=changed).take_object()


def test_responses_compare_by_their_bytes() -> None:
    assert wire.Response(200, obj={"a": 1}) == wire.Response(200, body=b'{"a":1}')
    assert wire.Response(200, obj={"a": 1}) != wire.Response(201, body=b'{"a":1}')


@pytest.fixture
async def api() -> Any:
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=FakeClock())
    await server.start()
    client = ApiClient(InProcessTransport(server.handle))
    yield client
    await client.close()
    await server.close()
    await backend.close()


async def test_in_process_client_gets_the_object_json_would_give(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wire, "VERIFY_SHARED_OBJECTS", True)  # every taken object is round-tripped
    cms = api.resource("v1", "configmaps")
    created = await cms.create({"metadata": {"name": "a"}, "data": {"k": "v"}}, namespace="default")
    fetched = await cms.get("a", namespace="default")
    assert created == fetched and created["data"] == {"k": "v"}
    # The client owns what it got: changing it changes nothing on the server.
    created["data"]["k"] = "changed"
    fetched["metadata"]["labels"] = {"x": "y"}
    again = await cms.get("a", namespace="default")
    assert again["data"] == {"k": "v"} and "labels" not in again["metadata"]
    listed = await cms.list(namespace="default")
    assert [item["metadata"]["name"] for item in listed["items"]] == ["a"]
