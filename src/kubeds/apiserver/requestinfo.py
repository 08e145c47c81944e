"""Parse a request path into a :class:`RequestInfo`, as upstream's request-info resolver does.

Mirrors ``k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`` (``RequestInfoFactory.NewRequestInfo``):

* ``/api/v1/...`` is the core group, ``/apis/<group>/<version>/...`` any other group;
* a leading ``watch`` segment (the deprecated ``/api/v1/watch/pods`` form) makes the verb ``watch``;
* ``namespaces/<ns>/<resource>/...`` scopes the request to a namespace, except for the namespace
  subresources ``status`` and ``finalize`` (``namespaces/<ns>/status`` is the namespace itself);
* the verb comes from the HTTP method: GET is ``get`` (``list`` without a name, ``watch`` with
  ``?watch=true``), POST ``create``, PUT ``update``, PATCH ``patch``, DELETE ``delete``
  (``deletecollection`` without a name);
* anything else (``/version``, ``/healthz``, ``/openapi/v3``) is a non-resource request whose verb
  is the lower-cased method.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["RequestInfo", "parse_request_info"]

API_PREFIXES = ("api", "apis")
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_METHOD_VERBS = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}
_TRUE = frozenset({"true", "1"})


@dataclass(frozen=True)
class RequestInfo:
    is_resource: bool
    path: str
    verb: str
    api_prefix: str = ""
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()

    @property
    def group_version_path(self) -> bool:
        """True for ``/api``, ``/apis``, ``/api/v1`` and ``/apis/<g>[/<v>]`` (discovery documents)."""
        return not self.resource


def _non_resource(method: str, path: str) -> RequestInfo:
    return RequestInfo(is_resource=False, path=path, verb=method.lower())


def parse_request_info(method: str, path: str, query: dict[str, list[str]] | None = None) -> RequestInfo:
    """Resolve ``method`` + ``path`` (+ the ``watch`` query parameter) into a RequestInfo."""
    query = query or {}
    method = method.upper()
    segments = [s for s in path.strip("/").split("/")] if path.strip("/") else []
    if not segments or segments[0] not in API_PREFIXES:
        return _non_resource(method, path)
    prefix = segments[0]
    rest = segments[1:]
    group = ""
    if prefix == "apis":
        if not rest:
            return RequestInfo(is_resource=False, path=path, verb=method.lower(), api_prefix=prefix)
        group, rest = rest[0], rest[1:]
    if not rest:
        return RequestInfo(is_resource=False, path=path, verb=method.lower(), api_prefix=prefix, group=group)
    version, rest = rest[0], rest[1:]
    if not rest:
        return RequestInfo(
            is_resource=False, path=path, verb=method.lower(), api_prefix=prefix, group=group, version=version
        )

    verb = _METHOD_VERBS.get(method, method.lower())
    if rest[0] == "watch":
        verb = "watch"
        rest = rest[1:]

    namespace = ""
    if rest and rest[0] == "namespaces":
        if len(rest) > 1:
            namespace = rest[1]
            if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
                rest = rest[2:]

    resource = rest[0] if rest else ""
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""

    if verb in ("get", "list") and (query.get("watch") or [""])[0].lower() in _TRUE:
        verb = "watch"
    if not name and verb == "get":
        verb = "list"
    if not name and verb == "delete":
        verb = "deletecollection"

    return RequestInfo(
        is_resource=True,
        path=path,
        verb=verb,
        api_prefix=prefix,
        group=group,
        version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
        parts=tuple(rest),
    )
