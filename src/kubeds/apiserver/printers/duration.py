"""Human-readable ages, as the API server renders them into Table cells.

Mirrors ``staging/src/k8s.io/apimachinery/pkg/util/duration/duration.go`` (``HumanDuration``
and ``ShortHumanDuration``) and the ``translateTimestampSince`` helper of
``pkg/printers/internalversion/printers.go``:

- a duration up to 2 s in the past (``-2s < d < 0``) counts as "now" and prints ``0s``, to
  tolerate clock skew between machines; anything further in the past prints ``<invalid>``;
- precision shrinks as the duration grows (``3m10s``, then ``70m``, ``3h1m``, ``47h``, ``2d1h``,
  ``367d``, ``2y1d``, ``8y``), giving two or three significant figures;
- a missing or unparsable timestamp prints ``<unknown>``.

Go truncates durations towards zero (``int(d.Seconds())``); the arithmetic here works on whole
nanoseconds for the same reason, so boundaries such as ``2m - 1ms -> 119s`` come out as upstream.

The current time is always an argument: this module never reads the clock.
"""

from __future__ import annotations

import datetime as dt

__all__ = [
    "UNKNOWN",
    "human_duration",
    "parse_time",
    "short_human_duration",
    "translate_timestamp_since",
]

UNKNOWN = "<unknown>"
INVALID = "<invalid>"

_NS_PER_SECOND = 1_000_000_000
_SECOND = _NS_PER_SECOND
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE


def _to_nanoseconds(seconds: float) -> int:
    return round(seconds * _NS_PER_SECOND)


def _near_now(ns: int) -> str | None:
    """The shared prologue: ``<invalid>`` before -1 s, ``0s`` for small negatives, else None."""
    whole_seconds = int(ns / _NS_PER_SECOND) if ns < 0 else ns // _NS_PER_SECOND
    if whole_seconds < -1:
        return INVALID
    if whole_seconds < 0:
        return "0s"
    return None


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``: ~2-3 significant figures, as used for the AGE column."""
    ns = _to_nanoseconds(seconds)
    early = _near_now(ns)
    if early is not None:
        return early
    secs = ns // _SECOND
    if secs < 60 * 2:
        return f"{secs}s"
    minutes = ns // _MINUTE
    if minutes < 10:
        s = secs % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = ns // _HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days_in_year = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if days_in_year == 0 else f"{years}y{days_in_year}d"
    return f"{hours // 24 // 365}y"


def short_human_duration(seconds: float) -> str:
    """``duration.ShortHumanDuration``: one unit only (``59s``, ``1m``, ``23h``, ``364d``, ``2y``)."""
    ns = _to_nanoseconds(seconds)
    early = _near_now(ns)
    if early is not None:
        return early
    secs = ns // _SECOND
    if secs < 60:
        return f"{secs}s"
    minutes = ns // _MINUTE
    if minutes < 60:
        return f"{minutes}m"
    hours = ns // _HOUR
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def parse_time(value: object) -> dt.datetime | None:
    """A ``metav1.Time``/``MicroTime`` string (RFC 3339) as an aware datetime; None if absent or bad."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _aware(now: dt.datetime) -> dt.datetime:
    return now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)


def translate_timestamp_since(value: object, *, now: dt.datetime) -> str:
    """``translateTimestampSince``: the human age of a timestamp, ``<unknown>`` when it is unset."""
    then = parse_time(value)
    if then is None:
        return UNKNOWN
    return human_duration((_aware(now) - then).total_seconds())
