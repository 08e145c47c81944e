"""The controller manager: every controller in one supervisor, sharing one informer factory.

Like kube-controller-manager, it builds one :class:`~kubeds.machinery.informer.SharedInformerFactory`
so that each kind is listed and watched once however many controllers read it, starts each
controller as a task, and stops them together. Which controllers exist is data
(:data:`CONTROLLERS`), so the multi-process ``kubeds controller-manager`` and the single-process
plane run the same set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod
from kubeds.controllers import disruption, podgc, replicaset, tainteviction
from kubeds.controllers.daemonset.controller import DaemonSetController, DaemonSetControllerConfig
from kubeds.controllers.deployment.controller import DeploymentConfig, DeploymentController
from kubeds.controllers.garbagecollector.controller import GarbageCollector, GarbageCollectorConfig
from kubeds.controllers.nodelifecycle import NodeLifecycleController, NodeLifecycleControllerConfig
from kubeds.machinery import informer as informer_mod

__all__ = ["ControllerManager", "ControllerManagerConfig"]

log = logging.getLogger(__name__)


class Component(Protocol):
    async def run(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class ControllerManagerConfig:
    """Settings of the controllers; ``node_monitor_grace_period`` is upstream's 40 s by default."""

    node_monitor_grace_period: float = 40.0
    node_monitor_period: float = 5.0
    node_startup_grace_period: float = 60.0
    node_eviction_rate: float = 0.1
    pod_gc_period: float = 20.0
    pod_gc_quarantine: float = 40.0
    terminated_pod_gc_threshold: int = 12500
    disabled: frozenset[str] = field(default_factory=frozenset)


class ControllerManager:
    def __init__(
        self,
        api: api_mod.ApiClient,
        config: ControllerManagerConfig,
        *,
        clock: clock_mod.Clock = clock_mod.REAL,
    ) -> None:
        self.api = api
        self.config = config
        self.clock = clock
        self.informers = informer_mod.SharedInformerFactory(api, clock=clock)
        self.controllers: dict[str, Component] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._build()

    def _build(self) -> None:
        cfg, api, clock, inf = self.config, self.api, self.clock, self.informers
        builders: dict[str, Any] = {
            "nodelifecycle": lambda: NodeLifecycleController(
                api,
                NodeLifecycleControllerConfig(
                    node_monitor_period=cfg.node_monitor_period,
                    node_monitor_grace_period=cfg.node_monitor_grace_period,
                    node_startup_grace_period=cfg.node_startup_grace_period,
                    node_eviction_rate=cfg.node_eviction_rate,
                ),
                clock=clock,
                informers=inf,
            ),
            "daemonset": lambda: DaemonSetController(
                api, DaemonSetControllerConfig(), clock=clock, informer_factory=inf
            ),
            "replicaset": lambda: replicaset.ReplicaSetController(
                api, replicaset.ReplicaSetConfig(), clock=clock, informers=inf
            ),
            "deployment": lambda: DeploymentController(api, DeploymentConfig(), clock=clock, informers=inf),
            "disruption": lambda: disruption.DisruptionController(
                api, disruption.DisruptionConfig(), clock=clock, informers=inf
            ),
            "garbagecollector": lambda: GarbageCollector(
                api, GarbageCollectorConfig(), clock=clock, informer_factory=inf
            ),
            "tainteviction": lambda: tainteviction.TaintEvictionController(
                api, tainteviction.TaintEvictionControllerConfig(), clock=clock, informers=inf
            ),
            "podgc": lambda: podgc.PodGCController(
                api,
                podgc.PodGCControllerConfig(
                    gc_period=cfg.pod_gc_period,
                    terminated_pod_gc_threshold=cfg.terminated_pod_gc_threshold,
                    quarantine_time=cfg.pod_gc_quarantine,
                ),
                clock=clock,
                informers=inf,
            ),
        }
        for name, build in builders.items():
            if name not in cfg.disabled:
                self.controllers[name] = build()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        # Controllers ask the shared factory for informers when built or when they start running;
        # start() is idempotent and starts whatever was asked for since the last call.
        self.informers.start()
        for name, c in self.controllers.items():
            self._tasks.append(loop.create_task(self._supervise(name, c), name=f"controller-{name}"))
        for _ in range(3):
            await asyncio.sleep(0)
        self.informers.start()

    async def _supervise(self, name: str, c: Component) -> None:
        try:
            await c.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("controller %s stopped with an error", name)

    async def stop(self) -> None:
        for c in self.controllers.values():
            with contextlib.suppress(Exception):
                await c.stop()
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._tasks.clear()
        with contextlib.suppress(Exception):
            await self.informers.stop()
