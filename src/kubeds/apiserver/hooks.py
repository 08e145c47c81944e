"""The calls the request pipeline makes into the per-kind rule modules.

One indirection so the store and the verb handlers have one place that names the defaulting,
validation, schema and managed-fields modules (``kubeds.apiserver.defaults``, ``.validation``,
``.schema``, ``.apply``). The modules are imported when first called, which keeps start-up cheap
and the import graph acyclic (``apply`` needs nothing from the store).
"""

from __future__ import annotations

from typing import Any

from kubeds.models.fielderrors import FieldError

__all__ = [
    "apply_defaults",
    "track_update",
    "unknown_fields",
    "validate_create",
    "validate_status_update",
    "validate_update",
]


def apply_defaults(kind: str, obj: dict[str, Any], *, status_write: bool = False) -> None:
    from kubeds.apiserver import defaults

    defaults.apply_defaults(kind, obj, status_write=status_write)


def validate_create(kind: str, obj: dict[str, Any]) -> list[FieldError]:
    from kubeds.apiserver import validation

    return list(validation.validate_create(kind, obj))


def validate_update(kind: str, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    from kubeds.apiserver import validation

    return list(validation.validate_update(kind, new, old))


def validate_status_update(kind: str, new: dict[str, Any], old: dict[str, Any]) -> list[FieldError]:
    from kubeds.apiserver import validation

    return list(validation.validate_status_update(kind, new, old))


def unknown_fields(kind: str, obj: dict[str, Any]) -> list[str]:
    from kubeds.apiserver import schema

    return list(schema.unknown_fields(kind, obj))


def track_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    operation: str,
    api_version: str,
    now: str,
    subresource: str = "",
) -> None:
    from kubeds.apiserver import apply

    apply.track_update(
        old,
        new,
        manager=manager,
        operation=operation,
        api_version=api_version,
        now=now,
        subresource=subresource,
    )
