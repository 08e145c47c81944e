"""The Pod row (READY, STATUS, RESTARTS and the wide columns), against upstream's printer tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubeds.apiserver.printers import row_cells, row_conditions

NOW = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
RUNNING: dict[str, Any] = {"running": {}}
WAITING: dict[str, Any] = {"waiting": {}}
SIDECAR = {"restartPolicy": "Always"}
Json = dict[str, Any]


def ago(seconds: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def waiting(reason: str) -> Json:
    return {"waiting": {"reason": reason}}


def terminated(reason: str = "", *, exit_code: int = 0, signal: int = 0) -> Json:
    t: Json = {"exitCode": exit_code}
    if reason:
        t["reason"] = reason
    if signal:
        t["signal"] = signal
    return {"terminated": t}


def cs(
    state: Json | None = None,
    *,
    name: str = "",
    ready: bool = False,
    restarts: int = 0,
    last: float | None = None,
    started: bool | None = None,
) -> Json:
    """A container status; ``last`` is how many seconds ago the previous run finished."""
    out: Json = {"name": name, "ready": ready, "restartCount": restarts}
    if state is not None:
        out["state"] = state
    if last is not None:
        out["lastState"] = {"terminated": {"finishedAt": ago(last)}}
    if started is not None:
        out["started"] = started
    return out


def pod(
    name: str = "p",
    *,
    n: int = 1,
    init: list[Json] | int | None = None,
    phase: str = "",
    statuses: list[Json] | None = None,
    init_statuses: list[Json] | None = None,
    conditions: list[Json] | None = None,
    reason: str = "",
    deleted: bool = False,
) -> Json:
    metadata: Json = {"name": name}
    if deleted:
        metadata["deletionTimestamp"] = ago(10)
    spec: Json = {"containers": [{"name": f"c{i}", "image": "img"} for i in range(n)]}
    if isinstance(init, int):
        spec["initContainers"] = [{"name": f"i{i}", "image": "img"} for i in range(init)]
    elif init is not None:
        spec["initContainers"] = init
    status: Json = {"phase": phase} if phase else {}
    for key, value in (
        ("containerStatuses", statuses),
        ("initContainerStatuses", init_statuses),
        ("conditions", conditions),
        ("reason", reason),
    ):
        if value:
            status[key] = value
    return {"metadata": metadata, "spec": spec, "status": status}


READY_TRUE = [{"type": "Ready", "status": "True"}]
INITIALIZED = [{"type": "Initialized", "status": "True"}]
NOT_INITIALIZED = [{"type": "Initialized", "status": "False"}]
GATED = [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]
SIDECARS = [{"name": "r1", **SIDECAR}, {"name": "r2", **SIDECAR}]

# Ported from TestPrintPod in pkg/printers/internalversion/printers_test.go (first five columns).
PRINT_POD_CASES = [
    (
        pod("test1", n=2, phase="podPhase", statuses=[cs(RUNNING, ready=True, restarts=3), cs(restarts=3)]),
        ["test1", "1/2", "podPhase", "6", "<unknown>"],
    ),
    (
        pod(
            "test2",
            n=2,
            phase="podPhase",
            statuses=[cs(RUNNING, ready=True, restarts=3), cs(waiting("ContainerWaitingReason"), restarts=3)],
        ),
        ["test2", "1/2", "ContainerWaitingReason", "6", "<unknown>"],
    ),
    (
        pod(
            "test3",
            n=2,
            phase="podPhase",
            statuses=[
                cs(waiting("ContainerWaitingReason"), restarts=3),
                cs(terminated("ContainerTerminatedReason"), restarts=3),
            ],
        ),
        ["test3", "0/2", "ContainerWaitingReason", "6", "<unknown>"],
    ),
    (
        pod(
            "test4",
            n=2,
            phase="podPhase",
            statuses=[cs(RUNNING, ready=True, restarts=3), cs(ready=True, restarts=3)],
        ),
        ["test4", "1/2", "podPhase", "6", "<unknown>"],
    ),
    (
        pod(
            "test5",
            n=2,
            phase="podPhase",
            reason="podReason",
            statuses=[cs(RUNNING, ready=True, restarts=3), cs(ready=True, restarts=3)],
        ),
        ["test5", "1/2", "podReason", "6", "<unknown>"],
    ),
    (
        pod(
            "test6",
            n=2,
            phase="Running",
            statuses=[
                cs(terminated("Completed"), ready=True, restarts=3),
                cs(RUNNING, ready=True, restarts=3),
            ],
        ),
        ["test6", "1/2", "NotReady", "6", "<unknown>"],
    ),
    (
        pod(
            "test6",
            n=2,
            phase="Running",
            conditions=READY_TRUE,
            statuses=[
                cs(terminated("Completed"), ready=True, restarts=3),
                cs(RUNNING, ready=True, restarts=3),
            ],
        ),
        ["test6", "1/2", "Running", "6", "<unknown>"],
    ),
    (
        pod(
            "test7",
            init=1,
            phase="podPhase",
            init_statuses=[cs(RUNNING, restarts=3, last=10)],
            statuses=[cs(WAITING)],
        ),
        ["test7", "0/1", "Init:0/1", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test8",
            init=2,
            phase="podPhase",
            init_statuses=[cs(RUNNING, restarts=3, last=10), cs(WAITING)],
            statuses=[cs(WAITING)],
        ),
        ["test8", "0/1", "Init:0/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test9",
            init=2,
            phase="podPhase",
            init_statuses=[cs(terminated()), cs(RUNNING, restarts=3, last=10)],
            statuses=[cs(WAITING)],
        ),
        ["test9", "0/1", "Init:1/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test10",
            init=2,
            phase="podPhase",
            init_statuses=[cs(terminated(), restarts=2, last=120), cs(RUNNING, restarts=3, last=10)],
            statuses=[cs(WAITING)],
        ),
        ["test10", "0/1", "Init:1/2", "5 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test11",
            init=1,
            phase="Running",
            init_statuses=[cs(terminated(), restarts=2, last=120)],
            statuses=[cs(RUNNING, restarts=4, last=20)],
        ),
        ["test11", "0/1", "Running", "4 (20s ago)", "<unknown>"],
    ),
    (
        pod("test12", phase="Running", statuses=[cs(RUNNING, ready=True, restarts=3, last=5 * 86400)]),
        ["test12", "1/1", "Running", "3 (5d ago)", "<unknown>"],
    ),
    (
        pod(
            "test13",
            n=2,
            phase="Running",
            statuses=[cs(RUNNING, ready=True), cs(RUNNING, ready=True, restarts=3, last=10 * 86400)],
        ),
        ["test13", "2/2", "Running", "3 (10d ago)", "<unknown>"],
    ),
    (
        pod(
            "test14",
            n=2,
            phase="Running",
            statuses=[
                cs(RUNNING, ready=True, restarts=6, last=5 * 86400),
                cs(RUNNING, ready=True, restarts=3, last=20 * 86400),
            ],
        ),
        ["test14", "2/2", "Running", "9 (5d ago)", "<unknown>"],
    ),
    (
        pod("test15", n=2, phase="podPhase", conditions=GATED),
        ["test15", "0/2", "SchedulingGated", "0", "<unknown>"],
    ),
    (
        pod("test16", phase="Succeeded", statuses=[cs(terminated("Completed"))]),
        ["test16", "0/1", "Completed", "0", "<unknown>"],
    ),
    (
        pod("test17", phase="Failed", statuses=[cs(terminated("Error", exit_code=1))]),
        ["test17", "0/1", "Error", "0", "<unknown>"],
    ),
    (
        pod("test18", deleted=True, phase="Succeeded", statuses=[cs(terminated("Completed"))]),
        ["test18", "0/1", "Completed", "0", "<unknown>"],
    ),
    (
        pod("test19", deleted=True, phase="Running", statuses=[cs(RUNNING)]),
        ["test19", "0/1", "Terminating", "0", "<unknown>"],
    ),
    (pod("test20", deleted=True, phase="Pending"), ["test20", "0/1", "Terminating", "0", "<unknown>"]),
]

# Ported from TestPrintPodWithRestartableInitContainer (same file).
SIDECAR_CASES = [
    (
        pod(
            "test1",
            init=SIDECARS,
            phase="Pending",
            init_statuses=[
                cs(RUNNING, name="r1", restarts=3, started=False, last=10),
                cs(WAITING, name="r2", started=False),
            ],
            statuses=[cs(WAITING)],
            conditions=NOT_INITIALIZED,
        ),
        ["test1", "0/3", "Init:0/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test1",
            init=SIDECARS,
            phase="Pending",
            init_statuses=[
                cs(RUNNING, name="r1", restarts=3, started=True, last=10),
                cs(RUNNING, name="r2", started=False),
            ],
            statuses=[cs(WAITING)],
            conditions=NOT_INITIALIZED,
        ),
        ["test1", "0/3", "Init:1/2", "3 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test2",
            init=SIDECARS,
            phase="Running",
            init_statuses=[
                cs(RUNNING, name="r1", restarts=3, started=True, last=10),
                cs(RUNNING, name="r2", started=True),
            ],
            statuses=[cs(RUNNING, ready=True, restarts=4, last=20)],
            conditions=INITIALIZED,
        ),
        ["test2", "1/3", "Running", "7 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test3",
            init=SIDECARS,
            phase="Succeeded",
            init_statuses=[
                cs(terminated("Error", exit_code=137), name="r1", restarts=3, started=False, last=10),
                cs(terminated("Error", exit_code=137), name="r2", started=False),
            ],
            statuses=[cs(terminated("Completed"), restarts=4, last=20)],
            conditions=INITIALIZED,
        ),
        ["test3", "0/3", "Completed", "7 (10s ago)", "<unknown>"],
    ),
    (
        pod(
            "test4",
            init=[{"name": "init1"}, {"name": "sidecar1", **SIDECAR}],
            phase="Running",
            init_statuses=[cs(name="initinvalid"), cs(name="init1"), cs(name="sidecar1")],
            statuses=[cs(name="containerinvalid"), cs(name="c0")],
        ),
        ["test4", "0/2", "Init:0/2", "0", "<unknown>"],
    ),
]


@pytest.mark.parametrize(("obj", "want"), PRINT_POD_CASES + SIDECAR_CASES)
def test_pod_status_columns(obj: Json, want: list[Any]) -> None:
    assert row_cells("Pod", obj, now=NOW)[:5] == want


# The stages a simulated pod goes through, as `kubectl get pods` shows them (READY, STATUS).
LIFECYCLE_CASES = [
    ("pending, unscheduled", pod(phase="Pending"), "0/1", "Pending"),
    (
        "container creating",
        pod(phase="Pending", statuses=[cs(waiting("ContainerCreating"))]),
        "0/1",
        "ContainerCreating",
    ),
    ("running and ready", pod(phase="Running", statuses=[cs(RUNNING, ready=True)]), "1/1", "Running"),
    ("running, not ready yet", pod(phase="Running", statuses=[cs(RUNNING)]), "0/1", "Running"),
    (
        "image pull back-off",
        pod(phase="Pending", statuses=[cs(waiting("ImagePullBackOff"))]),
        "0/1",
        "ImagePullBackOff",
    ),
    ("err image pull", pod(phase="Pending", statuses=[cs(waiting("ErrImagePull"))]), "0/1", "ErrImagePull"),
    (
        "crash loop",
        pod(phase="Running", statuses=[cs(waiting("CrashLoopBackOff"))]),
        "0/1",
        "CrashLoopBackOff",
    ),
    ("completed", pod(phase="Succeeded", statuses=[cs(terminated("Completed"))]), "0/1", "Completed"),
    ("signal", pod(phase="Failed", statuses=[cs(terminated(exit_code=137, signal=9))]), "0/1", "Signal:9"),
    ("exit code", pod(phase="Failed", statuses=[cs(terminated(exit_code=2))]), "0/1", "ExitCode:2"),
    ("evicted", pod(phase="Failed", reason="Evicted"), "0/1", "Evicted"),
    ("init running", pod(init=1, phase="Pending", init_statuses=[cs(RUNNING)]), "0/1", "Init:0/1"),
    (
        "init pod initializing",
        pod(init=1, phase="Pending", init_statuses=[cs(waiting("PodInitializing"))]),
        "0/1",
        "Init:0/1",
    ),
    (
        "init image pull",
        pod(init=1, phase="Pending", init_statuses=[cs(waiting("ImagePullBackOff"))]),
        "0/1",
        "Init:ImagePullBackOff",
    ),
    (
        "init failed",
        pod(init=1, phase="Pending", init_statuses=[cs(terminated("Error", exit_code=1))]),
        "0/1",
        "Init:Error",
    ),
    ("init exit code", pod(init=1, init_statuses=[cs(terminated(exit_code=3))]), "0/1", "Init:ExitCode:3"),
    (
        "init signal",
        pod(init=1, init_statuses=[cs(terminated(exit_code=137, signal=9))]),
        "0/1",
        "Init:Signal:9",
    ),
    (
        "terminating",
        pod(deleted=True, phase="Running", statuses=[cs(RUNNING, ready=True)]),
        "1/1",
        "Terminating",
    ),
    (
        "node lost",
        pod(deleted=True, phase="Running", reason="NodeLost", statuses=[cs(RUNNING, ready=True)]),
        "1/1",
        "Unknown",
    ),
    ("node lost, not deleted", pod(phase="Running", reason="NodeLost"), "0/1", "NodeLost"),
]


@pytest.mark.parametrize(
    ("case", "obj", "ready", "status"), LIFECYCLE_CASES, ids=[c[0] for c in LIFECYCLE_CASES]
)
def test_pod_lifecycle_status(case: str, obj: Json, ready: str, status: str) -> None:
    cells = row_cells("Pod", obj, now=NOW)
    assert (cells[1], cells[2]) == (ready, status), case


def test_pod_age_and_wide_columns_of_a_scheduled_pod() -> None:
    obj = pod("kube-proxy-abcde", phase="Running", statuses=[cs(RUNNING, ready=True)])
    obj["metadata"]["creationTimestamp"] = ago(95)
    obj["spec"]["nodeName"] = "node-1"
    obj["status"]["podIPs"] = [{"ip": "10.244.1.5"}]
    assert row_cells("Pod", obj, now=NOW) == [
        *["kube-proxy-abcde", "1/1", "Running", "0", "95s"],
        *["10.244.1.5", "node-1", "<none>", "<none>"],
    ]


# Ported from TestPrintPodwide (same file): readiness gates count True conditions among the gates.
def test_pod_readiness_gates_and_nominated_node() -> None:
    conditions = [{"type": "condition1", "status": "False"}, {"type": "condition2", "status": "True"}]
    obj = pod(
        "test1",
        n=2,
        phase="podPhase",
        conditions=conditions,
        statuses=[cs(RUNNING, ready=True, restarts=3), cs(restarts=3)],
    )
    obj["spec"]["nodeName"] = "test1"
    obj["spec"]["readinessGates"] = [{"conditionType": f"condition{i}"} for i in (1, 2, 3)]
    obj["status"].update(podIPs=[{"ip": "1.1.1.1"}], nominatedNodeName="node1")
    assert row_cells("Pod", obj, now=NOW) == [
        *["test1", "1/2", "podPhase", "6", "<unknown>"],
        *["1.1.1.1", "test1", "node1", "1/3"],
    ]


# Ported from TestConvertToTableList in pkg/registry/core/pod/storage/storage_test.go (the empty pod).
def test_empty_pod() -> None:
    assert row_cells("Pod", {}, now=NOW) == [
        "",
        "0/0",
        "",
        "0",
        "<unknown>",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]


@pytest.mark.parametrize(
    ("phase", "reason", "message"),
    [
        ("Succeeded", "Succeeded", "The pod has completed successfully."),
        ("Failed", "Failed", "The pod failed."),
    ],
)
def test_terminal_pods_carry_a_completed_row_condition(phase: str, reason: str, message: str) -> None:
    assert row_conditions("Pod", pod(phase=phase)) == [
        {"type": "Completed", "status": "True", "reason": reason, "message": message}
    ]


def test_running_pods_carry_no_row_condition() -> None:
    assert row_conditions("Pod", pod(phase="Running")) == []
