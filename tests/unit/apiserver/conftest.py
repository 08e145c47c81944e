"""Fixtures for the API-server pipeline tests: an APIServer on a MemoryBackend with a fake clock."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from kubeds.apiserver.handler import APIServer
from kubeds.clock import FakeClock
from kubeds.storage.memory import MemoryBackend
from kubeds.wire import Request, Response

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
    "application/json"
)


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    raw: Response


class Client:
    """Sends wire Requests straight into ``APIServer.handle``."""

    def __init__(self, api: APIServer) -> None:
        self.api = api

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
        accept: str = "application/json",
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        hdrs = {"accept": accept, "user-agent": "kubectl/v1.32.5 (linux/amd64) kubernetes/9894294"}
        if data:
            hdrs["content-type"] = content_type
        hdrs.update(headers or {})
        req = Request(method, path, {k: [v] for k, v in (query or {}).items()}, hdrs, data)
        resp = await self.api.handle(req)
        parsed: Any = None
        if resp.body:
            try:
                parsed = json.loads(resp.body)
            except ValueError:
                parsed = resp.body.decode("utf-8", "replace")
        return Reply(resp.status, resp.headers, parsed, resp)

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, body: Any, **kw: Any) -> Reply:
        return await self.call("POST", path, body, **kw)

    async def put(self, path: str, body: Any, **kw: Any) -> Reply:
        return await self.call("PUT", path, body, **kw)

    async def patch(self, path: str, body: Any, *, content_type: str, **kw: Any) -> Reply:
        return await self.call("PATCH", path, body, content_type=content_type, **kw)

    async def delete(self, path: str, body: Any = None, **kw: Any) -> Reply:
        return await self.call("DELETE", path, body, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[APIServer]:
    backend = MemoryBackend()
    await backend.start()
    server = APIServer(backend, clock=clock, server_address="127.0.0.1:6443")
    await server.start()
    yield server
    await server.close()
    await backend.close()


@pytest.fixture
def client(api: APIServer) -> Client:
    return Client(api)


def daemonset(
    name: str = "kube-proxy", *, image: str = "registry.k8s.io/kube-proxy:v1.32.0"
) -> dict[str, Any]:
    labels = {"k8s-app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
        },
    }


def pod(name: str, *, node: str = "", labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], **spec},
    }
    if node:
        body["spec"]["nodeName"] = node
    return body


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": dict(labels)}}
