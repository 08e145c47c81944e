"""Table column definitions for every served kind, as upstream's ``AddHandlers`` declares them.

Source: ``pkg/printers/internalversion/printers.go`` (``AddHandlers``) for the per-kind columns,
and ``staging/src/k8s.io/apiserver/pkg/registry/rest/table.go`` (``defaultTableConvertor``) for the
``Name``/``Created At`` fallback. Names, types, formats and priorities are upstream's exactly;
kubectl upper-cases the names for the header and shows priority >= 1 only with ``-o wide``.

Descriptions are upstream's ``SwaggerDoc()`` texts of the fields each column shows (the same text
as the OpenAPI schema) or the literal strings ``AddHandlers`` uses. kubectl never prints them.

Every definition carries all five keys, as ``metav1.TableColumnDefinition`` serialises (none of
its fields is ``omitempty``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["COLUMNS", "DEFAULT_COLUMNS"]

# metav1.ObjectMeta
NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATION_TIMESTAMP_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients may "
    "not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. "
    "Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."
SELECTOR_LINK = (
    "More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
)
DAEMONSET_LINK = "More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
REPLICASET_LINK = "More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
NODE_ADDRESSES_DOC = (
    "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as "
    "mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it "
    "is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for "
    "an example. Consumers should assume that addresses can change during the lifetime of a Node. "
    "However, there are some exceptions where this may not be possible, such as Pods that inherit a "
    "Node's address in its own status or consumers of the downward API (status.hostIP)."
)


def col(name: str, *, type_: str, description: str, priority: int = 0, format_: str = "") -> dict[str, Any]:
    """One ``metav1.TableColumnDefinition``."""
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


def _name() -> dict[str, Any]:
    return col("Name", type_="string", description=NAME_DOC, format_="name")


def _age() -> dict[str, Any]:
    return col("Age", type_="string", description=CREATION_TIMESTAMP_DOC)


def _template_columns(selector_doc: str) -> list[dict[str, Any]]:
    return [
        col("Containers", type_="string", description=CONTAINERS_DOC, priority=1),
        col("Images", type_="string", description=IMAGES_DOC, priority=1),
        col("Selector", type_="string", description=selector_doc, priority=1),
    ]


POD_COLUMNS = [
    _name(),
    col(
        "Ready",
        type_="string",
        description="The aggregate readiness state of this pod for accepting traffic.",
    ),
    col("Status", type_="string", description="The aggregate status of the containers in this pod."),
    col(
        "Restarts",
        type_="string",
        description=(
            "The number of times the containers in this pod have been restarted and when the last "
            "container in this pod has restarted."
        ),
    ),
    _age(),
    col(
        "IP",
        type_="string",
        description=(
            "podIP address allocated to the pod. Routable at least within the cluster. "
            "Empty if not yet allocated."
        ),
        priority=1,
    ),
    col(
        "Node",
        type_="string",
        description=(
            "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for "
            "scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for "
            "this node becomes responsible for the lifecycle of this pod. This field should not be used to "
            "express a desire for the pod to be scheduled on a specific node. "
            "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename"
        ),
        priority=1,
    ),
    col(
        "Nominated Node",
        type_="string",
        description=(
            "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be "
            "scheduled right away as preemption victims receive their graceful termination periods. This "
            "field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to "
            "place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to "
            "give the resources on this node to a higher priority pod that is created after preemption. As "
            "a result, this field may be different than PodSpec.nodeName when the pod is scheduled."
        ),
        priority=1,
    ),
    col(
        "Readiness Gates",
        type_="string",
        description=(
            "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all "
            "its containers are ready AND all conditions specified in the readiness gates have status equal "
            'to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates'
        ),
        priority=1,
    ),
]

NODE_COLUMNS = [
    _name(),
    col("Status", type_="string", description="The status of the node"),
    col("Roles", type_="string", description="The roles of the node"),
    _age(),
    col("Version", type_="string", description="Kubelet Version reported by the node."),
    col("Internal-IP", type_="string", description=NODE_ADDRESSES_DOC, priority=1),
    col("External-IP", type_="string", description=NODE_ADDRESSES_DOC, priority=1),
    col(
        "OS-Image",
        type_="string",
        description="OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
        priority=1,
    ),
    col(
        "Kernel-Version",
        type_="string",
        description="Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
        priority=1,
    ),
    col(
        "Container-Runtime",
        type_="string",
        description=(
            "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2)."
        ),
        priority=1,
    ),
]

DAEMONSET_COLUMNS = [
    _name(),
    col(
        "Desired",
        type_="integer",
        description=(
            "The total number of nodes that should be running the daemon pod (including nodes correctly "
            f"running the daemon pod). {DAEMONSET_LINK}"
        ),
    ),
    col(
        "Current",
        type_="integer",
        description=(
            "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon "
            f"pod. {DAEMONSET_LINK}"
        ),
    ),
    col(
        "Ready",
        type_="integer",
        description=(
            "numberReady is the number of nodes that should be running the daemon pod and have one or more "
            "of the daemon pod running with a Ready Condition."
        ),
    ),
    col(
        "Up-to-date",
        type_="integer",
        description="The total number of nodes that are running updated daemon pod",
    ),
    col(
        "Available",
        type_="integer",
        description=(
            "The number of nodes that should be running the daemon pod and have one or more of the daemon "
            "pod running and available (ready for at least spec.minReadySeconds)"
        ),
    ),
    col(
        "Node Selector",
        type_="string",
        description=(
            "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must "
            "match a node's labels for the pod to be scheduled on that node. More info: "
            "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"
        ),
    ),
    _age(),
    *_template_columns(
        "A label query over pods that are managed by the daemon set. Must match in order to be "
        f"controlled. It must match the pod template's labels. {SELECTOR_LINK}"
    ),
]

DEPLOYMENT_COLUMNS = [
    _name(),
    col("Ready", type_="string", description="Number of the pod with ready state"),
    col(
        "Up-to-date",
        type_="string",
        description=(
            "Total number of non-terminating pods targeted by this deployment that have the desired "
            "template spec."
        ),
    ),
    col(
        "Available",
        type_="string",
        description=(
            "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted "
            "by this deployment."
        ),
    ),
    _age(),
    *_template_columns(
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones "
        "affected by this deployment. It must match the pod template's labels."
    ),
]

REPLICASET_COLUMNS = [
    _name(),
    col(
        "Desired",
        type_="integer",
        description=(
            "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero "
            f"and unspecified. Defaults to 1. {REPLICASET_LINK}"
        ),
    ),
    col(
        "Current",
        type_="integer",
        description=(
            f"Replicas is the most recently observed number of non-terminating pods. {REPLICASET_LINK}"
        ),
    ),
    col(
        "Ready",
        type_="integer",
        description="The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    _age(),
    *_template_columns(
        "Selector is a label query over pods that should match the replica count. Label keys and values "
        "that must match in order to be controlled by this replica set. It must match the pod "
        f"template's labels. {SELECTOR_LINK}"
    ),
]

CONTROLLER_REVISION_COLUMNS = [
    _name(),
    col("Controller", type_="string", description="Controller of the object"),
    col(
        "Revision",
        type_="string",
        description="Revision indicates the revision of the state represented by Data.",
    ),
    _age(),
]

EVENT_COLUMNS = [
    col(
        "Last Seen",
        type_="string",
        description="The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        type_="string",
        description="Type of this event (Normal, Warning), new types could be added in the future",
    ),
    col(
        "Reason",
        type_="string",
        description=(
            "This should be a short, machine understandable string that gives the reason for the transition "
            "into the object's current status."
        ),
    ),
    col("Object", type_="string", description="The object that this event is about."),
    col(
        "Subobject",
        type_="string",
        description=(
            "If referring to a piece of an object instead of an entire object, this string should contain a "
            "valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, "
            "if the object reference is to a container within a pod, this would take on a value like: "
            '"spec.containers{name}" (where "name" refers to the name of the container that triggered the '
            'event) or if no container name is specified "spec.containers[2]" (container with index 2 in '
            "this pod). This syntax is chosen only to have some well-defined way of referencing a part of "
            "an object."
        ),
        priority=1,
    ),
    col(
        "Source",
        type_="string",
        description="The component reporting this event. Should be a short machine understandable string.",
        priority=1,
    ),
    col(
        "Message", type_="string", description="A human-readable description of the status of this operation."
    ),
    col(
        "First Seen",
        type_="string",
        description=(
            "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)"
        ),
        priority=1,
    ),
    col("Count", type_="string", description="The number of times this event has occurred.", priority=1),
    col("Name", type_="string", description=NAME_DOC, priority=1, format_="name"),
]

NAMESPACE_COLUMNS = [
    _name(),
    col("Status", type_="string", description="The status of the namespace"),
    _age(),
]

LEASE_COLUMNS = [
    _name(),
    col(
        "Holder",
        type_="string",
        description=(
            "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader "
            "Election is used, the holder identity must be equal to the elected "
            "LeaseCandidate.metadata.name field."
        ),
    ),
    _age(),
]

PDB_COLUMNS = [
    _name(),
    col("Min Available", type_="string", description="The minimum number of pods that must be available."),
    col("Max Unavailable", type_="string", description="The maximum number of pods that may be unavailable."),
    col(
        "Allowed Disruptions",
        type_="integer",
        description="Calculated number of pods that may be disrupted at this time.",
    ),
    _age(),
]

PRIORITY_CLASS_COLUMNS = [
    _name(),
    col(
        "Value",
        type_="integer",
        description=(
            "value represents the integer value of this priority class. This is the actual priority that "
            "pods receive when they have the name of this class in their pod spec."
        ),
    ),
    col(
        "Global-Default",
        type_="boolean",
        description=(
            "globalDefault specifies whether this PriorityClass should be considered as the default priority "
            "for pods that do not have any priority class. Only one PriorityClass can be marked as "
            "`globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` "
            "field set to true, the smallest value of such global default PriorityClasses will be used as "
            "the default priority."
        ),
    ),
    _age(),
    col(
        "PreemptionPolicy",
        type_="string",
        description=(
            "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, "
            "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."
        ),
    ),
]

CONFIGMAP_COLUMNS = [
    _name(),
    col(
        "Data",
        type_="string",
        description=(
            "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', "
            "'_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored "
            "in Data must not overlap with the keys in the BinaryData field, this is enforced during "
            "validation process."
        ),
    ),
    _age(),
]

SERVICE_ACCOUNT_COLUMNS = [
    _name(),
    col(
        "Secrets",
        type_="string",
        description=(
            "Secrets is a list of the secrets in the same namespace that pods running using this "
            "ServiceAccount are allowed to use. Pods are only limited to this list if this service account "
            'has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The '
            '"kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate '
            "namespaces to isolate access to mounted secrets. This field should not be used to find "
            "auto-generated service account token secrets for use outside of pods. Instead, tokens can be "
            "requested directly using the TokenRequest API, or service account token secrets can be manually "
            "created. More info: https://kubernetes.io/docs/concepts/configuration/secret"
        ),
    ),
    _age(),
]

DEFAULT_COLUMNS = [_name(), col("Created At", type_="date", description=CREATION_TIMESTAMP_DOC)]

COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Pod": POD_COLUMNS,
    "Node": NODE_COLUMNS,
    "DaemonSet": DAEMONSET_COLUMNS,
    "Deployment": DEPLOYMENT_COLUMNS,
    "ReplicaSet": REPLICASET_COLUMNS,
    "ControllerRevision": CONTROLLER_REVISION_COLUMNS,
    "Event": EVENT_COLUMNS,
    "Namespace": NAMESPACE_COLUMNS,
    "Lease": LEASE_COLUMNS,
    "PodDisruptionBudget": PDB_COLUMNS,
    "PriorityClass": PRIORITY_CLASS_COLUMNS,
    "ConfigMap": CONFIGMAP_COLUMNS,
    "ServiceAccount": SERVICE_ACCOUNT_COLUMNS,
}
