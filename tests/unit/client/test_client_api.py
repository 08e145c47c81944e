"""ApiClient against a fake handler through InProcessTransport: paths, queries, bodies, errors, watch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import pytest

from kubeds import clock, wire
from kubeds.client import api, errors, transport

Call = Callable[[api.ApiClient], Awaitable[Any]]


class FakeServer:
    """Records every request and answers from a queue of responses (default: 200 ``{}``)."""

    def __init__(self) -> None:
        self.requests: list[wire.Request] = []
        self.responses: list[wire.Response] = []

    async def handle(self, req: wire.Request) -> wire.Response:
        self.requests.append(req)
        if self.responses:
            return self.responses.pop(0)
        return wire.Response(200, {"content-type": "application/json"}, b"{}")

    def reply(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self.responses.append(wire.Response(status, headers or {}, orjson.dumps(body)))


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def client(server: FakeServer) -> api.ApiClient:
    return api.ApiClient(transport.InProcessTransport(server.handle), user_agent="test-agent")


DS = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
}
NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1", "resourceVersion": "7"}}


def _ds(c: api.ApiClient) -> api.ResourceClient:
    return c.resource("apps/v1", "daemonsets")


def _pods(c: api.ApiClient) -> api.ResourceClient:
    return c.resource("v1", "pods")


def _nodes(c: api.ApiClient) -> api.ResourceClient:
    return c.resource("v1", "nodes")


# Paths and query strings as client-go's REST client builds them
# (staging/src/k8s.io/client-go/rest/request.go URL(), dynamic/simple.go; options encoded like
# metav1.ListOptions / CreateOptions / PatchOptions).
ROUTING_CASES = [
    pytest.param(
        lambda c: _ds(c).get("kube-proxy", namespace="kube-system"),
        "GET",
        "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy",
        {},
        id="get-namespaced",
    ),
    pytest.param(lambda c: _nodes(c).get("node-1"), "GET", "/api/v1/nodes/node-1", {}, id="get-cluster"),
    pytest.param(
        lambda c: _ds(c).get("kube-proxy", namespace="kube-system", subresource="status"),
        "GET",
        "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy/status",
        {},
        id="get-subresource",
    ),
    pytest.param(lambda c: _pods(c).list(), "GET", "/api/v1/pods", {}, id="list-all-namespaces"),
    pytest.param(
        lambda c: _pods(c).list(
            namespace="default",
            label_selector="app=x,tier in (a,b)",
            field_selector="spec.nodeName=node-1",
            limit=500,
            continue_="tok",
            resource_version="0",
        ),
        "GET",
        "/api/v1/namespaces/default/pods",
        {
            "labelSelector": ["app=x,tier in (a,b)"],
            "fieldSelector": ["spec.nodeName=node-1"],
            "limit": ["500"],
            "continue": ["tok"],
            "resourceVersion": ["0"],
        },
        id="list-with-options",
    ),
    pytest.param(
        lambda c: _ds(c).create(DS, field_manager="kubeds", dry_run=True, field_validation="Strict"),
        "POST",
        "/apis/apps/v1/namespaces/kube-system/daemonsets",
        {"fieldManager": ["kubeds"], "dryRun": ["All"], "fieldValidation": ["Strict"]},
        id="create-namespace-from-object",
    ),
    pytest.param(
        lambda c: _ds(c).create(DS, namespace="other"),
        "POST",
        "/apis/apps/v1/namespaces/other/daemonsets",
        {},
        id="create-explicit-namespace",
    ),
    pytest.param(lambda c: _nodes(c).create(NODE), "POST", "/api/v1/nodes", {}, id="create-cluster"),
    pytest.param(lambda c: _nodes(c).update(NODE), "PUT", "/api/v1/nodes/node-1", {}, id="update-cluster"),
    pytest.param(
        lambda c: _ds(c).update_status(DS),
        "PUT",
        "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy/status",
        {},
        id="update-status",
    ),
    pytest.param(
        lambda c: _nodes(c).patch("node-1", {"spec": {"unschedulable": True}}, patch_type="strategic"),
        "PATCH",
        "/api/v1/nodes/node-1",
        {},
        id="patch-strategic",
    ),
    pytest.param(
        lambda c: _ds(c).patch(
            "kube-proxy", DS, namespace="kube-system", patch_type="apply", field_manager="kubectl", force=True
        ),
        "PATCH",
        "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy",
        {"fieldManager": ["kubectl"], "force": ["true"]},
        id="patch-apply-force",
    ),
    pytest.param(
        lambda c: _nodes(c).patch("node-1", {"status": {}}, force=True, subresource="status"),
        "PATCH",
        "/api/v1/nodes/node-1/status",
        {},
        id="patch-merge-status-force-ignored",
    ),
    pytest.param(
        lambda c: _pods(c).delete("p", namespace="default"),
        "DELETE",
        "/api/v1/namespaces/default/pods/p",
        {},
        id="delete",
    ),
    pytest.param(
        lambda c: _pods(c).delete_collection(namespace="default", label_selector="a=b", field_selector="x=y"),
        "DELETE",
        "/api/v1/namespaces/default/pods",
        {"labelSelector": ["a=b"], "fieldSelector": ["x=y"]},
        id="delete-collection",
    ),
    pytest.param(
        lambda c: _pods(c).create_subresource("p", "binding", {"kind": "Binding"}, namespace="default"),
        "POST",
        "/api/v1/namespaces/default/pods/p/binding",
        {},
        id="binding",
    ),
    pytest.param(
        lambda c: _pods(c).create_subresource("p", "eviction", {"kind": "Eviction"}, namespace="ns1"),
        "POST",
        "/api/v1/namespaces/ns1/pods/p/eviction",
        {},
        id="eviction",
    ),
]


@pytest.mark.parametrize(("call", "method", "path", "query"), ROUTING_CASES)
async def test_request_routing(
    client: api.ApiClient, server: FakeServer, call: Call, method: str, path: str, query: dict[str, list[str]]
) -> None:
    await call(client)
    (req,) = server.requests
    assert (req.method, req.path, req.query) == (method, path, query)
    assert req.user == "kubeds-admin"
    assert req.headers["user-agent"] == "test-agent"
    assert req.headers["accept"] == "application/json"


@pytest.mark.parametrize(
    ("patch_type", "content_type"),
    [
        ("merge", "application/merge-patch+json"),
        ("strategic", "application/strategic-merge-patch+json"),
        ("json", "application/json-patch+json"),
        ("apply", "application/apply-patch+yaml"),
    ],
)
async def test_patch_content_types(
    client: api.ApiClient, server: FakeServer, patch_type: api.PatchType, content_type: str
) -> None:
    body: object = [{"op": "add", "path": "/metadata/labels/a", "value": "b"}] if patch_type == "json" else DS
    await _nodes(client).patch("n", body, patch_type=patch_type)
    (req,) = server.requests
    assert req.headers["content-type"] == content_type
    assert orjson.loads(req.body) == body


async def test_bodies_are_json(client: api.ApiClient, server: FakeServer) -> None:
    await _ds(client).create(DS)
    assert orjson.loads(server.requests[0].body) == DS
    assert server.requests[0].headers["content-type"] == "application/json"


async def test_delete_options_body(client: api.ApiClient, server: FakeServer) -> None:
    await _pods(client).delete(
        "p",
        namespace="default",
        grace_period_seconds=0,
        propagation_policy="Foreground",
        preconditions={"uid": "u-1", "resourceVersion": "9"},
        dry_run=True,
    )
    assert orjson.loads(server.requests[0].body) == {
        "kind": "DeleteOptions",
        "apiVersion": "v1",
        "gracePeriodSeconds": 0,
        "propagationPolicy": "Foreground",
        "preconditions": {"uid": "u-1", "resourceVersion": "9"},
        "dryRun": ["All"],
    }


async def test_delete_without_options_sends_bare_delete_options(
    client: api.ApiClient, server: FakeServer
) -> None:
    await _nodes(client).delete("n")
    assert orjson.loads(server.requests[0].body) == {"kind": "DeleteOptions", "apiVersion": "v1"}


async def test_get_returns_decoded_object(client: api.ApiClient, server: FakeServer) -> None:
    server.reply(200, NODE)
    assert await _nodes(client).get("node-1") == NODE


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: _nodes(c).get(""), id="get"),
        pytest.param(lambda c: _nodes(c).update({"metadata": {}}), id="update-without-name"),
        pytest.param(lambda c: _nodes(c).patch("", {}), id="patch"),
        pytest.param(lambda c: _nodes(c).delete(""), id="delete"),
        pytest.param(
            lambda c: _nodes(c).patch("n", {}, patch_type="yaml"),  # type: ignore[arg-type]
            id="bad-patch-type",
        ),
    ],
)
async def test_client_side_argument_errors(client: api.ApiClient, server: FakeServer, call: Call) -> None:
    with pytest.raises(ValueError):
        await call(client)
    assert server.requests == []


def _status(code: int, reason: str, message: str = "m") -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "message": message,
        "code": code,
    }


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (_status(404, "NotFound", 'daemonsets.apps "nosuch" not found'), errors.NotFound),
        (_status(409, "AlreadyExists"), errors.AlreadyExists),
        (_status(409, "Conflict"), errors.Conflict),
        (_status(422, "Invalid"), errors.Invalid),
        (_status(410, "Expired"), errors.Gone),
        (_status(410, "Gone"), errors.Gone),
        (_status(429, "TooManyRequests"), errors.TooManyRequests),
        (_status(401, "Unauthorized"), errors.Unauthorized),
        (_status(403, "Forbidden"), errors.Forbidden),
        (_status(400, "BadRequest"), errors.BadRequest),
        (_status(500, "InternalError"), errors.ServerError),
        (_status(503, "ServiceUnavailable"), errors.ServerError),
    ],
)
async def test_error_mapping(
    client: api.ApiClient, server: FakeServer, status: dict[str, Any], error: type[errors.ApiError]
) -> None:
    server.reply(status["code"], status)
    with pytest.raises(error) as caught:
        await _ds(client).get("nosuch", namespace="default")
    assert type(caught.value) is error
    assert caught.value.status == status
    assert (caught.value.code, caught.value.reason, caught.value.message) == (
        status["code"],
        status["reason"],
        status["message"],
    )
    assert str(caught.value) == status["message"]


async def test_429_with_retry_after_is_retried_on_the_clock(server: FakeServer) -> None:
    fake = clock.FakeClock()
    c = api.ApiClient(transport.InProcessTransport(server.handle), clock=fake)
    server.reply(429, _status(429, "TooManyRequests"), {"retry-after": "2"})
    server.reply(200, NODE)
    task = asyncio.create_task(_nodes(c).get("node-1"))
    while fake.sleepers == 0:
        await asyncio.sleep(0)
    assert len(server.requests) == 1
    fake.advance(2)
    assert await task == NODE
    assert len(server.requests) == 2


async def test_429_retries_are_bounded(server: FakeServer) -> None:
    fake = clock.FakeClock()
    c = api.ApiClient(transport.InProcessTransport(server.handle), clock=fake, max_retries=1)
    for _ in range(2):
        server.reply(429, _status(429, "TooManyRequests"), {"retry-after": "0"})
    with pytest.raises(errors.TooManyRequests) as caught:
        await _nodes(c).get("n")
    assert len(server.requests) == 2
    assert caught.value.retry_after == 0.0


async def test_429_without_retry_after_raises_at_once(client: api.ApiClient, server: FakeServer) -> None:
    server.reply(
        429,
        _status(429, "TooManyRequests", "Cannot evict pod as it would violate the pod's disruption budget."),
    )
    with pytest.raises(errors.TooManyRequests):
        await _pods(client).create_subresource("p", "eviction", {}, namespace="default")
    assert len(server.requests) == 1


def _list(items: list[str], *, rv: str = "10", cont: str = "") -> dict[str, Any]:
    metadata = {"resourceVersion": rv} | ({"continue": cont} if cont else {})
    return {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": metadata,
        "items": [{"metadata": {"name": n}} for n in items],
    }


async def test_list_all_follows_continue(client: api.ApiClient, server: FakeServer) -> None:
    server.reply(200, _list(["a", "b"], cont="t1"))
    server.reply(200, _list(["c"], cont="t2"))
    server.reply(200, _list(["d"]))
    result = await _pods(client).list_all(namespace="ns", label_selector="x=y", limit=2)
    assert [i["metadata"]["name"] for i in result["items"]] == ["a", "b", "c", "d"]
    assert result["metadata"] == {"resourceVersion": "10"}
    assert [r.query for r in server.requests] == [
        {"labelSelector": ["x=y"], "limit": ["2"]},
        {"labelSelector": ["x=y"], "limit": ["2"], "continue": ["t1"]},
        {"labelSelector": ["x=y"], "limit": ["2"], "continue": ["t2"]},
    ]


async def test_list_all_falls_back_to_full_list_when_continue_expires(
    client: api.ApiClient, server: FakeServer
) -> None:
    # tools/pager/pager.go: FullListIfExpired.
    server.reply(200, _list(["a"], cont="t1"))
    server.reply(410, _status(410, "Expired", "The provided continue parameter is too old"))
    server.reply(200, _list(["a", "b"], rv="12"))
    result = await _pods(client).list_all(limit=1)
    assert [i["metadata"]["name"] for i in result["items"]] == ["a", "b"]
    assert server.requests[-1].query == {}


# --- watch ------------------------------------------------------------------------------------------


class StreamServer:
    """Answers every request with a watch stream of ``chunks``; records whether the stream was closed."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.requests: list[wire.Request] = []
        self.closed: list[bool] = []

    async def _stream(self) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                yield chunk
                await asyncio.sleep(0)
        finally:
            self.closed.append(True)

    async def handle(self, req: wire.Request) -> wire.Response:
        self.requests.append(req)
        return wire.Response(200, {"content-type": "application/json"}, stream=self._stream())

    def client(self) -> api.ApiClient:
        return api.ApiClient(transport.InProcessTransport(self.handle))


def _event(kind: str, obj: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": kind, "object": obj}) + b"\n"


POD = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p", "resourceVersion": "11"}}
BOOKMARK = {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "12"}}
EXPIRED = _status(410, "Expired", "too old resource version: 1026 (1100)")


async def test_watch_query_and_events() -> None:
    added, modified = _event("ADDED", POD), _event("MODIFIED", POD)
    # Documents split across chunk boundaries and two in one chunk must both decode.
    chunks = [added[:10], added[10:] + modified, _event("BOOKMARK", BOOKMARK), b"\n"]
    fake = StreamServer(chunks)
    c = fake.client()
    events = [
        e
        async for e in _pods(c).watch(
            namespace="default",
            resource_version="10",
            label_selector="a=b",
            field_selector="metadata.name=p",
            timeout_seconds=300,
        )
    ]
    assert [(e["type"], e["object"]["metadata"]["resourceVersion"]) for e in events] == [
        ("ADDED", "11"),
        ("MODIFIED", "11"),
        ("BOOKMARK", "12"),
    ]
    (req,) = fake.requests
    assert (req.method, req.path) == ("GET", "/api/v1/namespaces/default/pods")
    assert req.query == {
        "labelSelector": ["a=b"],
        "fieldSelector": ["metadata.name=p"],
        "resourceVersion": ["10"],
        "timeoutSeconds": ["300"],
        "watch": ["true"],
        "allowWatchBookmarks": ["true"],
    }
    assert fake.closed == [True]


async def test_watch_without_bookmarks_and_cluster_scope() -> None:
    fake = StreamServer([])
    c = fake.client()
    assert [e async for e in _nodes(c).watch(resource_version="0", allow_bookmarks=False)] == []
    (req,) = fake.requests
    assert (req.path, req.query) == ("/api/v1/nodes", {"resourceVersion": ["0"], "watch": ["true"]})


async def test_watch_error_410_raises_gone_and_closes_the_stream() -> None:
    fake = StreamServer([_event("ADDED", POD), _event("ERROR", EXPIRED), _event("ADDED", POD)])
    c = fake.client()
    seen: list[str] = []
    with pytest.raises(errors.Gone) as caught:
        async for event in _pods(c).watch(resource_version="1026"):
            seen.append(event["type"])
    assert seen == ["ADDED"]
    assert (caught.value.code, caught.value.reason) == (410, "Expired")
    assert caught.value.message == "too old resource version: 1026 (1100)"
    assert fake.closed == [True]


async def test_watch_consumer_stopping_early_closes_the_stream() -> None:
    fake = StreamServer([_event("ADDED", POD)] * 5)
    c = fake.client()
    async with contextlib.aclosing(_pods(c).watch(resource_version="0")) as events:
        async for _ in events:
            break
    assert fake.closed == [True]


async def test_watch_http_error_raises(client: api.ApiClient, server: FakeServer) -> None:
    server.reply(403, _status(403, "Forbidden", 'pods is forbidden: User "x" cannot watch resource "pods"'))
    with pytest.raises(errors.Forbidden):
        async for _ in _pods(client).watch(resource_version="0"):
            pass


async def test_watch_malformed_event_raises_transport_error() -> None:
    fake = StreamServer([b"not json\n"])
    c = fake.client()
    with pytest.raises(errors.TransportError):
        async for _ in _pods(c).watch(resource_version="0"):
            pass


async def test_in_process_transport_lowercases_headers_and_stamps_user() -> None:
    seen: list[wire.Request] = []

    async def handle(req: wire.Request) -> wire.Response:
        seen.append(req)
        return wire.Response(200, body=b"{}")

    t = transport.InProcessTransport(handle, user="system:kube-scheduler")
    original = wire.Request("GET", "/api", headers={"X-Custom": "1"})
    await t.request(original)
    assert seen[0].user == "system:kube-scheduler"
    assert seen[0].headers == {"x-custom": "1"}
    assert original.user == ""  # the caller's request is not mutated
