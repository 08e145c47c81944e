"""Durations on the command line as upstream components take them: Go's ``time.ParseDuration``.

``--leader-elect-lease-duration=15s`` and friends are ``metav1.Duration`` flags upstream, parsed by
Go's ``time.ParseDuration`` (``src/time/format.go``): a sequence of decimal numbers, each with an
optional fraction and a unit ``ns``, ``us`` (or ``µs``), ``ms``, ``s``, ``m``, ``h``, optionally signed,
e.g. ``300ms``, ``1.5h``, ``2h45m``. ``0`` needs no unit. As a convenience kubeds also accepts a
bare number, meaning seconds (``15`` == ``15s``). The error texts are Go's.
"""

from __future__ import annotations

import re

__all__ = ["parse_duration"]

UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)([^\d.]*)")
_BARE = re.compile(r"\d+\.?\d*|\.\d+")
MSG_INVALID = 'time: invalid duration "{text}"'
MSG_MISSING_UNIT = 'time: missing unit in duration "{text}"'
MSG_UNKNOWN_UNIT = 'time: unknown unit "{unit}" in duration "{text}"'


def parse_duration(text: str) -> float:
    """Seconds in ``text`` (Go duration syntax, or a bare number of seconds); ValueError if malformed."""
    if _BARE.fullmatch(text):
        return float(text)
    body, sign = text, 1.0
    if body[:1] in ("+", "-"):
        sign = -1.0 if body[0] == "-" else 1.0
        body = body[1:]
    if body == "0":
        return 0.0
    if not body:
        raise ValueError(MSG_INVALID.format(text=text))
    total, pos = 0.0, 0
    while pos < len(body):
        m = _PART.match(body, pos)
        if m is None:
            raise ValueError(MSG_INVALID.format(text=text))
        number, unit = m.group(1), m.group(2)
        if not unit:
            raise ValueError(MSG_MISSING_UNIT.format(text=text))
        if unit not in UNITS:
            raise ValueError(MSG_UNKNOWN_UNIT.format(unit=unit, text=text))
        total += float(number) * UNITS[unit]
        pos = m.end()
    return sign * total
