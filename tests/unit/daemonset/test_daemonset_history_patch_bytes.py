"""Revision data is laid out as upstream's ``getPatch`` writes it (``pkg/controller/daemon/update.go``):
a Go map marshalled, so keys sorted at every level. ``kubectl rollout undo`` compares the served
bytes of ``data`` with its own ``getDaemonSetPatch`` (kubectl ``pkg/polymorphichelpers/rollback.go``)
and says "skipped rollback" only when they are equal; found end to end (kubectl printed "rolled back"
for the current revision)."""

from __future__ import annotations

import json

from daemonset_builders import new_daemonset

from kubeds.controllers.daemonset.history import get_patch, match, snapshot


def _go_map_json(obj: object) -> str:
    """What Go's json.Marshal of a map[string]interface{} gives for plain values: sorted, compact."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def test_revision_data_serialises_in_go_map_order() -> None:
    ds = new_daemonset("foo")
    ds["spec"]["template"]["metadata"]["creationTimestamp"] = None
    ds["spec"]["template"]["spec"]["containers"][0]["resources"] = {}
    data = snapshot(ds, 1, "abc")["data"]
    # Serialised in insertion order (as the API server does), the bytes equal Go's.
    assert json.dumps(data, separators=(",", ":")) == _go_map_json(data)
    served = json.dumps(data, separators=(",", ":"))
    assert served.startswith('{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,')
    template = data["spec"]["template"]
    assert list(template["spec"]["containers"][0]) == sorted(template["spec"]["containers"][0])


def test_sorted_data_still_matches_the_daemonset() -> None:
    ds = new_daemonset("foo")
    rev = snapshot(ds, 1, "abc")
    assert match(ds, rev)
    assert get_patch(ds) == rev["data"]
    ds["spec"]["template"]["spec"]["containers"][0]["image"] = "other"
    assert not match(ds, rev)
