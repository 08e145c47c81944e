"""The scheduling cycle's shortcuts give what the general code gives.

* ``pod_requests`` is memoised on what it reads: results equal the uncached computation (cases
  after upstream ``component-helpers/resource/helpers_test.go`` TestPodRequests: sidecars, init
  containers, pod-level requests, overhead), callers get fresh dicts, unhashable input still works;
* ``schedule_pod`` with the caller's PreFilter result and cycle state decides as without them;
* ``assume_pod`` with the cycle state accounts the pod exactly as computing it again would.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from scheduler_builders import make_node, make_pod

from kubeds.scheduler import cache as cache_mod, framework
from kubeds.scheduler.plugins import nodeaffinity, podresources

SIDECAR: dict[str, Any] = {
    "name": "s",
    "restartPolicy": "Always",
    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
}
INIT_BIG: dict[str, Any] = {"name": "i", "resources": {"requests": {"cpu": "3", "memory": "10Mi"}}}

CASES: list[tuple[str, dict[str, Any]]] = [
    ("no requests", make_pod()),
    (
        "two containers",
        make_pod(requests=[{"cpu": "100m", "memory": "0.5"}, {"cpu": "0.1", "memory": "0.5"}]),
    ),
    (
        "init container dominates",
        make_pod(requests=[{"cpu": "1"}], init_requests=[{"cpu": "2", "memory": "1"}]),
    ),
    ("overhead", make_pod(requests=[{"cpu": "1"}], overhead={"cpu": "250m", "memory": "120Mi"})),
    ("extended resource", make_pod(requests=[{"cpu": "1", "example.com/foo": "3"}])),
    ("pod-level requests", make_pod(requests=[{"cpu": "1"}], resources={"requests": {"cpu": "3"}})),
]


def _with_sidecar(pod: dict[str, Any]) -> dict[str, Any]:
    pod["spec"]["initContainers"] = [SIDECAR, INIT_BIG]
    return pod


CASES.append(("sidecar then init", _with_sidecar(make_pod(requests=[{"cpu": "500m"}]))))


@pytest.mark.parametrize(("name", "pod"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("non_zero", [False, True])
def test_memoised_requests_equal_the_computation(name: str, pod: dict[str, Any], non_zero: bool) -> None:
    want = podresources._compute_requests(pod["spec"], non_zero)
    first = podresources.pod_requests(pod, non_zero=non_zero)
    first["cpu"] = -1  # callers may change what they get: the memo must not
    assert podresources.pod_requests(pod, non_zero=non_zero) == want
    assert podresources.pod_requests(make_pod(requests=[{"cpu": "7"}]), non_zero=non_zero)["cpu"] == 7000


def test_memo_tells_templates_apart() -> None:
    a = make_pod(requests=[{"cpu": "1"}], init_requests=[{"cpu": "2"}])
    b = make_pod(requests=[{"cpu": "1"}], init_requests=[{"cpu": "2"}])
    b["spec"]["initContainers"][0]["restartPolicy"] = "Always"  # a sidecar adds to the sum
    assert podresources.pod_requests(a)["cpu"] == 2000
    assert podresources.pod_requests(b)["cpu"] == 3000


def test_unhashable_requests_are_computed_without_the_memo() -> None:
    pod = make_pod(requests=[{"cpu": "1"}])
    pod["spec"]["containers"][0]["resources"]["requests"]["example.com/odd"] = ["not", "hashable"]
    assert podresources.pod_requests(pod) == {"cpu": 1000}


def _ds_pod(node: str) -> dict[str, Any]:
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    affinity = {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
    }
    built: dict[str, Any] = make_pod(requests=[{"cpu": "100m", "memory": "20Mi"}], affinity=affinity)
    return built


@pytest.mark.parametrize("target", ["n1", "n3", "missing"])
def test_schedule_pod_with_precomputed_state_decides_the_same(target: str) -> None:
    infos = [framework.NodeInfo(make_node(f"n{i}")) for i in range(5)]
    pod = _ds_pod(target)
    plain = framework.schedule_pod(pod, infos, rng=random.Random(1))
    given = framework.schedule_pod(
        pod,
        infos,
        rng=random.Random(1),
        pre=nodeaffinity.pre_filter(pod),
        state=framework.CycleState.of(pod),
    )
    assert (given.node_name, given.message, given.diagnosis) == (
        plain.node_name,
        plain.message,
        plain.diagnosis,
    )
    assert (plain.node_name is None) == (target == "missing")
    if plain.node_name is not None:
        assert given.state is not None and given.state.request == {"cpu": 100, "memory": 20 * 1024**2}


def test_assume_with_state_accounts_like_without() -> None:
    with_state, without = cache_mod.SchedulerCache(), cache_mod.SchedulerCache()
    for c in (with_state, without):
        c.add_node(make_node("n1"))
    pod = make_pod(
        requests=[{"cpu": "300m", "memory": "1Gi"}], ports=[{"containerPort": 80, "hostPort": 8080}]
    )
    pod["metadata"]["uid"] = "u1"
    assumed = {**pod, "spec": {**pod["spec"], "nodeName": "n1"}}
    with_state.assume_pod(assumed, state=framework.CycleState.of(pod))
    without.assume_pod(assumed)
    a, b = with_state.get("n1"), without.get("n1")
    assert a is not None and b is not None
    assert (a.requested, a.non_zero_requested, a.used_ports) == (
        b.requested,
        b.non_zero_requested,
        b.used_ports,
    )
    assert a.requested == {"cpu": 300, "memory": 1024**3}
    with_state.forget_pod(assumed)
    assert a.requested == {"cpu": 0, "memory": 0} and not a.used_ports
