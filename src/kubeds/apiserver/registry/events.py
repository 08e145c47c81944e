"""Event strategy: the field labels of ``pkg/registry/core/event/strategy.go``.

``ToSelectableFields`` exposes ``involvedObject.*``, ``reason``, ``reportingComponent``,
``source`` (the source component) and ``type``.
"""

from __future__ import annotations

from typing import Any

from kubeds.apiserver.registry.base import Strategy, nested_str

__all__ = ["EventStrategy"]


class EventStrategy(Strategy):
    kind = "Event"
    extra_field_labels = (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    )

    def extra_fields(self, obj: dict[str, Any]) -> dict[str, str]:
        fields = super().extra_fields(obj)
        fields["source"] = nested_str(obj, "source", "component")
        return fields
