"""The nodes benchmark runs end to end (a real kubeds up and a separate simulator process) and reports
both processes (not a timing test)."""

from __future__ import annotations

from kubeds.bench import nodes


async def test_nodes_bench_measures_both_processes() -> None:
    steps: list[str] = []
    result = await nodes.run(
        nodes=20, seconds=2, window=1, renew_interval=1, storage="memory", progress=steps.append
    )
    assert result.fresh_leases == 20
    assert result.windows == 2 and len(result.simulator.cpu_windows) == 2
    assert result.simulator.rss_mb > 10 and result.plane.rss_mb > 10
    # CPU is read in clock ticks (10 ms): 20 idle nodes may use less than one in a 1 s window.
    assert 0 <= result.simulator.cpu_share < 2 and 0 <= result.plane.cpu_share < 2
    assert sum(result.simulator.cpu_windows) + sum(result.plane.cpu_windows) > 0
    assert result.effective_interval_s == 1
    text = result.render()
    assert "simulator process" in text and "plane process" in text
    assert result.as_dict()["targets"] == {"simulator_cpu_share": "< 0.15", "simulator_rss_mb": "< 400"}
    assert any("Ready" in s for s in steps)
