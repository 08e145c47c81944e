"""Builders and a fake sync loop for the DaemonSet decision tests.

A port of the fixtures of upstream ``pkg/controller/daemon/daemon_controller_test.go``
(``newDaemonSet``, ``newNode``, ``addNodes``, ``newPod``, ``addPods``, ``newRollingUpdateStrategy``,
``newUpdateSurge``, ``markPodsReady``, ``clearExpectations``) and of its harness: ``FakeCluster.sync``
runs what ``syncDaemonSet`` runs, with the fake pod control applying creates and deletes to the pod
store at once (so the rolling update of the same sync sees them), and reports the numbers
``expectSyncDaemonSets`` checks: creates, deletes and DaemonSet-controller events.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from kubeds.clock import format_time
from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.decisions import manage_decisions
from kubeds.controllers.daemonset.history import (
    cleanup_history_candidates,
    compute_hash,
    construct_history,
    live_pod_hashes,
)
from kubeds.controllers.daemonset.pods import claimed, nodes_to_daemon_pods
from kubeds.controllers.daemonset.podtemplate import new_pod as controller_new_pod
from kubeds.controllers.daemonset.rolling import rolling_update_decisions
from kubeds.controllers.daemonset.status import compute_status

SIMPLE_DS_LABEL = {"name": "simple-daemon", "type": "production"}
SIMPLE_DS_LABEL2 = {"name": "simple-daemon", "type": "test"}
SIMPLE_NODE_LABEL = {"color": "blue", "speed": "fast"}
SIMPLE_NODE_LABEL2 = {"color": "red", "speed": "fast"}

NO_SCHEDULE_TOLERATIONS = [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]
NO_SCHEDULE_TAINTS = [{"key": "dedicated", "value": "user1", "effect": "NoSchedule"}]
NO_EXECUTE_TAINTS = [{"key": "dedicated", "value": "user1", "effect": "NoExecute"}]

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

_names = itertools.count()


def at(seconds: float) -> dt.datetime:
    """Unix time ``seconds`` (upstream tests use ``time.Unix(n, 0)``)."""
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def on_delete() -> dict[str, Any]:
    return {"type": c.ON_DELETE}


def rolling_update(max_unavailable: int | str = 1) -> dict[str, Any]:
    return {"type": c.ROLLING_UPDATE, "rollingUpdate": {"maxUnavailable": max_unavailable}}


def surge(max_surge: int | str) -> dict[str, Any]:
    return {"type": c.ROLLING_UPDATE, "rollingUpdate": {"maxUnavailable": 0, "maxSurge": max_surge}}


def update_strategies() -> list[dict[str, Any]]:
    """Upstream ``updateStrategies()``: most tests run once per strategy."""
    return [on_delete(), rolling_update(1)]


def new_daemonset(name: str = "foo", *, strategy: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default", "uid": str(uuid.uuid4()), "generation": 1},
        "spec": {
            "revisionHistoryLimit": 2,
            "updateStrategy": strategy or on_delete(),
            "selector": {"matchLabels": dict(SIMPLE_DS_LABEL)},
            "template": {
                "metadata": {"labels": dict(SIMPLE_DS_LABEL)},
                "spec": {
                    "containers": [
                        {
                            "name": "foo",
                            "image": "foo/bar",
                            "terminationMessagePath": "/dev/termination-log",
                            "imagePullPolicy": "IfNotPresent",
                        }
                    ],
                    "dnsPolicy": "Default",
                },
            },
        },
    }


def new_node(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "allocatable": {"pods": "100"},
        },
    }


def add_nodes(
    nodes: list[dict[str, Any]], start: int, count: int, labels: dict[str, str] | None = None
) -> None:
    nodes.extend(new_node(f"node-{i}", labels) for i in range(start, start + count))


def ds_hash(ds: dict[str, Any]) -> str:
    return compute_hash(ds["spec"]["template"], ds.get("status", {}).get("collisionCount"))


def new_pod(
    prefix: str, node_name: str, labels: dict[str, str], ds: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Upstream ``newPod``: with a DaemonSet, the current hash label and a controllerRef."""
    pod_labels = dict(labels)
    if ds is not None:
        pod_labels[c.CONTROLLER_REVISION_HASH_LABEL] = ds_hash(ds)
        spec = copy.deepcopy(ds["spec"]["template"]["spec"])
    else:
        spec = {"containers": [{"name": "foo", "image": "foo/bar"}]}
    if node_name:
        spec["nodeName"] = node_name
    meta: dict[str, Any] = {
        "name": f"{prefix}{next(_names):05d}",
        "generateName": prefix,
        "namespace": "default",
        "labels": pod_labels,
    }
    if ds is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "name": ds["metadata"]["name"],
                "uid": ds["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": {}}


def set_ready(pod: dict[str, Any], ready: bool = True, *, since: dt.datetime | None = None) -> None:
    cond: dict[str, Any] = {"type": "Ready", "status": "True" if ready else "False"}
    if since is not None:
        cond["lastTransitionTime"] = format_time(since)
    pod.setdefault("status", {})["conditions"] = [cond]


def set_created(pod: dict[str, Any], when: dt.datetime) -> None:
    pod["metadata"]["creationTimestamp"] = format_time(when)


@dataclass
class SyncResult:
    creates: list[str] = field(default_factory=list)  # node names
    deletes: list[str] = field(default_factory=list)  # pod names
    events: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.creates), len(self.deletes), len(self.events)


@dataclass
class FakeCluster:
    """Informer stores plus a fake pod control and failed-pod backoff around the pure decisions."""

    ds: dict[str, Any]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)
    histories: list[dict[str, Any]] = field(default_factory=list)
    now: dt.datetime = NOW
    backoff: dict[str, tuple[float, dt.datetime]] = field(default_factory=dict)
    backoff_initial: float = 0.05  # upstream tests: NewFakeBackOff(50ms, 500ms, ...)
    backoff_max: float = 0.5
    created_by_fake: set[str] = field(default_factory=set)
    stored_status: dict[str, Any] = field(default_factory=dict)

    def add_pods(self, node: str, labels: dict[str, str], ds: dict[str, Any] | None, count: int) -> None:
        self.pods.extend(new_pod(f"{node}-", node, labels, ds) for _ in range(count))

    def add_failed_pods(
        self, node: str, labels: dict[str, str], ds: dict[str, Any] | None, count: int
    ) -> None:
        for _ in range(count):
            pod = new_pod(f"{node}-", node, labels, ds)
            pod["status"] = {"phase": "Failed"}
            self.pods.append(pod)

    def backoff_active(self, key: str) -> bool:
        entry = self.backoff.get(key)
        return entry is not None and (self.now - entry[1]).total_seconds() < entry[0]

    def _backoff_next(self, key: str) -> None:
        entry = self.backoff.get(key)
        delay = self.backoff_initial if entry is None else min(entry[0] * 2, self.backoff_max)
        self.backoff[key] = (delay, self.now)

    def hash(self) -> str:
        return construct_history(self.ds, self.histories, []).hash

    def mark_pods_ready(self) -> None:
        for pod in self.pods:
            set_ready(pod, since=self.now)

    def clear_expectations(self) -> None:
        """Upstream ``clearExpectations``: give pods created by the fake a creation time."""
        for pod in self.pods:
            pod["metadata"].setdefault("creationTimestamp", format_time(self.now))

    def _claimed(self) -> list[dict[str, Any]]:
        return claimed(self.ds, self.pods)  # type: ignore[return-value]

    def _delete(self, names: list[str], result: SyncResult) -> bool:
        """Like upstream's fake: records every delete, but only pods it created leave the store.

        Returns False (a sync error) when a pod not created by the fake was asked for.
        """
        wanted = names[: c.BURST_REPLICAS]
        result.deletes.extend(wanted)
        doomed = set(wanted) & self.created_by_fake
        self.pods = [p for p in self.pods if p["metadata"]["name"] not in doomed]
        return len(doomed) == len(wanted)

    def _create(self, node_names: list[str], hash_: str, result: SyncResult) -> None:
        for node_name in node_names[: c.BURST_REPLICAS]:
            pod = controller_new_pod(self.ds, node_name, hash_)
            pod["metadata"]["name"] = f"{pod['metadata']['generateName']}{next(_names):05d}"
            self.pods.append(pod)
            self.created_by_fake.add(pod["metadata"]["name"])
            result.creates.append(node_name)

    def _construct_history(self) -> tuple[str, list[dict[str, Any]]]:
        plan = construct_history(self.ds, self.histories, self._claimed())
        by_name = {h["metadata"]["name"]: h for h in self.histories}
        for name in plan.add_hash_label:
            by_name[name]["metadata"].setdefault("labels", {})[c.CONTROLLER_REVISION_HASH_LABEL] = name
        if plan.create is not None:
            self.histories.append(plan.create)
        relabel = set(plan.relabel_pods)
        for pod in self.pods:
            if pod["metadata"]["name"] in relabel:
                pod["metadata"]["labels"][c.CONTROLLER_REVISION_HASH_LABEL] = plan.hash
        for name in plan.delete_duplicates:
            del by_name[name]
        if plan.current is not None:
            current = by_name[plan.current["metadata"]["name"]]
            if plan.bump_revision is not None:
                current["revision"] = plan.bump_revision
        self.histories = [h for h in self.histories if h["metadata"]["name"] not in plan.delete_duplicates]
        return plan.hash, plan.old

    def sync(self) -> SyncResult:
        """One ``syncDaemonSet`` pass."""
        result = SyncResult()
        if self.ds["spec"].get("selector") == {}:
            result.events.append(("Warning", c.SELECTING_ALL_REASON, c.MSG_SELECTING_ALL))
            return result
        if self.ds["metadata"].get("deletionTimestamp"):
            return result
        hash_, old = self._construct_history()
        node_to = nodes_to_daemon_pods(self._claimed())
        plan = manage_decisions(
            self.ds, self.nodes, node_to, hash_=hash_, now=self.now, backoff_active=self.backoff_active
        )
        for key in plan.backoff_advanced:
            self._backoff_next(key)
        result.events.extend((e.type, e.reason, e.message) for e in plan.events)
        self._create(plan.nodes_needing_pods, hash_, result)
        ok = self._delete(plan.pods_to_delete, result)
        # A failed syncNodes ends updateDaemonSet before the rolling update.
        if ok and self.ds["spec"]["updateStrategy"].get("type") == c.ROLLING_UPDATE:
            node_to = nodes_to_daemon_pods(self._claimed())
            to_delete, to_create = rolling_update_decisions(self.ds, self.nodes, node_to, hash_, now=self.now)
            self._create(to_create, hash_, result)
            self._delete(to_delete, result)
        if ok:
            grouped = nodes_to_daemon_pods(self._claimed(), include_deleted_terminal=True)
            live = live_pod_hashes(p for pods in grouped.values() for p in pods)
            doomed = set(cleanup_history_candidates(self.ds, old, live))
            self.histories = [h for h in self.histories if h["metadata"]["name"] not in doomed]
        node_to = nodes_to_daemon_pods(self._claimed())
        # Like upstream's fake clientset, the status write does not reach the cached DaemonSet.
        self.stored_status = compute_status(self.ds, self.nodes, node_to, hash_, now=self.now)
        return result
