"""The web interface: search, articles, sources, a framed replay page, a JSON API and
streamed exports (Starlette, Jinja2 templates, served by uvicorn).

Pages (HTML) and their JSON twins under ``/api/``:

``/`` and ``/api/search``
    the search form and a page of results (:data:`PAGE_SIZE` per page), with the counts per
    source, language and tag and the results per day. Without a query it lists every
    article, newest first. Built for a million articles (see :mod:`archive.store.search` and
    :mod:`archive.store.facets`): the total is exact up to 10,000, facet counts cover the newest
    20,000 articles of the result set, relevance ranks its newest 2,000; the page says so
    whenever a result set is larger.
``/articles/<id>`` and ``/api/articles/<id>``
    metadata, text, aliases, versions with the diff of each against the one before,
    captures with replay links, and the copies (rule in :mod:`archive.store.facets`).
``/sources`` and ``/api/sources``
    each source with last run, next run, articles per day and health flags.
``/replay-frame/<YYYYmmddHHMMSS>/<url>``
    a banner this origin owns above an ``<iframe sandbox>`` showing the capture from the
    replay origin, which is another port: archived pages must never share cookies, storage
    or scripts with the interface.
``/export.csv`` and ``/export.jsonl``
    every article of a result set (the ``show`` fields without versions and captures),
    streamed row by row.

Errors: a bad query or parameter is a 400 with a one-line message (JSON under ``/api/`` and
for exports), an unknown article a 404. Each request opens the archive read-only, so the
interface never writes and runs beside crawls.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import io
import itertools
import json
import signal
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from archive.store import facets
from archive.store.connection import connect
from archive.store.db import Archive
from archive.store.facets import FACET_WINDOW, Filters
from archive.store.health import check_health, health_record
from archive.store.records import EXPORT_FIELDS, article_dict
from archive.store.schema import ArchiveError
from archive.store.search import COUNT_CAP, RANK_WINDOW, SORTS, QueryError, SearchQuery, search

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = ["PAGE_SIZE", "Paging", "SourceRows", "create_app", "day_chart", "parse_filters",
           "replay_timestamp", "serve", "version_diffs"]

PAGE_SIZE = 20
MAX_PAGE = 5000
HERE = Path(__file__).parent

#: Supplied by the caller (the CLI), because schedules live in the crawler's config, which
#: the archive must not import: ``(archive, now) -> [{source, name, schedule, next_run,
#: last_run, last_status, ...}]`` for every configured source.
SourceRows = Callable[[Archive, datetime], list[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Settings:
    """What the app serves: the archive file, the config and the replay origin."""

    db_path: Path
    config_path: Path
    replay_origin: str
    source_rows: SourceRows | None


# --------------------------------------------------------------------------- pure helpers


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise QueryError(f"{name}: not a date: {value[:40]!r} (use YYYY-MM-DD)") from None


@dataclass(frozen=True, slots=True)
class Paging:
    """Order and page of a result set: ``page`` counts from 1."""

    sort: str
    page: int = 1
    per_page: int = PAGE_SIZE


def parse_filters(params: Mapping[str, str]) -> tuple[Filters, Paging]:
    """The result set and the page a request's query parameters ask for.

    ``q``, ``source``, ``since``, ``until`` (dates, both inclusive), ``lang``, ``tag``,
    ``sort`` (relevance or newest), ``page``, ``per_page`` (1 to 100, default
    :data:`PAGE_SIZE`). Blank values mean no filter. Raises
    :class:`QueryError` with a one-line message for a bad value.
    """
    text = (params.get("q") or "").strip() or None
    since, until = _day(params.get("since"), "since"), _day(params.get("until"), "until")
    sort = params.get("sort") or ("relevance" if text else "newest")
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort[:40]!r}: use one of {', '.join(SORTS)}")
    page = _number(params, "page", 1, 1, MAX_PAGE)
    per_page = _number(params, "per_page", PAGE_SIZE, 1, 100)
    filters = Filters(
        text=text,
        source=(params.get("source") or "").strip() or None,
        since=datetime.combine(since, datetime.min.time(), UTC) if since else None,
        # until is inclusive for people; the SQL compares "before the next midnight"
        until=datetime.combine(until + timedelta(days=1), datetime.min.time(), UTC)
        if until else None,
        language=(params.get("lang") or "").strip() or None,
        tag=(params.get("tag") or "").strip() or None,
    )
    if filters.text is not None:
        facets.where_sql(filters)  # a query with nothing to search fails here, once
    return filters, Paging(sort, page, per_page)


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
    for key, value in (("source", f.source), ("lang", f.language), ("tag", f.tag)):
        if value:
            out[key] = value
    if f.since:
        out["since"] = f.since.date().isoformat()
    if f.until:
        out["until"] = (f.until - timedelta(days=1)).date().isoformat()
    if paging is not None:
        out["sort"] = paging.sort
        if paging.per_page != PAGE_SIZE:
            out["per_page"] = str(paging.per_page)
        if paging.page > 1:
            out["page"] = str(paging.page)
    return out


def day_chart(days: Sequence[Mapping[str, Any]], width: int = 720,
              height: int = 120) -> dict[str, Any]:
    """Bars for a results-per-day chart (SVG coordinates), from ``day_counts_sql`` rows.

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
    step = width / len(keys)
    bars = []
    for i, key in enumerate(keys):
        n = buckets.get(key, 0)
        if not n:
            continue
        h = max(1.0, (height - 14) * n / top)
        bars.append({"x": round(i * step, 2), "y": round(height - h, 2),
                     "w": round(max(1.0, step * 0.85), 2), "h": round(h, 2), "n": n,
                     "label": key.strftime("%Y-%m") if monthly else key.isoformat()})
    return {"bars": bars, "width": width, "height": height, "max": top,
            "unit": "month" if monthly else "day", "first": bars[0]["label"],
            "last": bars[-1]["label"]}


def replay_timestamp(fetched_at: str) -> str:
    """``2026-11-29T12:00:05Z`` -> ``20261129120005`` (the replay URL's timestamp)."""
    digits = "".join(ch for ch in fetched_at if ch.isdigit())
    return digits[:14].ljust(14, "0")


def version_diffs(versions: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each version after the first with the line diff (title, lead, body) against the
    one before: ``{version, fetched_at, lines: [(kind, text)]}``, kind one of ``+ - @ =``."""
    out = []
    for old, new in itertools.pairwise(versions):
        lines = []
        for line in difflib.unified_diff(_diff_text(old), _diff_text(new), lineterm="", n=1):
            if line.startswith(("---", "+++")):
                continue
            kind = line[:1] if line[:1] in "+-@" else "="
            lines.append((kind, line[1:] if kind != "@" else line))
        out.append({"version": new.get("version"), "previous": old.get("version"),
                    "fetched_at": new.get("fetched_at"), "lines": lines})
    return out


def _diff_text(v: Mapping[str, Any]) -> list[str]:
    return [f"# {v.get('title') or ''}", *(v.get("lead") or "").splitlines(), "",
            *(v.get("body") or "").splitlines()]


def _csv_cell(value: object) -> object:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    return "" if value is None else value


# --------------------------------------------------------------------------- data access


def _connect(db_path: Path) -> sqlite3.Connection:
    """A read-only connection; usable from any thread (streamed exports hop threads)."""
    if not db_path.is_file():
        raise ArchiveError(f"no archive at {db_path}")
    return connect(db_path, readonly=True, check_same_thread=False)


@contextmanager
def _archive(db_path: Path) -> Iterator[Archive]:
    archive = Archive.open_readonly(db_path)
    try:
        yield archive
    finally:
        archive.close()


def _rows(conn: sqlite3.Connection, sql_params: tuple[str, Mapping[str, Any]]
          ) -> list[dict[str, Any]]:
    try:
        return facets.rows(conn, sql_params)
    except sqlite3.OperationalError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "fts5" in message or "MATCH" in message or "syntax" in message:
            raise QueryError(f"cannot search: {message}") from None
        raise


def search_view(conn: sqlite3.Connection, f: Filters, paging: Paging) -> dict[str, Any]:
    """One page of the result set ``f`` with its facets (what the page and API show)."""
    counted = int(_rows(conn, facets.count_sql(f))[0]["n"])
    total = min(counted, COUNT_CAP)
    size = paging.per_page
    offset = (paging.page - 1) * size
    if f.text is None:
        hits = _rows(conn, facets.browse_sql(f, size, offset))
    else:
        q = SearchQuery(text=f.text, source=f.source, since=f.since, until=f.until,
                        language=f.language, sort=paging.sort, limit=size, offset=offset,
                        tag=f.tag)
        hits = search(conn, q)
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
        "sources": _rows(conn, facets.counts_sql(f, "source")),
        "languages": _rows(conn, facets.counts_sql(f, "language")),
        "tags": _rows(conn, facets.counts_sql(f, "tag", limit=25)),
        "days": _rows(conn, facets.day_counts_sql(f)),
    }


def article_view(archive: Archive, url_or_id: str, replay_origin: str) -> dict[str, Any] | None:
    """Everything the article page shows; None for an unknown article."""
    record = archive.show(url_or_id)
    if record is None:
        return None
    for capture in record["captures"]:
        ts = replay_timestamp(capture["fetched_at"])
        capture["ts"] = ts
        capture["replay_url"] = f"{replay_origin}/replay/{ts}/{capture['url']}"
        capture["frame_url"] = f"/replay-frame/{ts}/{capture['url']}"
    conn = archive.db.conn
    copies = []
    sql_params = facets.copies_sql(record)
    if sql_params is not None:
        copies = [{k: c[k] for k in ("id", "source", "title", "published", "url")}
                  for c in _rows(conn, sql_params) if facets.is_copy(record, c)]
    return {"article": record, "diffs": version_diffs(record["versions"]), "copies": copies}


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


# --------------------------------------------------------------------------- the app


def create_app(data_dir: str | Path, config_path: str | Path, replay_origin: str, *,
               source_rows: SourceRows | None = None) -> Starlette:
    """The interface over the archive in ``data_dir``.

    ``replay_origin`` (``http://127.0.0.1:8081``) is where replay links and the framed
    replay point. ``source_rows`` adds the configured sources' schedules and next runs to
    the sources page; without it the page lists the sources found in the archive.
    """
    data = Path(data_dir)
    db_path = data / "archive.db"
    if not db_path.exists():
        Archive(db_path).close()  # an empty, migrated archive: the pages work before a crawl
    settings = Settings(db_path, Path(config_path), replay_origin.rstrip("/"), source_rows)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["urlencode"] = urlencode
    templates.env.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False,
                                                                  indent=2)

    def page(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
        return templates.TemplateResponse(request, name, ctx, status_code=status)

    def error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith(("/api/", "/export.")):
            return JSONResponse({"error": message, "status": status}, status_code=status)
        return page(request, "error.html", {"status": status, "message": message}, status)

    def home(request: Request) -> Response:
        params = dict(request.query_params)
        try:
            f, paging = parse_filters(params)
            with closing(_connect(settings.db_path)) as conn:
                view = search_view(conn, f, paging)
        except (QueryError, ArchiveError) as exc:
            return page(request, "search.html", {"error": str(exc), "params": params,
                                                 "view": None, "chart": None}, 400)
        return page(request, "search.html", {
            "params": params, "view": view, "chart": day_chart(view["days"]), "error": None,
            "link": lambda **kw: "/?" + urlencode({**filter_params(f, replace(paging, page=1)),
                                                   **kw}),
            "export": urlencode(filter_params(f)),
            "replay_origin": settings.replay_origin})

    def api_search(request: Request) -> Response:
        f, paging = parse_filters(dict(request.query_params))
        with closing(_connect(settings.db_path)) as conn:
            view = search_view(conn, f, paging)
        return JSONResponse({"query": filter_params(f, paging), **view})

    def article(request: Request) -> Response:
        with _archive(settings.db_path) as archive:
            view = article_view(archive, request.path_params["id"], settings.replay_origin)
        if view is None:
            return error(request, 404, f"no article {request.path_params['id'][:80]!r}")
        return page(request, "article.html", {**view, "replay_origin": settings.replay_origin})

    def api_article(request: Request) -> Response:
        with _archive(settings.db_path) as archive:
            view = article_view(archive, request.path_params["id"], settings.replay_origin)
        if view is None:
            return error(request, 404, f"no article {request.path_params['id'][:80]!r}")
        return JSONResponse({**view["article"], "diffs": view["diffs"],
                             "copies": view["copies"]})

    def sources(request: Request) -> Response:
        with _archive(settings.db_path) as archive:
            rows = sources_view(archive, datetime.now(UTC), settings.source_rows)
        return page(request, "sources.html", {"sources": rows})

    def api_sources(request: Request) -> Response:
        with _archive(settings.db_path) as archive:
            rows = sources_view(archive, datetime.now(UTC), settings.source_rows)
        return JSONResponse(rows)

    def frame(request: Request) -> Response:
        ts = request.path_params["ts"]
        url = request.path_params["url"]
        if request.url.query:
            url += "?" + request.url.query
        if not (ts.isdigit() and 4 <= len(ts) <= 14):
            return error(request, 400, f"not a capture timestamp: {ts[:40]!r}")
        with _archive(settings.db_path) as archive:
            aid = archive.resolve(url)
            capture = archive.db.execute(
                "SELECT fetched_at, status, warc_file FROM captures WHERE url = ?"
                " ORDER BY abs(CAST(strftime('%s', fetched_at) AS INTEGER)"
                " - CAST(strftime('%s', ?) AS INTEGER)) LIMIT 1",
                [url, _iso(ts)]).fetchone()
            title = archive.db.execute("SELECT title FROM articles WHERE id = ?",
                                       [aid]).fetchone() if aid else None
        return page(request, "frame.html", {
            "ts": ts, "url": url, "article_id": aid, "title": title[0] if title else None,
            "capture": dict(zip(("fetched_at", "status", "warc_file"), capture, strict=True))
            if capture else None,
            "replay_src": f"{settings.replay_origin}/replay/{ts}/{url}",
            "all_captures": f"{settings.replay_origin}/replay/*/{url}"})

    def export(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        f, _ = parse_filters(dict(request.query_params))
        sql_params = facets.export_sql(f)
        conn = _connect(settings.db_path)
        return StreamingResponse(
            _export_lines(conn, sql_params, fmt),
            media_type="text/csv; charset=utf-8" if fmt == "csv"
            else "application/x-ndjson; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="mediawatch.{fmt}"'})

    async def on_query_error(request: Request, exc: Exception) -> Response:
        return error(request, 400, str(exc).splitlines()[0] if str(exc) else "bad request")

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(request, exc.status_code, str(exc.detail))

    routes = [
        Route("/", home, name="search"),
        Route("/articles/{id:path}", article, name="article"),
        Route("/sources", sources, name="sources"),
        Route("/replay-frame/{ts}/{url:path}", frame, name="frame"),
        Route("/api/search", api_search),
        Route("/api/articles/{id:path}", api_article),
        Route("/api/sources", api_sources),
        Route("/export.{fmt:str}", export),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={
        QueryError: on_query_error, ArchiveError: on_query_error,
        HTTPException: on_http_error})
    app.state.settings = settings
    return app


def _iso(ts: str) -> str:
    ts = ts.ljust(14, "0")
    return f"{ts[:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}Z"


def _export_lines(conn: sqlite3.Connection, sql_params: tuple[str, Mapping[str, Any]],
                  fmt: str) -> Iterator[str]:
    """The export, one line at a time; closes ``conn`` at the end (or when the client
    goes away and the generator is closed)."""
    try:
        buf = io.StringIO()
        writer = csv.writer(buf)
        if fmt == "csv":
            writer.writerow(EXPORT_FIELDS)
            yield buf.getvalue()
        conn.row_factory = sqlite3.Row
        sql, params = sql_params
        for row in conn.execute(sql, dict(params)):
            record = article_dict(dict(row), json.loads(row["alias_originals"]))
            if fmt == "csv":
                buf.seek(0)
                buf.truncate()
                writer.writerow([_csv_cell(record.get(c)) for c in EXPORT_FIELDS])
                yield buf.getvalue()
            else:
                yield json.dumps(record, ensure_ascii=False) + "\n"
    finally:
        conn.close()


# --------------------------------------------------------------------------- serving


def serve(apps: Sequence[tuple[Starlette, str, int]],
          on_started: Callable[[], None] | None = None) -> None:
    """Serve each ``(app, host, port)`` with its own uvicorn server, all in one asyncio loop,
    until SIGINT or SIGTERM, which stops them all."""
    import uvicorn

    class _Server(uvicorn.Server):
        # uvicorn would install its own handlers per server, each replacing the last;
        # one handler below stops every server instead.
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    servers = [_Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                      lifespan="off"))
               for app, host, port in apps]

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def stop_all() -> None:
            for s in servers:
                s.should_exit = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop_all)
        tasks = [asyncio.create_task(s.serve()) for s in servers]
        while not all(s.started for s in servers):
            done = [t for t in tasks if t.done()]
            if done:  # a server that could not bind ends at once: stop the others
                for s in servers:
                    s.should_exit = True
                break
            await asyncio.sleep(0.05)
        else:
            if on_started is not None:
                on_started()
        await asyncio.gather(*tasks)
        if not all(s.started for s in servers):
            raise OSError("a server could not start (is the port in use?)")

    asyncio.run(main())
