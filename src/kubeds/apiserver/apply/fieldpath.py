"""Field paths, field sets and their ``FieldsV1`` encoding.

Mirrors ``sigs.k8s.io/structured-merge-diff/v4/fieldpath`` (``path.go``, ``element.go``,
``serialize.go``) in a simplified form. A path element is kept already in its ``FieldsV1``
spelling, so a :data:`Path` is a tuple of strings such as::

    ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"kube-proxy"}', "f:image")

Element kinds, as upstream:

* ``f:<name>``: a field of a struct or an entry of a map;
* ``k:<json>``: an item of an associative list (``x-kubernetes-list-type: map``), identified by
  its key fields, serialised as compact JSON with the key names sorted;
* ``v:<json>``: an item of a set (``x-kubernetes-list-type: set``), identified by its value;
* ``i:<n>``: an item of a list by index (only for items without usable keys).

A field set is a plain ``set[Path]``. Its ``FieldsV1`` form is a tree of JSON objects whose
leaves are ``{}``; a path that is itself a member and also has members below it carries the
``".": {}`` marker (upstream's ``Set.ToJSON``). Children are written in upstream's order: ``.``
first, then fields by name, then keys, values and indexes.

:func:`path_string` renders a path the way upstream's ``Path.String()`` does for messages,
e.g. ``.spec.template.spec.containers[name="kube-proxy"].image``.

:func:`decode_fields_v1` also says whether a tree is canonical (exactly what :func:`to_fields_v1`
writes), so a tree read from an object can be written back as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = [
    "Path",
    "decode_fields_v1",
    "element_string",
    "encode_json",
    "from_fields_v1",
    "has_prefix",
    "key_element",
    "path_sort_key",
    "path_string",
    "recursive_difference",
    "sorted_elements",
    "to_fields_v1",
]

Path = tuple[str, ...]

FIELD = "f:"
KEY = "k:"
VALUE = "v:"
INDEX = "i:"
SELF = "."

_KIND_RANK = {FIELD: 0, KEY: 1, VALUE: 2, INDEX: 3}
MEMO_LIMIT = 65536  # entries of each memo below before it starts over
_MEMO_SCALARS = frozenset({str, int, bool, type(None)})
_KEY_ELEMENTS: dict[tuple[tuple[str, type, Any], ...], str] = {}


def encode_json(value: Any) -> str:
    """Compact JSON with sorted keys, as Go's ``encoding/json`` writes a generic value.

    Go escapes ``<``, ``>`` and ``&`` inside strings; those characters only ever appear inside
    string literals of the output, so replacing them globally is safe.
    """
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def key_element(keys: dict[str, Any]) -> str:
    """The ``k:`` element of an associative-list item with these key field values.

    Memoised for scalar key values (the usual ``name``/``uid``/``type`` keys): the same items
    recur in every object of a kind and in every write of an object.
    """
    memo_key = tuple((name, type(value), value) for name, value in keys.items())
    if not all(kind in _MEMO_SCALARS for _, kind, _ in memo_key):  # 0.0 == -0.0; lists unhashable
        return KEY + encode_json(keys)
    element = _KEY_ELEMENTS.get(memo_key)
    if element is None:
        element = KEY + encode_json(keys)
        if len(_KEY_ELEMENTS) >= MEMO_LIMIT:
            _KEY_ELEMENTS.clear()
        _KEY_ELEMENTS[memo_key] = element
    return element


def _go_string(value: Any) -> str:
    """Upstream's ``value.ToString``: strings quoted, other scalars bare."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_go_string(v)}" for k, v in sorted(value.items())) + "}"
    return str(value)


def element_string(element: str) -> str:
    """One path element in upstream's ``PathElement.String()`` form."""
    kind, body = element[:2], element[2:]
    if kind == FIELD:
        return "." + body
    if kind == KEY:
        keys: dict[str, Any] = json.loads(body)
        return "[" + ",".join(f"{name}={_go_string(keys[name])}" for name in sorted(keys)) + "]"
    if kind == VALUE:
        return f"[={_go_string(json.loads(body))}]"
    if kind == INDEX:
        return f"[{body}]"
    return "{{invalid path element}}"


def path_string(path: Path) -> str:
    """``.spec.template.spec.containers[name="kube-proxy"].image``."""
    return "".join(element_string(e) for e in path)


def _element_sort_key(element: str) -> tuple[int, Any]:
    kind, body = element[:2], element[2:]
    rank = _KIND_RANK.get(kind, 4)
    if kind == INDEX:
        return rank, (int(body) if body.isdigit() else 0, body)
    return rank, (0, body)


def path_sort_key(path: Path) -> tuple[tuple[int, Any], ...]:
    """Orders paths as upstream's ``Path.Compare``: element by element, shorter first."""
    return tuple(_element_sort_key(e) for e in path)


def has_prefix(path: Path, prefix: Path) -> bool:
    return path[: len(prefix)] == prefix


def recursive_difference(paths: set[Path], prefixes: Iterable[Path]) -> set[Path]:
    """Upstream's ``Set.RecursiveDifference``: drop every path at or below one of ``prefixes``."""
    by_length: dict[int, set[Path]] = {}
    for q in prefixes:
        by_length.setdefault(len(q), set()).add(q)
    if not by_length:
        return set(paths)
    if len(by_length) == 1:
        ((n, heads),) = by_length.items()
        return {p for p in paths if p[:n] not in heads}
    groups = list(by_length.items())
    return {p for p in paths if not any(p[:n] in heads for n, heads in groups)}


def _build_tree(paths: Iterable[Path]) -> dict[str, Any]:
    """A nested dict of path elements; ``SELF`` marks a node that is itself a member."""
    root: dict[str, Any] = {}
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        node[SELF] = {}
    return root


def sorted_elements(elements: list[str]) -> list[str]:
    """``elements`` sorted in place in upstream's order (plain string order without ``i:`` ones)."""
    if len(elements) > 1:
        if any(e.startswith(INDEX) for e in elements):
            elements.sort(key=_element_sort_key)
        else:
            elements.sort()
    return elements


def _encode_node(node: dict[str, Any]) -> dict[str, Any]:
    children = sorted_elements([k for k in node if k != SELF])
    out: dict[str, Any] = {}
    if SELF in node and children:
        out[SELF] = {}
    for child in children:
        out[child] = _encode_node(node[child])
    return out


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """The ``fieldsV1`` JSON object of a field set.

    Built in one pass over the paths in sorted order: without ``i:`` elements, tuple order is
    upstream's order (``f:`` < ``k:`` < ``v:``, a parent before its children), so every child is
    inserted in place, a member parent gets its ``"."`` marker before its first child, and no
    node needs sorting. A set with ``i:`` elements takes the general tree-and-sort route.
    """
    members = paths if isinstance(paths, set | frozenset) else set(paths)
    root: dict[str, Any] = {}
    nodes: dict[Path, dict[str, Any]] = {(): root}
    try:
        for path in sorted(members):
            if path:
                _add_node(path, nodes, members)
    except _IndexElement:
        return _encode_node(_build_tree(members))
    return root


class _IndexElement(Exception):
    """An ``i:`` element: sorted tuple order is not upstream's order."""


def _add_node(
    path: Path, nodes: dict[Path, dict[str, Any]], members: set[Path] | frozenset[Path]
) -> dict[str, Any]:
    """Create the node of ``path`` (and of its ancestors not created yet) in its parent."""
    parent = nodes.get(path[:-1])
    if parent is None:
        parent = _add_node(path[:-1], nodes, members)
    element = path[-1]
    if element.startswith(INDEX):
        raise _IndexElement
    if not parent and path[:-1] in members:
        parent[SELF] = {}
    node: dict[str, Any] = {}
    parent[element] = node
    nodes[path] = node
    return node


def from_fields_v1(tree: dict[str, Any]) -> set[Path]:
    """Decode a ``fieldsV1`` object; raises ``ValueError`` on anything not shaped like one."""
    return decode_fields_v1(tree)[0]


def decode_fields_v1(tree: dict[str, Any]) -> tuple[set[Path], bool]:
    """:func:`from_fields_v1`, and whether ``tree`` is exactly what :func:`to_fields_v1` makes of it.

    Trees the server wrote are canonical; one a client sent may not be (unsorted children, a
    ``"."`` marker on a leaf), and is then re-encoded rather than stored as sent.
    """
    out: set[Path] = set()
    canonical = True

    def walk(node: Any, prefix: Path) -> None:
        nonlocal canonical
        if not isinstance(node, dict):
            raise ValueError(f"expected an object at {path_string(prefix) or '.'}")
        if not node and prefix:
            out.add(prefix)
            return
        keys = list(node)
        if len(keys) > 1 and canonical:
            canonical = _in_canonical_order(keys)
        for key in keys:
            child = node[key]
            if key == SELF:
                if prefix:
                    out.add(prefix)
                if child != {} or len(keys) == 1 or not prefix:
                    canonical = False
                continue
            if key[:2] not in _KIND_RANK:
                raise ValueError(f"unknown path element {key!r}")
            walk(child, (*prefix, key))

    walk(tree, ())
    return out, canonical


def _in_canonical_order(keys: list[str]) -> bool:
    """Keys in :func:`_encode_node`'s order: ``.``, then ``f:``, ``k:``, ``v:`` and ``i:`` elements.

    Without ``i:`` elements that is plain string order (``.`` < ``f`` < ``k`` < ``v``).
    """
    if any(k.startswith(INDEX) for k in keys):
        rest = [k for k in keys if k != SELF]
        return (SELF not in keys or keys[0] == SELF) and rest == sorted(rest, key=_element_sort_key)
    return keys == sorted(keys)
