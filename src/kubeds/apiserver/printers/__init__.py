"""Server-side Table printing (``kubectl get``) for every served kind.

The API server calls :func:`build_table` when a request accepts
``application/json;as=Table;v=v1;g=meta.k8s.io``; :func:`column_definitions` and :func:`row_cells`
are its building blocks (one row per object, one cell per column), and :func:`human_duration` is
the AGE renderer. Per-kind columns live in :mod:`.columns`, rows in :mod:`.pods`, :mod:`.workloads`
and :mod:`.cluster`; see :mod:`.table` for the upstream behaviour mirrored.
"""

from __future__ import annotations

from kubeds.apiserver.printers.duration import (
    human_duration,
    short_human_duration,
    translate_timestamp_since,
)
from kubeds.apiserver.printers.table import (
    INCLUDE_METADATA,
    INCLUDE_NONE,
    INCLUDE_OBJECT,
    build_table,
    column_definitions,
    row_cells,
    row_conditions,
)

__all__ = [
    "INCLUDE_METADATA",
    "INCLUDE_NONE",
    "INCLUDE_OBJECT",
    "build_table",
    "column_definitions",
    "human_duration",
    "row_cells",
    "row_conditions",
    "short_human_duration",
    "translate_timestamp_since",
]
