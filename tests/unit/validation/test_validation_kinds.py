"""Pod, Node, PDB, PriorityClass, Namespace, ConfigMap, Lease and Event validation.

Cases follow upstream's TestValidatePodSpec/TestValidatePodUpdate/TestValidateTolerations and
TestValidateNode/TestValidateNodeUpdate (pkg/apis/core/validation/validation_test.go),
TestValidatePodDisruptionBudgetSpec (pkg/apis/policy/validation), TestValidatePriorityClass
(pkg/apis/scheduling/validation) and TestValidateLeaseSpec (pkg/apis/coordination/validation).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubeds.apiserver.defaults import apply_defaults
from kubeds.apiserver.validation import validate_create, validate_status_update, validate_update


def new_pod(**spec: Any) -> dict[str, Any]:
    pod: dict[str, Any] = {
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}], **spec},
    }
    apply_defaults("Pod", pod)
    return pod


def errors(kind: str, obj: dict[str, Any]) -> list[str]:
    return [str(e) for e in validate_create(kind, obj)]


POD_CASES = [
    pytest.param(
        {"containers": [{"name": "c", "image": "a"}, {"name": "c", "image": "b"}]},
        ['spec.containers[1].name: Duplicate value: "c"'],
        id="duplicate-container-name",
    ),
    pytest.param(
        {"containers": [{"image": "a"}]},
        ["spec.containers[0].name: Required value"],
        id="container-name-required",
    ),
    pytest.param(
        {"containers": [{"name": "c"}]},
        ["spec.containers[0].image: Required value"],
        id="container-image-required",
    ),
    pytest.param(
        {"restartPolicy": "Sometimes"},
        [
            'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'
        ],
        id="bad-restart-policy",
    ),
    pytest.param(
        {"dnsPolicy": "Weird"},
        [
            'spec.dnsPolicy: Unsupported value: "Weird": supported values: "ClusterFirstWithHostNet", '
            '"ClusterFirst", "Default", "None"'
        ],
        id="bad-dns-policy",
    ),
    pytest.param(
        {"containers": [{"name": "c", "image": "a", "ports": [{"containerPort": 70000}]}]},
        [
            "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"
        ],
        id="port-out-of-range",
    ),
    pytest.param(
        {"containers": [{"name": "c", "image": "a", "ports": [{"containerPort": 80, "protocol": "HTTP"}]}]},
        [
            'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'
        ],
        id="bad-protocol",
    ),
    pytest.param(
        {
            "containers": [
                {"name": "c", "image": "a", "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
            ]
        },
        [
            'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'
        ],
        id="request-over-limit",
    ),
    pytest.param(
        {"containers": [{"name": "c", "image": "a", "resources": {"requests": {"memory": "-1Gi"}}}]},
        [
            'spec.containers[0].resources.requests[memory]: Invalid value: "-1Gi": must be greater than or equal to 0'
        ],
        id="negative-request",
    ),
    pytest.param(
        {
            "containers": [
                {"name": "c", "image": "a", "volumeMounts": [{"name": "missing", "mountPath": "/x"}]}
            ]
        },
        ['spec.containers[0].volumeMounts[0].name: Not found: "missing"'],
        id="mount-of-unknown-volume",
    ),
    pytest.param(
        {"volumes": [{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]},
        ['spec.volumes[1].name: Duplicate value: "v"'],
        id="duplicate-volume",
    ),
    pytest.param(
        {"volumes": [{"name": "v", "hostPath": {"path": "/x", "type": "Weird"}}]},
        [
            'spec.volumes[0].hostPath.type: Unsupported value: "Weird": supported values: "", "BlockDevice", '
            '"CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"'
        ],
        id="bad-hostpath-type",
    ),
    pytest.param(
        {"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
        [
            'spec.tolerations[0].operator: Invalid value: {"key":"k","operator":"Exists","value":"v"}: '
            "value must be empty when `operator` is 'Exists'"
        ],
        id="toleration-exists-with-value",
    ),
    pytest.param(
        {"tolerations": [{"key": "k", "operator": "In"}]},
        ['spec.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"'],
        id="toleration-bad-operator",
    ),
    pytest.param(
        {"tolerations": [{"operator": "Equal", "value": "v"}]},
        [
            'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
            'which means "match all values and all keys"'
        ],
        id="toleration-empty-key-equal",
    ),
    pytest.param(
        {"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule", "tolerationSeconds": 5}]},
        [
            "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"
        ],
        id="toleration-seconds-without-noexecute",
    ),
    pytest.param(
        {"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoWay"}]},
        [
            'spec.tolerations[0].effect: Unsupported value: "NoWay": supported values: "NoSchedule", '
            '"PreferNoSchedule", "NoExecute"'
        ],
        id="toleration-bad-effect",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), POD_CASES)
def test_invalid_pod(spec: dict[str, Any], expected: list[str]) -> None:
    assert errors("Pod", new_pod(**spec)) == expected


def test_valid_pod_and_s4_catch_all_toleration() -> None:
    assert errors("Pod", new_pod(tolerations=[{"operator": "Exists"}])) == []


def test_pod_update_may_only_change_image() -> None:
    old = new_pod()
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.26"
    assert validate_update("Pod", new, old) == []
    new["spec"]["nodeName"] = "node-1"
    (err,) = validate_update("Pod", new, old)
    assert err.field == "spec"
    assert err.body().startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "
        "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
        "previously negative)\n"
    )
    assert "nodeName" in err.body()


def test_pod_update_tolerations_only_additions() -> None:
    old = new_pod(tolerations=[{"key": "a", "operator": "Exists"}])
    added = copy.deepcopy(old)
    added["spec"]["tolerations"].append({"key": "b", "operator": "Exists"})
    assert validate_update("Pod", added, old) == []
    removed = copy.deepcopy(old)
    removed["spec"]["tolerations"] = []
    assert (
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"
        in [str(e) for e in validate_update("Pod", removed, old)]
    )


def test_pod_update_cannot_add_containers() -> None:
    old = new_pod()
    new = copy.deepcopy(old)
    new["spec"]["containers"].append({**new["spec"]["containers"][0], "name": "d"})
    assert [str(e) for e in validate_update("Pod", new, old)] == [
        "spec.containers: Forbidden: pod updates may not add or remove containers"
    ]


def test_pod_status_update_may_not_bind() -> None:
    old = new_pod()
    new = copy.deepcopy(old)
    new["spec"]["nodeName"] = "n1"
    assert [str(e) for e in validate_status_update("Pod", new, old)] == [
        "status.nodeName: Forbidden: may not be changed directly"
    ]


def new_node(*taints: dict[str, str]) -> dict[str, Any]:
    node: dict[str, Any] = {"metadata": {"name": "node-1"}, "spec": {"taints": list(taints)}}
    apply_defaults("Node", node)
    return node


NODE_CASES = [
    pytest.param(
        [{"key": "k", "value": "v", "effect": "NoScheduleNoAdmit"}],
        [
            'metadata.taints[0].effect: Unsupported value: "NoScheduleNoAdmit": supported values: "NoSchedule", '
            '"PreferNoSchedule", "NoExecute"'
        ],
        id="bad-effect",
    ),
    pytest.param(
        [{"key": "k", "value": "v"}], ["metadata.taints[0].effect: Required value"], id="missing-effect"
    ),
    pytest.param(
        [
            {"key": "k", "value": "v1", "effect": "NoSchedule"},
            {"key": "k", "value": "v2", "effect": "NoSchedule"},
        ],
        [
            'metadata.taints[1]: Duplicate value: {"effect":"NoSchedule","key":"k","value":"v2"}: '
            "taints must be unique by key and effect pair"
        ],
        id="duplicate-key-effect",
    ),
    pytest.param(
        [{"key": "", "effect": "NoSchedule"}],
        [
            'metadata.taints[0].key: Invalid value: "": name part must be non-empty',
            "metadata.taints[0].key: Invalid value: ",
        ],
        id="empty-key",
    ),
]


@pytest.mark.parametrize(("taints", "expected"), NODE_CASES)
def test_invalid_node_taints(taints: list[dict[str, str]], expected: list[str]) -> None:
    got = errors("Node", new_node(*taints))
    assert len(got) == len(expected)
    for message, prefix in zip(got, expected, strict=True):
        assert message.startswith(prefix)


def test_node_same_key_different_effects_is_valid() -> None:
    node = new_node({"key": "k", "effect": "NoSchedule"}, {"key": "k", "effect": "NoExecute"})
    assert errors("Node", node) == []


def test_node_may_not_be_namespaced() -> None:
    node = new_node()
    node["metadata"]["namespace"] = "default"
    assert errors("Node", node) == ["metadata.namespace: Forbidden: not allowed on this type"]


def test_node_update_keeps_provider_id() -> None:
    old = new_node()
    old["spec"]["providerID"] = "kubeds://node-1"
    new = copy.deepcopy(old)
    new["spec"]["providerID"] = "kubeds://other"
    assert [str(e) for e in validate_update("Node", new, old)] == [
        'spec.providerID: Forbidden: node updates may not change providerID except from "" to valid'
    ]


def new_pdb(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "pdb", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, **spec},
    }


PDB_CASES = [
    pytest.param(
        {"minAvailable": 1, "maxUnavailable": 1},
        [
            'spec: Invalid value: {"maxUnavailable":1,"minAvailable":1,"selector":{"matchLabels":{"a":"b"}}}: '
            "minAvailable and maxUnavailable cannot be both set"
        ],
        id="both-set",
    ),
    pytest.param(
        {"minAvailable": -1},
        ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"],
        id="negative",
    ),
    pytest.param(
        {"maxUnavailable": "101%"},
        ['spec.maxUnavailable: Invalid value: "101%": must not be greater than 100%'],
        id="over-100",
    ),
    pytest.param(
        {"minAvailable": "ten"},
        [
            'spec.minAvailable: Invalid value: "ten": a valid percent string must be a numeric string followed by '
            "an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
        ],
        id="bad-percent",
    ),
    pytest.param(
        {"minAvailable": 1, "unhealthyPodEvictionPolicy": "Never"},
        [
            'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"'
        ],
        id="bad-eviction-policy",
    ),
]


@pytest.mark.parametrize(("spec", "expected"), PDB_CASES)
def test_invalid_pdb(spec: dict[str, Any], expected: list[str]) -> None:
    assert errors("PodDisruptionBudget", new_pdb(**spec)) == expected


def test_valid_pdbs() -> None:
    assert errors("PodDisruptionBudget", new_pdb(minAvailable="50%")) == []
    assert errors("PodDisruptionBudget", new_pdb(maxUnavailable=0)) == []


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("tier1", 1000, []),
        ("system-node-critical", 2000001000, []),
        (
            "system-foo",
            1,
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use "
                "only. error: system-foo is not a known system priority class"
            ],
        ),
        (
            "big",
            2000000000,
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
        ),
    ],
)
def test_priority_class(name: str, value: int, expected: list[str]) -> None:
    pc: dict[str, Any] = {"metadata": {"name": name}, "value": value}
    apply_defaults("PriorityClass", pc)
    assert errors("PriorityClass", pc) == expected


def test_priority_class_value_immutable() -> None:
    old: dict[str, Any] = {"metadata": {"name": "tier1"}, "value": 1}
    apply_defaults("PriorityClass", old)
    new = {**old, "value": 2}
    assert [str(e) for e in validate_update("PriorityClass", new, old)] == [
        "value: Forbidden: may not be changed in an update."
    ]


def test_namespace_name_is_a_dns_label() -> None:
    ns: dict[str, Any] = {"metadata": {"name": "a.b"}}
    apply_defaults("Namespace", ns)
    (message,) = errors("Namespace", ns)
    assert message.startswith(
        'metadata.name: Invalid value: "a.b": a lowercase RFC 1123 label must consist of'
    )


def test_config_map_keys() -> None:
    cm = {"metadata": {"name": "c", "namespace": "default"}, "data": {"ok.key": "1", "bad key": "2"}}
    (message,) = errors("ConfigMap", cm)
    assert message.startswith('data[bad key]: Invalid value: "bad key": a valid config key must consist of')


def test_lease_spec() -> None:
    lease = {"metadata": {"name": "n", "namespace": "kube-node-lease"}, "spec": {"leaseDurationSeconds": 0}}
    assert errors("Lease", lease) == ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]


def test_event_involved_object_namespace_must_match() -> None:
    event = {
        "metadata": {"name": "e", "namespace": "kube-system"},
        "involvedObject": {"namespace": "default"},
    }
    apply_defaults("Event", event)
    assert errors("Event", event) == [
        'involvedObject.namespace: Invalid value: "default": does not match event.namespace'
    ]


def test_generic_metadata_update_rules() -> None:
    old: dict[str, Any] = {"metadata": {"name": "sa", "namespace": "default", "uid": "u1"}}
    new = copy.deepcopy(old)
    new["metadata"]["uid"] = "u2"
    assert [str(e) for e in validate_update("ServiceAccount", new, old)] == [
        'metadata.uid: Invalid value: "u2": field is immutable'
    ]
