"""Container validation: names, image, ports, env, volume mounts, resources, probes, pull policy.

Mirrors ``pkg/apis/core/validation/validation.go``: ``validateContainers``/``validateInitContainers``
(name required and a DNS-1123 label, unique across regular and init containers), then
``validateContainerCommon`` (image, terminationMessagePolicy, ``validateContainerPorts``,
``ValidateEnv``, ``ValidateVolumeMounts``, ``validatePullPolicy``,
``ValidateContainerResourceRequirements``) and the probe checks (``validateProbe``,
``validateHandler``). Messages are upstream's; checks for features kubeds does not simulate
(resize policy, Windows, AppArmor, seccomp, restartable init containers' probes) are left out.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.validation import meta, names, quantity
from kubeds.models.fielderrors import ErrorType, FieldError, Path

__all__ = ["validate_containers", "validate_init_containers"]

TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"]
PULL_POLICIES = ["Always", "IfNotPresent", "Never"]  # upstream lists the set sorted
PORT_PROTOCOLS = ["SCTP", "TCP", "UDP"]
STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
OVERCOMMIT_FORBIDDEN_PREFIXES = ("hugepages-",)
HANDLER_TYPES = ("exec", "httpGet", "tcpSocket", "grpc")
HTTP_SCHEMES = ["HTTP", "HTTPS"]
NON_INIT_RESTART_POLICY = "may not be set for non-init containers"
PROBES = (
    ("livenessProbe", True),
    ("readinessProbe", False),
    ("startupProbe", True),
)  # (name, successThreshold must be 1)
ENV_VALUE_FROM_SOURCES = ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _validate_ports(ports: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    seen: set[str] = set()
    for i, port in enumerate(_list(ports)):
        port, p = _dict(port), path.index(i)
        name = _str(port.get("name"))
        if name:
            msgs = names.is_valid_port_name(name)
            if msgs:
                errs.extend(FieldError.invalid(str(p.child("name")), name, m) for m in msgs)
            elif name in seen:
                errs.append(FieldError.duplicate(str(p.child("name")), name))
            else:
                seen.add(name)
        container_port = port.get("containerPort") or 0
        if container_port == 0:
            errs.append(FieldError.required(str(p.child("containerPort"))))
        elif isinstance(container_port, int):
            errs.extend(
                FieldError.invalid(str(p.child("containerPort")), container_port, m)
                for m in names.is_valid_port_num(container_port)
            )
        host_port = port.get("hostPort") or 0
        if isinstance(host_port, int) and host_port != 0:
            errs.extend(
                FieldError.invalid(str(p.child("hostPort")), host_port, m)
                for m in names.is_valid_port_num(host_port)
            )
        protocol = _str(port.get("protocol"))
        if not protocol:
            errs.append(FieldError.required(str(p.child("protocol"))))
        elif protocol not in PORT_PROTOCOLS:
            errs.append(FieldError.not_supported(str(p.child("protocol")), protocol, PORT_PROTOCOLS))
    return errs


def _validate_env(env: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    for i, var in enumerate(_list(env)):
        var, p = _dict(var), path.index(i)
        name = _str(var.get("name"))
        if not name:
            errs.append(FieldError.required(str(p.child("name"))))
        else:
            errs.extend(
                FieldError.invalid(str(p.child("name")), name, m) for m in names.is_relaxed_env_var_name(name)
            )
        value_from = var.get("valueFrom")
        if value_from is None:
            continue
        sources = [s for s in ENV_VALUE_FROM_SOURCES if _dict(value_from).get(s) is not None]
        vp = p.child("valueFrom")
        if not sources:
            detail = (
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"
            )
            errs.append(FieldError.invalid(str(vp), "", detail))
        elif len(sources) > 1:
            errs.append(
                FieldError.invalid(str(vp), "", "may not have more than one field specified at a time")
            )
        if _str(var.get("value")) and sources:
            errs.append(FieldError.invalid(str(vp), "", "may not be specified when `value` is not empty"))
        field_ref = _dict(value_from).get("fieldRef")
        if isinstance(field_ref, dict):
            if not _str(field_ref.get("fieldPath")):
                errs.append(FieldError.required(str(vp.child("fieldRef", "fieldPath"))))
            if not _str(field_ref.get("apiVersion")):
                errs.append(FieldError.required(str(vp.child("fieldRef", "apiVersion"))))
    return errs


def _validate_volume_mounts(mounts: Any, volumes: set[str], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    mount_points: set[str] = set()
    for i, mount in enumerate(_list(mounts)):
        mount, p = _dict(mount), path.index(i)
        name = _str(mount.get("name"))
        if not name:
            errs.append(FieldError.required(str(p.child("name"))))
        if name not in volumes:
            errs.append(FieldError(ErrorType.NOT_FOUND, str(p.child("name")), name))
        mount_path = _str(mount.get("mountPath"))
        if not mount_path:
            errs.append(FieldError.required(str(p.child("mountPath"))))
        if mount_path in mount_points:
            errs.append(FieldError.invalid(str(p.child("mountPath")), mount_path, "must be unique"))
        mount_points.add(mount_path)
    return errs


def _overcommit_allowed(resource: str) -> bool:
    return not resource.startswith(OVERCOMMIT_FORBIDDEN_PREFIXES)


def _validate_resource_name(resource: str, path: Path) -> list[FieldError]:
    errs = [FieldError.invalid(str(path), resource, m) for m in names.is_qualified_name(resource)]
    if "/" not in resource:
        if resource not in STANDARD_CONTAINER_RESOURCES and not resource.startswith("hugepages-"):
            errs.append(FieldError.invalid(str(path), resource, "must be a standard resource for containers"))
    return errs


def _validate_resources(resources: Any, path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    resources = _dict(resources)
    limits, requests = _dict(resources.get("limits")), _dict(resources.get("requests"))
    lim_path, req_path = path.child("limits"), path.child("requests")
    parsed_limits = {}
    for name, value in limits.items():
        p = lim_path.key(name)
        errs.extend(_validate_resource_name(name, p))
        amount = quantity.parse_quantity(value)
        if amount is None:
            errs.append(FieldError.invalid(str(p), value, quantity.QUANTITY_FORMAT_ERROR))
        elif amount < 0:
            errs.append(FieldError.invalid(str(p), str(value), names.IS_NEGATIVE_ERROR))
        else:
            parsed_limits[name] = amount
    for name, value in requests.items():
        p = req_path.key(name)
        errs.extend(_validate_resource_name(name, p))
        amount = quantity.parse_quantity(value)
        if amount is None:
            errs.append(FieldError.invalid(str(p), value, quantity.QUANTITY_FORMAT_ERROR))
            continue
        if amount < 0:
            errs.append(FieldError.invalid(str(p), str(value), names.IS_NEGATIVE_ERROR))
        if name in parsed_limits:
            limit = parsed_limits[name]
            if amount != limit and not _overcommit_allowed(name):
                detail = f"must be equal to {name} limit of {limits[name]}"
                errs.append(FieldError.invalid(str(req_path), str(value), detail))
            elif amount > limit:
                detail = f"must be less than or equal to {name} limit of {limits[name]}"
                errs.append(FieldError.invalid(str(req_path), str(value), detail))
        elif not _overcommit_allowed(name) and name not in limits:
            errs.append(
                FieldError.required(str(lim_path), "Limit must be set for non overcommitable resources")
            )
    return errs


def _validate_handler(handler: dict[str, Any], path: Path) -> list[FieldError]:
    present = [h for h in HANDLER_TYPES if handler.get(h) is not None]
    if not present:
        return [FieldError.required(str(path), "must specify a handler type")]
    errs: list[FieldError] = []
    for extra in present[1:]:
        errs.append(FieldError.forbidden(str(path.child(extra)), "may not specify more than 1 handler type"))
    kind = present[0]
    action, p = _dict(handler.get(kind)), path.child(kind)
    if kind == "exec" and not _list(action.get("command")):
        errs.append(FieldError.required(str(p.child("command"))))
    if kind == "httpGet":
        if not _str(action.get("path")):
            errs.append(FieldError.required(str(p.child("path"))))
        scheme = _str(action.get("scheme"))
        if scheme not in HTTP_SCHEMES:
            errs.append(FieldError.not_supported(str(p.child("scheme")), scheme, HTTP_SCHEMES))
    if kind in ("httpGet", "tcpSocket"):
        port = action.get("port")
        if isinstance(port, int) and not isinstance(port, bool):
            errs.extend(
                FieldError.invalid(str(p.child("port")), port, m) for m in names.is_valid_port_num(port)
            )
        elif isinstance(port, str):
            errs.extend(
                FieldError.invalid(str(p.child("port")), port, m) for m in names.is_valid_port_name(port)
            )
        else:
            errs.append(FieldError.required(str(p.child("port"))))
    return errs


def _validate_probe(probe: Any, path: Path, *, success_must_be_one: bool) -> list[FieldError]:
    if not isinstance(probe, dict):
        return []
    errs = _validate_handler(probe, path)
    for name in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        errs.extend(meta.validate_nonnegative(probe.get(name), path.child(name)))
    success = probe.get("successThreshold")
    if success_must_be_one and success is not None and success != 1:
        errs.append(FieldError.invalid(str(path.child("successThreshold")), success, "must be 1"))
    return errs


def _validate_common(container: dict[str, Any], volumes: set[str], path: Path) -> list[FieldError]:
    errs: list[FieldError] = []
    name = _str(container.get("name"))
    if not name:
        errs.append(FieldError.required(str(path.child("name"))))
    else:
        errs.extend(
            FieldError.invalid(str(path.child("name")), name, m) for m in names.is_dns1123_label(name)
        )
    if not _str(container.get("image")):
        errs.append(FieldError.required(str(path.child("image"))))
    policy = _str(container.get("terminationMessagePolicy"))
    if not policy:
        errs.append(FieldError.required(str(path.child("terminationMessagePolicy"))))
    elif policy not in TERMINATION_MESSAGE_POLICIES:
        errs.append(
            FieldError.not_supported(
                str(path.child("terminationMessagePolicy")), policy, TERMINATION_MESSAGE_POLICIES
            )
        )
    # The list checks find nothing in an absent list: skip them (and building their paths).
    if _list(container.get("ports")):
        errs.extend(_validate_ports(container.get("ports"), path.child("ports")))
    if _list(container.get("env")):
        errs.extend(_validate_env(container.get("env"), path.child("env")))
    if _list(container.get("volumeMounts")):
        errs.extend(
            _validate_volume_mounts(container.get("volumeMounts"), volumes, path.child("volumeMounts"))
        )
    pull = _str(container.get("imagePullPolicy"))
    if not pull:
        errs.append(FieldError.required(str(path.child("imagePullPolicy"))))
    elif pull not in PULL_POLICIES:
        errs.append(FieldError.not_supported(str(path.child("imagePullPolicy")), pull, PULL_POLICIES))
    errs.extend(_validate_resources(container.get("resources"), path.child("resources")))
    return errs


def validate_containers(containers: Any, volumes: set[str], path: Path) -> list[FieldError]:
    """``validateContainers``: at least one, each valid, names unique among regular containers."""
    items = _list(containers)
    errs: list[FieldError] = []
    if not items:
        errs.append(FieldError.required(str(path)))
    seen: set[str] = set()
    for i, container in enumerate(items):
        container, p = _dict(container), path.index(i)
        errs.extend(_validate_common(container, volumes, p))
        name = _str(container.get("name"))
        if name in seen:
            errs.append(FieldError.duplicate(str(p.child("name")), name))
        else:
            seen.add(name)
        for probe, success_must_be_one in PROBES:
            if isinstance(container.get(probe), dict):
                errs.extend(
                    _validate_probe(
                        container.get(probe), p.child(probe), success_must_be_one=success_must_be_one
                    )
                )
        if container.get("restartPolicy") is not None:
            errs.append(FieldError.forbidden(str(p.child("restartPolicy")), NON_INIT_RESTART_POLICY))
    return errs


def validate_init_containers(
    containers: Any, regular: Any, volumes: set[str], path: Path
) -> list[FieldError]:
    """``validateInitContainers``: names unique against regular and earlier init containers."""
    errs: list[FieldError] = []
    seen = {_str(_dict(c).get("name")) for c in _list(regular)}
    for i, container in enumerate(_list(containers)):
        container, p = _dict(container), path.index(i)
        errs.extend(_validate_common(container, volumes, p))
        name = _str(container.get("name"))
        if name in seen:
            errs.append(FieldError.duplicate(str(p.child("name")), name))
        else:
            seen.add(name)
        restart = container.get("restartPolicy")
        if restart is not None and restart != "Always":
            errs.append(FieldError.not_supported(str(p.child("restartPolicy")), restart, ["Always"]))
        if restart is None:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(probe) is not None:
                    detail = "may not be set for init containers without restartPolicy=Always"
                    errs.append(FieldError.forbidden(str(p.child(probe)), detail))
    return errs
