"""The web interface: search, articles, sources, a framed replay page, a JSON API and
streamed exports (Starlette, Jinja2 templates, served by uvicorn).

Pages (HTML) and their JSON twins under ``/api/``:

``/`` and ``/api/search``
    the search form and a page of results (:data:`~archive.web.query.PAGE_SIZE` per
    page), with the counts per source, language and tag and the results per day. Without a
    query it lists every article, newest first; ``?group=1`` shows one row per story
    (cluster: :mod:`archive.clusters`) with its member count. Built for a million articles (see
    :mod:`archive.store.search` and :mod:`archive.store.facets`): the total is exact up to
    10,000, facet counts cover the newest 20,000 articles of the result set, relevance
    ranks its newest 2,000; the page says so whenever a result set is larger.
``/articles/<id>`` and ``/api/articles/<id>``
    metadata, text, aliases, versions with the diff of each against the one before,
    captures with replay links, and the story across outlets: the cluster stored at ingest
    (:mod:`archive.clusters`) as a timeline (who, when, how long after the first) with each
    member's word diff against the first (``timeline`` in the JSON).
``/articles/<id>/v<N>/screenshot.png``
    the screenshot of version N (rendered from its capture when ``screenshots`` is on),
    read from its WARC resource record; 404 when that version has none.
``/sources`` and ``/api/sources``
    each source with last run, next run, articles per day and health flags.
``/edits`` and ``/api/edits``
    the archive's recent edits (versions after the first), newest first, each with the
    kinds of its changes (:mod:`archive.diffs`); ``?since=``, ``?kind=``, ``?source=``.
``/watchlists/``, ``/watchlists/<name>``, ``/api/watchlists/<name>`` and ``/watchlists/<name>.atom``
    the morning view: each watchlist's new and changed articles since ``?since=`` (an ISO
    time, ``yesterday``, ``24h``; default the last 24 h), with a "since my last visit"
    link kept in the browser's localStorage (:mod:`archive.web.watch`).
``/replay-frame/<YYYYmmddHHMMSS>/<url>``
    a banner this origin owns above an ``<iframe sandbox>`` showing the capture from the
    replay origin, which is another port: archived pages must never share cookies, storage
    or scripts with the interface.
``/export.csv`` and ``/export.jsonl``
    every article of a result set (the ``show`` fields without versions and captures),
    streamed row by row.

Errors: a bad query or parameter is a 400 with a one-line message (JSON under ``/api/`` and
for exports), an unknown article a 404. The archive is only ever opened read-only (one
connection kept per thread of each worker, :mod:`archive.web.pool`; a streamed export has
its own), so the interface never writes and runs beside crawls.

This module holds the app (:func:`create_app`: routes, handlers, error pages) and
:func:`serve`; the query parameters are read by :mod:`archive.web.query`, what each page
shows is built by :mod:`archive.web.views`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from archive.config.files import ConfigError
from archive.config.watchlists import Watchlist, Watchlists, WebLinks, load_watchlists
from archive.replay.info import citation
from archive.replay.lookup import ReplayStore
from archive.replay.rules import parse_timestamp, replay_path
from archive.store import facets
from archive.store.connection import connect
from archive.store.db import Archive
from archive.store.known import check_known, known_values
from archive.store.schema import ArchiveError
from archive.store.screenshots import location as screenshot_location
from archive.store.search import QueryError, widen
from archive.times import parse_moment, utc_text
from archive.warc.screenshots import read_screenshot
from archive.web.hosts import UI_HEADERS, HostGuard
from archive.web.pool import ReadPool
from archive.web.query import filter_params, parse_filters
from archive.web.serving import port_in_use, serve
from archive.web.views import (
    article_view,
    day_chart,
    edits_view,
    export_lines,
    highlight,
    page_numbers,
    search_view,
    sources_view,
    zoned,
)
from archive.web.watch import DEFAULT_SINCE, WATCH_LIMIT, feed_rows, watchlist_view

if TYPE_CHECKING:
    import sqlite3

    from starlette.requests import Request

    from archive.web.views import SourceRows

__all__ = ["FeedWriter", "Settings", "create_app", "port_in_use", "serve"]

HERE = Path(__file__).parent

#: Seconds the search form's source and language choices are kept (:class:`Choices`).
CHOICES_TTL = 60.0

# The export formats and their media types; any other suffix is a 404.
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


#: Writes an Atom document: ``(name, subtitle, rows, now, origins=WebLinks) -> bytes``
#: (the alert feeds' writer, :func:`scheduler.monitor.delivery.atom_feed`, which the CLI
#: passes in: the archive does not import the scheduler).
FeedWriter = Callable[..., bytes]


@dataclass(frozen=True, slots=True)
class Settings:
    """What the app serves: the archive file, the config and the replay origin."""

    db_path: Path
    config_path: Path
    replay_origin: str
    source_rows: SourceRows | None
    watchlists_path: str | None = None
    feed_writer: FeedWriter | None = None


# --------------------------------------------------------------------------- data access


def _connect(db_path: Path) -> sqlite3.Connection:
    """A read-only connection; usable from any thread (streamed exports hop threads)."""
    if not db_path.is_file():
        raise ArchiveError(f"no archive at {db_path}")
    return connect(db_path, readonly=True, check_same_thread=False)


class Choices:
    """The search form's source and language choices: every value in the archive
    (:func:`archive.store.known.known_values`), read again after :data:`CHOICES_TTL`
    seconds (a scan of the languages is too slow for every page at a million articles)."""

    def __init__(self) -> None:
        self.last: dict[str, list[str]] = {"sources": [], "languages": []}
        self._read_at = float("-inf")

    def get(self, conn: sqlite3.Connection) -> dict[str, list[str]]:
        """The choices, read from ``conn`` when the last reading is stale."""
        if time.monotonic() - self._read_at > CHOICES_TTL:
            self.last = {"sources": known_values(conn, "source"),
                         "languages": known_values(conn, "language")}
            self._read_at = time.monotonic()
        return self.last


def _group(params: dict[str, str]) -> bool:
    """``?group=1``: one row per story (cluster) in the results."""
    value = (params.get("group") or "").strip().lower()
    if value not in ("", "0", "1", "on", "true"):
        raise QueryError(f"group: use 1 or 0, not {value[:20]!r}")
    return value in ("1", "on", "true")


def _watchlists(settings: Settings) -> Watchlists:
    """The watchlists file, read now (a bad file is a ConfigError: a 500 naming it)."""
    return load_watchlists(settings.watchlists_path,
                           required=settings.watchlists_path is not None)


def _watchlist(settings: Settings, name: str) -> Watchlist:
    for watchlist in _watchlists(settings):
        if watchlist.name == name:
            return watchlist
    raise HTTPException(404, f"no watchlist {name[:64]!r}")


# --------------------------------------------------------------------------- the app


def create_app(data_dir: str | Path, config_path: str | Path, replay_origin: str, *,
               source_rows: SourceRows | None = None,
               hosts: frozenset[str] | None = None,
               watchlists_path: str | None = None,
               feed_writer: FeedWriter | None = None) -> Starlette:
    """The interface over the archive in ``data_dir``.

    ``replay_origin`` (``http://127.0.0.1:8081``) is where replay links and the framed
    replay point. ``source_rows`` adds the configured sources' schedules and next runs to
    the sources page; without it the page lists the sources found in the archive.
    ``hosts`` are the Host names answered (:func:`archive.web.hosts.allowed_hosts`; None:
    any well-formed name, for tests); every response carries
    :data:`~archive.web.hosts.UI_HEADERS`. ``watchlists_path`` is the watchlists file
    (None: ``config/watchlists.toml`` when present), re-read on each request so that an
    edit shows at once; ``feed_writer`` writes their Atom feeds (without it the feeds are
    404).
    """
    data = Path(data_dir)
    db_path = data / "archive.db"
    if not db_path.exists():
        Archive(db_path).close()  # an empty, migrated archive: the pages work before a crawl
    settings = Settings(db_path, Path(config_path), replay_origin.rstrip("/"), source_rows,
                        watchlists_path, feed_writer)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["urlencode"] = urlencode
    templates.env.globals["page_numbers"] = page_numbers
    templates.env.filters["highlight"] = highlight
    templates.env.filters["zoned"] = zoned
    templates.env.filters["tojson_pretty"] = lambda v: json.dumps(v, ensure_ascii=False,
                                                                  indent=2)

    choices = Choices()
    pool = ReadPool(db_path)

    @contextmanager
    def pooled() -> Iterator[Archive]:
        # This thread's kept archive (archive.web.pool): not closed after the request.
        yield pool.archive()

    @contextmanager
    def pooled_conn() -> Iterator[sqlite3.Connection]:
        yield pool.archive().db.conn

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
            group = _group(params)
            with pooled_conn() as conn:
                options = choices.get(conn)
                view = search_view(conn, f, paging, group)
        except (QueryError, ArchiveError) as exc:
            return page(request, "search.html", {"error": str(exc), "params": params,
                                                 "view": None, "chart": None,
                                                 "choices": choices.last}, 400)
        return page(request, "search.html", {
            "params": params, "view": view, "chart": day_chart(view["days"]), "error": None,
            "choices": options,
            "link": lambda **kw: "/?" + urlencode({**filter_params(f, replace(paging, page=1)),
                                                   **({"group": "1"} if group else {}),
                                                   **kw}),
            "export": urlencode(filter_params(f)),
            "replay_origin": settings.replay_origin})

    def api_search(request: Request) -> Response:
        params = dict(request.query_params)
        f, paging = parse_filters(params)
        group = _group(params)
        with pooled_conn() as conn:
            view = search_view(conn, f, paging, group)
        query = {**filter_params(f, paging), **({"group": "1"} if group else {})}
        return JSONResponse({"query": query, **view})

    def article(request: Request) -> Response:
        with pooled() as archive:
            view = article_view(archive, request.path_params["id"], settings.replay_origin)
        if view is None:
            return error(request, 404, f"no article {request.path_params['id'][:80]!r}")
        return page(request, "article.html", {**view, "replay_origin": settings.replay_origin})

    def screenshot(request: Request) -> Response:
        aid, version = request.path_params["id"], request.path_params["version"]
        with pooled() as archive:
            where = screenshot_location(archive.db, aid, version)
        if where is None:
            return error(request, 404, f"no screenshot of {aid[:80]!r} v{version}")
        try:
            png = read_screenshot(data / "warcs", where)
        except (OSError, ValueError) as exc:  # the WARC file moved or was damaged
            return error(request, 404, f"screenshot unreadable: {exc}")
        return Response(png, media_type="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})

    def api_article(request: Request) -> Response:
        with pooled() as archive:
            view = article_view(archive, request.path_params["id"], settings.replay_origin)
        if view is None:
            return error(request, 404, f"no article {request.path_params['id'][:80]!r}")
        return JSONResponse({**view["article"], "diffs": view["diffs"],
                             "timeline": view["timeline"]})

    def sources(request: Request) -> Response:
        with pooled() as archive:
            rows = sources_view(archive, datetime.now(UTC), settings.source_rows)
        return page(request, "sources.html", {"sources": rows})

    def api_sources(request: Request) -> Response:
        with pooled() as archive:
            rows = sources_view(archive, datetime.now(UTC), settings.source_rows)
        return JSONResponse(rows)

    def edits(request: Request) -> Response:
        with pooled_conn() as conn:
            view = edits_view(conn, dict(request.query_params))
        return page(request, "edits.html", view)

    def api_edits(request: Request) -> Response:
        with pooled_conn() as conn:
            return JSONResponse(edits_view(conn, dict(request.query_params)))

    def watch_since(request: Request) -> datetime:
        text = (request.query_params.get("since") or "").strip()
        now = datetime.now(UTC)
        if not text:
            return now - DEFAULT_SINCE
        try:
            return parse_moment(text, now)
        except ValueError as exc:
            raise QueryError(f"since: {exc}") from None

    def watch_list(request: Request) -> Response:
        since = watch_since(request)
        rows = []
        with pooled_conn() as conn:
            for w in _watchlists(settings):
                view = watchlist_view(conn, w, since, kinds=False)  # counts only
                rows.append({"name": w.name, "query": w.query, "new": len(view["new"]),
                             "changed": len(view["changed"])})
        return page(request, "watchlists.html", {
            "watchlists": rows, "since": utc_text(since), "limit": WATCH_LIMIT,
            "since_param": request.query_params.get("since") or ""})

    def watch_view(request: Request) -> dict[str, Any]:
        watchlist = _watchlist(settings, request.path_params["name"])
        since = watch_since(request)
        with pooled_conn() as conn:
            return watchlist_view(conn, watchlist, since)

    def watch_page(request: Request) -> Response:
        view = watch_view(request)
        return page(request, "watchlist.html", {
            **view, "now": utc_text(datetime.now(UTC)), "limit": WATCH_LIMIT,
            "since_param": request.query_params.get("since") or ""})

    def api_watch(request: Request) -> Response:
        return JSONResponse(watch_view(request))

    def watch_feed(request: Request) -> Response:
        if settings.feed_writer is None:
            return error(request, 404, "Atom feeds are served by mediawatch serve")
        view = watch_view(request)
        web = _watchlists(settings).web
        origins = WebLinks(web.base_url or str(request.base_url).rstrip("/"),
                           web.replay_url or settings.replay_origin)
        document = settings.feed_writer(
            view["name"], f"{view['query']} (new and changed since {view['since']})",
            feed_rows(view), datetime.now(UTC), origins=origins)
        return Response(document, media_type="application/atom+xml; charset=utf-8")

    def frame(request: Request) -> Response:
        ts = request.path_params["ts"]
        url = request.path_params["url"]
        if request.url.query:
            url += "?" + request.url.query
        if not (ts.isdigit() and 4 <= len(ts) <= 14):
            return error(request, 400, f"not a capture timestamp: {ts[:40]!r}")
        # The capture the replay origin serves for this address, found by the same rules
        # (nearest, exact URL first, readable), so the banner describes what is shown.
        # A store per request, like every other page's connection: a reindex swaps the
        # database file, and a connection kept open would go on reading the old one.
        with closing(ReplayStore(data)) as store:
            found = store.lookup(url, parse_timestamp(ts))
        capture = found.capture if found is not None else None
        with pooled() as archive:
            aid = archive.resolve(url)
            title = archive.db.execute("SELECT title FROM articles WHERE id = ?",
                                       [aid]).fetchone() if aid else None
        permalink = (f"{settings.replay_origin}{replay_path(capture.url, capture.timestamp)}"
                     if capture is not None else None)
        return page(request, "frame.html", {
            "ts": ts, "url": url, "article_id": aid, "title": title[0] if title else None,
            "capture": capture, "fetched_at": capture.fetched_at.strftime(
                "%Y-%m-%d %H:%M:%S UTC") if capture is not None else None,
            "permalink": permalink,
            "citation": citation(capture, permalink or "", title[0] if title else None, aid)
            if capture is not None else None,
            "replay_src": f"{settings.replay_origin}/replay/{ts}/{url}",
            "all_captures": f"{settings.replay_origin}/replay/*/{url}"})

    def export(request: Request) -> Response:
        fmt = request.path_params["fmt"]
        if fmt not in EXPORT_TYPES:
            # Never echoed: the suffix would go into Content-Disposition (%00, %ff, quotes).
            return error(request, 404, "no such export; use /export.csv or /export.jsonl")
        f, _ = parse_filters(dict(request.query_params))
        conn = _connect(settings.db_path)
        try:
            check_known(conn, source=f.source, language=f.language)
            sql_params = facets.export_sql(widen(conn, f))  # names in every script
        except QueryError:
            conn.close()
            raise
        return StreamingResponse(
            export_lines(conn, sql_params, fmt, settings.replay_origin),
            media_type=EXPORT_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="mediawatch.{fmt}"'})

    async def on_query_error(request: Request, exc: Exception) -> Response:
        return error(request, 400, str(exc).splitlines()[0] if str(exc) else "bad request")

    async def on_config_error(request: Request, exc: Exception) -> Response:
        return error(request, 500, str(exc).splitlines()[0] if str(exc) else "bad config")

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error(request, exc.status_code, str(exc.detail))

    routes = [
        Route("/", home, name="search"),
        # Before the article route, whose {id:path} would take the whole path.
        Route("/articles/{id:path}/v{version:int}/screenshot.png", screenshot,
              name="screenshot"),
        Route("/articles/{id:path}", article, name="article"),
        Route("/sources", sources, name="sources"),
        Route("/edits", edits, name="edits"),
        Route("/watchlists/", watch_list, name="watchlists"),
        # Before the page route, whose {name} would take "x.atom" too.
        Route("/watchlists/{name}.atom", watch_feed, name="watchlist_feed"),
        Route("/watchlists/{name}", watch_page, name="watchlist"),
        Route("/api/watchlists/{name}", api_watch),
        Route("/replay-frame/{ts}/{url:path}", frame, name="frame"),
        Route("/api/search", api_search),
        Route("/api/articles/{id:path}", api_article),
        Route("/api/sources", api_sources),
        Route("/api/edits", api_edits),
        Route("/export.{fmt:str}", export),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={
        QueryError: on_query_error, ArchiveError: on_query_error, ConfigError: on_config_error,
        HTTPException: on_http_error},
        middleware=[Middleware(HostGuard, hosts=hosts, headers=UI_HEADERS)])
    app.state.settings = settings
    return app
