"""JSON patch (``application/json-patch+json``, RFC 6902), as upstream applies it.

Mirrors ``gopkg.in/evanphx/json-patch.v4`` (``patch.go``), the library
``apiserver/pkg/endpoints/handlers/patch.go`` uses, including its messages and its departures from
the RFC: a path is split on ``/`` and its first segment ignored (so ``""`` addresses nothing),
``~1``/``~0`` are unescaped, ``-`` appends in ``add``, negative indexes count from the end,
``replace`` of an absent object key adds it (``partialDoc.get`` never fails), a ``test`` against an
absent or null value passes when the expected value is null or missing.

Any failed operation is answered 422 Invalid with upstream's generic message; the library's text
(``testing value /a failed: test failed``...) is kept in ``PatchError.detail``. A body that is not
a list of operation objects is a 400 ``error decoding patch: ...`` (the ``fieldValidation=Strict``
decoder kubectl triggers; ``strict=False`` gives ``jsonpatch.DecodePatch``'s text). More than
10000 operations is 413.
"""

from __future__ import annotations

import re
from typing import Any

from kubeds.apiserver import codec
from kubeds.apiserver.patch.errors import PatchError, bad_request, invalid_generic
from kubeds.apiserver.patch.gofmt import json_kind

__all__ = ["MAX_JSON_PATCH_OPERATIONS", "json_patch"]

MAX_JSON_PATCH_OPERATIONS = 10000

ERR_MISSING = "missing value"
ERR_TEST_FAILED = "test failed"
ERR_INVALID_INDEX = "invalid index referenced"
MSG_TOO_LARGE = "Request entity too large: The allowed maximum operations in a JSON patch is {max}, got {got}"
_STRICT = "error decoding patch: json: cannot unmarshal {kind} into Go "
MSG_STRICT_LIST = _STRICT + "value of type []handlers.jsonPatchOp"
MSG_STRICT_OP = _STRICT + "value of type handlers.jsonPatchOp"
MSG_STRICT_FIELD = _STRICT + "struct field jsonPatchOp.{field} of type string"
MSG_LAX_LIST = "json: cannot unmarshal {kind} into Go value of type jsonpatch.Patch"
MSG_LAX_OP = "json: cannot unmarshal {kind} into Go value of type jsonpatch.Operation"

_ATOI = re.compile(r"[+-]?[0-9]+")
_MISSING = object()


class _OpError(Exception):
    """An operation failed; the text reads like evanphx's ``errors.Wrapf`` chains."""


def _wrap(message: str, cause: str) -> _OpError:
    return _OpError(f"{message}: {cause}")


def json_patch(
    original: dict[str, Any], ops: Any, *, strict: bool = True, owned: bool = False
) -> dict[str, Any]:
    """Apply decoded JSON patch operations to ``original``; returns a new object. Raises ``PatchError``.

    With ``owned`` the caller gives ``original`` away (a private copy it drops on error): it is
    patched in place and returned.
    """
    _check_shape(ops, strict=strict)
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        message = MSG_TOO_LARGE.format(max=MAX_JSON_PATCH_OPERATIONS, got=len(ops))
        raise PatchError(message, code=413, reason="RequestEntityTooLarge")
    document: dict[str, Any] = original if owned else codec.clone(original)
    for op in ops:
        try:
            _apply(document, op)
        except _OpError as exc:
            raise invalid_generic(str(exc)) from None
    return document


def _check_shape(ops: Any, *, strict: bool) -> None:
    if not isinstance(ops, list):
        raise bad_request((MSG_STRICT_LIST if strict else MSG_LAX_LIST).format(kind=json_kind(ops)))
    for op in ops:
        if not isinstance(op, dict):
            raise bad_request((MSG_STRICT_OP if strict else MSG_LAX_OP).format(kind=json_kind(op)))
        if strict:
            for name in ("op", "path", "from"):
                value = op.get(name)
                if value is not None and not isinstance(value, str):
                    raise bad_request(MSG_STRICT_FIELD.format(kind=json_kind(value), field=name))


def _string_field(op: dict[str, Any], name: str, missing: str) -> str:
    value = op.get(name, _MISSING)
    if value is _MISSING:
        raise _wrap(missing, ERR_MISSING)
    if not isinstance(value, str):
        raise _OpError(f"json: cannot unmarshal {json_kind(value)} into Go value of type string")
    return value


def _path(op: dict[str, Any]) -> str:
    return _string_field(op, "path", "operation missing path field")


def _from(op: dict[str, Any]) -> str:
    return _string_field(op, "from", "operation, missing from field")


def _decode_key(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~") if "~" in part else part


def _atoi(key: str) -> int:
    if not _ATOI.fullmatch(key):
        raise _OpError(f'strconv.Atoi: parsing "{key}": invalid syntax')
    return int(key)


def _invalid_index(index: int) -> _OpError:
    return _wrap(f"Unable to access invalid index: {index}", ERR_INVALID_INDEX)


def _find(document: Any, path: str) -> tuple[Any, str] | None:
    """``findObject``: the container holding the last segment of ``path``, and that segment."""
    parts = path.split("/")
    if len(parts) < 2:
        return None
    container = document
    for part in parts[1:-1]:
        try:
            child = _get(container, _decode_key(part))
        except _OpError:
            return None
        if not isinstance(child, dict | list):
            return None
        container = child
    return container, _decode_key(parts[-1])


def _get(container: Any, key: str) -> Any:
    if isinstance(container, dict):
        return container.get(key)
    index = _atoi(key)
    if index < 0:
        if index < -len(container):
            raise _invalid_index(index)
        index += len(container)
    if index >= len(container):
        raise _invalid_index(index)
    return container[index]


def _add(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    if key == "-":
        container.append(value)
        return
    try:
        index = _atoi(key)
    except _OpError as exc:
        raise _wrap(f"value was not a proper array index: '{key}'", str(exc)) from None
    size = len(container) + 1
    if index >= size or index < -size:
        raise _invalid_index(index)
    if index < 0:
        index += size
    container.insert(index, value)


def _remove(container: Any, key: str) -> None:
    if isinstance(container, dict):
        if key not in container:
            raise _wrap(f"Unable to remove nonexistent key: {key}", ERR_MISSING)
        del container[key]
        return
    index = _atoi(key)
    if index >= len(container) or index < -len(container):
        raise _invalid_index(index)
    del container[index]


def _set(container: Any, key: str, value: Any) -> None:
    if isinstance(container, dict):
        container[key] = value
        return
    index = _atoi(key)
    if index >= len(container) or index < -len(container):
        raise _invalid_index(index)
    container[index] = value


def _value(op: dict[str, Any]) -> Any:
    return codec.clone(op.get("value"))


def _json_equal(left: Any, right: Any) -> bool:
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_json_equal(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and bool(left == right)


def _op_add(document: Any, op: dict[str, Any]) -> None:
    try:
        path = _path(op)
    except _OpError:
        raise _wrap("add operation failed to decode path", ERR_MISSING) from None
    found = _find(document, path)
    if found is None:
        raise _wrap(f'add operation does not apply: doc is missing path: "{path}"', ERR_MISSING)
    try:
        _add(*found, _value(op))
    except _OpError as exc:
        raise _wrap(f"error in add for path: '{path}'", str(exc)) from None


def _op_remove(document: Any, op: dict[str, Any]) -> None:
    try:
        path = _path(op)
    except _OpError:
        raise _wrap("remove operation failed to decode path", ERR_MISSING) from None
    found = _find(document, path)
    if found is None:
        raise _wrap(f'remove operation does not apply: doc is missing path: "{path}"', ERR_MISSING)
    try:
        _remove(*found)
    except _OpError as exc:
        raise _wrap(f"error in remove for path: '{path}'", str(exc)) from None


def _op_replace(document: Any, op: dict[str, Any]) -> None:
    try:
        path = _path(op)
    except _OpError as exc:
        raise _wrap("replace operation failed to decode path", str(exc)) from None
    found = _find(document, path)
    if found is None:
        raise _wrap(f"replace operation does not apply: doc is missing path: {path}", ERR_MISSING)
    try:
        _get(*found)
    except _OpError:
        raise _wrap(f"replace operation does not apply: doc is missing key: {path}", ERR_MISSING) from None
    try:
        _set(*found, _value(op))
    except _OpError as exc:
        raise _wrap(f"error in remove for path: '{path}'", str(exc)) from None


def _op_move(document: Any, op: dict[str, Any]) -> None:
    try:
        source = _from(op)
    except _OpError as exc:
        raise _wrap("move operation failed to decode from", str(exc)) from None
    found = _find(document, source)
    if found is None:
        raise _wrap(f"move operation does not apply: doc is missing from path: {source}", ERR_MISSING)
    container, key = found
    try:
        value = _get(container, key)
        _remove(container, key)
    except _OpError as exc:
        raise _wrap(f"error in move for path: '{key}'", str(exc)) from None
    try:
        path = _path(op)
    except _OpError as exc:
        raise _wrap("move operation failed to decode path", str(exc)) from None
    target = _find(document, path)
    if target is None:
        raise _wrap(f"move operation does not apply: doc is missing destination path: {path}", ERR_MISSING)
    try:
        _add(*target, value)
    except _OpError as exc:
        raise _wrap(f"error in move for path: '{path}'", str(exc)) from None


def _op_copy(document: Any, op: dict[str, Any]) -> None:
    try:
        source = _from(op)
    except _OpError as exc:
        raise _wrap("copy operation failed to decode from", str(exc)) from None
    found = _find(document, source)
    if found is None:
        raise _wrap(f"copy operation does not apply: doc is missing from path: {source}", ERR_MISSING)
    try:
        value = _get(*found)
    except _OpError as exc:
        raise _wrap(f"error in copy for from: '{source}'", str(exc)) from None
    try:
        path = _path(op)
    except _OpError:
        raise _wrap("copy operation failed to decode path", ERR_MISSING) from None
    target = _find(document, path)
    if target is None:
        raise _wrap(f"copy operation does not apply: doc is missing destination path: {path}", ERR_MISSING)
    try:
        _add(*target, codec.clone(value))
    except _OpError as exc:
        raise _wrap("error while adding value during copy", str(exc)) from None


def _op_test(document: Any, op: dict[str, Any]) -> None:
    try:
        path = _path(op)
    except _OpError as exc:
        raise _wrap("test operation failed to decode path", str(exc)) from None
    failed = _wrap(f"testing value {path} failed", ERR_TEST_FAILED)
    expected = op.get("value")
    if path == "":
        if _json_equal(document, expected):
            return
        raise failed
    found = _find(document, path)
    if found is None:
        raise _wrap(f"test operation does not apply: is missing path: {path}", ERR_MISSING)
    try:
        actual = _get(*found)
    except _OpError as exc:
        raise _wrap(f"error in test for path: '{path}'", str(exc)) from None
    if actual is None:
        if expected is None:
            return
        raise failed
    if expected is not None and _json_equal(actual, expected):
        return
    raise failed


_OPERATIONS = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "copy": _op_copy,
    "test": _op_test,
}


def _apply(document: Any, op: dict[str, Any]) -> None:
    kind = op.get("op")
    handler = _OPERATIONS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise _OpError(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}")
    handler(document, op)
