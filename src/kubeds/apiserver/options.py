"""Query-parameter and body options of write and delete requests, validated as upstream does.

Mirrors ``k8s.io/apimachinery/pkg/apis/meta/v1/validation`` (``ValidateCreateOptions``,
``ValidatePatchOptions``, ``ValidateDeleteOptions``: ``dryRun`` may only be ``All``,
``fieldValidation`` one of Ignore/Warn/Strict, ``fieldManager`` required for apply and at most
128 printable characters, ``force`` only for apply) and the handlers' defaulting of the field
manager from the User-Agent (``prefixFromUserAgent`` in ``handlers/rest.go``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubeds.apiserver import codec, errors
from kubeds.apiserver.store import DeleteOptions
from kubeds.models.fielderrors import FieldError
from kubeds.wire import Request

__all__ = ["WriteParams", "delete_options", "write_params"]

FIELD_VALIDATION = ("Ignore", "Warn", "Strict")
DEFAULT_FIELD_VALIDATION = "Warn"
MAX_MANAGER_LEN = 128
MSG_APPLY_MANAGER = "is required for apply patch"
MSG_FORCE = "may not be specified for non-apply patch"
PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")


@dataclass(frozen=True)
class WriteParams:
    dry_run: bool
    field_manager: str
    field_validation: str
    force: bool


def _options_invalid(kind: str, errs: list[FieldError]) -> errors.StatusError:
    return errors.invalid("meta.k8s.io", kind, "", errs)


def _dry_run(values: list[str], kind: str) -> bool:
    for v in values:
        if v != "All":
            raise _options_invalid(kind, [FieldError.not_supported("dryRun", values, ["All"])])
    return bool(values)


def user_agent_manager(req: Request) -> str:
    agent = req.headers.get("user-agent", "")
    return agent.split("/", 1)[0][:MAX_MANAGER_LEN]


def write_params(req: Request, *, kind: str, patch_type: str = "") -> WriteParams:
    """``CreateOptions``/``UpdateOptions``/``PatchOptions`` from the query string."""
    dry_run = _dry_run([v for v in req.query.get("dryRun", []) if v != ""], kind)
    manager = req.param("fieldManager")
    errs: list[FieldError] = []
    if len(manager) > MAX_MANAGER_LEN:
        errs.append(FieldError.too_long("fieldManager", manager, MAX_MANAGER_LEN))
    elif any(not c.isprintable() for c in manager):
        errs.append(FieldError.invalid("fieldManager", manager, "must be made of printable characters"))
    force_raw = req.param("force")
    force = force_raw.lower() in ("true", "1")
    if patch_type == codec.APPLY:
        if not manager:
            errs.append(FieldError.required("fieldManager", MSG_APPLY_MANAGER))
    elif force_raw:
        errs.append(FieldError.forbidden("force", MSG_FORCE))
    validation = req.param("fieldValidation") or DEFAULT_FIELD_VALIDATION
    if validation not in FIELD_VALIDATION:
        errs.append(FieldError.not_supported("fieldValidation", validation, list(FIELD_VALIDATION)))
    if errs:
        raise _options_invalid(kind, errs)
    return WriteParams(dry_run, manager or user_agent_manager(req), validation, force)


def _int_or_none(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise errors.bad_request(f'{field}: Invalid value: "{value}": must be an integer') from None


def _decode_delete_body(req: Request) -> dict[str, Any]:
    if not req.body.strip():
        return {}
    mt = codec.media_type(req.headers.get("content-type", ""))
    if mt == codec.PROTOBUF:
        from kubeds.apiserver import protobuf

        try:
            return dict(protobuf.decode_delete_options(req.body))
        except ValueError as exc:
            raise errors.bad_request(f"unable to decode DeleteOptions: {exc}") from None
    body = codec.decode_body(req.body, mt)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise errors.bad_request("DeleteOptions must be an object")
    return body


def delete_options(req: Request) -> tuple[DeleteOptions, bool]:
    """DeleteOptions from the body (JSON, YAML or protobuf) overlaid with the query parameters."""
    body = _decode_delete_body(req)
    grace = _int_or_none(body.get("gracePeriodSeconds"), "gracePeriodSeconds")
    if req.param("gracePeriodSeconds"):
        grace = _int_or_none(req.param("gracePeriodSeconds"), "gracePeriodSeconds")
    policy = str(body.get("propagationPolicy") or req.param("propagationPolicy") or "")
    orphan = body.get("orphanDependents")
    if orphan is None and req.param("orphanDependents"):
        orphan = req.param("orphanDependents").lower() == "true"
    errs: list[FieldError] = []
    if policy and policy not in PROPAGATION_POLICIES:
        errs.append(FieldError.not_supported("propagationPolicy", policy, list(PROPAGATION_POLICIES)))
    if policy and orphan is not None:
        errs.append(
            FieldError.invalid(
                "propagationPolicy", policy, "orphanDependents and deletionPropagation cannot be both set"
            )
        )
    dry_values = list(body.get("dryRun") or []) + [v for v in req.query.get("dryRun", []) if v]
    dry_run = _dry_run(dry_values, "DeleteOptions")
    if errs:
        raise _options_invalid("DeleteOptions", errs)
    pre = body.get("preconditions") or {}
    return (
        DeleteOptions(
            grace_period_seconds=grace,
            propagation_policy=policy,
            orphan_dependents=bool(orphan) if orphan is not None else None,
            precondition_uid=str(pre.get("uid") or ""),
            precondition_rv=str(pre.get("resourceVersion") or ""),
        ),
        dry_run,
    )
