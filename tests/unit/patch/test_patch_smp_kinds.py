"""Strategic merge patch on kubeds kinds: the bodies kubectl really sends, and the schema data.

The PATCH bodies are the recorded ones from ``kubectl-requests.jsonl`` (kubectl 1.27-1.33): client-side
apply (labels ``apply2-v3``, ``apply3``), cordon/uncordon, taint, rollout restart and rollout undo;
the objects they apply to are the objects kubectl created just before (the recorded POST bodies).
The long ``last-applied-configuration`` strings are shortened to placeholders.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubeds.apiserver.patch import PatchError, strategic_merge_patch
from kubeds.apiserver.patch.schema import KIND_ROOTS, TYPES, schema_for_kind

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

# POST body of the DaemonSet just before `apply3` (fixture row 1121)
PRE_APPLY3: dict[str, Any] = json.loads(
    """{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"v1-config"},"labels":{"k8s-app":"kube-proxy"},"name":"kube-proxy","namespace":"kube-system"},"spec":{"selector":{"matchLabels":{"k8s-app":"kube-proxy"}},"template":{"metadata":{"labels":{"k8s-app":"kube-proxy"}},"spec":{"containers":[{"command":["/usr/local/bin/kube-proxy","--config=/var/lib/kube-proxy/config.conf","--hostname-override=$(NODE_NAME)"],"env":[{"name":"NODE_NAME","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}],"image":"registry.k8s.io/kube-proxy:v1.32.0","imagePullPolicy":"IfNotPresent","name":"kube-proxy","securityContext":{"privileged":true},"volumeMounts":[{"mountPath":"/var/lib/kube-proxy","name":"kube-proxy"},{"mountPath":"/run/xtables.lock","name":"xtables-lock"},{"mountPath":"/lib/modules","name":"lib-modules","readOnly":true}]}],"hostNetwork":true,"nodeSelector":{"kubernetes.io/os":"linux"},"priorityClassName":"system-node-critical","serviceAccountName":"kube-proxy","tolerations":[{"operator":"Exists"}],"volumes":[{"configMap":{"name":"kube-proxy"},"name":"kube-proxy"},{"hostPath":{"path":"/run/xtables.lock","type":"FileOrCreate"},"name":"xtables-lock"},{"hostPath":{"path":"/lib/modules"},"name":"lib-modules"}]}},"updateStrategy":{"type":"RollingUpdate"}}}"""
)

# `apply3`: env added, a mount and a volume removed, a volume source switched, tolerations, sidecar
APPLY3_PATCH: dict[str, Any] = json.loads(
    """{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"v2-config"},"labels":null},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"kube-proxy"},{"name":"sidecar"}],"$setElementOrder/volumes":[{"name":"kube-proxy"},{"name":"lib-modules"}],"containers":[{"$setElementOrder/env":[{"name":"NODE_NAME"},{"name":"EXTRA"}],"$setElementOrder/volumeMounts":[{"mountPath":"/var/lib/kube-proxy"},{"mountPath":"/lib/modules"}],"env":[{"name":"EXTRA","value":"1"}],"name":"kube-proxy","volumeMounts":[{"$patch":"delete","mountPath":"/run/xtables.lock"}]},{"image":"busybox:1.36","name":"sidecar"}],"tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"},{"operator":"Exists"}],"volumes":[{"$retainKeys":["name","secret"],"configMap":null,"name":"kube-proxy","secret":{"secretName":"kp"}},{"$patch":"delete","name":"xtables-lock"}]}},"updateStrategy":{"rollingUpdate":{"maxUnavailable":"10%"}}}}"""
)

# the configuration `apply3` applied (its new last-applied-configuration)
APPLY3_CONFIG: dict[str, Any] = json.loads(
    """{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"annotations":{},"name":"kube-proxy","namespace":"kube-system"},"spec":{"selector":{"matchLabels":{"k8s-app":"kube-proxy"}},"template":{"metadata":{"labels":{"k8s-app":"kube-proxy"}},"spec":{"containers":[{"command":["/usr/local/bin/kube-proxy","--config=/var/lib/kube-proxy/config.conf","--hostname-override=$(NODE_NAME)"],"env":[{"name":"NODE_NAME","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}},{"name":"EXTRA","value":"1"}],"image":"registry.k8s.io/kube-proxy:v1.32.0","imagePullPolicy":"IfNotPresent","name":"kube-proxy","securityContext":{"privileged":true},"volumeMounts":[{"mountPath":"/var/lib/kube-proxy","name":"kube-proxy"},{"mountPath":"/lib/modules","name":"lib-modules","readOnly":true}]},{"image":"busybox:1.36","name":"sidecar"}],"hostNetwork":true,"nodeSelector":{"kubernetes.io/os":"linux"},"priorityClassName":"system-node-critical","serviceAccountName":"kube-proxy","tolerations":[{"key":"CriticalAddonsOnly","operator":"Exists"},{"operator":"Exists"}],"volumes":[{"name":"kube-proxy","secret":{"secretName":"kp"}},{"hostPath":{"path":"/lib/modules"},"name":"lib-modules"}]}},"updateStrategy":{"rollingUpdate":{"maxUnavailable":"10%"},"type":"RollingUpdate"}}}"""
)

# `apply2-v3`: the image bump
APPLY2_PATCH: dict[str, Any] = json.loads(
    """{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"v2-config"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"kube-proxy"}],"containers":[{"image":"registry.k8s.io/kube-proxy:v1.32.1","name":"kube-proxy"}]}}}}"""
)

# `undo`: the ControllerRevision data, sent verbatim
UNDO_PATCH: dict[str, Any] = json.loads(
    """{"spec":{"template":{"metadata":{"labels":{"k8s-app":"kube-proxy"},"creationTimestamp":null},"spec":{"containers":[{"command":["/usr/local/bin/kube-proxy","--config=/var/lib/kube-proxy/config.conf","--hostname-override=$(NODE_NAME)"],"env":[{"name":"NODE_NAME","valueFrom":{"fieldRef":{"fieldPath":"spec.nodeName"}}}],"image":"registry.k8s.io/kube-proxy:v1.32.0","imagePullPolicy":"IfNotPresent","name":"kube-proxy","securityContext":{"privileged":true},"volumeMounts":[{"mountPath":"/var/lib/kube-proxy","name":"kube-proxy"},{"mountPath":"/run/xtables.lock","name":"xtables-lock"},{"mountPath":"/lib/modules","name":"lib-modules","readOnly":true}],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],"hostNetwork":true,"nodeSelector":{"kubernetes.io/os":"linux"},"priorityClassName":"system-node-critical","serviceAccountName":"kube-proxy","tolerations":[{"operator":"Exists"}],"volumes":[{"configMap":{"name":"kube-proxy","defaultMode":420},"name":"kube-proxy"},{"hostPath":{"path":"/run/xtables.lock","type":"FileOrCreate"},"name":"xtables-lock"},{"hostPath":{"path":"/lib/modules","type":""},"name":"lib-modules"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","securityContext":{},"schedulerName":"default-scheduler","serviceAccount":"kube-proxy"},"$patch":"replace"}}}"""
)


def _node(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
        "spec": dict(spec),
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "True", "reason": "KubeletReady"},
            ],
            "addresses": [
                {"type": "InternalIP", "address": "10.0.0.1"},
                {"type": "Hostname", "address": "node-1"},
            ],
        },
    }


# --- client-side apply ------------------------------------------------------------------------


def test_apply_image_bump_changes_only_the_image() -> None:
    result = strategic_merge_patch(PRE_APPLY3, APPLY2_PATCH, kind="DaemonSet")
    containers = result["spec"]["template"]["spec"]["containers"]
    assert [c["image"] for c in containers] == ["registry.k8s.io/kube-proxy:v1.32.1"]
    expected = copy.deepcopy(PRE_APPLY3)
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = "registry.k8s.io/kube-proxy:v1.32.1"
    expected["metadata"]["annotations"][LAST_APPLIED] = "v2-config"
    assert result == expected


def test_apply3_yields_the_applied_configuration() -> None:
    result = strategic_merge_patch(PRE_APPLY3, APPLY3_PATCH, kind="DaemonSet")
    assert result["spec"] == APPLY3_CONFIG["spec"]
    assert "labels" not in result["metadata"]
    assert result["metadata"]["annotations"] == {LAST_APPLIED: "v2-config"}


def test_apply3_details() -> None:
    spec = strategic_merge_patch(PRE_APPLY3, APPLY3_PATCH, kind="DaemonSet")["spec"]["template"]["spec"]
    proxy, sidecar = spec["containers"]
    assert [e["name"] for e in proxy["env"]] == ["NODE_NAME", "EXTRA"]
    assert [m["mountPath"] for m in proxy["volumeMounts"]] == ["/var/lib/kube-proxy", "/lib/modules"]
    assert sidecar == {"image": "busybox:1.36", "name": "sidecar"}
    # $retainKeys dropped configMap; the deleted volume is gone; tolerations replaced whole
    assert spec["volumes"][0] == {"name": "kube-proxy", "secret": {"secretName": "kp"}}
    assert [v["name"] for v in spec["volumes"]] == ["kube-proxy", "lib-modules"]
    assert spec["tolerations"] == [
        {"key": "CriticalAddonsOnly", "operator": "Exists"},
        {"operator": "Exists"},
    ]


def test_inputs_untouched() -> None:
    before_original, before_patch = copy.deepcopy(PRE_APPLY3), copy.deepcopy(APPLY3_PATCH)
    strategic_merge_patch(PRE_APPLY3, APPLY3_PATCH, kind="DaemonSet")
    assert PRE_APPLY3 == before_original and APPLY3_PATCH == before_patch


# --- rollout undo / restart ---------------------------------------------------------------------


def test_rollout_undo_replaces_the_template() -> None:
    current = strategic_merge_patch(PRE_APPLY3, APPLY3_PATCH, kind="DaemonSet")
    current["spec"]["template"]["metadata"]["annotations"] = {"kubectl.kubernetes.io/restartedAt": "x"}
    result = strategic_merge_patch(current, UNDO_PATCH, kind="DaemonSet")
    template = result["spec"]["template"]
    expected = copy.deepcopy(UNDO_PATCH["spec"]["template"])
    del expected["$patch"]
    del expected["metadata"]["creationTimestamp"]  # null: not stored
    assert template == expected
    assert "annotations" not in template["metadata"]
    assert [c["name"] for c in template["spec"]["containers"]] == ["kube-proxy"]
    assert result["spec"]["updateStrategy"] == current["spec"]["updateStrategy"]


def test_rollout_restart_adds_the_template_annotation() -> None:
    patch = {
        "spec": {
            "template": {
                "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-26T13:31:15Z"}}
            }
        }
    }
    result = strategic_merge_patch(PRE_APPLY3, patch, kind="DaemonSet")
    metadata = result["spec"]["template"]["metadata"]
    assert metadata == {
        "labels": {"k8s-app": "kube-proxy"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-26T13:31:15Z"},
    }


# --- node operations --------------------------------------------------------------------------


def test_cordon_and_uncordon() -> None:
    cordoned = strategic_merge_patch(_node(), {"spec": {"unschedulable": True}}, kind="Node")
    assert cordoned["spec"] == {"unschedulable": True}
    uncordoned = strategic_merge_patch(cordoned, {"spec": {"unschedulable": None}}, kind="Node")
    assert uncordoned["spec"] == {}
    assert uncordoned["status"] == _node()["status"]


@pytest.mark.parametrize(
    ("taints", "patch_taints", "expected"),
    [
        # `taint` (fixture t1): first taint
        (
            None,
            [{"effect": "NoSchedule", "key": "dedicated", "value": "infra"}],
            [{"effect": "NoSchedule", "key": "dedicated", "value": "infra"}],
        ),
        # `t2`: kubectl sends the complete list, new taint first
        (
            [{"effect": "NoSchedule", "key": "dedicated", "value": "infra"}],
            [
                {"effect": "NoExecute", "key": "key", "value": "value"},
                {"effect": "NoSchedule", "key": "dedicated", "value": "infra"},
            ],
            [
                {"effect": "NoExecute", "key": "key", "value": "value"},
                {"effect": "NoSchedule", "key": "dedicated", "value": "infra"},
            ],
        ),
        # `t3`: removal of one taint is the list without it (atomic replace, no merge by key)
        (
            [
                {"effect": "NoExecute", "key": "key", "value": "value"},
                {"effect": "NoSchedule", "key": "dedicated", "value": "infra"},
            ],
            [{"effect": "NoExecute", "key": "key", "value": "value"}],
            [{"effect": "NoExecute", "key": "key", "value": "value"}],
        ),
    ],
)
def test_taints_are_atomic(taints: Any, patch_taints: Any, expected: Any) -> None:
    node = _node(taints=taints) if taints is not None else _node()
    result = strategic_merge_patch(node, {"spec": {"taints": patch_taints}}, kind="Node")
    assert result["spec"]["taints"] == expected


def test_taint_remove_last_sends_null() -> None:
    node = _node(taints=[{"effect": "NoSchedule", "key": "key", "value": "value"}])
    assert "taints" not in strategic_merge_patch(node, {"spec": {"taints": None}}, kind="Node")["spec"]


def test_node_status_conditions_merge_by_type() -> None:
    patch = {"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "NodeStatusUnknown"}]}}
    conditions = strategic_merge_patch(_node(), patch, kind="Node")["status"]["conditions"]
    assert conditions == [
        {"type": "MemoryPressure", "status": "False"},
        {"type": "Ready", "status": "False", "reason": "NodeStatusUnknown"},
    ]


def test_node_addresses_merge_by_type_and_pod_cidrs_union() -> None:
    node = _node(podCIDRs=["10.244.0.0/24"])
    patch = {
        "spec": {"podCIDRs": ["10.244.0.0/24", "fd00::/64"]},
        "status": {"addresses": [{"type": "ExternalIP", "address": "1.2.3.4"}]},
    }
    result = strategic_merge_patch(node, patch, kind="Node")
    assert result["spec"]["podCIDRs"] == ["10.244.0.0/24", "fd00::/64"]
    # without $setElementOrder, upstream's mergeSortedSlice puts items the server lacks first
    assert [a["type"] for a in result["status"]["addresses"]] == ["ExternalIP", "InternalIP", "Hostname"]


# --- metadata and pods --------------------------------------------------------------------------


def _pod() -> dict[str, Any]:
    return {
        "metadata": {
            "name": "p",
            "finalizers": ["a", "b"],
            "ownerReferences": [{"uid": "u1", "kind": "DaemonSet", "name": "ds", "controller": True}],
        },
        "spec": {
            "containers": [{"name": "c", "image": "i", "args": ["x", "y"], "ports": [{"containerPort": 80}]}],
            "tolerations": [{"operator": "Exists"}],
        },
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "podIPs": []},
    }


def test_owner_references_merge_by_uid() -> None:
    patch = {
        "metadata": {"ownerReferences": [{"uid": "u1", "controller": None}, {"uid": "u2", "name": "other"}]}
    }
    refs = strategic_merge_patch(_pod(), patch, kind="Pod")["metadata"]["ownerReferences"]
    assert refs == [{"uid": "u1", "kind": "DaemonSet", "name": "ds"}, {"uid": "u2", "name": "other"}]


def test_owner_reference_delete_directive() -> None:
    patch = {"metadata": {"ownerReferences": [{"$patch": "delete", "uid": "u1"}]}}
    assert strategic_merge_patch(_pod(), patch, kind="Pod")["metadata"]["ownerReferences"] == []


def test_finalizers_union_and_delete_from_primitive_list() -> None:
    added = strategic_merge_patch(_pod(), {"metadata": {"finalizers": ["b", "c"]}}, kind="Pod")
    assert added["metadata"]["finalizers"] == ["a", "b", "c"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    assert strategic_merge_patch(added, patch, kind="Pod")["metadata"]["finalizers"] == ["b", "c"]


def test_container_args_and_tolerations_are_atomic_ports_merge() -> None:
    patch = {
        "spec": {
            "containers": [{"name": "c", "args": ["z"], "ports": [{"containerPort": 443, "name": "https"}]}],
            "tolerations": [{"key": "k", "operator": "Exists"}],
        }
    }
    spec = strategic_merge_patch(_pod(), patch, kind="Pod")["spec"]
    assert spec["containers"][0]["args"] == ["z"]
    assert spec["containers"][0]["ports"] == [{"containerPort": 443, "name": "https"}, {"containerPort": 80}]
    assert spec["tolerations"] == [{"key": "k", "operator": "Exists"}]


def test_list_replace_directive() -> None:
    patch = {"spec": {"containers": [{"$patch": "replace"}, {"name": "new", "image": "n"}]}}
    assert strategic_merge_patch(_pod(), patch, kind="Pod")["spec"]["containers"] == [
        {"name": "new", "image": "n"}
    ]


def test_map_delete_directive_and_merge_directive_error() -> None:
    result = strategic_merge_patch(_pod(), {"status": {"$patch": "delete"}}, kind="Pod")
    assert result["status"] == {}
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(_pod(), {"status": {"$patch": "merge"}}, kind="Pod")
    assert info.value.message == "unknown patch type: merge in map: map[$patch:merge]"
    assert info.value.code == 400


def test_merge_directive_in_list_is_rejected() -> None:
    with pytest.raises(PatchError, match="merging lists cannot yet be specified in the patch"):
        strategic_merge_patch(_pod(), {"spec": {"containers": [{"$patch": "merge"}]}}, kind="Pod")


def test_new_keys_lose_nulls_and_directives() -> None:
    patch = {"metadata": {"labels": {"a": "1", "b": None}, "annotations": {"$patch": "delete"}}}
    metadata = strategic_merge_patch(_pod(), patch, kind="Pod")["metadata"]
    assert metadata["labels"] == {"a": "1"}
    assert "annotations" not in metadata


# --- schema-driven kinds ----------------------------------------------------------------------


def test_pdb_selector_is_replaced() -> None:
    pdb = {"spec": {"selector": {"matchLabels": {"a": "1"}}, "minAvailable": 1}}
    patch = {"spec": {"selector": {"matchLabels": {"b": "2"}}}}
    assert strategic_merge_patch(pdb, patch, kind="PodDisruptionBudget")["spec"]["selector"] == {
        "matchLabels": {"b": "2"}
    }
    # a plain map merges on other kinds
    ds = {"spec": {"selector": {"matchLabels": {"a": "1"}}}}
    assert strategic_merge_patch(ds, patch, kind="DaemonSet")["spec"]["selector"] == {
        "matchLabels": {"a": "1", "b": "2"}
    }


def test_deployment_strategy_retain_keys() -> None:
    deployment = {"spec": {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert strategic_merge_patch(deployment, patch, kind="Deployment")["spec"]["strategy"] == {
        "type": "Recreate"
    }


def test_retain_keys_rejects_patch_keys_outside_the_list() -> None:
    deployment = {"spec": {"strategy": {"type": "RollingUpdate"}}}
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(deployment, patch, kind="Deployment")
    assert (info.value.code, info.value.message) == (400, "invalid patch format of retainKeys")


def test_service_account_secrets_merge_by_name() -> None:
    sa = {"secrets": [{"name": "a"}], "imagePullSecrets": [{"name": "x"}]}
    result = strategic_merge_patch(
        sa, {"secrets": [{"name": "b"}], "imagePullSecrets": [{"name": "y"}]}, kind="ServiceAccount"
    )
    assert result["secrets"] == [{"name": "b"}, {"name": "a"}]
    assert result["imagePullSecrets"] == [{"name": "y"}]  # atomic on ServiceAccount


def test_unknown_kind_keeps_object_meta_semantics() -> None:
    obj = {"metadata": {"finalizers": ["a"]}, "spec": {"items": [{"name": "x"}]}}
    result = strategic_merge_patch(
        obj, {"metadata": {"finalizers": ["b"]}, "spec": {"items": [{"name": "y"}]}}, kind="Widget"
    )
    assert result["metadata"]["finalizers"] == ["b", "a"]
    assert result["spec"]["items"] == [{"name": "y"}]


def test_every_served_kind_has_a_root_and_types_resolve() -> None:
    served = {
        "Pod",
        "Node",
        "DaemonSet",
        "Deployment",
        "ReplicaSet",
        "ControllerRevision",
        "Namespace",
        "Event",
        "ConfigMap",
        "ServiceAccount",
        "Lease",
        "PodDisruptionBudget",
        "PriorityClass",
    }
    assert served <= set(KIND_ROOTS)
    for fields in TYPES.values():
        for meta in fields.values():
            assert meta.type is None or meta.type in TYPES
            assert meta.strategy in ("", "merge", "replace")
    # the pod template of every workload reuses the Pod spec entries
    for kind in ("DaemonSet", "Deployment", "ReplicaSet"):
        schema = schema_for_kind(kind)
        spec = schema.lookup(schema.root, "spec").type
        template = schema.lookup(spec, "template").type
        assert schema.lookup(schema.lookup(template, "spec").type, "containers").merge_key == "name"


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "code", "message"),
    [
        (["x"], 400, "json: cannot unmarshal array into Go value of type map[string]interface {}"),
        ("x", 400, "json: cannot unmarshal string into Go value of type map[string]interface {}"),
        (
            {"spec": {"containers": [{"image": "x"}]}},
            400,
            "map: map[image:x] does not contain declared merge key: name",
        ),
        (
            {"spec": {"containers": [["x"]]}},
            400,
            "list element types are not identical: "
            "[[map[args:[x y] image:i name:c ports:[map[containerPort:80]]]] [[x]]]",
        ),
        (
            {"status": {"podIPs": [["x"]]}},
            422,
            "the server rejected our request due to an error in our request",
        ),
        (
            {"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}},
            400,
            "invalid patch format of primitive list",
        ),
        (
            {"spec": {"$setElementOrder/containers": {"name": "c"}}},
            400,
            "expected a []interface {}, but received a map[string]interface {}",
        ),
    ],
)
def test_errors(patch: Any, code: int, message: str) -> None:
    with pytest.raises(PatchError) as info:
        strategic_merge_patch(_pod(), patch, kind="Pod")
    assert (info.value.code, info.value.message) == (code, message)


def test_null_patch_is_a_no_op() -> None:
    assert strategic_merge_patch(_pod(), None, kind="Pod") == _pod()
