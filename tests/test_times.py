"""archive.times: the one ISO 8601 UTC reader and writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from archive.store.schema import ArchiveError
from archive.times import (
    NaiveTimeError,
    RangeError,
    check_range,
    page_date_text,
    parse_moment,
    parse_utc,
    utc_text,
)

MOMENT = datetime(2020, 11, 29, 20, 25, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2020-11-29T20:25:00Z", MOMENT, id="z"),
        pytest.param("2020-11-29T23:25:00+03:00", MOMENT, id="offset-converted"),
        pytest.param("2020-11-29T15:25:00-0500", MOMENT, id="offset-without-colon"),
        pytest.param("2020-11-29T20:25:00", MOMENT, id="naive-is-utc"),
        pytest.param("2020-11-29 20:25:00Z", MOMENT, id="space-separator"),
        pytest.param("  2020-11-29T20:25:00Z\n", MOMENT, id="surrounding-space"),
        pytest.param("2020-11-29T20:25:00.250Z", MOMENT.replace(microsecond=250000),
                     id="fraction"),
        pytest.param("2020-11-29", datetime(2020, 11, 29, tzinfo=UTC), id="date-only"),
        pytest.param("2020-11-29T20", datetime(2020, 11, 29, 20, tzinfo=UTC),
                     id="hour-bucket"),
        pytest.param("2020-11-30T00:25:00+04:00", MOMENT, id="offset-crosses-midnight"),
    ],
)
def test_parse_utc(text: str, expected: datetime) -> None:
    parsed = parse_utc(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC  # always UTC, not merely an equal moment


@pytest.mark.parametrize("text", ["", "yesterday", "2020-13-01", "29/11/2020", "2020-11-29T25:00Z"])
def test_parse_utc_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"isoformat|must be in"):
        parse_utc(text)


def test_require_offset_refuses_naive_text() -> None:
    assert parse_utc("2020-11-29T20:25:00Z", require_offset=True) == MOMENT
    with pytest.raises(NaiveTimeError, match="timezone-aware"):
        parse_utc("2020-11-29T20:25:00", require_offset=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(MOMENT, "2020-11-29T20:25:00Z", id="utc"),
        pytest.param(datetime(2020, 11, 29, 23, 25, 59, 999999,
                              tzinfo=timezone(timedelta(hours=3))),
                     "2020-11-29T20:25:59Z", id="offset-and-fraction-dropped"),
    ],
)
def test_utc_text(value: datetime, expected: str) -> None:
    assert utc_text(value) == expected
    assert parse_utc(utc_text(value)) == value.replace(microsecond=0)


def test_utc_text_refuses_naive_with_the_callers_error() -> None:
    with pytest.raises(NaiveTimeError, match=r"^since must be timezone-aware"):
        utc_text(datetime(2020, 11, 29), "since")
    with pytest.raises(ArchiveError, match=r"^published must be timezone-aware"):
        utc_text(datetime(2020, 11, 29), "published", ArchiveError)


def test_page_date_text_keeps_a_day_a_day() -> None:
    """A day-only page date is stored as the day, which sorts before that day's times and
    reads back as its first second."""
    day = datetime(2022, 3, 15, tzinfo=UTC)
    assert page_date_text(day, "day") == "2022-03-15"
    assert page_date_text(day, "second") == "2022-03-15T00:00:00Z"
    assert page_date_text(MOMENT, "minute") == "2020-11-29T20:25:00Z"
    assert "2022-03-15" < "2022-03-15T00:00:00Z" < "2022-03-16"
    assert parse_utc(page_date_text(day, "day")) == day
    with pytest.raises(NaiveTimeError):
        page_date_text(datetime(2022, 3, 15), "day")


# --------------------------------------------------------------------------- parse_moment

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        pytest.param("24h", NOW - timedelta(hours=24), NOW - timedelta(hours=24), id="hours"),
        pytest.param("7d", NOW - timedelta(days=7), NOW - timedelta(days=7), id="days"),
        pytest.param("7 days ago", NOW - timedelta(days=7), NOW - timedelta(days=7), id="ago"),
        pytest.param("2w", NOW - timedelta(weeks=2), NOW - timedelta(weeks=2), id="weeks"),
        pytest.param("90m", NOW - timedelta(minutes=90), NOW - timedelta(minutes=90),
                     id="minutes"),
        pytest.param("now", NOW, NOW, id="now"),
        pytest.param("Yesterday", datetime(2026, 12, 1, tzinfo=UTC),
                     datetime(2026, 12, 2, tzinfo=UTC), id="yesterday-whole-day"),
        pytest.param("today", datetime(2026, 12, 2, tzinfo=UTC),
                     datetime(2026, 12, 3, tzinfo=UTC), id="today"),
        pytest.param("2026-11-01", datetime(2026, 11, 1, tzinfo=UTC),
                     datetime(2026, 11, 2, tzinfo=UTC), id="day-end-is-next-midnight"),
        pytest.param("2026-11-01T10:00+03:00", datetime(2026, 11, 1, 7, tzinfo=UTC),
                     datetime(2026, 11, 1, 7, tzinfo=UTC), id="iso-time-exact"),
    ],
)
def test_parse_moment(text: str, start: datetime, end: datetime) -> None:
    assert parse_moment(text, NOW) == start
    assert parse_moment(text, NOW, end=True) == end


@pytest.mark.parametrize("text", ["last tuesday", "", "24", "h", "-1d", "999999w",
                                  "9999-12-31"])
def test_parse_moment_rejects_with_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a date|too far|out of range"):
        parse_moment(text, NOW, end=True)


def test_parse_moment_needs_an_aware_now_and_check_range() -> None:
    with pytest.raises(NaiveTimeError):
        parse_moment("24h", NOW.replace(tzinfo=None))
    check_range(NOW - timedelta(days=1), NOW)
    with pytest.raises(RangeError):
        check_range(NOW, NOW - timedelta(days=1))
