"""Play a stage and every coalescing stage due at once after it, as one write.

A real kubelet does not post every intermediate pod status: its status manager
(kubernetes/kubernetes ``pkg/kubelet/status/status_manager.go``) keeps the latest status per pod
and ``syncPod`` sends one patch of it (``statusutil.PatchPodStatus``), so a pod whose containers
start before the status is synced goes from bound to Running+Ready in one status write. KWOK
plays stages one write at a time; kubeds does too, except where a stage says ``coalesce: true``
(:class:`~kubeds.nodes.stages.Stage`) and it is due with no delay on the state the stage before it
just computed: then its status patch is merged into the same write and its event follows the
first's, in order.

:func:`play_chain` works on views, never copies: the object as patched so far is a shallow copy
whose ``status`` is rebuilt along the patch's keys only (:func:`apply_merge_patch`, RFC 7386), and
the combined patch is the composition of the stages' patches (:func:`compose_merge_patches`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any

from kubeds.nodes import stages

__all__ = ["MAX_CHAIN", "ChainResult", "apply_merge_patch", "compose_merge_patches", "play_chain"]

# At most this many stages in one write (the fast profile chains two).
MAX_CHAIN = 4

Matcher = Callable[[Mapping[str, Any]], "stages.Stage | None"]


@dataclasses.dataclass(frozen=True)
class ChainResult:
    """What one write does: the stages played (first one first), the combined status patch (None
    when no stage patched), whether the object is then deleted, and the events in order."""

    stages: tuple[str, ...]
    status_patch: dict[str, Any] | None
    delete: bool
    events: tuple[tuple[str, str, str], ...]


def apply_merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` with the JSON merge patch ``patch`` applied (RFC 7386), sharing what it leaves be.

    Only the maps on the patch's paths are copied (shallowly); lists and untouched values are the
    target's or the patch's own objects, so callers must treat the result as read-only.
    """
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping):
            current = out.get(key)
            out[key] = apply_merge_patch(current if isinstance(current, Mapping) else {}, value)
        else:
            out[key] = value
    return out


def compose_merge_patches(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """One merge patch doing ``first`` then ``second``.

    Exact for patches that never null a key the second then sets to an object (status templates
    write whole values, never null a map), which is all the stage templates produce.
    """
    out = dict(first)
    for key, value in second.items():
        current = out.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            out[key] = compose_merge_patches(current, value)
        else:
            out[key] = value
    return out


def play_chain(
    stage: stages.Stage,
    obj: Mapping[str, Any],
    *,
    match: Matcher,
    now: dt.datetime,
    node: Mapping[str, Any] | None = None,
    used_pod_ips: Collection[str] = frozenset(),
    limit: int = MAX_CHAIN,
) -> ChainResult:
    """Play ``stage`` on ``obj``, then each coalescing stage ``match`` finds due at once after it.

    ``match`` picks the stage for an object (the caller's stage set and conditions, e.g. the node
    not being failed). The chain stops at a stage without ``coalesce``, one with a delay, one that
    deletes, one already played in this chain, or after ``limit`` stages.
    """
    result = stages.next_state(stage, obj, now=now, node=node, used_pod_ips=used_pod_ips)
    played = [stage.name]
    patch = result.status_patch
    events = [result.event] if result.event is not None else []
    view: Mapping[str, Any] = obj
    pending = None if result.delete else patch  # the last patch, not yet applied to the view
    while pending is not None and len(played) < limit:
        view = apply_merge_patch(view, pending)
        follow = match(view)
        if (
            follow is None
            or not follow.coalesce
            or follow.next.delete
            or follow.name in played
            or stages.stage_delay_bounds(follow, view, now=now)[1] > 0
        ):
            break
        step = stages.next_state(follow, view, now=now, node=node, used_pod_ips=used_pod_ips)
        played.append(follow.name)
        if step.event is not None:
            events.append(step.event)
        pending = step.status_patch
        if pending is not None and patch is not None:
            patch = compose_merge_patches(patch, pending)
    return ChainResult(stages=tuple(played), status_patch=patch, delete=result.delete, events=tuple(events))
