"""Builders and loop helpers shared by the node controller tests (upstream ``testutil.NewNode``/``NewPod``)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock, format_time

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CONDITION_TYPES = ("NetworkUnavailable", "MemoryPressure", "DiskPressure", "PIDPressure", "Ready")


def conditions(now: dt.datetime, **statuses: str) -> list[dict[str, Any]]:
    """Kubelet-style conditions: Ready True and the others False unless given."""
    out = []
    for ctype in CONDITION_TYPES:
        status = statuses.get(ctype, "True" if ctype == "Ready" else "False")
        stamp = format_time(now)
        out.append(
            {
                "type": ctype,
                "status": status,
                "lastHeartbeatTime": stamp,
                "lastTransitionTime": stamp,
                "reason": "KubeletReady" if ctype == "Ready" else f"Kubelet{ctype}",
                "message": "kubelet says so",
            }
        )
    return out


def node(
    name: str,
    *,
    now: dt.datetime = T0,
    labels: Mapping[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
    with_status: bool = True,
    **statuses: str,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": dict(labels or {"kubernetes.io/hostname": name})},
        "spec": {},
    }
    if taints:
        body["spec"]["taints"] = taints
    if unschedulable:
        body["spec"]["unschedulable"] = True
    if with_status:
        body["status"] = {"conditions": conditions(now, **statuses)}
    return body


def lease(name: str, *, now: dt.datetime = T0) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease"},
        "spec": {
            "holderIdentity": name,
            "leaseDurationSeconds": 40,
            "renewTime": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
    }


def pod(
    name: str,
    *,
    node_name: str = "",
    tolerations: list[dict[str, Any]] | None = None,
    namespace: str = "default",
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox:1.36"}]}
    if node_name:
        spec["nodeName"] = node_name
    if tolerations is not None:
        spec["tolerations"] = tolerations
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def toleration(
    key: str, effect: str = "NoExecute", *, seconds: int | None = None, **extra: Any
) -> dict[str, Any]:
    tol: dict[str, Any] = {"key": key, "operator": extra.pop("operator", "Exists"), "effect": effect, **extra}
    if seconds is not None:
        tol["tolerationSeconds"] = seconds
    return tol


async def eventually(predicate: Callable[[], bool], *, rounds: int = 3000) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def eventually_async(check: Callable[[], Any], *, rounds: int = 300) -> None:
    """Poll an async predicate, yielding to the loop between polls."""
    for _ in range(rounds):
        if await check():
            return
        for _ in range(10):
            await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def settle(rounds: int = 200) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def advance(clock: FakeClock, seconds: float, *, step: float = 0.5, rounds: int = 30) -> None:
    """Move the fake clock in steps, letting the loops run between steps."""
    steps = max(1, round(seconds / step))
    for _ in range(steps):
        clock.advance(seconds / steps)
        await settle(rounds)


async def taints_of(api: ApiClient, name: str) -> list[dict[str, Any]]:
    got = await api.resource("v1", "nodes").get(name)
    return list((got.get("spec") or {}).get("taints") or [])


def taint_keys(taints: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(t["key"], t["effect"]) for t in taints}
