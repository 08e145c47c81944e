"""The scheduler cache: a NodeInfo per node, with bound *and assumed* pods accounted on it.

Mirrors upstream ``pkg/scheduler/backend/cache/cache.go`` (``cacheImpl``, v1.34):

* a pod the scheduler has picked a node for is **assumed** (:meth:`SchedulerCache.assume_pod`)
  before its binding is sent, so the next scheduling cycle already counts its requests and host
  ports on that node; binding runs in the background;
* when the pod informer later delivers the pod with ``spec.nodeName`` set, :meth:`add_pod`
  *confirms* the assumed pod (moving it if it landed elsewhere); if binding failed,
  :meth:`forget_pod` takes it off the node again;
* assumed pods never expire (upstream's ``durationToExpireAssumedPod`` is 0 since v1.30);
  :meth:`finish_binding` only records that the binding call returned;
* pods assigned to a node the cache does not know yet (the pod event came first), or whose node was
  deleted, are kept aside and accounted when the node (re)appears, as upstream keeps a NodeInfo
  without a node; such nodes are not offered for scheduling.

Upstream copies changed NodeInfos into a snapshot before each cycle because its filters run in
parallel goroutines while events keep updating the cache. Here one event loop runs the whole
scheduling cycle (filters, scores, assume) without awaiting, so the cycle reads the live NodeInfos:
:meth:`node_infos` is the node list in insertion order (upstream's ``nodeTree`` interleaves zones;
kubeds nodes carry no zone spreading), rebuilt only when nodes come or go.

Pods are keyed by UID, like the framework's :class:`~kubeds.scheduler.framework.NodeInfo`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubeds.scheduler.framework import CycleState, NodeInfo

__all__ = ["CacheError", "SchedulerCache", "pod_uid"]

log = logging.getLogger(__name__)

MSG_ALREADY_ASSUMED = "pod {key} is in the cache, so can't be assumed"
MSG_NOT_ASSUMED = "pod {key} wasn't assumed so cannot be forgotten"
MSG_FORGET_WRONG_NODE = "pod {key} was assumed on {assumed} but assigned to {node}"
MSG_NOT_IN_CACHE = "pod {key} is not found in scheduler cache, so cannot be removed from it"


class CacheError(Exception):
    """A cache call that does not fit the pod's state (upstream returns these as errors)."""


def pod_uid(pod: Mapping[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return str(meta.get("uid") or f"{meta.get('namespace') or ''}/{meta.get('name') or ''}")


def _node_name_of_pod(pod: Mapping[str, Any]) -> str:
    return str((pod.get("spec") or {}).get("nodeName") or "")


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


@dataclass
class _PodState:
    pod: Mapping[str, Any]
    assumed: bool
    binding_finished: bool = False


class SchedulerCache:
    """NodeInfos kept current from node and assigned-pod events, plus assumed pods."""

    def __init__(self) -> None:
        self._nodes: dict[str, NodeInfo] = {}
        self._orphans: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._pods: dict[str, _PodState] = {}
        self._list: list[NodeInfo] | None = None

    # -- reading --------------------------------------------------------------------------------

    def node_infos(self) -> Sequence[NodeInfo]:
        """Every known node's NodeInfo, in a stable order (the scheduling snapshot)."""
        if self._list is None:
            self._list = list(self._nodes.values())
        return self._list

    def get(self, node_name: str) -> NodeInfo | None:
        return self._nodes.get(node_name)

    def __len__(self) -> int:
        return len(self._nodes)

    def is_assumed_pod(self, pod: Mapping[str, Any]) -> bool:
        state = self._pods.get(pod_uid(pod))
        return state is not None and state.assumed

    def get_pod(self, pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
        state = self._pods.get(pod_uid(pod))
        return state.pod if state is not None else None

    @property
    def assumed_count(self) -> int:
        return sum(1 for s in self._pods.values() if s.assumed)

    @property
    def pod_count(self) -> int:
        return len(self._pods)

    # -- pods -----------------------------------------------------------------------------------

    def _account(self, pod: Mapping[str, Any], state: CycleState | None = None) -> None:
        node = _node_name_of_pod(pod)
        info = self._nodes.get(node)
        if info is not None:
            info.add_pod(pod, state=state)
        else:
            self._orphans.setdefault(node, {})[pod_uid(pod)] = pod

    def _unaccount(self, pod: Mapping[str, Any]) -> None:
        node = _node_name_of_pod(pod)
        info = self._nodes.get(node)
        if info is not None:
            info.remove_pod(pod_uid(pod))
            return
        orphans = self._orphans.get(node)
        if orphans is not None:
            orphans.pop(pod_uid(pod), None)
            if not orphans:
                del self._orphans[node]

    def assume_pod(self, pod: Mapping[str, Any], *, state: CycleState | None = None) -> None:
        """Account ``pod`` (its ``spec.nodeName`` already set to the chosen node) before binding.

        ``state`` is the cycle state the decision was made with (its requests and ports are reused).
        """
        key = pod_uid(pod)
        if key in self._pods:
            raise CacheError(MSG_ALREADY_ASSUMED.format(key=key))
        self._account(pod, state)
        self._pods[key] = _PodState(pod, assumed=True)

    def finish_binding(self, pod: Mapping[str, Any]) -> None:
        """The binding call returned (successfully or not); kept for parity with upstream."""
        state = self._pods.get(pod_uid(pod))
        if state is not None and state.assumed:
            state.binding_finished = True

    def forget_pod(self, pod: Mapping[str, Any]) -> None:
        """Undo :meth:`assume_pod` (binding failed)."""
        key = pod_uid(pod)
        state = self._pods.get(key)
        if state is None or not state.assumed:
            raise CacheError(MSG_NOT_ASSUMED.format(key=key))
        assumed_node = _node_name_of_pod(state.pod)
        if assumed_node != _node_name_of_pod(pod):
            raise CacheError(
                MSG_FORGET_WRONG_NODE.format(key=key, assumed=assumed_node, node=_node_name_of_pod(pod))
            )
        self._unaccount(state.pod)
        del self._pods[key]

    def add_pod(self, pod: Mapping[str, Any]) -> None:
        """An assigned pod seen by the informer: confirms an assumed pod, else accounts it."""
        key = pod_uid(pod)
        state = self._pods.get(key)
        if state is not None and not state.assumed:
            # Already added (e.g. a relist delivered it again): treat as an update.
            self.update_pod(state.pod, pod)
            return
        if state is not None:
            if not self._replace_if_same_usage(state.pod, pod):
                self._unaccount(state.pod)
                self._account(pod)
        else:
            self._account(pod)
        self._pods[key] = _PodState(pod, assumed=False)

    def _replace_if_same_usage(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        """Swap the pod object on its node when the spec is unchanged (confirmations, status updates).

        Re-accounting parses every request again; most pod updates (status, labels, the informer
        confirming an assumed pod) leave the spec - and so the node, requests and ports - as they are.
        """
        if old.get("spec") != new.get("spec"):
            return False
        node = _node_name_of_pod(new)
        info = self._nodes.get(node)
        key = pod_uid(new)
        if info is not None and key in info.pods:
            info.pods[key] = new
            return True
        orphans = self._orphans.get(node)
        if orphans is not None and key in orphans:
            orphans[key] = new
            return True
        return False

    def update_pod(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """An assigned pod changed (requests resized, ports, phase...)."""
        key = pod_uid(new)
        state = self._pods.get(key)
        if state is None or state.assumed:
            self.add_pod(new)
            return
        if not self._replace_if_same_usage(state.pod, new):
            self._unaccount(state.pod)
            self._account(new)
        state.pod = new

    def remove_pod(self, pod: Mapping[str, Any]) -> None:
        """An assigned pod was deleted (or became terminal)."""
        key = pod_uid(pod)
        state = self._pods.pop(key, None)
        if state is None:
            log.debug(MSG_NOT_IN_CACHE.format(key=key))
            return
        self._unaccount(state.pod)

    # -- nodes ----------------------------------------------------------------------------------

    def add_node(self, node: Mapping[str, Any]) -> NodeInfo:
        name = _name(node)
        info = self._nodes.get(name)
        if info is not None:
            info.set_node(node)
            return info
        info = NodeInfo(node, (self._orphans.pop(name, {})).values())
        self._nodes[name] = info
        self._list = None
        return info

    def update_node(self, node: Mapping[str, Any]) -> NodeInfo:
        return self.add_node(node)

    def remove_node(self, node: Mapping[str, Any] | str) -> None:
        """Forget the node; pods still assigned to it wait aside until they are deleted."""
        name = node if isinstance(node, str) else _name(node)
        info = self._nodes.pop(name, None)
        if info is None:
            return
        self._list = None
        if info.pods:
            self._orphans[name] = dict(info.pods)
