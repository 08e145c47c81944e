"""``fieldValidation``: unknown fields in a request body are an error, a warning or dropped.

Mirrors the strict-decoding handling of ``k8s.io/apiserver/pkg/endpoints/handlers``:

* create/update (``create.go``/``update.go``): with ``Strict`` the decode error becomes 400
  ``<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error: unknown field "x"``;
* patches (``patch.go``): with ``Strict`` it is 422 Invalid on field ``patch``;
* ``Warn`` returns ``unknown field "x"`` as a ``Warning`` header; ``Warn`` and ``Ignore`` drop the
  fields, as decoding into the Go structs does, so they are never stored.

For a merge or strategic-merge patch only the parts of the patched object that the patch names are
walked (:func:`kubeds.apiserver.schema.unknown_fields` with ``touched``): everything else comes from
the stored object, which was checked (and pruned) when it was written. A JSON patch (a list of
operations) still walks the whole object.
"""

from __future__ import annotations

import re
from typing import Any

from kubeds.apiserver import errors, hooks, schema
from kubeds.models.fielderrors import FieldError

__all__ = ["check_unknown_fields", "prune"]

MSG_STRICT = "strict decoding error: {fields}"
MSG_UNKNOWN = 'unknown field "{path}"'
MSG_CANNOT_HANDLE = '{kind} in version "{version}" cannot be handled as a {kind}: {detail}'
_TOKEN = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _tokens(path: str) -> list[str | int]:
    return [int(m.group(1)) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(path)]


def prune(obj: Any, path: str) -> None:
    """Remove the value at ``path`` (``a.b[0].c``) if it is there."""
    tokens = _tokens(path)
    cur = obj
    for tok in tokens[:-1]:
        if isinstance(tok, int):
            cur = cur[tok] if isinstance(cur, list) and 0 <= tok < len(cur) else None
        else:
            cur = cur.get(tok) if isinstance(cur, dict) else None
        if cur is None:
            return
    last = tokens[-1] if tokens else None
    if isinstance(cur, dict) and isinstance(last, str):
        cur.pop(last, None)


def check_unknown_fields(
    kind: str,
    version: str,
    obj: dict[str, Any],
    *,
    directive: str,
    warnings: list[str],
    patch: Any = None,
) -> None:
    """Apply the directive to ``obj`` (pruned in place); ``patch`` set means a patch request."""
    if isinstance(patch, dict) and patch is not obj:
        unknown = schema.unknown_fields(kind, obj, touched=patch)
    else:
        unknown = hooks.unknown_fields(kind, obj)
    if directive != "Ignore":
        if unknown and directive == "Strict":
            detail = MSG_STRICT.format(fields=", ".join(MSG_UNKNOWN.format(path=p) for p in unknown))
            if patch is not None:
                raise errors.invalid("", "", "", [FieldError.invalid("patch", _render(patch), detail)])
            raise errors.bad_request(MSG_CANNOT_HANDLE.format(kind=kind, version=version, detail=detail))
        warnings.extend(MSG_UNKNOWN.format(path=p) for p in unknown)
    for path in unknown:
        prune(obj, path)


def _render(patch: Any) -> str:
    import orjson

    return bytes(orjson.dumps(patch)).decode("utf-8")
