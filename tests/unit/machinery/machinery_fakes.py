"""An in-memory fake API server transport for the machinery tests.

Implements :class:`kubeds.client.transport.Transport` for any resource path: list (with the
collection resourceVersion), get, create, update (compare-and-swap on resourceVersion), merge/strategic
patch (recursive merge), delete, and watch streaming newline-delimited events from a per-watch
``asyncio.Queue``, replaying history after the requested resourceVersion. Tests mutate state with
:meth:`FakeApi.put_object` / :meth:`FakeApi.remove_object`, end streams with :meth:`FakeApi.close_watches`,
expire them with a 410 ERROR event (:meth:`FakeApi.expire_watches`), compact history
(:meth:`FakeApi.compact`), and inject failures (:meth:`FakeApi.fail_next`).
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from typing import Any

from kubeds import wire
from kubeds.client import errors

_CLOSE = object()


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _respond(code: int, body: dict[str, Any]) -> wire.Response:
    return wire.Response(code, {"content-type": "application/json"}, json.dumps(body).encode())


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


class _Watch:
    def __init__(self, plural: str, namespace: str | None) -> None:
        self.plural = plural
        self.namespace = namespace
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self.query: dict[str, list[str]] = {}

    def matches(self, plural: str, namespace: str | None) -> bool:
        return plural == self.plural and (self.namespace is None or self.namespace == namespace)


class FakeApi:
    """State and behaviour of the fake server; ``transport`` is what the ApiClient uses."""

    def __init__(self) -> None:
        self.rv = 100
        self.compacted = 0
        # (plural, namespace or "", name) -> object
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.history: list[tuple[int, str, str, str | None, dict[str, Any]]] = []
        self.watches: list[_Watch] = []
        self.requests: list[wire.Request] = []
        self._failures: list[BaseException | wire.Response] = []
        self._kinds: dict[str, tuple[str, str]] = {}

    # -- test-side mutations ------------------------------------------------------------------------

    def put_object(self, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace ``obj`` and broadcast ADDED/MODIFIED."""
        meta = obj.setdefault("metadata", {})
        key = (plural, meta.get("namespace") or "", meta["name"])
        self.rv += 1
        meta["resourceVersion"] = str(self.rv)
        meta.setdefault("uid", f"uid-{meta['name']}")
        kind = "MODIFIED" if key in self.objects else "ADDED"
        self.objects[key] = copy.deepcopy(obj)
        self._kinds.setdefault(plural, (obj.get("apiVersion", ""), obj.get("kind", "")))
        self._broadcast(kind, plural, meta.get("namespace"), obj)
        return copy.deepcopy(obj)

    def remove_object(self, plural: str, name: str, namespace: str = "") -> dict[str, Any]:
        obj = self.objects.pop((plural, namespace, name))
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self._broadcast("DELETED", plural, namespace or None, obj)
        return obj

    def silently_remove(self, plural: str, name: str, namespace: str = "") -> None:
        """Remove without any event (as if the delete happened while no watch was open)."""
        del self.objects[(plural, namespace, name)]
        self.rv += 1

    def bookmark(self, plural: str) -> None:
        self.rv += 1
        obj = {"metadata": {"resourceVersion": str(self.rv)}}
        for watch in self.watches:
            if watch.plural == plural:
                watch.queue.put_nowait({"type": "BOOKMARK", "object": obj})

    def close_watches(self) -> None:
        for watch in self.watches:
            watch.queue.put_nowait(_CLOSE)

    def expire_watches(self) -> None:
        """Send every open watch a 410 Expired ERROR event (the server compacted past it)."""
        self.compact()
        for watch in self.watches:
            watch.queue.put_nowait(
                {"type": "ERROR", "object": status(410, "Expired", "too old resource version")}
            )
            watch.queue.put_nowait(_CLOSE)

    def compact(self) -> None:
        self.compacted = self.rv
        self.history.clear()

    def fail_next(self, failure: BaseException | wire.Response) -> None:
        self._failures.append(failure)

    def requests_for(self, method: str, *, watch: bool | None = None) -> list[wire.Request]:
        out = [r for r in self.requests if r.method == method]
        if watch is not None:
            out = [r for r in out if (r.param("watch") == "true") == watch]
        return out

    def _broadcast(self, kind: str, plural: str, namespace: str | None, obj: dict[str, Any]) -> None:
        self.history.append((self.rv, kind, plural, namespace, copy.deepcopy(obj)))
        for watch in self.watches:
            if watch.matches(plural, namespace):
                watch.queue.put_nowait({"type": kind, "object": copy.deepcopy(obj)})

    # -- the Transport ----------------------------------------------------------------------------

    async def request(self, req: wire.Request) -> wire.Response:
        self.requests.append(req)
        await asyncio.sleep(0)
        if self._failures:
            failure = self._failures.pop(0)
            if isinstance(failure, wire.Response):
                return failure
            raise failure
        plural, namespace, name, _subresource = _parse(req.path)
        body: dict[str, Any] = json.loads(req.body) if req.body else {}
        if req.method == "GET" and not name:
            if req.param("watch") == "true":
                return self._watch(plural, namespace, req)
            return self._list(plural, namespace)
        key = (plural, namespace or "", name)
        if req.method == "GET":
            if key not in self.objects:
                return _respond(404, status(404, "NotFound", f'{plural} "{name}" not found'))
            return _respond(200, self.objects[key])
        if req.method == "POST":
            name = body["metadata"]["name"]
            key = (plural, namespace or "", name)
            if key in self.objects:
                return _respond(409, status(409, "AlreadyExists", f'{plural} "{name}" already exists'))
            body["metadata"]["namespace"] = namespace
            return _respond(201, self.put_object(plural, body))
        if req.method == "PUT":
            current = self.objects.get(key)
            if current is None:
                return _respond(404, status(404, "NotFound", f'{plural} "{name}" not found'))
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                msg = f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified'
                return _respond(409, status(409, "Conflict", msg))
            return _respond(200, self.put_object(plural, body))
        if req.method == "PATCH":
            current = self.objects.get(key)
            if current is None:
                return _respond(404, status(404, "NotFound", f'{plural} "{name}" not found'))
            return _respond(200, self.put_object(plural, _merge(current, body)))
        if req.method == "DELETE":
            if key not in self.objects:
                return _respond(404, status(404, "NotFound", f'{plural} "{name}" not found'))
            return _respond(200, self.remove_object(plural, name, namespace or ""))
        return _respond(405, status(405, "MethodNotAllowed", "no"))

    async def close(self) -> None:
        return None

    def _list(self, plural: str, namespace: str | None) -> wire.Response:
        items = [
            copy.deepcopy(obj)
            for (p, ns, _), obj in sorted(self.objects.items())
            if p == plural and (namespace is None or ns == namespace)
        ]
        # Real servers leave apiVersion/kind out of list items; the informer must fill them in.
        for item in items:
            item.pop("apiVersion", None)
            item.pop("kind", None)
        api_version, kind = self._kinds.get(plural, ("v1", "Object"))
        body = {
            "apiVersion": api_version,
            "kind": f"{kind}List",
            "metadata": {"resourceVersion": str(self.rv)},
            "items": items,
        }
        return _respond(200, body)

    def _watch(self, plural: str, namespace: str | None, req: wire.Request) -> wire.Response:
        watch = _Watch(plural, namespace)
        watch.query = req.query
        rv = int(req.param("resourceVersion") or 0)
        if rv and rv < self.compacted:
            watch.queue.put_nowait(
                {"type": "ERROR", "object": status(410, "Expired", "too old resource version")}
            )
            watch.queue.put_nowait(_CLOSE)
        else:
            for event_rv, kind, p, ns, obj in self.history:
                if event_rv > rv and watch.matches(p, ns):
                    watch.queue.put_nowait({"type": kind, "object": copy.deepcopy(obj)})
        self.watches.append(watch)
        return wire.Response(200, {"content-type": "application/json"}, stream=self._stream(watch))

    async def _stream(self, watch: _Watch) -> AsyncIterator[bytes]:
        try:
            while True:
                item = await watch.queue.get()
                if item is _CLOSE:
                    return
                yield json.dumps(item).encode() + b"\n"
        finally:
            self.watches.remove(watch)


def _parse(path: str) -> tuple[str, str | None, str, str]:
    parts = path.strip("/").split("/")
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    namespace = None
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    return plural, namespace, name, subresource


async def settle(rounds: int = 20) -> None:
    """Let every ready task run a few steps (the fakes never need real time)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


__all__ = ["FakeApi", "errors", "settle", "status"]
