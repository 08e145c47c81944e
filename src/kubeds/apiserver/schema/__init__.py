"""Known-field schema of the served kinds (see :mod:`kubeds.apiserver.schema.known_fields`)."""

from __future__ import annotations

from kubeds.apiserver.schema.known_fields import field_type, known_kinds, unknown_fields

__all__ = ["field_type", "known_kinds", "unknown_fields"]
