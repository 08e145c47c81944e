"""OpenAPI documents: the v3 root, one v3 document per group version, and the v2 protobuf.

kubectl only reads OpenAPI to decide *how* to validate (``apply``, ``create``; see
``kubectl-wire.md`` §2.5): it looks for the PATCH operation tagged with the object's
``x-kubernetes-group-version-kind`` and checks whether it lists a ``fieldValidation`` query
parameter (``staging/src/k8s.io/cli-runtime/pkg/resource/query_param_verifier_v3.go`` and the v2
``query_param_verifier.go``). The verifier stops at the *first* PATCH operation with a matching
GVK, so every PATCH here (status and scale subresources too) carries the same parameters.

The documents therefore describe the paths and operations of every catalogue resource the way
the upstream installer registers them (``staging/src/k8s.io/apiserver/pkg/endpoints/installer.go``:
collection, item, all-namespaces list and subresource paths; operation ids such as
``patchAppsV1NamespacedDaemonSet``; ``x-kubernetes-action``; the query parameters of each verb),
but ``components.schemas`` is left empty on purpose: when kubectl finds no schema for a GVK it
computes strategic merge patches from its compiled-in types, which is exactly right, whereas a
partial schema would make it compute wrong patches. ``components`` itself must be present, or
kubectl warns "OpenAPI V3 Components is nil" during apply.

``/openapi/v3`` lists each document under ``serverRelativeURL`` with ``?hash=<sha512 of the
document bytes, upper-case hex>``, as ``k8s.io/kube-openapi/pkg/handler3`` does; the hash is
stable because the documents are built deterministically from the static catalogue.

``/openapi/v2`` (kubectl 1.27/1.28, and a fallback for later versions) is the same information
as a gnostic ``openapi.v2.Document`` protobuf (field numbers from google/gnostic
``openapiv2/OpenAPIv2.proto``), encoded with :mod:`kubeds.apiserver.protobuf`. Serve it as
``application/octet-stream``: kubectl rejects the echoed ``…spec.v2@v1.0+protobuf`` type.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any

from kubeds.apiserver import protobuf as pb
from kubeds.apiserver.discovery import SERVER_GIT_VERSION
from kubeds.apiserver.resources import RESOURCES, Resource, Subresource, by_group_version

__all__ = [
    "GVK_EXTENSION",
    "V2_CONTENT_TYPE",
    "V3_CONTENT_TYPE",
    "group_versions",
    "v2_protobuf",
    "v3_document",
    "v3_document_bytes",
    "v3_hash",
    "v3_lookup",
    "v3_path_key",
    "v3_root",
]

V3_CONTENT_TYPE = "application/json"
V2_CONTENT_TYPE = "application/octet-stream"
OPENAPI_V3_VERSION = "3.0.0"
SWAGGER_VERSION = "2.0"
TITLE = "Kubernetes"
GVK_EXTENSION = "x-kubernetes-group-version-kind"
ACTION_EXTENSION = "x-kubernetes-action"
V3_PREFIX = "/openapi/v3/"

_PATCH_CONTENT_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

# name -> (schema type, description). Descriptions are short summaries of upstream's.
_QUERY_PARAMS: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": ("boolean", "Ask for BOOKMARK events on a watch."),
    "continue": ("string", "Continue token returned by a previous chunked list call."),
    "dryRun": ("string", "When 'All', run every stage of the request but persist nothing."),
    "fieldManager": ("string", "Name of the actor making the change, recorded in managedFields."),
    "fieldSelector": ("string", "Restrict the results by the values of fields."),
    "fieldValidation": (
        "string",
        "How to treat unknown or duplicate fields in the body: Ignore, Warn or Strict.",
    ),
    "force": ("boolean", "Apply requests only: take ownership of fields owned by other managers."),
    "gracePeriodSeconds": ("integer", "Seconds before the object is deleted; 0 deletes at once."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean",
        "Delete an object that cannot be read from storage (unsafe).",
    ),
    "labelSelector": ("string", "Restrict the results by their labels."),
    "limit": ("integer", "Maximum number of items a list call returns."),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy."),
    "pretty": ("string", "If 'true', indent the output."),
    "propagationPolicy": ("string", "Garbage collection of dependents: Orphan, Background or Foreground."),
    "resourceVersion": ("string", "Which version of the data a list or watch is served from."),
    "resourceVersionMatch": ("string", "How resourceVersion applies to a list call."),
    "sendInitialEvents": ("boolean", "Start a watch with synthetic events for the current state."),
    "timeoutSeconds": ("integer", "Duration limit of a list or watch call."),
    "watch": ("boolean", "Stream changes instead of returning a list."),
}

LIST_PARAMS = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)
WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")
PATCH_PARAMS = (*WRITE_PARAMS, "force")
DELETE_PARAMS = (
    "dryRun",
    "gracePeriodSeconds",
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "orphanDependents",
    "propagationPolicy",
)
DELETECOLLECTION_PARAMS = tuple(sorted({*LIST_PARAMS, *DELETE_PARAMS} - {"allowWatchBookmarks", "watch"}))

_RESPONSES: dict[str, dict[str, str]] = {
    "200": {"description": "OK"},
    "201": {"description": "Created"},
    "202": {"description": "Accepted"},
    "401": {"description": "Unauthorized"},
}
_RESPONSE_CODES = {
    "get": ("200", "401"),
    "list": ("200", "401"),
    "put": ("200", "201", "401"),
    "patch": ("200", "201", "401"),
    "post": ("200", "201", "202", "401"),
    "delete": ("200", "202", "401"),
    "deletecollection": ("200", "401"),
}

# A subresource verb -> (HTTP method, operation-id verb, x-kubernetes-action).
_SUB_VERBS = {
    "get": ("get", "read", "get"),
    "update": ("put", "replace", "put"),
    "patch": ("patch", "patch", "patch"),
    "create": ("post", "create", "post"),
}


# ---------------------------------------------------------------------------------------------
# Naming


def group_versions() -> list[tuple[str, str]]:
    """Every served ``(group, version)``, core first, in catalogue order."""
    return list(dict.fromkeys((r.group, r.version) for r in RESOURCES))


def v3_path_key(group: str, version: str) -> str:
    """The key of a group version in the v3 root: ``api/v1`` or ``apis/apps/v1``."""
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _api_prefix(group: str, version: str) -> str:
    return "/" + v3_path_key(group, version)


def _camel_group(group: str) -> str:
    """``coordination.k8s.io`` -> ``Coordination``; the core group is ``Core``."""
    name = group.removesuffix(".k8s.io") if group else "core"
    return "".join(part[:1].upper() + part[1:] for part in name.split("."))


def _op_token(group: str, version: str) -> str:
    return _camel_group(group) + version[:1].upper() + version[1:]


def _tag(group: str, version: str) -> str:
    camel = _camel_group(group)
    return f"{camel[:1].lower()}{camel[1:]}_{version}"


# ---------------------------------------------------------------------------------------------
# v3 building blocks


def _query_param(name: str) -> dict[str, Any]:
    kind, description = _QUERY_PARAMS[name]
    return {
        "name": name,
        "in": "query",
        "description": description,
        "schema": {"type": kind, "uniqueItems": True},
    }


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "description": description,
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }


def _path_level_params(kind: str, *, namespaced: bool, named: bool) -> list[dict[str, Any]]:
    params = []
    if named:
        params.append(_path_param("name", f"name of the {kind}"))
    if namespaced:
        params.append(_path_param("namespace", "object name and auth scope, such as for teams and projects"))
    params.append(_query_param("pretty"))
    return params


def _operation(
    op_id: str,
    *,
    action: str,
    gvk: dict[str, str],
    tag: str,
    params: tuple[str, ...] = (),
    body_types: tuple[str, ...] = (),
    body_required: bool = True,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "tags": [tag],
        "description": f"{action} {gvk['kind']}",
        "operationId": op_id,
    }
    if params:
        op["parameters"] = [_query_param(p) for p in params]
    if body_types:
        op["requestBody"] = {
            "content": {t: {"schema": {"type": "object"}} for t in body_types},
            "required": body_required,
        }
    op["responses"] = {code: dict(_RESPONSES[code]) for code in _RESPONSE_CODES[action]}
    op[ACTION_EXTENSION] = action
    op[GVK_EXTENSION] = dict(gvk)
    return op


def _sub_gvk(parent: Resource, sub: Subresource) -> dict[str, str]:
    return {
        "group": parent.group if sub.group is None else sub.group,
        "version": parent.version if sub.version is None else sub.version,
        "kind": sub.kind,
    }


def _resource_paths(r: Resource) -> dict[str, dict[str, Any]]:
    """All paths of one resource, as the upstream installer registers them."""
    prefix = _api_prefix(r.group, r.version)
    token = _op_token(r.group, r.version)
    tag = _tag(r.group, r.version)
    scoped = ("Namespaced" if r.namespaced else "") + r.kind
    gvk = {"group": r.group, "version": r.version, "kind": r.kind}
    verbs = set(r.verbs)
    base = f"{prefix}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{prefix}/{r.plural}"
    item = f"{base}/{{name}}"
    paths: dict[str, dict[str, Any]] = {}

    coll: dict[str, Any] = {}
    if "list" in verbs:
        coll["get"] = _operation(f"list{token}{scoped}", action="list", gvk=gvk, tag=tag, params=LIST_PARAMS)
    if "create" in verbs:
        coll["post"] = _operation(
            f"create{token}{scoped}",
            action="post",
            gvk=gvk,
            tag=tag,
            params=WRITE_PARAMS,
            body_types=("*/*",),
        )
    if "deletecollection" in verbs:
        coll["delete"] = _operation(
            f"deletecollection{token}{scoped}",
            action="deletecollection",
            gvk=gvk,
            tag=tag,
            params=DELETECOLLECTION_PARAMS,
            body_types=("*/*",),
            body_required=False,
        )
    if coll:
        coll["parameters"] = _path_level_params(r.kind, namespaced=r.namespaced, named=False)
        paths[base] = coll

    one: dict[str, Any] = {}
    if "get" in verbs:
        one["get"] = _operation(f"read{token}{scoped}", action="get", gvk=gvk, tag=tag)
    if "update" in verbs:
        one["put"] = _operation(
            f"replace{token}{scoped}",
            action="put",
            gvk=gvk,
            tag=tag,
            params=WRITE_PARAMS,
            body_types=("*/*",),
        )
    if "delete" in verbs:
        one["delete"] = _operation(
            f"delete{token}{scoped}",
            action="delete",
            gvk=gvk,
            tag=tag,
            params=DELETE_PARAMS,
            body_types=("*/*",),
            body_required=False,
        )
    if "patch" in verbs:
        one["patch"] = _operation(
            f"patch{token}{scoped}",
            action="patch",
            gvk=gvk,
            tag=tag,
            params=PATCH_PARAMS,
            body_types=_PATCH_CONTENT_TYPES,
        )
    if one:
        one["parameters"] = _path_level_params(r.kind, namespaced=r.namespaced, named=True)
        paths[item] = one

    if r.namespaced and "list" in verbs:
        paths[f"{prefix}/{r.plural}"] = {
            "get": _operation(
                f"list{token}{r.kind}ForAllNamespaces", action="list", gvk=gvk, tag=tag, params=LIST_PARAMS
            ),
            "parameters": [_query_param("pretty")],
        }

    for sub in sorted(r.subresources, key=lambda s: s.name):
        sub_gvk = _sub_gvk(r, sub)
        suffix = sub.name[:1].upper() + sub.name[1:]
        ops: dict[str, Any] = {}
        for verb in sub.verbs:
            if verb not in _SUB_VERBS:
                continue
            method, id_verb, action = _SUB_VERBS[verb]
            params: tuple[str, ...] = ()
            body: tuple[str, ...] = ()
            if method == "patch":
                params, body = PATCH_PARAMS, _PATCH_CONTENT_TYPES
            elif method in ("put", "post"):
                params, body = WRITE_PARAMS, ("*/*",)
            ops[method] = _operation(
                f"{id_verb}{token}{scoped}{suffix}",
                action=action,
                gvk=sub_gvk,
                tag=tag,
                params=params,
                body_types=body,
            )
        if ops:
            ops["parameters"] = _path_level_params(r.kind, namespaced=r.namespaced, named=True)
            paths[f"{item}/{sub.name}"] = ops
    return paths


def _build_v3(group: str, version: str) -> dict[str, Any] | None:
    resources = by_group_version(group, version)
    if not resources:
        return None
    paths: dict[str, dict[str, Any]] = {}
    for r in sorted(resources, key=lambda r: r.plural):
        paths.update(_resource_paths(r))
    return {
        "openapi": OPENAPI_V3_VERSION,
        "info": {"title": TITLE, "version": SERVER_GIT_VERSION},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": {},
            "securitySchemes": {
                "BearerToken": {
                    "type": "apiKey",
                    "description": "Bearer Token authentication",
                    "name": "authorization",
                    "in": "header",
                }
            },
        },
    }


# ---------------------------------------------------------------------------------------------
# v3 public API


@functools.cache
def v3_document_bytes(group: str, version: str) -> bytes | None:
    """The serialised per-GV document served at ``/openapi/v3/<key>``, or ``None``."""
    doc = _build_v3(group, version)
    if doc is None:
        return None
    return json.dumps(doc, separators=(",", ":")).encode()


def v3_document(group: str, version: str) -> dict[str, Any] | None:
    """The per-GV OpenAPI v3 document (a fresh dict), or ``None`` for an unknown group version."""
    data = v3_document_bytes(group, version)
    return None if data is None else dict(json.loads(data))


def v3_hash(group: str, version: str) -> str | None:
    """The ``hash=`` of a GV document: upper-case hex sha512 of its bytes, as kube-openapi."""
    data = v3_document_bytes(group, version)
    return None if data is None else hashlib.sha512(data).hexdigest().upper()


def v3_root() -> dict[str, Any]:
    """``GET /openapi/v3``: where each group version's document lives."""
    paths: dict[str, Any] = {}
    for group, version in group_versions():
        key = v3_path_key(group, version)
        paths[key] = {"serverRelativeURL": f"{V3_PREFIX}{key}?hash={v3_hash(group, version)}"}
    return {"paths": paths}


# ---------------------------------------------------------------------------------------------
# v2 protobuf (gnostic openapi.v2.Document)

# Document
_DOC_SWAGGER, _DOC_INFO, _DOC_PATHS = 1, 2, 8
_INFO_TITLE, _INFO_VERSION = 1, 2
_PATHS_PATH = 2
_NAMED_NAME, _NAMED_VALUE = 1, 2  # NamedPathItem, NamedAny, NamedResponseValue
_PATH_ITEM_METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "patch": 8}
_PATH_ITEM_PARAMETERS = 9
_OP_TAGS, _OP_DESCRIPTION, _OP_ID, _OP_PARAMETERS, _OP_RESPONSES, _OP_EXTENSIONS = 1, 3, 5, 8, 9, 13
_PARAMETERS_ITEM_PARAMETER = 1
_PARAMETER_NON_BODY = 2
_NON_BODY_QUERY, _NON_BODY_PATH = 3, 4
# QueryParameterSubSchema / PathParameterSubSchema share required(1), in(2), description(3), name(4)
_SUB_REQUIRED, _SUB_IN, _SUB_DESCRIPTION, _SUB_NAME = 1, 2, 3, 4
_QUERY_TYPE, _QUERY_UNIQUE_ITEMS = 6, 20
_PATH_TYPE, _PATH_UNIQUE_ITEMS = 5, 19
_RESPONSES_CODE = 1
_RESPONSE_VALUE_RESPONSE = 1
_RESPONSE_DESCRIPTION = 1
_ANY_YAML = 2

_PLAIN_YAML = re.compile(r"[A-Za-z][A-Za-z0-9._/-]*")


def _yaml_scalar(value: str) -> str:
    """A YAML scalar: plain when safe, else double-quoted (JSON strings are valid YAML)."""
    return value if _PLAIN_YAML.fullmatch(value) else json.dumps(value)


def _named_any(name: str, yaml_text: str) -> bytes:
    return pb.field_string(_NAMED_NAME, name) + pb.field_bytes(
        _NAMED_VALUE, pb.field_string(_ANY_YAML, yaml_text)
    )


def _v2_parameter(param: dict[str, Any]) -> bytes:
    kind = param["schema"]["type"]
    common = pb.field_string(_SUB_IN, param["in"]) + pb.field_string(_SUB_DESCRIPTION, param["description"])
    common += pb.field_string(_SUB_NAME, param["name"])
    if param["in"] == "path":
        sub = pb.field_bool(_SUB_REQUIRED, True) + common
        sub += pb.field_string(_PATH_TYPE, kind) + pb.field_bool(_PATH_UNIQUE_ITEMS, True)
        non_body = pb.field_bytes(_NON_BODY_PATH, sub)
    else:
        sub = common + pb.field_string(_QUERY_TYPE, kind) + pb.field_bool(_QUERY_UNIQUE_ITEMS, True)
        non_body = pb.field_bytes(_NON_BODY_QUERY, sub)
    parameter = pb.field_bytes(_PARAMETER_NON_BODY, non_body)
    return pb.field_bytes(_PARAMETERS_ITEM_PARAMETER, parameter)


def _v2_operation(op: dict[str, Any]) -> bytes:
    out = b"".join(pb.field_string(_OP_TAGS, t) for t in op["tags"])
    out += pb.field_string(_OP_DESCRIPTION, op["description"])
    out += pb.field_string(_OP_ID, op["operationId"])
    for param in op.get("parameters", ()):
        out += pb.field_bytes(_OP_PARAMETERS, _v2_parameter(param))
    responses = b""
    for code, response in op["responses"].items():
        value = pb.field_bytes(
            _RESPONSE_VALUE_RESPONSE, pb.field_string(_RESPONSE_DESCRIPTION, response["description"])
        )
        responses += pb.field_bytes(
            _RESPONSES_CODE, pb.field_string(_NAMED_NAME, code) + pb.field_bytes(_NAMED_VALUE, value)
        )
    out += pb.field_bytes(_OP_RESPONSES, responses)
    out += pb.field_bytes(
        _OP_EXTENSIONS, _named_any(ACTION_EXTENSION, _yaml_scalar(op[ACTION_EXTENSION]) + "\n")
    )
    gvk = op[GVK_EXTENSION]
    gvk_yaml = "".join(f"{key}: {_yaml_scalar(gvk[key])}\n" for key in ("group", "kind", "version"))
    out += pb.field_bytes(_OP_EXTENSIONS, _named_any(GVK_EXTENSION, gvk_yaml))
    return out


def _v2_path_item(item: dict[str, Any]) -> bytes:
    out = b""
    for method, number in _PATH_ITEM_METHODS.items():
        if method in item:
            out += pb.field_bytes(number, _v2_operation(item[method]))
    for param in item.get("parameters", ()):
        out += pb.field_bytes(_PATH_ITEM_PARAMETERS, _v2_parameter(param))
    return out


@functools.cache
def v2_protobuf() -> bytes:
    """``GET /openapi/v2``: every path of every group version as a gnostic protobuf document."""
    paths = b""
    for group, version in group_versions():
        doc = _build_v3(group, version)
        assert doc is not None
        for name, item in doc["paths"].items():
            named = pb.field_string(_NAMED_NAME, name) + pb.field_bytes(_NAMED_VALUE, _v2_path_item(item))
            paths += pb.field_bytes(_PATHS_PATH, named)
    info = pb.field_string(_INFO_TITLE, TITLE) + pb.field_string(_INFO_VERSION, SERVER_GIT_VERSION)
    return (
        pb.field_string(_DOC_SWAGGER, SWAGGER_VERSION)
        + pb.field_bytes(_DOC_INFO, info)
        + pb.field_bytes(_DOC_PATHS, paths)
    )


def v3_lookup(key: str) -> tuple[str, str] | None:
    """The ``(group, version)`` behind a v3 path key (``api/v1``, ``apis/apps/v1``), if served."""
    parts = key.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        gv = ("", parts[1])
    elif len(parts) == 3 and parts[0] == "apis" and parts[1]:
        gv = (parts[1], parts[2])
    else:
        return None
    return gv if gv in group_versions() else None
