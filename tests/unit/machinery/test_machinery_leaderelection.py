"""Leader election with two electors on one fake Lease store and a FakeClock (behaviour of client-go
tools/leaderelection leaderelection_test.go: acquire when absent or expired, hold while renewing, step
down after renewDeadline, leaseTransitions counting takeovers)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from machinery_fakes import FakeApi, settle

from kubeds import wire
from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.machinery import leaderelection


class SwitchableTransport:
    """Delegates to the shared FakeApi until ``broken`` is set (a partitioned candidate)."""

    def __init__(self, fake: FakeApi) -> None:
        self.fake = fake
        self.broken = False

    async def request(self, req: wire.Request) -> wire.Response:
        if self.broken:
            await asyncio.sleep(0)
            raise errors.TransportError("network partition")
        return await self.fake.request(req)

    async def close(self) -> None:
        return None


class Candidate:
    def __init__(self, fake: FakeApi, clock: FakeClock, identity: str, **kw: Any) -> None:
        self.transport = SwitchableTransport(fake)
        self.elector = leaderelection.LeaderElector(
            ApiClient(self.transport),
            lease_name="kube-controller-manager",
            identity=identity,
            clock=clock,
            rng=random.Random(identity),
            **kw,
        )
        self.started = 0
        self.stopped = 0
        self.leading_cancelled = False
        self.task: asyncio.Task[None] | None = None

    async def _lead(self) -> None:
        self.started += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.leading_cancelled = True
            raise

    def _stop(self) -> None:
        self.stopped += 1

    def start(self) -> None:
        self.task = asyncio.create_task(self.elector.run(self._lead, self._stop))


async def advance(clock: FakeClock, seconds: float, step: float = 0.25) -> None:
    steps = round(seconds / step)
    for _ in range(steps):
        clock.advance(step)
        await settle(10)


def lease(fake: FakeApi) -> dict[str, Any]:
    spec: dict[str, Any] = fake.objects[("leases", "kube-system", "kube-controller-manager")]["spec"]
    return spec


@pytest.fixture
async def pair() -> AsyncIterator[tuple[FakeApi, FakeClock, Candidate, Candidate]]:
    fake, clock = FakeApi(), FakeClock()
    a = Candidate(fake, clock, "a")
    b = Candidate(fake, clock, "b")
    a.start()
    await settle(20)
    b.start()
    await settle(20)
    yield fake, clock, a, b
    for cand in (a, b):
        if cand.task is not None and not cand.task.done():
            cand.task.cancel()
            await asyncio.gather(cand.task, return_exceptions=True)


async def test_first_candidate_creates_and_holds_the_lease(
    pair: tuple[FakeApi, FakeClock, Candidate, Candidate],
) -> None:
    fake, clock, a, b = pair
    assert a.elector.is_leader and a.started == 1
    assert not b.elector.is_leader and b.started == 0
    assert b.elector.get_leader() == "a"
    spec = lease(fake)
    now = leaderelection.format_micro_time(clock.now())
    assert spec == {
        "holderIdentity": "a",
        "leaseDurationSeconds": 15,
        "acquireTime": now,
        "renewTime": now,
        "leaseTransitions": 0,
    }
    assert now.endswith(".000000Z")


async def test_leader_renews_keeping_acquire_time(
    pair: tuple[FakeApi, FakeClock, Candidate, Candidate],
) -> None:
    fake, clock, _a, b = pair
    acquired = lease(fake)["acquireTime"]
    await advance(clock, 60)
    spec = lease(fake)
    assert spec["holderIdentity"] == "a"
    assert spec["acquireTime"] == acquired
    assert spec["renewTime"] > acquired
    assert spec["leaseTransitions"] == 0
    assert b.started == 0  # never took over while the leader renewed


async def test_partitioned_leader_steps_down_and_other_takes_over(
    pair: tuple[FakeApi, FakeClock, Candidate, Candidate],
) -> None:
    fake, clock, a, b = pair
    first_acquired = lease(fake)["acquireTime"]
    a.transport.broken = True
    # Renewals fail; after renew_deadline (10 s) the leader steps down.
    await advance(clock, 9)
    assert a.stopped == 0
    await advance(clock, 4)
    assert a.stopped == 1 and a.leading_cancelled
    assert a.task is not None and a.task.done()
    assert b.started == 0  # 15 s lease not yet expired from b's point of view
    await advance(clock, 10)
    assert b.started == 1 and b.elector.is_leader
    spec = lease(fake)
    assert spec["holderIdentity"] == "b"
    assert spec["leaseTransitions"] == 1
    assert spec["renewTime"] >= spec["acquireTime"] > first_acquired


async def test_takeover_waits_for_lease_duration_on_own_clock(
    pair: tuple[FakeApi, FakeClock, Candidate, Candidate],
) -> None:
    fake, clock, a, b = pair
    assert a.task is not None
    a.task.cancel()  # a dies without releasing: b must wait for the lease to expire
    await asyncio.gather(a.task, return_exceptions=True)
    assert a.stopped == 1
    await advance(clock, 12)
    assert b.started == 0
    await advance(clock, 10)
    assert b.started == 1
    assert lease(fake)["holderIdentity"] == "b"


async def test_release_on_cancel_lets_successor_in_at_once() -> None:
    fake, clock = FakeApi(), FakeClock()
    a = Candidate(fake, clock, "a", release_on_cancel=True)
    b = Candidate(fake, clock, "b")
    a.start()
    await settle(20)
    b.start()
    await settle(20)
    assert a.task is not None and b.task is not None
    a.task.cancel()
    await asyncio.gather(a.task, return_exceptions=True)
    assert lease(fake)["holderIdentity"] == ""
    assert lease(fake)["leaseDurationSeconds"] == 1
    await advance(clock, 5)
    assert b.started == 1
    b.task.cancel()
    await asyncio.gather(b.task, return_exceptions=True)


async def test_conflicting_write_loses() -> None:
    # Two candidates racing for an expired lease: compare-and-swap lets exactly one win.
    fake, clock = FakeApi(), FakeClock()
    fake.put_object(
        "leases",
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "kube-controller-manager", "namespace": "kube-system"},
            "spec": {"holderIdentity": "", "leaseDurationSeconds": 15, "leaseTransitions": 3},
        },
    )
    a = Candidate(fake, clock, "a")
    b = Candidate(fake, clock, "b")
    results = await asyncio.gather(a.elector.try_acquire_or_renew(), b.elector.try_acquire_or_renew())
    assert sorted(results) == [False, True]
    assert lease(fake)["leaseTransitions"] == 4


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        # upstream NewLeaderElector checks, in order
        ({"lease_duration": 10, "renew_deadline": 10}, "leaseDuration must be greater than renewDeadline"),
        (
            {"renew_deadline": 2.4, "retry_period": 2},
            "renewDeadline must be greater than retryPeriod*JitterFactor",
        ),
        (
            {"lease_duration": 0, "renew_deadline": -1, "retry_period": -1},
            "leaseDuration must be greater than zero",
        ),
        ({"identity": ""}, "Lock identity is empty"),
    ],
)
def test_config_validation(kw: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"lease_name": "x", "identity": "me", **kw}
    with pytest.raises(ValueError, match=message.replace("*", r"\*")):
        leaderelection.LeaderElector(ApiClient(FakeApi()), **args)
