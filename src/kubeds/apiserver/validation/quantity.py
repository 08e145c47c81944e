"""Just enough of ``resource.Quantity`` for validation: parse to an exact Decimal, or fail.

Mirrors the grammar of ``staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go``
(``ParseQuantity``: a signed decimal number then a binary-SI ``Ki..Ei``, decimal-SI ``n u m k M G T P E``
or decimal-exponent ``e3``/``E3`` suffix). Upstream rejects a malformed quantity while decoding;
kubeds decodes JSON generically, so validation reports it with the decoder's words instead.
"""

from __future__ import annotations

import decimal
import re
from typing import Any

__all__ = ["QUANTITY_FORMAT_ERROR", "parse_quantity"]

QUANTITY_FORMAT_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)

_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))([eEinumkKMGTP]*[-+]?[0-9]*)$")
_SUFFIXES: dict[str, decimal.Decimal] = {
    "": decimal.Decimal(1),
    "n": decimal.Decimal("1e-9"),
    "u": decimal.Decimal("1e-6"),
    "m": decimal.Decimal("1e-3"),
    "k": decimal.Decimal("1e3"),
    "M": decimal.Decimal("1e6"),
    "G": decimal.Decimal("1e9"),
    "T": decimal.Decimal("1e12"),
    "P": decimal.Decimal("1e15"),
    "E": decimal.Decimal("1e18"),
    "Ki": decimal.Decimal(2**10),
    "Mi": decimal.Decimal(2**20),
    "Gi": decimal.Decimal(2**30),
    "Ti": decimal.Decimal(2**40),
    "Pi": decimal.Decimal(2**50),
    "Ei": decimal.Decimal(2**60),
}
_EXPONENT = re.compile(r"^[eE][-+]?[0-9]+$")


def parse_quantity(value: Any) -> decimal.Decimal | None:
    """The exact value of a quantity given as a string or a JSON number; None when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return decimal.Decimal(str(value))
    if not isinstance(value, str):
        return None
    m = _QUANTITY.match(value.strip())
    if not m:
        return None
    number, suffix = decimal.Decimal(m.group(1)), m.group(2)
    if suffix in _SUFFIXES:
        return number * _SUFFIXES[suffix]
    if _EXPONENT.match(suffix):
        return number.scaleb(int(suffix[1:]))
    return None
