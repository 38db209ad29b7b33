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

Three checks keep a wrong date out (issue 10's failure classes):

- **Never after the capture, never before 1990.** :func:`plausible` drops a candidate that
  resolves to a moment after the capture (an hour's tolerance for a named offset, fourteen
  hours, the widest UTC offset, for a guessed zone, the next day for a day).
- **Day order.** :func:`day_first` settles ``01-11-2023`` from the page's other dates (a
  ``1. November 2023`` beside it) and else from the page's language.
- **Update stamps.** A CMS that rewrites ``datePublished`` on every edit leaves it equal to
  ``dateModified`` while the date line still prints the first publication:
  :func:`update_stamps` finds such values when an earlier own date exists.
- **A second opinion.** When the page's own candidates name days more than a day apart,
  :func:`agreeing` keeps those on the day htmldate (through trafilatura) finds, so that one
  stray value (another story's, a comment's) does not win alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.pages.dates import MAX_YEAR, MIN_YEAR, PageDate

__all__ = [
    "MONTH_FIRST_REGIONS",
    "ORIGINS",
    "ZONES",
    "DateCandidate",
    "Dated",
    "agreeing",
    "best",
    "candidates_of",
    "day_first",
    "disagree",
    "modified_after",
    "newsroom_offset",
    "page_zone",
    "plausible",
    "printed_day",
    "resolve",
    "time_zone",
    "update_stamps",
    "url_date",
]

#: Where a publication date can come from (``published_from``).
ORIGINS = ("jsonld", "meta", "selector", "visible", "url", "feed", "sitemap")
#: How a date's offset was decided (``published_zone``): its own offset, the source's
#: ``timezone``, the offset of the page's other dates, or UTC for want of anything better.
ZONES = ("offset", "timezone", "page", "utc")

#: English-language regions that write the month first (``en`` alone counts as ``en-US``).
MONTH_FIRST_REGIONS = frozenset({"", "us", "ph", "ca", "um", "as", "gu", "pr", "vi", "mh",
                                 "fm", "pw", "mp"})
# Languages whose numeric dates are year first (2023/11/01): no day-first rule for them.
_YEAR_FIRST_LANGUAGES = frozenset({"zh", "ja", "ko", "hu", "lt", "mn"})
# How far after the capture a date may fall: a moment whose offset the page named (clock
# skew), one whose zone was guessed (the widest UTC offset is 14 hours).
_FUTURE_NAMED = timedelta(hours=1)
_FUTURE_GUESSED = timedelta(hours=14)
# How much earlier than an update stamp the first publication may be and still be believed.
_FIRST_PUBLICATION = timedelta(days=30)

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


def printed_day(candidate: DateCandidate) -> date:
    """The day ``candidate`` names as the page printed it (in its own offset, if any)."""
    return candidate.date.value.date()


def plausible(dated: Dated, captured: datetime | None) -> bool:
    """False for a date after the capture (module docstring) or before 1990."""
    if dated.utc.year < MIN_YEAR:
        return False
    if captured is None:
        return True
    if captured.tzinfo is None:
        captured = captured.replace(tzinfo=UTC)
    if dated.precision == "day":
        return dated.utc.date() <= captured.astimezone(UTC).date() + timedelta(days=1)
    named = dated.zone in ("offset", "timezone")
    return dated.utc <= captured + (_FUTURE_NAMED if named else _FUTURE_GUESSED)


def day_first(readings: Sequence[tuple[date, date]], settled: Iterable[date],
              language: str | None) -> bool | None:
    """How the page writes its ambiguous numeric dates (``readings``: the month-first and
    day-first day of each, :func:`~crawler.pages.dates.numeric_readings`).

    The page's other dates decide first: ``settled`` are days its dates name without doubt
    (ISO, a month name, a number above 12); the order whose readings fall on more of them
    wins. Else the language (a BCP 47 tag such as ``de`` or ``en-GB``): English of the US
    and its neighbours (:data:`MONTH_FIRST_REGIONS`) and year-first languages keep the
    parser's default (None, month first); every other language writes the day first.
    """
    if not readings:
        return None
    known = set(settled)
    month_votes = sum(month in known for month, _ in readings)
    day_votes = sum(day in known for _, day in readings)
    if month_votes != day_votes:
        return day_votes > month_votes
    if not language:
        return None
    primary, _, region = language.strip().lower().replace("_", "-").partition("-")
    if primary == "en":
        return None if region.split("-")[0] in MONTH_FIRST_REGIONS else True
    if primary in _YEAR_FIRST_LANGUAGES or not primary.isalpha():
        return None
    return True


def disagree(candidates: Iterable[DateCandidate]) -> bool:
    """True when the page's own candidates (not the feed's) name days more than one day
    apart. One day apart is not a disagreement: the same moment printed in two offsets
    (``23:30-05:00`` and ``04:30Z``) falls on two days."""
    days = sorted({printed_day(c) for c in candidates if c.origin not in ("feed", "sitemap")})
    return len(days) > 1 and (days[-1] - days[0]).days > 1


def agreeing(candidates: Sequence[DateCandidate], day: date | None) -> list[DateCandidate]:
    """The candidates on ``day`` (htmldate's) when they :func:`disagree`; else, or when
    none is on that day, all of them."""
    if day is None or not disagree(candidates):
        return list(candidates)
    kept = [c for c in candidates if printed_day(c) == day]
    return kept or list(candidates)


def update_stamps(published: Sequence[tuple[DateCandidate, Dated]],
                  modified: Iterable[Dated]) -> set[int]:
    """Indexes of ``published`` (candidates with their resolved dates) that are the page's
    modification time rather than its publication: a value with a time equal to a
    ``modified`` moment, when another of the page's own published values (not the feed's,
    not itself a stamp) is earlier by less than 30 days. A page never updated has no
    earlier date, so nothing is dropped there."""
    moments = {m.utc for m in modified if m.precision != "day"}
    stamps = {i for i, (c, d) in enumerate(published)
              if d.precision != "day" and d.utc in moments and c.origin not in ("feed", "sitemap")}
    if not stamps:
        return set()
    latest_i = max(stamps, key=lambda i: published[i][1].utc)
    latest = published[latest_i][1]
    for i, (c, d) in enumerate(published):
        if i in stamps or c.origin in ("feed", "sitemap"):
            continue
        gap = latest.utc - d.utc
        if d.precision == "day":
            earlier = printed_day(c) < min(printed_day(published[j][0]) for j in stamps)
        elif _named(d) == _named(latest):
            earlier = gap > timedelta(0)
        else:
            # One offset named, the other guessed: "5:50 PM" beside "01:50Z" the next day is
            # the same moment; only a gap wider than any offset is a different one.
            earlier = gap > _FUTURE_GUESSED
        if earlier and gap < _FIRST_PUBLICATION:
            return stamps
    return set()


def _named(dated: Dated) -> bool:
    return dated.zone in ("offset", "timezone")


def newsroom_offset(chosen: Dated | None, candidates: Iterable[DateCandidate]) -> Dated | None:
    """``chosen`` shown in the newsroom's offset when it carries UTC's (``...Z``, ``+00:00``,
    what many CMSs print) and a zone-less time of the page names the same moment in another
    offset ("5:50 PM" beside ``01:50:59Z`` the next day: ``-08:00``). The moment is not
    changed, only ``local`` (and ``zone`` becomes ``page``); a shift must be whole quarter
    hours within 14 hours, compared at the zone-less value's precision."""
    if chosen is None or chosen.zone != "offset" or chosen.precision == "day" or \
            chosen.local is None or datetime.fromisoformat(chosen.local).utcoffset():
        return chosen
    moment = chosen.utc.replace(tzinfo=None)
    for candidate in candidates:
        value = candidate.date
        if value.explicit or not value.has_time or candidate.origin in ("feed", "sitemap"):
            continue
        base = moment.replace(microsecond=0) if value.precision == "second" else \
            moment.replace(second=0, microsecond=0)
        shift = value.value - base
        if shift and abs(shift) <= _FUTURE_GUESSED and shift.total_seconds() % 900 == 0:
            local = chosen.utc.astimezone(timezone(shift)).isoformat(timespec="seconds")
            return Dated(chosen.utc, chosen.precision, chosen.origin, local, "page")
    return chosen
