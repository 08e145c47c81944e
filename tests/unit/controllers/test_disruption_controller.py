"""The disruption controller: PDB status from pods and their controllers, and eviction against it.

Pure cases port upstream ``pkg/controller/disruption/disruption_test.go``
(``TestIntegerMaxUnavailableWithScaling``, ``TestPercentageMaxUnavailableWithScaling``,
``TestReplicationController`` 34%, ``TestNakedPod``, ``TestUpdateDisruptedPods``); the rest run the
controller against a real in-process API server whose eviction subresource reads the status.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from test_replicaset_support import NS, eventually, live_pods, pod, ready_all, replicaset, running, set_ready

from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock, format_time
from kubeds.controllers import disruption
from kubeds.controllers.disruption import DisruptionConfig, DisruptionController
from kubeds.controllers.replicaset import ReplicaSetConfig, ReplicaSetController

LABELS = {"app": "web"}
SEL = "app=web"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def pdb(name: str = "web-pdb", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"selector": {"matchLabels": LABELS}, **spec},
    }


def owned(name: str, uid: str = "rs-1") -> dict[str, Any]:
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": uid, "controller": True}
    made: dict[str, Any] = pod(name, LABELS, ownerReferences=[ref])
    return made


def ready_pod(name: str, *, ready: bool = True) -> dict[str, Any]:
    p = owned(name)
    p["status"] = {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
    }
    return p


@pytest.mark.parametrize(
    ("spec", "pods", "scale", "expected"),
    [
        # TestIntegerMaxUnavailableWithScaling: 7 replicas, then scaled to 5.
        pytest.param({"maxUnavailable": 2}, 1, 7, (7, 5), id="int-max-unavailable"),
        pytest.param({"maxUnavailable": 2}, 1, 5, (5, 3), id="int-max-unavailable-scaled"),
        # TestPercentageMaxUnavailableWithScaling: 30% rounds up.
        pytest.param({"maxUnavailable": "30%"}, 1, 7, (7, 4), id="percent-max-unavailable"),
        pytest.param({"maxUnavailable": "30%"}, 1, 5, (5, 3), id="percent-max-unavailable-scaled"),
        # TestReplicationController: minAvailable 34% of 3.
        pytest.param({"minAvailable": "34%"}, 3, 3, (3, 2), id="percent-min-available"),
        # An integer minAvailable expects the matching pods, whatever the controllers' scale.
        pytest.param({"minAvailable": 2}, 3, 10, (3, 2), id="int-min-available"),
        pytest.param({"maxUnavailable": 0}, 3, 3, (3, 3), id="max-unavailable-zero"),
        pytest.param({"maxUnavailable": 5}, 3, 3, (3, 0), id="desired-never-negative"),
    ],
)
def test_expected_and_desired(spec: dict[str, Any], pods: int, scale: int, expected: tuple[int, int]) -> None:
    matching = [owned(f"p{i}") for i in range(pods)]
    assert disruption.expected_and_desired(pdb(**spec), matching, scale) == expected


def test_bad_percentage_is_a_count_error() -> None:
    with pytest.raises(disruption.CountError, match="invalid value for IntOrString"):
        disruption.expected_and_desired(pdb(maxUnavailable="x%"), [], 3)


@pytest.mark.parametrize(
    ("current", "desired", "expected", "allowed", "reason"),
    [
        pytest.param(3, 2, 3, 1, "SufficientPods", id="minAvailable-2-of-3"),
        pytest.param(2, 2, 3, 0, "InsufficientPods", id="at-budget"),
        pytest.param(1, 2, 3, 0, "InsufficientPods", id="below-budget-never-negative"),
        pytest.param(3, 0, 0, 0, "InsufficientPods", id="no-expected-pods-no-disruptions"),
    ],
)
def test_updated_status_allowed_and_condition(
    current: int, desired: int, expected: int, allowed: int, reason: str
) -> None:
    obj = pdb(minAvailable=2)
    obj["metadata"]["generation"] = 4
    status = disruption.updated_status(
        obj, current=current, desired=desired, expected=expected, disrupted={}, now=NOW
    )
    assert status is not None
    assert status["disruptionsAllowed"] == allowed and status["observedGeneration"] == 4
    (cond,) = status["conditions"]
    assert (cond["type"], cond["reason"], cond["status"]) == (
        "DisruptionAllowed",
        reason,
        "True" if allowed else "False",
    )
    # Writing it again changes nothing.
    obj["status"] = status
    assert (
        disruption.updated_status(
            obj, current=current, desired=desired, expected=expected, disrupted={}, now=NOW
        )
        is None
    )


def test_disrupted_pods_expire_after_the_deletion_timeout() -> None:
    """``TestUpdateDisruptedPods``: recent entries count as unhealthy; old ones are dropped."""
    obj = pdb(minAvailable=1)
    recent, old = format_time(NOW - dt.timedelta(seconds=30)), format_time(NOW - dt.timedelta(minutes=3))
    obj["status"] = {"disruptedPods": {"p1": recent, "p2": old, "gone": recent}}
    pods = [ready_pod("p1"), ready_pod("p2"), ready_pod("p3")]
    kept, late, recheck = disruption.build_disrupted_pod_map(obj, pods, now=NOW)
    assert kept == {"p1": recent}
    assert [p["metadata"]["name"] for p in late] == ["p2"]
    assert recheck == NOW + dt.timedelta(seconds=90)
    assert disruption.count_healthy_pods(pods, kept, now=NOW) == 2


def test_unready_and_terminating_pods_are_not_healthy() -> None:
    terminating = ready_pod("t")
    terminating["metadata"]["deletionTimestamp"] = format_time(NOW)
    pods = [ready_pod("a"), ready_pod("b", ready=False), terminating]
    assert disruption.count_healthy_pods(pods, {}, now=NOW) == 1


# ---- against the API server -----------------------------------------------------------------------
async def pdb_status(api: ApiClient) -> dict[str, Any]:
    obj = await api.resource("policy/v1", "poddisruptionbudgets").get("web-pdb", namespace=NS)
    return dict(obj.get("status") or {})


def status_is(**want: int) -> Any:
    def check(status: dict[str, Any]) -> bool:
        return all(int(status.get(k) or 0) == v for k, v in want.items())

    return check


async def three_ready_pods(api: ApiClient, clock: FakeClock) -> None:
    async def three() -> bool:
        await ready_all(api, clock, SEL)
        pods = await live_pods(api, SEL)
        return len(pods) == 3 and all((p.get("status") or {}).get("phase") == "Running" for p in pods)

    await eventually(three)


async def test_min_available_two_of_three_allows_one_disruption(api: ApiClient, clock: FakeClock) -> None:
    ctrls = (
        ReplicaSetController(api, ReplicaSetConfig(), clock=clock),
        DisruptionController(api, DisruptionConfig(), clock=clock),
    )
    async with running(*ctrls):
        await api.resource("apps/v1", "replicasets").create(replicaset("web", 3, LABELS))
        await api.resource("policy/v1", "poddisruptionbudgets").create(pdb(minAvailable=2))
        await three_ready_pods(api, clock)
        want = status_is(
            currentHealthy=3, desiredHealthy=2, expectedPods=3, disruptionsAllowed=1, observedGeneration=1
        )

        async def computed() -> bool:
            return bool(want(await pdb_status(api)))

        await eventually(computed)
        (cond,) = (await pdb_status(api))["conditions"]
        assert (cond["type"], cond["status"], cond["reason"]) == (
            "DisruptionAllowed",
            "True",
            "SufficientPods",
        )

        await set_ready(api, clock, (await live_pods(api, SEL))[0], ready=False)

        async def insufficient() -> bool:
            s = await pdb_status(api)
            return bool(
                status_is(currentHealthy=2, disruptionsAllowed=0)(s)
                and s["conditions"][0]["reason"] == "InsufficientPods"
            )

        await eventually(insufficient)


async def test_percentages_use_the_controllers_scale(api: ApiClient, clock: FakeClock) -> None:
    ctrls = (
        ReplicaSetController(api, ReplicaSetConfig(), clock=clock),
        DisruptionController(api, DisruptionConfig(), clock=clock),
    )
    pdbs = api.resource("policy/v1", "poddisruptionbudgets")
    async with running(*ctrls):
        await api.resource("apps/v1", "replicasets").create(replicaset("web", 3, LABELS))
        await pdbs.create(pdb(minAvailable="50%"))
        await three_ready_pods(api, clock)

        async def half() -> bool:
            return bool(
                status_is(expectedPods=3, desiredHealthy=2, disruptionsAllowed=1)(await pdb_status(api))
            )

        await eventually(half)
        await pdbs.patch("web-pdb", {"spec": {"minAvailable": None, "maxUnavailable": "34%"}}, namespace=NS)

        async def max_unavailable() -> bool:
            # ceil(34% of 3) = 2 may be unavailable.
            return bool(
                status_is(expectedPods=3, desiredHealthy=1, disruptionsAllowed=2, observedGeneration=2)(
                    await pdb_status(api)
                )
            )

        await eventually(max_unavailable)


async def test_daemonset_pods_with_a_percentage_fail_safe(api: ApiClient, clock: FakeClock) -> None:
    ref = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "uid": "ds-1", "controller": True}
    created = await api.resource("v1", "pods").create(pod("d1", LABELS, ownerReferences=[ref]))
    await set_ready(api, clock, created)
    ctrl = DisruptionController(api, DisruptionConfig(), clock=clock)
    async with running(ctrl):
        await api.resource("policy/v1", "poddisruptionbudgets").create(pdb(maxUnavailable="10%"))

        async def failed() -> bool:
            conds = (await pdb_status(api)).get("conditions") or []
            return bool(conds) and conds[0]["reason"] == "SyncFailed"

        await eventually(failed)
        status = await pdb_status(api)
        assert status["disruptionsAllowed"] == 0
        assert (
            status["conditions"][0]["message"] == "daemonsets.apps does not implement the scale subresource"
        )


async def test_eviction_waits_for_the_budget_then_succeeds(api: ApiClient, clock: FakeClock) -> None:
    ctrls = (
        ReplicaSetController(api, ReplicaSetConfig(), clock=clock),
        DisruptionController(api, DisruptionConfig(), clock=clock),
    )
    pdbs = api.resource("policy/v1", "poddisruptionbudgets")
    # No silent Retry-After retries: the test wants to see the 429.
    no_retry = ApiClient(api.transport, clock=clock, max_retries=0)
    pods = no_retry.resource("v1", "pods")
    async with running(*ctrls):
        await api.resource("apps/v1", "replicasets").create(replicaset("web", 3, LABELS))
        await pdbs.create(pdb(maxUnavailable=0))
        await three_ready_pods(api, clock)

        async def blocked() -> bool:
            return bool(
                status_is(currentHealthy=3, desiredHealthy=3, disruptionsAllowed=0, observedGeneration=1)(
                    await pdb_status(api)
                )
            )

        await eventually(blocked)
        victim = (await live_pods(api, SEL))[0]["metadata"]["name"]
        eviction = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": victim, "namespace": NS},
        }
        with pytest.raises(errors.TooManyRequests) as info:
            await pods.create_subresource(victim, "eviction", eviction, namespace=NS)
        assert info.value.message == "Cannot evict pod as it would violate the pod's disruption budget."
        (cause,) = info.value.details["causes"]
        assert cause["reason"] == "DisruptionBudget"
        assert cause["message"] == "The disruption budget web-pdb needs 3 healthy pods and has 3 currently"

        await pdbs.patch("web-pdb", {"spec": {"maxUnavailable": 1}}, namespace=NS)

        async def relaxed() -> bool:
            return bool(status_is(disruptionsAllowed=1, observedGeneration=2)(await pdb_status(api)))

        await eventually(relaxed)
        result = await pods.create_subresource(victim, "eviction", eviction, namespace=NS)
        assert result["status"] == "Success"

        async def replaced() -> bool:
            names = {p["metadata"]["name"] for p in await live_pods(api, SEL)}
            return victim not in names and len(names) == 3

        await eventually(replaced)
