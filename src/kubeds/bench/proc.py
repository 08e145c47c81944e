"""Pieces every ``kubeds bench`` scenario that runs or watches a process shares.

* **child processes**: :func:`start_process` (stdout piped for the ready line, stderr dropped),
  :func:`ready_line` (the first stdout line must start with a prefix such as ``kubeds ready:``),
  :func:`stop_process` (SIGTERM, wait, then SIGKILL) and :func:`kubeds_up`, which does all three
  around a ``python -m kubeds up --port 0 ...`` plane for the benchmarks that measure over HTTPS;
* **process sampling** from ``/proc`` (Linux): :func:`cpu_seconds` (utime + stime, fields 14 and
  15 of ``/proc/<pid>/stat``, see proc(5)), :func:`rss_mb` (``VmRSS`` of ``/proc/<pid>/status``)
  and :func:`sample_processes`, which measures several processes over equal windows and keeps the
  medians in a :class:`ProcessSample`;
* **report pieces**: :func:`verdict` (the "meets target" / "BELOW TARGET" words of every report)
  and :func:`pct` (the nearest-rank percentile the reports print).

Nothing here prints: the scenarios render their own reports, whose text the docs quote.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "BELOW_TARGET",
    "MEETS_TARGET",
    "PROCESS_DID_NOT_START",
    "UP_DID_NOT_START",
    "ProcessSample",
    "cpu_seconds",
    "kubeds_up",
    "pct",
    "ready_line",
    "rss_mb",
    "sample_processes",
    "start_process",
    "stop_process",
    "verdict",
]

MEETS_TARGET = "meets target"
BELOW_TARGET = "BELOW TARGET"
KUBEDS_READY = "kubeds ready:"
# Formatted with the expected ``prefix`` and the ``line`` read (both as repr).
UP_DID_NOT_START = "kubeds up did not start: {line!r}"
PROCESS_DID_NOT_START = "process did not start: expected {prefix!r}, got {line!r}"


# ---- report pieces --------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return MEETS_TARGET if ok else BELOW_TARGET


def pct(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` by nearest rank (rounded index); 0.0 for no values."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * (len(s) - 1))))]


# ---- child processes ------------------------------------------------------------------------------


def start_process(cmd: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


async def ready_line(
    proc: subprocess.Popen[str], prefix: str, *, message: str = PROCESS_DID_NOT_START
) -> str:
    """The first stdout line of ``proc``; RuntimeError(``message``) unless it starts with ``prefix``."""
    assert proc.stdout is not None
    line = await asyncio.to_thread(proc.stdout.readline)
    if not line.startswith(prefix):
        raise RuntimeError(message.format(prefix=prefix, line=line))
    return line


async def stop_process(proc: subprocess.Popen[str], *, timeout: float) -> None:
    """SIGTERM, up to ``timeout`` s for it to exit, then SIGKILL; closes the piped stdout."""
    proc.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        await asyncio.to_thread(proc.wait, timeout)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


@contextlib.asynccontextmanager
async def kubeds_up(args: Sequence[str], *, stop_timeout: float) -> AsyncIterator[subprocess.Popen[str]]:
    """``python -m kubeds up --port 0 *args``, ready (its first line read), stopped on exit."""
    proc = start_process([sys.executable, "-m", "kubeds", "up", "--port", "0", *args])
    try:
        await ready_line(proc, KUBEDS_READY, message=UP_DID_NOT_START)
        yield proc
    finally:
        await stop_process(proc, timeout=stop_timeout)


# ---- /proc sampling -------------------------------------------------------------------------------


@dataclass
class ProcessSample:
    """Median CPU share (of one core) and RSS (MB) of one process over the sampled windows."""

    cpu_share: float
    rss_mb: float
    cpu_windows: list[float] = field(default_factory=list)
    rss_windows: list[float] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (fields 14 and 15 of /proc/<pid>/stat)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """VmRSS of ``pid`` in MB (0.0 for a process without one, e.g. a zombie)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def sample_processes(
    pids: Mapping[str, int], *, window: float, windows: int
) -> dict[str, ProcessSample]:
    """CPU share over each of ``windows`` windows of ``window`` s and RSS at each window's end, per name."""
    cpu: dict[str, list[float]] = {name: [] for name in pids}
    rss: dict[str, list[float]] = {name: [] for name in pids}
    for _ in range(windows):
        start_wall = time.monotonic()
        start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        await asyncio.sleep(window)
        wall = time.monotonic() - start_wall
        for name, pid in pids.items():
            cpu[name].append((cpu_seconds(pid) - start[name]) / wall)
            rss[name].append(rss_mb(pid))
    return {
        name: ProcessSample(
            cpu_share=statistics.median(cpu[name]),
            rss_mb=statistics.median(rss[name]),
            cpu_windows=[round(v, 4) for v in cpu[name]],
            rss_windows=[round(v, 1) for v in rss[name]],
        )
        for name in pids
    }
