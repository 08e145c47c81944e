"""ControllerRevision history: hash, snapshot, construct/dedup, collisions, cleanup.

Ports the history parts of upstream ``update.go`` behaviour exercised by ``daemon_controller_test.go``
/ ``update_test.go`` (``TestControlledHistories``) and the ControllerRevision conformance pitfalls
(upstream-tests.md §D 1-3).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from daemonset_builders import SIMPLE_DS_LABEL, FakeCluster, add_nodes, new_daemonset, new_pod, rolling_update

from kubeds.controllers.daemonset import constants as c
from kubeds.controllers.daemonset.history import (
    _fnv32a,
    cleanup_history_candidates,
    compute_hash,
    construct_history,
    dedup_cur_histories,
    get_patch,
    live_pod_hashes,
    match,
    max_revision,
    resolve_snapshot_conflict,
    snapshot,
)
from kubeds.controllers.daemonset.pods import CLAIM_ADOPT, CLAIM_IGNORE, CLAIM_OWN, claim_action

HASH_LABEL = c.CONTROLLER_REVISION_HASH_LABEL
ALPHABET = set("bcdfghjklmnpqrstvwxz2456789")


@pytest.mark.parametrize(
    ("data", "want"),
    [
        pytest.param(b"", 0x811C9DC5, id="empty"),
        pytest.param(b"a", 0xE40C292C, id="a"),
        pytest.param(b"foobar", 0xBF9CF968, id="foobar"),
    ],
)
def test_fnv32a_vectors(data: bytes, want: int) -> None:
    # Standard FNV-1a 32-bit test vectors (Go hash/fnv New32a).
    assert _fnv32a(data) == want


def test_compute_hash_is_stable_and_safe_encoded() -> None:
    template = new_daemonset()["spec"]["template"]
    h = compute_hash(template, None)
    assert h == compute_hash(copy.deepcopy(template), None)
    assert 1 <= len(h) <= 10 and set(h) <= ALPHABET
    # Key order does not matter (canonical encoding).
    reordered = {"spec": template["spec"], "metadata": template["metadata"]}
    assert compute_hash(reordered, None) == h


def test_compute_hash_changes_with_template_and_collision_count() -> None:
    template = new_daemonset()["spec"]["template"]
    changed = copy.deepcopy(template)
    changed["spec"]["containers"][0]["image"] = "foo2/bar2"
    hashes = {
        compute_hash(template, None),
        compute_hash(changed, None),
        compute_hash(template, 0),  # nil and 0 differ: 0 still writes the 8 bytes
        compute_hash(template, 1),
    }
    assert len(hashes) == 4


def test_snapshot_and_match() -> None:
    ds = new_daemonset("foo")
    ds["metadata"]["annotations"] = {"kubernetes.io/change-cause": "v1"}
    cr = snapshot(ds, 3, "abc")
    assert cr["metadata"]["name"] == "foo-abc"
    assert cr["metadata"]["labels"] == {**SIMPLE_DS_LABEL, HASH_LABEL: "abc"}
    assert cr["metadata"]["annotations"] == {"kubernetes.io/change-cause": "v1"}
    assert cr["metadata"]["ownerReferences"][0]["uid"] == ds["metadata"]["uid"]
    assert cr["revision"] == 3
    assert cr["data"]["spec"]["template"]["$patch"] == "replace"
    assert "$patch" not in ds["spec"]["template"]
    assert match(ds, cr)
    # Changes outside the template make no new revision; changes inside do.
    ds["spec"]["updateStrategy"] = rolling_update(3)
    ds["spec"]["minReadySeconds"] = 5
    assert match(ds, cr)
    ds["spec"]["template"]["metadata"]["annotations"] = {"x": "y"}
    assert not match(ds, cr)


def _cr(
    ds: dict[str, Any], revision: int, *, image: str | None = None, hash_: str | None = None
) -> dict[str, Any]:
    source = copy.deepcopy(ds)
    if image:
        source["spec"]["template"]["spec"]["containers"][0]["image"] = image
    h = hash_ or compute_hash(source["spec"]["template"], None)
    return snapshot(source, revision, h)


def test_construct_history_creates_first_revision() -> None:
    ds = new_daemonset("foo")
    plan = construct_history(ds, [], [])
    assert plan.create is not None and plan.current is None
    assert plan.hash == compute_hash(ds["spec"]["template"], None)
    assert plan.create["revision"] == 1
    assert plan.create["metadata"]["name"] == f"foo-{plan.hash}"


def test_construct_history_new_template_gets_next_revision() -> None:
    ds = new_daemonset("foo")
    old = [_cr(ds, 1, image="a"), _cr(ds, 4, image="b")]
    plan = construct_history(ds, old, [])
    assert plan.create is not None and plan.create["revision"] == 5
    assert [h["revision"] for h in plan.old] == [1, 4]


def test_construct_history_rollback_reuses_and_renumbers() -> None:
    # §D3: the template equals an old revision again: no new revision, it becomes the highest.
    ds = new_daemonset("foo")
    current = _cr(ds, 1)
    newer = _cr(ds, 2, image="foo2/bar2")
    plan = construct_history(ds, [current, newer], [])
    assert plan.create is None
    assert plan.current is not None and plan.current["metadata"]["name"] == current["metadata"]["name"]
    assert plan.bump_revision == 3
    assert plan.hash == current["metadata"]["labels"][HASH_LABEL]


def test_construct_history_no_bump_when_already_highest() -> None:
    ds = new_daemonset("foo")
    plan = construct_history(ds, [_cr(ds, 1, image="a"), _cr(ds, 2)], [])
    assert plan.bump_revision is None and plan.create is None


def test_dedup_cur_histories() -> None:
    ds = new_daemonset("foo")
    first = _cr(ds, 1, hash_="aaa")
    second = _cr(ds, 2, hash_="bbb")
    pods = [new_pod("p-", "node-0", {**SIMPLE_DS_LABEL, HASH_LABEL: h}) for h in ("aaa", "bbb", "ccc")]
    keep, delete, relabel = dedup_cur_histories([second, first], pods)
    assert keep is second
    assert delete == [first["metadata"]["name"]]
    assert relabel == [pods[0]["metadata"]["name"], pods[2]["metadata"]["name"]]
    # Ties keep the later one; a single current revision relabels nothing.
    tie = _cr(ds, 2, hash_="ddd")
    assert dedup_cur_histories([second, tie], pods)[0] is tie
    assert dedup_cur_histories([first], pods) == (first, [], [])


def test_construct_history_labels_legacy_revisions() -> None:
    ds = new_daemonset("foo")
    legacy = _cr(ds, 1, image="old")
    del legacy["metadata"]["labels"][HASH_LABEL]
    plan = construct_history(ds, [legacy], [])
    assert plan.add_hash_label == [legacy["metadata"]["name"]]
    assert plan.old[0]["metadata"]["labels"][HASH_LABEL] == legacy["metadata"]["name"]
    assert HASH_LABEL not in legacy["metadata"]["labels"]  # input untouched


def test_controlled_histories() -> None:
    # TestControlledHistories: owned and same-namespace orphan CRs are claimed; other namespace is not.
    ds = new_daemonset("ds1")
    owned = _cr(ds, 1)
    orphan = copy.deepcopy(owned)
    orphan["metadata"]["ownerReferences"] = []
    orphan["metadata"]["name"] = "ds1-x2"
    other_ns = copy.deepcopy(orphan)
    other_ns["metadata"]["namespace"] = "default-other"
    assert [claim_action(ds, h) for h in (owned, orphan, other_ns)] == [CLAIM_OWN, CLAIM_ADOPT, CLAIM_IGNORE]


def test_hash_collision_bumps_collision_count() -> None:
    # §D2: a foreign revision already holds our name: bump collisionCount, then a new name results.
    ds = new_daemonset("foo")
    plan = construct_history(ds, [], [])
    assert plan.create is not None
    squatter = _cr(ds, 7, image="someone/else", hash_=plan.hash)
    assert squatter["metadata"]["name"] == plan.create["metadata"]["name"]
    decision = resolve_snapshot_conflict(ds, squatter, fresh_collision_count=None)
    assert (decision.action, decision.collision_count) == ("bump", 1)
    ds["status"] = {"collisionCount": 1}
    retry = construct_history(ds, [], [])
    assert retry.create is not None and retry.hash != plan.hash
    assert retry.hash == compute_hash(ds["spec"]["template"], 1)


def test_snapshot_conflict_outcomes() -> None:
    ds = new_daemonset("foo")
    ours = _cr(ds, 1)
    assert resolve_snapshot_conflict(ds, ours, fresh_collision_count=None).action == "use-existing"
    other = _cr(ds, 1, image="x")
    stale = resolve_snapshot_conflict(ds, other, fresh_collision_count=2)
    assert stale.action == "stale"
    assert stale.error == (
        'found a stale collision count (None, expected 2) of DaemonSet "foo" while processing; '
        "will retry until it is updated"
    )
    ds["status"] = {"collisionCount": 2}
    assert resolve_snapshot_conflict(ds, other, fresh_collision_count=2).collision_count == 3


def _old(ds: dict[str, Any], revisions: list[int]) -> list[dict[str, Any]]:
    return [_cr(ds, r, hash_=f"h{r}") for r in revisions]


@pytest.mark.parametrize(
    ("limit", "revisions", "live", "want"),
    [
        pytest.param(2, [1, 2, 3], set(), ["foo-h1"], id="one over the limit"),
        pytest.param(2, [3, 1, 4, 2, 5], set(), ["foo-h1", "foo-h2", "foo-h3"], id="oldest first"),
        pytest.param(2, [1, 2, 3, 4], {"h1"}, ["foo-h2", "foo-h3"], id="live revisions skipped"),
        pytest.param(1, [1, 2, 3], {"h1", "h2", "h3"}, [], id="all live: more than the limit remain"),
        pytest.param(0, [1, 2], set(), ["foo-h1", "foo-h2"], id="limit 0"),
        pytest.param(None, list(range(1, 12)), set(), ["foo-h1"], id="default limit 10"),
        pytest.param(5, [1, 2], set(), [], id="under the limit"),
    ],
)
def test_cleanup_history(limit: int | None, revisions: list[int], live: set[str], want: list[str]) -> None:
    ds = new_daemonset("foo")
    ds["spec"]["revisionHistoryLimit"] = limit
    assert cleanup_history_candidates(ds, _old(ds, revisions), live) == want


def test_max_revision_and_live_hashes() -> None:
    ds = new_daemonset("foo")
    assert max_revision([]) == 0
    assert max_revision(_old(ds, [3, 9, 2])) == 9
    pods = [
        new_pod("p-", "n", {HASH_LABEL: "a"}),
        new_pod("p-", "n", {HASH_LABEL: ""}),
        new_pod("p-", "n", {}),
    ]
    assert live_pod_hashes(pods) == {"a"}


def test_history_through_rolling_updates() -> None:
    # Template changes add revisions; old ones beyond revisionHistoryLimit (2) are pruned once no
    # pod carries them; a rollback reuses its revision.
    fc = FakeCluster(ds=new_daemonset("foo", strategy=rolling_update(5)))
    add_nodes(fc.nodes, 0, 2)
    images = ["v1", "v2", "v3", "v4"]
    for image in images:
        fc.ds["spec"]["template"]["spec"]["containers"][0]["image"] = image
        for _ in range(3):
            fc.clear_expectations()
            fc.sync()
            fc.mark_pods_ready()
    assert sorted(h["revision"] for h in fc.histories) == [2, 3, 4]
    fc.ds["spec"]["template"]["spec"]["containers"][0]["image"] = "v3"
    fc.sync()
    assert sorted(h["revision"] for h in fc.histories) == [2, 4, 5]
    assert get_patch(fc.ds) == next(h for h in fc.histories if h["revision"] == 5)["data"]
