"""What the simulated kubelet sends: one status write per pod from bound to Running+Ready in the fast
profile (the status manager posts the latest status only, pkg/kubelet/status/status_manager.go),
staged writes in the realistic one, and lease renewals that PUT the cached Lease with a new renewTime
only (k8s.io/component-helpers apimachinery/lease/controller.go ``newLeaseFromCachedLease``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nodes_simfixtures import bare_node, condition, environment, pod_on, settle

from kubeds.nodes import leases, templates

PODS = 5


async def test_fast_pods_need_one_status_patch_each() -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("n1"))
        await env.start(profile="fast")
        env.transport.calls.clear()
        for i in range(PODS):
            await env.res("pods").create(pod_on(f"web-{i}", "n1"))
        await settle(600)
        for i in range(PODS):
            pod = await env.pod(f"web-{i}")
            assert pod["status"]["phase"] == "Running" and condition(pod, "Ready") == "True"
        await env.sims[0].recorder.flush()
        calls = dict(env.transport.calls)
        assert calls.pop(("PATCH", "pods/status")) == PODS
        assert calls.pop(("POST", "pods")) == PODS  # the test's own creates
        assert calls.pop(("GET", "pods")) == PODS  # the test's own reads
        assert calls.pop(("POST", "events")) == 2 * PODS  # Pulling and Started
        calls.pop(("PUT", "leases"), None)
        assert calls == {}, calls


async def test_realistic_pods_still_write_each_stage() -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("n1"))
        await env.start(profile="realistic")
        env.transport.calls.clear()
        await env.res("pods").create(pod_on("web", "n1"))
        await env.advance(10, step=0.25)
        pod = await env.pod("web")
        assert pod["status"]["phase"] == "Running" and condition(pod, "Ready") == "True"
        assert env.transport.calls[("PATCH", "pods/status")] == 2


class _Recording:
    """A stand-in for the leases ResourceClient: records PUT bodies, answers like the server."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.rv = 10

    async def update(self, obj: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.bodies.append(obj)
        self.rv += 1
        managed = [{"manager": "kubelet", "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": {}}]
        return {
            **obj,
            "metadata": {**obj["metadata"], "resourceVersion": str(self.rv), "managedFields": managed},
        }


async def test_a_renewal_puts_the_cached_lease_with_only_renew_time_moved() -> None:
    async with environment() as env:
        keeper = leases.LeaseKeeper(env.api, duration=40)
        node = await env.res("nodes").create(bare_node("n1"))
        t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        first = await keeper.renew(node, now=t0)
        assert first["metadata"]["managedFields"][0]["manager"] == "kubelet"
        recording = _Recording()
        keeper._leases = recording  # type: ignore[assignment]
        cached = keeper._cache["n1"]
        await keeper.renew(node, now=t0 + dt.timedelta(seconds=10))
        await keeper.renew(node, now=t0 + dt.timedelta(seconds=20))
        body1, body2 = recording.bodies
        # No managedFields on the wire (the server keeps the stored ones), nothing else changed.
        assert "managedFields" not in body1["metadata"] and "managedFields" not in body2["metadata"]
        assert {k: v for k, v in first["metadata"].items() if k != "managedFields"} == body1["metadata"]
        assert body1["spec"] == {**first["spec"], "renewTime": "2026-01-01T00:00:10.000000Z"}
        assert body2["spec"]["renewTime"] == "2026-01-01T00:00:20.000000Z"
        assert body2["metadata"]["resourceVersion"] == "11"  # optimistic on the last answer
        assert keeper._cache["n1"] is not cached and cached["spec"]["renewTime"] == first["spec"]["renewTime"]


async def test_renewing_against_the_server_keeps_the_kubelets_managed_fields() -> None:
    async with environment() as env:
        keeper = leases.LeaseKeeper(env.api, duration=40)
        node = await env.res("nodes").create(bare_node("n1"))
        t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        await keeper.renew(node, now=t0)
        renewed = await keeper.renew(node, now=t0 + dt.timedelta(seconds=10))
        stored = await env.lease("n1")
        assert stored["spec"]["renewTime"] == "2026-01-01T00:00:10.000000Z"
        assert stored["metadata"]["resourceVersion"] == renewed["metadata"]["resourceVersion"]
        assert [m["manager"] for m in stored["metadata"]["managedFields"]] == ["kubelet"]
        assert stored["metadata"]["namespace"] == templates.LEASE_NAMESPACE
