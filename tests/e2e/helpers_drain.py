"""Helpers for the drain and cascading-deletion end-to-end tests (tests/e2e/test_drain_and_deletion.py).

Polling with a deadline (:func:`wait_for`), kubectl JSON reads, ``kubeds node`` against a given
plane, pinning a workload to one node by cordoning the others while it is created, a drain run in
the background whose output lines are timestamped as they arrive, and the texts kubectl prints
for a refused drain (kubernetes/kubectl ``pkg/drain/filters.go`` and ``pkg/cmd/drain/drain.go``;
they differ between 1.27 and 1.33, see :func:`drain_refusal_messages`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tests.e2e.conftest import Kubectl, RunningPlane

T = TypeVar("T")

POLL_INTERVAL = 0.2
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
PDB_RETRY = (
    'error when evicting pods/"{name}" -n "{ns}" (will retry after 5s): '
    "Cannot evict pod as it would violate the pod's disruption budget."
)
DELETE_LOCAL_DATA_DEPRECATED = (
    "Flag --delete-local-data has been deprecated, This option is deprecated and will be deleted. "
    "Use --delete-emptydir-data."
)


def wait_for(what: str, probe: Callable[[], T | None], *, timeout: float = 30.0) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(POLL_INTERVAL)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {what} (last: {last!r})")


def get_json(kc: Kubectl, *args: str) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(kc.ok("get", *args, "-o", "json"))
    return out


def pods(kc: Kubectl, namespace: str, selector: str = "") -> list[dict[str, Any]]:
    args = ["pods", "-n", namespace] + (["-l", selector] if selector else [])
    items: list[dict[str, Any]] = get_json(kc, *args)["items"]
    return items


def is_running(pod: dict[str, Any]) -> bool:
    """Running and Ready, and not being deleted."""
    status = pod.get("status") or {}
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])
    return status.get("phase") == "Running" and ready and not pod["metadata"].get("deletionTimestamp")


def running_by_node(items: list[dict[str, Any]]) -> dict[str, list[str]]:
    """node name -> names of its Running and Ready pods."""
    out: dict[str, list[str]] = {}
    for p in items:
        if is_running(p):
            out.setdefault(p["spec"].get("nodeName", ""), []).append(p["metadata"]["name"])
    return out


def node_ready(kc: Kubectl, name: str) -> bool:
    res = kc.run("get", "node", name, "-o", "json", check=False)
    if res.returncode != 0:
        return False
    conds = json.loads(res.stdout).get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def kubeds_node(plane: RunningPlane, *args: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "kubeds", "node", "--kubeconfig", str(plane.kubeconfig), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, f"kubeds node {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res.stdout


@contextmanager
def only_schedulable(kc: Kubectl, node: str) -> Iterator[None]:
    """Cordon every other schedulable node for the duration; uncordon exactly those afterwards."""
    others = [
        n["metadata"]["name"]
        for n in get_json(kc, "nodes")["items"]
        if n["metadata"]["name"] != node and not n["spec"].get("unschedulable")
    ]
    if others:
        kc.ok("cordon", *others)
    try:
        yield
    finally:
        if others:
            kc.ok("uncordon", *others)


def running_on_node(kc: Kubectl, namespace: str, node: str) -> int:
    """Running pods of ``namespace`` on ``node``, after deleting controller-owned pods bound elsewhere.

    Right after :func:`only_schedulable` the scheduler may not have seen every cordon yet; a pod it
    bound to another node is deleted so its ReplicaSet makes one that lands on ``node``.
    """
    items = pods(kc, namespace)
    strays = [
        p["metadata"]["name"]
        for p in items
        if p["spec"].get("nodeName") not in (None, "", node)
        and p["metadata"].get("ownerReferences")
        and not p["metadata"].get("deletionTimestamp")
    ]
    if strays:
        kc.run("delete", "pod", "-n", namespace, "--wait=false", *strays, check=False)
    return len(running_by_node(items).get(node, []))


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def drain_refusal_messages(version: str, *, ds_pod: str, local_pod: str, unmanaged_pod: str) -> list[str]:
    """The error groups kubectl reports for a drain without flags, one per kind of pod.

    Observed with the real binaries: up to 1.29 the unreplicated filter says "Pods declare no
    controller" and the aggregate adds "cannot delete " once; from 1.30 the filter's own message
    starts with "cannot delete " as well, so kubectl prints it twice (its real text).
    """
    unmanaged = (
        "cannot delete Pods declare no controller (use --force to override)"
        if _minor(version) < 30
        else "cannot delete cannot delete Pods that declare no controller (use --force to override)"
    )
    return [
        f"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): {ds_pod}",
        f"cannot delete Pods with local storage (use --delete-emptydir-data to override): {local_pod}",
        f"{unmanaged}: {unmanaged_pod}",
    ]


def drain_refusal_head(version: str, node: str) -> tuple[str, str]:
    """What precedes and follows the aggregated error on kubectl's first stderr line.

    Up to 1.30 kubectl prints no space after "due to error:"; from 1.31 it does.
    """
    sep = "" if _minor(version) < 31 else " "
    return f'error: unable to drain node "{node}" due to error:{sep}', ", continuing command..."


@dataclass
class StreamedRun:
    """A kubectl process whose stdout and stderr lines are collected, with arrival times, as they come."""

    proc: subprocess.Popen[str]
    lines: list[tuple[float, str, str]] = field(default_factory=list)  # (monotonic, stream, line)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> StreamedRun:
        for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr)):
            t = threading.Thread(target=self._pump, args=(name, stream), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _pump(self, name: str, stream: Any) -> None:
        for line in stream:
            with self._lock:
                self.lines.append((time.monotonic(), name, line.rstrip("\n")))

    def seen(self, stream: str) -> list[str]:
        with self._lock:
            return [line for _, s, line in self.lines if s == stream]

    def finish(self, timeout: float) -> int:
        """Wait for the exit code; kill the process and fail after ``timeout`` seconds."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"kubectl still running after {timeout:.0f} s:\n{self.lines}") from None
        finally:
            for t in self._threads:
                t.join(timeout=5)
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
        return rc
