"""The storage benchmark runs end to end and reports every number it promises (not a timing test)."""

from __future__ import annotations

import json
import subprocess
import sys

from kubeds.bench import storage


async def test_storage_bench_reports_every_measurement() -> None:
    steps: list[str] = []
    result = await storage.run(repeats=1, scale=0.05, progress=steps.append)
    for value in (
        result.floor_commits_per_s,
        result.single_writer_per_s,
        result.writers64_per_s,
        result.list_10k_current_ms,
        result.list_10k_past_ms,
        result.watch_events_per_s,
    ):
        assert value > 0
    assert any("floor" in s for s in steps) and any("watch" in s for s in steps)
    text = result.render()
    assert "x floor" in text and "group commit" in text


def test_kubeds_bench_storage_json_from_the_command_line() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kubeds", "bench", "storage", "--repeats", "1", "--scale", "0.05", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(out.stdout)
    assert data["targets"] == {"single_ratio": ">= 0.5", "writers64_ratio": ">= 3"}
    assert data["floor_commits_per_s"] > 0 and data["writers64_ratio"] > 0
    assert "..." in out.stderr  # progress goes to stderr, results to stdout
