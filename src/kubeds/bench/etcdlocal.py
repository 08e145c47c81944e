"""A throwaway local etcd: one member on free loopback ports with a fresh data dir, stopped on exit.

``kubeds bench daemonset --storage etcd`` runs its plane against a real etcd; unless the user has
one to spare, it starts this one. The binary is ``$KUBEDS_ETCD_BINARY``, else ``etcd`` on the
``PATH``, else ``/usr/bin/etcd`` (Debian's ``etcd-server`` package, etcd 3.4). A missing binary is
an :class:`EtcdNotFound` that says how to install it.

:class:`EtcdMember` is one ``etcd`` process with the flags of etcd's own single-member quick start
(``--listen-client-urls``/``--advertise-client-urls``, ``--initial-cluster`` naming itself); the
test helper ``tests/contract/etcd_server.py`` builds multi-member clusters from the same class by
setting ``initial_cluster`` to every member before launching them. ``start()`` waits until
``/health`` answers ``{"health": "true"}`` (etcd's ``etcdhttp`` health handler); ``stop()`` sends
SIGTERM and falls back to SIGKILL. The member's log goes to ``<data dir>.log`` and its last lines
are quoted when it does not become healthy.

:func:`local_etcd` is the async context manager the benchmark uses: a member in a temp dir,
started and stopped in a worker thread so the event loop is never blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

__all__ = [
    "ETCD_MISSING",
    "EtcdMember",
    "EtcdNotFound",
    "etcd_version",
    "find_etcd",
    "free_port",
    "local_etcd",
]

ETCD_MISSING = (
    "the etcd binary was not found (looked for $KUBEDS_ETCD_BINARY, etcd on PATH, /usr/bin/etcd): "
    "install it (Debian/Ubuntu: apt-get install etcd-server) or set KUBEDS_ETCD_BINARY"
)
ETCD_UNHEALTHY = "etcd {name} at {url} not healthy after {timeout:.0f}s:\n{tail}"
ETCD_EXITED = "etcd {name} exited with {code}:\n{tail}"
HEALTH_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
HEALTH_POLL_S = 0.05
LOG_TAIL_LINES = 20
CLUSTER_TOKEN = "kubeds-local"
BINARY_ENV = "KUBEDS_ETCD_BINARY"
DEFAULT_BINARY = "/usr/bin/etcd"  # Debian's etcd-server package
VERSION_PREFIX = "etcd Version:"
VERSION_TIMEOUT_S = 10.0


class EtcdNotFound(RuntimeError):
    """No etcd binary; ``str()`` is :data:`ETCD_MISSING`."""


def find_etcd() -> str:
    """The etcd binary, or :class:`EtcdNotFound`."""
    candidates = [os.environ.get(BINARY_ENV), shutil.which("etcd"), DEFAULT_BINARY]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise EtcdNotFound(ETCD_MISSING)


def etcd_version(binary: str) -> str:
    """``3.4.23`` from ``etcd --version`` (its first line, ``etcd Version: 3.4.23``), or ``""``."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_S, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    first = out.splitlines()[0] if out else ""
    return first.partition(VERSION_PREFIX)[2].strip()


def free_port() -> int:
    """A port nothing listens on right now (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EtcdMember:
    """One etcd process; ``start()`` waits until ``/health`` answers, ``stop()``/``kill()`` end it."""

    def __init__(
        self,
        name: str,
        data_dir: Path,
        *,
        client_port: int = 0,
        peer_port: int = 0,
        cluster_token: str = CLUSTER_TOKEN,
    ) -> None:
        self.name = name
        self.data_dir = data_dir
        self.client_port = client_port or free_port()
        self.peer_port = peer_port or free_port()
        self.initial_cluster = f"{name}={self.peer_url}"
        self.cluster_state = "new"
        self.cluster_token = cluster_token
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
        command = self.command()  # EtcdNotFound before anything is created
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )

    def start(self, *, timeout: float = HEALTH_TIMEOUT_S) -> None:
        self.launch()
        try:
            self.wait_healthy(timeout=timeout)
        except BaseException:
            self.stop()
            raise

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
                raise RuntimeError(
                    ETCD_EXITED.format(name=self.name, code=self._proc.returncode, tail=self._tail())
                )
            if self.healthy():
                return
            time.sleep(HEALTH_POLL_S)
        raise RuntimeError(
            ETCD_UNHEALTHY.format(name=self.name, url=self.client_url, timeout=timeout, tail=self._tail())
        )

    def _tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
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


@contextlib.asynccontextmanager
async def local_etcd(*, timeout: float = HEALTH_TIMEOUT_S) -> AsyncIterator[EtcdMember]:
    """A fresh single-member etcd in a temp dir, healthy on entry, stopped and removed on exit."""
    find_etcd()
    with tempfile.TemporaryDirectory(prefix="kubeds-etcd-") as tmp:
        member = EtcdMember("kubeds-bench", Path(tmp) / "member.etcd")
        await asyncio.to_thread(member.start, timeout=timeout)
        try:
            yield member
        finally:
            await asyncio.to_thread(member.stop)
