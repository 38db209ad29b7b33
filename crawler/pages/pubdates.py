"""Which of a page's dates is its publication time, and in which time zone (pure).

A page prints its dates several times (JSON-LD, ``<meta>``, the visible date line, the URL)
and a feed or news sitemap gives one more. They differ in two ways that matter:

- **Offset.** ``2020-11-30T13:15:00+03:00`` names a moment; ``13:15 30.11.2020`` names one
  only once a time zone is chosen. A zone-less value is read in the source's ``timezone``
  (an IANA name, from the sources file); without one, in the offset of the page's other
  dates (a JSON-LD ``dateModified`` with ``+03:00`` says where the newsroom is); else in UTC.
  :attr:`Dated.zone` records which (``offset`` when the value carried its own).
- **Precision.** A day-only value (``2020-11-29``) stays a day: no midnight is invented,
  whatever the zone.

:func:`best` picks among candidates listed in precedence order: a value with a time of day
beats a day; among those, one that names a moment (its own offset, or a zone-less value
when the source's ``timezone`` is configured) beats one that does not; then the order. So
a selector's zone-less ``13:15`` gives way to JSON-LD's ``13:15+03:00``, and a feed's
timestamp beats an unzoned page value but not a zoned one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.pages.dates import MAX_YEAR, MIN_YEAR, PageDate

__all__ = [
    "ORIGINS", "ZONES", "DateCandidate", "Dated", "best", "candidates_of", "modified_after",
    "page_zone", "resolve", "time_zone", "url_date",
]

#: Where a publication date can come from (``published_from``).
ORIGINS = ("jsonld", "meta", "selector", "visible", "url", "feed", "sitemap")
#: How a date's offset was decided (``published_zone``): its own offset, the source's
#: ``timezone``, the offset of the page's other dates, or UTC for want of anything better.
ZONES = ("offset", "timezone", "page", "utc")

# /2020/11/29/ or /2020-11-29/ in a path: the CMS's filing day, a day only.
_URL_DAY = re.compile(r"(?<!\d)((?:19|20)\d{2})[/-](\d{2})[/-](\d{2})(?!\d)")


@dataclass(frozen=True, slots=True)
class DateCandidate:
    """One date a page (or its feed entry) gives, and where it was found (:data:`ORIGINS`)."""

    date: PageDate
    origin: str


@dataclass(frozen=True, slots=True)
class Dated:
    """A resolved date: ``utc`` is aware UTC (for a day: that day at 00:00 UTC, a label, not
    a moment), ``local`` the ISO 8601 text with the publisher's offset (a bare
    ``YYYY-MM-DD`` for a day; None when the offset was only assumed to be UTC)."""

    utc: datetime
    precision: str
    origin: str
    local: str | None
    zone: str | None


def time_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Europe/Moscow``); ValueError when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as "
                         f"Europe/Moscow)") from exc


def best(candidates: Iterable[DateCandidate], zone_known: bool = False) -> DateCandidate | None:
    """The candidate to use (module docstring); ``candidates`` in precedence order,
    ``zone_known`` when the source names its time zone."""
    ranked = sorted(enumerate(candidates), key=lambda item: (
        not item[1].date.has_time,
        not (item[1].date.explicit or zone_known),
        item[0],
    ))
    return ranked[0][1] if ranked else None


def page_zone(candidates: Iterable[DateCandidate]) -> tzinfo | None:
    """The offset of the first page date with an explicit offset and a time of day."""
    for candidate in candidates:
        date = candidate.date
        if date.explicit and date.has_time and candidate.origin not in ("feed", "sitemap"):
            return date.value.tzinfo
    return None


def resolve(candidate: DateCandidate, zone: tzinfo | None = None,
            page: tzinfo | None = None) -> Dated:
    """``candidate`` as a :class:`Dated`: its own offset, else ``zone`` (the source's),
    else ``page`` (:func:`page_zone`), else UTC."""
    date = candidate.date
    value = date.value
    if date.precision == "day":
        day = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return Dated(day, "day", candidate.origin, day.date().isoformat(), None)
    how = "offset"
    if not date.explicit:
        how, chosen = next(((name, z) for name, z in (("timezone", zone), ("page", page))
                            if z is not None), ("utc", UTC))
        value = value.replace(tzinfo=chosen)
    local = value.isoformat(timespec="seconds") if how != "utc" else None
    return Dated(value.astimezone(UTC), date.precision, candidate.origin, local, how)


def modified_after(published: Dated | None, modified: Dated | None) -> Dated | None:
    """``modified``, unless it comes before ``published`` (then None: a page cannot be
    changed before it is published, so one of the two is wrong, and the publication date
    is the one that has been chosen with more care). Days compare as days."""
    if published is None or modified is None:
        return modified
    if published.precision == "day" or modified.precision == "day":
        earlier = modified.utc.date() < published.utc.date()
    else:
        earlier = modified.utc < published.utc
    return None if earlier else modified


def url_date(url: str) -> PageDate | None:
    """The day a URL's path files the story under (``/2020/11/29/``), or None."""
    match = _URL_DAY.search(urlsplit(url).path)
    if not match:
        return None
    try:
        year, month, day_of_month = (int(g) for g in match.groups())
        day = datetime(year, month, day_of_month)
    except ValueError:
        return None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        return None
    return PageDate(day, "day", False)


def candidates_of(origin: str, dates: Sequence[PageDate | None]) -> list[DateCandidate]:
    """The parsed ``dates`` that are not None, as candidates from ``origin``."""
    return [DateCandidate(d, origin) for d in dates if d is not None]
