"""Prometheus metrics of the API server, in the text exposition format.

Names and labels follow ``k8s.io/apiserver/pkg/endpoints/metrics/metrics.go``:
``apiserver_request_total{verb,resource,code}``, the ``apiserver_request_duration_seconds``
histogram (upstream's buckets), ``apiserver_current_inflight_requests`` and
``apiserver_storage_objects{resource}`` (``k8s.io/apiserver/pkg/storage/etcd3/metrics``).
"""

from __future__ import annotations

import bisect
from collections import defaultdict

__all__ = ["Metrics"]

DURATION_BUCKETS = (
    0.005,
    0.025,
    0.05,
    0.1,
    0.2,
    0.4,
    0.6,
    0.8,
    1.0,
    1.25,
    1.5,
    2.0,
    3.0,
    4.0,
    5.0,
    6.0,
    8.0,
    10.0,
    15.0,
    20.0,
    30.0,
    45.0,
    60.0,
)


def _labels(**labels: str) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels.items()
    )
    return "{" + inner + "}"


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self.durations: dict[tuple[str, str], list[int]] = {}
        self.duration_sums: dict[tuple[str, str], float] = defaultdict(float)
        self.duration_counts: dict[tuple[str, str], int] = defaultdict(int)
        self.inflight = {"readOnly": 0, "mutating": 0}

    def observe(self, *, verb: str, resource: str, code: int, seconds: float) -> None:
        self.requests[(verb, resource, str(code))] += 1
        key = (verb, resource)
        # Counted in the one bucket the duration falls in (past the last: in none, only the total);
        # render() adds them up into Prometheus's cumulative buckets.
        buckets = self.durations.setdefault(key, [0] * (len(DURATION_BUCKETS) + 1))
        buckets[bisect.bisect_left(DURATION_BUCKETS, seconds)] += 1
        self.duration_sums[key] += seconds
        self.duration_counts[key] += 1

    def render(self, storage_objects: dict[str, int]) -> str:
        out: list[str] = []
        out.append(
            "# HELP apiserver_request_total Counter of apiserver requests broken out for each verb, "
            "resource and HTTP response code."
        )
        out.append("# TYPE apiserver_request_total counter")
        for (verb, resource, code), n in sorted(self.requests.items()):
            out.append(f"apiserver_request_total{_labels(code=code, resource=resource, verb=verb)} {n}")
        out.append(
            "# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each "
            "verb and resource."
        )
        out.append("# TYPE apiserver_request_duration_seconds histogram")
        for (verb, resource), buckets in sorted(self.durations.items()):
            cumulative = 0
            for bound, n in zip(DURATION_BUCKETS, buckets, strict=False):
                cumulative += n
                lbl = _labels(resource=resource, verb=verb, le=f"{bound:g}")
                out.append(f"apiserver_request_duration_seconds_bucket{lbl} {cumulative}")
            total = self.duration_counts[(verb, resource)]
            lbl = _labels(resource=resource, verb=verb, le="+Inf")
            out.append(f"apiserver_request_duration_seconds_bucket{lbl} {total}")
            base = _labels(resource=resource, verb=verb)
            out.append(
                f"apiserver_request_duration_seconds_sum{base} {self.duration_sums[(verb, resource)]:.6f}"
            )
            out.append(f"apiserver_request_duration_seconds_count{base} {total}")
        out.append(
            "# HELP apiserver_current_inflight_requests Maximal number of currently used inflight request "
            "limit of this apiserver per request kind in last second."
        )
        out.append("# TYPE apiserver_current_inflight_requests gauge")
        for kind, n in sorted(self.inflight.items()):
            out.append(f"apiserver_current_inflight_requests{_labels(request_kind=kind)} {n}")
        out.append(
            "# HELP apiserver_storage_objects Number of stored objects at the time of last check split by "
            "kind."
        )
        out.append("# TYPE apiserver_storage_objects gauge")
        for resource, n in sorted(storage_objects.items()):
            out.append(f"apiserver_storage_objects{_labels(resource=resource)} {n}")
        return "\n".join(out) + "\n"
