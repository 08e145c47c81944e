"""Helpers for the node and scheduler end-to-end tests (tests/e2e/test_nodes_scheduler.py).

Polling with a deadline (``wait_for``), the ``kubeds node`` command against a plane, kubectl JSON
and Table output parsed into dicts, and the small predicates on Pods and Nodes the tests share.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.e2e.conftest import Kubectl

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.25) -> T:
    """Call ``probe`` until it returns something truthy and return that; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for: {what} (last: {value!r})")
        time.sleep(interval)


def kubeds_node(kubeconfig: Path, *args: str) -> str:
    """Run ``kubeds node ARGS`` against the plane; returns stdout, fails the test on a non-zero exit."""
    res = subprocess.run(
        [sys.executable, "-m", "kubeds", "node", "--kubeconfig", str(kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, f"kubeds node {' '.join(args)} failed ({res.returncode}):\n{res.stderr}"
    return res.stdout


def get_json(k: Kubectl, *args: str) -> Any:
    return json.loads(k.ok("get", *args, "-o", "json"))


def get_or_none(k: Kubectl, *args: str) -> dict[str, Any] | None:
    """The object, or None when kubectl says it is not found."""
    res = k.run("get", *args, "-o", "json", check=False)
    if res.returncode != 0:
        assert "NotFound" in res.stderr, res.stderr
        return None
    obj: dict[str, Any] = json.loads(res.stdout)
    return obj


def table(text: str) -> list[dict[str, str]]:
    """kubectl's human table as rows keyed by header; columns are cut at the header's offsets.

    A heading starts after two or more spaces, so ``NOMINATED NODE`` is one column.
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = lines[0]
    starts = [0] + [m.end() for m in re.finditer(r" {2,}", header)]
    names = [header[s:e].strip() for s, e in zip(starts, [*starts[1:], None], strict=True)]
    return [
        {n: line[s:e].strip() for n, s, e in zip(names, starts, [*starts[1:], None], strict=True)}
        for line in lines[1:]
    ]


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return None


def running_and_ready(pod: dict[str, Any] | None) -> bool:
    if not pod or pod["metadata"].get("deletionTimestamp"):
        return False
    ready = condition(pod, "Ready")
    return (pod.get("status") or {}).get("phase") == "Running" and bool(ready and ready["status"] == "True")


def node_ready_status(node: dict[str, Any]) -> str:
    ready = condition(node, "Ready")
    return str(ready["status"]) if ready else ""


def taints(node: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(key, effect) -> taint."""
    return {(t["key"], t["effect"]): t for t in (node.get("spec") or {}).get("taints") or []}


def pods_on(k: Kubectl, node: str, *, namespace: str | None = None) -> dict[str, dict[str, Any]]:
    """name -> pod for the pods bound to ``node`` (in ``namespace``, or all namespaces)."""
    scope = ["-n", namespace] if namespace else ["-A"]
    items = get_json(k, "pods", *scope, "--field-selector", f"spec.nodeName={node}")["items"]
    return {p["metadata"]["name"]: p for p in items}


def events_for(k: Kubectl, namespace: str, name: str, *, reason: str) -> list[dict[str, Any]]:
    items = get_json(k, "events", "-n", namespace, "--field-selector", f"involvedObject.name={name}")["items"]
    return [e for e in items if e.get("reason") == reason]


def pod_manifest(
    name: str,
    *,
    node_selector: dict[str, str] | None = None,
    node_name: str | None = None,
    tolerations: list[dict[str, Any]] | None = None,
    image: str = "nginx:1.27",
    grace: int | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": image}]}
    if node_selector:
        spec["nodeSelector"] = node_selector
    if node_name:
        spec["nodeName"] = node_name
    if tolerations:
        spec["tolerations"] = tolerations
    if grace is not None:
        spec["terminationGracePeriodSeconds"] = grace
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"e2e": name}},
        "spec": spec,
    }


def apply(k: Kubectl, namespace: str, *objects: dict[str, Any]) -> str:
    doc = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    return k.ok("apply", "-n", namespace, "-f", "-", input=json.dumps(doc))
