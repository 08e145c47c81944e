"""AGE rendering: ``duration.HumanDuration`` / ``ShortHumanDuration`` and ``translateTimestampSince``."""

from __future__ import annotations

import datetime as dt

import pytest

from kubeds.apiserver.printers import human_duration, short_human_duration, translate_timestamp_since

SECOND = 1.0
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MS = 0.001
NS = 1e-9

# Ported from TestHumanDuration in staging/src/k8s.io/apimachinery/pkg/util/duration/duration_test.go
HUMAN = [
    (SECOND, "1s"),
    (70 * SECOND, "70s"),
    (190 * SECOND, "3m10s"),
    (70 * MINUTE, "70m"),
    (47 * HOUR, "47h"),
    (49 * HOUR, "2d1h"),
    ((8 * 24 + 2) * HOUR, "8d"),
    ((367 * 24) * HOUR, "367d"),
    ((365 * 2 * 24 + 25) * HOUR, "2y1d"),
    ((365 * 8 * 24 + 2) * HOUR, "8y"),
]

# Ported from TestHumanDurationBoundaries (same file)
HUMAN_BOUNDARIES = [
    (-2 * SECOND, "<invalid>"),
    (-2 * SECOND + NS, "0s"),
    (0, "0s"),
    (SECOND - MS, "0s"),
    (2 * MINUTE - MS, "119s"),
    (2 * MINUTE, "2m"),
    (2 * MINUTE + SECOND, "2m1s"),
    (10 * MINUTE - MS, "9m59s"),
    (10 * MINUTE, "10m"),
    (10 * MINUTE + SECOND, "10m"),
    (3 * HOUR - MS, "179m"),
    (3 * HOUR, "3h"),
    (3 * HOUR + MINUTE, "3h1m"),
    (8 * HOUR - MS, "7h59m"),
    (8 * HOUR, "8h"),
    (8 * HOUR + 59 * MINUTE, "8h"),
    (2 * DAY - MS, "47h"),
    (2 * DAY, "2d"),
    (2 * DAY + HOUR, "2d1h"),
    (8 * DAY - MS, "7d23h"),
    (8 * DAY, "8d"),
    (8 * DAY + 23 * HOUR, "8d"),
    (2 * 365 * DAY - MS, "729d"),
    (2 * 365 * DAY, "2y"),
    (2 * 365 * DAY + 23 * HOUR, "2y"),
    (2 * 365 * DAY + 23 * HOUR + 59 * MINUTE, "2y"),
    (2 * 365 * DAY + DAY - MS, "2y"),
    (2 * 365 * DAY + DAY, "2y1d"),
    (3 * 365 * DAY, "3y"),
    (4 * 365 * DAY, "4y"),
    (5 * 365 * DAY, "5y"),
    (6 * 365 * DAY, "6y"),
    (7 * 365 * DAY, "7y"),
    (8 * 365 * DAY - MS, "7y364d"),
    (8 * 365 * DAY, "8y"),
    (8 * 365 * DAY + 364 * DAY, "8y"),
    (9 * 365 * DAY, "9y"),
]

# Ported from TestShortHumanDurationBoundaries (same file)
SHORT_BOUNDARIES = [
    (-2 * SECOND, "<invalid>"),
    (-2 * SECOND + NS, "0s"),
    (0, "0s"),
    (SECOND - MS, "0s"),
    (SECOND, "1s"),
    (2 * SECOND - MS, "1s"),
    (MINUTE - MS, "59s"),
    (MINUTE, "1m"),
    (2 * MINUTE - MS, "1m"),
    (HOUR - MS, "59m"),
    (HOUR, "1h"),
    (2 * HOUR - MS, "1h"),
    (DAY - MS, "23h"),
    (DAY, "1d"),
    (2 * DAY - MS, "1d"),
    (365 * DAY - MS, "364d"),
    (365 * DAY, "1y"),
    (2 * 365 * DAY - MS, "1y"),
    (2 * 365 * DAY, "2y"),
]


@pytest.mark.parametrize(("seconds", "want"), HUMAN + HUMAN_BOUNDARIES)
def test_human_duration(seconds: float, want: str) -> None:
    assert human_duration(seconds) == want


@pytest.mark.parametrize(("seconds", "want"), SHORT_BOUNDARIES)
def test_short_human_duration(seconds: float, want: str) -> None:
    assert short_human_duration(seconds) == want


NOW = dt.datetime(2026, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "want"),
    [
        (None, "<unknown>"),
        ("", "<unknown>"),
        ("not-a-time", "<unknown>"),
        ("2026-01-01T11:59:27Z", "33s"),
        ("2026-01-01T11:59:27.500000Z", "32s"),  # MicroTime, truncated like Go
        ("2025-12-27T12:00:00Z", "5d"),
        ("2026-01-01T12:00:01Z", "0s"),  # up to 2s in the future counts as now
        ("2026-01-01T12:00:05Z", "<invalid>"),
    ],
)
def test_translate_timestamp_since(value: str | None, want: str) -> None:
    assert translate_timestamp_since(value, now=NOW) == want


def test_translate_timestamp_since_accepts_naive_now_as_utc() -> None:
    assert translate_timestamp_since("2026-01-01T11:00:00Z", now=NOW.replace(tzinfo=None)) == "60m"
