"""Real etcd servers for tests: members on free loopback ports, in a temp dir, stopped on teardown.

Debian's ``etcd-server`` package (etcd 3.4) provides ``/usr/bin/etcd``; ``.ci/run`` installs it. A
missing binary is a test *failure* with a clear message, not a silent skip: the etcd backend is
part of the product and CI must exercise it.

:class:`EtcdMember` is one ``etcd`` process. :func:`start_cluster` starts ``n`` members that form
one cluster (``--initial-cluster`` naming every member), for the fault tests that kill and
restart a member; a single member is simply a cluster of one. Each member writes its log to
``<data dir>.log``, quoted in the error when it does not become healthy.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO

__all__ = ["ETCD_MISSING", "EtcdMember", "find_etcd", "free_port", "start_cluster"]

ETCD_MISSING = (
    "the etcd binary was not found (looked for $KUBEDS_ETCD_BINARY, etcd on PATH, /usr/bin/etcd): "
    "install it (Debian/Ubuntu: apt-get install etcd-server) to run the etcd backend tests"
)
HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def find_etcd() -> str:
    """The etcd binary, or :class:`RuntimeError` with :data:`ETCD_MISSING`."""
    candidates = [os.environ.get("KUBEDS_ETCD_BINARY"), shutil.which("etcd"), "/usr/bin/etcd"]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise RuntimeError(ETCD_MISSING)


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EtcdMember:
    """One etcd process; ``start()`` waits until ``/health`` answers, ``stop()``/``kill()`` end it."""

    def __init__(self, name: str, data_dir: Path, *, client_port: int = 0, peer_port: int = 0) -> None:
        self.name = name
        self.data_dir = data_dir
        self.client_port = client_port or free_port()
        self.peer_port = peer_port or free_port()
        self.initial_cluster = f"{name}={self.peer_url}"
        self.cluster_state = "new"
        self.cluster_token = "kubeds-test"
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".log")

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self) -> list[str]:
        return [
            find_etcd(),
            "--name",
            self.name,
            "--data-dir",
            str(self.data_dir),
            "--listen-client-urls",
            self.client_url,
            "--advertise-client-urls",
            self.client_url,
            "--listen-peer-urls",
            self.peer_url,
            "--initial-advertise-peer-urls",
            self.peer_url,
            "--initial-cluster",
            self.initial_cluster,
            "--initial-cluster-state",
            self.cluster_state,
            "--initial-cluster-token",
            self.cluster_token,
            "--logger",
            "zap",
            "--log-level",
            "warn",
        ]

    def launch(self) -> None:
        """Start the process without waiting (members of a new cluster must start together)."""
        if self.running:
            return
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def start(self, *, timeout: float = HEALTH_TIMEOUT_S) -> None:
        self.launch()
        self.wait_healthy(timeout=timeout)

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.client_url + "/health", timeout=1.0) as resp:
                body = json.loads(resp.read())
        except (OSError, urllib.error.URLError, ValueError):
            return False
        return bool(body.get("health") == "true")

    def wait_healthy(self, *, timeout: float = HEALTH_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"etcd {self.name} exited with {self._proc.returncode}:\n{self._tail()}")
            if self.healthy():
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"etcd {self.name} at {self.client_url} not healthy after {timeout}s:\n{self._tail()}"
        )

    def _tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it does not exit in time)."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: a crash, for fault tests."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None


def start_cluster(base_dir: Path, *, size: int = 1) -> list[EtcdMember]:
    """Start ``size`` members forming one new cluster under ``base_dir`` and wait until all are healthy."""
    members = [EtcdMember(f"m{i}", base_dir / f"m{i}.etcd") for i in range(size)]
    initial = ",".join(f"{m.name}={m.peer_url}" for m in members)
    for m in members:
        m.initial_cluster = initial
    try:
        for m in members:
            m.launch()
        for m in members:
            m.wait_healthy()
    except BaseException:
        for m in members:
            m.stop()
        raise
    for m in members:
        m.cluster_state = "existing"  # a restart rejoins the cluster it formed
    return members
