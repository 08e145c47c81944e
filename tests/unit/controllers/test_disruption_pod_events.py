"""Which PDBs a pod event enqueues (``getPdbForPod`` over client-go's ``GetPodPodDisruptionBudgets``,
``staging/src/k8s.io/client-go/listers/policy/v1/poddisruptionbudget_expansion.go``): the PDBs of the
pod's namespace whose selector matches its labels (policy/v1: an empty selector matches every pod,
a null one none, an invalid one is skipped), the first by name when several match (with a Warning
``MultiplePodDisruptionBudgets`` on the pod), and that a pod event costs O(PDBs), never O(pods).
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeds.client.api import ApiClient
from kubeds.clock import FakeClock
from kubeds.controllers.disruption import DisruptionConfig, DisruptionController

NS = "default"


def _pdb(name: str, selector: dict[str, Any] | None, *, ns: str = NS, rv: str = "1") -> dict[str, Any]:
    spec: dict[str, Any] = {"minAvailable": 1}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": ns, "resourceVersion": rv},
        "spec": spec,
    }


def _pod(name: str, labels: dict[str, str] | None, *, ns: str = NS) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns}
    if labels is not None:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {}}


class Recorded:
    def __init__(self, ctl: DisruptionController) -> None:
        self.keys: list[str] = []
        self.events: list[tuple[str, str, str]] = []
        ctl.enqueue = self._enqueue  # type: ignore[method-assign]
        ctl.recorder.event = self._event  # type: ignore[method-assign]

    def _enqueue(self, key: str) -> None:
        self.keys.append(key)

    def _event(self, obj: Any, type: str, reason: str, message: str) -> None:
        self.events.append((type, reason, message))


def _controller(api: ApiClient, clock: FakeClock) -> tuple[DisruptionController, Recorded]:
    ctl = DisruptionController(api, DisruptionConfig(), clock=clock)
    return ctl, Recorded(ctl)


APP_WEB = {"matchLabels": {"app": "web"}}
TIER_FRONT = {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}
BAD = {"matchExpressions": [{"key": "app", "operator": "Foo", "values": ["web"]}]}


@pytest.mark.parametrize(
    ("pdbs", "labels", "enqueued", "warned"),
    [
        pytest.param([], {"app": "web"}, [], False, id="no-pdb-in-namespace"),
        pytest.param([_pdb("a", APP_WEB)], {"app": "web"}, ["default/a"], False, id="match-labels"),
        pytest.param([_pdb("a", APP_WEB)], {"app": "db"}, [], False, id="no-match"),
        pytest.param([_pdb("a", APP_WEB)], None, [], False, id="unlabelled-pod-specific-selector"),
        # policy/v1: "Unlike the v1beta version, here we let an empty selector match everything".
        pytest.param([_pdb("a", {})], None, ["default/a"], False, id="empty-selector-unlabelled-pod"),
        pytest.param([_pdb("a", {})], {"x": "y"}, ["default/a"], False, id="empty-selector-labelled-pod"),
        # LabelSelectorAsSelector(nil) is labels.Nothing().
        pytest.param([_pdb("a", None)], {"app": "web"}, [], False, id="null-selector-matches-nothing"),
        # An invalid selector is skipped ("invalid selector" warning in the log), the next one is used.
        pytest.param([_pdb("a", BAD), _pdb("b", APP_WEB)], {"app": "web"}, ["default/b"], False, id="bad"),
        pytest.param(
            [_pdb("b", TIER_FRONT), _pdb("a", APP_WEB)],
            {"app": "web", "tier": "front"},
            ["default/a"],
            True,
            id="several-first-by-name-and-warning",
        ),
        pytest.param(
            [_pdb("a", APP_WEB, ns="other")], {"app": "web"}, [], False, id="other-namespace-ignored"
        ),
    ],
)
async def test_pod_event_enqueues_the_matching_pdb(
    api: ApiClient,
    clock: FakeClock,
    pdbs: list[dict[str, Any]],
    labels: dict[str, str] | None,
    enqueued: list[str],
    warned: bool,
) -> None:
    ctl, rec = _controller(api, clock)
    for p in pdbs:
        ctl.pdb_informer.indexer.add(p)
    pod = _pod("p1", labels)
    ctl._pod_changed(pod)
    assert rec.keys == enqueued
    if warned:
        assert rec.events == [
            (
                "Warning",
                "MultiplePodDisruptionBudgets",
                'Pod "default"/"p1" matches multiple PodDisruptionBudgets.  Chose "a" arbitrarily.',
            )
        ]
    else:
        assert rec.events == []


async def test_a_pdb_selector_change_is_seen_and_a_deleted_pdb_forgotten(
    api: ApiClient, clock: FakeClock
) -> None:
    ctl, rec = _controller(api, clock)
    ctl.pdb_informer.indexer.add(_pdb("a", APP_WEB, rv="1"))
    ctl._pod_changed(_pod("p1", {"app": "db"}))
    assert rec.keys == []
    ctl.pdb_informer.indexer.add(_pdb("a", {"matchLabels": {"app": "db"}}, rv="2"))
    ctl._pod_changed(_pod("p1", {"app": "db"}))
    assert rec.keys == ["default/a"]
    deleted = _pdb("a", {"matchLabels": {"app": "db"}}, rv="2")
    ctl.pdb_informer.indexer.delete(deleted)
    ctl._pdb_deleted(deleted)
    assert rec.keys == ["default/a", "default/a"]
    ctl._pod_changed(_pod("p1", {"app": "db"}))
    assert rec.keys == ["default/a", "default/a"]
    assert ctl._selectors == {}


async def test_a_pod_event_never_lists_pods(api: ApiClient, clock: FakeClock) -> None:
    ctl, rec = _controller(api, clock)
    for i in range(50):
        ctl.pod_informer.indexer.add(_pod(f"p{i}", {"app": "web"}))
    listed: list[str] = []
    real_by_index = ctl.pod_informer.indexer.by_index

    def spy(name: str, value: str) -> list[dict[str, Any]]:
        listed.append(value)
        return real_by_index(name, value)

    ctl.pod_informer.indexer.by_index = spy  # type: ignore[method-assign]
    ctl._pod_changed(_pod("p1", {"app": "web"}))
    ctl.pdb_informer.indexer.add(_pdb("a", APP_WEB))
    for i in range(50):
        ctl._pod_changed(_pod(f"p{i}", {"app": "web"}))
    assert listed == []
    assert rec.keys == ["default/a"] * 50
