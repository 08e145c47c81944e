"""The ``FailedScheduling`` message: ``0/N nodes are available: <counts>. preemption: ...``.

Mirrors upstream ``FitError.Error()`` in ``pkg/scheduler/framework/types.go`` (v1.34; same shape
since v1.31's ``NodeToStatus``):

* it opens with ``"0/%v nodes are available"`` (N = every node in the snapshot);
* when a PreFilter plugin rejected the pod, its message follows as ``": <msg>."`` and node reasons
  are not counted (they would only repeat it);
* otherwise every reason of every rejected node is counted; nodes without an explicit status (left
  out by a PreFilter result) count under the "absent nodes" status; each entry reads
  ``"<count> <reason>"`` and the entries are sorted as *strings* (Go ``sort.Strings``, so
  ``"10 x"`` sorts before ``"2 y"``) and joined by ``", "``, then ``"."``;
* a PostFilter message (the default preemption plugin's) is appended as ``" <msg>."``. Preemption's
  own message is ``"preemption: "`` + a nested FitError message, so the event ends in ``".."``
  exactly as real clusters print it, e.g.
  ``0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: user1}, 2 node(s) didn't
  match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not
  helpful for scheduling..``
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from kubeds.scheduler.plugins.status import FilterResult

__all__ = [
    "NO_NODES_AVAILABLE",
    "NO_NODE_AVAILABLE_FMT",
    "PREEMPTION_PREFIX",
    "fit_error_message",
    "preemption_message",
    "reason_histogram",
    "sorted_reasons",
]

NO_NODE_AVAILABLE_FMT = "0/{num} nodes are available"
SEPARATOR_FMT = " {msg}."
PREEMPTION_PREFIX = "preemption: "
# ErrNoNodesAvailable (pkg/scheduler/schedule_one.go): the snapshot has no node at all.
NO_NODES_AVAILABLE = "no nodes available to schedule pods"


def reason_histogram(
    statuses: Iterable[FilterResult],
    *,
    absent_reasons: Iterable[str] = (),
    absent_count: int = 0,
) -> dict[str, int]:
    """``{reason: number of nodes}`` over explicit statuses plus ``absent_count`` absent nodes."""
    counts: dict[str, int] = {}
    for status in statuses:
        for reason in status.reasons:
            counts[reason] = counts.get(reason, 0) + 1
    if absent_count > 0:
        for reason in absent_reasons:
            counts[reason] = counts.get(reason, 0) + absent_count
    return counts


def sorted_reasons(histogram: Mapping[str, int]) -> list[str]:
    """``"<count> <reason>"`` entries in Go ``sort.Strings`` order (code-point order)."""
    return sorted(f"{count} {reason}" for reason, count in histogram.items())


def fit_error_message(
    num_all_nodes: int,
    histogram: Mapping[str, int],
    *,
    pre_filter_msg: str = "",
    post_filter_msg: str = "",
) -> str:
    """Upstream ``FitError.Error()``; ``histogram`` is ignored when ``pre_filter_msg`` is set."""
    msg = NO_NODE_AVAILABLE_FMT.format(num=num_all_nodes) + ":"
    if pre_filter_msg:
        msg += SEPARATOR_FMT.format(msg=pre_filter_msg)
    else:
        entries = sorted_reasons(histogram)
        if entries:
            msg += SEPARATOR_FMT.format(msg=", ".join(entries))
    if post_filter_msg:
        msg += SEPARATOR_FMT.format(msg=post_filter_msg)
    return msg


def preemption_message(msg: str) -> str:
    """The default preemption plugin's PostFilter message (``"preemption: " + msg``), "" stays ""."""
    return PREEMPTION_PREFIX + msg if msg else ""
