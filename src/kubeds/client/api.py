"""The async API client controllers, scheduler, simulated nodes and the CLI share.

Shaped after client-go's dynamic client (``staging/src/k8s.io/client-go/dynamic/simple.go``): a
:class:`ResourceClient` per (apiVersion, plural) builds the REST paths
(``/api/v1/namespaces/{ns}/pods/{name}/binding``, ``/apis/apps/v1/daemonsets``) and query strings
(``labelSelector``, ``fieldSelector``, ``limit``, ``continue``, ``resourceVersion``, ``fieldManager``,
``dryRun=All``, ``force``, ``watch=true``, ``allowWatchBookmarks``, ``timeoutSeconds``) exactly as
client-go encodes ``metav1.ListOptions``/``CreateOptions``/``PatchOptions``/``DeleteOptions``, and
works on plain JSON dicts. Requests go through a :class:`~kubeds.client.transport.Transport`, so the
same code talks HTTPS to a remote server or calls the handler in-process.

Behaviour borrowed from client-go:

* every non-2xx answer raises the :mod:`kubeds.client.errors` class for its Status;
* a 429 carrying ``Retry-After`` is retried after that many seconds, up to ``max_retries`` times
  (``rest/request.go`` ``checkWait``; kubectl relies on it being silent);
* ``list_all`` pages with ``limit``/``continue`` and, when a continue token has expired (410), falls
  back to one full list, as ``tools/pager/pager.go`` does with ``FullListIfExpired``;
* ``watch`` decodes the newline-delimited ``{"type","object"}`` stream
  (``apimachinery/pkg/watch/streamwatcher.go``), turns an ``ERROR`` event into the matching exception
  (a compacted resourceVersion raises :class:`~kubeds.client.errors.Gone`, the reflector's cue to
  relist), and closes the stream when the consumer stops iterating. Use
  ``contextlib.aclosing(rc.watch(...))`` to make that deterministic. **Watch events are read-only**:
  in one process, every watcher of an event gets the same decoded dict (see :mod:`kubeds.wire`), so
  copy an event's object before changing it, as client-go requires of informer objects.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any, Literal

import orjson

from kubeds import clock as clock_mod, wire
from kubeds.client import errors, transport as transport_mod

__all__ = ["PATCH_CONTENT_TYPES", "ApiClient", "PatchType", "ResourceClient"]

JSON = "application/json"
PatchType = Literal["merge", "strategic", "json", "apply"]
PATCH_CONTENT_TYPES: dict[str, str] = {
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "json": "application/json-patch+json",
    "apply": "application/apply-patch+yaml",
}
DRY_RUN_ALL = "All"
DEFAULT_MAX_RETRIES = 10
WATCH_ERROR = "ERROR"

Query = dict[str, list[str]]


class ApiClient:
    """Sends API requests through a transport and decodes JSON answers into dicts."""

    def __init__(
        self,
        transport: transport_mod.Transport,
        *,
        user_agent: str = "kubeds",
        clock: clock_mod.Clock = clock_mod.REAL,
        max_retries: int = DEFAULT_MAX_RETRIES,
    ) -> None:
        self.transport = transport
        self.user_agent = user_agent
        self._clock = clock
        self._max_retries = max_retries

    def resource(self, api_version: str, plural: str) -> ResourceClient:
        """A client for one resource, e.g. ``resource("apps/v1", "daemonsets")``."""
        return ResourceClient(self, api_version=api_version, plural=plural)

    async def send(self, req: wire.Request) -> wire.Response:
        """Send ``req`` with the client's headers; retry 429s that carry ``Retry-After``. No raising."""
        req.headers.setdefault("user-agent", self.user_agent)
        req.headers.setdefault("accept", JSON)
        attempt = 0
        while True:
            resp = await self.transport.request(req)
            delay = _retry_delay(resp)
            if delay is None or attempt >= self._max_retries:
                return resp
            attempt += 1
            await _discard(resp)
            await self._clock.sleep(delay)

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: object = None,
        content_type: str = JSON,
    ) -> dict[str, Any]:
        """One request whose answer is a JSON object; raises :class:`errors.ApiError` on failure."""
        headers: dict[str, str] = {}
        data = b""
        if body is not None:
            data = _encode(body)
            headers["content-type"] = content_type
        req = wire.Request(method=method, path=path, query=query or {}, headers=headers, body=data)
        resp = await self.send(req)
        errors.raise_for_status(resp, method=method)
        obj = resp.take_object()  # an in-process answer: the server's own object, no JSON between
        if type(obj) is dict:
            return obj
        return _decode_object(resp.body)

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class ResourceClient:
    """CRUD, subresources and watch for one resource type; ``namespace=None`` means cluster scope."""

    def __init__(self, api: ApiClient, *, api_version: str, plural: str) -> None:
        self.api = api
        self.api_version = api_version
        self.plural = plural

    def path(self, name: str = "", *, namespace: str | None = None, subresource: str = "") -> str:
        """The REST path: ``/api/v1[/namespaces/{ns}]/{plural}[/{name}[/{subresource}]]``."""
        prefix = f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"
        parts = [prefix]
        if namespace:
            parts.append(f"namespaces/{namespace}")
        parts.append(self.plural)
        if name:
            parts.append(name)
            if subresource:
                parts.append(subresource)
        elif subresource:
            raise ValueError("a subresource needs an object name")
        return "/".join(parts)

    async def get(self, name: str, *, namespace: str | None = None, subresource: str = "") -> dict[str, Any]:
        _require_name(name)
        return await self.api.request_json(
            "GET", self.path(name, namespace=namespace, subresource=subresource)
        )

    async def list(
        self,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 0,
        continue_: str = "",
        resource_version: str = "",
    ) -> dict[str, Any]:
        """One List page (``metadata.continue`` is set when more follow)."""
        query = _query(
            labelSelector=label_selector,
            fieldSelector=field_selector,
            limit=str(limit) if limit > 0 else "",
            resourceVersion=resource_version,
        )
        if continue_:
            query["continue"] = [continue_]
        return await self.api.request_json("GET", self.path(namespace=namespace), query=query)

    async def list_all(
        self,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        limit: int = 500,
        resource_version: str = "",
    ) -> dict[str, Any]:
        """Every page merged into one List; an expired continue token falls back to a full list."""

        async def page(*, size: int, token: str = "", rv: str = "") -> dict[str, Any]:
            return await self.list(
                namespace=namespace,
                label_selector=label_selector,
                field_selector=field_selector,
                limit=size,
                continue_=token,
                resource_version=rv,
            )

        result = await page(size=limit, rv=resource_version)
        items = [*(result.get("items") or [])]
        token = _continue_token(result)
        while token:
            try:
                more = await page(size=limit, token=token)
            except errors.Gone:
                return await page(size=0, rv=resource_version)
            items.extend(more.get("items") or [])
            token = _continue_token(more)
        metadata = dict(result.get("metadata") or {})
        metadata.pop("continue", None)
        metadata.pop("remainingItemCount", None)
        return {**result, "metadata": metadata, "items": items}

    async def create(
        self,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str = "",
        dry_run: bool = False,
        field_validation: str = "",
    ) -> dict[str, Any]:
        """POST ``obj``; ``namespace`` defaults to ``obj.metadata.namespace``."""
        ns = namespace if namespace is not None else _namespace_of(obj)
        query = _write_query(field_manager=field_manager, dry_run=dry_run, field_validation=field_validation)
        return await self.api.request_json("POST", self.path(namespace=ns), query=query, body=obj)

    async def update(
        self,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        field_manager: str = "",
        dry_run: bool = False,
        field_validation: str = "",
        subresource: str = "",
    ) -> dict[str, Any]:
        """PUT ``obj`` (its ``metadata.resourceVersion`` makes it a compare-and-swap)."""
        name = _name_of(obj)
        ns = namespace if namespace is not None else _namespace_of(obj)
        query = _write_query(field_manager=field_manager, dry_run=dry_run, field_validation=field_validation)
        path = self.path(name, namespace=ns, subresource=subresource)
        return await self.api.request_json("PUT", path, query=query, body=obj)

    async def update_status(
        self, obj: Mapping[str, Any], *, namespace: str | None = None, field_manager: str = ""
    ) -> dict[str, Any]:
        """PUT to the ``status`` subresource."""
        return await self.update(obj, namespace=namespace, field_manager=field_manager, subresource="status")

    async def patch(
        self,
        name: str,
        body: object,
        *,
        namespace: str | None = None,
        patch_type: PatchType = "merge",
        field_manager: str = "",
        force: bool = False,
        subresource: str = "",
        dry_run: bool = False,
        field_validation: str = "",
    ) -> dict[str, Any]:
        """PATCH with the content type of ``patch_type``; ``force`` only applies to ``apply``."""
        _require_name(name)
        if patch_type not in PATCH_CONTENT_TYPES:
            raise ValueError(f"unknown patch type {patch_type!r}")
        query = _write_query(field_manager=field_manager, dry_run=dry_run, field_validation=field_validation)
        if patch_type == "apply" and force:
            query["force"] = ["true"]
        path = self.path(name, namespace=namespace, subresource=subresource)
        return await self.api.request_json(
            "PATCH", path, query=query, body=body, content_type=PATCH_CONTENT_TYPES[patch_type]
        )

    async def delete(
        self,
        name: str,
        *,
        namespace: str | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        preconditions: Mapping[str, str] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """DELETE one object; returns the object (graceful/finalized) or a Success Status."""
        _require_name(name)
        options = _delete_options(
            grace_period_seconds=grace_period_seconds,
            propagation_policy=propagation_policy,
            preconditions=preconditions,
            dry_run=dry_run,
        )
        return await self.api.request_json("DELETE", self.path(name, namespace=namespace), body=options)

    async def delete_collection(
        self,
        *,
        namespace: str | None = None,
        label_selector: str = "",
        field_selector: str = "",
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """DELETE the collection (selectors in the query, DeleteOptions in the body)."""
        query = _query(labelSelector=label_selector, fieldSelector=field_selector)
        options = _delete_options(
            grace_period_seconds=grace_period_seconds,
            propagation_policy=propagation_policy,
            preconditions=None,
            dry_run=dry_run,
        )
        return await self.api.request_json(
            "DELETE", self.path(namespace=namespace), query=query, body=options
        )

    async def create_subresource(
        self, name: str, subresource: str, body: Mapping[str, Any], *, namespace: str | None
    ) -> dict[str, Any]:
        """POST to a subresource: ``pods/{name}/binding``, ``pods/{name}/eviction``."""
        _require_name(name)
        path = self.path(name, namespace=namespace, subresource=subresource)
        return await self.api.request_json("POST", path, body=body)

    async def watch(
        self,
        *,
        namespace: str | None = None,
        resource_version: str,
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncGenerator[dict[str, Any], None]:
        """Yield ``{"type", "object"}`` events until the server ends the stream.

        An ``ERROR`` event raises its Status as an exception (410 Expired → :class:`errors.Gone`).
        """
        query = _query(
            labelSelector=label_selector,
            fieldSelector=field_selector,
            resourceVersion=resource_version,
            timeoutSeconds=str(timeout_seconds) if timeout_seconds is not None else "",
        )
        query["watch"] = ["true"]
        if allow_bookmarks:
            query["allowWatchBookmarks"] = ["true"]
        req = wire.Request(method="GET", path=self.path(namespace=namespace), query=query)
        resp = await self.api.send(req)
        if resp.stream is None:
            errors.raise_for_status(resp, method="GET")
            # A 2xx without a stream: decode the body as the complete event stream.
            async for event in _decode_events(_single(resp.body)):
                yield event
            return
        stream = resp.stream
        try:
            async for event in _decode_events(stream):
                yield event
        finally:
            await _close_stream(stream)


def _require_name(name: str) -> None:
    if not name:
        raise ValueError("resource name may not be empty")


def _name_of(obj: Mapping[str, Any]) -> str:
    name = str((obj.get("metadata") or {}).get("name") or "")
    _require_name(name)
    return name


def _namespace_of(obj: Mapping[str, Any]) -> str | None:
    namespace = (obj.get("metadata") or {}).get("namespace")
    return str(namespace) if namespace else None


def _query(**params: str) -> Query:
    return {key: [value] for key, value in params.items() if value}


def _write_query(*, field_manager: str, dry_run: bool, field_validation: str) -> Query:
    return _query(
        dryRun=DRY_RUN_ALL if dry_run else "",
        fieldManager=field_manager,
        fieldValidation=field_validation,
    )


def _delete_options(
    *,
    grace_period_seconds: int | None,
    propagation_policy: str | None,
    preconditions: Mapping[str, str] | None,
    dry_run: bool,
) -> dict[str, Any]:
    options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
    if grace_period_seconds is not None:
        options["gracePeriodSeconds"] = grace_period_seconds
    if propagation_policy:
        options["propagationPolicy"] = propagation_policy
    if preconditions:
        options["preconditions"] = dict(preconditions)
    if dry_run:
        options["dryRun"] = [DRY_RUN_ALL]
    return options


def _continue_token(page: Mapping[str, Any]) -> str:
    return str((page.get("metadata") or {}).get("continue") or "")


def _encode(body: object) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return orjson.dumps(body)


def _decode_object(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.TransportError(f"the server returned a body that is not JSON: {body[:200]!r}") from exc
    if not isinstance(decoded, dict):
        raise errors.TransportError(f"the server returned JSON that is not an object: {body[:200]!r}")
    return decoded


def _retry_delay(resp: wire.Response) -> float | None:
    if resp.status != 429:
        return None
    value = resp.headers.get("retry-after", "").strip()
    if not value.isdigit():
        return None
    return float(value)


async def _discard(resp: wire.Response) -> None:
    if resp.stream is not None:
        await _close_stream(resp.stream)


async def _close_stream(stream: AsyncIterator[bytes]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


async def _single(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def _decode_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[dict[str, Any]]:
    """Split the byte stream on newlines and decode each line as one watch event.

    A chunk that is itself a line the in-process API server shared (:data:`kubeds.wire.SHARED_LINES`:
    the same ``bytes`` object every in-process watcher receives) yields the one shared decode of it,
    which is read-only like every informer object.
    """
    buffer = b""
    shared = wire.SHARED_LINES
    async for chunk in chunks:
        if not buffer:
            event = shared.decode(chunk, _event)
            if event is not None:
                yield event
                continue
        buffer += chunk
        while (cut := buffer.find(b"\n")) >= 0:
            line, buffer = buffer[:cut], buffer[cut + 1 :]
            if line.strip():
                yield _event(line)
    if buffer.strip():
        yield _event(buffer)


def _event(line: bytes) -> dict[str, Any]:
    event = _decode_object(line)
    if "type" not in event or not isinstance(event.get("object"), dict):
        raise errors.TransportError(f"malformed watch event: {line[:200]!r}")
    if event["type"] == WATCH_ERROR:
        raise errors.error_from_status(event["object"])
    return event
