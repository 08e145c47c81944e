"""The sqlite-vs-etcd storage benchmark runs end to end against a real etcd (not a timing test)."""

from __future__ import annotations

from etcd_server import EtcdMember

from kubeds.bench import storage


async def test_compare_reports_every_metric_for_both_backends(etcd_server: EtcdMember) -> None:
    steps: list[str] = []
    result = await storage.run_compare(
        etcd_endpoints=[etcd_server.client_url], repeats=1, scale=0.02, progress=steps.append
    )
    keys = [k for k, _, _ in storage.COMPARE_METRICS]
    for backend in ("sqlite", "etcd"):
        assert sorted(result.medians[backend]) == sorted(keys)
        assert all(v > 0 for v in result.medians[backend].values())
    d = result.as_dict()
    assert sorted(d["slowdown"]) == sorted(keys)  # type: ignore[call-overload]
    text = result.render()
    assert etcd_server.client_url in text
    assert all(label in text for _, label, _ in storage.COMPARE_METRICS)
    assert text.count("x\n") == len(keys)
    assert steps == ["sqlite: 1 runs", "etcd: 1 runs"]
