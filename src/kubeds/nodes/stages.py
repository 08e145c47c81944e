"""Lifecycle stages: the simulated kubelet's behaviour as data.

Mirrors KWOK's ``Stage`` (kubernetes-sigs/kwok ``pkg/apis/v1alpha1/stage_types.go``,
``pkg/utils/lifecycle/lifecycle.go``): a stage applies to one resource kind, is selected by
``matchExpressions`` over paths into the object, waits a delay (with jitter) and then moves the
object on: a status patch, a delete, an event. Where KWOK evaluates jq expressions and Go
templates, kubeds keeps the paths simple and names Python hooks instead:

* paths: ``.status.phase``, ``.metadata.annotations["kubeds.io/x"]``, ``.a.list[]`` (every
  element) and ``.status.conditions[type=Ready].status`` (elements whose field equals a value);
* operators ``In``, ``NotIn``, ``Exists``, ``DoesNotExist``. A path yields every value found;
  ``null`` and empty lists/maps count as absent (Go's ``omitempty`` makes them the same on the
  wire). ``In`` holds when some value is listed, ``NotIn`` when none is; booleans compare as
  ``"true"``/``"false"``;
* ``predicates``: named Python tests for what a path cannot say ("an image tag is
  non-existent"), negated with a leading ``!``;
* ``next.statusTemplate`` / ``next.event``: named Python functions of the object and a
  :class:`StageContext` (``now``, the node, pod IPs in use).

Stages are tried in list order and the first whose selector holds wins (KWOK draws among the
matches by weight; kubeds' stage sets are written so that at most one matches).

Delay, as KWOK: ``durationMilliseconds`` is the earliest, ``jitterDurationMilliseconds`` the
latest; the wait is drawn uniformly between them from a caller-supplied ``random.Random``.
``jitterUntil`` names a timestamp path (KWOK's ``jitterDurationFrom``): the latest is then that
time, and the wait never passes it. ``durationUntil`` names one too (KWOK's ``durationFrom``): the
earliest is then that time (never before ``durationMilliseconds``), so pod-delete with
``.metadata.deletionTimestamp`` confirms a deletion only once the grace period has run out.

``spec.coalesce: true`` (kubeds): a stage due at once on the state the previous stage computed is
played in the same write (the fast profile's ContainerCreating -> Running+Ready is one status patch).

:func:`parse_stage` reads the KWOK-shaped YAML documents of ``kubeds/nodes/profiles/``.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "OPERATORS",
    "Delay",
    "EventFn",
    "Next",
    "PredicateFn",
    "Requirement",
    "Selector",
    "Stage",
    "StageContext",
    "StageError",
    "StageResult",
    "StatusTemplateFn",
    "match_stage",
    "next_state",
    "parse_stage",
    "parse_time",
    "resolve_path",
    "stage_delay",
    "stage_delay_bounds",
]

IN = "In"
NOT_IN = "NotIn"
EXISTS = "Exists"
DOES_NOT_EXIST = "DoesNotExist"
OPERATORS = (IN, NOT_IN, EXISTS, DOES_NOT_EXIST)
RESOURCES = ("Pod", "Node")


class StageError(ValueError):
    """A stage definition that cannot be used."""


@dataclass(frozen=True)
class StageContext:
    """What a status template may look at besides the object itself."""

    now: dt.datetime
    node: Mapping[str, Any] | None = None
    used_pod_ips: Collection[str] = frozenset()


PredicateFn = Callable[[Mapping[str, Any]], bool]
StatusTemplateFn = Callable[[Mapping[str, Any], StageContext], dict[str, Any]]
EventFn = Callable[[Mapping[str, Any], StageContext], "tuple[str, str, str] | None"]


# ---------------------------------------------------------------------------------------------
# paths

_SEGMENT = re.compile(r'\.([A-Za-z0-9_-]+)|\["([^"]*)"\]|\[\]|\[([A-Za-z0-9_.-]+)=([^\]]*)\]')


@functools.lru_cache(maxsize=1024)
def _parse_path(path: str) -> tuple[tuple[str, str, str], ...]:
    """``.a["b"][] [k=v]`` into (kind, name, value) steps; kinds: key, each, filter.

    Memoised: a profile has a few dozen distinct paths, matched on every object event.
    """
    if not path.startswith((".", "[")):
        raise StageError(f"path {path!r} must start with '.'")
    steps: list[tuple[str, str, str]] = []
    pos = 0
    while pos < len(path):
        m = _SEGMENT.match(path, pos)
        if m is None:
            raise StageError(f"cannot parse path {path!r} at offset {pos}")
        if m.group(1) is not None or m.group(2) is not None:
            steps.append(("key", m.group(1) if m.group(1) is not None else m.group(2), ""))
        elif m.group(3) is not None:
            steps.append(("filter", m.group(3), m.group(4)))
        else:
            steps.append(("each", "", ""))
        pos = m.end()
    return tuple(steps)


def _present(value: Any) -> bool:
    return value is not None and value != [] and value != {}


def resolve_path(obj: Any, path: str) -> list[Any]:
    """Every present value at ``path`` in ``obj`` (see the module docstring for the syntax)."""
    return _resolve(obj, _parse_path(path))


def _is_map(value: Any) -> bool:
    # ``type(x) is dict`` first: objects are decoded JSON, and ``isinstance(x, Mapping)`` (an ABC
    # check) was most of the cost of matching stages, which runs on every event of every object.
    return type(value) is dict or isinstance(value, Mapping)


def _resolve(obj: Any, steps: tuple[tuple[str, str, str], ...]) -> list[Any]:
    current: list[Any] = [obj]
    for kind, name, value in steps:
        if kind == "key" and len(current) == 1:
            # The common case, a plain key chain: no per-step list building.
            item = current[0]
            if not _is_map(item) or name not in item:
                return []
            current = [item[name]]
            continue
        following: list[Any] = []
        for item in current:
            if kind == "key":
                if _is_map(item) and name in item:
                    following.append(item[name])
            elif isinstance(item, list):
                if kind == "each":
                    following.extend(item)
                else:
                    following.extend(e for e in item if _is_map(e) and _text(e.get(name)) == value)
        current = following
    return [v for v in current if _present(v)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


# ---------------------------------------------------------------------------------------------
# model


@dataclass(frozen=True)
class Requirement:
    """One ``matchExpressions`` entry."""

    key: str
    operator: str
    values: tuple[str, ...] = ()
    _steps: tuple[tuple[str, str, str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise StageError(f"unknown operator {self.operator!r}; want one of {', '.join(OPERATORS)}")
        if self.operator in (IN, NOT_IN) and not self.values:
            raise StageError(f"operator {self.operator} on {self.key!r} needs values")
        if self.operator in (EXISTS, DOES_NOT_EXIST) and self.values:
            raise StageError(f"operator {self.operator} on {self.key!r} takes no values")
        # Parsed once: matching runs on every event of every simulated object.
        object.__setattr__(self, "_steps", _parse_path(self.key))

    def matches(self, obj: Mapping[str, Any]) -> bool:
        found = _resolve(obj, self._steps)
        if self.operator == EXISTS:
            return bool(found)
        if self.operator == DOES_NOT_EXIST:
            return not found
        hit = any(_text(v) in self.values for v in found)
        return hit if self.operator == IN else not hit


@dataclass(frozen=True)
class Selector:
    """All expressions and all predicates must hold."""

    match_expressions: tuple[Requirement, ...] = ()
    predicates: tuple[tuple[str, PredicateFn], ...] = ()

    def matches(self, obj: Mapping[str, Any]) -> bool:
        for requirement in self.match_expressions:
            if not requirement.matches(obj):
                return False
        for name, fn in self.predicates:
            if fn(obj) == name.startswith("!"):
                return False
        return True


@dataclass(frozen=True)
class Delay:
    duration_ms: int = 0
    jitter_ms: int | None = None
    jitter_until: str | None = None
    duration_until: str | None = None


@dataclass(frozen=True)
class Next:
    status_template: tuple[str, StatusTemplateFn] | None = None
    delete: bool = False
    event: tuple[str, EventFn] | None = None


@dataclass(frozen=True)
class Stage:
    """``coalesce`` (a kubeds extension, ``spec.coalesce``): when this stage is due at once on the
    state another stage has just computed, it is folded into that stage's write
    (:mod:`kubeds.nodes.chain`)."""

    name: str
    resource: str
    selector: Selector
    next: Next
    delay: Delay = field(default_factory=Delay)
    coalesce: bool = False


@dataclass(frozen=True)
class StageResult:
    """What playing a stage does: patch ``status_patch`` (a JSON merge patch for the status
    subresource), then delete the object if ``delete``, and record ``event`` (type, reason,
    message) about it."""

    stage: str
    status_patch: dict[str, Any] | None
    delete: bool
    event: tuple[str, str, str] | None


# ---------------------------------------------------------------------------------------------
# behaviour


def match_stage(stages: Iterable[Stage], obj: Mapping[str, Any]) -> Stage | None:
    """The first stage whose selector holds for ``obj`` (and whose kind matches, if set)."""
    kind = obj.get("kind")
    for stage in stages:
        if kind and kind != stage.resource:
            continue
        if stage.selector.matches(obj):
            return stage
    return None


def parse_time(value: str) -> dt.datetime:
    """An RFC 3339 timestamp (``metav1.Time`` / ``MicroTime``) as an aware datetime."""
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def stage_delay_bounds(stage: Stage, obj: Mapping[str, Any], *, now: dt.datetime) -> tuple[float, float]:
    """Earliest and latest wait, in seconds, before ``stage`` plays on ``obj``."""
    low = stage.delay.duration_ms / 1000
    high = low
    if stage.delay.jitter_ms is not None:
        high = max(low, stage.delay.jitter_ms / 1000)
    if stage.delay.jitter_until:
        found = resolve_path(obj, stage.delay.jitter_until)
        if found:
            remaining = max(0.0, (parse_time(str(found[0])) - now).total_seconds())
            high = remaining
            low = min(low, remaining)
    if stage.delay.duration_until:
        found = resolve_path(obj, stage.delay.duration_until)
        if found:
            remaining = max(0.0, (parse_time(str(found[0])) - now).total_seconds())
            low = max(low, remaining)
            high = max(high, low)
    return low, high


def stage_delay(
    stage: Stage, obj: Mapping[str, Any], *, now: dt.datetime, rng: random.Random
) -> dt.timedelta:
    """The wait before ``stage`` plays on ``obj``, drawn from ``rng`` between the bounds."""
    low, high = stage_delay_bounds(stage, obj, now=now)
    seconds = rng.uniform(low, high) if high > low else low
    return dt.timedelta(seconds=seconds)


def next_state(
    stage: Stage,
    obj: Mapping[str, Any],
    *,
    now: dt.datetime,
    node: Mapping[str, Any] | None = None,
    used_pod_ips: Collection[str] = frozenset(),
) -> StageResult:
    """Play ``stage`` on ``obj``: compute the patch, deletion and event (nothing is sent).

    ``node`` is the pod's node (for node stages it may be omitted: the object is the node);
    ``used_pod_ips`` are the pod IPs already taken on that node, so a new pod gets a free one.
    """
    ctx = StageContext(now=now, node=node if node is not None else obj, used_pod_ips=used_pod_ips)
    patch: dict[str, Any] | None = None
    if stage.next.status_template is not None:
        patch = {"status": stage.next.status_template[1](obj, ctx)}
    event = stage.next.event[1](obj, ctx) if stage.next.event is not None else None
    return StageResult(stage=stage.name, status_patch=patch, delete=stage.next.delete, event=event)


# ---------------------------------------------------------------------------------------------
# parsing


def _lookup(kind: str, name: str, table: Mapping[str, Any], stage: str) -> Any:
    fn = table.get(name.lstrip("!"))
    if fn is None:
        known = ", ".join(sorted(table)) or "none"
        raise StageError(f"stage {stage!r}: unknown {kind} {name!r} (known: {known})")
    return fn


def _int(value: Any, what: str, stage: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise StageError(f"stage {stage!r}: {what} must be a non-negative integer, got {value!r}")
    return value


def parse_stage(
    doc: Mapping[str, Any],
    *,
    predicates: Mapping[str, PredicateFn],
    templates: Mapping[str, StatusTemplateFn],
    events: Mapping[str, EventFn],
) -> Stage:
    """A :class:`Stage` from a KWOK-shaped document (``kind: Stage``, ``metadata.name``,
    ``spec.resourceRef.kind``, ``spec.selector``, ``spec.delay``, ``spec.next``), resolving
    predicate, status template and event names in the given tables."""
    name = str((doc.get("metadata") or {}).get("name") or "")
    if not name:
        raise StageError("stage without metadata.name")
    spec = doc.get("spec") or {}
    resource = str((spec.get("resourceRef") or {}).get("kind") or "")
    if resource not in RESOURCES:
        raise StageError(f"stage {name!r}: resourceRef.kind must be one of {', '.join(RESOURCES)}")
    sel = spec.get("selector") or {}
    requirements = tuple(
        Requirement(
            key=str(e.get("key", "")),
            operator=str(e.get("operator", "")),
            values=tuple(str(v) for v in e.get("values") or ()),
        )
        for e in sel.get("matchExpressions") or ()
    )
    preds = tuple(
        (str(p), _lookup("predicate", str(p), predicates, name)) for p in sel.get("predicates") or ()
    )
    raw_delay = spec.get("delay") or {}
    jitter = raw_delay.get("jitterDurationMilliseconds")
    until = raw_delay.get("jitterUntil")
    if until is not None:
        _parse_path(str(until))
    duration_until = raw_delay.get("durationUntil")
    if duration_until is not None:
        _parse_path(str(duration_until))
    delay = Delay(
        duration_ms=_int(raw_delay.get("durationMilliseconds", 0), "durationMilliseconds", name),
        jitter_ms=None if jitter is None else _int(jitter, "jitterDurationMilliseconds", name),
        jitter_until=None if until is None else str(until),
        duration_until=None if duration_until is None else str(duration_until),
    )
    raw_next = spec.get("next") or {}
    template = raw_next.get("statusTemplate")
    event = raw_next.get("event")
    nxt = Next(
        status_template=None
        if template is None
        else (str(template), _lookup("template", str(template), templates, name)),
        delete=bool(raw_next.get("delete", False)),
        event=None if event is None else (str(event), _lookup("event", str(event), events, name)),
    )
    coalesce = spec.get("coalesce", False)
    if not isinstance(coalesce, bool):
        raise StageError(f"stage {name!r}: coalesce must be true or false, got {coalesce!r}")
    return Stage(
        name=name,
        resource=resource,
        selector=Selector(requirements, preds),
        next=nxt,
        delay=delay,
        coalesce=coalesce,
    )
