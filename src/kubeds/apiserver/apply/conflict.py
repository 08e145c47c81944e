"""The apply conflict error, worded as upstream.

Mirrors ``k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go`` (``NewConflictError``,
``getConflictMessage``, ``printManager``). The API server turns an :class:`ApplyConflict` into a
409 ``Status`` with ``reason: Conflict``, ``message`` = :attr:`ApplyConflict.message` and
``details.causes`` = :attr:`ApplyConflict.causes`; kubectl prints the message after ``error: ``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubeds.apiserver.apply.fieldpath import Path, path_sort_key, path_string
from kubeds.apiserver.apply.managers import ManagerEntry

__all__ = ["CAUSE_FIELD_MANAGER_CONFLICT", "ApplyConflict"]

CAUSE_FIELD_MANAGER_CONFLICT = "FieldManagerConflict"
MESSAGE_ONE = "Apply failed with 1 conflict: conflict with {manager}: {path}"
MESSAGE_MANY = "Apply failed with {count} conflicts: {details}"


class ApplyConflict(Exception):
    """Fields the applier would change are owned by other managers.

    ``conflicts`` lists ``(manager name, field path)``; ``causes`` are the ``Status`` causes.
    """

    def __init__(self, conflicts: Sequence[tuple[ManagerEntry, Path]]) -> None:
        ordered = sorted(conflicts, key=lambda c: (c[0].identifier, path_sort_key(c[1])))
        self.entries: list[tuple[ManagerEntry, Path]] = list(ordered)
        self.conflicts: list[tuple[str, str]] = [(m.manager, path_string(p)) for m, p in ordered]
        self.causes: list[dict[str, Any]] = [
            {
                "reason": CAUSE_FIELD_MANAGER_CONFLICT,
                "message": f"conflict with {m.describe()}",
                "field": path_string(p),
            }
            for m, p in ordered
        ]
        self.message = _message(ordered)
        super().__init__(self.message)

    @property
    def paths(self) -> set[Path]:
        return {p for _, p in self.entries}


def _message(conflicts: Sequence[tuple[ManagerEntry, Path]]) -> str:
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        return MESSAGE_ONE.format(manager=manager.describe(), path=path_string(path))
    lines: list[str] = []
    current = None
    for manager, path in conflicts:  # already grouped by manager identifier, sorted
        if manager.identifier != current:
            current = manager.identifier
            lines.append(f"conflicts with {manager.describe()}:")
        lines.append(f"- {path_string(path)}")
    return MESSAGE_MANY.format(count=len(conflicts), details="\n".join(lines))
