"""The garbage collector's dependency graph: one :class:`Node` per object uid, linked owner → dependents.

Mirrors upstream ``pkg/controller/garbagecollector/graph.go`` (``node``, ``objectReference``,
``blockingDependents``, ``unblockOwnerReferencesStrategicMergePatch``), the pure helpers of
``graph_builder.go`` (``referencesDiffs``, ``partitionDependents``, ``getAlternateOwnerIdentity``,
``ownerReferenceMatchesCoordinates``, ``deletionStartsWithFinalizer``) and ``uid_cache.go``
(``ReferenceCache``, the LRU of owners verified absent).

A node is identified by uid; its ``identity`` carries the coordinates (apiVersion, kind, namespace,
name) used to GET the object. ``owners`` are the object's ``ownerReferences`` exactly as stored (plain
dicts); ``dependents`` maps the uid of every node that lists this node as an owner to that node. Owner
nodes that were referenced but never observed through an informer are *virtual*: their identity comes
from the first dependent's ownerReference (namespace taken from the dependent) and the collector
resolves them with a live GET. Only one event loop touches the graph, so there are no locks (upstream
needs ``dependentsLock``).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "FINALIZER_FOREGROUND",
    "FINALIZER_ORPHAN",
    "Node",
    "ObjectReference",
    "ReferenceCache",
    "being_deleted",
    "deletion_starts_with_finalizer",
    "get_alternate_owner_identity",
    "has_finalizer",
    "owner_reference_matches",
    "partition_dependents",
    "reference_coordinates",
    "references_diffs",
]

FINALIZER_ORPHAN = "orphan"
FINALIZER_FOREGROUND = "foregroundDeletion"
DEFAULT_ABSENT_OWNER_CACHE_SIZE = 500

OwnerRef = Mapping[str, Any]


@dataclasses.dataclass(frozen=True, order=False)
class ObjectReference:
    """Upstream ``objectReference``: ownerReference coordinates plus the namespace ("" cluster-scoped)."""

    api_version: str
    kind: str
    name: str
    uid: str
    namespace: str = ""

    def sort_key(self) -> tuple[str, str, str, str, str]:
        """Upstream ``referenceLessThan``: kind, namespace, name, apiVersion, uid."""
        return (self.kind, self.namespace, self.name, self.api_version, self.uid)

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return (
            f"[{self.api_version}/{self.kind}, namespace: {self.namespace}, name: {where}, uid: {self.uid}]"
        )


def reference_coordinates(ref: OwnerRef, *, namespace: str = "") -> ObjectReference:
    """The identity an ownerReference names (``ownerReferenceCoordinates`` plus a namespace)."""
    return ObjectReference(
        api_version=str(ref.get("apiVersion") or ""),
        kind=str(ref.get("kind") or ""),
        name=str(ref.get("name") or ""),
        uid=str(ref.get("uid") or ""),
        namespace=namespace,
    )


def owner_reference_matches(ref: OwnerRef, identity: ObjectReference) -> bool:
    """Upstream ``ownerReferenceMatchesCoordinates``: same uid, name, kind and apiVersion."""
    return (
        str(ref.get("uid") or "") == identity.uid
        and str(ref.get("name") or "") == identity.name
        and str(ref.get("kind") or "") == identity.kind
        and str(ref.get("apiVersion") or "") == identity.api_version
    )


def is_blocking(ref: OwnerRef) -> bool:
    return ref.get("blockOwnerDeletion") is True


class Node:
    """One object in the graph (upstream ``node``)."""

    __slots__ = ("being_deleted", "deleting_dependents", "dependents", "identity", "owners", "virtual")

    def __init__(
        self,
        identity: ObjectReference,
        *,
        owners: Sequence[OwnerRef] = (),
        virtual: bool = False,
        being_deleted: bool = False,
        deleting_dependents: bool = False,
    ) -> None:
        self.identity = identity
        self.owners: list[OwnerRef] = list(owners)
        self.dependents: dict[str, Node] = {}
        #: Referenced as an owner but not (yet) seen through an informer.
        self.virtual = virtual
        #: The object has a deletionTimestamp (a one-way trip).
        self.being_deleted = being_deleted
        #: Being deleted with the ``foregroundDeletion`` finalizer: waits for its blocking dependents.
        self.deleting_dependents = deleting_dependents

    @property
    def uid(self) -> str:
        return self.identity.uid

    def clone(self, *, identity: ObjectReference) -> Node:
        """A copy with another identity (used when a virtual node's coordinates are corrected)."""
        copy = Node(
            identity,
            owners=self.owners,
            virtual=self.virtual,
            being_deleted=self.being_deleted,
            deleting_dependents=self.deleting_dependents,
        )
        copy.dependents = dict(self.dependents)
        return copy

    def sorted_dependents(self) -> list[Node]:
        """Dependents sorted by identity, as upstream's ``getDependents`` callers rely on."""
        return sorted(self.dependents.values(), key=lambda n: n.identity.sort_key())

    def blocking_dependents(self) -> list[Node]:
        """Dependents whose ownerReference to this node has ``blockOwnerDeletion: true``."""
        return [
            dep
            for dep in self.sorted_dependents()
            if any(str(ref.get("uid") or "") == self.uid and is_blocking(ref) for ref in dep.owners)
        ]

    def unblock_owner_references_patch(self) -> dict[str, Any]:
        """Strategic merge patch setting ``blockOwnerDeletion: false`` on every blocking ownerReference."""
        refs = [{**ref, "blockOwnerDeletion": False} for ref in self.owners if is_blocking(ref)]
        return {"metadata": {"ownerReferences": refs, "uid": self.uid}}

    def __repr__(self) -> str:
        flags = [
            name
            for name, on in (
                ("virtual", self.virtual),
                ("beingDeleted", self.being_deleted),
                ("deletingDependents", self.deleting_dependents),
            )
            if on
        ]
        return f"Node({self.identity}, owners={len(self.owners)}, dependents={len(self.dependents)}, {flags})"


def _meta(obj: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (obj or {}).get("metadata") or {}


def being_deleted(obj: Mapping[str, Any] | None) -> bool:
    return bool(_meta(obj).get("deletionTimestamp"))


def has_finalizer(obj: Mapping[str, Any] | None, finalizer: str) -> bool:
    return finalizer in (_meta(obj).get("finalizers") or [])


def deletion_starts_with_finalizer(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], finalizer: str
) -> bool:
    """The object is being deleted with ``finalizer`` now, and was not (or lacked it) before."""
    if not being_deleted(new) or not has_finalizer(new, finalizer):
        return False
    if old is None:
        return True
    return not being_deleted(old) or not has_finalizer(old, finalizer)


def references_diffs(
    old: Sequence[OwnerRef], new: Sequence[OwnerRef]
) -> tuple[list[OwnerRef], list[OwnerRef], list[tuple[OwnerRef, OwnerRef]]]:
    """Upstream ``referencesDiffs``: (added, removed, changed (old, new) pairs), matched by uid."""
    old_by_uid = {str(ref.get("uid") or ""): ref for ref in old}
    added: list[OwnerRef] = []
    changed: list[tuple[OwnerRef, OwnerRef]] = []
    for ref in new:
        uid = str(ref.get("uid") or "")
        previous = old_by_uid.pop(uid, None)
        if previous is None:
            added.append(ref)
        elif previous != ref:
            changed.append((previous, ref))
    return added, list(old_by_uid.values()), changed


def partition_dependents(dependents: Iterable[Node], owner: ObjectReference) -> tuple[list[Node], list[Node]]:
    """Upstream ``partitionDependents``: dependents whose reference to ``owner.uid`` matches its coordinates
    (and namespace, for a namespaced owner), and those with at least one that does not."""
    owner_is_namespaced = bool(owner.namespace)
    matching: list[Node] = []
    nonmatching: list[Node] = []
    for dep in dependents:
        found_match = found_mismatch = False
        if owner_is_namespaced and owner.namespace != dep.identity.namespace:
            found_mismatch = True
        else:
            for ref in dep.owners:
                if str(ref.get("uid") or "") != owner.uid:
                    continue
                if owner_reference_matches(ref, owner):
                    found_match = True
                else:
                    found_mismatch = True
        if found_match:
            matching.append(dep)
        if found_mismatch:
            nonmatching.append(dep)
    return matching, nonmatching


def get_alternate_owner_identity(deps: Iterable[Node], absent: ObjectReference) -> ObjectReference | None:
    """Upstream ``getAlternateOwnerIdentity``: another identity the dependents use for ``absent.uid``.

    Returns the first alternate sorting after ``absent`` (so repeated calls cycle through them), or the
    first alternate overall.
    """
    cluster_scoped = not absent.namespace
    seen = {absent}
    first: ObjectReference | None = None
    first_following: ObjectReference | None = None
    for dep in deps:
        for ref in dep.owners:
            if str(ref.get("uid") or "") != absent.uid:
                continue
            if owner_reference_matches(ref, absent) and (
                cluster_scoped or absent.namespace == dep.identity.namespace
            ):
                continue
            alt = reference_coordinates(ref, namespace=dep.identity.namespace)
            if cluster_scoped and alt.api_version == absent.api_version and alt.kind == absent.kind:
                alt = dataclasses.replace(alt, namespace="")
            if alt in seen:
                continue
            seen.add(alt)
            if first is None or alt.sort_key() < first.sort_key():
                first = alt
            if absent.sort_key() < alt.sort_key() and (
                first_following is None or alt.sort_key() < first_following.sort_key()
            ):
                first_following = alt
    return first_following if first_following is not None else first


class ReferenceCache:
    """An LRU set of owner identities verified absent (upstream ``ReferenceCache`` in ``uid_cache.go``)."""

    def __init__(self, max_size: int = DEFAULT_ABSENT_OWNER_CACHE_SIZE) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._items: collections.OrderedDict[ObjectReference, None] = collections.OrderedDict()

    def add(self, ref: ObjectReference) -> None:
        self._items[ref] = None
        self._items.move_to_end(ref)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def has(self, ref: ObjectReference) -> bool:
        """Whether ``ref`` is cached; a hit makes it the most recently used."""
        if ref not in self._items:
            return False
        self._items.move_to_end(ref)
        return True

    def __len__(self) -> int:
        return len(self._items)
