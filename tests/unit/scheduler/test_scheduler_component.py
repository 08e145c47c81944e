"""The Scheduler component against a real in-process API server on a FakeClock.

Scenarios follow upstream's scheduler integration tests (``test/integration/scheduler/``:
``TestUnschedulableNodes``, ``TestNodeAffinity``/``TestTaintNodeByCondition`` style checks) and the
FitError wording of ``pkg/scheduler/schedule_one_test.go``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from scheduler_cluster import UNSCHEDULABLE_TOLERATION, pinned_affinity, running_cluster

from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.scheduler import framework
from kubeds.scheduler.scheduler import Scheduler, SchedulerConfig

NO_PREEMPTION = "preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling.."
TAINT = {"key": "dedicated", "value": "user1", "effect": "NoSchedule"}


async def test_pods_bind_and_get_scheduled_event() -> None:
    async with running_cluster() as c:
        await c.add_node("node-a")
        await c.add_node("node-b", labels={"disk": "ssd"})
        await c.create_pod("web", nodeSelector={"disk": "ssd"})
        assert await c.wait_bound("web") == {"web": "node-b"}
        events = await c.pod_events("web")
        assert [(e["type"], e["reason"], e["message"]) for e in events] == [
            ("Normal", "Scheduled", "Successfully assigned default/web to node-b")
        ]
        assert events[0]["reportingComponent"] == "default-scheduler"
        assert events[0]["source"] == {"component": "default-scheduler"}
        cond = await c.scheduled_condition("web")
        assert cond is not None and cond["status"] == "True"
        assert c.scheduler.stats.bound == 1


async def test_other_scheduler_names_are_ignored() -> None:
    async with running_cluster() as c:
        await c.add_node("node-a")
        await c.create_pod("mine")
        await c.create_pod("theirs", schedulerName="my-scheduler")
        await c.wait_bound("mine")
        await c.settle()
        assert await c.node_of("theirs") == ""
        assert await c.pod_events("theirs") == []


async def test_no_nodes_then_node_added() -> None:
    async with running_cluster() as c:
        await c.create_pod("p")
        await c.settle()
        events = await c.pod_events("p")
        assert [e["message"] for e in events] == ["no nodes available to schedule pods"]
        # Rejected by no plugin: straight to backoffQ, retried once the backoff (1 s) is over.
        assert c.scheduler.queue.where("default/p") == "backoffQ"
        await c.add_node("late")
        await c.advance(1.0)
        assert await c.wait_bound("p") == {"p": "late"}


async def test_taint_blocks_with_upstream_message_then_untaint_schedules() -> None:
    async with running_cluster() as c:
        await c.add_node("tainted", taints=[TAINT])
        await c.create_pod("p")
        await c.settle()
        message = "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: user1}. " + (
            NO_PREEMPTION.format(n=1)
        )
        events = await c.pod_events("p")
        assert [(e["type"], e["reason"], e["message"]) for e in events] == [
            ("Warning", "FailedScheduling", message)
        ]
        cond = await c.scheduled_condition("p")
        assert cond is not None
        assert (cond["status"], cond["reason"], cond["message"]) == ("False", "Unschedulable", message)
        assert cond["lastTransitionTime"] == "2026-01-01T00:00:00Z"
        assert c.scheduler.queue.where("default/p") == "unschedulablePods"
        # Our own status patch does not count as a pod update that could help.
        assert c.scheduler.stats.attempts == 1

        node = await c.nodes.get("tainted")
        node["spec"]["taints"] = []
        await c.nodes.update(node)
        await c.settle()
        # Moved by the taint change, but still backing off (1 s after the attempt).
        assert c.scheduler.queue.where("default/p") == "backoffQ"
        assert await c.node_of("p") == ""
        await c.advance(1.0)
        assert await c.wait_bound("p") == {"p": "tainted"}
        assert c.scheduler.stats.attempts == 2


async def test_issue_example_message_taint_and_selector() -> None:
    async with running_cluster() as c:
        await c.add_node("n0", taints=[{"key": "key", "value": "value", "effect": "NoSchedule"}])
        for i in range(1, 5):
            await c.add_node(f"n{i}")
        await c.create_pod("p", nodeSelector={"color": "blue"})
        await c.settle()
        cond = await c.scheduled_condition("p")
        assert cond is not None
        assert cond["message"] == (
            "0/5 nodes are available: 1 node(s) had untolerated taint {key: value}, "
            "4 node(s) didn't match Pod's node affinity/selector. " + NO_PREEMPTION.format(n=5)
        )


async def test_tolerated_taint_and_no_execute() -> None:
    async with running_cluster() as c:
        await c.add_node("noexec", taints=[{"key": "k", "effect": "NoExecute"}])
        await c.add_node("dedicated", taints=[TAINT])
        toleration = {"key": "dedicated", "operator": "Equal", "value": "user1", "effect": "NoSchedule"}
        await c.create_pod("tolerant", tolerations=[toleration])
        await c.create_pod("plain")
        assert (await c.wait_bound("tolerant")) == {"tolerant": "dedicated"}
        cond = await c.scheduled_condition("plain")
        assert cond is not None
        assert cond["message"].startswith(
            "0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: user1}, "
            "1 node(s) had untolerated taint {k: }."
        )


async def test_resource_fit_and_freed_room() -> None:
    async with running_cluster() as c:
        await c.add_node("small", allocatable={"cpu": "1", "memory": "1Gi", "pods": "110"})
        await c.create_pod("a", requests={"cpu": "600m"})
        await c.create_pod("b", requests={"cpu": "600m"})
        await c.settle()
        bound = {n: await c.node_of(n) for n in ("a", "b")}
        assert sorted(bound.values()) == ["", "small"]
        loser = next(n for n, node in bound.items() if not node)
        winner = next(n for n, node in bound.items() if node)
        cond = await c.scheduled_condition(loser)
        assert cond is not None
        assert cond["message"] == (
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 No preemption victims found for incoming pod.."
        )
        await c.pods.delete(winner, namespace="default", grace_period_seconds=0)
        await c.settle()
        await c.advance(1.0)
        assert await c.wait_bound(loser) == {loser: "small"}


async def test_pod_count_counts_assumed_pods() -> None:
    async with running_cluster() as c:
        await c.add_node("tiny", allocatable={"cpu": "4", "memory": "4Gi", "pods": "2"})
        for name in ("p1", "p2", "p3"):
            await c.create_pod(name)
        await c.settle()
        nodes = sorted([await c.node_of(n) for n in ("p1", "p2", "p3")])
        assert nodes == ["", "tiny", "tiny"]
        assert c.scheduler.stats.unschedulable == 1
        failed = [e for n in ("p1", "p2", "p3") for e in await c.pod_events(n) if e["type"] == "Warning"]
        assert [e["message"].split(". ")[0] for e in failed] == ["0/1 nodes are available: 1 Too many pods"]


async def test_node_affinity_required_terms() -> None:
    async with running_cluster() as c:
        await c.add_node("z1", labels={"zone": "a", "gen": "3"})
        await c.add_node("z2", labels={"zone": "b", "gen": "5"})
        await c.add_node("z3", labels={"zone": "c"})
        terms = [
            {
                "matchExpressions": [
                    {"key": "zone", "operator": "NotIn", "values": ["a"]},
                    {"key": "gen", "operator": "Gt", "values": ["4"]},
                ]
            }
        ]
        affinity = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
        }
        for i in range(4):
            await c.create_pod(f"p{i}", affinity=affinity)
        bound = await c.wait_bound(*(f"p{i}" for i in range(4)))
        assert set(bound.values()) == {"z2"}


async def test_preferred_affinity_wins() -> None:
    async with running_cluster() as c:
        await c.add_node("plain")
        await c.add_node("fancy", labels={"fancy": "yes"})
        pref = {"weight": 50, "preference": {"matchExpressions": [{"key": "fancy", "operator": "Exists"}]}}
        affinity = {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [pref]}}
        for i in range(3):
            await c.create_pod(f"p{i}", affinity=affinity)
        bound = await c.wait_bound("p0", "p1", "p2")
        assert set(bound.values()) == {"fancy"}


async def test_cordoned_node_skipped_unless_tolerated() -> None:
    async with running_cluster() as c:
        await c.add_node("cordoned", unschedulable=True)
        await c.add_node("open")
        for i in range(4):
            await c.create_pod(f"p{i}")
        bound = await c.wait_bound(*(f"p{i}" for i in range(4)))
        assert set(bound.values()) == {"open"}
        await c.create_pod("ds", affinity=pinned_affinity("cordoned"), tolerations=[UNSCHEDULABLE_TOLERATION])
        assert await c.wait_bound("ds") == {"ds": "cordoned"}
        await c.create_pod("pinned", affinity=pinned_affinity("cordoned"))
        await c.settle()
        cond = await c.scheduled_condition("pinned")
        assert cond is not None
        assert cond["message"] == (
            "0/2 nodes are available: 1 node(s) didn't satisfy plugin(s) [NodeAffinity], "
            "1 node(s) were unschedulable. " + NO_PREEMPTION.format(n=2)
        )
        # Uncordoning (a taint-class change) makes it schedulable after its backoff.
        node = await c.nodes.get("cordoned")
        node["spec"]["unschedulable"] = False
        await c.nodes.update(node)
        await c.advance(1.0)
        assert await c.wait_bound("pinned") == {"pinned": "cordoned"}


async def test_daemonset_pod_evaluates_only_its_node(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = framework.run_filters

    def counting(pod: Any, node_info: framework.NodeInfo, **kwargs: Any) -> framework.FilterResult:
        calls.append(node_info.name)
        return real(pod, node_info, **kwargs)

    monkeypatch.setattr(framework, "run_filters", counting)
    async with running_cluster() as c:
        for i in range(40):
            await c.add_node(f"n{i:02d}")
        for i in (3, 17, 38):
            await c.create_pod(f"ds-{i}", affinity=pinned_affinity(f"n{i:02d}"))
        bound = await c.wait_bound("ds-3", "ds-17", "ds-38")
        assert bound == {"ds-3": "n03", "ds-17": "n17", "ds-38": "n38"}
        assert sorted(calls) == ["n03", "n17", "n38"]
        assert c.scheduler.stats.evaluated_nodes == 3


class _ScanCountingList(list[framework.NodeInfo]):
    """A node list that counts how often it is scanned (iterated or indexed)."""

    scans = 0

    def __iter__(self) -> Any:
        type(self).scans += 1
        return super().__iter__()

    def __getitem__(self, index: Any) -> Any:
        type(self).scans += 1
        return super().__getitem__(index)


async def test_daemonset_pod_does_not_scan_the_node_list(monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_cluster() as c:
        for i in range(30):
            await c.add_node(f"n{i:02d}")
        cache = c.scheduler.cache
        real = cache.node_infos
        monkeypatch.setattr(cache, "node_infos", lambda: _ScanCountingList(real()))
        await c.create_pod("ds", affinity=pinned_affinity("n12"))
        assert await c.wait_bound("ds") == {"ds": "n12"}
        assert _ScanCountingList.scans == 0
        # An ordinary pod does scan it.
        await c.create_pod("plain")
        await c.wait_bound("plain")
        assert _ScanCountingList.scans > 0


async def test_daemonset_pod_for_missing_node_waits_for_it() -> None:
    async with running_cluster() as c:
        for i in range(3):
            await c.add_node(f"n{i}")
        await c.create_pod("ds", affinity=pinned_affinity("later"))
        await c.settle()
        cond = await c.scheduled_condition("ds")
        assert cond is not None
        assert cond["message"] == (
            "0/3 nodes are available: 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. "
            + NO_PREEMPTION.format(n=3)
        )
        await c.add_node("later")
        await c.advance(1.0)
        assert await c.wait_bound("ds") == {"ds": "later"}


async def test_scoring_prefers_least_allocated_node() -> None:
    async with running_cluster() as c:
        for name in ("busy", "idle", "half"):
            await c.add_node(name)
        # Pods created with nodeName bypass the scheduler and load the nodes.
        await c.create_pod("load-busy", node_name="busy", requests={"cpu": "3", "memory": "12Gi"})
        await c.create_pod("load-half", node_name="half", requests={"cpu": "2", "memory": "8Gi"})
        await c.settle()
        await c.create_pod("new", requests={"cpu": "500m", "memory": "1Gi"})
        assert await c.wait_bound("new") == {"new": "idle"}
        await c.create_pod("next", requests={"cpu": "500m", "memory": "1Gi"})
        assert await c.wait_bound("next") == {"next": "idle"}


async def test_host_port_conflict() -> None:
    async with running_cluster() as c:
        await c.add_node("n1")
        await c.add_node("n2")
        port = [{"containerPort": 80, "hostPort": 8080}]
        await c.create_pod("a", node_name="n1", containers=[{"name": "c", "image": "x", "ports": port}])
        await c.settle()
        for i in range(3):
            await c.create_pod(f"b{i}", containers=[{"name": "c", "image": "x", "ports": port}])
        await c.settle()
        nodes = sorted([await c.node_of(f"b{i}") for i in range(3)])
        assert nodes == ["", "", "n2"]


async def test_binding_error_retries_after_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    async with running_cluster() as c:
        await c.add_node("n1")
        real = c.scheduler._pods.create_subresource
        failures = [errors.ServerError({"code": 500, "reason": "InternalError", "message": "etcd hiccup"})]

        async def flaky(*args: Any, **kwargs: Any) -> dict[str, Any]:
            if failures:
                raise failures.pop()
            return await real(*args, **kwargs)

        monkeypatch.setattr(c.scheduler._pods, "create_subresource", flaky)
        await c.create_pod("p")
        await c.settle()
        cond = await c.scheduled_condition("p")
        assert cond is not None
        assert (cond["reason"], cond["message"]) == ("SchedulerError", "etcd hiccup")
        assert c.scheduler.cache.pod_count == 0  # the assumed pod was forgotten
        assert c.scheduler.queue.where("default/p") == "backoffQ"
        await c.advance(1.0)
        assert await c.wait_bound("p") == {"p": "n1"}
        assert c.scheduler.cache.pod_count == 1


async def test_assigned_pods_count_after_confirmation() -> None:
    async with running_cluster() as c:
        await c.add_node("n1", allocatable={"cpu": "2", "memory": "4Gi", "pods": "110"})
        await c.create_pod("a", requests={"cpu": "1"})
        await c.wait_bound("a")
        info = c.scheduler.cache.get("n1")
        assert info is not None
        assert info.requested["cpu"] == 1000
        assert c.scheduler.cache.assumed_count == 0
        await c.pods.delete("a", namespace="default", grace_period_seconds=0)
        await c.settle()
        assert info.requested["cpu"] == 0


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="percentage_of_nodes_to_score"):
        SchedulerConfig(percentage_of_nodes_to_score=101)
    with pytest.raises(ValueError, match="backoff"):
        SchedulerConfig(pod_initial_backoff_seconds=5, pod_max_backoff_seconds=1)
    with pytest.raises(ValueError, match="scheduler_name"):
        SchedulerConfig(scheduler_name="")


class _HangingTransport:
    """An API server that never answers."""

    async def request(self, req: Any) -> Any:
        await asyncio.Event().wait()

    async def close(self) -> None:
        return None


async def test_stop_before_first_list() -> None:
    scheduler = Scheduler(ApiClient(_HangingTransport()), SchedulerConfig(), clock=FakeClock())
    task = asyncio.ensure_future(scheduler.run())
    for _ in range(10):
        await asyncio.sleep(0)
    await scheduler.stop()
    await task
    assert task.exception() is None
    assert scheduler.stats.attempts == 0
