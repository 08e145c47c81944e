"""Schema-aware walks over plain JSON objects: field sets, comparison, merge and removal.

Simplified counterparts of ``sigs.k8s.io/structured-merge-diff/v4/typed``:

* :func:`to_field_set` mirrors ``TypedValue.ToFieldSet`` (``typed/tofieldset.go``): every scalar
  leaf, every atomic list/map/struct, every list item and every entry of a free-keyed map is a
  member; named struct fields holding objects are not (only their leaves are). One deliberate
  difference: an empty object or list is a member too, so that applying ``resources: {}`` owns it.
* :func:`compare` mirrors ``TypedValue.Compare``: leaves (and empty containers, "promoted to
  leaf") are ``added``/``removed``/``modified``; inner nodes that appear or disappear are
  ``added``/``removed`` as well. A missing non-pointer struct field (schema ``value_fields``)
  counts as ``{}``, as it does in upstream's typed empty object.
* :func:`merge` mirrors ``TypedValue.Merge``: the right side wins at leaves and atomic nodes,
  maps merge by key, associative lists and sets merge item by item keeping the right side's
  order and the left-only items at their place (``typed/merge.go`` ``visitListItems``).
* :func:`remove_paths` mirrors ``TypedValue.RemoveItems``: a member path removes its whole
  subtree.

Items of associative lists are identified by their key fields; a key field that is absent takes
the schema's default (``protocol: TCP`` for container ports), as upstream does since SMD v4.2.
Duplicate keys are not an error here: the first item with a key is the one that counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from kubeds.apiserver.apply.fieldpath import (
    FIELD,
    INDEX,
    SELF,
    VALUE,
    Path,
    encode_json,
    key_element,
    sorted_elements,
)
from kubeds.apiserver.apply.schema import (
    ANY_STRUCT,
    ATOMIC_LIST,
    ListOf,
    MapOf,
    Struct,
    Type,
    child_type,
    is_atomic,
)

__all__ = [
    "Comparison",
    "added_fields_v1",
    "compare",
    "item_element",
    "merge",
    "remove_paths",
    "to_field_set",
]


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()


@dataclass
class Comparison:
    """Paths added, modified and removed between two objects (upstream ``typed.Comparison``)."""

    added: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)

    def changed(self) -> set[Path]:
        return self.added | self.modified


def _deduce(t: Type | None, value: Any) -> Type | None:
    if t is not None:
        return t
    if isinstance(value, dict):
        return ANY_STRUCT
    if isinstance(value, list):
        return ATOMIC_LIST
    return None


def _value_fields(t: Type | None) -> frozenset[str]:
    return t.value_fields if isinstance(t, Struct) else frozenset()


def _is_empty(value: Any) -> bool:
    return value is MISSING or value is None or value == {} or value == []


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict | list) or isinstance(b, dict | list):
        return _same_sorted(a, b) or encode_json(a) == encode_json(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _same_sorted(a: Any, b: Any) -> bool:
    """Equal as Go's sorted-key JSON of them would be (orjson's bytes; ``==`` tells NaN from null)."""
    try:
        return orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
            b, option=orjson.OPT_SORT_KEYS
        ) and bool(a == b)
    except (TypeError, orjson.JSONEncodeError):
        return False


def item_element(list_type: ListOf | None, index: int, item: Any) -> str:
    """The path element identifying ``item`` (at ``index``) in a list of ``list_type``."""
    if list_type is not None and list_type.kind == "map" and isinstance(item, dict):
        keys: dict[str, Any] = {}
        for name in list_type.keys:
            if item.get(name) is not None:
                keys[name] = item[name]
            elif name in list_type.key_defaults:
                keys[name] = list_type.key_defaults[name]
        if keys:
            return key_element(keys)
    elif list_type is not None and list_type.kind == "set" and not isinstance(item, dict | list):
        return VALUE + encode_json(item)
    return f"{INDEX}{index}"


def _index(list_type: ListOf, items: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, item in enumerate(items):
        out.setdefault(item_element(list_type, i, item), item)
    return out


def _element_type(t: Type | None) -> Type | None:
    return t.element if isinstance(t, ListOf) else None


# --- ToFieldSet ------------------------------------------------------------------------------------


def to_field_set(value: dict[str, Any], root: Type) -> set[Path]:
    """Every path ``value`` sets, as upstream's ``ToFieldSet``."""
    out: set[Path] = set()
    _to_set(value, root, (), out)
    return out


def _to_set(value: Any, t: Type | None, path: Path, out: set[Path]) -> None:
    t = _deduce(t, value)
    if isinstance(value, dict):
        if is_atomic(t):
            out.add(path)
            return
        for key, child in value.items():
            child_path = (*path, FIELD + key)
            _to_set(child, child_type(t, key), child_path, out)
            if isinstance(t, MapOf) or (isinstance(child, dict | list) and not child):
                out.add(child_path)
        return
    if isinstance(value, list):
        if not isinstance(t, ListOf) or t.kind == "atomic":
            out.add(path)
            return
        for i, item in enumerate(value):
            item_path = (*path, item_element(t, i, item))
            _to_set(item, t.element, item_path, out)
            out.add(item_path)
        return
    out.add(path)


# --- Compare ---------------------------------------------------------------------------------------


def compare(lhs: dict[str, Any], rhs: dict[str, Any], root: Type) -> Comparison:
    """What changed from ``lhs`` to ``rhs``, as upstream's ``TypedValue.Compare``.

    ``lhs`` is a stored object (decoded JSON: no NaN), as it is for every caller; subtrees that are
    the same on both sides (see :func:`_same`) are skipped without being walked.
    """
    result = Comparison()
    _compare(lhs, rhs, root, (), result)
    return result


def _same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are the same JSON value, so comparing them would find nothing.

    Scalars must have the same type (``1`` and ``1.0``, ``1`` and ``True`` are walked as usual).
    Containers must serialise to the same bytes (same keys in the same order, same scalar types)
    and be equal: orjson writes NaN as ``null``, and equality tells ``None`` from NaN, given that one
    side (the stored object) holds no NaN. Anything orjson cannot serialise is walked as usual.
    """
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict or kind is list:
        if len(a) != len(b):
            return False
        try:
            return orjson.dumps(a) == orjson.dumps(b) and bool(a == b)
        except (TypeError, orjson.JSONEncodeError):
            return False
    return bool(a == b)


def _compare(lhs: Any, rhs: Any, t: Type | None, path: Path, result: Comparison) -> None:
    if lhs is MISSING:
        if rhs is not MISSING:
            _added(rhs, t, path, result)
        return
    if rhs is MISSING:
        _removed(lhs, t, path, result)
        return
    t = _deduce(t, lhs)
    dicts = isinstance(lhs, dict) and isinstance(rhs, dict)
    granular_list = (
        isinstance(lhs, list) and isinstance(rhs, list) and isinstance(t, ListOf) and t.kind != "atomic"
    )
    if is_atomic(t) or not (dicts or granular_list) or (_is_empty(lhs) and _is_empty(rhs)):
        if not _equal(lhs, rhs):
            result.modified.add(path)
        return
    if dicts:
        value_fields = _value_fields(t)
        for key, lv in lhs.items():
            rv = rhs.get(key, MISSING)
            if rv is MISSING:
                if key in value_fields and isinstance(lv, dict):
                    _compare(lv, {}, child_type(t, key), (*path, FIELD + key), result)
                else:
                    _removed(lv, child_type(t, key), (*path, FIELD + key), result)
            elif not _same(lv, rv):
                _compare(lv, rv, child_type(t, key), (*path, FIELD + key), result)
        for key, rv in rhs.items():
            if key not in lhs:
                if key in value_fields and isinstance(rv, dict):
                    _compare({}, rv, child_type(t, key), (*path, FIELD + key), result)
                else:
                    _added(rv, child_type(t, key), (*path, FIELD + key), result)
        return
    assert isinstance(t, ListOf)
    left_items = _index(t, lhs)
    right_items = _index(t, rhs)
    for pe, lv in left_items.items():
        rv = right_items.get(pe, MISSING)
        if rv is MISSING:
            _removed(lv, t.element, (*path, pe), result)
        elif not _same(lv, rv):
            _compare(lv, rv, t.element, (*path, pe), result)
    for pe, rv in right_items.items():
        if pe not in left_items:
            _added(rv, t.element, (*path, pe), result)


def _children(t: Type | None) -> tuple[frozenset[str], Any, Type | None]:
    """``(value fields, field types or None, element type)`` of a map-like node of type ``t``."""
    if isinstance(t, Struct):
        return t.value_fields, t.fields, None
    if isinstance(t, MapOf):
        return frozenset(), None, t.element
    return frozenset(), None, None


def _added(rhs: Any, t: Type | None, path: Path, result: Comparison) -> None:
    """``_compare(MISSING, rhs)``: every member of ``rhs`` is added (value fields count as ``{}``).

    The one walk of a create; inlines ``_deduce``, ``child_type`` and the leaf test.
    """
    if isinstance(rhs, dict):
        t = ANY_STRUCT if t is None else t
        if rhs and not is_atomic(t):
            value_fields, fields, element = _children(t)
            for key, rv in rhs.items():
                ct = fields.get(key) if fields is not None else element
                if key in value_fields and isinstance(rv, dict):
                    _compare({}, rv, ct, (*path, FIELD + key), result)
                else:
                    _added(rv, ct, (*path, FIELD + key), result)
    elif isinstance(rhs, list) and rhs and isinstance(t, ListOf) and t.kind != "atomic":
        for pe, rv in _index(t, rhs).items():
            _added(rv, t.element, (*path, pe), result)
    result.added.add(path)


def _removed(lhs: Any, t: Type | None, path: Path, result: Comparison) -> None:
    """``_compare(lhs, MISSING)``: every member of ``lhs`` is removed (value fields count as ``{}``)."""
    if isinstance(lhs, dict):
        t = ANY_STRUCT if t is None else t
        if lhs and not is_atomic(t):
            value_fields, fields, element = _children(t)
            for key, lv in lhs.items():
                ct = fields.get(key) if fields is not None else element
                if key in value_fields and isinstance(lv, dict):
                    _compare(lv, {}, ct, (*path, FIELD + key), result)
                else:
                    _removed(lv, ct, (*path, FIELD + key), result)
    elif isinstance(lhs, list) and lhs and isinstance(t, ListOf) and t.kind != "atomic":
        for pe, lv in _index(t, lhs).items():
            _removed(lv, t.element, (*path, pe), result)
    result.removed.add(path)


# --- The fields of a new object, as a tree -----------------------------------------------------------


def added_fields_v1(value: dict[str, Any], root: Type) -> dict[str, Any]:
    """``to_fields_v1(compare({}, value, root).changed())``, built in one walk.

    A create compares against the empty object: everything is added except the value fields,
    which count as ``{}`` on the left. Walking the object once into a ``fieldsV1`` tree skips the
    path tuples, the field set and the tree built from it, which is most of a create's
    managed-fields cost.
    """
    return _zero_tree(value, root) or {}


def _node(children: dict[str, Any], *, member: bool) -> dict[str, Any]:
    out: dict[str, Any] = {SELF: {}} if member else {}
    for element in sorted_elements(list(children)):
        out[element] = children[element]
    return out


def _added_tree(rhs: Any, t: Type | None) -> dict[str, Any]:
    """The tree node of a member added with value ``rhs`` (mirrors :func:`_added`)."""
    children: dict[str, Any] = {}
    if isinstance(rhs, dict):
        t = ANY_STRUCT if t is None else t
        if not rhs or is_atomic(t):
            return {}
        value_fields, fields, element = _children(t)
        for key, rv in rhs.items():
            ct = fields.get(key) if fields is not None else element
            if key in value_fields and isinstance(rv, dict):
                child = _zero_tree(rv, ct)
                if child is not None:
                    children[FIELD + key] = child
            else:
                children[FIELD + key] = _added_tree(rv, ct)
    elif isinstance(rhs, list) and rhs and isinstance(t, ListOf) and t.kind != "atomic":
        for pe, rv in _index(t, rhs).items():
            children[pe] = _added_tree(rv, t.element)
    return _node(children, member=True) if children else {}


def _zero_tree(rhs: dict[str, Any], t: Type | None) -> dict[str, Any] | None:
    """The tree node of ``_compare({}, rhs)``: not a member itself unless an atomic value changed."""
    t = ANY_STRUCT if t is None else t
    if is_atomic(t) or not rhs:
        return None if _equal({}, rhs) else {}
    value_fields, fields, element = _children(t)
    children: dict[str, Any] = {}
    for key, rv in rhs.items():
        ct = fields.get(key) if fields is not None else element
        child = _zero_tree(rv, ct) if key in value_fields and isinstance(rv, dict) else _added_tree(rv, ct)
        if child is not None:
            children[FIELD + key] = child
    return _node(children, member=False) if children else None


# --- Merge -----------------------------------------------------------------------------------------


def merge(lhs: dict[str, Any], rhs: dict[str, Any], root: Type) -> dict[str, Any]:
    """``lhs`` with ``rhs`` merged in (``rhs`` wins), as upstream's ``TypedValue.Merge``."""
    merged: dict[str, Any] = _merge(lhs, rhs, root)
    return merged


def _merge(lhs: Any, rhs: Any, t: Type | None) -> Any:
    if rhs is MISSING:
        return lhs
    if lhs is MISSING:
        return rhs
    t = _deduce(t, rhs)
    if is_atomic(t) or (_is_empty(lhs) and _is_empty(rhs)):
        return rhs
    if isinstance(lhs, dict) and isinstance(rhs, dict):
        out = {key: _merge(value, rhs.get(key, MISSING), child_type(t, key)) for key, value in lhs.items()}
        out.update((key, value) for key, value in rhs.items() if key not in lhs)
        return out
    if isinstance(lhs, list) and isinstance(rhs, list) and isinstance(t, ListOf):
        return _merge_list(lhs, rhs, t)
    return rhs


def _merge_list(lhs: list[Any], rhs: list[Any], t: ListOf) -> list[Any]:
    """Upstream's ordering: left-only items stay in place, shared and right items follow ``rhs``.

    Walks both lists: a left-only head is emitted at once; a shared left head that is not the
    next shared item in ``rhs`` order is skipped (it is emitted when ``rhs`` reaches it); when
    both heads match they are merged; otherwise the right head is emitted.
    """
    left = list(_index(t, lhs).items())
    right = list(_index(t, rhs).items())
    left_map, right_map = dict(left), dict(right)
    shared = [pe for pe, _ in right if pe in left_map]
    next_shared = 0
    out: list[Any] = []
    li = ri = 0
    while li < len(left) or ri < len(right):
        wanted = shared[next_shared] if next_shared < len(shared) else None
        if li < len(left) and ri < len(right):
            pe = left[li][0]
            if pe == right[ri][0]:
                out.append(_merge(left[li][1], right[ri][1], t.element))
                li, ri, next_shared = li + 1, ri + 1, next_shared + 1
                continue
            if pe in right_map and wanted is not None and wanted != pe:
                li += 1
                continue
        if li < len(left) and left[li][0] not in right_map:
            out.append(left[li][1])
            li += 1
        elif ri < len(right):
            pe, item = right[ri]
            out.append(_merge(left_map.get(pe, MISSING), item, t.element))
            ri += 1
            if pe == wanted:
                next_shared += 1
        else:
            li += 1
    return out


# --- RemoveItems -----------------------------------------------------------------------------------


def remove_paths(value: dict[str, Any], paths: set[Path], root: Type) -> dict[str, Any]:
    """``value`` without the subtrees at ``paths``."""
    if not paths:
        return value
    trie: dict[str, Any] = {}
    for path in paths:
        node = trie
        for element in path:
            node = node.setdefault(element, {})
        node[SELF] = {}
    pruned: dict[str, Any] = _remove(value, root, trie)
    return pruned


def _remove(value: Any, t: Type | None, trie: dict[str, Any]) -> Any:
    t = _deduce(t, value)
    if isinstance(value, dict) and not is_atomic(t):
        out: dict[str, Any] = {}
        for key, child in value.items():
            sub = trie.get(FIELD + key)
            if sub is None:
                out[key] = child
            elif SELF not in sub:
                out[key] = _remove(child, child_type(t, key), sub)
        return out
    if isinstance(value, list) and isinstance(t, ListOf) and t.kind != "atomic":
        items: list[Any] = []
        for i, item in enumerate(value):
            sub = trie.get(item_element(t, i, item))
            if sub is None:
                items.append(item)
            elif SELF not in sub:
                items.append(_remove(item, _element_type(t), sub))
        return items
    return value
