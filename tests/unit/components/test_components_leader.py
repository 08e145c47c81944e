"""Active/standby component runs (kubeds.components.leader) against the real API server pipeline
(APIServer on a MemoryBackend, in process) with a FakeClock.

Behaviour checked is upstream's use of client-go leader election in kube-controller-manager and
kube-scheduler: only the Lease holder runs; SIGTERM stops and releases the Lease so a standby takes
over at its next retry; a leader cut off from the API steps down after the renew deadline and the
process exits 1 with "leaderelection lost"; flags and defaults as
component-base/config/options/leaderelectionconfig.go.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubeds import wire
from kubeds.apiserver.handler import APIServer
from kubeds.client import errors
from kubeds.client.api import ApiClient
from kubeds.client.transport import InProcessTransport
from kubeds.clock import FakeClock
from kubeds.components import leader
from kubeds.machinery import leaderelection
from kubeds.storage.memory import MemoryBackend

LEASE = "kube-controller-manager"


class SwitchableTransport:
    """The in-process API until ``broken`` is set (the component's API server is gone)."""

    def __init__(self, inner: InProcessTransport) -> None:
        self.inner = inner
        self.broken = False

    async def request(self, req: wire.Request) -> wire.Response:
        if self.broken:
            await asyncio.sleep(0)
            raise errors.TransportError("connection refused")
        return await self.inner.request(req)

    async def close(self) -> None:
        return None


async def settle(rounds: int = 300) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def advance(clock: FakeClock, seconds: float, step: float = 0.25) -> None:
    for _ in range(round(seconds / step)):
        clock.advance(step)
        await settle(30)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def server(clock: FakeClock) -> AsyncIterator[APIServer]:
    backend = MemoryBackend()
    await backend.start()
    s = APIServer(backend, clock=clock)
    await s.start()
    yield s
    await s.close()
    await backend.close()


class Replica:
    """One component process: its transport, its stop event, whether its component runs."""

    def __init__(
        self, server: APIServer, clock: FakeClock, identity: str, options: leader.LeaderElectionOptions
    ) -> None:
        self.transport = SwitchableTransport(InProcessTransport(server.handle))
        self.api = ApiClient(self.transport, clock=clock)
        self.clock = clock
        self.identity = identity
        self.options = options
        self.stop = asyncio.Event()
        self.running = False
        self.runs = 0
        self.task: asyncio.Task[int] | None = None

    async def lead(self) -> None:
        self.running = True
        self.runs += 1
        try:
            await asyncio.Event().wait()
        finally:
            self.running = False

    def start(self) -> None:
        self.task = asyncio.create_task(
            leader.run_elected(
                self.api,
                self.lead,
                component="controller-manager",
                options=self.options,
                identity=self.identity,
                stop=self.stop,
                clock=self.clock,
            )
        )


OPTIONS = leader.LeaderElectionOptions(resource_name=LEASE)


async def lease(server: APIServer, clock: FakeClock) -> dict[str, Any]:
    api = ApiClient(InProcessTransport(server.handle), clock=clock)
    got = await api.resource("coordination.k8s.io/v1", "leases").get(LEASE, namespace="kube-system")
    spec: dict[str, Any] = got["spec"]
    return spec


async def test_only_the_holder_runs_and_a_stop_hands_over_at_the_next_retry(
    server: APIServer, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    a = Replica(server, clock, "host_a", OPTIONS)
    b = Replica(server, clock, "host_b", OPTIONS)
    a.start()
    await settle()
    b.start()
    await advance(clock, 5)
    assert a.running and not b.running
    assert (await lease(server, clock))["holderIdentity"] == "host_a"

    a.stop.set()
    await settle()
    assert a.task is not None and await a.task == 0
    assert not a.running
    released = await lease(server, clock)
    assert released["holderIdentity"] == "" and released["leaseDurationSeconds"] == 1
    # The released Lease is taken at the standby's next attempt (retry 2 s + up to 120 % jitter),
    # not after the 15 s lease duration.
    await advance(clock, 2 * (1 + leaderelection.JITTER_FACTOR) + 0.5)
    assert b.running
    spec = await lease(server, clock)
    assert spec["holderIdentity"] == "host_b"
    assert spec["leaseTransitions"] == 1
    err = capsys.readouterr().err
    assert "kubeds controller-manager: Requested to terminate, exiting" in err
    assert "successfully acquired lease kube-system/kube-controller-manager: host_a is leading" in err
    b.stop.set()
    assert b.task is not None and await b.task == 0


async def test_a_leader_cut_off_steps_down_and_exits_1_and_the_standby_takes_over(
    server: APIServer, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    a = Replica(server, clock, "host_a", OPTIONS)
    b = Replica(server, clock, "host_b", OPTIONS)
    a.start()
    await settle()
    b.start()
    await advance(clock, 3)
    assert a.running

    a.transport.broken = True
    # Renewals fail; after the 10 s renew deadline the leader stops leading and the process ends.
    await advance(clock, 11)
    assert a.task is not None and a.task.done() and a.task.result() == 1
    assert not a.running
    assert "kubeds controller-manager: leaderelection lost" in capsys.readouterr().err
    # The standby waits until the record it last saw change is 15 s old, then takes over.
    assert not b.running
    await advance(clock, 15 + 2 * (1 + leaderelection.JITTER_FACTOR))
    assert b.running
    assert (await lease(server, clock))["holderIdentity"] == "host_b"
    b.stop.set()
    assert b.task is not None and await b.task == 0


async def test_without_election_the_component_runs_at_once_and_no_lease_is_written(
    server: APIServer, clock: FakeClock
) -> None:
    a = Replica(server, clock, "host_a", leader.LeaderElectionOptions(enabled=False, resource_name=LEASE))
    a.start()
    await settle()
    assert a.running
    a.stop.set()
    assert a.task is not None and await a.task == 0
    assert not a.running
    with pytest.raises(errors.NotFound):
        await lease(server, clock)


async def test_a_component_that_ends_on_its_own_ends_the_process_with_1(
    server: APIServer, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    api = ApiClient(InProcessTransport(server.handle), clock=clock)

    async def crash() -> None:
        raise RuntimeError("informer exploded")

    code = await leader.run_elected(
        api,
        crash,
        component="scheduler",
        options=OPTIONS,
        identity="host_a",
        stop=asyncio.Event(),
        clock=clock,
    )
    assert code == 1
    assert "kubeds scheduler: scheduler stopped on its own: informer exploded" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("lease_duration", "renew_deadline", "retry_period", "message"),
    [
        (10.0, 10.0, 2.0, leaderelection.ERR_DURATION),
        (15.0, 2.0, 2.0, leaderelection.ERR_RENEW_DEADLINE),
    ],
)
async def test_durations_upstream_refuses_are_refused(
    server: APIServer,
    clock: FakeClock,
    lease_duration: float,
    renew_deadline: float,
    retry_period: float,
    message: str,
) -> None:
    options = leader.LeaderElectionOptions(
        lease_duration=lease_duration,
        renew_deadline=renew_deadline,
        retry_period=retry_period,
        resource_name=LEASE,
    )
    api = ApiClient(InProcessTransport(server.handle), clock=clock)

    async def never() -> None:
        raise AssertionError("must not run")

    with pytest.raises(ValueError) as info:
        await leader.run_elected(
            api,
            never,
            component="scheduler",
            options=options,
            identity="x",
            stop=asyncio.Event(),
            clock=clock,
        )
    assert str(info.value) == message


def parse(*argv: str) -> leader.LeaderElectionOptions:
    p = argparse.ArgumentParser()
    leader.add_leader_election_flags(p, resource_name="kube-scheduler")
    return leader.options_from_args(p.parse_args(list(argv)))


def test_flags_default_to_upstream() -> None:
    assert parse() == leader.LeaderElectionOptions(
        enabled=True,
        lease_duration=15.0,
        renew_deadline=10.0,
        retry_period=2.0,
        resource_name="kube-scheduler",
        resource_namespace="kube-system",
    )


@pytest.mark.parametrize(
    ("argv", "field", "value"),
    [
        (["--leader-elect=false"], "enabled", False),
        (["--leader-elect"], "enabled", True),
        (["--leader-elect", "f"], "enabled", False),
        (["--leader-elect-lease-duration", "3s"], "lease_duration", 3.0),
        (["--leader-elect-renew-deadline=2s"], "renew_deadline", 2.0),
        (["--leader-elect-retry-period", "500ms"], "retry_period", 0.5),
        (["--leader-elect-resource-name", "mine"], "resource_name", "mine"),
        (["--leader-elect-resource-namespace", "ops"], "resource_namespace", "ops"),
    ],
)
def test_flags(argv: list[str], field: str, value: object) -> None:
    assert getattr(parse(*argv), field) == value


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--leader-elect=maybe"], "invalid boolean value 'maybe' for --leader-elect: want true or false"),
        (["--leader-elect-retry-period", "2x"], 'time: unknown unit "x" in duration "2x"'),
    ],
)
def test_bad_flags_are_usage_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parse(*argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_identity_is_hostname_underscore_uuid() -> None:
    one, two = leader.new_identity(hostname="cp-1"), leader.new_identity(hostname="cp-1")
    assert one.startswith("cp-1_") and len(one) == len("cp-1_") + 36
    assert one != two
