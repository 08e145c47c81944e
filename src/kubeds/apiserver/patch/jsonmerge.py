"""JSON merge patch (``application/merge-patch+json``, RFC 7386), as upstream applies it.

Mirrors ``MergePatch`` of ``gopkg.in/evanphx/json-patch.v4`` (``merge.go``), which
``apiserver/pkg/endpoints/handlers/patch.go`` calls: maps merge recursively, ``null`` deletes a key,
anything else (lists included) replaces. Nulls are pruned from values that are copied in whole
(a new key, or a map replacing a scalar) but not from a non-map replacing a map, exactly as
``mergeDocs``/``merge`` do. A patch that is ``null`` or a scalar is rejected with
``Invalid JSON Patch`` (400); a list patch makes the whole result a list, which cannot be an object
(upstream then fails decoding it with a 422 Invalid).

Copies: the patch is never stored into the result (what it adds is copied by ``_prune_nulls`` or
:func:`codec.clone`), so it needs no copy of its own; ``original`` is copied unless the caller
hands it over (``owned=True``: the store's private decode of the stored object, which a retry
decodes afresh).
"""

from __future__ import annotations

import json
from typing import Any

from kubeds.apiserver import codec
from kubeds.apiserver.patch.errors import PatchError, bad_request

__all__ = ["json_merge_patch"]

ERR_BAD_JSON_PATCH = "Invalid JSON Patch"
ERR_BAD_JSON_DOC = "Invalid JSON Document"
# NewInvalid(schema.GroupKind{}, "", ...) renders an empty kind and name: note the leading space.
MSG_NOT_AN_OBJECT = (
    ' "" is invalid: patch: Invalid value: {value}: json: cannot unmarshal array into Go value of type'
    " map[string]interface {{}}"
)


def json_merge_patch(original: dict[str, Any], patch: Any, *, owned: bool = False) -> dict[str, Any]:
    """Apply a decoded JSON merge patch to ``original``; returns a new object. Raises ``PatchError``.

    With ``owned`` the caller gives ``original`` away: it is patched in place and returned.
    ``patch`` is left untouched either way.
    """
    if not isinstance(original, dict):
        raise bad_request(ERR_BAD_JSON_DOC)
    if isinstance(patch, list):
        rendered = json.dumps(json.dumps(patch, separators=(",", ":")))
        raise PatchError(MSG_NOT_AN_OBJECT.format(value=rendered), code=422, reason="Invalid")
    if not isinstance(patch, dict):
        raise bad_request(ERR_BAD_JSON_PATCH)
    document: dict[str, Any] = original if owned else codec.clone(original)
    _merge_docs(document, patch)
    return document


def _merge_docs(document: dict[str, Any], patch: dict[str, Any]) -> None:
    """Merge ``patch`` into ``document`` in place; nothing of ``patch`` is stored without a copy."""
    for key, value in patch.items():
        if value is None:
            document.pop(key, None)
            continue
        current = document.get(key)
        if current is None:
            document[key] = _prune_nulls(value)
        elif not isinstance(current, dict):
            document[key] = _prune_nulls(value)
        elif not isinstance(value, dict):
            document[key] = codec.clone(value)  # a list or scalar replacing a map: never shared
        else:
            _merge_docs(current, value)


def _prune_nulls(value: Any) -> Any:
    """``pruneNulls``: drop null map values at any depth; nulls inside lists stay."""
    if isinstance(value, dict):
        return {key: _prune_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_prune_nulls(item) for item in value]
    return value
