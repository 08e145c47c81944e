"""Pod requests, NodeResourcesFit (filter + LeastAllocated) and BalancedAllocation."""

from __future__ import annotations

from typing import Any

import pytest
from scheduler_builders import make_node, make_pod, node_info

from kubeds.scheduler.framework import NodeInfo
from kubeds.scheduler.plugins import balancedallocation, noderesources
from kubeds.scheduler.plugins.podresources import pod_requests
from kubeds.scheduler.plugins.status import UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE

EXT_A = "example.com/aaa"
HUGE_A = "hugepages-2Mi"


def _res(cpu_m: int = 0, mem: int = 0, scalars: dict[str, int] | None = None) -> dict[str, Any]:
    """Upstream ``framework.Resource{MilliCPU, Memory, ScalarResources}`` as a requests list."""
    out: dict[str, Any] = {"cpu": f"{cpu_m}m", "memory": str(mem)}
    out.update({k: str(v) for k, v in (scalars or {}).items()})
    return out


def _fit_node() -> dict[str, Any]:
    # TestEnoughRequests: makeAllocatableResources(10, 20, 32, 5, 20, 5).
    return make_node(
        "n",
        allocatable={
            "cpu": "10m",
            "memory": "20",
            "pods": "32",
            EXT_A: "5",
            "ephemeral-storage": "20",
            HUGE_A: "5",
        },
    )


# Ported from upstream noderesources/fit_test.go TestEnoughRequests (v1.34: a request above the
# node's whole allocatable is UnschedulableAndUnresolvable).
@pytest.mark.parametrize(
    ("requests", "init", "existing", "want_reasons", "unresolvable"),
    [
        pytest.param([{}], None, _res(10, 20), [], False, id="no resources requested always fits"),
        pytest.param(
            [_res(1, 1)],
            None,
            _res(10, 20),
            ["Insufficient cpu", "Insufficient memory"],
            False,
            id="too many",
        ),
        pytest.param([_res(1, 1)], [_res(3, 1)], _res(8, 19), ["Insufficient cpu"], False, id="init cpu"),
        pytest.param(
            [_res(1, 1)],
            [_res(3, 1), _res(2, 1)],
            _res(8, 19),
            ["Insufficient cpu"],
            False,
            id="highest init cpu",
        ),
        pytest.param(
            [_res(1, 1)], [_res(1, 3)], _res(9, 19), ["Insufficient memory"], False, id="init memory"
        ),
        pytest.param(
            [_res(1, 1)],
            [_res(1, 3), _res(1, 2)],
            _res(9, 19),
            ["Insufficient memory"],
            False,
            id="highest init mem",
        ),
        pytest.param([_res(1, 1)], [_res(1, 1)], _res(9, 19), [], False, id="init max not sum"),
        pytest.param([_res(1, 1)], [_res(1, 1), _res(1, 1)], _res(9, 19), [], False, id="multiple init max"),
        pytest.param([_res(1, 1)], None, _res(5, 5), [], False, id="both resources fit"),
        pytest.param(
            [_res(2, 1)], None, _res(9, 5), ["Insufficient cpu"], False, id="one resource memory fits"
        ),
        pytest.param(
            [_res(1, 2)], None, _res(5, 19), ["Insufficient memory"], False, id="one resource cpu fits"
        ),
        pytest.param([_res(5, 1)], None, _res(5, 19), [], False, id="equal edge case"),
        pytest.param(
            [_res(4, 1)], [_res(5, 1)], _res(5, 19), [], False, id="equal edge case for init container"
        ),
        pytest.param([_res(0, 0, scalars={EXT_A: 1})], None, {}, [], False, id="extended resource fits"),
        pytest.param(
            [{}],
            [_res(0, 0, scalars={EXT_A: 1})],
            {},
            [],
            False,
            id="extended resource fits for init container",
        ),
        pytest.param(
            [_res(1, 1, scalars={EXT_A: 10})],
            None,
            _res(0, 0, scalars={EXT_A: 0}),
            [f"Insufficient {EXT_A}"],
            True,
            id="extended resource capacity enforced",
        ),
        pytest.param(
            [_res(1, 1, scalars={EXT_A: 1})],
            None,
            _res(0, 0, scalars={EXT_A: 5}),
            [f"Insufficient {EXT_A}"],
            False,
            id="extended resource allocatable enforced",
        ),
        pytest.param(
            [_res(1, 1, scalars={EXT_A: 3}), _res(1, 1, scalars={EXT_A: 3})],
            None,
            _res(0, 0, scalars={EXT_A: 2}),
            [f"Insufficient {EXT_A}"],
            True,
            id="extended resource allocatable enforced for multiple containers",
        ),
        pytest.param(
            [{}],
            [_res(1, 1, scalars={EXT_A: 3}), _res(1, 1, scalars={EXT_A: 3})],
            _res(0, 0, scalars={EXT_A: 2}),
            [],
            False,
            id="extended resource allocatable admits multiple init containers",
        ),
        pytest.param(
            [_res(1, 1, scalars={HUGE_A: 10})],
            None,
            _res(0, 0, scalars={HUGE_A: 0}),
            [f"Insufficient {HUGE_A}"],
            True,
            id="hugepages capacity enforced",
        ),
        pytest.param(
            [_res(1, 1, scalars={HUGE_A: 3}), _res(1, 1, scalars={HUGE_A: 3})],
            None,
            _res(0, 0, scalars={HUGE_A: 2}),
            [f"Insufficient {HUGE_A}"],
            True,
            id="hugepages allocatable enforced for multiple containers",
        ),
    ],
)
def test_fit_filter(
    requests: list[dict[str, Any]],
    init: list[dict[str, Any]] | None,
    existing: dict[str, Any],
    want_reasons: list[str],
    unresolvable: bool,
) -> None:
    info = node_info(_fit_node(), make_pod(requests=[existing]))
    result = noderesources.filter(make_pod(requests=requests, init_requests=init), info)
    assert result.reasons == want_reasons
    if want_reasons:
        assert result.code == (UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else UNSCHEDULABLE)
    else:
        assert result.is_success


# After upstream TestEnoughRequests' pod-overhead cases: overhead is added to the request.
@pytest.mark.parametrize(
    ("requests", "overhead", "existing", "want_reasons"),
    [
        pytest.param([_res(1, 1)], {"cpu": "3m", "memory": "13"}, _res(5, 5), [], id="overhead fits"),
        pytest.param(
            [_res(1, 1)], {"cpu": "5m", "memory": "13"}, _res(5, 5), ["Insufficient cpu"], id="overhead cpu"
        ),
        pytest.param(
            [_res(1, 1)],
            {"cpu": "3m", "memory": "16"},
            _res(5, 5),
            ["Insufficient memory"],
            id="overhead memory",
        ),
    ],
)
def test_fit_filter_overhead(
    requests: list[dict[str, Any]],
    overhead: dict[str, Any],
    existing: dict[str, Any],
    want_reasons: list[str],
) -> None:
    info = node_info(_fit_node(), make_pod(requests=[existing]))
    assert noderesources.filter(make_pod(requests=requests, overhead=overhead), info).reasons == want_reasons


# Ported from upstream fit_test.go TestNotEnoughRequests: allocatable pods 1, one pod present.
@pytest.mark.parametrize(
    ("requests", "init", "existing", "want"),
    [
        pytest.param([{}], None, _res(10, 20), ["Too many pods"], id="even without specified resources"),
        pytest.param([_res(1, 1)], None, _res(5, 5), ["Too many pods"], id="even if both resources fit"),
        pytest.param([_res(5, 1)], None, _res(5, 19), ["Too many pods"], id="even for equal edge case"),
        pytest.param(
            [_res(5, 1)], [_res(5, 1)], _res(5, 19), ["Too many pods"], id="even for equal edge case, init"
        ),
        # kubeds addition: every reason is kept, and a request above allocatable is unresolvable.
        pytest.param([_res(20, 1)], None, _res(5, 5), ["Too many pods", "Insufficient cpu"], id="and cpu"),
    ],
)
def test_fit_too_many_pods(
    requests: list[dict[str, Any]],
    init: list[dict[str, Any]] | None,
    existing: dict[str, Any],
    want: list[str],
) -> None:
    node = make_node("n", allocatable={"cpu": "10m", "memory": "20", "pods": "1"})
    info = node_info(node, make_pod(requests=[existing]))
    result = noderesources.filter(make_pod(requests=requests, init_requests=init), info)
    assert result.reasons == want
    # "Too many pods" alone is resolvable by preemption; 20m > 10m allocatable is not.
    expected = UNSCHEDULABLE_AND_UNRESOLVABLE if "Insufficient cpu" in want else UNSCHEDULABLE
    assert result.code == expected


@pytest.mark.parametrize(
    ("pod", "non_zero", "want"),
    [
        pytest.param(make_pod(), False, {}, id="best effort"),
        pytest.param(make_pod(), True, {"cpu": 100, "memory": 200 * 1024 * 1024}, id="best effort non-zero"),
        pytest.param(
            make_pod(requests=[{"cpu": "0"}]), True, {"cpu": 0, "memory": 209715200}, id="explicit zero kept"
        ),
        pytest.param(
            # computePodResourceRequest doc example: IC1 2/1G, IC2 2/3G, C1 2/1G, C2 1/1G -> 3 / 3G.
            make_pod(
                requests=[{"cpu": "2", "memory": "1G"}, {"cpu": "1", "memory": "1G"}],
                init_requests=[{"cpu": "2", "memory": "1G"}, {"cpu": "2", "memory": "3G"}],
            ),
            False,
            {"cpu": 3000, "memory": 3 * 10**9},
            id="init max rule",
        ),
        pytest.param(
            # Sidecars: a restartable init container adds to the app sum and to later init containers.
            make_pod(
                requests=[{"cpu": "1"}],
                initContainers=[
                    {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1"}}},
                    {"name": "init", "resources": {"requests": {"cpu": "3"}}},
                ],
            ),
            False,
            {"cpu": 4000},
            id="sidecar init container",
        ),
        pytest.param(
            make_pod(requests=[{"cpu": "1", "memory": "1Gi"}], resources={"requests": {"cpu": "2"}}),
            False,
            {"cpu": 2000, "memory": 1024**3},
            id="pod-level requests replace container sum",
        ),
        pytest.param(
            make_pod(
                requests=[{"cpu": "100m", "nvidia.com/gpu": "1", "pods": "3"}], overhead={"cpu": "250m"}
            ),
            False,
            {"cpu": 350, "nvidia.com/gpu": 1},
            id="overhead, scalar kept, pods ignored",
        ),
    ],
)
def test_pod_requests(pod: dict[str, Any], non_zero: bool, want: dict[str, int]) -> None:
    assert pod_requests(pod, non_zero=non_zero) == want


def test_node_info_accounting() -> None:
    node = make_node("n")
    a = make_pod(requests=[{"cpu": "500m", "memory": "1Gi"}])
    b = make_pod()  # best effort: counts as 100m / 200Mi in the non-zero sums only
    info = NodeInfo(node, [a, b])
    assert info.allocatable == {"cpu": 4000, "memory": 16 * 1024**3}
    assert info.allowed_pod_number == 110
    assert info.requested == {"cpu": 500, "memory": 1024**3}
    assert info.non_zero_requested == {"cpu": 600, "memory": 1024**3 + 200 * 1024**2}
    info.add_pod(a)  # re-adding replaces, never double counts
    assert info.requested["cpu"] == 500 and len(info.pods) == 2
    clone = info.clone()
    assert info.remove_pod(a) and not info.remove_pod(a)
    assert info.requested == {"cpu": 0, "memory": 0} and len(info.pods) == 1
    assert clone.requested["cpu"] == 500 and len(clone.pods) == 2
    done = make_pod()
    done["status"] = {"phase": "Succeeded"}
    assert len(NodeInfo.build(node, [a, done]).pods) == 1


def _cpu_mem(cpu: str, mem: str) -> dict[str, Any]:
    return {"cpu": cpu, "memory": mem}


# Scored pods and nodes of upstream least_allocated_test.go / balanced_allocation_test.go
# (cpuOnly: 1000m + 2000m cpu; cpuAndMemory: 1000m/2000 + 2000m/3000).
CPU_ONLY = [{"cpu": "1000m", "memory": "0"}, {"cpu": "2000m", "memory": "0"}]
CPU_AND_MEMORY = [{"cpu": "1000m", "memory": "2000"}, {"cpu": "2000m", "memory": "3000"}]


@pytest.mark.parametrize(
    ("pod_requests_", "nodes", "existing", "want"),
    [
        pytest.param(
            [],
            [_cpu_mem("4000m", "10000"), _cpu_mem("4000m", "10000")],
            [],
            [100, 100],
            id="nothing scheduled, nothing requested",
        ),
        pytest.param(
            CPU_AND_MEMORY,
            [_cpu_mem("4000m", "10000"), _cpu_mem("6000m", "10000")],
            [],
            [37, 50],
            id="nothing scheduled, resources requested, differently sized nodes",
        ),
        pytest.param(
            [],
            [_cpu_mem("10000m", "20000"), _cpu_mem("10000m", "20000")],
            [CPU_ONLY, CPU_AND_MEMORY],
            [85, 72],
            id="no resources requested, pods scheduled with resources",
        ),
        pytest.param(
            CPU_ONLY,
            [_cpu_mem("4000m", "10000"), _cpu_mem("4000m", "10000")],
            [CPU_ONLY, CPU_AND_MEMORY],
            [50, 25],
            id="requested resources exceed node capacity",
        ),
        pytest.param(
            [{}],
            [_cpu_mem("1000m", "1Gi"), _cpu_mem("2000m", "1Gi")],
            [],
            [85, 87],
            id="containers without requests count as 100m / 200Mi",
        ),
    ],
)
def test_least_allocated_score(
    pod_requests_: list[dict[str, Any]],
    nodes: list[dict[str, Any]],
    existing: list[list[dict[str, Any]]],
    want: list[int],
) -> None:
    pod = make_pod(requests=pod_requests_) if pod_requests_ else make_pod(containers=[])
    got = []
    for i, alloc in enumerate(nodes):
        pods = [make_pod(requests=existing[i])] if existing else []
        got.append(noderesources.score(pod, node_info(make_node(f"n{i}", allocatable=alloc), *pods)))
    assert got == want


@pytest.mark.parametrize(
    ("pod_requests_", "nodes", "existing", "want"),
    [
        pytest.param(
            CPU_AND_MEMORY,
            [_cpu_mem("4000m", "10000"), _cpu_mem("6000m", "10000")],
            [],
            [87, 100],
            id="nothing scheduled, resources requested, differently sized nodes",
        ),
        pytest.param(
            [_cpu_mem("3000m", "5000")],
            [_cpu_mem("10000m", "20000"), _cpu_mem("10000m", "50000")],
            [[_cpu_mem("3000m", "0")], [_cpu_mem("3000m", "5000")]],
            [82, 80],
            id="resources requested, pods scheduled with resources",
        ),
        pytest.param(
            [_cpu_mem("6000m", "0")],
            [_cpu_mem("4000m", "10000"), _cpu_mem("12000m", "10000")],
            [],
            [50, 75],
            id="fraction capped at 1",
        ),
        pytest.param(
            [{}],
            [_cpu_mem("4000m", "10000"), _cpu_mem("6000m", "10000")],
            [[_cpu_mem("3000m", "0")], []],
            [0, 0],
            id="best-effort pod is skipped",
        ),
    ],
)
def test_balanced_allocation_score(
    pod_requests_: list[dict[str, Any]],
    nodes: list[dict[str, Any]],
    existing: list[list[dict[str, Any]]],
    want: list[int],
) -> None:
    pod = make_pod(requests=pod_requests_)
    got = []
    for i, alloc in enumerate(nodes):
        pods = [make_pod(requests=existing[i])] if existing and existing[i] else []
        got.append(balancedallocation.score(pod, node_info(make_node(f"n{i}", allocatable=alloc), *pods)))
    assert got == want


@pytest.mark.parametrize(
    ("requested", "allocatable", "want"),
    [
        pytest.param([3, 5], [4, 10], 87, id="two resources"),
        pytest.param([1, 1, 1], [2, 4, 8], 84, id="three resources use the population std"),
        pytest.param([1, 5], [0, 10], 100, id="zero allocatable skipped"),
    ],
)
def test_balanced_resource_score(requested: list[int], allocatable: list[int], want: int) -> None:
    assert balancedallocation.balanced_resource_score(requested, allocatable) == want
