"""apply(): kubectl apply --server-side scenarios, on the request bodies recorded in the fixtures."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from kubeds.apiserver.apply import LAST_APPLIED, ApplyConflict, apply, fields_v1, track_update

FIXTURES = Path("/work/shared/fixtures/kubectl-requests.jsonl")

T0, T1, T2 = "2025-01-01T00:00:00Z", "2025-01-01T00:01:00Z", "2025-01-01T00:02:00Z"
IMAGE_PATH = '.spec.template.spec.containers[name="kube-proxy"].image'
CONTAINER = 'k:{"name":"kube-proxy"}'
IMAGES = {"ssa1": "registry.k8s.io/kube-proxy:v1.32.0", "ssa2": "registry.k8s.io/kube-proxy:v1.32.1"}

# The `kubectl apply --server-side` body recorded under label "ssa1" (kubectl 1.32); "ssa2" is the
# same manifest with the image bumped. Kept inline so the tests run without the shared fixtures;
# test_inline_copies_match_the_recording checks them against the log when it is there.
SSA1_BODY = json.loads(
    """
{"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"labels": {"k8s-app": "kube-proxy"},
 "name": "kube-proxy", "namespace": "kube-system"}, "spec": {"selector": {"matchLabels":
 {"k8s-app": "kube-proxy"}}, "template": {"metadata": {"labels": {"k8s-app": "kube-proxy"}}, "spec":
 {"containers": [{"command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf",
 "--hostname-override=$(NODE_NAME)"], "env": [{"name": "NODE_NAME", "valueFrom": {"fieldRef":
 {"fieldPath": "spec.nodeName"}}}], "image": "registry.k8s.io/kube-proxy:v1.32.0", "imagePullPolicy":
 "IfNotPresent", "name": "kube-proxy", "securityContext": {"privileged": true}, "volumeMounts":
 [{"mountPath": "/var/lib/kube-proxy", "name": "kube-proxy"}, {"mountPath": "/run/xtables.lock",
 "name": "xtables-lock"}, {"mountPath": "/lib/modules", "name": "lib-modules", "readOnly": true}]}],
 "hostNetwork": true, "nodeSelector": {"kubernetes.io/os": "linux"}, "priorityClassName":
 "system-node-critical", "serviceAccountName": "kube-proxy", "tolerations": [{"operator": "Exists"}],
 "volumes": [{"configMap": {"name": "kube-proxy"}, "name": "kube-proxy"}, {"hostPath": {"path":
 "/run/xtables.lock", "type": "FileOrCreate"}, "name": "xtables-lock"}, {"hostPath": {"path":
 "/lib/modules"}, "name": "lib-modules"}]}}, "updateStrategy": {"type": "RollingUpdate"}}}
"""
)
# The 409 Status recorded under label "err-ssa-conflict".
CONFLICT_MESSAGE = (
    f'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: {IMAGE_PATH}'
)
CONFLICT_CAUSES = [
    {
        "reason": "FieldManagerConflict",
        "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
        "field": IMAGE_PATH,
    }
]


def _recorded(label: str) -> dict[str, Any]:
    for line in FIXTURES.read_text().splitlines():
        record: dict[str, Any] = json.loads(line)
        if (
            record.get("label") == label
            and record.get("content_type") == "application/apply-patch+yaml"
            and record["query"].get("fieldManager") == "kubectl"
        ):
            return record
    raise LookupError(label)


def _body(label: str) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(SSA1_BODY)
    body["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGES[label]
    return body


def _image(obj: dict[str, Any]) -> str:
    image: str = obj["spec"]["template"]["spec"]["containers"][0]["image"]
    return image


def _entries(obj: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(e["manager"], e["operation"]): e for e in obj["metadata"]["managedFields"]}


def _container_fields(entry: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"][CONTAINER]
    return fields


def _created_by_client_side_apply(body: dict[str, Any], *, annotate: bool) -> dict[str, Any]:
    """What `kubectl apply` (client-side) leaves: a POST by kubectl-client-side-apply."""
    obj = copy.deepcopy(body)
    if annotate:
        config = copy.deepcopy(body)
        config["metadata"]["annotations"] = {}
        obj["metadata"]["annotations"] = {
            LAST_APPLIED: json.dumps(config, sort_keys=True, separators=(",", ":")) + "\n"
        }
    track_update(None, obj, manager="kubectl-client-side-apply", api_version="apps/v1", now=T0)
    obj["metadata"].update({"uid": "u-1", "resourceVersion": "1", "generation": 1})
    obj["status"] = {"numberReady": 0}
    return obj


def test_inline_copies_match_the_recording() -> None:
    if not FIXTURES.exists():
        pytest.skip("shared request log not available")
    assert _recorded("ssa1")["body"] == _body("ssa1")
    assert _recorded("ssa2")["body"] == _body("ssa2")
    response = _recorded("err-ssa-conflict")["resp"]
    assert (response["code"], response["reason"]) == (409, "Conflict")
    assert response["message"] == CONFLICT_MESSAGE
    assert response["details"]["causes"] == CONFLICT_CAUSES


def test_create_if_absent() -> None:
    body = _body("ssa1")
    obj = apply(None, body, manager="kubectl", force=False, api_version="apps/v1", now=T0)
    managed = obj["metadata"].pop("managedFields")
    assert obj == body
    assert len(managed) == 1
    entry = managed[0]
    assert {k: v for k, v in entry.items() if k != "fieldsV1"} == {
        "manager": "kubectl",
        "operation": "Apply",
        "apiVersion": "apps/v1",
        "time": T0,
        "fieldsType": "FieldsV1",
    }
    fields = entry["fieldsV1"]
    assert fields["f:metadata"] == {"f:labels": {"f:k8s-app": {}}}
    assert fields["f:spec"]["f:selector"] == {}  # LabelSelector is atomic
    assert fields["f:spec"]["f:updateStrategy"] == {"f:type": {}}
    pod = fields["f:spec"]["f:template"]["f:spec"]
    assert pod["f:tolerations"] == {} and pod["f:nodeSelector"] == {}  # atomic list / atomic map
    container = pod["f:containers"][CONTAINER]
    assert container["."] == {}
    assert container["f:env"] == {
        'k:{"name":"NODE_NAME"}': {".": {}, "f:name": {}, "f:valueFrom": {"f:fieldRef": {}}}
    }
    assert list(container["f:volumeMounts"]) == [
        'k:{"mountPath":"/lib/modules"}',
        'k:{"mountPath":"/run/xtables.lock"}',
        'k:{"mountPath":"/var/lib/kube-proxy"}',
    ]
    assert pod["f:volumes"]['k:{"name":"kube-proxy"}'] == {
        ".": {},
        "f:configMap": {"f:name": {}},
        "f:name": {},
    }
    assert "f:status" not in fields and "f:name" not in fields["f:metadata"]


def test_reapply_with_changed_image_updates_without_conflict() -> None:
    live = apply(None, _body("ssa1"), manager="kubectl", force=False, api_version="apps/v1", now=T0)
    live["status"] = {"numberReady": 3}
    out = apply(live, _body("ssa2"), manager="kubectl", force=False, api_version="apps/v1", now=T1)
    assert _image(out) == "registry.k8s.io/kube-proxy:v1.32.1"
    assert out["status"] == {"numberReady": 3}  # status is the server's
    assert [(e["manager"], e["time"]) for e in out["metadata"]["managedFields"]] == [("kubectl", T1)]
    assert live["spec"]["template"]["spec"]["containers"][0]["image"].endswith("v1.32.0")  # input untouched


def test_identical_reapply_keeps_the_entry_time() -> None:
    live = apply(None, _body("ssa1"), manager="kubectl", force=False, api_version="apps/v1", now=T0)
    out = apply(live, _body("ssa1"), manager="kubectl", force=False, api_version="apps/v1", now=T1)
    assert out == live


def test_conflict_with_client_side_apply_owner_has_upstream_message() -> None:
    live = _created_by_client_side_apply(_body("ssa1"), annotate=False)
    with pytest.raises(ApplyConflict) as info:
        apply(live, _body("ssa2"), manager="kubectl", force=False, api_version="apps/v1", now=T1)
    assert info.value.message == CONFLICT_MESSAGE
    assert info.value.causes == CONFLICT_CAUSES
    assert info.value.conflicts == [("kubectl-client-side-apply", IMAGE_PATH)]


def test_force_takes_ownership() -> None:
    live = _created_by_client_side_apply(_body("ssa1"), annotate=False)
    out = apply(live, _body("ssa2"), manager="kubectl", force=True, api_version="apps/v1", now=T1)
    assert _image(out) == "registry.k8s.io/kube-proxy:v1.32.1"
    entries = _entries(out)
    assert "f:image" in _container_fields(entries[("kubectl", "Apply")])
    csa = _container_fields(entries[("kubectl-client-side-apply", "Update")])
    assert "f:image" not in csa and "f:imagePullPolicy" in csa  # only the conflicting field moved
    assert [e["manager"] for e in out["metadata"]["managedFields"]] == [
        "kubectl",
        "kubectl-client-side-apply",
    ]
    assert out["metadata"]["uid"] == "u-1" and out["status"] == {"numberReady": 0}


def test_kubectl_may_take_fields_matching_last_applied_and_syncs_the_annotation() -> None:
    # lastappliedmanager.go: fields whose live value equals the last-applied annotation are not conflicts
    # for the "kubectl" manager; lastappliedupdater.go then rewrites the annotation from the applied body.
    live = _created_by_client_side_apply(_body("ssa1"), annotate=True)
    out = apply(live, _body("ssa2"), manager="kubectl", force=False, api_version="apps/v1", now=T1)
    assert _image(out) == "registry.k8s.io/kube-proxy:v1.32.1"
    synced = json.loads(out["metadata"]["annotations"][LAST_APPLIED])
    assert synced == _body("ssa2")
    assert out["metadata"]["annotations"][LAST_APPLIED].endswith("}\n")
    with pytest.raises(ApplyConflict, match='conflict with "kubectl-client-side-apply" using apps/v1'):
        apply(live, _body("ssa2"), manager="someone-else", force=False, api_version="apps/v1", now=T1)


def test_removing_a_field_from_the_configuration_removes_it() -> None:
    body = _body("ssa1")
    live = apply(None, body, manager="kubectl", force=False, api_version="apps/v1", now=T0)
    smaller = copy.deepcopy(body)
    pod = smaller["spec"]["template"]["spec"]
    del pod["hostNetwork"]
    del pod["containers"][0]["securityContext"]
    pod["containers"][0]["volumeMounts"] = pod["containers"][0]["volumeMounts"][:1]
    pod["volumes"] = pod["volumes"][:1]
    out = apply(live, smaller, manager="kubectl", force=False, api_version="apps/v1", now=T1)
    out_pod = out["spec"]["template"]["spec"]
    assert "hostNetwork" not in out_pod
    assert out_pod["containers"][0].get("securityContext", {}) == {}
    assert [m["name"] for m in out_pod["containers"][0]["volumeMounts"]] == ["kube-proxy"]
    assert [v["name"] for v in out_pod["volumes"]] == ["kube-proxy"]
    assert (
        "f:hostNetwork"
        not in out["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]
    )


def test_removed_field_survives_when_another_manager_owns_it() -> None:
    body = _body("ssa1")
    live = apply(None, body, manager="kubectl", force=False, api_version="apps/v1", now=T0)
    live["spec"]["minReadySeconds"] = 5
    track_update(
        copy.deepcopy(live) | {"spec": body["spec"]}, live, manager="ops", api_version="apps/v1", now=T1
    )
    second = copy.deepcopy(body)
    del second["spec"]["template"]["spec"]["hostNetwork"]
    other = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"hostNetwork": True}}},
    }
    shared = apply(live, other, manager="helper", force=False, api_version="apps/v1", now=T1)
    out = apply(shared, second, manager="kubectl", force=False, api_version="apps/v1", now=T2)
    assert out["spec"]["template"]["spec"]["hostNetwork"] is True
    assert out["spec"]["minReadySeconds"] == 5  # never applied by kubectl: never pruned by it


def test_two_appliers_with_the_same_value_share_ownership() -> None:
    body = _body("ssa1")
    live = apply(None, body, manager="kubectl", force=False, api_version="apps/v1", now=T0)
    partial: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
        "spec": {"template": {"spec": {"containers": [{"name": "kube-proxy", "image": _image(body)}]}}},
    }
    out = apply(live, partial, manager="image-bot", force=False, api_version="apps/v1", now=T1)
    entries = _entries(out)
    assert "f:image" in _container_fields(entries[("kubectl", "Apply")])
    assert "f:image" in _container_fields(entries[("image-bot", "Apply")])
    changed = copy.deepcopy(partial)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "other:1"
    with pytest.raises(ApplyConflict) as info:
        apply(out, changed, manager="image-bot", force=False, api_version="apps/v1", now=T2)
    assert info.value.message == f'Apply failed with 1 conflict: conflict with "kubectl": {IMAGE_PATH}'


def test_object_without_managed_fields_conflicts_with_before_first_apply() -> None:
    live = copy.deepcopy(_body("ssa1"))
    with pytest.raises(ApplyConflict) as info:
        apply(live, _body("ssa2"), manager="kubectl", force=False, api_version="apps/v1", now=T1)
    assert info.value.conflicts == [("before-first-apply", IMAGE_PATH)]


def test_status_and_server_metadata_in_the_body_are_ignored() -> None:
    body = copy.deepcopy(_body("ssa1"))
    body["status"] = {"numberReady": 99}
    body["metadata"].update({"uid": "client-uid", "resourceVersion": "7", "annotations": {"a": "b"}})
    obj = apply(None, body, manager="mgr", force=False, api_version="apps/v1", now=T0)
    assert "status" not in obj
    assert "uid" not in obj["metadata"] and "resourceVersion" not in obj["metadata"]
    assert obj["metadata"]["annotations"] == {"a": "b"}
    meta_fields = obj["metadata"]["managedFields"][0]["fieldsV1"]["f:metadata"]
    assert meta_fields == {"f:annotations": {"f:a": {}}, "f:labels": {"f:k8s-app": {}}}


def test_fields_v1_helper_encodes_keyed_lists() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "x"}},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "nginx",
                    "ports": [{"containerPort": 80}],
                    "env": [{"name": "A", "value": "1"}],
                }
            ],
            "tolerations": [{"operator": "Exists"}],
        },
    }
    assert fields_v1(pod) == {
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:containers": {
                'k:{"name":"app"}': {
                    ".": {},
                    "f:env": {'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}},
                    "f:image": {},
                    "f:name": {},
                    "f:ports": {'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
                }
            },
            "f:tolerations": {},
        },
    }


def test_filling_a_previously_empty_object_keeps_it() -> None:
    # `securityContext: {}` was owned as a leaf; applying fields inside it must not prune the parent.
    first = _body("ssa1")
    first["spec"]["template"]["spec"]["containers"][0]["securityContext"] = {}
    live = apply(None, first, manager="kubectl", force=False, api_version="apps/v1", now=T0)
    out = apply(live, _body("ssa1"), manager="kubectl", force=False, api_version="apps/v1", now=T1)
    assert out["spec"]["template"]["spec"]["containers"][0]["securityContext"] == {"privileged": True}
