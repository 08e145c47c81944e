"""apiserver_request_duration_seconds: Prometheus's cumulative buckets (le is "at most")."""

from __future__ import annotations

from kubeds.apiserver.metrics import DURATION_BUCKETS, Metrics


def _buckets(text: str) -> dict[str, int]:
    out = {}
    for line in text.splitlines():
        if line.startswith("apiserver_request_duration_seconds_bucket{"):
            labels, _, value = line.rpartition(" ")
            out[labels.split('le="')[1].rstrip('"}')] = int(value)
    return out


def test_buckets_are_cumulative_and_inf_counts_every_request() -> None:
    m = Metrics()
    for seconds in (0.001, 0.005, 0.03, 0.3, 100.0):  # 0.005 falls in le="0.005"; 100 only in +Inf
        m.observe(verb="GET", resource="pods", code=200, seconds=seconds)
    got = _buckets(m.render({}))
    assert got["0.005"] == 2
    assert got["0.025"] == 2
    assert got["0.05"] == 3
    assert got["0.2"] == 3
    assert got["0.4"] == 4
    assert got[f"{DURATION_BUCKETS[-1]:g}"] == 4
    assert got["+Inf"] == 5
    values = [got[f"{b:g}"] for b in DURATION_BUCKETS]
    assert values == sorted(values)
