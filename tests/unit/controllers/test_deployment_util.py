"""Table tests for the Deployment arithmetic, ported from upstream unit tests.

Sources: ``pkg/controller/deployment/util/deployment_util_test.go`` (``TestResolveFenceposts``,
``TestNewRSNewReplicas``, ``TestDeploymentComplete``, ``TestDeploymentProgressing``,
``TestMaxUnavailable``, ``TestAnnotationUtils``, ``TestEqualIgnoreHash``) and kubectl's
``polymorphichelpers/rollout_status_test.go`` (``TestDeploymentStatusViewerStatus``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from kubeds.controllers.deployment import util
from kubeds.models.intstr import IntStrError

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def deployment(
    replicas: int,
    *,
    strategy: str = "RollingUpdate",
    surge: int | str = 1,
    unavailable: int | str = 1,
    **status: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": replicas, "strategy": {"type": strategy}}
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "foo", "generation": 1}, "spec": spec, "status": status}


def rs(replicas: int, **annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": "rs", "annotations": dict(annotations)}, "spec": {"replicas": replicas}}


@pytest.mark.parametrize(
    ("surge", "unavailable", "desired", "expected"),
    [
        ("0%", "0%", 0, (0, 1)),
        ("39%", "39%", 10, (4, 3)),
        (None, "39%", 10, (0, 3)),
        ("39%", None, 10, (4, 0)),
        (None, None, 10, (0, 1)),
    ],
)
def test_resolve_fenceposts(
    surge: str | None, unavailable: str | None, desired: int, expected: tuple[int, int]
) -> None:
    assert util.resolve_fenceposts(surge, unavailable, desired) == expected


@pytest.mark.parametrize(("surge", "unavailable"), [("oops", "39%"), ("55%", "urg")])
def test_resolve_fenceposts_errors(surge: str, unavailable: str) -> None:
    with pytest.raises(IntStrError):
        util.resolve_fenceposts(surge, unavailable, 10)


@pytest.mark.parametrize(
    ("strategy", "dep_replicas", "new_rs_replicas", "surge", "expected"),
    [
        pytest.param("RollingUpdate", 1, 5, 1, 5, id="can not scale up - to newRSReplicas"),
        pytest.param("RollingUpdate", 6, 2, 10, 6, id="scale up - to depReplicas"),
        pytest.param("Recreate", 3, 1, 1, 3, id="recreate - to depReplicas"),
    ],
)
def test_new_rs_new_replicas(
    strategy: str, dep_replicas: int, new_rs_replicas: int, surge: int, expected: int
) -> None:
    d = deployment(dep_replicas, strategy=strategy, surge=surge)
    assert util.new_rs_new_replicas(d, [rs(5)], rs(new_rs_replicas)) == expected


@pytest.mark.parametrize(
    ("desired", "current", "updated", "available", "max_unavailable", "max_surge", "expected"),
    [
        pytest.param(5, 5, 5, 4, 1, 0, False, id="not complete: min but not all pods become available"),
        pytest.param(5, 5, 5, 3, 1, 0, False, id="not complete: min availability is not honored"),
        pytest.param(5, 5, 5, 5, 0, 0, True, id="complete"),
        pytest.param(5, 5, 4, 5, 0, 0, False, id="not complete: all pods are available but not updated"),
        pytest.param(1, 2, 1, 1, 0, 1, False, id="not complete: still running old pods"),
        pytest.param(1, 1, 1, 0, 1, 1, False, id="not complete: one replica deployment never comes up"),
    ],
)
def test_deployment_complete(
    desired: int,
    current: int,
    updated: int,
    available: int,
    max_unavailable: int,
    max_surge: int,
    expected: bool,
) -> None:
    d = deployment(desired, surge=max_surge, unavailable=max_unavailable)
    d["metadata"]["generation"] = 0
    status = {"replicas": current, "updatedReplicas": updated, "availableReplicas": available}
    assert util.deployment_complete(d, status) is expected


def _counts(current: int, updated: int, ready: int, available: int) -> dict[str, int]:
    return {
        "replicas": current,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": available,
    }


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param((10, 4, 4, 4), (10, 6, 4, 4), True, id="progressing: updated pods"),
        pytest.param((10, 4, 4, 4), (10, 4, 4, 4), False, id="not progressing: no changes"),
        pytest.param((10, 4, 6, 6), (8, 4, 6, 6), True, id="progressing: old pods removed"),
        pytest.param((10, 7, 3, 3), (10, 6, 3, 3), False, id="not progressing: less new pods"),
        pytest.param((10, 4, 7, 7), (8, 8, 5, 5), True, id="progressing: less overall but more new pods"),
        pytest.param((10, 10, 9, 8), (10, 10, 10, 8), True, id="progressing: more ready pods"),
        pytest.param((10, 10, 10, 9), (10, 10, 10, 10), True, id="progressing: more available pods"),
    ],
)
def test_deployment_progressing(old: tuple[int, ...], new: tuple[int, ...], expected: bool) -> None:
    d = {"metadata": {"name": "foo"}, "spec": {}, "status": _counts(*old)}
    assert util.deployment_progressing(d, _counts(*new)) is expected


@pytest.mark.parametrize(
    ("replicas", "unavailable", "strategy", "expected"),
    [
        pytest.param(10, 0, "RollingUpdate", 0, id="maxUnavailable less than replicas"),
        pytest.param(10, 5, "RollingUpdate", 5, id="maxUnavailable less than replicas (5)"),
        pytest.param(5, 10, "RollingUpdate", 5, id="maxUnavailable greater than replicas"),
        pytest.param(0, 10, "RollingUpdate", 0, id="zero replicas"),
        pytest.param(10, "20%", "RollingUpdate", 2, id="percentage"),
        pytest.param(10, 5, "Recreate", 0, id="recreate"),
    ],
)
def test_max_unavailable(replicas: int, unavailable: int | str, strategy: str, expected: int) -> None:
    assert (
        util.max_unavailable(deployment(replicas, strategy=strategy, surge=1, unavailable=unavailable))
        == expected
    )


def test_timed_out_after_the_progress_deadline() -> None:
    d = deployment(1)
    d["spec"]["progressDeadlineSeconds"] = 600
    cond = util.new_condition("Progressing", "True", "ReplicaSetUpdated", "", now=NOW)
    status = {"conditions": [cond]}
    assert not util.deployment_timed_out(d, status, now=NOW + dt.timedelta(seconds=600))
    assert util.deployment_timed_out(d, status, now=NOW + dt.timedelta(seconds=601))


def test_new_replica_set_annotations_track_revisions() -> None:
    """``TestAnnotationUtils``: the revision only grows; a re-used ReplicaSet keeps its history."""
    d = deployment(3)
    d["metadata"]["annotations"] = {
        "team": "a",
        util.REVISION_ANNOTATION: "9",
        util.LAST_APPLIED_ANNOTATION: "{}",
    }
    new_rs: dict[str, Any] = {"metadata": {"name": "rs"}, "spec": {"replicas": 0}}
    assert util.set_new_replica_set_annotations(d, new_rs, "1", exists=False)
    annotations = new_rs["metadata"]["annotations"]
    assert annotations == {
        "team": "a",
        util.REVISION_ANNOTATION: "1",
        util.DESIRED_REPLICAS_ANNOTATION: "3",
        util.MAX_REPLICAS_ANNOTATION: "4",
    }
    assert not util.set_new_replica_set_annotations(d, new_rs, "1", exists=True)
    assert util.set_new_replica_set_annotations(d, new_rs, "3", exists=True)
    assert (
        annotations[util.REVISION_ANNOTATION] == "3" and annotations[util.REVISION_HISTORY_ANNOTATION] == "1"
    )
    assert util.set_new_replica_set_annotations(d, new_rs, "5", exists=True)
    assert annotations[util.REVISION_HISTORY_ANNOTATION] == "1,3"


def test_equal_ignore_hash() -> None:
    base = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "x"}]}}
    hashed = {
        "metadata": {"labels": {"app": "a", "pod-template-hash": "h"}, "creationTimestamp": None},
        "spec": base["spec"],
    }
    other = {"metadata": {"labels": {"app": "b"}}, "spec": base["spec"]}
    assert util.equal_ignore_hash(base, hashed)
    assert not util.equal_ignore_hash(base, other)


def test_find_active_or_latest() -> None:
    old_a, old_b, new = rs(0), rs(2), rs(0)
    assert util.find_active_or_latest(new, [old_a, old_b]) is old_b
    assert util.find_active_or_latest(new, [old_a]) is new
    assert util.find_active_or_latest(rs(1), [old_b]) is None


@pytest.mark.parametrize(
    ("generation", "replicas", "status", "message", "done"),
    [
        pytest.param(
            0,
            1,
            (1, 1, 0, 1),
            'Waiting for deployment "foo" rollout to finish: 0 out of 1 new replicas have been updated...\n',
            False,
            id="test1",
        ),
        pytest.param(
            1,
            1,
            (1, 2, 1, 2),
            'Waiting for deployment "foo" rollout to finish: 1 old replicas are pending termination...\n',
            False,
            id="test2",
        ),
        pytest.param(
            1,
            2,
            (1, 2, 2, 1),
            'Waiting for deployment "foo" rollout to finish: 1 of 2 updated replicas are available...\n',
            False,
            id="test3",
        ),
        pytest.param(1, 2, (1, 2, 2, 2), 'deployment "foo" successfully rolled out\n', True, id="test4"),
        pytest.param(
            2, 2, (1, 2, 2, 2), "Waiting for deployment spec update to be observed...\n", False, id="test5"
        ),
    ],
)
def test_rollout_status(
    generation: int, replicas: int, status: tuple[int, ...], message: str, done: bool
) -> None:
    observed, total, updated, available = status
    d = {
        "metadata": {"name": "foo", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "replicas": total,
            "updatedReplicas": updated,
            "availableReplicas": available,
        },
    }
    assert util.rollout_status(d) == (message, done)


def test_rollout_status_deadline_exceeded() -> None:
    d = deployment(1, observedGeneration=1)
    d["status"]["conditions"] = [
        util.new_condition("Progressing", "False", "ProgressDeadlineExceeded", "", now=NOW)
    ]
    with pytest.raises(ValueError, match='deployment "foo" exceeded its progress deadline'):
        util.rollout_status(d)
