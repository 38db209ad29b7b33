"""The archive's one way of reading and writing a moment in time as text (pure).

Stored times (the database, run logs, WARC dates, CDXJ and WACZ indexes, alert feeds) are
ISO 8601 in UTC; :func:`utc_text` writes them, :func:`parse_utc` reads them (and any other
ISO 8601 time a user or another tool gives). Publishers' dates on pages are a different
problem, with time zones and formats of their own: :mod:`crawler.pages.dates` reads those.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["NaiveTimeError", "parse_utc", "utc_text"]


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
