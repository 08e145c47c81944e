"""The seed's story (shared/seed: a study note on DaemonSets), one chapter per point S1 to S9.

Each chapter runs real commands and checks the claims the note makes. Node names are fixed so the
narration can refer to them: three ordinary Linux nodes, one with a NoSchedule taint, one under
DiskPressure, and one that is not Linux (the seed's DaemonSet selects ``beta.kubernetes.io/os=linux``).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import yaml

from kubeds.demo.runner import Session

__all__ = ["tell"]

NS = "kube-system"
LINUX = ["node-1", "node-2", "node-3"]
TAINTED = "tainted-1"
PRESSURE = "pressure-1"
WINDOWS = "windows-1"
JOINER = "node-4"
NEW_IMAGE = "registry.k8s.io/kube-proxy:v1.32.0"
OLD_IMAGE = "registry.aliyuncs.com/google_containers/kube-proxy:v1.17.0"


def seed_manifest() -> str:
    return (resources.files("kubeds.demo") / "kube-proxy-daemonset.yaml").read_text()


def daemon_pods(s: Session, selector: str = "k8s-app=kube-proxy", ns: str = NS) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = s.get_json("pods", "-n", ns, "-l", selector)["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def running(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pods that are Running and Ready."""
    out = []
    for p in pods:
        conds = {c["type"]: c["status"] for c in (p.get("status") or {}).get("conditions") or []}
        if (p.get("status") or {}).get("phase") == "Running" and conds.get("Ready") == "True":
            out.append(p)
    return out


def running_on(pods: list[dict[str, Any]]) -> dict[str, str]:
    """node name -> pod name, for Running and Ready pods (daemon pods: one per node)."""
    return {p["spec"].get("nodeName", ""): p["metadata"]["name"] for p in running(pods)}


def web_nodes(s: Session) -> list[str]:
    """The nodes of the Running web pods (a Deployment may put two on one node)."""
    return [p["spec"].get("nodeName", "") for p in running(daemon_pods(s, "app=web", "default"))]


def tell(s: Session) -> None:
    s.start_plane("--nodes", "3", "--node-profile", "fast")

    s.chapter(
        "Nodes",
        """A cluster of simulated nodes: three Linux nodes from `kubeds up --nodes 3`, and three more
        added with `kubeds node add`: one tainted, one we will put under disk pressure, one Windows.""",
    )
    s.kubeds("node", "add", TAINTED, "--taint", "dedicated=infra:NoSchedule")
    s.kubeds("node", "add", PRESSURE)
    s.kubeds("node", "condition", PRESSURE, "DiskPressure=True")
    s.kubeds(
        "node",
        "add",
        WINDOWS,
        "--label",
        "kubernetes.io/os=windows",
        "--label",
        "beta.kubernetes.io/os=windows",
    )
    all_nodes = [*LINUX, TAINTED, PRESSURE, WINDOWS]

    def nodes_ready() -> bool:
        items = s.get_json("nodes")["items"]
        ready = {
            n["metadata"]["name"]
            for n in items
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in n.get("status", {}).get("conditions", [])
            )
        }
        return set(all_nodes) <= ready

    s.wait_for("all six nodes are Ready", nodes_ready)

    def pressure_tainted() -> bool:
        node = s.get_json("node", PRESSURE)
        return any(t["key"] == "node.kubernetes.io/disk-pressure" for t in node["spec"].get("taints") or [])

    s.wait_for(f"{PRESSURE} carries the node.kubernetes.io/disk-pressure:NoSchedule taint", pressure_tainted)
    s.run("get", "nodes", "-o", "wide")

    s.chapter(
        "S1: a DaemonSet from YAML",
        """The seed's kube-proxy DaemonSet has no `replicas`: it runs one pod on every eligible node.
        Eligible here: the three Linux nodes; the tainted node too, because the seed tolerates every
        taint (`operator: Exists` with no key, S4); the node under disk pressure too, because every
        DaemonSet pod tolerates node.kubernetes.io/disk-pressure (S5). Not the Windows node: the
        DaemonSet's nodeSelector asks for beta.kubernetes.io/os=linux (S3).""",
    )
    s.run("apply", "-f", "-", input=seed_manifest())
    eligible = {*LINUX, TAINTED, PRESSURE}
    s.wait_for(
        "a Running kube-proxy pod on each of the five eligible nodes",
        lambda: set(running_on(daemon_pods(s))) == eligible,
    )
    s.run("get", "pods", "-n", NS, "-l", "k8s-app=kube-proxy", "-o", "wide")
    s.check(WINDOWS not in running_on(daemon_pods(s)), f"no kube-proxy pod on {WINDOWS}")
    pod = daemon_pods(s)[0]
    tolerations = {(t.get("key", ""), t.get("effect", "")) for t in pod["spec"]["tolerations"]}
    s.check(
        {("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/disk-pressure", "NoSchedule")}
        <= tolerations,
        "the controller added the default DaemonSet tolerations (S5)",
    )
    terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    s.check(
        terms["nodeSelectorTerms"][0]["matchFields"][0]["key"] == "metadata.name",
        "each pod is pinned to its node by node affinity on metadata.name; the default scheduler binds it (S3)",
    )
    s.run("get", "ds", "-n", NS)

    s.chapter(
        "S2: a node joins",
        """A new node gets its daemon pod without anyone asking.""",
    )
    s.kubeds("node", "add", JOINER)
    s.wait_for(f"a kube-proxy pod runs on {JOINER}", lambda: JOINER in running_on(daemon_pods(s)))

    s.chapter(
        "S6: cordon and drain",
        """Some ordinary workload first: a Deployment with two replicas. Then node-1 is cordoned
        (SchedulingDisabled) and drained. Without --ignore-daemonsets kubectl refuses, because the
        DaemonSet controller would put its pod right back.""",
    )
    s.run("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2")
    s.wait_for("the two web pods are Running", lambda: len(web_nodes(s)) == 2)
    s.run("cordon", LINUX[0])
    row = s.run("get", "node", LINUX[0], show=False).stdout
    s.check("SchedulingDisabled" in row, f"{LINUX[0]} shows SchedulingDisabled")
    res = s.run("drain", LINUX[0], expect_fail=True)
    s.check(
        "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)" in res.stderr,
        "kubectl drain refuses DaemonSet pods without --ignore-daemonsets",
    )
    res = s.run("drain", LINUX[0], "--ignore-daemonsets")
    s.check(f"node/{LINUX[0]} drained" in res.stdout, f"{LINUX[0]} is drained")
    s.wait_for(
        f"the web pods run on other nodes and the kube-proxy pod stays on {LINUX[0]}",
        lambda: (
            LINUX[0] not in web_nodes(s) and len(web_nodes(s)) == 2 and LINUX[0] in running_on(daemon_pods(s))
        ),
    )
    s.run("uncordon", LINUX[0])

    s.chapter(
        "S4: a NoExecute taint evicts what does not tolerate it",
        """Tainting node-2 with NoExecute evicts ordinary pods at once; kube-proxy tolerates every
        taint, so no taint evicts it.""",
    )
    s.run("taint", "nodes", LINUX[1], "maintenance=now:NoExecute")
    s.wait_for(
        f"no web pod on {LINUX[1]}, kube-proxy still there",
        lambda: LINUX[1] not in web_nodes(s) and LINUX[1] in running_on(daemon_pods(s)),
    )
    s.run("taint", "nodes", LINUX[1], "maintenance-")

    s.chapter(
        "S7: a rolling update",
        """Changing the pod template rolls the DaemonSet like a Deployment: with maxUnavailable 1 one
        node at a time loses its daemon pod while the new one starts. `kubectl rollout status`
        follows it.""",
    )
    s.run("set", "image", "ds/kube-proxy", "-n", NS, f"kube-proxy={NEW_IMAGE}")
    res = s.run("rollout", "status", "ds/kube-proxy", "-n", NS, "--timeout=90s")
    s.check('daemon set "kube-proxy" successfully rolled out' in res.stdout, "the rollout completed")
    images = {p["spec"]["containers"][0]["image"] for p in daemon_pods(s)}
    s.check(images == {NEW_IMAGE}, f"every daemon pod runs {NEW_IMAGE}")
    s.run("rollout", "history", "ds/kube-proxy", "-n", NS)
    s.run("rollout", "undo", "ds/kube-proxy", "-n", NS)
    res = s.run("rollout", "status", "ds/kube-proxy", "-n", NS, "--timeout=90s")
    s.wait_for(
        "every daemon pod is back on the old image",
        lambda: (
            {p["spec"]["containers"][0]["image"] for p in daemon_pods(s)} == {OLD_IMAGE}
            and len(running_on(daemon_pods(s))) == 6
        ),
    )

    s.chapter(
        "S9: a DaemonSet from `kubectl create deployment --dry-run`",
        """kubectl cannot create a DaemonSet from the command line; the seed's trick is to generate a
        Deployment and edit it: kind DaemonSet, no replicas, no strategy.""",
    )
    generated = s.run(
        "create", "deployment", "agent", "--image=busybox:1.36", "--dry-run=client", "-o", "yaml"
    ).stdout
    doc = yaml.safe_load(generated)
    doc["kind"] = "DaemonSet"
    for key in ("replicas", "strategy"):
        doc["spec"].pop(key, None)
    doc.pop("status", None)
    s.say("   (edited: kind: DaemonSet; removed replicas, strategy and status)")
    s.run("apply", "-f", "-", input=yaml.safe_dump(doc))
    schedulable = {*LINUX, PRESSURE, JOINER, WINDOWS}  # no toleration for dedicated=infra
    s.wait_for(
        "an agent pod on every node it tolerates (not the tainted one)",
        lambda: set(running_on(daemon_pods(s, "app=agent", "default"))) == schedulable,
    )

    s.chapter(
        "S2: a node leaves",
        f"""Removing {JOINER} deletes its Node; its pods are garbage-collected.""",
    )
    s.kubeds("node", "remove", JOINER)
    s.wait_for(
        f"no pod is bound to {JOINER} any more",
        lambda: not [p for p in s.get_json("pods", "-A")["items"] if p["spec"].get("nodeName") == JOINER],
    )

    s.chapter(
        "S8: deleting the DaemonSet",
        """`kubectl delete daemonset` cascades: the garbage collector removes its pods.""",
    )
    s.run("delete", "daemonset", "kube-proxy", "-n", NS)
    s.wait_for("no kube-proxy pod is left", lambda: not daemon_pods(s))
    s.say()
    s.say(f"The story holds: every claim checked, in {s.elapsed:.0f} s.")
