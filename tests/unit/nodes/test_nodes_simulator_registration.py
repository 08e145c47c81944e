"""The simulator on a real in-process API server and a fake clock: registration, leases, heartbeats,
failure injection and condition knobs (upstream behaviour: pkg/kubelet/kubelet_node_status.go,
pkg/kubelet/nodelease, KEP-589 node heartbeats)."""

from __future__ import annotations

import pytest
from nodes_simfixtures import bare_node, condition, environment, settle

from kubeds.clock import format_time
from kubeds.nodes import annotations as knobs, templates
from kubeds.nodes.simulator import NodeSimulatorConfig


async def test_registration_fills_status_and_creates_the_lease() -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("n1"))
        await env.start()
        node = await env.node("n1")
        status = node["status"]
        assert [c["type"] for c in status["conditions"]] == list(templates.NODE_CONDITION_TYPES)
        assert condition(node, "Ready") == "True"
        assert condition(node, "DiskPressure") == "False"
        assert status["capacity"]["cpu"] == "4" and status["capacity"]["pods"] == "110"
        assert status["allocatable"] == status["capacity"]
        assert {a["type"] for a in status["addresses"]} == {"InternalIP", "Hostname"}
        assert status["nodeInfo"]["kubeletVersion"] == templates.DEFAULT_KUBELET_VERSION
        assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
        lease = await env.lease("n1")
        assert lease["spec"]["holderIdentity"] == "n1"
        assert lease["spec"]["leaseDurationSeconds"] == 40
        assert lease["spec"]["renewTime"] == templates.format_micro_time(env.clock.now())
        assert lease["metadata"]["ownerReferences"][0]["uid"] == node["metadata"]["uid"]


async def test_existing_capacity_is_kept() -> None:
    async with environment() as env:
        body = templates.new_node("big", cpu="64", memory="256Gi", internal_ip="172.20.0.9")
        await env.res("nodes").create(body)
        await env.start()
        node = await env.node("big")
        assert node["status"]["capacity"]["cpu"] == "64"
        assert node["status"]["addresses"][0]["address"] == "172.20.0.9"


async def test_nodes_added_later_are_simulated_too() -> None:
    async with environment() as env:
        await env.start()
        await env.res("nodes").create(bare_node("late"))
        await settle(200)
        assert condition(await env.node("late"), "Ready") == "True"
        await env.lease("late")


async def test_lease_renews_every_interval_and_status_only_every_report_interval() -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("n1"))
        await env.start(renew_interval=10, status_report_interval=60)
        first_hb = (await env.node("n1"))["status"]["conditions"][-1]["lastHeartbeatTime"]
        renewals = []
        for _ in range(5):
            await env.advance(11)
            renewals.append((await env.lease("n1"))["spec"]["renewTime"])
        assert len(set(renewals)) == 5, renewals  # a new renewTime after every interval
        # 55 s in: no status post yet (nothing changed, report interval 60 s + up to 10 % jitter).
        assert (await env.node("n1"))["status"]["conditions"][-1]["lastHeartbeatTime"] == first_hb
        await env.advance(20)
        node = await env.node("n1")
        assert node["status"]["conditions"][-1]["lastHeartbeatTime"] > first_hb
        # The transition time does not move while the status is the same.
        assert node["status"]["conditions"][-1]["lastTransitionTime"] == first_hb


async def test_failed_node_stops_renewing_and_recovers() -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("n1"))
        await env.start(renew_interval=10)
        await env.res("nodes").patch("n1", {"metadata": {"annotations": {knobs.FAILED_ANNOTATION: "true"}}})
        await settle()
        before = (await env.lease("n1"))["spec"]["renewTime"]
        puts = env.transport.calls[("PUT", "leases")]
        await env.advance(60)
        assert (await env.lease("n1"))["spec"]["renewTime"] == before
        assert env.transport.calls[("PUT", "leases")] == puts
        # What the node lifecycle controller writes once the lease has expired.
        node = await env.node("n1")
        for cond in node["status"]["conditions"]:
            if cond["type"] != "NetworkUnavailable":
                cond["status"] = "Unknown"
        await env.res("nodes").update_status(node)
        await env.advance(5)
        assert condition(await env.node("n1"), "Ready") == "Unknown"  # a dead kubelet posts nothing

        await env.res("nodes").patch("n1", {"metadata": {"annotations": {knobs.FAILED_ANNOTATION: None}}})
        await settle(200)
        assert (await env.lease("n1"))["spec"]["renewTime"] == templates.format_micro_time(env.clock.now())
        assert condition(await env.node("n1"), "Ready") == "True"


@pytest.mark.parametrize(
    ("ctype", "value"), [("DiskPressure", "True"), ("MemoryPressure", "True"), ("Ready", "False")]
)
async def test_condition_annotation_sets_the_condition_at_once(ctype: str, value: str) -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("n1"))
        await env.start()
        key, status = knobs.condition_annotation(f"{ctype}={value}")
        await env.res("nodes").patch("n1", {"metadata": {"annotations": {key: status}}})
        await settle(200)
        node = await env.node("n1")
        assert condition(node, ctype) == value
        cond = next(c for c in node["status"]["conditions"] if c["type"] == ctype)
        assert cond["lastTransitionTime"] == format_time(env.clock.now())
        # Removing the annotation recovers the healthy value.
        await env.res("nodes").patch("n1", {"metadata": {"annotations": {key: None}}})
        await settle(200)
        assert condition(await env.node("n1"), ctype) == ("True" if ctype == "Ready" else "False")


async def test_node_selector_limits_the_simulated_nodes() -> None:
    async with environment() as env:
        await env.res("nodes").create(
            bare_node("mine") | {"metadata": {"name": "mine", "labels": {"sim": "a"}}}
        )
        await env.res("nodes").create(bare_node("other"))
        await env.start(node_selector="sim=a")
        assert condition(await env.node("mine"), "Ready") == "True"
        assert "status" not in await env.node("other") or condition(await env.node("other"), "Ready") is None


async def test_removed_node_loses_its_lease() -> None:
    async with environment() as env:
        await env.res("nodes").create(bare_node("gone"))
        await env.start()
        await env.lease("gone")
        await env.res("nodes").delete("gone")
        await settle(200)
        leases = await env.res("leases").list(namespace=templates.LEASE_NAMESPACE)
        assert [lease["metadata"]["name"] for lease in leases["items"]] == []


def test_config_is_validated() -> None:
    with pytest.raises(ValueError, match="unknown node profile"):
        NodeSimulatorConfig(profile="slow")
    with pytest.raises(ValueError, match="renew_interval"):
        NodeSimulatorConfig(renew_interval=40, lease_duration=40)
    with pytest.raises(ValueError, match="status_report_interval"):
        NodeSimulatorConfig(status_report_interval=0)
