"""The archive's one way of reading and writing a moment in time as text (pure).

Stored times (the database, run logs, WARC dates, CDXJ and WACZ indexes, alert feeds) are
ISO 8601 in UTC; :func:`utc_text` writes them, :func:`parse_utc` reads them (and any other
ISO 8601 time a user or another tool gives). Publishers' dates on pages are a different
problem, with time zones and formats of their own: :mod:`crawler.pages.dates` reads those.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "NaiveTimeError",
    "RangeError",
    "check_range",
    "page_date_text",
    "parse_moment",
    "parse_utc",
    "utc_text",
]

#: ``24h``, ``7d``, ``90 min``, ``2w``, optionally followed by ``ago``.
_RELATIVE = re.compile(r"(\d{1,6})\s*(m|min|mins|minutes?|h|hours?|d|days?|w|weeks?)"
                       r"(?:\s+ago)?", re.IGNORECASE)
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1),
          "w": timedelta(weeks=1)}
#: Words naming a whole day, as days before today.
_DAY_WORDS = {"today": 0, "yesterday": 1}


class NaiveTimeError(ValueError):
    """A datetime without a UTC offset where a moment in time is needed."""


def parse_utc(text: str, *, require_offset: bool = False) -> datetime:
    """An ISO 8601 date or time as an aware datetime in UTC.

    Accepts what :meth:`datetime.fromisoformat` accepts on Python 3.11+: ``Z`` or an
    offset (``+03:00``, ``+0300``), ``T`` or a space between date and time (Python takes
    any one character there), fractions of a second, a date alone (midnight) and partial
    times (``2024-05-01T09`` is 09:00). A value with an offset is converted to UTC; a
    value **without one is read as UTC**, because every time the archive writes is UTC (a
    zone-less WARC-Date or stored time means UTC, never the machine's local zone), unless
    ``require_offset``: then it raises :class:`NaiveTimeError`. Surrounding spaces are
    ignored.

    >>> parse_utc("2020-11-29T23:25:00+03:00")
    datetime.datetime(2020, 11, 29, 20, 25, tzinfo=datetime.timezone.utc)

    Raises :class:`ValueError` for anything else (``"yesterday"``, ``""``), including a
    time whose UTC equivalent is outside Python's calendar (``0001-01-01T00:00+05:00``,
    ``9999-12-31T23:00-05:00``): converting those raises OverflowError, which callers
    (``--since``, Accept-Datetime, stored times) do not expect from a bad value.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except (TypeError, AttributeError):
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if require_offset:
            raise NaiveTimeError(f"must be timezone-aware, got naive {text.strip()}")
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"out of range in UTC: {text.strip()[:40]!r}") from None


def utc_text(value: datetime, what: str = "datetime",
             error: type[ValueError] = NaiveTimeError) -> str:
    """``value`` as stored: ISO 8601 UTC text, whole seconds, ``Z`` (``2020-11-29T23:25:00Z``).

    Fixed width, so text order is time order; fractions of a second are dropped. A naive
    datetime raises ``error`` naming ``what`` (the store passes its
    :class:`~archive.store.schema.ArchiveError`): a time without an offset could be any of
    26 hours, and guessing would misdate the record.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise error(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise error(f"{what} is out of range in UTC: {value.isoformat()}") from None
    # Not strftime("%Y"): glibc writes year 999 as "999", which is not fixed width (text
    # order would not be time order) and which parse_utc cannot read back.
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")


def page_date_text(value: datetime, precision: str | None, what: str = "datetime",
                   error: type[ValueError] = NaiveTimeError) -> str:
    """A publisher's date as stored: :func:`utc_text`, or the bare ``YYYY-MM-DD`` when
    ``precision`` is ``day`` (a page that gives only a day: no midnight is invented).

    Text order stays time order, a day sorting before that day's times; :func:`parse_utc`
    reads either form back (a day as its first second, UTC).

    >>> page_date_text(datetime(2022, 3, 15, tzinfo=UTC), "day")
    '2022-03-15'
    """
    text = utc_text(value, what, error)
    return text[:10] if precision == "day" else text


class RangeError(ValueError):
    """A time range whose start is after its end."""


def parse_moment(text: str, now: datetime, *, end: bool = False) -> datetime:
    """A date a user gives (``--since``, ``--until``, ``?since=``) as an aware UTC datetime.

    Accepts ISO 8601 (:func:`parse_utc`), ``now``, ``today``, ``yesterday`` and relative
    times before ``now``: ``24h``, ``7d``, ``90m`` (minutes), ``2w``, with or without
    ``ago``. A whole day (a bare ``YYYY-MM-DD``, ``today``, ``yesterday``) starts at its
    midnight (UTC); with ``end`` it ends at the **next** midnight, so that an end bound is
    exclusive and still covers the day's last second. Other values are the moment itself.

    >>> now = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    >>> parse_moment("24h", now).isoformat()
    '2026-12-01T09:30:00+00:00'
    >>> parse_moment("yesterday", now, end=True).isoformat()
    '2026-12-02T00:00:00+00:00'

    Raises :class:`ValueError` naming the accepted forms for anything else.
    """
    if now.tzinfo is None:
        raise NaiveTimeError("now must be timezone-aware")
    value = text.strip().lower() if isinstance(text, str) else ""
    now = now.astimezone(UTC)
    if value == "now":
        return now
    if value in _DAY_WORDS:
        day = now.date() - timedelta(days=_DAY_WORDS[value])
        return _day_bound(datetime(day.year, day.month, day.day, tzinfo=UTC), end)
    relative = _RELATIVE.fullmatch(value)
    if relative:
        try:
            return now - int(relative.group(1)) * _UNITS[relative.group(2)[0]]
        except OverflowError:
            raise ValueError(f"too far back: {text.strip()[:40]!r}") from None
    try:
        moment = parse_utc(value.upper())
    except ValueError:
        raise ValueError(f"not a date: {str(text).strip()[:40]!r} (use YYYY-MM-DD, an ISO "
                         "time, today, yesterday, or 24h, 7d, 2w)") from None
    return _day_bound(moment, end) if len(value) <= 10 else moment


def _day_bound(midnight: datetime, end: bool) -> datetime:
    if not end:
        return midnight
    try:
        return midnight + timedelta(days=1)
    except OverflowError:
        raise ValueError(f"out of range: {midnight.date().isoformat()}") from None


def check_range(since: datetime | None, until: datetime | None) -> None:
    """Raise :class:`RangeError` when ``since`` is after ``until`` (an inverted range would
    silently find nothing)."""
    if since is not None and until is not None and since > until:
        raise RangeError(f"since ({utc_text(since)}) is after until ({utc_text(until)})")
