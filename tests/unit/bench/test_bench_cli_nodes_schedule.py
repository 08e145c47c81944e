"""``kubeds bench nodes`` and ``kubeds bench schedule`` are registered and pass their options on."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from kubeds.bench import nodes, proc, schedule
from kubeds.cli import bench


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="kubeds")
    bench.add_parser(parser.add_subparsers())
    return parser.parse_args(["bench", *argv])


def test_scenarios_are_registered() -> None:
    assert {"nodes", "schedule"} <= set(bench.SCENARIOS)
    assert _parse("nodes").scenario == "nodes"
    assert _parse("schedule", "--nodes", "10").nodes == 10


@pytest.mark.parametrize(
    ("argv", "want"),
    [
        # The scale when --nodes is not given; --scale stretches the sampling time.
        (("nodes",), {"nodes": 5000, "seconds": 60.0}),
        (("nodes", "--nodes", "300", "--scale", "0.5"), {"nodes": 300, "seconds": 30.0}),
        (("nodes", "--scale", "0.01"), {"nodes": 5000, "seconds": 10.0}),
    ],
)
def test_nodes_scenario_options(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: tuple[str, ...],
    want: dict[str, Any],
) -> None:
    seen: dict[str, Any] = {}
    sample = nodes.ProcessSample(cpu_share=0.05, rss_mb=120.0)

    async def fake_run(**kwargs: Any) -> nodes.NodesBenchResult:
        seen.update(kwargs)
        kwargs["progress"]("working")
        return nodes.NodesBenchResult(
            nodes=kwargs["nodes"],
            renew_interval_s=10,
            effective_interval_s=12.5,
            max_renew_rate=400,
            window_s=10,
            windows=6,
            storage="sqlite",
            setup_s=1,
            ready_s=2,
            fresh_leases=kwargs["nodes"],
            simulator=sample,
            plane=sample,
        )

    monkeypatch.setattr(nodes, "run", fake_run)
    assert bench.run(_parse(*argv)) == 0
    assert {k: seen[k] for k in want} == want
    out, err = capsys.readouterr()
    assert "... working" in err, "progress goes to stderr"
    assert f"nodes benchmark: {want['nodes']} idle simulated nodes" in out
    assert "target < 15 %: meets target" in out


def test_negative_nodes_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run(_parse("schedule", "--nodes", "-1")) == 2
    assert "--nodes must be >= 0" in capsys.readouterr().err


def test_schedule_scenario_runs_and_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.run(_parse("schedule", "--nodes", "20", "--repeats", "1", "--json")) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert (result["nodes"], result["pods"], result["repeats"]) == (20, 20, 1)
    assert result["pods_per_s"] > 0 and result["floor_pods_per_s"] > 0
    assert result["targets"] == {"pods_per_s": f">= {schedule.TARGET_PODS_PER_S:.0f}"}
    assert "run 1/1: scheduler (20 pods on 20 nodes)" in err


async def test_nodes_bench_plane_does_not_simulate_the_bench_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The plane runs without its in-process simulator: the separate simulator process is the only
    kubelet of the bench's nodes (else every node renews twice and the plane pays for a simulator)."""
    started: list[list[str]] = []

    def fake_start(cmd: list[str]) -> Any:
        started.append(cmd)
        raise RuntimeError("stop before anything runs")

    monkeypatch.setattr(proc, "start_process", fake_start)
    with pytest.raises(RuntimeError, match="stop before"):
        await nodes.run(nodes=1)
    (plane_cmd,) = started
    assert plane_cmd[2:4] == ["kubeds", "up"]
    assert "--no-node-simulator" in plane_cmd
