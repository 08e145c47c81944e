"""Resource quantities, as upstream ``k8s.io/apimachinery/pkg/api/resource`` (``quantity.go``,
``suffix.go``, ``amount.go``).

A quantity is held as an exact :class:`fractions.Fraction`. Parsing follows upstream
``parseQuantityString`` + ``ParseQuantity`` character by character (sign, digits, optional fraction,
suffix of ``eEinumkKMGTP`` letters optionally followed by a signed exponent), then:

* decimal SI suffixes ``n u m "" k M G T P E`` scale by powers of 1000, binary ``Ki Mi Gi Ti Pi Ei`` by
  powers of 1024, ``e<N>``/``E<N>`` by 10**N;
* non-zero values are rounded *away from zero* to a multiple of 1n (upstream rounds the magnitude
  up to nano precision so "some" never becomes "none");
* binary-SI values are capped at 2**63-1 like upstream's ``maxAllowed``.

``milli_value``/``value`` round away from zero like ``MilliValue``/``Value`` (``ScaledValue``).
:func:`format_quantity` renders upstream's canonical form (``CanonicalizeBytes``): binary SI when the
value is an integer of at least 1024 in magnitude, otherwise the largest decimal SI suffix that keeps
an integer mantissa (``1.5Gi`` -> ``1536Mi``, ``0.1`` -> ``100m``, ``1000`` -> ``1k``).

Approximations: exponents beyond +-1000 are rejected with the numeric-part error instead of being
carried as huge ``inf.Dec`` values.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal
from fractions import Fraction
from typing import Literal

__all__ = [
    "BINARY_SI",
    "DECIMAL_EXPONENT",
    "DECIMAL_SI",
    "Format",
    "QuantityError",
    "canonical_quantity",
    "format_quantity",
    "milli_value",
    "parse_quantity",
    "parse_quantity_with_format",
    "value",
]

Format = Literal["DecimalExponent", "BinarySI", "DecimalSI"]
DECIMAL_EXPONENT: Format = "DecimalExponent"
BINARY_SI: Format = "BinarySI"
DECIMAL_SI: Format = "DecimalSI"

MSG_FORMAT_WRONG = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
MSG_NUMERIC = "unable to parse numeric part of quantity"
MSG_SUFFIX = "unable to parse quantity's suffix"

_DIGITS = frozenset("0123456789")
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_MAX_EXPONENT = 1000
_NANO = Fraction(1, 10**9)
_MAX_ALLOWED = 2**63 - 1

# suffix -> power of ten (decimal SI) or power of two (binary SI).
_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY_SUFFIXES = {"": 0, "Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXP = {e: s for s, e in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXP = {e: s for s, e in _BINARY_SUFFIXES.items()}


class QuantityError(ValueError):
    """A string is not a quantity; ``str()`` is upstream's ``ErrFormatWrong``/``ErrNumeric``/``ErrSuffix``."""


def _split(s: str) -> tuple[bool, str, str, str]:
    """``(positive, numerator digits, fraction digits, suffix)`` as upstream ``parseQuantityString``."""
    positive = True
    pos = 0
    end = len(s)
    if pos < end and s[0] in "+-":
        positive = s[0] == "+"
        pos += 1
    while pos < end and s[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    num = s[start:pos] or "0"
    denom = ""
    if pos < end and s[pos] == ".":
        pos += 1
        start = pos
        while pos < end and s[pos] in _DIGITS:
            pos += 1
        denom = s[start:pos]
    suffix_start = pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(MSG_FORMAT_WRONG)
    return positive, num, denom, s[suffix_start:]


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """``(base, exponent, format)`` for a suffix (upstream ``suffixHandler.interpret``)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix and suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if body and all(c in _DIGITS for c in body):
            exp = int(digits)
            if abs(exp) > _MAX_EXPONENT:
                raise QuantityError(MSG_NUMERIC)
            return 10, exp, DECIMAL_EXPONENT
    raise QuantityError(MSG_SUFFIX)


def _round_away_to_nano(q: Fraction) -> Fraction:
    magnitude = abs(q)
    nanos = math.ceil(magnitude / _NANO)
    rounded = nanos * _NANO
    return rounded if q >= 0 else -rounded


def parse_quantity_with_format(s: str | int | float) -> tuple[Fraction, Format]:
    """Parse a quantity and also return the format its string form picks (kept for rendering).

    Results for strings are memoised: the same few quantities ("100m", "16Gi", "110") are parsed
    for every pod and node the scheduler looks at, and Fraction arithmetic is slow.
    """
    if isinstance(s, str):
        return _parse_str_cached(s)
    return _parse_uncached(s)


@functools.lru_cache(maxsize=4096)
def _parse_str_cached(s: str) -> tuple[Fraction, Format]:
    return _parse_uncached(s)


def _parse_uncached(s: str | int | float) -> tuple[Fraction, Format]:
    if isinstance(s, bool):
        raise QuantityError(MSG_FORMAT_WRONG)
    if isinstance(s, int):
        text = str(s)
    elif isinstance(s, float):
        if not math.isfinite(s):
            raise QuantityError(MSG_FORMAT_WRONG)
        text = repr(s)
    else:
        text = s
    if not text:
        raise QuantityError(MSG_FORMAT_WRONG)
    if text == "0":
        return Fraction(0), DECIMAL_SI
    positive, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    amount = Fraction(int(num + denom), 10 ** len(denom))
    amount *= Fraction(base) ** exponent
    if amount != 0:
        amount = _round_away_to_nano(amount)
    if fmt == BINARY_SI:
        if amount > _MAX_ALLOWED:
            amount = Fraction(_MAX_ALLOWED)
        if 0 < amount < 1:
            fmt = DECIMAL_SI
    return (amount if positive else -amount), fmt


def parse_quantity(s: str | int | float) -> Fraction:
    """Parse ``"16Gi"``, ``"100m"``, ``"1.5"``, ``"1e3"``, ``4`` ... into an exact value.

    Raises :class:`QuantityError` with upstream's message for malformed input.
    """
    return parse_quantity_with_format(s)[0]


def _ceil_away(q: Fraction) -> int:
    return math.ceil(q) if q >= 0 else -math.ceil(-q)


def milli_value(q: Fraction | Decimal | int | str) -> int:
    """The value in thousandths, rounded away from zero (upstream ``MilliValue``)."""
    return _ceil_away(_as_fraction(q) * 1000)


def value(q: Fraction | Decimal | int | str) -> int:
    """The integer value, rounded away from zero (upstream ``Value``)."""
    return _ceil_away(_as_fraction(q))


def _as_fraction(q: Fraction | Decimal | int | str) -> Fraction:
    if isinstance(q, str):
        return parse_quantity(q)
    return Fraction(q)


def _remove_factors(n: int, base: int) -> tuple[int, int]:
    times = 0
    while n != 0 and n % base == 0:
        n //= base
        times += 1
    return n, times


def _decimal_canonical(q: Fraction) -> tuple[int, int]:
    """Integer mantissa and an exponent that is a multiple of 3 (upstream ``AsCanonicalBytes``)."""
    exponent = 0
    # Scale up to an integer (values carry at most nano precision after parsing).
    while q.denominator != 1:
        q *= 10
        exponent -= 1
    mantissa, times = _remove_factors(int(q), 10)
    exponent += times
    shift = exponent % 3
    return mantissa * 10**shift, exponent - shift


def format_quantity(q: Fraction | Decimal | int, *, fmt: Format = DECIMAL_SI) -> str:
    """Canonical string of a quantity in the given format (upstream ``Quantity.String``)."""
    amount = Fraction(q)
    if (10**9 * amount).denominator != 1:
        amount = _round_away_to_nano(amount)
    if amount == 0:
        return "0"
    if fmt == BINARY_SI and (-1024 < amount < 1024 or amount.denominator != 1):
        fmt = DECIMAL_SI
    if fmt == BINARY_SI:
        mantissa, times = _remove_factors(int(amount), 1024)
        exp2 = min(times * 10, max(_BINARY_BY_EXP))
        # Past Ei the surplus folds back into the mantissa (unreachable with the 2**63-1 cap).
        mantissa *= 1024 ** (times - exp2 // 10)
        return f"{mantissa}{_BINARY_BY_EXP[exp2]}"
    mantissa, exponent = _decimal_canonical(amount)
    if fmt == DECIMAL_EXPONENT:
        return f"{mantissa}e{exponent}" if exponent else str(mantissa)
    if exponent in _DECIMAL_BY_EXP:
        return f"{mantissa}{_DECIMAL_BY_EXP[exponent]}"
    top = max(_DECIMAL_BY_EXP)
    if exponent > top:
        return f"{mantissa * 10 ** (exponent - top)}{_DECIMAL_BY_EXP[top]}"
    return f"{mantissa}e{exponent}"


def canonical_quantity(s: str | int | float) -> str:
    """Parse and re-render in canonical form, keeping the input's format (``"1.5Gi"`` -> ``"1536Mi"``)."""
    amount, fmt = parse_quantity_with_format(s)
    return format_quantity(amount, fmt=fmt)
