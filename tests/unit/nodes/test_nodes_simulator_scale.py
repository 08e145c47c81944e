"""Heartbeats stay cheap: one PUT per lease renewal, status only every report interval, no task per node."""

from __future__ import annotations

import asyncio

from nodes_simfixtures import bare_node, environment, settle

from kubeds.nodes import templates
from kubeds.nodes.simulator import NodeSimulatorConfig

NODES = 200


async def test_200_nodes_renew_leases_with_bounded_api_calls() -> None:
    async with environment() as env:
        for i in range(NODES):
            await env.res("nodes").create(bare_node(f"n{i:03d}"))
        tasks_before = len(asyncio.all_tasks())
        await env.start(renew_interval=10, status_report_interval=300)
        await settle(2000)
        leases = await env.res("leases").list(namespace=templates.LEASE_NAMESPACE)
        assert len(leases["items"]) == NODES
        # One simulator for 200 nodes: its workers and a handful of tasks (informers, queue timer),
        # not one per node.
        assert len(asyncio.all_tasks()) - tasks_before < NodeSimulatorConfig().workers + 24 < NODES

        env.transport.calls.clear()
        await env.advance(60, step=0.5)
        calls = dict(env.transport.calls)
        puts = calls.pop(("PUT", "leases"), 0)
        # Every node renews every 10-10.4 s: 5 or 6 renewals each in 60 s, one PUT apiece.
        assert NODES * 5 <= puts <= NODES * 6, puts
        # Nothing else: no GET before a renewal, no node status post before the 5-minute report.
        assert calls == {}, calls

        env.transport.calls.clear()
        await env.advance(300, step=2)
        status_posts = env.transport.calls[("PATCH", "nodes/status")]
        assert NODES <= status_posts <= NODES * 2, status_posts


async def test_restarted_simulator_seeds_leases_from_one_list() -> None:
    async with environment() as env:
        for i in range(20):
            await env.res("nodes").create(bare_node(f"n{i:02d}"))
        first = await env.start()
        await settle(500)
        await first.stop()
        before = {
            item["metadata"]["name"]: item["spec"]["renewTime"]
            for item in (await env.res("leases").list(namespace=templates.LEASE_NAMESPACE))["items"]
        }
        env.transport.calls.clear()
        await env.start()
        await env.advance(10.2, step=0.5)
        assert env.transport.calls[("GET", "leases")] == 1  # the seeding LIST, no per-node GET
        assert env.transport.calls[("POST", "leases")] == 0
        # Spread over one interval (not all at once), and every lease renewed within it.
        assert 20 <= env.transport.calls[("PUT", "leases")] <= 24
        after = {
            item["metadata"]["name"]: item["spec"]["renewTime"]
            for item in (await env.res("leases").list(namespace=templates.LEASE_NAMESPACE))["items"]
        }
        assert all(after[name] > before[name] for name in before)
        assert len({t for t in after.values()}) > 5
