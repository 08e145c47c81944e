"""The API benchmark runs end to end against a real kubeds up and reports every number (not a timing test)."""

from __future__ import annotations

from kubeds.bench import api


async def test_api_bench_reports_latencies_and_list() -> None:
    steps: list[str] = []
    result = await api.run(rate=50, duration=1.0, clients=4, pods=100, repeats=1, progress=steps.append)
    assert result.errors == 0
    assert set(result.latency_ms) == {"create", "get", "patch", "list"}
    assert all(v["count"] > 0 and v["p99"] >= v["p50"] > 0 for v in result.latency_ms.values())
    assert result.list_pods_ms > 0 and result.list_pods_table_ms > 0
    assert "worst p99" in result.render() and any("open-loop" in s for s in steps)
