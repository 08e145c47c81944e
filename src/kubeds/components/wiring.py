"""What every component process shares: its stop signal, waiting for the API, and profile settings.

* :func:`stop_on_signals`: SIGINT and SIGTERM set one event; the component stops cleanly on it.
* :func:`wait_for_api`: like upstream's components at start (``WaitForAPIServer`` in
  ``cmd/kube-controller-manager/app/controllermanager.go``), poll ``/healthz`` until the API server
  answers ``ok`` or the timeout passes, so processes may start in any order.
* :func:`controller_manager_config` and :func:`node_lease_timings`: the node profile's timings,
  the same numbers ``kubeds up`` uses (:class:`kubeds.plane.PlaneConfig`): the fast profile shortens
  the node monitor grace period to 20 s (upstream 40 s) and pod GC waits to 5 s, and simulated
  kubelets renew their Lease every quarter of that grace period, so no single late renewal marks a
  node NotReady.
"""

from __future__ import annotations

import asyncio
import signal

from kubeds import clock as clock_mod, wire
from kubeds.client import api as api_mod, errors
from kubeds.controllers.manager import ControllerManagerConfig

__all__ = [
    "FAST_GRACE_PERIOD",
    "REALISTIC_GRACE_PERIOD",
    "ApiNotReady",
    "controller_manager_config",
    "grace_period",
    "node_lease_timings",
    "stop_on_signals",
    "wait_for_api",
]

FAST_GRACE_PERIOD = 20.0
REALISTIC_GRACE_PERIOD = 40.0
FAST_POD_GC_PERIOD = 5.0
FAST_POD_GC_QUARANTINE = 5.0
HEALTH_PATH = "/healthz"
POLL_INTERVAL = 0.5
MSG_NOT_READY = "no kubeds API server answers at {server} (waited {timeout:.0f} s): {error}"


class ApiNotReady(Exception):
    """The API server did not answer within the timeout."""


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def wait_for_api(
    api: api_mod.ApiClient,
    *,
    server: str,
    timeout: float,
    stop: asyncio.Event | None = None,
    clock: clock_mod.Clock = clock_mod.REAL,
) -> bool:
    """Until ``/healthz`` answers; False if ``stop`` was set first; :class:`ApiNotReady` on timeout."""
    deadline = clock.monotonic() + timeout
    last = "no answer"
    while stop is None or not stop.is_set():
        try:
            resp = await api.send(wire.Request(method="GET", path=HEALTH_PATH))
            if resp.status == 200:
                return True
            last = f"HTTP {resp.status}"
        except errors.TransportError as exc:
            last = str(exc) or type(exc).__name__
        if clock.monotonic() >= deadline:
            raise ApiNotReady(MSG_NOT_READY.format(server=server, timeout=timeout, error=last))
        await clock.sleep(POLL_INTERVAL)
    return False


def grace_period(profile: str, override: float | None = None) -> float:
    """The node monitor grace period for a node profile (or the explicit override)."""
    if override is not None:
        return override
    return FAST_GRACE_PERIOD if profile == "fast" else REALISTIC_GRACE_PERIOD


def controller_manager_config(
    profile: str, *, node_monitor_grace_period: float | None = None
) -> ControllerManagerConfig:
    """The controllers' settings for a node profile, as ``kubeds up`` sets them."""
    grace = grace_period(profile, node_monitor_grace_period)
    if profile == "fast":
        return ControllerManagerConfig(
            node_monitor_grace_period=grace,
            pod_gc_period=FAST_POD_GC_PERIOD,
            pod_gc_quarantine=FAST_POD_GC_QUARANTINE,
        )
    return ControllerManagerConfig(node_monitor_grace_period=grace)


def node_lease_timings(profile: str, *, node_monitor_grace_period: float | None = None) -> tuple[int, float]:
    """``(leaseDurationSeconds, renew interval)`` for simulated kubelets under a node profile."""
    grace = grace_period(profile, node_monitor_grace_period)
    return max(1, int(grace)), grace / 4
