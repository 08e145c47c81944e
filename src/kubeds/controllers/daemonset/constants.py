"""Names, reasons, messages and limits of the DaemonSet controller.

Values are upstream's: ``pkg/controller/daemon/daemon_controller.go`` (reasons, ``BurstReplicas``,
``StatusUpdateRetries``, ``BackoffGCInterval``), ``pkg/controller/controller_utils.go``
(``SlowStartInitialBatchSize``, ``ExpectationsTimeout``, pod-control event reasons),
``k8s.io/api/apps/v1`` and ``extensions/v1beta1`` (label and annotation keys) and
``k8s.io/api/core/v1/well_known_taints.go`` (taint keys). Messages with ``{placeholders}`` are
``str.format`` templates rendering exactly what upstream's ``fmt.Sprintf`` renders.
"""

from __future__ import annotations

# --- identity --------------------------------------------------------------------------------------
CONTROLLER_NAME = "daemonset-controller"  # event source component
API_VERSION = "apps/v1"
KIND = "DaemonSet"
REVISION_KIND = "ControllerRevision"

# --- labels and annotations ------------------------------------------------------------------------
# apps.DefaultDaemonSetUniqueLabelKey == apps.ControllerRevisionHashLabelKey.
CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash"
# extensions.DaemonSetTemplateGenerationKey.
POD_TEMPLATE_GENERATION_LABEL = "pod-template-generation"
# apps.DeprecatedTemplateGeneration: the apps/v1 form of the internal spec.templateGeneration.
DEPRECATED_TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"

# --- limits ----------------------------------------------------------------------------------------
BURST_REPLICAS = 250  # max creates and max deletes per sync
SLOW_START_INITIAL_BATCH_SIZE = 1
STATUS_UPDATE_RETRIES = 1
BACKOFF_GC_INTERVAL_SECONDS = 60.0
FAILED_POD_BACKOFF_INITIAL_SECONDS = 1.0  # cmd/kube-controller-manager/app/apps.go
FAILED_POD_BACKOFF_MAX_SECONDS = 15 * 60.0
EXPECTATIONS_TIMEOUT_SECONDS = 5 * 60.0
DEFAULT_REVISION_HISTORY_LIMIT = 10

# --- update strategies -----------------------------------------------------------------------------
ROLLING_UPDATE = "RollingUpdate"
ON_DELETE = "OnDelete"

# --- event types, reasons and messages -------------------------------------------------------------
EVENT_NORMAL = "Normal"
EVENT_WARNING = "Warning"

SELECTING_ALL_REASON = "SelectingAll"
MSG_SELECTING_ALL = "This daemon set is selecting all pods. A non-empty selector is required."
FAILED_PLACEMENT_REASON = "FailedPlacement"  # still defined upstream, no longer emitted
FAILED_DAEMON_POD_REASON = "FailedDaemonPod"
MSG_FAILED_DAEMON_POD = "Found failed daemon pod {namespace}/{pod} on node {node}, will try to kill it"
SUCCEEDED_DAEMON_POD_REASON = "SucceededDaemonPod"
MSG_SUCCEEDED_DAEMON_POD = (
    "Found succeeded daemon pod {namespace}/{pod} on node {node}, will try to delete it"
)

# Emitted by pod control (controller_utils.go RealPodControl).
SUCCESSFUL_CREATE_REASON = "SuccessfulCreate"
MSG_SUCCESSFUL_CREATE = "Created pod: {pod}"
FAILED_CREATE_REASON = "FailedCreate"
MSG_FAILED_CREATE = "Error creating: {error}"
SUCCESSFUL_DELETE_REASON = "SuccessfulDelete"
MSG_SUCCESSFUL_DELETE = "Deleted pod: {pod}"
FAILED_DELETE_REASON = "FailedDelete"
MSG_FAILED_DELETE = "Error deleting: {error}"

# --- error messages (returned to the work queue) ---------------------------------------------------
MSG_INVALID_MAX_UNAVAILABLE = "invalid value for MaxUnavailable: {error}"
MSG_INVALID_MAX_SURGE = "invalid value for MaxSurge: {error}"
MSG_UNAVAILABLE_NUMBERS = "couldn't get unavailable numbers: {error}"
MSG_NODE_FOR_NAME = 'couldn\'t get node for nodeName "{node}": node "{node}" not found'
MSG_STALE_COLLISION_COUNT = (
    'found a stale collision count ({stale}, expected {fresh}) of DaemonSet "{name}" while processing; '
    "will retry until it is updated"
)
MSG_DS_GONE = "original DaemonSet {namespace}/{name} is gone: got uid {got}, wanted {wanted}"
MSG_NO_REQUIRED_AFFINITY = (
    "no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod {namespace}/{name}"
)
MSG_NO_TERMS = (
    "no nodeSelectorTerms in requiredDuringSchedulingIgnoredDuringExecution of pod {namespace}/{name}"
)
MSG_NOT_UNIQUE = "the matchFields value of 'metadata.name' is not unique for pod {namespace}/{name}"
MSG_NO_NODE_NAME = "no node name found for pod {namespace}/{name}"

# --- well-known taints (the default daemon tolerations) --------------------------------------------
TAINT_NODE_NOT_READY = "node.kubernetes.io/not-ready"
TAINT_NODE_UNREACHABLE = "node.kubernetes.io/unreachable"
TAINT_NODE_DISK_PRESSURE = "node.kubernetes.io/disk-pressure"
TAINT_NODE_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure"
TAINT_NODE_PID_PRESSURE = "node.kubernetes.io/pid-pressure"
TAINT_NODE_UNSCHEDULABLE = "node.kubernetes.io/unschedulable"
TAINT_NODE_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"

NODE_NAME_FIELD = "metadata.name"  # metav1.ObjectNameField
