"""Request-body decoding and response encoding, with upstream's media-type rules.

Mirrors the negotiation in ``k8s.io/apiserver/pkg/endpoints/handlers/negotiation`` and the body
handling of ``handlers/create.go``, ``update.go`` and ``patch.go``:

* bodies are JSON or YAML (``application/json``, ``application/yaml``); patches use
  ``application/{strategic-merge-patch,merge-patch,json-patch}+json`` and
  ``application/apply-patch+yaml``; protobuf create/update bodies (kubectl >= 1.32 typed
  clients) are decoded by :mod:`kubeds.apiserver.protoschema`, DELETE bodies (``DeleteOptions``)
  by ``options.py``;
* an unknown media type is 415, an undecodable body 400 with a message shaped like upstream's
  (``couldn't get version/kind; json parse error: ...``);
* responses are JSON; ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` asks for
  server-side printing.

:func:`clone` is the write path's deep copy. Objects are JSON-shaped (dicts, lists and immutable
scalars), so copying the containers and sharing the scalars gives what ``copy.deepcopy`` gives,
about five times faster (no memo, no dispatch per value).
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import yaml

from kubeds.apiserver import errors, protoschema

__all__ = [
    "JSON",
    "PATCH_TYPES",
    "PROTOBUF",
    "YAML",
    "clone",
    "decode_body",
    "dumps",
    "media_type",
    "table_requested",
]

JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
SMP = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"
PATCH_TYPES = (SMP, MERGE, JSON_PATCH, APPLY)
BODY_TYPES = (JSON, YAML, "text/yaml", "application/x-yaml", "")

_SCALARS = frozenset({str, int, float, bool, type(None)})

MSG_JSON_PARSE = "couldn't get version/kind; json parse error: "
MSG_YAML_PARSE = "error converting YAML to JSON: "
MSG_PROTOBUF = "unable to decode protobuf body: "


def media_type(content_type: str) -> str:
    """The bare media type, lower-cased, without parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def dumps(obj: Any) -> bytes:
    return bytes(orjson.dumps(obj))


def clone(value: Any) -> Any:
    """A deep copy of a JSON-shaped value: new dicts and lists, shared (immutable) scalars."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(v) for v in value]
    if kind in _SCALARS:
        return value
    return copy.deepcopy(value)  # anything a YAML body may carry besides (a set, a datetime)


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(MSG_JSON_PARSE + str(exc)) from None


def _parse_yaml(body: bytes) -> Any:
    try:
        return yaml.safe_load(body.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        msg = str(exc).replace("\n", " ")
        raise errors.bad_request(MSG_YAML_PARSE + msg) from None


def decode_body(body: bytes, content_type: str, *, allowed: tuple[str, ...] = BODY_TYPES) -> Any:
    """Decode a JSON or YAML body; raise 415 for a type outside ``allowed``, 400 if malformed."""
    mt = media_type(content_type)
    if mt not in allowed:
        raise errors.unsupported_media_type(mt)
    if mt in (YAML, "text/yaml", "application/x-yaml", APPLY):
        stripped = body.lstrip()
        if stripped.startswith((b"{", b"[")):
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                pass
        return _parse_yaml(body)
    return _parse_json(body)


def decode_object(body: bytes, content_type: str) -> dict[str, Any]:
    """A create/update body: one JSON object, or a protobuf object (kubectl >= 1.32)."""
    if media_type(content_type) == PROTOBUF:
        try:
            return protoschema.decode_object(body)
        except ValueError as exc:
            raise errors.bad_request(MSG_PROTOBUF + str(exc)) from None
    obj = decode_body(body, content_type)
    if not isinstance(obj, dict):
        raise errors.bad_request(
            MSG_JSON_PARSE + "Object 'Kind' is missing in '" + body.decode("utf-8", "replace")[:200] + "'"
        )
    return obj


def table_requested(accept: str) -> str:
    """``"v1"`` or ``"v1beta1"`` when the Accept header asks for a meta.k8s.io Table, else ``""``.

    The first acceptable clause wins, as upstream's negotiation takes the client's preference order.
    """
    for clause in accept.split(","):
        parts = [p.strip() for p in clause.split(";")]
        params = {}
        for p in parts[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip()] = v.strip()
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            version = params.get("v", "v1")
            if version in ("v1", "v1beta1"):
                return version
            continue
        if parts[0] in (JSON, "*/*", "application/*", PROTOBUF, YAML) and "as" not in params:
            return ""
    return ""
