"""Parse the dates news pages, feeds and sitemaps print, without a clock.

:func:`parse_date` is pure: the same text always gives the same answer, whatever the date
today or the machine's time zone. That rules out two defaults of the usual parsers:
``dateutil`` fills missing fields from *today* and maps a zone name equal to the local zone
to ``tzlocal()``; ``dateparser`` resolves "yesterday" against the clock. Here a value must
name a year, a month and a day, zone names are looked up in a fixed table, and relative
dates are not understood at all.

Decisions, so that callers can rely on them:

- :func:`parse_page_date` says what the text gave: the datetime (naive when the text names no
  offset), whether the offset was explicit, and the precision (``second``, ``minute`` or
  ``day``). :func:`parse_date` is its shortcut for callers without a time zone to apply: every
  datetime it returns is timezone-aware, a value without an offset taken as UTC (the only
  choice that does not depend on where the parser runs). Article pages apply the source's
  zone instead (:mod:`crawler.pages.pubdates`). The offset printed on the page is kept, not
  converted, so ``2020-11-29T23:25:00+03:00`` stays ``+03:00``.
- Only years 1990..2100 are accepted. There were no news web sites before 1990, and later
  values are placeholders (``9999-12-31``); rejecting them here keeps the rule pure (a
  "not in the future" rule would need a clock; callers that have ``fetched_at`` can add it).
- Strings of digits only are rejected: they are epoch timestamps or ids as often as dates.
- ``dd.mm.yyyy`` and ``dd/mm/yyyy`` with a day above 12 are unambiguous; with dots the day
  always comes first (the European convention), with slashes or dashes the US order is
  assumed unless the first number cannot be a month, or the caller says the page writes
  the day first (``dayfirst``: a German page's ``01-11-2023`` is the 1st of November;
  :func:`numeric_readings` gives both readings so that the page's other dates can decide).
- ``GMT+3`` / ``UTC+03:00`` mean three hours *ahead* of UTC, as news sites intend (dateutil
  alone would follow the inverted POSIX convention).
- Month names in Russian, Ukrainian, Turkish, German and French are translated to English
  before parsing, so ``29 ноября 2020, 23:25`` and ``29 Kasım 2020 23:25`` work.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from dateutil import parser as _dateutil

__all__ = [
    "MAX_YEAR", "MIN_YEAR", "PRECISIONS", "PageDate", "numeric_readings", "parse_date",
    "parse_page_date", "parse_unix_time",
]

#: How much of a moment a date names, finest first.
PRECISIONS = ("second", "minute", "day")


@dataclass(frozen=True, slots=True)
class PageDate:
    """A date as a page printed it.

    ``value`` is aware when the text named an offset or zone (``explicit``), naive otherwise;
    for ``precision == "day"`` only its date counts (the time is 00:00, not a claim).
    """

    value: datetime
    precision: str
    explicit: bool

    @property
    def has_time(self) -> bool:
        """True when the text named a time of day, not only a day."""
        return self.precision != "day"

    def aware(self) -> datetime:
        """``value``, a zone-less one read as UTC (what :func:`parse_date` returns)."""
        return self.value if self.explicit else self.value.replace(tzinfo=UTC)

MIN_YEAR = 1990
MAX_YEAR = 2100
_MAX_LEN = 200  # longer strings are page text, not dates; fuzzy parsing them invents dates

_MONTHS: dict[str, str] = {}
for _english, _names in {
    "January": "января январь янв січня січень ocak januar janvier janv",
    "February": "февраля февраль фев лютого лютий şubat subat februar février fevrier févr",
    "March": "марта март мар березня березень mart märz maerz mars",
    "April": "апреля апрель апр квітня квітень nisan avril avr",
    "May": "мая май травня травень mayıs mayis mai",
    "June": "июня июнь июн червня червень haziran juni juin",
    "July": "июля июль июл липня липень temmuz juli juillet juil",
    "August": "августа август авг серпня серпень ağustos agustos août aout",
    "September": "сентября сентябрь сент сен вересня вересень eylül eylul septembre sept",
    "October": "октября октябрь окт жовтня жовтень ekim oktober octobre oct",
    "November": "ноября ноябрь нояб ноя листопада листопад kasım kasim novembre nov",
    "December": "декабря декабрь дек грудня грудень aralık aralik dezember décembre dec",
}.items():
    for _name in _names.split():
        _MONTHS[_name] = _english
_MONTH_RE = re.compile(
    r"(?<!\w)(" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + r")\.?(?!\w)",
    re.IGNORECASE,
)

# Zone abbreviations seen on news sites. Ambiguous ones (IST, CST in Asia...) are left out:
# a wrong offset is worse than UTC-by-default.
_ZONES: dict[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "MEZ": 1,
    "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "TRT": 3, "AST": 3, "GST": 4, "PKT": 5,
    "JST": 9, "KST": 9, "EST": -5, "EDT": -4, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8,
    "PDT": -7,
}
_LOCAL_ZONE_NAMES = {"мск": "MSK", "гмт": "GMT"}
_LOCAL_ZONES = re.compile(r"(?<!\w)(?:мск|гмт)(?!\w)", re.IGNORECASE)
_ZONE_OFFSET = re.compile(
    r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?(?!\d)", re.IGNORECASE
)
# email.utils reads an unknown zone name as UTC; those go to the fuzzy parser and its table.
_RFC822 = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*(?:[+-]\d{4}|GMT|UTC|UT|Z|[ECMP][SD]T))?$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(?:19|20|21)\d{2}(?!\d)")
_LETTERS_THEN_DIGIT = re.compile(r"([^\W\d_]{2,})(\d)")
_DIGITS_ONLY = re.compile(r"^\d+$")
_DOTTED_DATE = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2,4}\b")
# 01-11-2023, 01/11/2023: numbers only, the year last (year-first forms are never day-first).
_NUMERIC_YEAR_LAST = re.compile(r"(?<![\d./-])(\d{1,2})([-/])(\d{1,2})\2((?:19|20)\d{2})(?!\d)")
_SEGMENT_SPLIT = re.compile(r"[|()\[\]\n;•·]")
_NOISE = re.compile(
    r"\b(?:updated|update|published|posted|last modified|modified|on|at|обновлено|опубликовано|"
    r"обновлено:|güncelleme|güncellendi|yayınlanma|tarihi)\b[:]?",
    re.IGNORECASE,
)
# "Updated 8 hours ago": a relative time beside the date; dateutil would take its number
# for the hour.
_RELATIVE = re.compile(r"\b\d+\s*(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)"
                       r"\s+ago\b", re.IGNORECASE)
# Two defaults that differ in every field: a field that comes out different was not in the
# text, which is how we detect (and refuse) a date with no year, month or day, and tell a
# day from a time of day and minutes from seconds.
_DEFAULT_A = datetime(2000, 1, 1, 0, 0, 0)
_DEFAULT_B = datetime(2001, 2, 2, 1, 1, 1)
_ISO_SECONDS = re.compile(r"[T ]\d{2}:\d{2}:\d{2}|T\d{6}")
_ISO_DAY = re.compile(r"^(?:\d{4}-\d{2}-\d{2}|\d{8})$")
_RFC_SECONDS = re.compile(r"\d{1,2}:\d{2}:\d{2}")
_FORMAT_UTC = re.compile(r"(?<![A-Za-z])(?:GMT|UTC)(?![A-Za-z+-])")


def parse_date(text: str, date_format: str | None = None) -> datetime | None:
    """The timezone-aware datetime ``text`` names, or None when it names none.

    A value without an offset is taken as UTC; :func:`parse_page_date` tells such values
    apart. Never raises on junk input.
    """
    found = parse_page_date(text, date_format)
    return found.aware() if found is not None else None


def parse_page_date(text: str, date_format: str | None = None,
                    dayfirst: bool | None = None) -> PageDate | None:
    """What ``text`` says about a moment: value, explicit offset or not, precision.

    Tries, in order: ``date_format`` (``strptime``, also after translating month names),
    ISO 8601, RFC 822/2822 (``email.utils``), then ``dateutil`` in fuzzy mode on the
    normalized text and on its bracketed/piped segments. ``dayfirst`` says how the page
    writes an all-numeric, year-last date whose first two numbers could both be the month
    (``01-11-2023``): True day first, False or None month first (dotted dates are always
    day first). Never raises on junk input.
    """
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    if not text or len(text) > _MAX_LEN * 5 or _DIGITS_ONLY.match(text):
        return None
    text = text[:_MAX_LEN]
    if date_format:
        for candidate in (text, _translate_months(text)):
            try:
                value = datetime.strptime(candidate, date_format)
            except ValueError:
                continue
            if value.tzinfo is None and _FORMAT_UTC.search(re.sub(r"%.", " ", date_format)):
                # "%H:%M GMT%d %B %Y": the zone is in the format, as literal text.
                value = value.replace(tzinfo=UTC)
            return _checked(value, _format_precision(date_format))
    result = _parse_iso(text)
    if result is None:
        result = _parse_rfc822(text)
    if result is None:
        result = _parse_fuzzy(text, bool(dayfirst))
    return result


def numeric_readings(text: str) -> tuple[date, date] | None:
    """The two days an all-numeric, year-last date with dashes or slashes can be
    (month first, day first), when both are valid and differ: ``01-11-2023`` gives
    (2023-01-11, 2023-11-01). None when the text settles the order itself (a number above
    12, the same number twice, dots, a month name, a year first) or holds no such date."""
    if not isinstance(text, str):
        return None
    match = _NUMERIC_YEAR_LAST.search(text)
    if match is None:
        return None
    first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    if first == second or not (1 <= first <= 12 and 1 <= second <= 12):
        return None
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    return date(year, first, second), date(year, second, first)


def parse_unix_time(value: object) -> PageDate | None:
    """A Unix time in seconds (10 digits) or milliseconds (13 digits), as a number or text,
    within the accepted years: a moment in UTC, explicit. Only for values that are dates
    by their key (JSON-LD ``datePublished``, a date ``<meta>``): :func:`parse_page_date`
    refuses bare digits, which elsewhere are ids as often as times."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip()
    match = re.fullmatch(r"(\d{10}|\d{13})(?:\.\d+)?", text)
    if not match:
        return None
    seconds = int(match.group(1)) / (1000 if len(match.group(1)) == 13 else 1)
    moment = datetime.fromtimestamp(seconds, UTC).replace(microsecond=0)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None
    return PageDate(moment, "second", True)


def _format_precision(date_format: str) -> str:
    if "%S" in date_format or "%T" in date_format or "%s" in date_format:
        return "second"
    if any(d in date_format for d in ("%H", "%I", "%M", "%R")):
        return "minute"
    return "day"


def _checked(value: datetime | None, precision: str) -> PageDate | None:
    """Apply the year range; say whether the value carried its own offset."""
    if value is None or not MIN_YEAR <= value.year <= MAX_YEAR:
        return None
    explicit = value.tzinfo is not None and value.utcoffset() is not None
    if precision == "day":
        # A day has no offset; a day-only value is never an instant.
        return PageDate(datetime(value.year, value.month, value.day), "day", False)
    return PageDate(value if explicit else value.replace(tzinfo=None), precision, explicit)


def _parse_iso(text: str) -> PageDate | None:
    # Extended (2020-11-29T23:25) or basic (20201129T2325+0000, Sputnik's meta) form.
    if not re.match(r"^\d{4}-\d{2}-\d{2}|^\d{8}T\d{4}", text):
        return None
    candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
    if _ISO_DAY.match(candidate):
        precision = "day"
    else:
        precision = "second" if _ISO_SECONDS.search(candidate) else "minute"
    try:
        return _checked(datetime.fromisoformat(candidate), precision)
    except ValueError:
        return None


def _parse_rfc822(text: str) -> PageDate | None:
    if not _RFC822.match(text):
        return None  # parsedate is lenient enough to read "5 6 7" as a date
    precision = "second" if _RFC_SECONDS.search(text) else "minute"
    try:
        value = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" means "zone unknown" (RFC 5322 3.3); parsedate_to_datetime returns it naive.
    return _checked(value, precision)


def _translate_months(text: str) -> str:
    return _MONTH_RE.sub(lambda m: _MONTHS.get(m.group(1).lower(), m.group(1)), text)


def _tzinfo(name: str | None, offset: int | None) -> timezone | None:
    """dateutil ``tzinfos`` callback: fixed table only, never the machine's local zone."""
    if offset is not None:
        return timezone(timedelta(seconds=offset))
    if name and name.upper() in _ZONES:
        return timezone(timedelta(hours=_ZONES[name.upper()]))
    return None


def _normalize(text: str) -> str:
    text = _translate_months(text)
    text = _LOCAL_ZONES.sub(lambda m: _LOCAL_ZONE_NAMES[m.group(0).lower()], text)
    # "GMT+3" means UTC+03:00 on news sites; dateutil would read it POSIX-style (UTC-3).
    text = _ZONE_OFFSET.sub(
        lambda m: f" {m.group(1)}{int(m.group(2)):02d}:{m.group(3) or '00'}", text
    )
    # Sputnik prints "23:25 GMT29 November 2020": split a word glued to the day number.
    text = _LETTERS_THEN_DIGIT.sub(r"\1 \2", text)
    text = _RELATIVE.sub(" ", text)
    text = _NOISE.sub(" ", text)
    return " ".join(text.replace(",", " ").split())


def _parse_fuzzy(text: str, dayfirst: bool = False) -> PageDate | None:
    normalized = _normalize(text)
    candidates = [normalized]
    candidates += [_normalize(s) for s in _SEGMENT_SPLIT.split(text) if s.strip()]
    for candidate in dict.fromkeys(candidates):  # ordered, unique
        # Without a four-digit year dateutil guesses the century from the clock.
        if not candidate or _DIGITS_ONLY.match(candidate) or not _YEAR.search(candidate):
            continue
        result = _fuzzy_one(candidate, dayfirst)
        if result is not None:
            return result
    return None


def _fuzzy_one(text: str, dayfirst: bool = False) -> PageDate | None:
    # dateutil's dayfirst also turns 2023/11/01 into the 11th of January: only year-last.
    dayfirst = bool(_DOTTED_DATE.search(text)) or (
        dayfirst and _NUMERIC_YEAR_LAST.search(text) is not None)
    try:
        first = _dateutil.parse(text, default=_DEFAULT_A, fuzzy=True, dayfirst=dayfirst,
                                tzinfos=_tzinfo)
        second = _dateutil.parse(text, default=_DEFAULT_B, fuzzy=True, dayfirst=dayfirst,
                                 tzinfos=_tzinfo)
    except (ValueError, OverflowError, TypeError, IndexError, AttributeError):
        return None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        return None  # year, month or day missing: dateutil filled it in
    if first.hour != second.hour:
        precision = "day"
    elif first.second != second.second:
        precision = "minute"
    else:
        precision = "second"
    return _checked(first, precision)
