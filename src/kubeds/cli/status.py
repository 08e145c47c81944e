"""``kubeds status``: one screen that says how the plane is doing.

Nodes (Ready, NotReady, cordoned), each DaemonSet's desired, ready, up-to-date and available
counts, and pods by phase, read through the API like kubectl would. Plain text, fixed columns, so
it reads the same in a terminal and in a log.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from typing import Any

from kubeds.cli import connect
from kubeds.client import ApiClient

__all__ = ["add_parser", "render", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "status",
        help="summarise a running plane: nodes, DaemonSets, pods",
        description=(
            "Summarise the plane the kubeconfig points at: nodes Ready, NotReady and cordoned; each "
            "DaemonSet's desired, ready, up-to-date and available pods; pods by phase. The kubeconfig is "
            "--kubeconfig, else $KUBECONFIG, else ./.kubeds/kubeconfig."
        ),
    )
    p.add_argument(
        "--kubeconfig",
        default=None,
        help="kubeconfig of the plane (default: $KUBECONFIG, ./.kubeds/kubeconfig)",
    )
    p.set_defaults(func=run)


def _ready(node: dict[str, Any]) -> str:
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return {"True": "Ready", "False": "NotReady"}.get(c.get("status", ""), "Unknown")
    return "Unknown"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["   ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def render(
    server: str,
    version: str,
    nodes: list[dict[str, Any]],
    dss: list[dict[str, Any]],
    pods: list[dict[str, Any]],
) -> str:
    lines = [f"kubeds plane at {server} (Kubernetes {version})", ""]
    states = Counter(_ready(n) for n in nodes)
    cordoned = sum(1 for n in nodes if (n.get("spec") or {}).get("unschedulable"))
    lines += _table(
        [
            ["NODES", "READY", "NOTREADY", "UNKNOWN", "CORDONED"],
            [
                str(len(nodes)),
                str(states["Ready"]),
                str(states["NotReady"]),
                str(states["Unknown"]),
                str(cordoned),
            ],
        ]
    )
    lines.append("")
    if dss:
        rows = [["DAEMONSET", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE"]]
        for ds in dss:
            st = ds.get("status") or {}
            rows.append(
                [
                    f"{ds['metadata'].get('namespace', '')}/{ds['metadata']['name']}",
                    *(
                        str(st.get(k, 0))
                        for k in (
                            "desiredNumberScheduled",
                            "currentNumberScheduled",
                            "numberReady",
                            "updatedNumberScheduled",
                            "numberAvailable",
                        )
                    ),
                ]
            )
        lines += _table(rows)
    else:
        lines.append("No DaemonSets.")
    lines.append("")
    phases = Counter((p.get("status") or {}).get("phase", "Pending") for p in pods)
    terminating = sum(1 for p in pods if p["metadata"].get("deletionTimestamp"))
    unscheduled = sum(1 for p in pods if not (p.get("spec") or {}).get("nodeName"))
    lines += _table(
        [
            ["PODS", "RUNNING", "PENDING", "UNSCHEDULED", "SUCCEEDED", "FAILED", "TERMINATING"],
            [
                str(len(pods)),
                str(phases["Running"]),
                str(phases["Pending"]),
                str(unscheduled),
                str(phases["Succeeded"]),
                str(phases["Failed"]),
                str(terminating),
            ],
        ]
    )
    return "\n".join(lines)


async def _status(api: ApiClient, server: str) -> int:
    version = (await api.request_json("GET", "/version")).get("gitVersion", "?")
    nodes, dss, pods = await asyncio.gather(
        api.resource("v1", "nodes").list_all(),
        api.resource("apps/v1", "daemonsets").list_all(),
        api.resource("v1", "pods").list_all(),
    )
    print(render(server, str(version), nodes["items"], dss["items"], pods["items"]))
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(connect.run_with_client("kubeds status", args.kubeconfig, _status))
