"""The informer's local cache: objects by ``namespace/name`` key, with secondary indexes.

Mirrors client-go ``tools/cache``: ``store.go`` (``MetaNamespaceKeyFunc``,
``SplitMetaNamespaceKey``), ``thread_safe_store.go`` and ``index.go`` (an ``Indexer`` whose index
functions map an object to the values it is filed under, e.g. ``MetaNamespaceIndexFunc``). Like the
controllers' listers, lookups by index return every object filed under a value, in key order.

Only one event loop touches an :class:`Indexer`, so it has no locks. **Objects in the cache are shared
with every reader and with the informer: treat them as read-only.** A controller that wants to change
an object deep-copies it first (``copy.deepcopy``), exactly as upstream listers require.

Ready-made index functions: :func:`index_by_namespace`, :func:`index_by_node_name` (pods by
``spec.nodeName``; unscheduled pods are not indexed) and :func:`index_by_controller_uid` (objects by
the uid of their controller ``ownerReference``).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "NAMESPACE_INDEX",
    "IndexFunc",
    "Indexer",
    "index_by_controller_uid",
    "index_by_namespace",
    "index_by_node_name",
    "meta_namespace_key",
    "split_meta_namespace_key",
]

NAMESPACE_INDEX = "namespace"
NODE_NAME_INDEX = "nodeName"
CONTROLLER_UID_INDEX = "controllerUID"
MSG_UNEXPECTED_KEY = "unexpected key format: {key!r}"
MSG_INDEX_EXISTS = "indexer conflict: {names}"
MSG_INDEX_MISSING = "Index with name {name} does not exist"

IndexFunc = Callable[[Mapping[str, Any]], list[str]]


def meta_namespace_key(obj: Mapping[str, Any]) -> str:
    """``namespace/name``, or ``name`` for cluster-scoped objects (upstream ``MetaNamespaceKeyFunc``)."""
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name") or "")
    namespace = str(metadata.get("namespace") or "")
    return f"{namespace}/{name}" if namespace else name


def split_meta_namespace_key(key: str) -> tuple[str, str]:
    """``("ns", "name")`` from ``ns/name``, ``("", "name")`` from ``name``; ValueError otherwise."""
    parts = key.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    raise ValueError(MSG_UNEXPECTED_KEY.format(key=key))


def index_by_namespace(obj: Mapping[str, Any]) -> list[str]:
    """Upstream ``MetaNamespaceIndexFunc``: the object's namespace (``""`` for cluster scope)."""
    return [str((obj.get("metadata") or {}).get("namespace") or "")]


def index_by_node_name(obj: Mapping[str, Any]) -> list[str]:
    """Pods by ``spec.nodeName``; pods not bound to a node are not filed."""
    node = (obj.get("spec") or {}).get("nodeName")
    return [str(node)] if node else []


def index_by_controller_uid(obj: Mapping[str, Any]) -> list[str]:
    """Objects by the uid of their controller ownerReference (``controller: true``); orphans are not filed."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller") and ref.get("uid"):
            return [str(ref["uid"])]
    return []


class Indexer:
    """Objects by key plus named secondary indexes, maintained on every change."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._indexers: dict[str, IndexFunc] = {}
        # index name -> indexed value -> keys
        self._indices: dict[str, dict[str, set[str]]] = {}
        if indexers:
            self.add_indexers(indexers)

    # -- writes ---------------------------------------------------------------------------------

    def add(self, obj: dict[str, Any]) -> None:
        """Insert or replace ``obj`` under its key."""
        key = meta_namespace_key(obj)
        old = self._items.get(key)
        self._items[key] = obj
        self._update_indices(key, old=old, new=obj)

    def update(self, obj: dict[str, Any]) -> None:
        """Same as :meth:`add` (upstream stores do not distinguish them)."""
        self.add(obj)

    def delete(self, obj: Mapping[str, Any]) -> None:
        """Remove the object stored under ``obj``'s key, if any."""
        self.delete_by_key(meta_namespace_key(obj))

    def delete_by_key(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._update_indices(key, old=old, new=None)

    def replace(self, objs: Iterable[dict[str, Any]]) -> None:
        """Make the store hold exactly ``objs`` (the informer's relist), rebuilding every index."""
        self._items = {meta_namespace_key(obj): obj for obj in objs}
        self._indices = {name: {} for name in self._indexers}
        for key, obj in self._items.items():
            self._update_indices(key, old=None, new=obj)

    # -- reads ----------------------------------------------------------------------------------

    def get(self, obj_or_key: Mapping[str, Any] | str) -> dict[str, Any] | None:
        """The stored object for a key, or for the key of ``obj`` (upstream ``Get(obj)``)."""
        key = obj_or_key if isinstance(obj_or_key, str) else meta_namespace_key(obj_or_key)
        return self._items.get(key)

    def get_by_key(self, key: str) -> dict[str, Any] | None:
        return self._items.get(key)

    def list(self) -> builtins.list[dict[str, Any]]:
        """Every object (shared, read-only)."""
        return list(self._items.values())

    def keys(self) -> builtins.list[str]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    # -- indexes --------------------------------------------------------------------------------

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Register index functions; existing objects are indexed at once. A name may be added once."""
        clash = sorted(set(indexers) & set(self._indexers))
        if clash:
            raise ValueError(MSG_INDEX_EXISTS.format(names=", ".join(clash)))
        for name, func in indexers.items():
            self._indexers[name] = func
            index: dict[str, set[str]] = {}
            for key, obj in self._items.items():
                for value in func(obj):
                    index.setdefault(value, set()).add(key)
            self._indices[name] = index

    def get_indexers(self) -> dict[str, IndexFunc]:
        return dict(self._indexers)

    def index_keys(self, name: str, value: str) -> builtins.list[str]:
        """Keys filed under ``value`` in index ``name``, sorted."""
        return sorted(self._index(name).get(value, ()))

    def by_index(self, name: str, value: str) -> builtins.list[dict[str, Any]]:
        """Objects filed under ``value`` in index ``name``, in key order (shared, read-only)."""
        return [self._items[key] for key in self.index_keys(name, value)]

    def list_index_values(self, name: str) -> builtins.list[str]:
        """Every value that index ``name`` currently files objects under."""
        return sorted(self._index(name))

    def _index(self, name: str) -> dict[str, set[str]]:
        if name not in self._indexers:
            raise KeyError(MSG_INDEX_MISSING.format(name=name))
        return self._indices[name]

    def _update_indices(
        self, key: str, *, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> None:
        for name, func in self._indexers.items():
            index = self._indices[name]
            old_list = func(old) if old is not None else []
            new_list = func(new) if new is not None else []
            if old_list == new_list and old is not None:
                continue  # the common update: filed under the same values (its key is there already)
            old_values, new_values = set(old_list), set(new_list)
            for value in old_values - new_values:
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
            for value in new_values - old_values:
                index.setdefault(value, set()).add(key)
