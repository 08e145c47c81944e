"""``surge_wait_seconds``: when to sync again so an old pod goes once its surged pod is available.

Not an upstream table (upstream relies on its pod handler's requeue; see the function's docstring):
cases written for the stall found end to end (an old pod kept beside an available new one).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from daemonset_builders import SIMPLE_DS_LABEL, at, ds_hash, new_daemonset, new_pod, set_ready, surge

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.rolling import SURGE_REQUEUE_SLACK, surge_wait_seconds

NOW = at(1000)


def _ds(min_ready: int) -> dict[str, Any]:
    ds = new_daemonset("foo", strategy=surge(1))
    ds["spec"]["minReadySeconds"] = min_ready
    return ds


def _old_pod(ds: dict[str, Any], node: str) -> dict[str, Any]:
    pod = new_pod("foo-", node, SIMPLE_DS_LABEL, ds)
    pod["metadata"]["labels"][c.CONTROLLER_REVISION_HASH_LABEL] = "old-hash"
    set_ready(pod, since=at(0))
    return pod


def _new_pod(ds: dict[str, Any], node: str, *, ready_since: float | None) -> dict[str, Any]:
    pod = new_pod("foo-", node, SIMPLE_DS_LABEL, ds)
    if ready_since is not None:
        set_ready(pod, since=at(ready_since))
    return pod


def _hash(ds: dict[str, Any]) -> str:
    return str(ds_hash(ds))


@pytest.mark.parametrize(
    ("min_ready", "new_ready_since", "expected"),
    [
        (10, 996.0, 6.0 + SURGE_REQUEUE_SLACK),  # ready 4 s ago: 6 s to go
        (10, 1000.0, 10.0 + SURGE_REQUEUE_SLACK),  # just ready
        (10, None, None),  # not ready: its Ready transition requeues
        (10, 980.0, None),  # already available: this sync deletes the old pod
        (0, 999.0, None),  # no minReadySeconds: available as soon as Ready
    ],
)
def test_surged_pod_waiting_for_availability(
    min_ready: int, new_ready_since: float | None, expected: float | None
) -> None:
    ds = _ds(min_ready)
    pods = {"node-0": [_old_pod(ds, "node-0"), _new_pod(ds, "node-0", ready_since=new_ready_since)]}
    assert surge_wait_seconds(ds, pods, _hash(ds), now=NOW) == expected


def test_earliest_node_wins_and_nodes_without_an_old_pod_do_not_count() -> None:
    ds = _ds(10)
    pods = {
        "node-0": [_old_pod(ds, "node-0"), _new_pod(ds, "node-0", ready_since=995.0)],
        "node-1": [_old_pod(ds, "node-1"), _new_pod(ds, "node-1", ready_since=999.0)],
        "node-2": [_new_pod(ds, "node-2", ready_since=999.5)],  # rollout done there
        "node-3": [_old_pod(ds, "node-3")],  # not surged yet
    }
    assert surge_wait_seconds(ds, pods, _hash(ds), now=NOW) == 5.0 + SURGE_REQUEUE_SLACK


def test_old_pod_being_deleted_needs_no_requeue() -> None:
    ds = _ds(10)
    old = _old_pod(ds, "node-0")
    old["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    pods = {"node-0": [old, _new_pod(ds, "node-0", ready_since=999.0)]}
    assert surge_wait_seconds(ds, copy.deepcopy(pods), _hash(ds), now=NOW) is None
