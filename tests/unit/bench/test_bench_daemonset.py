"""``kubeds bench daemonset``: the watch bookkeeping that judges the rolling update's budget, and
the report. (The run itself starts a whole plane; it is exercised by ``kubeds bench daemonset``.)"""

from __future__ import annotations

from typing import Any

from kubeds.bench.daemonset import DaemonSetBenchResult, PodTracker

OLD, NEW = "img:1", "img:2"


def pod(name: str, node: str, image: str, *, ready: bool = True, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": "agent", "image": image}]},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def test_unavailable_nodes_follow_every_event() -> None:
    t = PodTracker(2)
    t.apply({"type": "ADDED", "object": pod("a", "n1", OLD)})
    t.apply({"type": "ADDED", "object": pod("b", "n2", OLD)})
    assert (t.available_nodes(), t.available_nodes(OLD), t.available_nodes(NEW)) == (2, 2, 0)
    t.max_unavailable = 0
    # n1's old pod terminates: one node unavailable until its new pod is Ready.
    t.apply({"type": "MODIFIED", "object": pod("a", "n1", OLD, deleting=True)})
    t.apply({"type": "ADDED", "object": pod("c", "n1", NEW, ready=False)})
    t.apply({"type": "DELETED", "object": pod("a", "n1", OLD, deleting=True)})
    assert t.available_nodes() == 1 and t.max_unavailable == 1
    t.apply({"type": "MODIFIED", "object": pod("c", "n1", NEW)})
    assert t.available_nodes(NEW) == 1 and t.live_with_other_image(NEW) == 1
    # Both nodes down at one moment: the tracker sees 2, even if it lasts one event.
    t.apply({"type": "MODIFIED", "object": pod("c", "n1", NEW, ready=False)})
    t.apply({"type": "MODIFIED", "object": pod("b", "n2", OLD, deleting=True)})
    t.apply({"type": "MODIFIED", "object": pod("c", "n1", NEW)})
    assert t.max_unavailable == 2
    assert t.live_with_other_image(NEW) == 0 and t.events == 9


def test_bookmarks_and_errors_are_not_moments() -> None:
    t = PodTracker(1)
    t.apply({"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "5"}}})
    assert t.events == 0 and t.max_unavailable == 0


def test_render_states_targets_and_budget() -> None:
    r = DaemonSetBenchResult(
        nodes=5000,
        storage="sqlite",
        setup_s=20.0,
        rollout_s=8.0,
        update_s=25.0,
        budget=500,
        max_unavailable_seen=501,
        peak_rss_mb=900.0,
        writes=100_000,
        floor_s=5.0,
        watch_events=60_000,
    )
    text = r.render()
    assert "target <= 10 s: meets target" in text
    assert "target <= 20 s: MISSES TARGET" in text
    assert "501 of budget 500: BUDGET EXCEEDED" in text
    assert "6.6x the floor" in text
    d = r.as_dict()
    assert d["budget_kept"] is False and d["rollout_pods_per_s"] == 625.0
