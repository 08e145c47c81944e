"""Int-or-string values (``maxUnavailable: 1`` / ``maxUnavailable: "10%"``), as upstream
``k8s.io/apimachinery/pkg/util/intstr/intstr.go``.

:func:`scaled_value` is ``GetScaledValueFromIntOrPercent``: an int is returned as is; a string must be
``<int>%`` and is scaled against ``total`` with float64 arithmetic, rounded up (``math.Ceil``) or down
(``math.Floor``) as asked. Python floats are IEEE doubles, so results equal upstream's bit for bit.
The DaemonSet controller rounds both ``maxUnavailable`` and ``maxSurge`` up
(``pkg/controller/daemon/util/daemonset_util.go`` ``UnavailableCount``/``SurgeCount``); the Deployment
controller rounds ``maxUnavailable`` down.
"""

from __future__ import annotations

import json
import math
import re

__all__ = ["IntStrError", "int_or_percent_value", "is_percent", "scaled_value"]

MSG_NIL = "nil value for IntOrString"
MSG_INVALID = "invalid value for IntOrString: {err}"
MSG_NOT_PERCENT = "invalid type: string is not a percentage"
MSG_BAD_TYPE = "invalid type: neither int nor percentage"
MSG_BAD_VALUE = "invalid value {value}: strconv.Atoi: parsing {digits}: {reason}"

_ATOI = re.compile(r"[+-]?[0-9]+")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class IntStrError(ValueError):
    """An int-or-string value cannot be used; ``str()`` is upstream's message."""


def is_percent(v: object) -> bool:
    """True for a string ending in ``%`` (whether or not the number before it is valid)."""
    return isinstance(v, str) and v.endswith("%")


def _quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def int_or_percent_value(v: int | str) -> tuple[int, bool]:
    """``(number, is_percent)`` (upstream ``getIntOrPercentValueSafely``); raises :class:`IntStrError`.

    The message is the inner one (``invalid value "x%": strconv.Atoi: ...``), without the
    ``invalid value for IntOrString:`` prefix that :func:`scaled_value` adds.
    """
    if isinstance(v, bool) or not isinstance(v, int | str):
        raise IntStrError(MSG_BAD_TYPE)
    if isinstance(v, int):
        return v, False
    if not v.endswith("%"):
        raise IntStrError(MSG_NOT_PERCENT)
    digits = v[:-1]
    if not _ATOI.fullmatch(digits):
        raise IntStrError(
            MSG_BAD_VALUE.format(value=_quote(v), digits=_quote(digits), reason="invalid syntax")
        )
    n = int(digits)
    if not _INT64_MIN <= n <= _INT64_MAX:
        raise IntStrError(
            MSG_BAD_VALUE.format(value=_quote(v), digits=_quote(digits), reason="value out of range")
        )
    return n, True


def scaled_value(v: int | str | None, total: int, *, round_up: bool) -> int:
    """Resolve an int-or-percent against ``total`` (upstream ``GetScaledValueFromIntOrPercent``).

    ``scaled_value("10%", 35, round_up=True) == 4``; ``scaled_value(3, 100, round_up=False) == 3``.
    Raises :class:`IntStrError` for ``None``, non-percent strings and bad numbers.
    """
    if v is None:
        raise IntStrError(MSG_NIL)
    try:
        n, percent = int_or_percent_value(v)
    except IntStrError as err:
        raise IntStrError(MSG_INVALID.format(err=err)) from None
    if not percent:
        return n
    scaled = float(n) * float(total) / 100
    return int(math.ceil(scaled) if round_up else math.floor(scaled))
