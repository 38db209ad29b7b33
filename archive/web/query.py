"""The query string of a search page, API call or export: parsed into the result set
(:class:`~archive.store.facets.Filters`) and the page (:class:`Paging`) it asks for, and
written back into links.

Parameters: ``q``, ``source``, ``since``, ``until`` (dates, both inclusive; or times and
relative times such as ``24h``, ``7d``, ``yesterday``: :func:`archive.times.parse_moment`),
``lang``, ``tag``, ``entity`` (gazetteer ids, comma-separated: articles mentioning all of
them), ``exact`` (``1``: no widening of names across scripts and spellings),
``sort``, ``page``, ``per_page``; dates run from :data:`FIRST_DAY` to :data:`LAST_DAY`. A bad
value raises :class:`~archive.store.search.QueryError` with a one-line message, which the app
turns into a 400.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from archive.store import facets
from archive.store.facets import Filters
from archive.store.search import SORTS, QueryError
from archive.times import parse_moment

__all__ = ["MAX_PAGE", "PAGE_SIZE", "Paging", "filter_params", "parse_filters"]

PAGE_SIZE = 20
MAX_PAGE = 5000
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


# The dates a filter may name. The archive keeps four-digit ISO years (its strftime writes
# year 999 as "999", which would compare wrongly), and ``until`` is turned into the next
# midnight, which must exist: outside this range a date is a 400, never an overflow.
FIRST_DAY = date(1000, 1, 1)
LAST_DAY = date(9999, 12, 30)


def _moment(value: str | None, name: str, now: datetime) -> datetime | None:
    """A ``since`` (start) or ``until`` (exclusive end: a whole day ends at the next
    midnight) bound, or None when blank."""
    if not value or not value.strip():
        return None
    try:
        moment = parse_moment(value, now, end=name == "until")
    except ValueError as exc:
        raise QueryError(f"{name}: {exc}") from None
    first = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    last = datetime.combine(LAST_DAY + timedelta(days=1), datetime.min.time(), UTC)
    inside = first < moment <= last if name == "until" else first <= moment < last
    if not inside:
        raise QueryError(f"{name}: {moment.date().isoformat()} is out of range "
                         f"({FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()})")
    return moment


@dataclass(frozen=True, slots=True)
class Paging:
    """Order and page of a result set: ``page`` counts from 1."""

    sort: str
    page: int = 1
    per_page: int = PAGE_SIZE


def parse_filters(params: Mapping[str, str],
                  now: datetime | None = None) -> tuple[Filters, Paging]:
    """The result set and the page a request's query parameters ask for.

    ``q``, ``source``, ``since``, ``until`` (dates, both inclusive), ``lang``, ``tag``,
    ``sort`` (relevance or newest), ``page``, ``per_page`` (1 to 100, default
    :data:`PAGE_SIZE`). Blank values mean no filter. Raises
    :class:`QueryError` with a one-line message for a bad value, or when ``since`` is
    after ``until``. Relative times count back from ``now`` (default: the clock).
    """
    now = now or datetime.now(UTC)
    text = (params.get("q") or "").strip() or None
    since = _moment(params.get("since"), "since", now)
    until = _moment(params.get("until"), "until", now)
    if since is not None and until is not None and since >= until:
        raise QueryError(f"since ({params.get('since', '')[:40]}) is not before until "
                         f"({params.get('until', '')[:40]})")
    sort = params.get("sort") or ("relevance" if text else "newest")
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort[:40]!r}: use one of {', '.join(SORTS)}")
    page = _number(params, "page", 1, 1, MAX_PAGE)
    per_page = _number(params, "per_page", PAGE_SIZE, 1, 100)
    filters = Filters(
        text=text,
        source=(params.get("source") or "").strip() or None,
        since=since,
        # until is inclusive for people; the SQL compares "before the next midnight"
        until=until,
        language=(params.get("lang") or "").strip() or None,
        tag=(params.get("tag") or "").strip() or None,
        entities=_entities(params.get("entity")),
        exact=(params.get("exact") or "").strip().lower() in ("1", "true", "yes", "on"),
    )
    if filters.text is not None:
        facets.where_sql(filters)  # a query with nothing to search fails here, once
    return filters, Paging(sort, page, per_page)


def _entities(value: str | None) -> tuple[str, ...]:
    """Gazetteer ids from ``a,b``; anything but a slug is a :class:`QueryError`."""
    ids = tuple(dict.fromkeys(v.strip() for v in (value or "").split(",") if v.strip()))
    for entity in ids:
        if not _SLUG.fullmatch(entity):
            raise QueryError(f"entity: not an entity id: {entity[:40]!r}")
    return ids


def _number(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(params.get(name) or default)
    except ValueError:
        raise QueryError(f"{name}: not a number: {params.get(name, '')[:40]!r}") from None
    if not low <= value <= high:
        raise QueryError(f"{name} must be between {low} and {high}")
    return value


def filter_params(f: Filters, paging: Paging | None = None) -> dict[str, str]:
    """The query parameters that ask for ``f`` again (links for paging, export, facets)."""
    out: dict[str, str] = {}
    if f.text:
        out["q"] = f.text
    for key, value in (("source", f.source), ("lang", f.language), ("tag", f.tag),
                       ("entity", ",".join(f.entities))):
        if value:
            out[key] = value
    if f.exact:
        out["exact"] = "1"
    if f.since:
        out["since"] = _bound_text(f.since)
    if f.until:
        out["until"] = _bound_text(f.until, end=True)
    if paging is not None:
        out["sort"] = paging.sort
        if paging.per_page != PAGE_SIZE:
            out["per_page"] = str(paging.per_page)
        if paging.page > 1:
            out["page"] = str(paging.page)
    return out


def _bound_text(moment: datetime, end: bool = False) -> str:
    """A bound as a parameter again: a day when it falls on midnight (an ``until`` day is
    the day before its exclusive midnight), else the exact UTC time, so that a link made
    from ``since=24h`` asks for the same moment, not a moving one."""
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return (moment - timedelta(days=1) if end else moment).date().isoformat()
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
