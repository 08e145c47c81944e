"""CPU cost of the API server's write path, per operation, through ``APIServer.handle``.

Every component of a single-process kubeds (scheduler, controllers, simulated kubelets) writes
through the in-process transport, which calls ``APIServer.handle`` directly: the cost of one
write is decoding, defaulting, validation, admission, managedFields tracking, encoding and the
memory backend. This script measures that cost for the writes that dominate a 5,000-node
cluster, on a fresh ``APIServer(MemoryBackend(), clock=REAL)`` per run:

* ``pod create``: a DaemonSet pod as the DaemonSet controller creates it (owner reference, node
  affinity by ``metadata.name``, the default DaemonSet tolerations);
* ``pod binding``: ``POST pods/NAME/binding``, what the scheduler sends;
* ``event create``: the scheduler's ``Scheduled`` Event about a pod (core/v1, as the recorder
  writes it);
* ``pod status patch``: a merge patch to ``pods/NAME/status`` taking the pod to Running (phase,
  conditions, containerStatuses, IPs), what a kubelet sends;
* ``lease create`` and ``lease update``: a node Lease, then a PUT of it with a new
  ``spec.renewTime`` (a kubelet's renewal every 10 s: 500 updates/s at 5,000 nodes);
* ``node create`` and ``node status update``: a Node, then a PUT to ``nodes/NAME/status`` with new
  condition heartbeat times.

Request bodies are encoded before the clock starts, so only ``handle`` is timed. CPU time
(``time.process_time``) is the figure reported: the machine may be shared, and everything runs on
one thread. Each figure is the median of ``--runs`` runs. ``--profile`` adds one more run per
operation under cProfile and prints its top functions by own time.

Usage: ``.venv/bin/python scripts/profile_writes.py [-n 5000] [--runs 3] [--profile] [--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import json
import pstats
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubeds.apiserver.handler import APIServer
from kubeds.clock import REAL, format_time
from kubeds.storage.memory import MemoryBackend
from kubeds.wire import Request, Response

NAMESPACE = "default"
LEASE_NAMESPACE = "kube-node-lease"
JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
KUBELET_AGENT = "kubelet/v1.33.0 (linux/amd64) kubernetes/abcdef0"
CONTROLLER_AGENT = "kube-controller-manager/v1.33.0 (linux/amd64) kubernetes/abcdef0/daemon-set-controller"
SCHEDULER_AGENT = "kube-scheduler/v1.33.0 (linux/amd64) kubernetes/abcdef0/scheduler"
OPS = (
    "pod create",
    "pod binding",
    "event create",
    "pod status patch",
    "lease create",
    "lease update",
    "node create",
    "node status update",
)
PROFILE_TOP = 20


# ---- request bodies ---------------------------------------------------------------------------
def daemonset_pod(i: int) -> dict[str, Any]:
    node = f"node-{i}"
    labels = {
        "k8s-app": "kube-proxy",
        "controller-revision-hash": "5d8c7b9f6",
        "pod-template-generation": "1",
    }
    no_execute = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")
    no_schedule = (
        "node.kubernetes.io/disk-pressure",
        "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/pid-pressure",
        "node.kubernetes.io/unschedulable",
        "node.kubernetes.io/network-unavailable",
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": "kube-proxy-",
            "namespace": NAMESPACE,
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "name": "kube-proxy",
                    "uid": "0d3e6c1a-5b1f-4c1e-9d0e-3f0b7a1c2d4e",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
                        ]
                    }
                }
            },
            "containers": [
                {
                    "name": "kube-proxy",
                    "image": "registry.k8s.io/kube-proxy:v1.33.0",
                    "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"],
                    "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
                    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    "securityContext": {"privileged": True},
                    "volumeMounts": [
                        {"name": "kube-proxy", "mountPath": "/var/lib/kube-proxy"},
                        {"name": "xtables-lock", "mountPath": "/run/xtables.lock"},
                    ],
                }
            ],
            "hostNetwork": True,
            "priorityClassName": "system-node-critical",
            "serviceAccountName": "kube-proxy",
            "tolerations": [
                {"operator": "Exists"},
                *({"key": k, "operator": "Exists", "effect": "NoExecute"} for k in no_execute),
                *({"key": k, "operator": "Exists", "effect": "NoSchedule"} for k in no_schedule),
            ],
            "volumes": [
                {"name": "kube-proxy", "configMap": {"name": "kube-proxy"}},
                {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
            ],
        },
    }


def binding(name: str, node: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    }


def scheduled_event(name: str, i: int, now: str) -> dict[str, Any]:
    """The ``Scheduled`` Event the scheduler's recorder writes after a binding."""
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.{0x1875A0B3C0000000 + i:x}", "namespace": NAMESPACE},
        "involvedObject": {
            "kind": "Pod",
            "namespace": NAMESPACE,
            "name": name,
            "uid": f"{i:08d}-0000-4000-8000-000000000001",
            "apiVersion": "v1",
            "resourceVersion": str(1000 + i),
        },
        "reason": "Scheduled",
        "message": f"Successfully assigned {NAMESPACE}/{name} to node-{i}",
        "source": {"component": "default-scheduler"},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "type": "Normal",
        "eventTime": None,
        "reportingComponent": "default-scheduler",
        "reportingInstance": "",
    }


def running_patch(i: int, now: str) -> dict[str, Any]:
    ready = {"status": "True", "lastProbeTime": None, "lastTransitionTime": now}
    return {
        "status": {
            "phase": "Running",
            "hostIP": f"10.0.{i // 250}.{i % 250 + 1}",
            "podIP": f"10.0.{i // 250}.{i % 250 + 1}",
            "podIPs": [{"ip": f"10.0.{i // 250}.{i % 250 + 1}"}],
            "startTime": now,
            "conditions": [
                {"type": t, **ready}
                for t in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            "containerStatuses": [
                {
                    "name": "kube-proxy",
                    "image": "registry.k8s.io/kube-proxy:v1.33.0",
                    "imageID": "registry.k8s.io/kube-proxy@sha256:" + "ab" * 32,
                    "containerID": f"containerd://{i:064x}",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": now}},
                    "lastState": {},
                }
            ],
        }
    }


def lease(i: int, now: str) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": f"node-{i}",
            "namespace": LEASE_NAMESPACE,
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "name": f"node-{i}",
                    "uid": f"{i:08d}-0000-4000-8000-000000000000",
                }
            ],
        },
        "spec": {"holderIdentity": f"node-{i}", "leaseDurationSeconds": 40, "renewTime": now},
    }


def node_conditions(now: str) -> list[dict[str, Any]]:
    words = (
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    )
    return [
        {
            "type": t,
            "status": s,
            "lastHeartbeatTime": now,
            "lastTransitionTime": "2026-01-01T00:00:00Z",
            "reason": r,
            "message": m,
        }
        for t, s, r, m in words
    ]


def new_node(i: int, now: str) -> dict[str, Any]:
    name = f"node-{i}"
    resources = {"cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/arch": "amd64",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": f"10.{i // 250}.{i % 250}.0/24", "podCIDRs": [f"10.{i // 250}.{i % 250}.0/24"]},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": node_conditions(now),
            "addresses": [
                {"type": "InternalIP", "address": f"172.16.{i // 250}.{i % 250 + 1}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "kubeletVersion": "v1.33.0",
                "kubeProxyVersion": "v1.33.0",
                "containerRuntimeVersion": "containerd://1.7.0",
                "osImage": "Ubuntu 24.04 LTS",
                "kernelVersion": "6.8.0",
                "machineID": f"{i:032x}",
                "systemUUID": f"{i:032x}",
                "bootID": f"{i:032x}",
            },
        },
    }


# ---- requests ---------------------------------------------------------------------------------
def request(
    method: str, path: str, body: Any, *, agent: str, content_type: str = JSON, manager: str = ""
) -> Request:
    headers = {"accept": JSON, "content-type": content_type, "user-agent": agent}
    query = {"fieldManager": [manager]} if manager else {}
    return Request(method, path, query, headers, bytes(orjson.dumps(body)))


def body_of(resp: Response, op: str) -> dict[str, Any]:
    if resp.status >= 300:
        raise SystemExit(f"{op}: HTTP {resp.status}: {resp.body[:500]!r}")
    out: dict[str, Any] = orjson.loads(resp.body)
    return out


@dataclass
class Run:
    """One fresh server; each op's requests are prepared by the previous op's answers."""

    n: int
    api: APIServer
    pods: list[str] = field(default_factory=list)
    leases: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)

    def prepare(self, op: str) -> list[Request]:
        now = format_time(REAL.now())
        pods_path = f"/api/v1/namespaces/{NAMESPACE}/pods"
        leases_path = f"/apis/coordination.k8s.io/v1/namespaces/{LEASE_NAMESPACE}/leases"
        if op == "pod create":
            return [
                request("POST", pods_path, daemonset_pod(i), agent=CONTROLLER_AGENT) for i in range(self.n)
            ]
        if op == "pod binding":
            return [
                request(
                    "POST", f"{pods_path}/{name}/binding", binding(name, f"node-{i}"), agent=SCHEDULER_AGENT
                )
                for i, name in enumerate(self.pods)
            ]
        if op == "event create":
            events_path = f"/api/v1/namespaces/{NAMESPACE}/events"
            return [
                request("POST", events_path, scheduled_event(name, i, now), agent=SCHEDULER_AGENT)
                for i, name in enumerate(self.pods)
            ]
        if op == "pod status patch":
            return [
                request(
                    "PATCH",
                    f"{pods_path}/{name}/status",
                    running_patch(i, now),
                    agent=KUBELET_AGENT,
                    content_type=MERGE_PATCH,
                )
                for i, name in enumerate(self.pods)
            ]
        if op == "lease create":
            return [request("POST", leases_path, lease(i, now), agent=KUBELET_AGENT) for i in range(self.n)]
        if op == "lease update":
            renew = format_time(REAL.now() + dt.timedelta(seconds=10)).replace("Z", ".000000Z")
            out = []
            for obj in self.leases:
                obj["spec"]["renewTime"] = renew
                path = f"{leases_path}/{obj['metadata']['name']}"
                out.append(request("PUT", path, obj, agent=KUBELET_AGENT))
            return out
        if op == "node create":
            return [
                request("POST", "/api/v1/nodes", new_node(i, now), agent=KUBELET_AGENT) for i in range(self.n)
            ]
        if op == "node status update":
            beat = format_time(REAL.now() + dt.timedelta(seconds=10))
            out = []
            for obj in self.nodes:
                for cond in obj["status"]["conditions"]:
                    cond["lastHeartbeatTime"] = beat
                path = f"/api/v1/nodes/{obj['metadata']['name']}/status"
                out.append(request("PUT", path, obj, agent=KUBELET_AGENT))
            return out
        raise ValueError(op)

    def record(self, op: str, answers: list[Response]) -> None:
        if op == "pod create":
            self.pods = [str(body_of(r, op)["metadata"]["name"]) for r in answers]
        elif op in ("lease create", "lease update"):
            self.leases = [body_of(r, op) for r in answers]
        elif op in ("node create", "node status update"):
            self.nodes = [body_of(r, op) for r in answers]
        else:
            for r in answers:
                body_of(r, op)


async def send_all(api: APIServer, reqs: list[Request]) -> list[Response]:
    return [await api.handle(r) for r in reqs]


async def fresh_server() -> APIServer:
    backend = MemoryBackend()
    await backend.start()
    api = APIServer(backend, clock=REAL)
    await api.start()
    return api


async def one_run(n: int, *, profile_op: str = "") -> tuple[dict[str, float], dict[str, float], str]:
    """CPU and wall µs per op for every op; with ``profile_op``, that op runs under cProfile."""
    run = Run(n, await fresh_server())
    cpu: dict[str, float] = {}
    wall: dict[str, float] = {}
    report = ""
    for op in OPS:
        reqs = run.prepare(op)
        prof = cProfile.Profile() if op == profile_op else None
        c0, w0 = time.process_time(), time.perf_counter()
        if prof is not None:
            prof.enable()
        answers = await send_all(run.api, reqs)
        if prof is not None:
            prof.disable()
        cpu[op] = (time.process_time() - c0) / n * 1e6
        wall[op] = (time.perf_counter() - w0) / n * 1e6
        run.record(op, answers)
        if prof is not None:
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(PROFILE_TOP)
            report = out.getvalue()
    await run.api.close()
    await run.api.backend.close()
    return cpu, wall, report


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    cpu_runs: list[dict[str, float]] = []
    wall_runs: list[dict[str, float]] = []
    for _ in range(args.runs):
        cpu, wall, _report = await one_run(args.n)
        cpu_runs.append(cpu)
        wall_runs.append(wall)
    result: dict[str, Any] = {
        "n": args.n,
        "runs": args.runs,
        "cpu_us": {op: statistics.median(r[op] for r in cpu_runs) for op in OPS},
        "wall_us": {op: statistics.median(r[op] for r in wall_runs) for op in OPS},
        "samples_cpu_us": cpu_runs,
    }
    if args.profile:
        profiles: dict[str, str] = {}
        for op in OPS:
            _cpu, _wall, report = await one_run(args.n, profile_op=op)
            profiles[op] = report
        result["profiles"] = profiles
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("-n", type=int, default=5000, help="operations of each kind per run")
    parser.add_argument("--runs", type=int, default=3, help="runs; medians are reported")
    parser.add_argument("--profile", action="store_true", help="print a cProfile top-20 per op")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "profiles"}, indent=2))
    else:
        print(f"API write path: {args.n} ops of each kind, median of {args.runs} runs (µs per op)")
        print(f"  {'op':<22}{'CPU µs':>10}{'wall µs':>10}")
        for op in OPS:
            print(f"  {op:<22}{result['cpu_us'][op]:>10.1f}{result['wall_us'][op]:>10.1f}")
        lease_share = result["cpu_us"]["lease update"] * 500 / 1e6
        print(f"  lease renewals of 5,000 nodes every 10 s (500/s): {lease_share:.1%} of one core")
    for op, report in (result.get("profiles") or {}).items():
        print(f"\n==== cProfile: {op} (top {PROFILE_TOP} by own time) ====")
        print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
