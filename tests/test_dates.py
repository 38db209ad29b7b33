"""``crawler.dates.parse_date``: the date strings news pages, feeds and sitemaps print."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from crawler.pages.dates import parse_date


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param("23:25 GMT29 November 2020", "2020-11-29T23:25:00+00:00", id="sputnik-glued"),
    pytest.param("29.11.2020 23:25", "2020-11-29T23:25:00+00:00", id="dotted-naive-utc"),
    pytest.param("2020-11-29T23:25:00+03:00", "2020-11-29T23:25:00+03:00", id="iso-offset"),
    pytest.param("2020-11-29T23:25:00Z", "2020-11-29T23:25:00+00:00", id="iso-z"),
    pytest.param("2020-11-29T23:25:00.000+0300", "2020-11-29T23:25:00+03:00", id="iso-millis"),
    pytest.param("2020-11-29 23:25:00 +0300", "2020-11-29T23:25:00+03:00", id="iso-space"),
    pytest.param("20201129T2325+0000", "2020-11-29T23:25:00+00:00", id="iso-basic"),
    pytest.param("2020-11-29", "2020-11-29T00:00:00+00:00", id="date-only"),
    pytest.param("Sun, 29 Nov 2020 23:25:00 GMT", "2020-11-29T23:25:00+00:00", id="rfc822-gmt"),
    pytest.param("Sun, 29 Nov 2020 23:25:00 +0300", "2020-11-29T23:25:00+03:00",
                 id="rfc822-offset"),
    pytest.param("29 Nov 2020 23:25 MSK", "2020-11-29T23:25:00+03:00", id="zone-name-msk"),
    pytest.param("Sunday, November 29, 2020 11:25 PM EST", "2020-11-29T23:25:00-05:00",
                 id="us-long-est"),
    pytest.param("29 ноября 2020, 23:25", "2020-11-29T23:25:00+00:00", id="russian-month"),
    pytest.param("29 ноября 2020 г., 23:25 МСК", "2020-11-29T23:25:00+03:00",
                 id="russian-msk"),
    pytest.param("29 листопада 2020, 23:25", "2020-11-29T23:25:00+00:00", id="ukrainian-month"),
    pytest.param("29 Kasım 2020 23:25", "2020-11-29T23:25:00+00:00", id="turkish-month"),
    pytest.param("29 KASIM 2020 23:25", "2020-11-29T23:25:00+00:00", id="turkish-upper"),
    pytest.param("30 Nisan 2021 Cuma 14:05", "2021-04-30T14:05:00+00:00", id="turkish-weekday"),
    pytest.param("29. November 2020", "2020-11-29T00:00:00+00:00", id="german"),
    pytest.param("23:25 GMT+3, 29.11.2020", "2020-11-29T23:25:00+03:00",
                 id="gmt-plus-means-ahead"),
    pytest.param("01.02.2020", "2020-02-01T00:00:00+00:00", id="dotted-day-first"),
    pytest.param("11/29/2020", "2020-11-29T00:00:00+00:00", id="us-slashes"),
    pytest.param("23:25 GMT 29.11.2020 (updated 11:14 GMT 30.11.2020)",
                 "2020-11-29T23:25:00+00:00", id="published-and-updated"),
    pytest.param("Опубликовано: 29.11.2020 в 23:25", "2020-11-29T23:25:00+00:00",
                 id="russian-label"),
])
def test_parses(text: str, expected: str) -> None:
    """Each format gives the literal timezone-aware value."""
    result = parse_date(text)
    assert result is not None
    assert result.isoformat() == expected


@pytest.mark.parametrize("text", [
    pytest.param("1606692300", id="epoch-seconds"),
    pytest.param("1606692300000", id="epoch-millis"),
    pytest.param("1606692300.123", id="epoch-float"),
    pytest.param("0000-00-00", id="zero-date"),
    pytest.param("0000-00-00 00:00:00", id="zero-datetime"),
    pytest.param("9999-12-31", id="year-9999"),
    pytest.param("9999-12-31T23:59:59Z", id="year-9999-iso"),
    pytest.param("Thu, 01 Jan 1970 00:00:00 GMT", id="epoch-zero-rfc822"),
    pytest.param("1985-06-01", id="before-1990"),
    pytest.param("2020-13-45", id="impossible"),
    pytest.param("23:25", id="time-only"),
    pytest.param("November 2020", id="no-day"),
    pytest.param("29 ноября", id="no-year"),
    pytest.param("29.11.20", id="two-digit-year"),
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("junk", id="word"),
    pytest.param("Posted 5 comments", id="numbers-in-prose"),
    pytest.param("\x00\x01\x02", id="control-chars"),
    pytest.param("a" * 5000, id="huge"),
])
def test_junk_is_none(text: str) -> None:
    """Junk, placeholders and incomplete dates give None, never an exception."""
    assert parse_date(text) is None


def test_non_string_is_none() -> None:
    """A JSON-LD value that is not a string (a number, a dict) is not a date."""
    assert parse_date(1606692300) is None  # type: ignore[arg-type]
    assert parse_date(None) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "fmt", "expected"), [
    pytest.param("23:25 GMT29 November 2020", "%H:%M GMT%d %B %Y", "2020-11-29T23:25:00+00:00",
                 id="sputnik-format"),
    pytest.param("29 ноября 2020 23:25", "%d %B %Y %H:%M", "2020-11-29T23:25:00+00:00",
                 id="format-with-russian-month"),
    pytest.param("29/11/2020", "%d/%m/%Y", "2020-11-29T00:00:00+00:00", id="day-first-slashes"),
    pytest.param("2020-11-29T23:25:00+03:00", "%d.%m.%Y", "2020-11-29T23:25:00+03:00",
                 id="format-misses-falls-back"),
])
def test_date_format_first(text: str, fmt: str, expected: str) -> None:
    """The source's ``date_format`` is tried first; when it does not match, the generic
    parsers still run."""
    result = parse_date(text, fmt)
    assert result is not None
    assert result.isoformat() == expected


def test_format_beats_generic_guess() -> None:
    """An ambiguous date follows the source's format, not the US default."""
    assert parse_date("02/01/2020", "%d/%m/%Y") == datetime.fromisoformat(
        "2020-01-02T00:00:00+00:00")
    assert parse_date("02/01/2020") == datetime.fromisoformat("2020-02-01T00:00:00+00:00")


def test_no_local_timezone(monkeypatch: pytest.MonkeyPatch) -> None:
    """A zone name equal to the machine's zone still gives a fixed offset (no tzlocal)."""
    monkeypatch.setattr(time, "tzname", ("MSK", "MSK"))
    result = parse_date("29 Nov 2020 23:25 MSK")
    assert result is not None
    assert result.utcoffset() is not None
    assert result.isoformat() == "2020-11-29T23:25:00+03:00"
