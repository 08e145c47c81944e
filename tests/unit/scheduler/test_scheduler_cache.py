"""The scheduler cache: assume, confirm, forget, pods before nodes and removed nodes.

Cases after upstream ``pkg/scheduler/backend/cache/cache_test.go`` (``TestAssumePodScheduled``,
``TestAddPodWillConfirm``, ``TestAddPodAfterExpiration``-style confirm on another node,
``TestForgetPod``, ``TestNodeOperators``/``TestRemovePod`` for pods whose node is gone).
"""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_builders import make_node, make_pod

from kubeds.scheduler.cache import CacheError, SchedulerCache


def _on(pod: dict[str, Any], node: str) -> dict[str, Any]:
    return {**pod, "spec": {**pod["spec"], "nodeName": node}}


def _cache(*names: str) -> SchedulerCache:
    cache = SchedulerCache()
    for name in names:
        cache.add_node(make_node(name))
    return cache


def _cpu(cache: SchedulerCache, node: str) -> int:
    info = cache.get(node)
    assert info is not None
    return info.requested.get("cpu", 0)


def test_assumed_pod_counts_then_is_confirmed() -> None:
    cache = _cache("n1")
    pod = make_pod("p", requests=[{"cpu": "500m"}])
    cache.assume_pod(_on(pod, "n1"))
    assert cache.is_assumed_pod(pod)
    assert _cpu(cache, "n1") == 500
    with pytest.raises(CacheError, match="can't be assumed"):
        cache.assume_pod(_on(pod, "n1"))
    cache.finish_binding(_on(pod, "n1"))
    cache.add_pod(_on(pod, "n1"))  # the informer saw the binding
    assert not cache.is_assumed_pod(pod)
    assert _cpu(cache, "n1") == 500
    assert cache.pod_count == 1


def test_confirmation_on_another_node_moves_the_pod() -> None:
    cache = _cache("n1", "n2")
    pod = make_pod("p", requests=[{"cpu": "1"}])
    cache.assume_pod(_on(pod, "n1"))
    cache.add_pod(_on(pod, "n2"))
    assert (_cpu(cache, "n1"), _cpu(cache, "n2")) == (0, 1000)


def test_forget_pod() -> None:
    cache = _cache("n1")
    pod = make_pod("p", requests=[{"cpu": "1"}])
    with pytest.raises(CacheError, match="wasn't assumed"):
        cache.forget_pod(_on(pod, "n1"))
    cache.assume_pod(_on(pod, "n1"))
    with pytest.raises(CacheError, match="was assumed on n1"):
        cache.forget_pod(_on(pod, "n2"))
    cache.forget_pod(_on(pod, "n1"))
    assert _cpu(cache, "n1") == 0
    assert cache.pod_count == 0


def test_update_and_remove_pod() -> None:
    cache = _cache("n1")
    pod = _on(make_pod("p", requests=[{"cpu": "1"}]), "n1")
    cache.add_pod(pod)
    bigger = {
        **pod,
        "spec": {**pod["spec"], "containers": [{"name": "c", "resources": {"requests": {"cpu": "2"}}}]},
    }
    cache.update_pod(pod, bigger)
    assert _cpu(cache, "n1") == 2000
    cache.remove_pod(bigger)
    assert _cpu(cache, "n1") == 0
    cache.remove_pod(bigger)  # unknown: ignored


def test_pods_before_their_node_and_after_it_is_removed() -> None:
    cache = SchedulerCache()
    pod = _on(make_pod("p", requests=[{"cpu": "1"}]), "late")
    cache.add_pod(pod)
    assert cache.node_infos() == []
    cache.add_node(make_node("late"))
    assert _cpu(cache, "late") == 1000
    assert [n.name for n in cache.node_infos()] == ["late"]
    cache.remove_node("late")
    assert cache.node_infos() == []
    cache.add_node(make_node("late"))
    assert _cpu(cache, "late") == 1000
    cache.remove_node("late")
    cache.remove_pod(pod)
    cache.add_node(make_node("late"))
    assert _cpu(cache, "late") == 0


def test_node_update_keeps_pods_and_order() -> None:
    cache = _cache("a", "b", "c")
    cache.add_pod(_on(make_pod("p", requests=[{"cpu": "1"}]), "b"))
    listed = cache.node_infos()
    cache.update_node(make_node("b", allocatable={"cpu": "8", "memory": "1Gi", "pods": "10"}))
    assert cache.node_infos() is listed  # membership unchanged: same snapshot list
    info = cache.get("b")
    assert info is not None
    assert (info.allocatable["cpu"], info.requested["cpu"]) == (8000, 1000)
    assert [n.name for n in cache.node_infos()] == ["a", "b", "c"]


def test_confirmation_with_same_spec_swaps_object_without_reaccounting() -> None:
    cache = _cache("n1")
    pod = make_pod("p", requests=[{"cpu": "250m"}])
    assumed = _on(pod, "n1")
    cache.assume_pod(assumed)
    confirmed = {**assumed, "metadata": {**assumed["metadata"], "resourceVersion": "5"}}
    cache.add_pod(confirmed)
    info = cache.get("n1")
    assert info is not None
    assert info.pods[pod["metadata"]["uid"]] is confirmed
    assert info.requested["cpu"] == 250
    status_update = {**confirmed, "status": {"phase": "Running"}}
    cache.update_pod(confirmed, status_update)
    assert info.pods[pod["metadata"]["uid"]] is status_update
    assert info.requested["cpu"] == 250
