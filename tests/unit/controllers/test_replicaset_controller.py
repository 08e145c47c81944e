"""The ReplicaSet controller against a real in-process API server (MemoryBackend, FakeClock).

Cases follow upstream ``pkg/controller/replicaset/replica_set_test.go``: ``TestSyncReplicaSetCreateFailures``
/ ``TestSyncReplicaSetDormancy`` (create to match replicas), ``TestDeleteControllerAndExpectations``,
``TestPatchPodFails``/``TestUpdatePods`` (adoption and release), ``TestControllerUpdateStatusWithFailure``
and the status counters of ``TestControllerUpdateReplicas``.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_replicaset_support import NS, eventually, live_pods, pod, ready_all, replicaset, running, set_ready

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers.replicaset import ReplicaSetConfig, ReplicaSetController

LABELS = {"app": "web"}
SEL = "app=web"


def controller(api: ApiClient, clock: FakeClock) -> ReplicaSetController:
    return ReplicaSetController(api, ReplicaSetConfig(workers=2), clock=clock)


async def rs_status(api: ApiClient, name: str = "web") -> dict[str, Any]:
    obj = await api.resource("apps/v1", "replicasets").get(name, namespace=NS)
    return dict(obj.get("status") or {})


async def events(api: ApiClient, reason: str) -> list[str]:
    items = (await api.resource("v1", "events").list(namespace=NS)).get("items") or []
    return sorted(e["message"] for e in items if e.get("reason") == reason)


def test_config_is_validated() -> None:
    with pytest.raises(ValueError):
        ReplicaSetConfig(workers=0)
    with pytest.raises(ValueError):
        ReplicaSetConfig(burst_replicas=0)


async def test_creates_pods_to_match_replicas_and_reports_status(api: ApiClient, clock: FakeClock) -> None:
    ctrl = controller(api, clock)
    rss = api.resource("apps/v1", "replicasets")
    async with running(ctrl):
        await rss.create(replicaset("web", 3, LABELS))

        async def three() -> bool:
            return len(await live_pods(api, SEL)) == 3

        await eventually(three)
        pods = await live_pods(api, SEL)
        for p in pods:
            assert p["metadata"]["generateName"] == "web-"
            (ref,) = p["metadata"]["ownerReferences"]
            assert ref["kind"] == "ReplicaSet" and ref["name"] == "web"
            assert ref["controller"] is True and ref["blockOwnerDeletion"] is True

        async def counted() -> bool:
            s = await rs_status(api)
            return (
                s.get("replicas") == 3
                and s.get("fullyLabeledReplicas") == 3
                and s.get("observedGeneration") == 1
            )

        await eventually(counted)
        assert (await rs_status(api)).get("readyReplicas", 0) == 0
        await ready_all(api, clock, SEL)

        async def ready() -> bool:
            s = await rs_status(api)
            return s.get("readyReplicas") == 3 and s.get("availableReplicas") == 3

        await eventually(ready)
        await ctrl.recorder.flush()
        created = await events(api, "SuccessfulCreate")
        assert created == sorted(f"Created pod: {p['metadata']['name']}" for p in pods)


async def test_scale_down_deletes_not_ready_pods_first(api: ApiClient, clock: FakeClock) -> None:
    ctrl = controller(api, clock)
    rss = api.resource("apps/v1", "replicasets")
    async with running(ctrl):
        await rss.create(replicaset("web", 3, LABELS))

        async def three() -> bool:
            return len(await live_pods(api, SEL)) == 3

        await eventually(three)
        pods = sorted(await live_pods(api, SEL), key=lambda p: p["metadata"]["name"])
        for p in pods[:2]:
            await set_ready(api, clock, p)
        not_ready = pods[2]["metadata"]["name"]
        await rss.patch("web", {"spec": {"replicas": 2}}, namespace=NS)

        async def two() -> bool:
            return len(await live_pods(api, SEL)) == 2

        await eventually(two)
        names = {p["metadata"]["name"] for p in await live_pods(api, SEL)}
        assert not_ready not in names
        await ctrl.recorder.flush()
        assert await events(api, "SuccessfulDelete") == [f"Deleted pod: {not_ready}"]


async def test_replaces_a_deleted_pod(api: ApiClient, clock: FakeClock) -> None:
    ctrl = controller(api, clock)
    async with running(ctrl):
        await api.resource("apps/v1", "replicasets").create(replicaset("web", 2, LABELS))

        async def two() -> bool:
            return len(await live_pods(api, SEL)) == 2

        await eventually(two)
        victim = (await live_pods(api, SEL))[0]["metadata"]["name"]
        await api.resource("v1", "pods").delete(victim, namespace=NS, grace_period_seconds=0)

        async def replaced() -> bool:
            names = {p["metadata"]["name"] for p in await live_pods(api, SEL)}
            return len(names) == 2 and victim not in names

        await eventually(replaced)


async def test_adopts_matching_orphans_and_releases_relabelled_pods(api: ApiClient, clock: FakeClock) -> None:
    pods_client = api.resource("v1", "pods")
    await pods_client.create(pod("orphan-a", LABELS))
    await pods_client.create(pod("orphan-b", LABELS))
    await pods_client.create(pod("other", {"app": "db"}))
    ctrl = controller(api, clock)
    async with running(ctrl):
        created = await api.resource("apps/v1", "replicasets").create(replicaset("web", 2, LABELS))
        uid = created["metadata"]["uid"]

        async def adopted() -> bool:
            pods = await live_pods(api, SEL)
            refs = [(p["metadata"].get("ownerReferences") or [{}])[0].get("uid") for p in pods]
            return refs == [uid, uid]

        await eventually(adopted)
        # Adoption counted: nothing was created.
        assert sorted(p["metadata"]["name"] for p in await live_pods(api, SEL)) == ["orphan-a", "orphan-b"]
        assert "ownerReferences" not in (await pods_client.get("other", namespace=NS))["metadata"]

        # A pod relabelled out of the selector is released, and replaced.
        await pods_client.patch("orphan-a", {"metadata": {"labels": {"app": "debug"}}}, namespace=NS)

        async def released() -> bool:
            got = await pods_client.get("orphan-a", namespace=NS)
            return not got["metadata"].get("ownerReferences") and len(await live_pods(api, SEL)) == 2

        await eventually(released)


async def test_pods_of_another_controller_are_left_alone(api: ApiClient, clock: FakeClock) -> None:
    foreign = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": "u-1", "controller": True}
    await api.resource("v1", "pods").create(pod("foreign", LABELS, ownerReferences=[foreign]))
    ctrl = controller(api, clock)
    async with running(ctrl):
        await api.resource("apps/v1", "replicasets").create(replicaset("web", 1, LABELS))

        async def created() -> bool:
            return len(await live_pods(api, SEL)) == 2

        await eventually(created)
        got = await api.resource("v1", "pods").get("foreign", namespace=NS)
        assert got["metadata"]["ownerReferences"] == [foreign]


async def test_min_ready_seconds_delays_availability(api: ApiClient, clock: FakeClock) -> None:
    ctrl = controller(api, clock)
    async with running(ctrl):
        await api.resource("apps/v1", "replicasets").create(replicaset("web", 1, LABELS, minReadySeconds=10))

        async def one() -> bool:
            return len(await live_pods(api, SEL)) == 1

        await eventually(one)
        await ready_all(api, clock, SEL)

        async def ready_not_available() -> bool:
            s = await rs_status(api)
            return s.get("readyReplicas") == 1 and not s.get("availableReplicas")

        await eventually(ready_not_available)
        clock.advance(11)

        async def available() -> bool:
            return (await rs_status(api)).get("availableReplicas") == 1

        await eventually(available)
