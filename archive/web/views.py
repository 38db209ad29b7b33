"""What each page, its JSON twin and the exports show: the data read from the archive for
a search, an article and the sources, and the pure helpers that shape it (the results-per-day
chart, version diffs, replay timestamps, export lines).

Built for a million articles (see :mod:`archive.store.search` and :mod:`archive.store.facets`):
the total is exact up to 10,000, facet counts cover the newest 20,000 articles of the result
set, relevance ranks its newest 2,000; the view says so whenever a result set is larger.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from markupsafe import Markup, escape

from archive.diffs import KINDS, changes, edit_kinds, field_diffs
from archive.store import facets
from archive.store.clusters import group_hits
from archive.store.db import Archive
from archive.store.edits import DATE_FLAGS, date_flags, recent_edits, takedowns
from archive.store.facets import FACET_WINDOW
from archive.store.health import check_health, health_record
from archive.store.known import check_known
from archive.store.names import check_entities, entity_rows
from archive.store.prefix import resolve_prefix
from archive.store.provenance import EXPORT_COLUMNS, export_rows
from archive.store.provenance import replay_timestamp as replay_timestamp
from archive.store.search import (
    COUNT_CAP,
    RANK_WINDOW,
    QueryError,
    SearchQuery,
    search,
    widen,
)
from archive.times import parse_moment, parse_utc

if TYPE_CHECKING:
    from archive.store.facets import Filters
    from archive.web.query import Paging

__all__ = [
    "EDITS_PAGE",
    "SourceRows",
    "article_view",
    "cluster_timeline",
    "csv_cell",
    "day_chart",
    "delay_text",
    "edits_view",
    "export_lines",
    "highlight",
    "page_numbers",
    "replay_timestamp",
    "search_view",
    "sources_view",
    "version_diffs",
    "zoned",
]

#: Supplied by the caller (the CLI), because schedules live in the crawler's config, which
#: the archive must not import: ``(archive, now) -> [{source, name, schedule, next_run,
#: last_run, last_status, ...}]`` for every configured source.
#: How many edits the ``/edits`` page lists.
EDITS_PAGE = 100

SourceRows = Callable[[Archive, datetime], list[dict[str, Any]]]


#: The chart's margins (SVG units): room for the value axis on the left and the dates below.
CHART_LEFT, CHART_TOP, CHART_BOTTOM = 44, 8, 22


def day_chart(days: Sequence[Mapping[str, Any]], width: int = 720,
              height: int = 140) -> dict[str, Any]:
    """A results-per-day bar chart with axes (SVG coordinates), from ``day_counts_sql``
    rows: ``bars`` (x, y, w, h, n, label), the plot area ``plot`` (x, y, w, h), value ticks
    ``yticks`` (y, label: 0, the middle and the highest count) and date ticks ``xticks``
    (x, label: first, last and up to three between).

    More than 92 days are shown per month, so a long span stays readable; empty days or
    months in between get no bar but keep their place.
    """
    counts: dict[date, int] = {}
    for row in days:
        try:
            day = date.fromisoformat(str(row["day"]))
        except ValueError:
            continue
        counts[day] = counts.get(day, 0) + int(row["n"])
    if not counts:
        return {"bars": [], "width": width, "height": height, "unit": "day", "max": 0}
    first, last = min(counts), max(counts)
    monthly = (last - first).days > 92
    if monthly:
        buckets: dict[date, int] = {}
        for day, n in counts.items():
            key = day.replace(day=1)
            buckets[key] = buckets.get(key, 0) + n
        keys = []
        cursor = first.replace(day=1)
        while cursor <= last:
            keys.append(cursor)
            cursor = (cursor + timedelta(days=32)).replace(day=1)
    else:
        buckets = counts
        keys = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    top = max(buckets.values())
    plot_w, plot_h = width - CHART_LEFT - 4, height - CHART_TOP - CHART_BOTTOM
    step = plot_w / len(keys)

    def label(key: date) -> str:
        return key.strftime("%Y-%m") if monthly else key.isoformat()

    bars = []
    for i, key in enumerate(keys):
        n = buckets.get(key, 0)
        if not n:
            continue
        h = max(1.0, plot_h * n / top)
        bars.append({"x": round(CHART_LEFT + i * step, 2),
                     "y": round(CHART_TOP + plot_h - h, 2),
                     "w": round(max(1.0, step * 0.85), 2), "h": round(h, 2), "n": n,
                     "label": label(key)})
    values = sorted({0, top // 2, top}) if top > 1 else [0, top]
    yticks = [{"y": round(CHART_TOP + plot_h - plot_h * v / top, 2), "label": str(v)}
              for v in values]
    spots = sorted({round(i * (len(keys) - 1) / 4) for i in range(5)}) if len(keys) > 1 else [0]
    xticks = [{"x": round(CHART_LEFT + (i + 0.425) * step, 2), "label": label(keys[i])}
              for i in spots]
    return {"bars": bars, "width": width, "height": height, "max": top,
            "unit": "month" if monthly else "day", "first": bars[0]["label"],
            "last": bars[-1]["label"], "yticks": yticks, "xticks": xticks,
            "plot": {"x": CHART_LEFT, "y": CHART_TOP, "w": plot_w, "h": plot_h,
                     "bottom": CHART_TOP + plot_h}}


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The numbered pager: the first and last page, ``around`` pages either side of
    ``page``, None for each gap (shown as an ellipsis).

    >>> page_numbers(7, 20)
    [1, None, 5, 6, 7, 8, 9, None, 20]
    """
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for number in shown:
        if out and number - (out[-1] or 0) > 1:
            out.append(None)
        out.append(number)
    return out


_HIT = re.compile(r"\[([^\[\]]*)\]")


def highlight(snippet: str | None) -> Markup:
    """A search snippet as HTML: the text escaped first, then each hit (``[word]`` from
    :mod:`archive.store.search`) in ``<mark>``, so no markup of the page's text gets
    through."""
    return Markup(_HIT.sub(r"<mark>\1</mark>", str(escape(snippet or ""))))


def zoned(value: object) -> str:
    """A stored UTC time for reading, with its zone: ``2026-11-29T12:00:05Z`` ->
    ``2026-11-29 12:00 UTC``; a day-only date stays a day; other text is left alone."""
    if not value:
        return ""
    value = str(value)
    if len(value) == 10:
        return value
    if value.endswith("Z") and "T" in value:
        return value[:16].replace("T", " ") + " UTC"
    return value


def version_diffs(versions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each version after the first against the one before (:mod:`archive.diffs`):
    ``{version, previous, fetched_at, kinds, changes, fields: [{name, segments}]}``, the
    segments a word diff (``=``, ``-``, ``+``) of each changed field."""
    out = []
    for old, new in itertools.pairwise(versions):
        found = changes(old, new)
        out.append({"version": new.get("version"), "previous": old.get("version"),
                    "fetched_at": new.get("fetched_at"), "kinds": edit_kinds(found),
                    "changes": [c.as_dict() for c in found],
                    "fields": [{"name": f.name, "segments": f.segments}
                               for f in field_diffs(old, new)]})
    return out


def edits_view(conn: sqlite3.Connection, params: Mapping[str, str]) -> dict[str, Any]:
    """The ``/edits`` page: recent edits newest first, filtered by ``since`` (ISO date or
    time, ``yesterday``, ``24h``: :func:`archive.times.parse_moment`), ``kind`` and
    ``source``; a bad value or an unknown source raises :class:`QueryError`. Beside them,
    the takedowns (same ``since`` and ``source``) and the date flags (``flag``: only that
    one) of the archive."""
    since_text = (params.get("since") or "").strip()
    kind = (params.get("kind") or "").strip()
    source = (params.get("source") or "").strip() or None
    try:
        since = parse_moment(since_text, datetime.now(UTC)) if since_text else None
    except ValueError as exc:
        raise QueryError(f"since: {exc}") from None
    check_known(conn, source=source)
    if kind and kind not in KINDS:
        raise QueryError(f"kind: not one of {', '.join(KINDS)}: {kind[:40]!r}")
    flag = (params.get("flag") or "").strip()
    if flag and flag not in DATE_FLAGS:
        raise QueryError(f"flag: not one of {', '.join(DATE_FLAGS)}: {flag[:40]!r}")
    rows = list(recent_edits(conn, since=since, source=source, kinds=[kind] if kind else (),
                             limit=EDITS_PAGE))
    return {"edits": rows, "kinds": KINDS, "flags": DATE_FLAGS,
            "takedowns": takedowns(conn, since=since, source=source, limit=EDITS_PAGE),
            "date_flags": date_flags(conn, source=source, flags=[flag] if flag else (),
                                     limit=EDITS_PAGE),
            "filters": {"since": since_text, "kind": kind, "source": source or "",
                        "flag": flag}}


# A cell a spreadsheet would read as a formula (OWASP "CSV Injection"): =, +, -, @, and tab
# and CR, which some spreadsheets strip before looking at the next character.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """One value as a CSV cell: lists joined with ``'; '``, None empty, and text that a
    spreadsheet would run as a formula prefixed with ``'`` (OWASP's advice), so a headline
    such as ``=HYPERLINK(...)`` stays text. Numbers are written as numbers. Every CSV the
    product writes (the web export, ``mediawatch export`` and ``search --format csv``)
    goes through here."""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _rows(conn: sqlite3.Connection, sql_params: tuple[str, Mapping[str, Any]]
          ) -> list[dict[str, Any]]:
    try:
        return facets.rows(conn, sql_params)
    except sqlite3.OperationalError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "fts5" in message or "MATCH" in message or "syntax" in message:
            raise QueryError(f"cannot search: {message}") from None
        raise


def search_view(conn: sqlite3.Connection, f: Filters, paging: Paging,
                group: bool = False) -> dict[str, Any]:
    """One page of the result set ``f`` with its facets (what the page and API show); an
    unknown source or language raises :class:`QueryError` (not an empty page). ``group``
    folds the page's hits into one row per story (:func:`archive.store.clusters.group_hits`:
    ``cluster``, ``cluster_size``, ``grouped``); totals and facets still count articles."""
    check_known(conn, source=f.source, language=f.language)
    check_entities(f.entities)
    f = widen(conn, f)  # names in every script: the same widening for hits and facets
    counted = int(_rows(conn, facets.count_sql(f))[0]["n"])
    total = min(counted, COUNT_CAP)
    size = paging.per_page
    offset = (paging.page - 1) * size
    if f.text is None:
        hits = _rows(conn, facets.browse_sql(f, size, offset))
    else:
        q = SearchQuery(text=f.text, source=f.source, since=f.since, until=f.until,
                        language=f.language, sort=paging.sort, limit=size, offset=offset,
                        tag=f.tag, entities=f.entities, exact=f.exact)
        hits = search(conn, q, dict(f.widened))
    if group:
        hits = group_hits(conn, hits)
    return {
        "total": total,
        "page": paging.page,
        "pages": max(1, -(-total // size)),
        "per_page": size,
        "sort": paging.sort,
        "total_exact": counted <= COUNT_CAP,
        "facets_within": FACET_WINDOW if total > FACET_WINDOW else None,
        "ranked_within": RANK_WINDOW if paging.sort == "relevance" and f.text is not None
        and counted > RANK_WINDOW else None,
        "hits": hits,
        "grouped": group,
        "sources": _rows(conn, facets.counts_sql(f, "source")),
        "languages": _rows(conn, facets.counts_sql(f, "language")),
        "tags": _rows(conn, facets.counts_sql(f, "tag", limit=25)),
        "entities": _entity_facet(conn, f),
        "days": _rows(conn, facets.day_counts_sql(f)),
    }


def _entity_facet(conn: sqlite3.Connection, f: Filters) -> list[dict[str, Any]]:
    """The entity facet: ``{value (id), name, kind, n}``, most mentioned first."""
    counts = _rows(conn, facets.counts_sql(f, "entity", limit=25))
    names = {e["id"]: e for e in entity_rows(c["value"] for c in counts)}
    return [{**c, "name": names[c["value"]]["name"], "kind": names[c["value"]]["kind"]}
            for c in counts]


def article_view(archive: Archive, url_or_id: str, replay_origin: str) -> dict[str, Any] | None:
    """Everything the article page shows; None for an unknown article. An unambiguous id
    prefix names its article; an ambiguous one raises :class:`AmbiguousId`."""
    record = archive.show(url_or_id)
    if record is None:
        full = resolve_prefix(archive.db.conn, url_or_id)
        record = archive.show(full) if full else None
    if record is None:
        return None
    for capture in record["captures"]:
        ts = replay_timestamp(capture["fetched_at"])
        capture["ts"] = ts
        capture["replay_url"] = f"{replay_origin}/replay/{ts}/{capture['url']}"
        capture["frame_url"] = f"/replay-frame/{ts}/{capture['url']}"
    timeline = cluster_timeline(archive.db.conn, record["cluster"])
    return {"article": record, "diffs": version_diffs(record["versions"]),
            "timeline": timeline, "archived": archived_capture(record)}


#: Word diffs against the first member are made for this many members at most (a story
#: run by fifty outlets shows the first fifty).
TIMELINE_DIFFS = 50


def delay_text(seconds: int) -> str:
    """A delay after the first report, for people: ``first``, ``+45 min``, ``+3 h 05 min``,
    ``+2 d 4 h``; a negative delay (published before the first, impossible by
    construction) is shown as is."""
    if seconds == 0:
        return "first"
    sign, seconds = ("-", -seconds) if seconds < 0 else ("+", seconds)
    minutes, hours, days = seconds // 60 % 60, seconds // 3600 % 24, seconds // 86400
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes:02d} min"
    return f"{sign}{minutes} min" if minutes else f"{sign}{seconds} s"


def cluster_timeline(conn: sqlite3.Connection, cluster: Mapping[str, Any]
                     ) -> list[dict[str, Any]]:
    """The article page's timeline of its cluster (``show``'s ``cluster``): each member in
    the order it had the story, with ``after_first`` (seconds after the first member's
    publication; its first capture when it has no date), ``delay`` (:func:`delay_text`),
    ``language``, ``url`` and, for members in the first member's language, ``fields``:
    the word diffs of title, lead and body against the first member
    (:func:`archive.diffs.field_diffs`) and ``same_words``, the share of the first
    member's words it kept."""
    members = list(cluster.get("members") or [])
    if len(members) < 2:
        return []
    ids = [m["id"] for m in members]
    marks = ", ".join("?" * len(ids))
    columns = ("id", "url", "language", "title", "lead", "body")
    texts = {r[0]: dict(zip(columns, r, strict=True)) for r in conn.execute(
        f"SELECT {', '.join(columns)} FROM articles WHERE id IN ({marks})", ids)}
    first = texts.get(members[0]["id"], {})

    def instant(m: Mapping[str, Any]) -> datetime:
        return parse_utc(m["published"] or m["first_seen"])

    start = instant(members[0])
    out = []
    for n, m in enumerate(members):
        text = texts.get(m["id"], {})
        after = int((instant(m) - start).total_seconds())
        row: dict[str, Any] = {**m, "url": text.get("url"), "language": text.get("language"),
                               "after_first": after, "delay": delay_text(after)}
        same_language = (text.get("language") or "").split("-")[0] == \
            (first.get("language") or "").split("-")[0]
        if 0 < n <= TIMELINE_DIFFS and same_language:
            diffs = field_diffs(first, text)
            row["fields"] = [{"name": f.name, "segments": f.segments} for f in diffs]
            row["same_words"] = _kept_share(diffs, first)
        out.append(row)
    return out


def _kept_share(diffs: Sequence[Any], first: Mapping[str, Any]) -> float:
    # Words of the first member's title, lead and body found unchanged in the member.
    total = sum(len((first.get(k) or "").split()) for k in ("title", "lead", "body"))
    removed = sum(len(text.split()) for f in diffs for op, text in f.segments if op == "-")
    return round(1 - removed / total, 2) if total else 1.0


def archived_capture(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The capture the article page links first: its newest successful (2xx) capture,
    the archive's copy of what the page last said; None without one."""
    ok = [c for c in record.get("captures", []) if 200 <= int(c.get("status") or 0) < 300
          and c.get("frame_url")]
    chosen = max(ok, key=lambda c: str(c.get("fetched_at")), default=None)
    return dict(chosen) if chosen is not None else None


def sources_view(archive: Archive, now: datetime,
                 source_rows: SourceRows | None) -> list[dict[str, Any]]:
    """Each source: schedule and runs (from ``source_rows`` when given), health, and
    new articles per day (by when they were archived) over the last 14 days."""
    health = {h.source: h for h in check_health(archive, now)}
    configured = source_rows(archive, now) if source_rows else [
        {"source": s} for s in sorted(health)]
    since = datetime.combine(now.date() - timedelta(days=13), datetime.min.time(), UTC)
    per_day = {(d["source"], d["day"]): d["n"]
               for d in _rows(archive.db.conn, facets.new_per_day_sql(since))}
    days = [(since.date() + timedelta(days=i)).isoformat() for i in range(14)]
    out = []
    for row in configured:
        sid = row["source"]
        series = [{"day": day, "n": per_day.get((sid, day), 0)} for day in days]
        out.append({**health_record(health.get(sid), sid), **row, "per_day": series})
    return out


def export_lines(conn: sqlite3.Connection, sql_params: tuple[str, Mapping[str, Any]],
                 fmt: str, replay_origin: str | None = None) -> Iterator[str]:
    """The export, one line at a time, with the provenance columns
    (:mod:`archive.store.provenance`); closes ``conn`` at the end (or when the client
    goes away and the generator is closed)."""
    try:
        buf = io.StringIO()
        writer = csv.writer(buf)
        if fmt == "csv":
            writer.writerow(EXPORT_COLUMNS)
            yield buf.getvalue()
        for record in export_rows(conn, sql_params, replay_origin):
            if fmt == "csv":
                buf.seek(0)
                buf.truncate()
                writer.writerow([csv_cell(record.get(c)) for c in EXPORT_COLUMNS])
                yield buf.getvalue()
            else:
                yield json.dumps(record, ensure_ascii=False) + "\n"
    finally:
        conn.close()
