"""Discovery documents and ``/version``, all derived from the resource catalogue.

kubectl and client-go learn what the server serves from three shapes, built here as plain dicts:

* aggregated discovery (``GET /api`` and ``/apis`` with an ``as=APIGroupDiscoveryList`` Accept):
  one ``apidiscovery.k8s.io/v2`` (or ``v2beta1``) ``APIGroupDiscoveryList`` for every group, with
  resources, subresources, verbs, short names and categories. The reply's Content-Type must carry
  the ``g=…;v=…;as=APIGroupDiscoveryList`` parameters or kubectl ignores the body. Mirrors
  upstream ``staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated/handler.go``
  (negotiation and serving) and ``…/endpoints/installer.go`` ``ConvertGroupVersionIntoToDiscovery``
  (subresources folded into their parent, ``responseKind`` from the subresource's own GVK).
* legacy discovery: ``APIVersions`` (``/api``), ``APIGroupList`` (``/apis``) and one
  ``APIResourceList`` per group version (``/api/v1``, ``/apis/<g>/<v>``); subresources appear as
  ``pods/eviction`` rows. Mirrors ``…/endpoints/discovery/{legacy,root,version}.go`` and the
  installer, which sorts resource paths, sorts verbs and emits ``storageVersionHash`` (the first
  8 bytes of sha256("<group>/<version>/<kind>"), base64; ``…/endpoints/discovery/storageversionhash.go``).
  drain reads ``GET /api/v1`` directly to find ``pods/eviction`` (group policy, version v1).
* ``/version``: kubeds reports itself as Kubernetes **v1.32.0** (the release most of
  ``kubectl-wire.md`` was recorded against), with that release's commit, build date and Go
  version, so kubectl's version-skew warning behaves as against a real 1.32 server.
  Mirrors ``staging/src/k8s.io/apimachinery/pkg/version/types.go`` (``version.Info``).

Everything is static (the catalogue does not change at run time); callers get fresh dicts.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from kubeds.apiserver.resources import GROUP_ORDER, RESOURCES, Resource, Subresource, by_group_version

__all__ = [
    "AGGREGATED_VERSIONS",
    "SERVER_GIT_VERSION",
    "aggregated",
    "aggregated_content_type",
    "aggregated_list",
    "legacy_api_versions",
    "legacy_group_list",
    "negotiate_aggregated",
    "resource_list",
    "storage_version_hash",
    "version_info",
]

SERVER_MAJOR = "1"
SERVER_MINOR = "32"
SERVER_GIT_VERSION = "v1.32.0"
SERVER_GIT_COMMIT = "70d3cc986aa8221cd1dfb1121852688902d3bf53"
SERVER_BUILD_DATE = "2024-12-11T17:59:15Z"
SERVER_GO_VERSION = "go1.23.3"
SERVER_PLATFORM = "linux/amd64"

DISCOVERY_GROUP = "apidiscovery.k8s.io"
DISCOVERY_LIST_KIND = "APIGroupDiscoveryList"
AGGREGATED_VERSIONS = ("v2", "v2beta1")
FRESHNESS_CURRENT = "Current"
SCOPE_NAMESPACED = "Namespaced"
SCOPE_CLUSTER = "Cluster"
ROOT_CORE = "api"
ROOT_GROUPS = "apis"
ALL_CLIENT_CIDR = "0.0.0.0/0"

MSG_UNKNOWN_ROOT = "unknown discovery root {root!r}: expected 'api' or 'apis'"
MSG_UNKNOWN_VERSION = "unknown aggregated discovery version {version!r}"

# Media types a plain (legacy) discovery answer satisfies.
_LEGACY_MEDIA_TYPES = frozenset({"application/json", "application/*", "*/*"})


# ---------------------------------------------------------------------------------------------
# Content negotiation


def aggregated_content_type(version: str) -> str:
    """``application/json;g=apidiscovery.k8s.io;v=<version>;as=APIGroupDiscoveryList``."""
    return f"application/json;g={DISCOVERY_GROUP};v={version};as={DISCOVERY_LIST_KIND}"


def _parse_accept(accept: str) -> list[tuple[str, dict[str, str]]]:
    """Accept clauses as ``(media type, params)``, best first: by ``q`` (stable), then concrete
    types before wildcards, as goautoneg orders them. ``q=0`` clauses are dropped."""
    clauses: list[tuple[float, int, int, str, dict[str, str]]] = []
    for index, clause in enumerate(accept.split(",")):
        parts = [p.strip() for p in clause.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        for part in parts[1:]:
            key, sep, value = part.partition("=")
            if sep:
                params[key.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 1.0
        if q <= 0:
            continue
        wildcards = media.count("*")
        clauses.append((-q, wildcards, index, media, params))
    clauses.sort()
    return [(media, params) for _, _, _, media, params in clauses]


def negotiate_aggregated(accept: str) -> str | None:
    """``"v2"``/``"v2beta1"`` when the best acceptable Accept clause asks for aggregated discovery.

    Clauses are tried in preference order; the first one the server can produce wins: an
    aggregated JSON clause for a known version returns that version, a plain JSON or wildcard
    clause means legacy discovery (``None``). Anything else (protobuf, unknown versions, Table…)
    is skipped, as upstream's ``NegotiateMediaTypeOptions`` does.
    """
    for media, params in _parse_accept(accept):
        if media != "application/json" and media not in _LEGACY_MEDIA_TYPES:
            continue
        if params.get("g") or params.get("v") or params.get("as"):
            if (
                media == "application/json"
                and params.get("g") == DISCOVERY_GROUP
                and params.get("as") == DISCOVERY_LIST_KIND
                and params.get("v") in AGGREGATED_VERSIONS
            ):
                return params["v"]
            continue
        return None
    return None


# ---------------------------------------------------------------------------------------------
# Shared helpers


def storage_version_hash(group: str, version: str, kind: str) -> str:
    """Upstream ``discovery.StorageVersionHash``: base64 of the first 8 bytes of a sha256."""
    digest = hashlib.sha256(f"{group}/{version}/{kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode("ascii")


def _group_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def _group_versions(group: str) -> list[str]:
    """The versions a group serves, in preference order (catalogue order)."""
    return list(dict.fromkeys(r.version for r in RESOURCES if r.group == group))


def _sub_gvk(parent: Resource, sub: Subresource) -> dict[str, str]:
    return {
        "group": parent.group if sub.group is None else sub.group,
        "version": parent.version if sub.version is None else sub.version,
        "kind": sub.kind,
    }


# ---------------------------------------------------------------------------------------------
# Aggregated discovery


def _aggregated_resource(resource: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": resource.plural,
        "responseKind": {"group": resource.group, "version": resource.version, "kind": resource.kind},
        "scope": SCOPE_NAMESPACED if resource.namespaced else SCOPE_CLUSTER,
        "singularResource": resource.singular,
        "verbs": sorted(resource.verbs),
    }
    if resource.short_names:
        entry["shortNames"] = list(resource.short_names)
    if resource.categories:
        entry["categories"] = list(resource.categories)
    subs = sorted(resource.subresources, key=lambda s: s.name)
    if subs:
        entry["subresources"] = [
            {"subresource": s.name, "responseKind": _sub_gvk(resource, s), "verbs": sorted(s.verbs)}
            for s in subs
        ]
    return entry


def _aggregated_group(group: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": group} if group else {}
    metadata["creationTimestamp"] = None
    versions = []
    for version in _group_versions(group):
        resources = sorted(by_group_version(group, version), key=lambda r: r.plural)
        versions.append(
            {
                "version": version,
                "resources": [_aggregated_resource(r) for r in resources],
                "freshness": FRESHNESS_CURRENT,
            }
        )
    return {"metadata": metadata, "versions": versions}


def aggregated_list(root: str, version: str) -> dict[str, Any]:
    """The ``APIGroupDiscoveryList`` for ``/api`` (the core group) or ``/apis`` (all others)."""
    if version not in AGGREGATED_VERSIONS:
        raise ValueError(MSG_UNKNOWN_VERSION.format(version=version))
    if root == ROOT_CORE:
        groups = [g for g in GROUP_ORDER if g == ""]
    elif root == ROOT_GROUPS:
        groups = [g for g in GROUP_ORDER if g != ""]
    else:
        raise ValueError(MSG_UNKNOWN_ROOT.format(root=root))
    return {
        "kind": DISCOVERY_LIST_KIND,
        "apiVersion": f"{DISCOVERY_GROUP}/{version}",
        "metadata": {},
        "items": [_aggregated_group(g) for g in groups],
    }


def aggregated(root: str, version: str) -> tuple[str, bytes]:
    """``(Content-Type, body)`` of the aggregated discovery reply for root ``api`` or ``apis``."""
    body = json.dumps(aggregated_list(root, version), separators=(",", ":")).encode()
    return aggregated_content_type(version), body


# ---------------------------------------------------------------------------------------------
# Legacy discovery


def legacy_api_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``: the core group's versions and the address clients should use."""
    return {
        "kind": "APIVersions",
        "versions": _group_versions(""),
        "serverAddressByClientCIDRs": [{"clientCIDR": ALL_CLIENT_CIDR, "serverAddress": server_address}],
    }


def _legacy_group(group: str) -> dict[str, Any]:
    versions = [{"groupVersion": _group_version(group, v), "version": v} for v in _group_versions(group)]
    return {"name": group, "versions": versions, "preferredVersion": dict(versions[0])}


def legacy_group_list() -> dict[str, Any]:
    """``GET /apis``: every named group with its versions and preferred version."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_legacy_group(g) for g in GROUP_ORDER if g],
    }


def _legacy_resources(resource: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": resource.plural,
        "singularName": resource.singular,
        "namespaced": resource.namespaced,
        "kind": resource.kind,
        "verbs": sorted(resource.verbs),
    }
    if resource.short_names:
        main["shortNames"] = list(resource.short_names)
    if resource.categories:
        main["categories"] = list(resource.categories)
    main["storageVersionHash"] = storage_version_hash(resource.group, resource.version, resource.kind)
    rows = [main]
    for sub in resource.subresources:
        row: dict[str, Any] = {
            "name": f"{resource.plural}/{sub.name}",
            "singularName": "",
            "namespaced": resource.namespaced,
        }
        # Upstream sets group/version only when the subresource names a GVK of its own.
        if sub.group is not None:
            row["group"] = sub.group
        if sub.version is not None:
            row["version"] = sub.version
        row["kind"] = sub.kind
        row["verbs"] = sorted(sub.verbs)
        rows.append(row)
    return rows


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``/apis/<group>/<version>``: the ``APIResourceList``, or ``None``."""
    resources = by_group_version(group, version)
    if not resources:
        return None
    rows = [row for r in resources for row in _legacy_resources(r)]
    rows.sort(key=lambda row: row["name"])  # the installer registers paths in sorted order
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": _group_version(group, version),
        "resources": rows,
    }


# ---------------------------------------------------------------------------------------------
# /version


def version_info() -> dict[str, str]:
    """``GET /version``: a ``version.Info`` for Kubernetes v1.32.0."""
    return {
        "major": SERVER_MAJOR,
        "minor": SERVER_MINOR,
        "gitVersion": SERVER_GIT_VERSION,
        "gitCommit": SERVER_GIT_COMMIT,
        "gitTreeState": "clean",
        "buildDate": SERVER_BUILD_DATE,
        "goVersion": SERVER_GO_VERSION,
        "compiler": "gc",
        "platform": SERVER_PLATFORM,
    }
