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
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = [
    "Path",
    "element_string",
    "encode_json",
    "from_fields_v1",
    "has_prefix",
    "key_element",
    "path_sort_key",
    "path_string",
    "recursive_difference",
    "to_fields_v1",
]

Path = tuple[str, ...]

FIELD = "f:"
KEY = "k:"
VALUE = "v:"
INDEX = "i:"
SELF = "."

_KIND_RANK = {FIELD: 0, KEY: 1, VALUE: 2, INDEX: 3}


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
    """The ``k:`` element of an associative-list item with these key field values."""
    return KEY + encode_json(keys)


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
    prefix_list = list(prefixes)
    return {p for p in paths if not any(has_prefix(p, q) for q in prefix_list)}


def _build_tree(paths: Iterable[Path]) -> dict[str, Any]:
    """A nested dict of path elements; ``SELF`` marks a node that is itself a member."""
    root: dict[str, Any] = {}
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        node[SELF] = {}
    return root


def _encode_node(node: dict[str, Any]) -> dict[str, Any]:
    children = sorted((k for k in node if k != SELF), key=_element_sort_key)
    out: dict[str, Any] = {}
    if SELF in node and children:
        out[SELF] = {}
    for child in children:
        out[child] = _encode_node(node[child])
    return out


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """The ``fieldsV1`` JSON object of a field set."""
    return _encode_node(_build_tree(paths))


def from_fields_v1(tree: dict[str, Any]) -> set[Path]:
    """Decode a ``fieldsV1`` object; raises ``ValueError`` on anything not shaped like one."""
    out: set[Path] = set()

    def walk(node: Any, prefix: Path) -> None:
        if not isinstance(node, dict):
            raise ValueError(f"expected an object at {path_string(prefix) or '.'}")
        if not node and prefix:
            out.add(prefix)
            return
        for key, child in node.items():
            if key == SELF:
                if prefix:
                    out.add(prefix)
                continue
            if key[:2] not in _KIND_RANK:
                raise ValueError(f"unknown path element {key!r}")
            walk(child, (*prefix, key))

    walk(tree, ())
    return out
