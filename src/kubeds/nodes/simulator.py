"""The node simulator: every Node it can see gets a simulated kubelet.

:class:`NodeSimulator` is the component ``kubeds up`` and ``kubeds nodes`` run (KWOK's
``kwok`` controller, kubernetes-sigs/kwok ``pkg/kwok/controllers/controller.go``, is the model):

* informers on Nodes (all, or those matching ``node_selector``) and on Pods bound to a node
  (field selector ``spec.nodeName!=``), indexed by node name;
* a :class:`~kubeds.machinery.events.EventRecorder` writing the kubelets' events
  (``source.component: kubelet``, ``source.host: <node>``);
* a :class:`~kubeds.nodes.leases.LeaseKeeper` seeded from one LIST of ``kube-node-lease``;
* the :class:`~kubeds.nodes.kubelet.KubeletFleet`, one reconcile loop for all kubelets.

A Node created by anyone (``kubeds node add``, ``kubectl apply -f node.yaml``) is picked up by
the informer and registered: its status filled in (conditions, and capacity, allocatable,
addresses, nodeInfo, daemonEndpoints when missing), its Lease created, then renewed every
``renew_interval`` seconds, with the conditions re-posted every ``status_report_interval``
seconds or at once when they change, as a kubelet since 1.17 does (KEP-589 node heartbeats).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod
from kubeds.machinery import cache, events, informer as informer_mod
from kubeds.nodes import kubelet, leases, profiles, templates

__all__ = ["NodeSimulator", "NodeSimulatorConfig"]

log = logging.getLogger(__name__)

BOUND_PODS_SELECTOR = "spec.nodeName!="
EVENT_COMPONENT = "kubelet"
RECORDER_STOP_SECONDS = 5.0


@dataclass(frozen=True)
class NodeSimulatorConfig:
    """How the simulated kubelets behave.

    ``profile``: the stage set (``fast`` or ``realistic``). ``node_selector``: a label selector;
    only matching Nodes are simulated (empty: all). ``lease_duration``: the Lease's
    ``leaseDurationSeconds`` (kubelet default 40). ``renew_interval``: seconds between renewals
    (kubelet: 25 % of the duration, 10). ``status_report_interval``: seconds between status posts
    when nothing changed (kubelet ``nodeStatusReportFrequency``, 5 minutes). ``seed``: seeds the
    jitter (None: random). ``workers``: concurrent API calls. ``tick``: timer-wheel slot in
    seconds; due times are rounded up to it so timers fire in batches. ``max_renew_rate``: cap on
    lease renewals per second for all nodes together (0: none); past ``renew_interval *
    max_renew_rate`` nodes the interval stretches, up to half the lease duration.
    """

    profile: str = "fast"
    node_selector: str = ""
    lease_duration: int = 40
    renew_interval: float = 10.0
    status_report_interval: float = 300.0
    seed: int | None = None
    workers: int = 64
    tick: float = 0.1
    max_renew_rate: float = 400.0

    def __post_init__(self) -> None:
        if self.profile not in profiles.PROFILES:
            raise ValueError(
                f"unknown node profile {self.profile!r}; want one of {', '.join(profiles.PROFILES)}"
            )
        if self.lease_duration < 1:
            raise ValueError("lease_duration must be at least 1 second")
        if not 0 < self.renew_interval < self.lease_duration:
            raise ValueError("renew_interval must be positive and shorter than lease_duration")
        if self.status_report_interval <= 0:
            raise ValueError("status_report_interval must be positive")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.tick < 0:
            raise ValueError("tick must not be negative")
        if self.max_renew_rate < 0:
            raise ValueError("max_renew_rate must not be negative")


class NodeSimulator:
    """Simulated kubelets for every (selected) Node, reached only through the API client."""

    def __init__(
        self, api: api_mod.ApiClient, config: NodeSimulatorConfig, *, clock: clock_mod.Clock = clock_mod.REAL
    ) -> None:
        self.api = api
        self.config = config
        self.clock = clock
        rng = random.Random(config.seed)
        self._factory = informer_mod.SharedInformerFactory(api, clock=clock, rng=random.Random(rng.random()))
        self.nodes = self._factory.informer("v1", "nodes", label_selector=config.node_selector)
        self.pods = self._factory.informer("v1", "pods", field_selector=BOUND_PODS_SELECTOR)
        self.pods.indexer.add_indexers({cache.NODE_NAME_INDEX: cache.index_by_node_name})
        self.recorder = events.EventRecorder(
            api, component=EVENT_COMPONENT, clock=clock, rng=random.Random(rng.random())
        )
        self.leases = leases.LeaseKeeper(api, duration=config.lease_duration)
        self.fleet = kubelet.KubeletFleet(
            api,
            nodes=self.nodes,
            pods=self.pods,
            profile=profiles.load_profile(config.profile),
            keeper=self.leases,
            recorder=self.recorder,
            timing=kubelet.Timing(
                renew_interval=config.renew_interval,
                status_report_interval=config.status_report_interval,
                tick=config.tick,
                lease_duration=config.lease_duration,
                max_renew_rate=config.max_renew_rate,
            ),
            rng=rng,
            workers=config.workers,
            clock=clock,
        )
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def wait_ready(self) -> None:
        """Wait until the caches are synced and every known node is being simulated."""
        await self._ready.wait()

    async def run(self) -> None:
        """Simulate until cancelled or :meth:`stop`."""
        self._task = asyncio.current_task()
        self.recorder.start()
        try:
            try:
                await self.leases.seed()
            except Exception as exc:  # the API may be still starting; leases are then fetched one by one
                log.warning("node simulator: cannot list leases in %s: %s", templates.LEASE_NAMESPACE, exc)
            self._factory.start()
            await self._factory.wait_for_cache_sync()
            self.fleet.register()
            self._ready.set()
            log.info(
                "node simulator: simulating %d nodes (%s profile)",
                len(self.nodes.indexer),
                self.config.profile,
            )
            await self.fleet.run()
        finally:
            self.fleet.shutdown()
            await self._factory.stop()
            # Pending events are written if the API still answers; an unreachable one must not
            # hold up shutdown for the recorder's retries.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.recorder.stop(), RECORDER_STOP_SECONDS)

    async def stop(self) -> None:
        """Stop simulating: no more renewals or stage plays; informers and event writer end."""
        self.fleet.shutdown()
        task = self._task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
