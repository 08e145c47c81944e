from __future__ import annotations

from fractions import Fraction

import pytest

from kubeds.models.quantity import (
    BINARY_SI,
    DECIMAL_EXPONENT,
    DECIMAL_SI,
    Format,
    QuantityError,
    canonical_quantity,
    format_quantity,
    milli_value,
    parse_quantity,
    parse_quantity_with_format,
    value,
)

FORMAT_WRONG = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"


# Essentials of upstream resource/quantity_test.go TestQuantityParse: value and format picked.
@pytest.mark.parametrize(
    ("text", "amount", "fmt"),
    [
        ("0", Fraction(0), DECIMAL_SI),
        ("0Ki", Fraction(0), BINARY_SI),
        ("5Ki", Fraction(5 * 1024), BINARY_SI),
        ("5Mi", Fraction(5 * 1024**2), BINARY_SI),
        ("5Gi", Fraction(5 * 1024**3), BINARY_SI),
        ("5Ti", Fraction(5 * 1024**4), BINARY_SI),
        ("5Pi", Fraction(5 * 1024**5), BINARY_SI),
        ("5Ei", Fraction(5 * 1024**6), BINARY_SI),
        ("5n", Fraction(5, 10**9), DECIMAL_SI),
        ("5u", Fraction(5, 10**6), DECIMAL_SI),
        ("5m", Fraction(5, 1000), DECIMAL_SI),
        ("5", Fraction(5), DECIMAL_SI),
        ("5k", Fraction(5000), DECIMAL_SI),
        ("5M", Fraction(5 * 10**6), DECIMAL_SI),
        ("5G", Fraction(5 * 10**9), DECIMAL_SI),
        ("5T", Fraction(5 * 10**12), DECIMAL_SI),
        ("5P", Fraction(5 * 10**15), DECIMAL_SI),
        ("5E", Fraction(5 * 10**18), DECIMAL_SI),
        ("1E-9", Fraction(1, 10**9), DECIMAL_EXPONENT),
        ("1e-3", Fraction(1, 1000), DECIMAL_EXPONENT),
        ("1e3", Fraction(1000), DECIMAL_EXPONENT),
        ("1E18", Fraction(10**18), DECIMAL_EXPONENT),
        ("1e+3", Fraction(1000), DECIMAL_EXPONENT),
        ("9.01", Fraction(901, 100), DECIMAL_SI),
        ("8.1m", Fraction(81, 10**4), DECIMAL_SI),
        ("7.123456m", Fraction(7123456, 10**9), DECIMAL_SI),
        ("5.444k", Fraction(5444), DECIMAL_SI),
        ("3.5G", Fraction(35 * 10**8), DECIMAL_SI),
        ("1.5Gi", Fraction(1536 * 1024**2), BINARY_SI),
        ("+1.5", Fraction(3, 2), DECIMAL_SI),
        ("-1.5", Fraction(-3, 2), DECIMAL_SI),
        ("0.5Ki", Fraction(512), BINARY_SI),
        ("0.0001Ki", Fraction(1024, 10**4), DECIMAL_SI),  # below 1 in binary: switched to decimal
        ("1.", Fraction(1), DECIMAL_SI),
        # Too precise: rounded away from zero to the next nano.
        ("7.12345n", Fraction(8, 10**9), DECIMAL_SI),
        ("-7.12345n", Fraction(-8, 10**9), DECIMAL_SI),
        ("0.1n", Fraction(1, 10**9), DECIMAL_SI),
        # Binary SI is capped at 2**63-1.
        ("12Ei", Fraction(2**63 - 1), BINARY_SI),
    ],
)
def test_parse(text: str, amount: Fraction, fmt: Format) -> None:
    assert parse_quantity_with_format(text) == (amount, fmt)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", FORMAT_WRONG),
        ("abc", FORMAT_WRONG),
        ("1.5.5", FORMAT_WRONG),
        ("1Qi", FORMAT_WRONG),
        ("1KiB", FORMAT_WRONG),
        (" 1", FORMAT_WRONG),
        ("1 ", FORMAT_WRONG),
        ("1iK", "unable to parse quantity's suffix"),
        ("1K", "unable to parse quantity's suffix"),
        ("1e", "unable to parse quantity's suffix"),
        ("1ee", "unable to parse quantity's suffix"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as exc:
        parse_quantity(text)
    assert str(exc.value) == message


def test_parse_accepts_numbers() -> None:
    assert parse_quantity(4) == 4
    assert parse_quantity(0.5) == Fraction(1, 2)
    with pytest.raises(QuantityError):
        parse_quantity(True)


# upstream TestQuantityString / canonicalization cases.
@pytest.mark.parametrize(
    ("amount", "fmt", "want"),
    [
        (Fraction(1024**3), BINARY_SI, "1Gi"),
        (Fraction(300 * 1024**2), BINARY_SI, "300Mi"),
        (Fraction(6 * 1024), BINARY_SI, "6Ki"),
        (Fraction(1001 * 1024**3), BINARY_SI, "1001Gi"),
        (Fraction(1024**4), BINARY_SI, "1Ti"),
        (Fraction(5), BINARY_SI, "5"),
        (Fraction(1, 2), BINARY_SI, "500m"),
        (Fraction(10**9), DECIMAL_SI, "1G"),
        (Fraction(1, 1000), DECIMAL_SI, "1m"),
        (Fraction(80, 1000), DECIMAL_SI, "80m"),
        (Fraction(1080, 1000), DECIMAL_SI, "1080m"),
        (Fraction(300 * 10**6), DECIMAL_SI, "300M"),
        (Fraction(10**12), DECIMAL_SI, "1T"),
        (Fraction(1234567 * 10**6), DECIMAL_SI, "1234567M"),
        (Fraction(1234567, 1000), BINARY_SI, "1234567m"),
        (Fraction(3000), DECIMAL_SI, "3k"),
        (Fraction(1025), BINARY_SI, "1025"),
        (Fraction(0), DECIMAL_SI, "0"),
        (Fraction(10**9), DECIMAL_EXPONENT, "1e9"),
        (Fraction(1, 1000), DECIMAL_EXPONENT, "1e-3"),
        (Fraction(1, 10**9), DECIMAL_EXPONENT, "1e-9"),
        (Fraction(10**10), DECIMAL_EXPONENT, "10e9"),
        (Fraction(1080, 1000), DECIMAL_EXPONENT, "1080e-3"),
        (Fraction(-(10**9)), DECIMAL_SI, "-1G"),
        (Fraction(-(1024**3)), BINARY_SI, "-1Gi"),
    ],
)
def test_format(amount: Fraction, fmt: Format, want: str) -> None:
    assert format_quantity(amount, fmt=fmt) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("16Gi", "16Gi"),
        ("4", "4"),
        ("100m", "100m"),
        ("0.1", "100m"),
        ("1000m", "1"),
        ("1000", "1k"),
        ("1.5Gi", "1536Mi"),
        ("1.5", "1500m"),
        ("1024", "1024"),
        ("1024Ki", "1Mi"),
        ("110", "110"),
        ("250m", "250m"),
        ("1e3", "1e3"),
    ],
)
def test_canonical_round_trip(text: str, want: str) -> None:
    assert canonical_quantity(text) == want
    assert canonical_quantity(want) == want


# MilliValue / Value round away from zero (upstream ScaledValue).
@pytest.mark.parametrize(
    ("text", "milli", "whole"),
    [
        ("100m", 100, 1),
        ("1", 1000, 1),
        ("1.5", 1500, 2),
        ("16Gi", 16 * 1024**3 * 1000, 16 * 1024**3),
        ("1n", 1, 1),
        ("-1.5", -1500, -2),
        ("0", 0, 0),
    ],
)
def test_milli_value_and_value(text: str, milli: int, whole: int) -> None:
    q = parse_quantity(text)
    assert milli_value(q) == milli
    assert value(q) == whole
    assert milli_value(text) == milli
