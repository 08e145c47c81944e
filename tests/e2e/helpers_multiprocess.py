"""Helpers for the multi-process fault tests: component processes, a whole cluster of them, snapshots.

:class:`Component` is one ``kubeds <component>`` process whose first stdout line is its ready line;
stderr goes to a log file beside it, quoted when something fails. :class:`Cluster` is the
topology of the fault tests: a three-member etcd cluster (``tests/contract/etcd_server.py``), API
servers ``a`` and ``b`` on fixed ports sharing one etcd and one PKI dir (each with its own
kubeconfig), controller-managers and schedulers (``cm-a``/``sched-a`` talk to ``a``, ``cm-b``/
``sched-b`` to ``b``) and one ``kubeds nodes`` on ``b``. Leases are shortened by flags
(:data:`LEASE_FLAGS`) so a takeover takes seconds.
"""

from __future__ import annotations

import json
import select
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))

import etcd_server

from kubeds.apiserver import resources
from kubeds.client import kubeconfig as kubeconfig_mod
from kubeds.machinery.leaderelection import JITTER_FACTOR

__all__ = [
    "JITTER_FACTOR",
    "LEASE_DURATION",
    "LEASE_FLAGS",
    "RETRY_PERIOD",
    "Cluster",
    "Component",
    "Http",
    "etcd_server",
    "kubeds_command",
    "poll",
]

LEASE_DURATION = 3.0
RENEW_DEADLINE = 2.0
RETRY_PERIOD = 0.5
LEASE_FLAGS = (
    "--leader-elect-lease-duration",
    f"{LEASE_DURATION:g}s",
    "--leader-elect-renew-deadline",
    f"{RENEW_DEADLINE:g}s",
    "--leader-elect-retry-period",
    f"{int(RETRY_PERIOD * 1000)}ms",
)
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0


def kubeds_command() -> list[str]:
    """How to run ``kubeds <component>``.

    ``python -m kubeds`` once ``kubeds.cli.main`` registers the component subcommands; until then
    (they are placeholders there) the same subcommands straight from ``kubeds.cli.components``.
    """
    from kubeds.cli import main

    if "apiserver" not in getattr(main, "_NOT_YET", {}):
        return [sys.executable, "-m", "kubeds"]
    return [sys.executable, "-m", "kubeds.cli.components"]


def poll(what: str, check: Callable[[], Any], *, timeout: float, interval: float = 0.2) -> Any:
    """Call ``check`` until it returns something truthy; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except (OSError, ValueError) as exc:  # a server that is restarting
            last = exc
        else:
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")
        time.sleep(interval)


class Component:
    """One ``kubeds <args>`` process; :meth:`start` waits for its ready line."""

    def __init__(self, name: str, args: list[str], *, log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[str] | None = None
        self.ready: dict[str, str] = {}
        self._log: IO[str] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> dict[str, str]:
        self._log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [*kubeds_command(), *self.args],
            stdout=subprocess.PIPE,
            stderr=self._log,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], READY_TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if " ready: " not in line:
            self.kill()
            raise AssertionError(f"{self.name} did not become ready: {line!r}\n{self.tail()}")
        self.ready = dict(part.split("=", 1) for part in line.split(" ready: ", 1)[1].split())
        return self.ready

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL: a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close()

    def stop(self) -> int:
        """SIGTERM and wait; the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"{self.name} did not stop on SIGTERM\n{self.tail()}") from None
        self._close()
        return self.proc.returncode

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        self._close()
        return code

    def _close(self) -> None:
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None


class Http:
    """Plain HTTPS calls with a kubeconfig's CA and token (no client library in the way)."""

    def __init__(self, kubeconfig: Path) -> None:
        kc = kubeconfig_mod.load_kubeconfig(kubeconfig)
        self.server = kc.server
        self.token = kc.token or ""
        self._ssl = ssl.create_default_context(cadata=(kc.ca_pem or b"").decode())

    def open(self, method: str, path: str, body: Any = None, *, timeout: float = 10.0) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        return urllib.request.urlopen(req, context=self._ssl, timeout=timeout)

    def json(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        with self.open(method, path, body) as resp:
            out: dict[str, Any] = json.loads(resp.read())
            return out

    def get(self, path: str) -> dict[str, Any]:
        return self.json("GET", path)

    def watch(self, path: str, *, timeout: float = 120.0) -> Iterator[dict[str, Any]]:
        """Watch events from a ``?watch=1`` path, one JSON object per line."""
        with self.open("GET", path, timeout=timeout) as resp:
            for line in resp:
                if line.strip():
                    yield json.loads(line)

    def lease_holder(self, name: str) -> str:
        lease = self.get(f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{name}")
        return str((lease.get("spec") or {}).get("holderIdentity") or "")

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Every stored object of every listable resource, by ``<group>/<plural>/<ns>/<name>``."""
        out: dict[str, dict[str, Any]] = {}
        for r in resources.RESOURCES:
            if "list" not in r.verbs:
                continue
            prefix = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
            listed = self.get(f"{prefix}/{r.plural}")
            for item in listed.get("items") or []:
                meta = item["metadata"]
                out[f"{r.group}/{r.plural}/{meta.get('namespace', '')}/{meta['name']}"] = item
        return out


@dataclass
class Cluster:
    """The fault tests' topology; see the module docstring."""

    base: Path
    etcd: list[etcd_server.EtcdMember] = field(default_factory=list)
    components: dict[str, Component] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def endpoints(self) -> str:
        return ",".join(m.client_url for m in self.etcd)

    def kubeconfig(self, server: str) -> Path:
        return self.base / f"kubeconfig-{server}"

    def http(self, server: str) -> Http:
        return Http(self.kubeconfig(server))

    def start_etcd(self) -> None:
        self.etcd = etcd_server.start_cluster(self.base / "etcd", size=3)

    def define(self) -> None:
        """Name every component and its command line (API servers on fixed ports, so restarts keep URLs)."""
        logs = self.base / "logs"
        logs.mkdir(exist_ok=True)
        for server in ("a", "b"):
            port = self.ports.setdefault(server, etcd_server.free_port())
            self.components[f"api-{server}"] = Component(
                f"api-{server}",
                [
                    "apiserver",
                    "--storage",
                    "etcd",
                    "--etcd-endpoints",
                    self.endpoints,
                    "--data-dir",
                    str(self.base / "pki"),
                    "--port",
                    str(port),
                    "--write-kubeconfig",
                    str(self.kubeconfig(server)),
                ],
                log_dir=logs,
            )
        for server in ("a", "b"):
            kc = str(self.kubeconfig(server))
            self.components[f"cm-{server}"] = Component(
                f"cm-{server}", ["controller-manager", "--kubeconfig", kc, *LEASE_FLAGS], log_dir=logs
            )
            self.components[f"sched-{server}"] = Component(
                f"sched-{server}", ["scheduler", "--kubeconfig", kc, *LEASE_FLAGS], log_dir=logs
            )
        self.components["nodes"] = Component(
            "nodes", ["nodes", "--kubeconfig", str(self.kubeconfig("b"))], log_dir=logs
        )

    def start(self, name: str) -> dict[str, str]:
        return self.components[name].start()

    def identity(self, name: str) -> str:
        return self.components[name].ready["identity"]

    def wait_leader(self, lease: str, name: str, *, via: str = "b", timeout: float = 20.0) -> None:
        want = self.identity(name)
        poll(
            f"{name} to hold Lease {lease}",
            lambda: self.http(via).lease_holder(lease) == want,
            timeout=timeout,
        )

    def start_all(self) -> None:
        """API servers, then each component pair with the ``-a`` one leading, then the node simulator."""
        self.start("api-a")
        self.start("api-b")
        self.start_all_components()

    def start_all_components(self) -> None:
        self.start("cm-a")
        self.wait_leader("kube-controller-manager", "cm-a")
        self.start("cm-b")
        self.start("sched-a")
        self.wait_leader("kube-scheduler", "sched-a")
        self.start("sched-b")
        self.start("nodes")

    def stop_components(self) -> None:
        for name in ("nodes", "sched-b", "sched-a", "cm-b", "cm-a"):
            c = self.components[name]
            if c.running:
                code = c.stop()
                assert code == 0, f"{name} exited {code} on SIGTERM\n{c.tail()}"

    def stop_apiservers(self) -> None:
        for name in ("api-a", "api-b"):
            c = self.components[name]
            if c.running:
                code = c.stop()
                assert code == 0, f"{name} exited {code} on SIGTERM\n{c.tail()}"

    def teardown(self) -> None:
        for c in self.components.values():
            c.kill()
        for m in self.etcd:
            m.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{c.tail(15)}" for n, c in self.components.items())
