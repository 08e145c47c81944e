"""List order and list bookkeeping for strategic merge patch, as upstream computes them.

Ports the order-keeping half of ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go``
(``normalizeElementOrder``, ``normalizeSliceOrder``, ``mergeSortedSlice``, ``index``,
``partition*ByPresentInList``, ``deduplicateScalars``, ``sliceElementType``, ``validateMergeKeyInLists``)
and the design proposal "preserve order in strategic merge patch": items named by the patch (or by
``$setElementOrder``) come in the patch's order, items only the server has keep their relative
order, and the two are interleaved using the server's order as the tie-breaker.

``sort.SliceStable`` is called upstream with a comparator that answers ``true`` when either item is
absent from the order list. When every item is present (the normal case) any stable sort gives the
same answer; otherwise we replay Go's insertion sort, which is what ``sort.SliceStable`` runs for
lists of up to 20 elements.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.patch.errors import PatchError, invalid_generic, smp_error
from kubeds.apiserver.patch.gofmt import go_equal, go_type_name, go_value

__all__ = [
    "DIRECTIVE_MARKER",
    "MAP_KIND",
    "deduplicate_scalars",
    "err_bad_arg_type",
    "err_no_merge_key",
    "extract_to_delete_items",
    "find_map",
    "normalize_element_order",
    "partition_maps",
    "partition_primitives",
    "slice_element_kind",
]

DIRECTIVE_MARKER = "$patch"
DELETE_DIRECTIVE = "delete"
MAP_KIND = "map[string]interface {}"

ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"
MSG_NOT_IDENTICAL = "list element types are not identical: {slices}"
MSG_NO_ELEMENTS = "no elements in any of the given slices"
MSG_NO_MERGE_KEY = "map: {map} does not contain declared merge key: {key}"
MSG_BAD_ARG_TYPE = "expected a {expected}, but received a {actual}"
MSG_NOT_A_MAP = "value for key {index} is not a map."


def err_no_merge_key(item: dict[str, Any], key: str) -> PatchError:
    return smp_error(MSG_NO_MERGE_KEY.format(map=go_value(item), key=key))


def err_bad_arg_type(expected: str, actual: Any) -> PatchError:
    return smp_error(MSG_BAD_ARG_TYPE.format(expected=expected, actual=go_type_name(actual)))


def slice_element_kind(*slices: list[Any]) -> str:
    """``sliceElementType``: the one Go type shared by every element of the slices."""
    previous: str | None = None
    for items in slices:
        for item in items:
            current = go_type_name(item)
            if previous is None:
                previous = current
                if isinstance(item, list):
                    raise invalid_generic(ERR_NO_LIST_OF_LISTS)
            elif previous != current:
                raise smp_error(MSG_NOT_IDENTICAL.format(slices=go_value(list(slices))))
    if previous is None:
        raise smp_error(MSG_NO_ELEMENTS)
    return previous


def deduplicate_scalars(items: list[Any]) -> list[Any]:
    """Upstream's in-place de-duplication (it moves the last element into each duplicate's slot)."""
    result = list(items)
    length = len(result) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if go_equal(result[i], result[j]):
                result[j] = result[length]
                result = result[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return result


def find_map(items: list[Any], key: str, value: Any) -> int | None:
    """``findMapInSliceBasedOnKeyValue``: index of the first map whose ``key`` equals ``value``."""
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise smp_error(MSG_NOT_A_MAP.format(index=index))
        if key in item and go_equal(item[key], value):
            return index
    return None


def extract_to_delete_items(items: list[Any]) -> tuple[list[Any], list[Any]]:
    keep: list[Any] = []
    delete: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise err_bad_arg_type(MAP_KIND, item)
        if item.get(DIRECTIVE_MARKER) == DELETE_DIRECTIVE:
            delete.append(item)
        else:
            keep.append(item)
    return keep, delete


def partition_primitives(merged: list[Any], partition_by: list[Any]) -> tuple[list[Any], list[Any]]:
    present: list[Any] = []
    server_only: list[Any] = []
    for item in merged:
        if any(go_equal(item, other) for other in partition_by):
            present.append(item)
        else:
            server_only.append(item)
    return present, server_only


def partition_maps(merged: list[Any], partition_by: list[Any], key: str) -> tuple[list[Any], list[Any]]:
    present: list[Any] = []
    server_only: list[Any] = []
    for item in merged:
        if not isinstance(item, dict):
            raise err_bad_arg_type(MAP_KIND, item)
        if key not in item:
            raise err_no_merge_key(item, key)
        if find_map(partition_by, key, item[key]) is None:
            server_only.append(item)
        else:
            present.append(item)
    return present, server_only


def _lookup_value(item: Any, key: str, kind: str) -> Any:
    if kind == MAP_KIND:
        return item.get(key) if isinstance(item, dict) else None
    return item


def _index(order: list[Any], item: Any, key: str, kind: str) -> int:
    wanted = _lookup_value(item, key, kind)
    for position, candidate in enumerate(order):
        if go_equal(wanted, _lookup_value(candidate, key, kind)):
            return position
    return -1


def _validate_merge_key(key: str, *lists: list[Any]) -> None:
    for items in lists:
        for item in items:
            if not isinstance(item, dict):
                raise err_bad_arg_type(MAP_KIND, item)
            if key not in item:
                raise err_no_merge_key(item, key)


def _stable_sort(items: list[Any], order: list[Any], key: str, kind: str) -> list[Any]:
    positions = [_index(order, item, key, kind) for item in items]
    if all(position >= 0 for position in positions):
        ranked = sorted(zip(positions, range(len(items)), strict=True))
        return [items[original] for _, original in ranked]
    # Go's insertionSort with upstream's comparator: less(a, b) is true unless both are ranked.
    pairs = list(zip(positions, items, strict=True))
    for i in range(1, len(pairs)):
        j = i
        while j > 0:
            left, right = pairs[j][0], pairs[j - 1][0]
            less = left < right if left >= 0 and right >= 0 else True
            if not less:
                break
            pairs[j], pairs[j - 1] = pairs[j - 1], pairs[j]
            j -= 1
    return [item for _, item in pairs]


def _normalize_slice_order(items: list[Any], order: list[Any], key: str, kind: str) -> list[Any]:
    to_delete: list[Any] = []
    if kind == MAP_KIND:
        _validate_merge_key(key, items, order)
        items, to_delete = extract_to_delete_items(items)
    return _stable_sort(items, order, key, kind) + to_delete


def _merge_sorted(
    left: list[Any], right: list[Any], server_order: list[Any], key: str, kind: str
) -> list[Any]:
    result: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            result.append(right[j])
            j += 1
        elif j >= len(right):
            result.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], key, kind)
            ri = _index(server_order, right[j], key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                result.append(left[i])
                i += 1
            else:
                result.append(right[j])
                j += 1
    return result


def normalize_element_order(
    patch_items: list[Any],
    server_only: list[Any],
    *,
    patch_order: list[Any],
    server_order: list[Any],
    key: str,
    kind: str,
) -> list[Any]:
    """``normalizeElementOrder``: sort each side by its order list, then interleave."""
    patch_sorted = _normalize_slice_order(patch_items, patch_order, key, kind)
    server_sorted = _normalize_slice_order(server_only, server_order, key, kind)
    return _merge_sorted(server_sorted, patch_sorted, server_order, key, kind)
