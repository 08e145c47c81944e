from __future__ import annotations

import pytest

from kubeds.apiserver.apply.conflict import ApplyConflict
from kubeds.apiserver.apply.managers import ManagerEntry

# Ported from k8s.io/apimachinery/pkg/util/managedfields/internal/conflict_test.go TestNewConflictError.
# Upstream's table feeds manager identifiers that still carry a time; real identifiers never do
# (BuildManagerIdentifier drops it), so the " at <time>" suffix is dropped here, as on the wire.
FOO = ManagerEntry("foo", "Update", "v1")
BAR = ManagerEntry("bar", "Apply", "v1")
FOO_SCALE = ManagerEntry("foo", "Update", "v1", subresource="scale")

CASES = [
    (
        [(FOO, ("f:spec", "f:replicas"))],
        'Apply failed with 1 conflict: conflict with "foo" using v1: .spec.replicas',
        [('conflict with "foo" using v1', ".spec.replicas")],
    ),
    (
        [(FOO, ("f:spec", "f:replicas")), (BAR, ("f:metadata", "f:labels", "f:app"))],
        'Apply failed with 2 conflicts: conflicts with "bar":\n- .metadata.labels.app\n'
        'conflicts with "foo" using v1:\n- .spec.replicas',
        [('conflict with "bar"', ".metadata.labels.app"), ('conflict with "foo" using v1', ".spec.replicas")],
    ),
    (
        [(FOO_SCALE, ("f:spec", "f:replicas"))],
        'Apply failed with 1 conflict: conflict with "foo" with subresource "scale" using v1: .spec.replicas',
        [('conflict with "foo" with subresource "scale" using v1', ".spec.replicas")],
    ),
]


@pytest.mark.parametrize(("conflicts", "message", "causes"), CASES)
def test_conflict_message_and_causes(
    conflicts: list[tuple[ManagerEntry, tuple[str, ...]]], message: str, causes: list[tuple[str, str]]
) -> None:
    err = ApplyConflict(conflicts)
    assert err.message == message
    assert str(err) == message
    assert [(c["message"], c["field"]) for c in err.causes] == causes
    assert all(c["reason"] == "FieldManagerConflict" for c in err.causes)


def test_conflicts_attribute_lists_manager_and_path() -> None:
    err = ApplyConflict(
        [
            (FOO, ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"c"}', "f:image")),
            (FOO, ("f:spec", "f:minReadySeconds")),
        ]
    )
    assert err.conflicts == [
        ("foo", ".spec.minReadySeconds"),
        ("foo", '.spec.template.spec.containers[name="c"].image'),
    ]
    assert err.message.startswith('Apply failed with 2 conflicts: conflicts with "foo" using v1:\n')
