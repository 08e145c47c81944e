"""The API server pipeline: ``APIServer.handle(Request) -> Response``.

Mirrors the handler chain of ``k8s.io/apiserver/pkg/server`` (``DefaultBuildHandlerChain``) and
the route table ``k8s.io/apiserver/pkg/endpoints/installer.go`` builds, minus authentication
(done by the HTTP adapter, :mod:`.http`, which sets ``Request.user``):

* request info (:mod:`.requestinfo`), body limit (413 above 3 MiB, upstream's
  ``maxRequestBodyBytes``), metrics and in-flight accounting (:mod:`.metrics`);
* non-resource paths: ``/version``, ``/healthz``/``/livez``/``/readyz``, ``/metrics``,
  ``/openapi/v2``/``/openapi/v3[/...]``, discovery (``/api``, ``/apis`` aggregated or legacy by
  Accept, ``/api/v1``, ``/apis/<g>[/<v>]``);
* resource paths: routed by verb and subresource to :mod:`.verbs` and :mod:`.subresources`.

Every failure is a ``Status``: :class:`~kubeds.apiserver.errors.StatusError` as raised, anything
else a logged 500 ``InternalError`` (never a traceback in the body).
"""

from __future__ import annotations

import logging
from typing import Any

from kubeds.apiserver import codec, errors, subresources
from kubeds.apiserver.admission import DefaultAdmission
from kubeds.apiserver.bootstrap import bootstrap
from kubeds.apiserver.metrics import Metrics
from kubeds.apiserver.namespaces import NamespaceDeleter
from kubeds.apiserver.requestinfo import RequestInfo, parse_request_info
from kubeds.apiserver.resources import RESOURCES, lookup, storage_prefix
from kubeds.apiserver.store import Store
from kubeds.apiserver.verbs import Call, json_response
from kubeds.apiserver.watch import BOOKMARK_INTERVAL
from kubeds.clock import Clock
from kubeds.storage.interface import Backend
from kubeds.wire import Request, Response

__all__ = ["APIServer"]

log = logging.getLogger(__name__)

HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
OPENAPI_V2_PATHS = ("/openapi/v2", "/swagger-2.0.0.pb-v1")
OCTET_STREAM = "application/octet-stream"
READ_ONLY_VERBS = ("get", "list", "watch")
MSG_INTERNAL = "an unexpected error occurred; see the server log"


def _status_response(exc: errors.StatusError) -> Response:
    resp = json_response(exc.code, exc.status())
    if exc.retry_after:
        resp.headers["retry-after"] = str(exc.retry_after)
    return resp


def _text(body: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(200, {"content-type": content_type}, body.encode())


class APIServer:
    def __init__(
        self,
        backend: Backend,
        *,
        clock: Clock,
        pki: Any = None,
        server_address: str = "",
        bookmark_interval: float = BOOKMARK_INTERVAL,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.pki = pki
        self.server_address = server_address
        self.bookmark_interval = bookmark_interval
        self.store = Store(backend, clock=clock)
        self.store.admission = DefaultAdmission(self.store)
        self.namespaces = NamespaceDeleter(self.store, clock=clock)
        self.metrics = Metrics()

    async def start(self) -> None:
        """Create the system namespaces and priority classes; resume namespace deletions."""
        await bootstrap(self.store)
        await self.namespaces.resume()

    async def close(self) -> None:
        await self.namespaces.close()

    # ---- pipeline -----------------------------------------------------------------------------
    async def handle(self, req: Request) -> Response:
        started = self.clock.monotonic()
        info = parse_request_info(req.method, req.path, req.query)
        kind = "readOnly" if info.verb in READ_ONLY_VERBS else "mutating"
        self.metrics.inflight[kind] += 1
        try:
            if len(req.body) > errors.MAX_BODY_BYTES:
                raise errors.request_entity_too_large()
            resp = await self._dispatch(req, info)
        except errors.StatusError as exc:
            resp = _status_response(exc)
        except Exception:
            log.exception("internal error serving %s %s", req.method, req.path)
            resp = _status_response(errors.internal(MSG_INTERNAL))
        finally:
            self.metrics.inflight[kind] -= 1
        verb = info.verb.upper() if info.is_resource else req.method.upper()
        verb = {"GET": "GET", "LIST": "LIST", "WATCH": "WATCH"}.get(verb, verb)
        self.metrics.observe(
            verb=verb, resource=info.resource, code=resp.status, seconds=self.clock.monotonic() - started
        )
        return resp

    async def _dispatch(self, req: Request, info: RequestInfo) -> Response:
        if not info.is_resource:
            return await self._non_resource(req, info)
        resource = lookup(info.group, info.version, info.resource)
        if resource is None:
            raise errors.resource_not_found()
        if resource.namespaced:
            if not info.namespace and info.verb not in ("list", "watch", "deletecollection"):
                raise errors.resource_not_found()
        elif info.namespace and not (resource.plural == "namespaces" and info.group == ""):
            raise errors.resource_not_found()
        call = Call(self, req, info, resource)
        sub = info.subresource
        verb = info.verb
        if not sub:
            if verb == "get":
                return await call.get()
            if verb == "list":
                return await call.list()
            if verb == "watch":
                return await call.watch()
            if verb == "create" and not info.name:
                return await call.create()
            if verb == "update" and info.name:
                return await call.update()
            if verb == "patch" and info.name:
                return await call.patch()
            if verb == "delete":
                return await call.delete()
            if verb == "deletecollection" and "deletecollection" in resource.verbs:
                return await call.delete_collection()
            raise errors.method_not_supported(resource.group, resource.plural, verb)
        if resource.subresource(sub) is None:
            raise errors.resource_not_found()
        if sub == "status":
            if verb == "get":
                return await call.get()
            if verb == "update":
                return await call.update(subresource="status")
            if verb == "patch":
                return await call.patch(subresource="status")
        elif sub == "binding" and verb == "create":
            return await subresources.bind(call)
        elif sub == "eviction" and verb == "create":
            return await subresources.evict(call)
        elif sub == "scale":
            return await subresources.scale(call, resource)
        raise errors.method_not_supported(resource.group, f"{resource.plural}/{sub}", verb)

    # ---- non-resource endpoints ---------------------------------------------------------------
    async def _non_resource(self, req: Request, info: RequestInfo) -> Response:
        from kubeds.apiserver import discovery, openapi

        path = "/" + req.path.strip("/")
        if req.method.upper() not in ("GET", "HEAD"):
            if path in ("/version", "/metrics", "/api", "/apis") or path.startswith(("/openapi", "/healthz")):
                raise errors.StatusError(
                    405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
                )
            raise errors.resource_not_found()
        if path == "/version":
            return json_response(200, discovery.version_info())
        if path in HEALTH_PATHS or path.startswith(tuple(p + "/" for p in HEALTH_PATHS)):
            return _text("ok")
        if path == "/metrics":
            return _text(self.metrics.render(await self._storage_counts()), "text/plain; version=0.0.4")
        if path in OPENAPI_V2_PATHS:
            return Response(200, {"content-type": OCTET_STREAM}, openapi.v2_protobuf())
        if path == "/openapi/v3":
            return json_response(200, openapi.v3_root())
        if path.startswith("/openapi/v3/"):
            gv = openapi.v3_lookup(path[len("/openapi/v3/") :])
            doc = openapi.v3_document_bytes(*gv) if gv else None
            if doc is None:
                raise errors.resource_not_found()
            return Response(200, {"content-type": codec.JSON}, doc)
        if path in ("/api", "/apis"):
            root = path[1:]
            version = discovery.negotiate_aggregated(req.headers.get("accept", ""))
            if version:
                content_type, body = discovery.aggregated(root, version)
                return Response(200, {"content-type": content_type, "vary": "Accept"}, body)
            if root == "api":
                return json_response(200, discovery.legacy_api_versions(self.server_address))
            return json_response(200, discovery.legacy_group_list())
        if info.api_prefix and info.version:
            resources = discovery.resource_list(info.group, info.version)
            if resources is None:
                raise errors.resource_not_found()
            return json_response(200, resources)
        if info.api_prefix == "apis" and info.group:
            for group in discovery.legacy_group_list().get("groups", []):
                if group.get("name") == info.group:
                    return json_response(200, {"kind": "APIGroup", "apiVersion": "v1", **group})
        if path == "/":
            paths = sorted(
                {
                    "/api",
                    "/api/v1",
                    "/apis",
                    "/healthz",
                    "/livez",
                    "/metrics",
                    "/openapi/v2",
                    "/openapi/v3",
                    "/readyz",
                    "/version",
                }
                | {f"/apis/{r.group}/{r.version}" for r in RESOURCES if r.group}
                | {f"/apis/{r.group}" for r in RESOURCES if r.group}
            )
            return json_response(200, {"paths": paths})
        raise errors.resource_not_found()

    async def _storage_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for resource in RESOURCES:
            counts[resource.group_resource] = await self.backend.count(storage_prefix(resource))
        return counts
