"""Plugin verdicts: the scheduler framework's ``Status`` reduced to what filters report.

Mirrors upstream ``pkg/scheduler/framework/interface.go`` (``Code``, ``Status``, ``Status.Reasons``,
``Status.Message``): a filter either passes, or rejects a node with one or more reason strings and
one of two codes. ``Unschedulable`` means preemption (evicting lower-priority pods) might help;
``UnschedulableAndUnresolvable`` means it cannot (taints, affinity, a cordoned node, ...).
The reason strings are the ones upstream prints in ``FailedScheduling`` events, so a
:class:`FilterResult`'s ``reasons`` go verbatim into the ``0/N nodes are available`` message.

Kept apart from :mod:`kubeds.scheduler.framework` (which re-exports it) so plugins need not import
the framework, which itself imports every plugin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "SUCCESS",
    "UNSCHEDULABLE",
    "UNSCHEDULABLE_AND_UNRESOLVABLE",
    "FilterResult",
]

SUCCESS = "Success"
UNSCHEDULABLE = "Unschedulable"
UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"


@dataclass(frozen=True)
class FilterResult:
    """One plugin's verdict on one node (upstream ``*framework.Status``; ``None`` there is success).

    ``plugin`` names the rejecting plugin once the framework has run it (``Status.Plugin``).
    """

    code: str = SUCCESS
    reasons: list[str] = field(default_factory=list)
    plugin: str = ""

    @classmethod
    def success(cls) -> FilterResult:
        return _SUCCESS

    @classmethod
    def unschedulable(cls, *reasons: str, unresolvable: bool = False) -> FilterResult:
        """A rejection; ``unresolvable=True`` gives ``UnschedulableAndUnresolvable``."""
        code = UNSCHEDULABLE_AND_UNRESOLVABLE if unresolvable else UNSCHEDULABLE
        return cls(code, list(reasons))

    @property
    def is_success(self) -> bool:
        return self.code == SUCCESS

    @property
    def is_rejected(self) -> bool:
        """Unschedulable or UnschedulableAndUnresolvable (upstream ``Status.IsRejected``)."""
        return self.code in (UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE)

    @property
    def message(self) -> str:
        """The reasons joined by ``", "`` (upstream ``Status.Message``)."""
        return ", ".join(self.reasons)

    def with_plugin(self, plugin: str) -> FilterResult:
        return FilterResult(self.code, list(self.reasons), plugin)


_SUCCESS = FilterResult()
