"""``kubeds bench drain``: kubectl's -v=6 log parsing, the report, and the CLI registration."""

from __future__ import annotations

import datetime as dt

from kubeds.bench import drain
from kubeds.cli import bench as bench_cli

# Lines as kubectl 1.32 and 1.33 print them with -v=6 (recorded against kubeds).
LOG_132 = """\
I1126 15:43:25.700000   18895 round_trippers.go:560] GET https://127.0.0.1:45197/api/v1 200 OK in 1 milliseconds
I1126 15:43:25.813215   18895 round_trippers.go:560] POST https://127.0.0.1:45197/api/v1/namespaces/default/pods/w-1/eviction 201 Created in 2 milliseconds
I1126 15:43:26.013215   18895 round_trippers.go:560] POST https://127.0.0.1:45197/api/v1/namespaces/default/pods/w-2/eviction 429 Too Many Requests in 7 milliseconds
"""
LOG_133 = """\
I1126 15:14:10.783473   21351 round_trippers.go:632] "Response" verb="POST" url="https://127.0.0.1:40711/api/v1/namespaces/default/pods/web-a/eviction" status="201 Created" milliseconds=3
I1126 15:14:10.900000   21351 round_trippers.go:632] "Response" verb="GET" url="https://127.0.0.1:40711/api/v1/namespaces/default/pods/web-a" status="404 Not Found" milliseconds=1
I1126 15:14:12.983473   21351 round_trippers.go:632] "Response" verb="POST" url="https://127.0.0.1:40711/api/v1/namespaces/default/pods/web-b/eviction" status="201 Created" milliseconds=40
"""


def test_eviction_answers_of_both_log_formats() -> None:
    old = drain.eviction_answers(LOG_132)
    assert [ms for _, ms in old] == [2.0, 7.0]
    assert old[1][0] - old[0][0] == dt.timedelta(milliseconds=200)
    new = drain.eviction_answers(LOG_133)
    assert [ms for _, ms in new] == [3.0, 40.0]
    assert new[1][0] - new[0][0] == dt.timedelta(seconds=2.2)
    assert drain.eviction_answers("evicting pod default/x\npod/x evicted\n") == []


def _result(evictions: float, delete: float) -> drain.DrainBenchResult:
    return drain.DrainBenchResult(
        nodes=1000,
        drain_pods=100,
        delete_pods=5000,
        repeats=3,
        evictions_s=evictions,
        drain_s=evictions + 1,
        floor_delete_s=0.5,
        rescheduled_s=2.0,
        eviction_ms_p50=40,
        eviction_ms_p99=60,
        delete_s=delete,
        delete_setup_s=100,
        kubectl=drain.KubectlDrain("v1.33.1", 19.8, 18.0, 3, 50, 18.0),
    )


def test_render_states_targets_and_ratio() -> None:
    good = _result(1.0, 8.0)
    text = good.render()
    assert "2.00x floor (target <= 2 s: meets target)" in text
    assert "delete a 5000-pod DaemonSet to zero pods" in text and "(target <= 10 s: meets target)" in text
    assert "real kubectl v1.33.1 drain" in text and ">= 18 s" in text
    bad = _result(2.5, 12.0).render()
    assert bad.count("BELOW TARGET") == 2
    d = good.as_dict()
    assert d["ratio_evictions_to_floor"] == 2.0 and "targets" in d


def test_drain_is_a_registered_scenario() -> None:
    assert "drain" in bench_cli.SCENARIOS
