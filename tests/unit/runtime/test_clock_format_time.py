"""format_time: RFC 3339 at second precision, the same text whether or not the last second is cached."""

from __future__ import annotations

import datetime as dt

import pytest

from kubeds.clock import format_time

UTC = dt.UTC


@pytest.mark.parametrize(
    ("t", "want"),
    [
        (dt.datetime(2026, 11, 26, 22, 21, 13, tzinfo=UTC), "2026-11-26T22:21:13Z"),
        (dt.datetime(2026, 11, 26, 22, 21, 13, 999_999, tzinfo=UTC), "2026-11-26T22:21:13Z"),  # truncated
        (
            dt.datetime(2026, 11, 26, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2026-11-26T21:30:00Z",
        ),
        (
            dt.datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
            "1969-12-31T23:59:59Z",
        ),  # floor, not toward 0
        (dt.datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01T00:00:00Z"),
    ],
)
def test_formats_like_strftime_in_utc(t: dt.datetime, want: str) -> None:
    assert format_time(t) == want
    assert format_time(t) == want  # again, from the cached second
    assert want == t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_alternating_seconds_never_return_the_other_seconds_text() -> None:
    a = dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC)
    b = a + dt.timedelta(seconds=1)
    assert [format_time(x) for x in (a, b, a, b)] == [
        "2026-01-01T00:00:01Z",
        "2026-01-01T00:00:02Z",
        "2026-01-01T00:00:01Z",
        "2026-01-01T00:00:02Z",
    ]


def test_naive_datetime_is_local_time_as_astimezone_takes_it() -> None:
    naive = dt.datetime(2026, 6, 1, 12, 0, 0)
    assert format_time(naive) == naive.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
