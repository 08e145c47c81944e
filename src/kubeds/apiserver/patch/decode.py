"""Decoding a PATCH body, with the 400 texts upstream gives for bodies that are not JSON.

``apiserver/pkg/endpoints/handlers/patch.go`` decodes with ``sigs.k8s.io/json``: for JSON and merge
patches under ``fieldValidation=Strict|Warn`` (what kubectl sends) the error reads
``error decoding patch: <encoding/json text>``; for strategic merge patches it is the bare
``encoding/json`` text; a merge patch decoded without strict validation fails with
``Invalid JSON Patch``. Python's decoder messages are translated to ``encoding/json``'s wording
(``invalid character 'x' looking for beginning of value``, ``unexpected end of JSON input``...).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from kubeds.apiserver.patch.errors import bad_request

__all__ = ["JSON_PATCH", "MERGE_PATCH", "PATCH_TYPES", "STRATEGIC_MERGE_PATCH", "decode_patch_body"]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)

MSG_DECODING = "error decoding patch: {error}"
ERR_BAD_JSON_PATCH = "Invalid JSON Patch"
ERR_END_OF_INPUT = "unexpected end of JSON input"

_CONTEXTS = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
    "Extra data": "after top-level value",
}


def go_json_error(exc: json.JSONDecodeError) -> str:
    """``encoding/json``'s wording for a syntax error Python reported."""
    if exc.pos >= len(exc.doc):
        return ERR_END_OF_INPUT
    context = _CONTEXTS.get(exc.msg)
    if context is None:
        return f"invalid character {exc.doc[exc.pos]!r} in string literal" if "string" in exc.msg else exc.msg
    char = exc.doc[exc.pos]
    if exc.msg == "Expecting ',' delimiter" and _in_array(exc.doc, exc.pos):
        context = "after array element"
    return f"invalid character {char!r} {context}"


def _in_array(doc: str, pos: int) -> bool:
    depth_square = depth_curly = 0
    for char in reversed(doc[:pos]):
        if char == "]":
            depth_square += 1
        elif char == "}":
            depth_curly += 1
        elif char == "[":
            if depth_square == 0:
                return True
            depth_square -= 1
        elif char == "{":
            if depth_curly == 0:
                return False
            depth_curly -= 1
    return False


def decode_patch_body(body: bytes | str, *, patch_type: str, strict: bool = True) -> Any:
    """Decode a PATCH body of ``patch_type`` or raise a 400 :class:`PatchError` worded as upstream.

    orjson first (several times faster); what it refuses (invalid UTF-8, integers beyond 64 bits,
    malformed JSON) goes through the standard library, which words the errors as Go does.
    """
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        error = go_json_error(exc)
    if patch_type == STRATEGIC_MERGE_PATCH:
        raise bad_request(error)
    if patch_type == MERGE_PATCH and not strict:
        raise bad_request(ERR_BAD_JSON_PATCH)
    if patch_type == JSON_PATCH and not strict:
        raise bad_request(error)
    raise bad_request(MSG_DECODING.format(error=error))
