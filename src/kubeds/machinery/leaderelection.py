"""Leader election on a ``coordination.k8s.io/v1`` Lease, so one replica of a component is active.

Mirrors client-go ``tools/leaderelection/leaderelection.go`` with the ``LeaseLock`` of
``resourcelock/leaselock.go``:

* ``acquire``: every ``retry_period`` (plus up to 120 % jitter, upstream ``JitterFactor = 1.2``) try to
  take the lease: create it if it does not exist; otherwise take it only if it has no holder or the
  holder's record has not changed for ``leaseDurationSeconds`` *as measured on our own clock since we
  last saw it change* (upstream ``observedTime``: holders' clocks are never compared). Taking over
  bumps ``leaseTransitions`` and sets ``acquireTime``.
* ``renew``: every ``retry_period``, write ``renewTime`` (keeping ``acquireTime`` and
  ``leaseTransitions``). Writes are optimistic-concurrency updates of the Lease last read, so two
  candidates can never both win. If no renewal succeeds within ``renew_deadline``, step down.
* :meth:`LeaderElector.run` calls ``on_started_leading()`` as a task once leader, cancels it when
  leadership is lost, and always calls ``on_stopped_leading()`` on the way out (as upstream's deferred
  ``OnStoppedLeading``). With ``release_on_cancel`` a leader that is cancelled clears
  ``holderIdentity`` and sets ``leaseDurationSeconds: 1`` so a successor need not wait.

Times in the Lease are ``MicroTime`` (RFC 3339 with microseconds). Every duration runs on the injected
clock, so tests move two electors through expiry with a ``FakeClock``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from kubeds import clock as clock_mod
from kubeds.client import api as api_mod, errors

__all__ = ["JITTER_FACTOR", "LeaderElector", "format_micro_time"]

log = logging.getLogger(__name__)

JITTER_FACTOR = 1.2
LEASE_API_VERSION = "coordination.k8s.io/v1"
LEASE_PLURAL = "leases"
EVENT_REASON = "LeaderElection"
MSG_BECAME_LEADER = "{identity} became leader"
MSG_STOPPED_LEADING = "{identity} stopped leading"
ERR_DURATION = "leaseDuration must be greater than renewDeadline"
ERR_RENEW_DEADLINE = "renewDeadline must be greater than retryPeriod*JitterFactor"
ERR_LEASE_ZERO = "leaseDuration must be greater than zero"
ERR_RENEW_ZERO = "renewDeadline must be greater than zero"
ERR_RETRY_ZERO = "retryPeriod must be greater than zero"
ERR_IDENTITY = "Lock identity is empty"


def format_micro_time(t: dt.datetime) -> str:
    """``metav1.MicroTime`` on the wire: RFC 3339 with six fractional digits and ``Z``."""
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaderElector:
    """Campaign for, hold, and step down from one Lease."""

    def __init__(
        self,
        api: api_mod.ApiClient,
        *,
        lease_name: str,
        namespace: str = "kube-system",
        identity: str,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        clock: clock_mod.Clock = clock_mod.REAL,
        release_on_cancel: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        _validate(
            lease_duration=lease_duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
            identity=identity,
        )
        self._leases = api.resource(LEASE_API_VERSION, LEASE_PLURAL)
        self.lease_name = lease_name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.release_on_cancel = release_on_cancel
        self._clock = clock
        self._rng = rng or random.Random()
        self._lease: dict[str, Any] | None = None  # the Lease last read or written (for CAS updates)
        self._observed: dict[str, Any] = {}  # its spec
        self._observed_time = 0.0  # our monotonic clock when the spec last changed
        self._reported_leader = ""

    @property
    def is_leader(self) -> bool:
        return bool(self._observed) and self._observed.get("holderIdentity") == self.identity

    def get_leader(self) -> str:
        """The holder the last observed record names ("" if none)."""
        return str(self._observed.get("holderIdentity") or "")

    async def run(
        self,
        on_started_leading: Callable[[], Awaitable[None]],
        on_stopped_leading: Callable[[], None],
    ) -> None:
        """Acquire, lead (running ``on_started_leading``) while renewals succeed, then step down."""
        leading: asyncio.Task[None] | None = None
        try:
            await self._acquire()
            leading = asyncio.ensure_future(on_started_leading())
            await self._renew()
        finally:
            if leading is not None and not leading.done():
                leading.cancel()
                await asyncio.gather(leading, return_exceptions=True)
            if self.release_on_cancel and self.is_leader:
                await self._release()
            on_stopped_leading()

    async def _acquire(self) -> None:
        log.info("attempting to acquire leader lease %s/%s...", self.namespace, self.lease_name)
        while True:
            succeeded = await self.try_acquire_or_renew()
            self._maybe_report_transition()
            if succeeded:
                log.info("successfully acquired lease %s/%s", self.namespace, self.lease_name)
                return
            jitter = self._rng.random() * JITTER_FACTOR * self.retry_period
            await self._clock.sleep(self.retry_period + jitter)

    async def _renew(self) -> None:
        while True:
            await self._clock.sleep(self.retry_period)
            deadline = self._clock.monotonic() + self.renew_deadline
            while not await self.try_acquire_or_renew():
                if self._clock.monotonic() + self.retry_period >= deadline:
                    self._maybe_report_transition()
                    log.info("failed to renew lease %s/%s: timed out", self.namespace, self.lease_name)
                    return
                await self._clock.sleep(self.retry_period)
            self._maybe_report_transition()

    async def try_acquire_or_renew(self) -> bool:
        """One attempt to take or renew the lease (upstream ``tryAcquireOrRenew``)."""
        now = format_micro_time(self._clock.now())
        record: dict[str, Any] = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": 0,
        }
        # 1. Fast path: the leader updates optimistically against the Lease it wrote last.
        if self.is_leader and self._lease_valid() and self._lease is not None:
            record["acquireTime"] = self._observed.get("acquireTime", now)
            record["leaseTransitions"] = self._observed.get("leaseTransitions", 0)
            if await self._update(record):
                return True
            log.info("failed to update lock optimistically, falling back to slow path")
        # 2. Get or create the lease.
        try:
            lease = await self._leases.get(self.lease_name, namespace=self.namespace)
        except errors.NotFound:
            return await self._create(record)
        except (errors.ApiError, errors.TransportError) as exc:
            log.error("error retrieving resource lock %s/%s: %s", self.namespace, self.lease_name, exc)
            return False
        # 3. Record obtained: is it held by someone else and still valid?
        spec = dict(lease.get("spec") or {})
        self._lease = lease
        if spec != self._observed:
            self._observed = spec
            self._observed_time = self._clock.monotonic()
        if spec.get("holderIdentity") and self._lease_valid() and not self.is_leader:
            log.debug("lock is held by %s and has not yet expired", spec.get("holderIdentity"))
            return False
        # 4. Take it over, or renew the slow way.
        if self.is_leader:
            record["acquireTime"] = spec.get("acquireTime", now)
            record["leaseTransitions"] = spec.get("leaseTransitions", 0)
        else:
            record["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
        return await self._update(record)

    def _lease_valid(self) -> bool:
        duration = float(self._observed.get("leaseDurationSeconds") or 0)
        return self._observed_time + duration > self._clock.monotonic()

    def _set_observed(self, lease: dict[str, Any]) -> None:
        self._lease = lease
        self._observed = dict(lease.get("spec") or {})
        self._observed_time = self._clock.monotonic()

    async def _create(self, record: dict[str, Any]) -> bool:
        body = {
            "apiVersion": LEASE_API_VERSION,
            "kind": "Lease",
            "metadata": {"name": self.lease_name, "namespace": self.namespace},
            "spec": record,
        }
        try:
            created = await self._leases.create(body, namespace=self.namespace)
        except (errors.ApiError, errors.TransportError) as exc:
            log.error("error initially creating leader election record: %s", exc)
            return False
        self._set_observed(created)
        return True

    async def _update(self, record: dict[str, Any]) -> bool:
        if self._lease is None:
            return False
        body = {**self._lease, "spec": {**(self._lease.get("spec") or {}), **record}}
        try:
            updated = await self._leases.update(body, namespace=self.namespace)
        except (errors.ApiError, errors.TransportError) as exc:
            log.error("failed to update lock %s/%s: %s", self.namespace, self.lease_name, exc)
            return False
        self._set_observed(updated)
        return True

    async def _release(self) -> None:
        now = format_micro_time(self._clock.now())
        record = {
            "holderIdentity": "",
            "leaseDurationSeconds": 1,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": self._observed.get("leaseTransitions", 0),
        }
        if await self._update(record):
            log.info("released lease %s/%s", self.namespace, self.lease_name)

    def _maybe_report_transition(self) -> None:
        leader = self.get_leader()
        if leader == self._reported_leader:
            return
        self._reported_leader = leader
        if leader:
            log.info("new leader elected for %s/%s: %s", self.namespace, self.lease_name, leader)


def _validate(*, lease_duration: float, renew_deadline: float, retry_period: float, identity: str) -> None:
    """The checks of upstream ``NewLeaderElector``, with its messages."""
    if lease_duration <= renew_deadline:
        raise ValueError(ERR_DURATION)
    if renew_deadline <= JITTER_FACTOR * retry_period:
        raise ValueError(ERR_RENEW_DEADLINE)
    if lease_duration <= 0:
        raise ValueError(ERR_LEASE_ZERO)
    if renew_deadline <= 0:
        raise ValueError(ERR_RENEW_ZERO)
    if retry_period <= 0:
        raise ValueError(ERR_RETRY_ZERO)
    if not identity:
        raise ValueError(ERR_IDENTITY)
