"""The order in which a ReplicaSet deletes surplus pods, and the claim patches.

The table is upstream ``pkg/controller/controller_utils_test.go`` ``TestSortingActivePodsWithRanks``
(its inequality pairs: ``lesser`` is deleted before ``greater``), with LogarithmicScaleDown on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubeds.clock import format_time
from kubeds.controllers import common

NOW = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
THEN = NOW - dt.timedelta(hours=1)


def pod(
    name: str,
    *,
    node: str = "node",
    phase: str = "Running",
    ready: bool | None = None,
    ready_since: dt.datetime | None = None,
    restarts: int = 0,
    created: dt.datetime = THEN,
    cost: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": name, "creationTimestamp": format_time(created)}
    if cost is not None:
        meta["annotations"] = {common.POD_DELETION_COST_ANNOTATION: cost}
    status: dict[str, Any] = {"phase": phase, "containerStatuses": [{"restartCount": restarts}]}
    if ready is not None:
        cond: dict[str, Any] = {"type": "Ready", "status": "True" if ready else "False"}
        if ready_since is not None:
            cond["lastTransitionTime"] = format_time(ready_since)
        status["conditions"] = [cond]
    return {"metadata": meta, "spec": {"nodeName": node}, "status": status}


UNSCHEDULED = pod("unscheduled", node="", phase="Pending")
SCHEDULED_PENDING = pod("scheduledPending", phase="Pending")
UNKNOWN_PHASE = pod("unknownPhase", phase="Unknown")
RUNNING_NOT_READY = pod("runningNotReady", ready=False)
READY_NO_LTT = pod("runningReadyNoLastTransitionTime", ready=True)
READY_NOW = pod("runningReadyNow", ready=True, ready_since=NOW)
READY_THEN = pod("runningReadyThen", ready=True, ready_since=THEN)
READY_NOW_HIGH_RESTARTS = pod("runningReadyNowHighRestarts", ready=True, ready_since=NOW, restarts=9001)
READY_NOW_CREATED_THEN = pod(
    "runningReadyNowCreatedThen", ready=True, ready_since=NOW, created=THEN - dt.timedelta(hours=3)
)
LOW_COST = pod("lowPodDeletionCost", ready=True, ready_since=NOW, cost="10")
HIGH_COST = pod("highPodDeletionCost", ready=True, ready_since=NOW, cost="100")


@pytest.mark.parametrize(
    ("lesser", "lesser_rank", "greater", "greater_rank"),
    [
        (UNSCHEDULED, 1, SCHEDULED_PENDING, 2),
        (UNSCHEDULED, 2, SCHEDULED_PENDING, 1),
        (SCHEDULED_PENDING, 1, UNKNOWN_PHASE, 2),
        (UNKNOWN_PHASE, 1, RUNNING_NOT_READY, 2),
        (RUNNING_NOT_READY, 1, READY_NO_LTT, 1),
        (READY_NO_LTT, 1, READY_NOW, 1),
        (READY_NOW, 2, READY_NO_LTT, 1),
        (READY_NOW, 1, READY_THEN, 1),
        (READY_NOW, 2, READY_THEN, 1),
        (READY_NOW_HIGH_RESTARTS, 1, READY_NOW, 1),
        (READY_NOW, 2, READY_NOW_HIGH_RESTARTS, 1),
        (READY_NOW, 1, READY_NOW_CREATED_THEN, 1),
        (READY_NOW_CREATED_THEN, 2, READY_NOW, 1),
        (LOW_COST, 2, HIGH_COST, 1),
    ],
    ids=lambda v: v["metadata"]["name"] if isinstance(v, dict) else str(v),
)
def test_active_pods_ranking(
    lesser: dict[str, Any], lesser_rank: int, greater: dict[str, Any], greater_rank: int
) -> None:
    assert common.active_pods_less(lesser, greater, lesser_rank, greater_rank, NOW)
    assert not common.active_pods_less(greater, lesser, greater_rank, lesser_rank, NOW)


def test_sort_pods_for_deletion_ranks_doubled_up_pods_first() -> None:
    a, b, c = (
        pod("a", node="n1", ready=True),
        pod("b", node="n2", ready=True),
        pod("c", node="n2", ready=True),
    )
    related = [a, b, c, pod("other", node="n2")]
    ordered = common.sort_pods_for_deletion([a, b, c], related, now=NOW)
    assert [p["metadata"]["name"] for p in ordered][:2] in (["b", "c"], ["c", "b"])


def test_claim_patches() -> None:
    owner = {"metadata": {"name": "web", "uid": "o-1"}}
    obj = {"metadata": {"name": "p", "uid": "p-1"}}
    assert common.adopt_patch(owner, obj, api_version="apps/v1", kind="ReplicaSet") == {
        "metadata": {
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web",
                    "uid": "o-1",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "uid": "p-1",
        }
    }
    assert common.release_patch(owner, obj) == {
        "metadata": {"ownerReferences": [{"$patch": "delete", "uid": "o-1"}], "uid": "p-1"}
    }


def test_pod_from_template_requires_labels() -> None:
    owner = {"metadata": {"name": "web", "namespace": "ns"}}
    ref = {"uid": "o-1", "controller": True}
    made = common.pod_from_template(
        {"metadata": {"labels": {"a": "b"}, "annotations": {"x": "y"}}, "spec": {"containers": []}},
        owner,
        controller_ref=ref,
    )
    assert made["metadata"] == {
        "generateName": "web-",
        "namespace": "ns",
        "labels": {"a": "b"},
        "ownerReferences": [ref],
        "annotations": {"x": "y"},
    }
    with pytest.raises(ValueError, match="unable to create pods, no labels"):
        common.pod_from_template({"spec": {}}, owner, controller_ref=ref)


async def test_slow_start_batch_stops_after_a_failing_batch() -> None:
    calls = 0

    async def fn() -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise RuntimeError("boom")

    successes, err = await common.slow_start_batch(10, fn)
    # Batches of 1 and 2 succeed; the batch of 4 fails and nothing more is attempted.
    assert (calls, successes, str(err)) == (7, 3, "boom")
