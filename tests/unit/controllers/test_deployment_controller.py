"""The Deployment and ReplicaSet controllers together against a real in-process API server.

Scenarios follow upstream ``test/integration/deployment/deployment_test.go`` (``TestNewDeployment``,
``TestScaledRolloutDeployment``, ``TestDeploymentHashCollision`` aside) and the unit cases of
``pkg/controller/deployment/rolling_test.go`` / ``recreate_test.go``: pods are made Ready by the test.
"""

from __future__ import annotations

import asyncio
from typing import Any

from test_replicaset_support import NS, deployment, eventually, live_pods, ready_all, running

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers.deployment import DeploymentConfig, DeploymentController, util as dutil
from kubeds.controllers.replicaset import ReplicaSetConfig, ReplicaSetController

LABELS = {"app": "web"}
SEL = "app=web"


def controllers(api: ApiClient, clock: FakeClock) -> tuple[DeploymentController, ReplicaSetController]:
    return (
        DeploymentController(api, DeploymentConfig(workers=2), clock=clock),
        ReplicaSetController(api, ReplicaSetConfig(workers=2), clock=clock),
    )


async def get_deployment(api: ApiClient, name: str = "web") -> dict[str, Any]:
    return await api.resource("apps/v1", "deployments").get(name, namespace=NS)


async def replica_sets(api: ApiClient) -> list[dict[str, Any]]:
    """ReplicaSets oldest revision first (the fake clock gives them all the same creationTimestamp)."""
    items = (await api.resource("apps/v1", "replicasets").list(namespace=NS)).get("items") or []
    return sorted(
        items, key=lambda rs: int((rs["metadata"].get("annotations") or {}).get(dutil.REVISION_ANNOTATION, 0))
    )


async def settle() -> None:
    for _ in range(400):
        await asyncio.sleep(0)


async def events(api: ApiClient, reason: str) -> list[str]:
    items = (await api.resource("v1", "events").list(namespace=NS)).get("items") or []
    return [e["message"] for e in items if e.get("reason") == reason]


async def rolled_out(api: ApiClient) -> bool:
    _, done = dutil.rollout_status(await get_deployment(api))
    return done


def condition(d: dict[str, Any], type_: str) -> dict[str, Any]:
    cond = dutil.get_condition(d.get("status") or {}, type_)
    assert cond is not None, (type_, d.get("status"))
    return cond


async def test_new_deployment_creates_a_replica_set_and_rolls_out(api: ApiClient, clock: FakeClock) -> None:
    dc, rsc = controllers(api, clock)
    async with running(dc, rsc):
        await api.resource("apps/v1", "deployments").create(deployment("web", 3, LABELS))

        async def three_pods() -> bool:
            return len(await live_pods(api, SEL)) == 3

        await eventually(three_pods)
        (rs,) = await replica_sets(api)
        hash_ = rs["metadata"]["labels"][dutil.POD_TEMPLATE_HASH_LABEL]
        assert rs["metadata"]["name"] == f"web-{hash_}"
        assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": hash_}
        assert rs["metadata"]["annotations"][dutil.REVISION_ANNOTATION] == "1"
        assert rs["metadata"]["annotations"][dutil.DESIRED_REPLICAS_ANNOTATION] == "3"
        assert rs["metadata"]["annotations"][dutil.MAX_REPLICAS_ANNOTATION] == "4"
        (ref,) = rs["metadata"]["ownerReferences"]
        assert ref["kind"] == "Deployment" and ref["controller"] is True
        for p in await live_pods(api, SEL):
            assert p["metadata"]["labels"]["pod-template-hash"] == hash_

        async def waiting_for_available() -> bool:
            text, done = dutil.rollout_status(await get_deployment(api))
            return (
                not done
                and text
                == 'Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...\n'
            )

        await eventually(waiting_for_available)
        await ready_all(api, clock, SEL)
        await eventually(lambda: rolled_out(api))
        d = await get_deployment(api)
        assert dutil.rollout_status(d) == ('deployment "web" successfully rolled out\n', True)
        status = d["status"]
        assert (
            status["replicas"],
            status["updatedReplicas"],
            status["readyReplicas"],
            status["availableReplicas"],
        ) == (3, 3, 3, 3)
        assert condition(d, "Available")["reason"] == "MinimumReplicasAvailable"
        progressing = condition(d, "Progressing")
        assert progressing["status"] == "True" and progressing["reason"] == "NewReplicaSetAvailable"
        assert progressing["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.'
        await dc.recorder.flush()
        assert await events(api, "ScalingReplicaSet") == [
            f"Scaled up replica set {rs['metadata']['name']} from 0 to 3"
        ]


async def test_rolling_update_respects_max_surge_and_max_unavailable(
    api: ApiClient, clock: FakeClock
) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    dc, rsc = controllers(api, clock)
    deployments = api.resource("apps/v1", "deployments")
    async with running(dc, rsc):
        await deployments.create(deployment("web", 3, LABELS, strategy=strategy))

        async def three_ready() -> bool:
            await ready_all(api, clock, SEL)
            return await rolled_out(api)

        await eventually(three_ready)
        await deployments.patch(
            "web",
            {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}},
            namespace=NS,
        )
        max_pods, min_available = 0, 3
        for _ in range(30):
            await settle()
            pods = await live_pods(api, SEL)
            max_pods = max(max_pods, len(pods))
            ready = [
                p
                for p in pods
                if any(c.get("status") == "True" for c in (p.get("status") or {}).get("conditions") or [])
            ]
            min_available = min(min_available, len(ready))
            if await rolled_out(api):
                break
            await ready_all(api, clock, SEL)
        else:
            raise AssertionError("rollout did not finish")
        assert max_pods <= 4  # replicas + maxSurge
        assert min_available >= 3  # replicas - maxUnavailable
        old, new = await replica_sets(api)
        assert old["spec"]["replicas"] == 0 and new["spec"]["replicas"] == 3
        assert new["metadata"]["annotations"][dutil.REVISION_ANNOTATION] == "2"
        assert {p["spec"]["containers"][0]["image"] for p in await live_pods(api, SEL)} == {"nginx:1.26"}


async def test_recreate_scales_old_pods_away_before_creating_new_ones(
    api: ApiClient, clock: FakeClock
) -> None:
    dc, rsc = controllers(api, clock)
    deployments = api.resource("apps/v1", "deployments")
    async with running(dc, rsc):
        await deployments.create(deployment("web", 2, LABELS, strategy={"type": "Recreate"}))

        async def two_ready() -> bool:
            await ready_all(api, clock, SEL)
            return await rolled_out(api)

        await eventually(two_ready)
        await deployments.patch(
            "web",
            {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}},
            namespace=NS,
        )
        images_seen: list[set[str]] = []
        for _ in range(30):
            await settle()
            images_seen.append({p["spec"]["containers"][0]["image"] for p in await live_pods(api, SEL)})
            if await rolled_out(api) and len(await replica_sets(api)) == 2:
                break
            await ready_all(api, clock, SEL)
        else:
            raise AssertionError("rollout did not finish")
        # Never old and new pods at the same time.
        assert all(len(images) <= 1 for images in images_seen)
        assert images_seen[-1] == {"nginx:1.26"}
        old, new = await replica_sets(api)
        assert (old["spec"]["replicas"], new["spec"]["replicas"]) == (0, 2)


async def test_scale_subresource_scales_the_replica_set(api: ApiClient, clock: FakeClock) -> None:
    dc, rsc = controllers(api, clock)
    async with running(dc, rsc):
        await api.resource("apps/v1", "deployments").create(deployment("web", 2, LABELS))

        async def two_ready() -> bool:
            await ready_all(api, clock, SEL)
            return await rolled_out(api)

        await eventually(two_ready)
        scale = await api.resource("apps/v1", "deployments").get("web", namespace=NS, subresource="scale")
        scale["spec"]["replicas"] = 5
        await api.resource("apps/v1", "deployments").update(scale, subresource="scale")

        async def five() -> bool:
            await ready_all(api, clock, SEL)
            return len(await live_pods(api, SEL)) == 5 and await rolled_out(api)

        await eventually(five)
        (rs,) = await replica_sets(api)
        assert rs["spec"]["replicas"] == 5
        assert rs["metadata"]["annotations"][dutil.DESIRED_REPLICAS_ANNOTATION] == "5"
        await dc.recorder.flush()
        assert f"Scaled up replica set {rs['metadata']['name']} from 2 to 5" in await events(
            api, "ScalingReplicaSet"
        )


async def test_adopts_an_orphan_replica_set_with_the_same_template(api: ApiClient, clock: FakeClock) -> None:
    dc, rsc = controllers(api, clock)
    d = deployment("web", 2, LABELS)
    orphan = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web-orphan", "namespace": NS, "labels": LABELS},
        "spec": {"replicas": 2, "selector": d["spec"]["selector"], "template": d["spec"]["template"]},
    }
    await api.resource("apps/v1", "replicasets").create(orphan)
    async with running(dc, rsc):
        created = await api.resource("apps/v1", "deployments").create(d)

        async def adopted() -> bool:
            rss = await replica_sets(api)
            refs = rss[0]["metadata"].get("ownerReferences") or []
            return len(rss) == 1 and bool(refs) and refs[0]["uid"] == created["metadata"]["uid"]

        await eventually(adopted)
        await settle()
        assert [rs["metadata"]["name"] for rs in await replica_sets(api)] == ["web-orphan"]


async def test_paused_deployment_records_the_paused_condition(api: ApiClient, clock: FakeClock) -> None:
    dc, rsc = controllers(api, clock)
    async with running(dc, rsc):
        await api.resource("apps/v1", "deployments").create(deployment("web", 1, LABELS, paused=True))

        async def paused() -> bool:
            d = await get_deployment(api)
            cond = dutil.get_condition(d.get("status") or {}, "Progressing")
            return cond is not None and cond["reason"] == "DeploymentPaused" and cond["status"] == "Unknown"

        await eventually(paused)
        await settle()
        # A paused Deployment does not roll out: no ReplicaSet.
        assert await replica_sets(api) == []
