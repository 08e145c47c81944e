from __future__ import annotations

import pytest

from kubeds.models.intstr import IntStrError, int_or_percent_value, is_percent, scaled_value


# Ported from upstream util/intstr/intstr_test.go TestGetScaledValueFromIntOrPercent.
@pytest.mark.parametrize(
    ("value", "total", "round_up", "want"),
    [
        (123, 0, False, 123),
        ("90%", 100, True, 90),
        ("90%", 95, True, 86),
        ("90%", 95, False, 85),
        ("0%", 10, True, 0),
        ("100%", 7, False, 7),
        ("+10%", 10, True, 1),
    ],
)
def test_scaled_value(value: int | str, total: int, round_up: bool, want: int) -> None:
    assert scaled_value(value, total, round_up=round_up) == want


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("%", 'invalid value for IntOrString: invalid value "%": strconv.Atoi: parsing "": invalid syntax'),
        ("90#", "invalid value for IntOrString: invalid type: string is not a percentage"),
        (
            "#%",
            'invalid value for IntOrString: invalid value "#%": strconv.Atoi: parsing "#": invalid syntax',
        ),
        ("90", "invalid value for IntOrString: invalid type: string is not a percentage"),
        (
            "1.5%",
            'invalid value for IntOrString: invalid value "1.5%": '
            'strconv.Atoi: parsing "1.5": invalid syntax',
        ),
        (
            "99999999999999999999%",
            'invalid value for IntOrString: invalid value "99999999999999999999%": '
            'strconv.Atoi: parsing "99999999999999999999": value out of range',
        ),
        (None, "nil value for IntOrString"),
    ],
)
def test_scaled_value_errors(value: str | None, message: str) -> None:
    with pytest.raises(IntStrError) as exc:
        scaled_value(value, 10, round_up=True)
    assert str(exc.value) == message


# DaemonSet rounding (daemonset-semantics §2.5/§3.2): maxUnavailable and maxSurge both round up.
@pytest.mark.parametrize(
    ("setting", "desired", "want"),
    [
        ("50%", 2, 1),
        ("50%", 3, 2),
        ("100%", 2, 2),
        ("10%", 5000, 500),
        ("10%", 5001, 501),
        ("1%", 1, 1),
        (0, 7, 0),
        (1, 7, 1),
    ],
)
def test_daemonset_counts_round_up(setting: int | str, desired: int, want: int) -> None:
    assert scaled_value(setting, desired, round_up=True) == want


@pytest.mark.parametrize(("round_up", "want"), [(True, 4), (False, 3)])
def test_rounding_direction(round_up: bool, want: int) -> None:
    # 33% of 10 is 3.3: Ceil for maxUnavailable/maxSurge of DaemonSets, Floor when asked.
    assert scaled_value("33%", 10, round_up=round_up) == want


def test_is_percent_and_raw_value() -> None:
    assert is_percent("10%") and is_percent("x%")
    assert not is_percent("10") and not is_percent(10)
    assert int_or_percent_value("25%") == (25, True)
    assert int_or_percent_value(3) == (3, False)
