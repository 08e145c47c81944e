"""track_update(): managedFields for create/update/patch, as upstream's Update path."""

from __future__ import annotations

import copy
from typing import Any

from kubeds.apiserver.apply import apply, track_update
from kubeds.apiserver.apply.managers import MAX_UPDATE_MANAGERS

T0, T1, T2 = "2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z", "2025-01-01T00:02:00Z"


def _node() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "spec": {"podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }


def _by_manager(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["manager"]: e for e in obj["metadata"]["managedFields"]}


def test_create_owns_every_field_but_status_and_server_metadata() -> None:
    node = _node()
    node["metadata"].update({"uid": "u", "resourceVersion": "1", "creationTimestamp": T0})
    track_update(None, node, manager="kubeds-node", api_version="v1", now=T0)
    [entry] = node["metadata"]["managedFields"]
    assert entry == {
        "manager": "kubeds-node",
        "operation": "Update",
        "apiVersion": "v1",
        "time": T0,
        "fieldsType": "FieldsV1",
        "fieldsV1": {
            # labels appeared: it carries "." (upstream compare adds inner nodes); spec/metadata never do
            "f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/hostname": {}}},
            "f:spec": {"f:podCIDRs": {".": {}, 'v:"10.0.0.0/24"': {}}, "f:taints": {}},
        },
    }


def test_update_moves_changed_fields_and_drops_removed_ones() -> None:
    node = _node()
    track_update(None, node, manager="creator", api_version="v1", now=T0)
    updated = copy.deepcopy(node)
    updated["spec"]["taints"] = []
    del updated["metadata"]["labels"]["kubernetes.io/hostname"]
    updated["metadata"]["labels"]["role"] = "edge"
    track_update(node, updated, manager="kubectl-taint", api_version="v1", now=T1)
    entries = _by_manager(updated)
    assert list(entries) == ["creator", "kubectl-taint"]  # Update entries ordered by time
    assert entries["creator"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {}},
        "f:spec": {"f:podCIDRs": {".": {}, 'v:"10.0.0.0/24"': {}}},
    }
    assert entries["creator"]["time"] == T0
    assert entries["kubectl-taint"]["fieldsV1"] == {
        "f:metadata": {"f:labels": {"f:role": {}}},
        "f:spec": {"f:taints": {}},
    }
    assert entries["kubectl-taint"]["time"] == T1


def test_no_op_update_adds_no_entry_and_keeps_times() -> None:
    node = _node()
    track_update(None, node, manager="creator", api_version="v1", now=T0)
    same = copy.deepcopy(node)
    track_update(node, same, manager="idle", api_version="v1", now=T1)
    assert same["metadata"]["managedFields"] == node["metadata"]["managedFields"]


def test_removal_only_update_gets_no_entry() -> None:
    node = _node()
    track_update(None, node, manager="creator", api_version="v1", now=T0)
    updated = copy.deepcopy(node)
    del updated["spec"]["taints"]
    track_update(node, updated, manager="untaint", api_version="v1", now=T1)
    assert list(_by_manager(updated)) == ["creator"]
    assert "f:taints" not in _by_manager(updated)["creator"]["fieldsV1"]["f:spec"]


def test_status_subresource_tracks_status_only_and_ignores_request_managed_fields() -> None:
    node = _node()
    track_update(None, node, manager="creator", api_version="v1", now=T0)
    updated = copy.deepcopy(node)
    updated["status"]["conditions"][0]["status"] = "False"
    updated["metadata"]["managedFields"] = [{"manager": "forged", "operation": "Update", "apiVersion": "v1"}]
    track_update(node, updated, manager="kubelet", api_version="v1", now=T1, subresource="status")
    entries = _by_manager(updated)
    assert list(entries) == ["creator", "kubelet"]
    assert entries["kubelet"]["subresource"] == "status"
    assert entries["kubelet"]["fieldsV1"] == {
        "f:status": {"f:conditions": {'k:{"type":"Ready"}': {"f:status": {}}}}
    }


def test_request_managed_fields_replace_or_reset_the_stored_ones() -> None:
    node = _node()
    track_update(None, node, manager="creator", api_version="v1", now=T0)
    reset = copy.deepcopy(node)
    reset["metadata"]["managedFields"] = [{}]
    reset["metadata"]["labels"]["x"] = "y"
    track_update(node, reset, manager="cleaner", api_version="v1", now=T1)
    assert list(_by_manager(reset)) == ["cleaner"]
    assert reset["metadata"]["managedFields"][0]["fieldsV1"] == {"f:metadata": {"f:labels": {"f:x": {}}}}

    rewritten = copy.deepcopy(node)
    rewritten["metadata"]["managedFields"][0]["manager"] = "renamed"
    track_update(node, rewritten, manager="kubectl", api_version="v1", now=T1)
    assert list(_by_manager(rewritten)) == ["renamed"]


def test_update_takes_fields_from_an_applier_and_apply_entries_sort_first() -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"tier": "a"}},
        "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]},
    }
    live = apply(None, config, manager="gitops", force=False, api_version="v1", now=T1)
    updated = copy.deepcopy(live)
    updated["metadata"]["labels"]["tier"] = "b"
    track_update(live, updated, manager="kubectl-label", api_version="v1", now=T0)
    entries = updated["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in entries] == [
        ("gitops", "Apply"),
        ("kubectl-label", "Update"),
    ]
    assert entries[0]["fieldsV1"] == {"f:spec": {"f:taints": {}}}


def test_update_managers_are_capped_into_ancient_changes() -> None:
    node = _node()
    track_update(None, node, manager="creator", api_version="v1", now="2025-01-01T00:00:00Z")
    for i in range(MAX_UPDATE_MANAGERS + 1):
        updated = copy.deepcopy(node)
        updated["metadata"]["labels"][f"l{i}"] = "v"
        track_update(
            node, updated, manager=f"m{i:02d}", api_version="v1", now=f"2025-01-01T00:{i + 1:02d}:00Z"
        )
        node = updated
    managers = [e["manager"] for e in node["metadata"]["managedFields"]]
    assert len(managers) == MAX_UPDATE_MANAGERS
    assert "creator" not in managers and "m00" not in managers
    ancient = _by_manager(node)["ancient-changes"]
    assert "f:l0" in ancient["fieldsV1"]["f:metadata"]["f:labels"]
    assert "f:spec" in ancient["fieldsV1"]
