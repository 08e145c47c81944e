"""One process, the whole control plane: storage, the API server over HTTPS, the
controllers, the scheduler and the simulated nodes.

:class:`Plane` owns every long-lived task and stops them in reverse order. ``kubeds up`` runs one
until SIGINT/SIGTERM; tests run one in-process on ``--port 0``.

Data dir layout::

    DIR/kubeconfig        admin kubeconfig (https, the plane's own CA, bearer token + client cert)
    DIR/pki/              CA, server and admin certificates, admin token (see apiserver.certs)
    DIR/state.db          SQLite storage (WAL files beside it)
    DIR/kubeds.lock       held while a plane runs on DIR (SQLite is single-instance)
    DIR/FORMAT            the data-dir format version; another version refuses to start
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kubeds import clock as clocks, heap
from kubeds.apiserver import handler
from kubeds.client import api as api_mod, errors as client_errors, transport
from kubeds.components.apiserver import DATA_FORMAT, ApiServerConfig, ApiServerError, ApiServerProcess
from kubeds.controllers.manager import ControllerManager, ControllerManagerConfig
from kubeds.nodes import templates as node_templates
from kubeds.nodes.simulator import NodeSimulator, NodeSimulatorConfig
from kubeds.scheduler.scheduler import Scheduler, SchedulerConfig
from kubeds.storage.interface import Backend

__all__ = ["DATA_FORMAT", "Plane", "PlaneConfig", "PlaneError"]

log = logging.getLogger(__name__)

REGISTER_CONCURRENCY = 32


class PlaneError(Exception):
    """A start-up failure with a message that says what to do next."""


@dataclass
class PlaneConfig:
    data_dir: Path = Path(".kubeds")
    host: str = "127.0.0.1"
    port: int = 6443
    storage: str = "sqlite"
    etcd_endpoints: list[str] = field(default_factory=list)
    nodes: int = 3
    node_profile: str = "fast"
    compaction_interval: float = 300.0
    compaction_keep: int = 1000
    components: bool = True  # run the controllers and the scheduler
    simulate_nodes: bool = True  # run the node simulator in this process
    node_selector: str = ""  # simulate only the Nodes this label selector matches
    ready_timeout: float = 300.0
    node_monitor_grace_period: float | None = None  # None: by profile (fast 20 s, realistic 40 s)

    def grace_period(self) -> float:
        if self.node_monitor_grace_period is not None:
            return self.node_monitor_grace_period
        return 20.0 if self.node_profile == "fast" else 40.0

    def lease_renew_interval(self) -> float:
        """A quarter of the grace period, so one late renewal never marks a node NotReady."""
        return self.grace_period() / 4


class Plane:
    """The API server (:class:`~kubeds.components.apiserver.ApiServerProcess`, holding the data
    dir's lock whatever the storage) plus the components, in one process."""

    def __init__(self, config: PlaneConfig, *, clock: clocks.Clock = clocks.REAL) -> None:
        self.config = config
        self.clock = clock
        self.server = ApiServerProcess(
            ApiServerConfig(
                data_dir=config.data_dir,
                host=config.host,
                port=config.port,
                storage=config.storage,
                etcd_endpoints=config.etcd_endpoints,
                compaction_interval=config.compaction_interval,
                compaction_keep=config.compaction_keep,
                exclusive=True,
            ),
            clock=clock,
        )
        self.clients: list[api_mod.ApiClient] = []
        self.controller_manager: ControllerManager | None = None
        self.scheduler: Scheduler | None = None
        self.simulator: NodeSimulator | None = None
        self._component_tasks: list[asyncio.Task[None]] = []

    @property
    def api(self) -> handler.APIServer | None:
        return self.server.api

    @property
    def backend(self) -> Backend | None:
        return self.server.backend

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def kubeconfig_path(self) -> Path:
        return self.server.kubeconfig_path

    @property
    def server_url(self) -> str:
        return self.server.server_url

    @property
    def fresh(self) -> bool:
        """This start created the data dir (so ``--nodes N`` registers the initial nodes)."""
        return self.server.fresh

    async def start(self) -> None:
        heap.tune_collector()
        try:
            await self.server.start()
        except ApiServerError as exc:
            raise PlaneError(str(exc)) from exc
        try:
            if self.config.components:
                await self._start_components()
            self._component_tasks.append(
                asyncio.get_running_loop().create_task(heap.keep_frozen(self.clock), name="heap-freezer")
            )
        except BaseException:
            await self.stop()
            raise

    def controller_manager_config(self) -> ControllerManagerConfig:
        """Upstream's defaults; the fast profile shortens the node grace period and pod GC waits
        (upstream 40 s grace, 20 s GC period, 40 s quarantine) so demos and tests do not idle."""
        cfg = self.config
        if cfg.node_profile == "fast":
            return ControllerManagerConfig(
                node_monitor_grace_period=cfg.grace_period(), pod_gc_period=5.0, pod_gc_quarantine=5.0
            )
        return ControllerManagerConfig(node_monitor_grace_period=cfg.grace_period())

    def client(self, user: str) -> api_mod.ApiClient:
        """An API client that calls this process's API server without sockets, as ``user``."""
        assert self.api is not None
        c = api_mod.ApiClient(
            transport.InProcessTransport(self.api.handle, user=user), user_agent=user, clock=self.clock
        )
        self.clients.append(c)
        return c

    async def _start_components(self) -> None:
        cfg = self.config
        self.controller_manager = ControllerManager(
            self.client("system:kube-controller-manager"),
            self.controller_manager_config(),
            clock=self.clock,
        )
        await self.controller_manager.start()
        self.scheduler = Scheduler(self.client("system:kube-scheduler"), SchedulerConfig(), clock=self.clock)
        self._component_tasks.append(
            asyncio.get_running_loop().create_task(self.scheduler.run(), name="scheduler")
        )
        if cfg.simulate_nodes:
            self.simulator = NodeSimulator(
                self.client("system:node-simulator"),
                NodeSimulatorConfig(
                    profile=cfg.node_profile,
                    node_selector=cfg.node_selector,
                    lease_duration=max(1, int(cfg.grace_period())),
                    renew_interval=cfg.lease_renew_interval(),
                ),
                clock=self.clock,
            )
            self._component_tasks.append(
                asyncio.get_running_loop().create_task(self.simulator.run(), name="node-simulator")
            )

    async def create_initial_nodes(self, progress: Callable[[str], None] = lambda _: None) -> list[str]:
        """On a fresh data dir, register ``--nodes N`` nodes named node-1 ... node-N."""
        if not self.fresh or not self.config.nodes:
            return []
        api = self.client("kubeds")
        names = [f"node-{i}" for i in range(1, self.config.nodes + 1)]
        nodes = api.resource("v1", "nodes")
        pending = iter(names)
        done = 0

        async def register() -> None:
            nonlocal done
            for name in pending:
                try:
                    await nodes.create(
                        node_templates.new_node(name, internal_ip=node_templates.derive_node_ip(name))
                    )
                except client_errors.AlreadyExists:
                    pass
                done += 1
                if done % 100 == 0 or done == len(names):
                    progress(f"registered {done}/{len(names)} nodes")

        # A few registrations in flight at once (as kubelets starting together), so the writes
        # share the store's group commit instead of paying one fsync each.
        await asyncio.gather(*(register() for _ in range(min(REGISTER_CONCURRENCY, len(names)))))
        return names

    async def wait_nodes_ready(
        self, names: list[str], progress: Callable[[str], None] = lambda _: None
    ) -> None:
        """Wait until every named node reports Ready=True; raise PlaneError after the timeout."""
        if not names:
            return
        api = self.client("kubeds")
        nodes = api.resource("v1", "nodes")
        wanted = set(names)
        deadline = self.clock.monotonic() + self.config.ready_timeout
        last = -1
        while True:
            listed = await nodes.list_all()
            ready = {
                n["metadata"]["name"]
                for n in listed["items"]
                if any(
                    c.get("type") == "Ready" and c.get("status") == "True"
                    for c in (n.get("status") or {}).get("conditions") or []
                )
            }
            count = len(wanted & ready)
            if count != last:
                progress(f"{count}/{len(wanted)} nodes Ready")
                last = count
            if count == len(wanted):
                heap.freeze_survivors()  # the caches of N nodes are the long-lived heap
                return
            if self.clock.monotonic() > deadline:
                raise PlaneError(
                    f"only {count} of {len(wanted)} nodes became Ready within {self.config.ready_timeout:.0f} s"
                )
            await self.clock.sleep(0.2)

    async def _stop_components(self) -> None:
        if self.simulator is not None:
            with contextlib.suppress(Exception):
                await self.simulator.stop()
            self.simulator = None
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                await self.scheduler.stop()
            self.scheduler = None
        if self.controller_manager is not None:
            await self.controller_manager.stop()
            self.controller_manager = None
        for t in self._component_tasks:
            t.cancel()
        for t in self._component_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._component_tasks.clear()
        for c in self.clients:
            with contextlib.suppress(Exception):
                await c.close()
        self.clients.clear()

    async def stop(self) -> None:
        await self._stop_components()
        await self.server.stop()
