"""Strategic merge patch (``application/strategic-merge-patch+json``), applied server-side.

A port of the *apply* half of ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``
(``StrategicMergeMapPatch`` with ``MergeParallelList`` and ``IgnoreUnmatchedNulls``, i.e. what
``apiserver/pkg/endpoints/handlers/patch.go`` runs), reading field metadata from
:mod:`kubeds.apiserver.patch.schema` instead of Go struct tags:

* maps merge recursively; ``null`` deletes a key; a field whose strategy is ``replace`` is replaced;
* lists with strategy ``merge`` merge element-wise by merge key (lists of scalars: set union);
  lists without a strategy are atomic and replaced by the patch's list;
* directives: ``$patch: replace|delete`` on a map (``merge`` there is an error, as upstream),
  ``{"$patch": "replace"}`` / ``{"$patch": "delete", <key>: ...}`` as list elements,
  ``$setElementOrder/<list>``, ``$retainKeys`` and ``$deleteFromPrimitiveList/<list>``;
* order: patch order, then ``$setElementOrder``, with server-only items interleaved (see
  :mod:`kubeds.apiserver.patch.ordering`).

Two deliberate differences, both about content copied verbatim from the patch (new keys, appended
list items, atomic lists, replaced maps): upstream strips ``null`` values and ``$patch`` maps from
new keys only, then relies on decoding into the typed struct to drop (or, under
``fieldValidation=Strict``, reject) leftovers. We have no typed structs, so such content is always
cleaned here: ``null`` map values, maps carrying ``$patch`` and stray directive keys are dropped.
``$setElementOrder`` re-ordering uses the server-side order as upstream's in-place slice updates
leave it (survivors of ``$patch: delete``, then appended items), which its unit tests rely on.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver import codec
from kubeds.apiserver.patch.errors import bad_request, smp_error
from kubeds.apiserver.patch.gofmt import go_equal, go_type_name, go_value, json_kind
from kubeds.apiserver.patch.ordering import (
    DIRECTIVE_MARKER,
    MAP_KIND,
    deduplicate_scalars,
    err_bad_arg_type,
    err_no_merge_key,
    extract_to_delete_items,
    find_map,
    normalize_element_order,
    partition_maps,
    partition_primitives,
    slice_element_kind,
)
from kubeds.apiserver.patch.schema import MERGE, REPLACE, FieldMeta, Schema, schema_for_kind

__all__ = ["apply_strategic_patch", "strategic_merge_patch"]

DELETE_DIRECTIVE = "delete"
REPLACE_DIRECTIVE = "replace"
MERGE_DIRECTIVE = "merge"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"
_DIRECTIVE_KEY_PREFIXES = (DELETE_FROM_PRIMITIVE_LIST_PREFIX + "/", SET_ELEMENT_ORDER_PREFIX + "/")

LIST_KIND = "[]interface {}"

# mergepatch sentinel errors (k8s.io/apimachinery/pkg/util/mergepatch/errors.go)
ERR_BAD_JSON_DOC = "invalid JSON document"
ERR_BAD_FORMAT_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_FORMAT_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_FORMAT_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
MSG_PATCH_NOT_OBJECT = "json: cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
MSG_BAD_PATCH_TYPE = "unknown patch type: {directive} in map: {map}"
MSG_MERGE_LIST_DIRECTIVE = "merging lists cannot yet be specified in the patch"
MSG_NO_MERGE_KEY_TYPE = "cannot merge lists without merge key for type {kind}"
MSG_ORDER_MISMATCH = "The order in patch list:\n{patch}\n doesn't match $setElementOrder list:\n{order}\n"


def strategic_merge_patch(
    original: dict[str, Any], patch: Any, *, kind: str, owned: bool = False
) -> dict[str, Any]:
    """Apply a decoded strategic merge patch to ``original`` (a kind kubeds serves); returns a new
    object and leaves both arguments untouched. Raises :class:`~kubeds.apiserver.patch.errors.PatchError`.

    With ``owned`` the caller gives ``original`` away (a private copy it drops on error): it is
    merged in place; ``patch`` is still left untouched.
    """
    return apply_strategic_patch(original, patch, schema=schema_for_kind(kind), owned=owned)


def apply_strategic_patch(
    original: Any, patch: Any, *, schema: Schema, owned: bool = False
) -> dict[str, Any]:
    """:func:`strategic_merge_patch` with an explicit schema (tests use upstream's ``mergeItem``)."""
    if not isinstance(original, dict):
        raise bad_request(ERR_BAD_JSON_DOC)
    if patch is None:
        patch = {}
    if not isinstance(patch, dict):
        raise bad_request(MSG_PATCH_NOT_OBJECT.format(kind=json_kind(patch)))
    document = original if owned else codec.clone(original)
    return _Merger(schema).merge_map(document, codec.clone(patch), schema.root)


def _is_directive_key(key: str) -> bool:
    return key in (DIRECTIVE_MARKER, RETAIN_KEYS_DIRECTIVE) or key.startswith(_DIRECTIVE_KEY_PREFIXES)


def _clean(value: Any) -> tuple[Any, bool]:
    """Content taken verbatim from the patch, as the typed round trip would store it.

    ``discardNullValuesFromPatch`` + ``removeDirectives``: drops ``null`` map values and any map
    holding ``$patch`` (returning ``keep=False`` for such a map itself), plus stray directive keys.
    """
    if isinstance(value, dict):
        if DIRECTIVE_MARKER in value:
            return None, False
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if item is None or _is_directive_key(key):
                continue
            new_item, keep = _clean(item)
            if keep:
                cleaned[key] = new_item
        return cleaned, True
    if isinstance(value, list):
        items: list[Any] = []
        for item in value:
            new_item, keep = _clean(item)
            if keep:
                items.append(new_item)
        return items, True
    return value, True


def _clean_map(value: dict[str, Any]) -> dict[str, Any]:
    """Clean a map that is kept even though it may carry ``$patch`` (a replaced map)."""
    cleaned, _ = _clean({key: item for key, item in value.items() if key != DIRECTIVE_MARKER})
    assert isinstance(cleaned, dict)
    return cleaned


def _extract_key(key: str, prefix: str) -> str:
    head, sep, tail = key.partition("/")
    if not sep or head != prefix:
        if prefix == DELETE_FROM_PRIMITIVE_LIST_PREFIX:
            raise bad_request(ERR_BAD_FORMAT_PRIMITIVE_LIST)
        raise bad_request(ERR_BAD_FORMAT_SET_ELEMENT_ORDER)
    return tail


def _merge_key_value_equal(left: Any, right: Any, key: str) -> bool:
    if not key:
        return go_equal(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise err_bad_arg_type(MAP_KIND, item)
        if key not in item:
            raise err_no_merge_key(item, key)
    return go_equal(left[key], right[key])


def _validate_patch_with_set_order_list(patch_list: list[Any], order: list[Any], key: str) -> None:
    if not order or not patch_list:
        return
    non_delete = extract_to_delete_items(patch_list)[0] if key else patch_list
    patch_index = order_index = 0
    while patch_index < len(non_delete) and order_index < len(order):
        item = non_delete[patch_index]
        if isinstance(item, dict) and DIRECTIVE_MARKER in item:
            patch_index += 1
            continue
        if _merge_key_value_equal(item, order[order_index], key):
            patch_index += 1
        order_index += 1
    if patch_index < len(non_delete) and order_index >= len(order):
        raise smp_error(MSG_ORDER_MISMATCH.format(patch=go_value(patch_list), order=go_value(order)))


class _Merger:
    """``mergeMap``/``mergeSlice`` and friends, bound to one schema."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    # -- maps -----------------------------------------------------------------------------------

    def merge_map(
        self, original: dict[str, Any] | None, patch: dict[str, Any], type_name: str | None
    ) -> dict[str, Any]:
        if DIRECTIVE_MARKER in patch:
            return self._map_directive(patch[DIRECTIVE_MARKER], patch)
        if original is None:
            original = {}
        self._apply_retain_keys(original, patch)
        self._merge_set_element_orders(original, patch, type_name)
        for raw_key, patch_value in list(patch.items()):
            key, is_delete_list = raw_key, False
            if raw_key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX):
                key, is_delete_list = _extract_key(raw_key, DELETE_FROM_PRIMITIVE_LIST_PREFIX), True
            if patch_value is None:
                original.pop(key, None)
                continue
            if key not in original or go_type_name(original[key]) != go_type_name(patch_value):
                if not is_delete_list:
                    cleaned, keep = _clean(patch_value)
                    if keep:
                        original[key] = cleaned
                    else:
                        original.pop(key, None)
                continue
            meta = self.schema.lookup(type_name, key)
            if isinstance(patch_value, dict):
                original[key] = self._merge_map_field(original[key], patch_value, meta)
            elif isinstance(patch_value, list):
                original[key] = self._merge_list_field(original[key], patch_value, meta, is_delete_list)[0]
            else:
                original[key] = patch_value
        return original

    def _map_directive(self, directive: Any, patch: dict[str, Any]) -> dict[str, Any]:
        if directive == REPLACE_DIRECTIVE:
            return _clean_map(patch)
        if directive == DELETE_DIRECTIVE:
            return {}
        raise smp_error(MSG_BAD_PATCH_TYPE.format(directive=go_value(directive), map=go_value(patch)))

    def _merge_map_field(
        self, original: dict[str, Any], patch: dict[str, Any], meta: FieldMeta
    ) -> dict[str, Any]:
        if meta.strategy == REPLACE:
            return _clean_map(patch)
        return self.merge_map(original, patch, meta.type)

    @staticmethod
    def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
        if RETAIN_KEYS_DIRECTIVE not in patch:
            return
        retain = patch.pop(RETAIN_KEYS_DIRECTIVE)
        if not isinstance(retain, list):
            raise bad_request(ERR_BAD_FORMAT_RETAIN_KEYS)
        kept = {item for item in retain if isinstance(item, str)}
        for key, value in patch.items():
            if value is None or key.startswith(_DIRECTIVE_KEY_PREFIXES):
                continue
            if key not in kept:
                raise bad_request(ERR_BAD_FORMAT_RETAIN_KEYS)
        for key in [key for key in original if key not in kept]:
            del original[key]

    def _merge_set_element_orders(
        self, original: dict[str, Any], patch: dict[str, Any], type_name: str | None
    ) -> None:
        """``mergePatchIntoOriginal``: merge each ``$setElementOrder/<list>`` with its list."""
        for directive_key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER_PREFIX)]:
            order = patch.pop(directive_key)
            if not isinstance(order, list):
                raise err_bad_arg_type(LIST_KIND, order)
            key = _extract_key(directive_key, SET_ELEMENT_ORDER_PREFIX)
            found_original, found_patch = key in original, key in patch
            original_list: list[Any] = []
            patch_list: list[Any] = []
            if found_original:
                if not isinstance(original[key], list):
                    raise err_bad_arg_type(LIST_KIND, original[key])
                original_list = original[key]
            if found_patch:
                if not isinstance(patch[key], list):
                    raise err_bad_arg_type(LIST_KIND, patch[key])
                patch_list = patch[key]
            meta = self.schema.lookup(type_name, key)
            _validate_patch_with_set_order_list(patch_list, order, meta.merge_key)
            if found_original and found_patch:
                merged, server_order = self._merge_list_field(original_list, patch_list, meta, False)
            elif found_original:
                merged, server_order = original_list, original_list
            elif found_patch:
                merged, server_order = _clean(patch_list)[0], []
            else:
                continue
            if meta.merge_key:
                patch_items, server_only = partition_maps(merged, order, meta.merge_key)
            else:
                patch_items, server_only = partition_primitives(merged, order)
            kind = slice_element_kind(original_list, patch_list)
            original[key] = normalize_element_order(
                patch_items,
                server_only,
                patch_order=order,
                server_order=server_order,
                key=meta.merge_key,
                kind=kind,
            )
            patch.pop(key, None)

    # -- lists ----------------------------------------------------------------------------------

    def _merge_list_field(
        self, original: list[Any], patch: list[Any], meta: FieldMeta, is_delete_list: bool
    ) -> tuple[list[Any], list[Any]]:
        """``mergeSliceHandler``; also returns the server order ``$setElementOrder`` sorts by."""
        if meta.strategy == MERGE:
            return self._merge_slice(original, patch, meta, is_delete_list)
        return _clean(patch)[0], original

    def _merge_slice(
        self, original: list[Any], patch: list[Any], meta: FieldMeta, is_delete_list: bool
    ) -> tuple[list[Any], list[Any]]:
        if not original and not patch:
            return original, original
        kind = slice_element_kind(original, patch)
        key = meta.merge_key
        if kind != MAP_KIND:
            if is_delete_list:
                return [item for item in original if not any(go_equal(item, d) for d in patch)], original
            merged = deduplicate_scalars(original + patch)
            survivors, order_patch, server_view = original, patch, original
        else:
            if not key:
                raise smp_error(MSG_NO_MERGE_KEY_TYPE.format(kind="struct" if meta.type else "map"))
            survivors, order_patch = self._apply_special_elements(original, patch, key)
            merged, appended = self._merge_by_key(survivors, order_patch, key, meta.type)
            # what upstream's in-place slice updates leave in the caller's view of `original`
            server_view = (survivors + appended)[: len(original)]
        if not key:
            patch_items, server_only = partition_primitives(merged, order_patch)
        else:
            patch_items, server_only = partition_maps(merged, order_patch, key)
        result = normalize_element_order(
            patch_items, server_only, patch_order=order_patch, server_order=survivors, key=key, kind=kind
        )
        return result, server_view

    @staticmethod
    def _apply_special_elements(
        original: list[Any], patch: list[Any], key: str
    ) -> tuple[list[Any], list[Any]]:
        """``mergeSliceWithSpecialElements``: returns (original after deletions, plain patch items)."""
        plain: list[Any] = []
        replace = False
        survivors = list(original)
        for item in patch:
            if DIRECTIVE_MARKER not in item:
                plain.append(item)
                continue
            directive = item[DIRECTIVE_MARKER]
            if directive == DELETE_DIRECTIVE:
                if key not in item:
                    raise err_no_merge_key(item, key)
                while (index := find_map(survivors, key, item[key])) is not None:
                    del survivors[index]
            elif directive == REPLACE_DIRECTIVE:
                replace = True
            elif directive == MERGE_DIRECTIVE:
                raise smp_error(MSG_MERGE_LIST_DIRECTIVE)
            else:
                raise smp_error(MSG_BAD_PATCH_TYPE.format(directive=go_value(directive), map=go_value(item)))
        if replace:
            return [_clean(item)[0] for item in plain], []
        return survivors, plain

    def _merge_by_key(
        self, original: list[Any], patch: list[Any], key: str, type_name: str | None
    ) -> tuple[list[Any], list[Any]]:
        """``mergeSliceWithoutSpecialElements``: returns (merged list, appended items)."""
        merged = list(original)
        appended: list[Any] = []
        for item in patch:
            if key not in item:
                raise err_no_merge_key(item, key)
            index = find_map(merged, key, item[key])
            if index is not None:
                merged[index] = self.merge_map(merged[index], item, type_name)
            else:
                cleaned = _clean(item)[0]
                merged.append(cleaned)
                appended.append(cleaned)
        return merged, appended
