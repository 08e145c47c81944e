"""decode_object on hand-encoded bodies, field numbers taken from upstream generated.proto files.

The bodies are written the way client-go's gogo-generated marshallers write them: every plain Go
field is on the wire even when empty (``name: ""``, ``generation: 0``), pointer fields only when set.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubeds.apiserver.protobuf import encode_unknown, encode_varint, field_bytes, field_string, field_varint
from kubeds.apiserver.protoschema import decode_message, decode_object, load_schema


def msg(number: int, *parts: bytes) -> bytes:
    """An embedded message field made of already-encoded fields."""
    return field_bytes(number, b"".join(parts))


def entry(number: int, key: str, value: bytes) -> bytes:
    """One map entry: {key(1), value(2)}; ``value`` is an already-encoded field 2."""
    return msg(number, field_string(1, key), value)


def object_meta(name: str, *extra: bytes) -> bytes:
    """meta.v1.ObjectMeta as client-go writes it for a new object (plain fields always present)."""
    return msg(
        1,
        field_string(1, name),
        field_string(2, ""),  # generateName
        field_string(3, ""),  # namespace
        field_string(4, ""),  # selfLink
        field_string(5, ""),  # uid
        field_string(6, ""),  # resourceVersion
        field_varint(7, 0),  # generation
        field_bytes(8, b""),  # creationTimestamp: the zero Time is an empty message
        *extra,
    )


def body(api_version: str, kind: str, *fields: bytes) -> bytes:
    return encode_unknown(b"".join(fields), api_version=api_version, kind=kind)


def test_namespace() -> None:
    got = decode_object(
        body(
            "v1",
            "Namespace",
            object_meta("team-a", entry(11, "env", field_string(2, "prod"))),
            msg(2, field_string(1, "kubernetes")),  # spec.finalizers
            msg(3, field_string(1, "")),  # status.phase: plain string with omitempty
        )
    )
    assert got == {
        "kind": "Namespace",
        "apiVersion": "v1",
        "metadata": {"name": "team-a", "creationTimestamp": None, "labels": {"env": "prod"}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {},
    }
    assert list(got)[:2] == ["kind", "apiVersion"]


def test_configmap_data_binary_data_and_immutable_false() -> None:
    got = decode_object(
        body(
            "v1",
            "ConfigMap",
            object_meta("cfg", field_string(3, "ns1")),
            entry(2, "a", field_string(2, "b")),
            entry(2, "empty", field_string(2, "")),
            entry(2, "a", field_string(2, "last wins")),
            entry(3, "bin", field_bytes(2, b"\x00\xff")),
            field_varint(4, 0),  # immutable: *bool, present and false
        )
    )
    assert got["metadata"] == {"name": "cfg", "namespace": "ns1", "creationTimestamp": None}
    assert got["data"] == {"a": "last wins", "empty": ""}
    assert got["binaryData"] == {"bin": base64.b64encode(b"\x00\xff").decode()}
    assert got["immutable"] is False


def quantity(text: str) -> bytes:
    """A map value (field 2) holding a resource.Quantity {string(1)}."""
    return field_bytes(2, field_string(1, text))


def _container() -> bytes:
    port = msg(6, field_string(1, "http"), field_varint(2, 0), field_varint(3, 8080), field_string(4, "TCP"))
    resources = msg(
        8,
        entry(1, "cpu", quantity("250m")),  # limits
        entry(2, "cpu", quantity("100m")),  # requests
        entry(2, "memory", quantity("64Mi")),
    )
    http_get = msg(
        1,  # Probe.handler (inline ProbeHandler) -> httpGet(2)
        msg(2, field_string(1, "/healthz"), msg(2, field_varint(1, 1), field_string(3, "http"))),
    )
    probe = msg(11, http_get, field_varint(2, 0), field_varint(4, 10))  # readinessProbe
    return msg(
        2,  # PodSpec.containers
        field_string(1, "web"),
        field_string(2, "nginx:1.27"),
        field_string(3, "nginx"),
        field_string(3, "-g"),
        port,
        resources,
        probe,
        field_string(13, ""),  # terminationMessagePath
        field_varint(16, 0),  # stdin
    )


def test_deployment_replicas_zero_and_pod_template() -> None:
    volume = msg(1, field_string(1, "scratch"), msg(2, msg(2, field_string(1, "Memory"))))  # emptyDir(2)
    template = msg(
        3,
        msg(1, field_bytes(8, b""), entry(11, "app", field_string(2, "web"))),
        msg(
            2,
            volume,
            _container(),
            field_string(3, "Always"),
            field_varint(4, 30),  # terminationGracePeriodSeconds (*int64)
            field_varint(11, 0),  # hostNetwork: plain bool, omitempty
        ),
    )
    max_unavailable = msg(1, field_varint(1, 1), field_string(3, "25%"))
    strategy = msg(4, field_string(1, "RollingUpdate"), msg(2, max_unavailable, msg(2, field_varint(2, 0))))
    got = decode_object(
        body(
            "apps/v1",
            "Deployment",
            object_meta("web"),
            msg(
                2,
                field_varint(1, 0),  # replicas: *int32, 0 is meaningful
                msg(2, entry(1, "app", field_string(2, "web"))),
                template,
                strategy,
                field_varint(5, 0),  # minReadySeconds
                field_varint(6, 0),  # revisionHistoryLimit (*int32)
            ),
            msg(3, field_varint(1, 0), field_varint(2, 0)),
        )
    )
    spec = got["spec"]
    assert spec["replicas"] == 0
    assert spec["revisionHistoryLimit"] == 0
    assert "minReadySeconds" not in spec
    assert spec["selector"] == {"matchLabels": {"app": "web"}}
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 0},
    }
    pod = spec["template"]["spec"]
    assert pod["volumes"] == [{"name": "scratch", "emptyDir": {"medium": "Memory"}}]  # VolumeSource inlined
    assert pod["restartPolicy"] == "Always"
    assert pod["terminationGracePeriodSeconds"] == 30
    assert "hostNetwork" not in pod
    assert pod["containers"] == [
        {
            "name": "web",
            "image": "nginx:1.27",
            "command": ["nginx", "-g"],
            "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
            "resources": {"limits": {"cpu": "250m"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
            "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
        }
    ]
    assert spec["template"]["metadata"] == {"creationTimestamp": None, "labels": {"app": "web"}}
    assert got["status"] == {}


def test_priority_class_negative_value_and_optional_policy() -> None:
    got = decode_object(
        body(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            object_meta("low"),
            field_varint(2, -10),  # int32 sent as a 10-byte sign-extended varint
            field_varint(3, 1),
            field_string(4, "batch jobs"),
            field_string(5, "Never"),
        )
    )
    assert got == {
        "kind": "PriorityClass",
        "apiVersion": "scheduling.k8s.io/v1",
        "metadata": {"name": "low", "creationTimestamp": None},
        "value": -10,
        "globalDefault": True,
        "description": "batch jobs",
        "preemptionPolicy": "Never",
    }


@pytest.mark.parametrize(
    ("int_or_string", "want"),
    [
        (msg(1, field_varint(1, 0), field_varint(2, 2), field_string(3, "")), 2),
        (msg(1, field_varint(1, 1), field_varint(2, 0), field_string(3, "50%")), "50%"),
    ],
)
def test_pdb_min_available(int_or_string: bytes, want: Any) -> None:
    got = decode_object(
        body(
            "policy/v1",
            "PodDisruptionBudget",
            object_meta("p"),
            msg(
                2,
                int_or_string,
                msg(2, msg(2, field_string(1, "tier"), field_string(2, "In"), field_string(3, "web"))),
            ),
            msg(3, field_varint(1, 0), field_varint(3, 0)),
        )
    )
    assert got["spec"] == {
        "minAvailable": want,
        "selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]},
    }
    assert got["status"] == {"disruptionsAllowed": 0}  # plain int32 without omitempty


def test_controller_revision_raw_extension_and_owner_reference() -> None:
    owner = msg(
        13,
        field_string(1, "DaemonSet"),
        field_string(3, "ds"),
        field_string(4, "uid-1"),
        field_string(5, "apps/v1"),
        field_varint(6, 1),  # controller (*bool)
        field_varint(7, 1),  # blockOwnerDeletion (*bool)
    )
    got = decode_object(
        body(
            "apps/v1",
            "ControllerRevision",
            object_meta("ds-5d8f", owner),
            msg(2, field_bytes(1, b'{"spec":{"template":{"$patch":"replace"}}}')),
            field_varint(3, 3),
        )
    )
    assert got["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "name": "ds",
            "uid": "uid-1",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert got["data"] == {"spec": {"template": {"$patch": "replace"}}}
    assert got["revision"] == 3


def test_lease_micro_time_and_event_times() -> None:
    lease = decode_object(
        body(
            "coordination.k8s.io/v1",
            "Lease",
            object_meta("node-1", field_string(3, "kube-node-lease")),
            msg(
                2,
                field_string(1, "node-1"),
                field_varint(2, 40),
                msg(4, field_varint(1, 1700000000), field_varint(2, 123456789)),
            ),
        )
    )
    assert lease["spec"] == {
        "holderIdentity": "node-1",
        "leaseDurationSeconds": 40,
        "renewTime": "2023-11-14T22:13:20.123456Z",
    }
    event = decode_object(
        body(
            "v1",
            "Event",
            object_meta("e1"),
            msg(2, field_string(1, "Pod"), field_string(3, "p")),
            field_string(3, "Scheduled"),
            msg(6, field_varint(1, 1700000000)),
            field_bytes(10, b""),  # eventTime: zero MicroTime
            field_varint(8, 1),
        )
    )
    assert event["firstTimestamp"] == "2023-11-14T22:13:20Z"
    assert event["eventTime"] is None
    assert event["count"] == 1
    assert event["involvedObject"] == {"kind": "Pod", "name": "p"}


def test_managed_fields_and_eviction_delete_options() -> None:
    managed = msg(
        17,
        field_string(1, "kubectl"),
        field_string(2, "Update"),
        field_string(3, "v1"),
        msg(4, field_varint(1, 1700000000)),
        field_string(6, "FieldsV1"),
        msg(7, field_bytes(1, b'{"f:metadata":{"f:labels":{}}}')),
    )
    got = decode_object(
        body(
            "policy/v1",
            "Eviction",
            object_meta("pod-1", field_string(3, "default"), managed),
            msg(2, field_varint(1, 0), msg(2, field_string(1, "uid-9")), field_string(5, "All")),
        )
    )
    assert got["metadata"]["managedFields"] == [
        {
            "manager": "kubectl",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2023-11-14T22:13:20Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:metadata": {"f:labels": {}}},
        }
    ]
    assert got["deleteOptions"] == {
        "gracePeriodSeconds": 0,
        "preconditions": {"uid": "uid-9"},
        "dryRun": ["All"],
    }


def test_delete_options_registered_in_every_group_version() -> None:
    for api_version in ("v1", "apps/v1", "meta.k8s.io/v1"):
        got = decode_object(body(api_version, "DeleteOptions", field_string(4, "Foreground")))
        assert got == {"kind": "DeleteOptions", "apiVersion": api_version, "propagationPolicy": "Foreground"}


def test_wire_details_unknown_fields_packed_repeats_and_merges() -> None:
    schema = load_schema()
    # PodSecurityContext.supplementalGroups(4) repeated int64, packed; field 99 is unknown
    packed = field_bytes(4, encode_varint(1000) + encode_varint(2000))
    got = decode_message(
        packed + field_varint(4, 3000) + field_string(99, "?"), "k8s.io.api.core.v1.PodSecurityContext"
    )
    assert got == {"supplementalGroups": [1000, 2000, 3000]}
    # a singular message sent twice merges (protobuf semantics): NamespaceSpec sees both finalizers
    spec = msg(2, field_string(1, "a")) + msg(2, field_string(1, "b"))
    assert decode_object(body("v1", "Namespace", spec))["spec"] == {"finalizers": ["a", "b"]}
    # invalid UTF-8 is replaced, as encoding/json does
    bad = decode_object(body("v1", "ConfigMap", entry(2, "k", field_bytes(2, b"a\xffb"))))
    assert bad["data"] == {"k": "a\ufffdb"}
    assert schema.source["kubernetes/api"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"kind":"Namespace"}', "magic number"),
        (b"k8s\x00" + b"\x0a\x05", "field 1 runs past the end of the message"),
        (body("v1", "Secret", b""), 'no kind "Secret" is registered for version "v1"'),
        (
            body("example.com/v1", "Namespace", b""),
            'no kind "Namespace" is registered for version "example.com/v1"',
        ),
        (body("", "", b""), "object has no kind"),
        (
            encode_unknown(b"", api_version="v1", kind="Namespace", content_encoding="gzip"),
            "content encoding 'gzip'",
        ),
        (body("v1", "Namespace", field_varint(1, 5)), "<root>: field 1 has wire type 0, expected 2"),
        (
            body("v1", "Namespace", msg(1, field_string(7, "x"))),
            "metadata: field 7 has wire type 2, expected 0",
        ),
        (
            body("apps/v1", "Deployment", msg(2, msg(3, msg(2, msg(2, field_varint(1, 1)))))),
            r"spec.template.spec.containers\[0\]: field 1 has wire type 0, expected 2",
        ),
        (
            body("apps/v1", "ControllerRevision", msg(2, field_bytes(1, b"not json"))),
            "data: RawExtension: raw is not valid JSON",
        ),
        (
            body("policy/v1", "PodDisruptionBudget", msg(2, msg(1, field_varint(1, 7)))),
            "spec.minAvailable: IntOrString: impossible type 7",
        ),
    ],
)
def test_malformed_bodies_raise_value_error(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_object(data)


def test_subresource_kinds_scale_and_binding() -> None:
    scale = decode_object(
        body(
            "autoscaling/v1",
            "Scale",
            object_meta("web", field_string(3, "ns")),
            msg(2, field_varint(1, 3)),
            msg(3, field_varint(1, 1), field_string(2, "app=web")),
        )
    )
    assert scale == {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {"name": "web", "namespace": "ns", "creationTimestamp": None},
        "spec": {"replicas": 3},
        "status": {"replicas": 1, "selector": "app=web"},
    }
    # ScaleSpec.replicas is a plain int32 with omitempty: a Go client's JSON for 0 is "spec": {},
    # and the protobuf decodes the same way
    zero = decode_object(body("autoscaling/v1", "Scale", object_meta("web"), msg(2, field_varint(1, 0))))
    assert zero["spec"] == {}
    binding = decode_object(
        body(
            "v1", "Binding", object_meta("pod-1"), msg(2, field_string(1, "Node"), field_string(3, "node-1"))
        )
    )
    assert binding["target"] == {"kind": "Node", "name": "node-1"}
