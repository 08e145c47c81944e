"""kubeds.bench.proc: percentiles, verdict words, child processes and /proc sampling."""

from __future__ import annotations

import os
import sys

import pytest

from kubeds.bench import proc

SLEEPER = "import sys, time; print({line!r}, flush=True); time.sleep(60)"


@pytest.mark.parametrize(
    ("values", "p", "want"),
    [
        ([], 50, 0.0),
        ([7.0], 99, 7.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 3.0),  # index round(1.5) = 2 (banker's rounding)
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 99, 10.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0, 1.0),
        ([5.0, 1.0], 100, 5.0),
    ],
)
def test_pct_nearest_rank(values: list[float], p: float, want: float) -> None:
    assert proc.pct(values, p) == want


def test_verdict_words() -> None:
    assert (proc.verdict(True), proc.verdict(False)) == ("meets target", "BELOW TARGET")


async def test_ready_line_then_stop() -> None:
    child = proc.start_process([sys.executable, "-c", SLEEPER.format(line="kubeds ready: yes")])
    assert await proc.ready_line(child, "kubeds ready:") == "kubeds ready: yes\n"
    assert proc.cpu_seconds(child.pid) >= 0 and proc.rss_mb(child.pid) > 1
    await proc.stop_process(child, timeout=10)
    assert child.returncode is not None and child.stdout is not None and child.stdout.closed


@pytest.mark.parametrize(
    ("message", "want"),
    [
        (proc.PROCESS_DID_NOT_START, "process did not start: expected 'kubeds ready:', got 'boom\\n'"),
        (proc.UP_DID_NOT_START, "kubeds up did not start: 'boom\\n'"),
    ],
)
async def test_ready_line_mismatch_messages(message: str, want: str) -> None:
    child = proc.start_process([sys.executable, "-c", SLEEPER.format(line="boom")])
    try:
        with pytest.raises(RuntimeError) as info:
            await proc.ready_line(child, "kubeds ready:", message=message)
        assert str(info.value) == want
    finally:
        await proc.stop_process(child, timeout=10)


async def test_sample_processes_reports_each_window() -> None:
    samples = await proc.sample_processes({"me": os.getpid()}, window=0.05, windows=3)
    me = samples["me"]
    assert len(me.cpu_windows) == 3 and len(me.rss_windows) == 3
    assert me.rss_mb > 10 and 0 <= me.cpu_share < 2
    assert min(me.rss_windows) - 0.1 <= me.rss_mb <= max(me.rss_windows) + 0.1
