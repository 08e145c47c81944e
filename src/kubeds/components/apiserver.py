"""The API server alone: storage, the handler pipeline over HTTPS, the kubeconfig, compaction.

Like ``kube-apiserver`` it holds no controllers: it serves the API from its storage and nothing
else. It is :class:`kubeds.plane.Plane` without components, with one difference that makes several
of them possible: on etcd the data dir holds only the PKI and the kubeconfig, so API servers may
share one data dir (one CA, one admin token, one serving certificate) and one etcd cluster, and
every watch sees every change whichever server made it (the etcd backend's watches). On SQLite
(single-instance, like kine's SQLite driver) the data dir is locked with the same ``kubeds.lock``
as ``kubeds up``, and carries the same ``FORMAT`` check, so ``kubeds up`` and ``kubeds apiserver``
may take turns on one data dir but never run on it together.

Creating the PKI is serialised between processes with a lock file (``DIR/pki.lock``), so API
servers started at the same moment on one data dir agree on one CA.

Several API servers each compact etcd every ``compaction_interval`` up to ``current - keep``;
upstream coordinates its compactors through a compare-and-swap on a key
(``staging/src/k8s.io/apiserver/pkg/storage/etcd3/compact.go``); here a compaction that another
server already made is a no-op (the etcd backend treats "already compacted" as done).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aiohttp import web

from kubeds import clock as clocks
from kubeds.apiserver import certs, handler, http
from kubeds.client import kubeconfig
from kubeds.storage import compaction, factory
from kubeds.storage.errors import StorageError
from kubeds.storage.interface import Backend

__all__ = ["DATA_FORMAT", "ApiServerConfig", "ApiServerError", "ApiServerProcess"]

#: The data-dir format version (DIR/FORMAT); a data dir of another version refuses to start.
DATA_FORMAT = "1"

LOCK_FILE = "kubeds.lock"
PKI_LOCK_FILE = "pki.lock"
FORMAT_FILE = "FORMAT"
KUBECONFIG_FILE = "kubeconfig"
MSG_LOCKED = (
    "another kubeds is already running on {dir} (pid {pid}); stop it first, or pass a different --data-dir "
    "(only --storage etcd lets several API servers share one data dir)"
)
MSG_FORMAT = (
    "{dir} was written by a kubeds with data format {found}; this kubeds uses format {wanted}. "
    "Use the matching kubeds, or start fresh with another --data-dir."
)
MSG_PORT_IN_USE = (
    "port {port} on {host} is already in use: stop what is using it, or pass --port 0 to pick a free port"
)
MSG_LISTEN = "cannot listen on {host}:{port}: {reason}"


class ApiServerError(Exception):
    """A start-up failure with a message that says what to do next."""


@dataclass
class ApiServerConfig:
    data_dir: Path = Path(".kubeds")
    host: str = "127.0.0.1"
    port: int = 6443
    storage: str = "sqlite"
    etcd_endpoints: list[str] = field(default_factory=list)
    kubeconfig_path: Path | None = None  # default DIR/kubeconfig
    compaction_interval: float = 300.0
    compaction_keep: int = 1000
    # Hold DIR/kubeds.lock; None means "unless the storage is etcd" (SQLite is single-instance,
    # several API servers may share one etcd and one data dir). ``kubeds up`` always holds it.
    exclusive: bool | None = None

    def holds_lock(self) -> bool:
        return self.exclusive if self.exclusive is not None else self.storage != "etcd"


class ApiServerProcess:
    """Start with :meth:`start`, stop with :meth:`stop`; :attr:`server_url` once started."""

    def __init__(self, config: ApiServerConfig, *, clock: clocks.Clock = clocks.REAL) -> None:
        self.config = config
        self.clock = clock
        self.backend: Backend | None = None
        self.api: handler.APIServer | None = None
        self.runner: web.ServerRunner | None = None
        self.compactor: compaction.Compactor | None = None
        self.port = 0
        self.kubeconfig_path = config.kubeconfig_path or config.data_dir / KUBECONFIG_FILE
        self._lock: IO[str] | None = None
        self.fresh = False  # this start created the data dir's FORMAT file

    @property
    def server_url(self) -> str:
        host = self.config.host
        if ":" in host:
            host = f"[{host}]"
        return f"https://{host}:{self.port}"

    def _lock_data_dir(self) -> None:
        """SQLite and memory are single-instance: hold ``kubeds.lock`` and check ``FORMAT``."""
        d = self.config.data_dir
        lock = (d / LOCK_FILE).open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise ApiServerError(MSG_LOCKED.format(dir=d, pid=holder)) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock
        fmt = d / FORMAT_FILE
        if fmt.exists():
            found = fmt.read_text().strip()
            if found != DATA_FORMAT:
                raise ApiServerError(MSG_FORMAT.format(dir=d, found=found, wanted=DATA_FORMAT))
        else:
            fmt.write_text(DATA_FORMAT + "\n")
            self.fresh = True

    def _ensure_pki(self) -> certs.Pki:
        with (self.config.data_dir / PKI_LOCK_FILE).open("a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                return certs.ensure_pki(self.config.data_dir, hosts=[self.config.host], clock=self.clock)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    async def start(self) -> None:
        cfg = self.config
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            if cfg.holds_lock():
                self._lock_data_dir()
            pki = self._ensure_pki()
            try:
                self.backend = factory.open_backend(
                    cfg.storage, data_dir=cfg.data_dir, etcd_endpoints=cfg.etcd_endpoints
                )
            except ValueError as exc:
                raise ApiServerError(str(exc)) from exc
            try:
                await self.backend.start()
            except StorageError as exc:
                raise ApiServerError(str(exc)) from exc
            self.api = handler.APIServer(self.backend, clock=self.clock, pki=pki)
            try:
                await self.api.start()
            except StorageError as exc:
                raise ApiServerError(str(exc)) from exc
            await self._listen(pki)
            kubeconfig.write_kubeconfig(
                self.kubeconfig_path,
                server=self.server_url,
                ca_pem=pki.ca_pem,
                token=pki.token,
                client_cert_pem=pki.admin_cert_pem,
                client_key_pem=pki.admin_key_pem,
            )
            self.compactor = compaction.Compactor(
                self.backend, interval=cfg.compaction_interval, keep=cfg.compaction_keep, clock=self.clock
            )
            self.compactor.start()
        except BaseException:
            await self.stop()
            raise

    async def _listen(self, pki: certs.Pki) -> None:
        cfg = self.config
        assert self.api is not None
        try:
            self.runner, self.port = await http.serve(
                self.api, host=cfg.host, port=cfg.port, ssl_context=certs.server_ssl_context(pki)
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ApiServerError(MSG_PORT_IN_USE.format(port=cfg.port, host=cfg.host)) from exc
            raise ApiServerError(
                MSG_LISTEN.format(host=cfg.host, port=cfg.port, reason=exc.strerror)
            ) from exc
        self.api.server_address = f"{cfg.host}:{self.port}"

    async def stop(self) -> None:
        if self.compactor is not None:
            await self.compactor.stop()
            self.compactor = None
        if self.api is not None:
            await self.api.close()
            self.api = None
        # Closing storage first ends every watch stream, so the HTTP shutdown does not wait on them.
        if self.backend is not None:
            await self.backend.close()
            self.backend = None
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
        if self._lock is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
