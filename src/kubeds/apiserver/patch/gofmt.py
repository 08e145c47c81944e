"""Go-flavoured rendering of decoded JSON values, for error texts that must read as upstream's.

Upstream's patch errors embed values with ``fmt``'s ``%v`` (``map[a:1 b:[x y]]``, ``<nil>``) and
Go type names from ``reflect.TypeOf`` (``map[string]interface {}``, ``[]interface {}``, ``int64``:
the API server decodes patches with ``kjson.UnmarshalCaseSensitivePreserveInts``, so integers are
``int64`` and other numbers ``float64``). ``encoding/json`` names JSON kinds in its
``cannot unmarshal <kind> into ...`` errors. These helpers reproduce the three renderings.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["go_equal", "go_type_name", "go_value", "json_kind", "same_go_type"]


def go_type_name(value: Any) -> str:
    """``reflect.TypeOf(value).String()`` for a value decoded from JSON."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, dict):
        return "map[string]interface {}"
    return type(value).__name__


def same_go_type(left: Any, right: Any) -> bool:
    return go_type_name(left) == go_type_name(right)


def go_equal(left: Any, right: Any) -> bool:
    """Go ``==`` on two ``interface{}`` values: same dynamic type and equal value."""
    return same_go_type(left, right) and bool(left == right)


def json_kind(value: Any) -> str:
    """How ``encoding/json`` names a JSON value in ``cannot unmarshal <kind>`` errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _go_float(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        digits = exponent.lstrip("+-").rjust(2, "0")
        return f"{mantissa}e{sign}{digits}"
    return text


def go_value(value: Any) -> str:
    """``fmt.Sprintf("%v", value)`` for a value decoded from JSON (map keys sorted, as Go prints)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + " ".join(go_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{key}:{go_value(value[key])}" for key in sorted(value)) + "]"
    return str(value)
