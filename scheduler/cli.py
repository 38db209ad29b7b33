"""The ``mediawatch`` command line: thin commands over the library.

Every command is a few lines that call a library function and print its result
(:mod:`scheduler.output`). Errors are turned into a message and an exit code here, at the
edge, and nowhere else: domain errors become one line and exit code 2; anything else is
a bug, whose traceback goes to the day's log and whose one line names that log, exit code 1
(:mod:`scheduler.errors`).

Library modules are imported inside the commands that use them, so that ``--help`` and the
light commands do not load Scrapy, Starlette or the replay code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from archive.config.files import ConfigError
from archive.config.sources import Config, load_config
from archive.store.db import Archive
from archive.times import parse_moment
from scheduler.cluster_cli import register as register_cluster
from scheduler.edits_cli import register as register_edits
from scheduler.errors import Mediawatch, NotFound
from scheduler.evidence_cli import register as register_evidence
from scheduler.output import (
    SEARCH_COLUMNS,
    article_text,
    counted,
    crawl_footer,
    progress_bar,
    progress_once_known,
    to_csv,
    to_json,
    to_jsonl,
    to_table,
)
from scheduler.runlog import web_source_rows
from scheduler.sources_cli import register as register_sources
from scheduler.warc_cli import register as register_warc

if TYPE_CHECKING:
    from archive.config.watchlists import Watchlists

__all__ = ["Context", "main", "parse_day", "web_source_rows"]


class Context:
    """Global options, resolved lazily so ``--help`` never touches the disk."""

    def __init__(self, config_path: str, data_dir: str, watchlists_path: str | None = None):
        self.config_path = config_path
        self.data_dir = Path(data_dir)
        self.watchlists_path = watchlists_path

    def config(self) -> Config:
        """The parsed sources file."""
        return load_config(self.config_path)

    def max_page_size(self) -> int:
        """``[crawl] max_page_size``: no stored payload is decoded past it (gzip bombs);
        the reader's default when there is no sources file."""
        from archive.warc.payload import DEFAULT_MAX_PAYLOAD

        if not Path(self.config_path).exists():
            return DEFAULT_MAX_PAYLOAD
        return self.config().crawl.max_page_size

    def watchlists(self) -> Watchlists:
        """The watchlists in force (:func:`scheduler.monitor.watchlists.open_watchlists`)."""
        from scheduler.monitor.watchlists import open_watchlists

        return open_watchlists(self.watchlists_path)

    @property
    def db_path(self) -> Path:
        """``<data>/archive.db``."""
        return self.data_dir / "archive.db"

    @property
    def warc_dir(self) -> Path:
        """``<data>/warcs``."""
        return self.data_dir / "warcs"

    def archive(self) -> Archive:
        """Open (creating if needed) the archive."""
        return Archive(self.db_path)

    def reader(self) -> Archive:
        """Open the archive for a command that only reads it: read-only, so it neither
        waits for a reindex nor needs a byte of free disk; read-write (creating and
        migrating it) only when there is no archive yet or its schema is behind."""
        from archive.store.schema import ArchiveError

        try:
            return Archive.open_readonly(self.db_path)
        except ArchiveError:
            return self.archive()


@click.group(cls=Mediawatch, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", default="config/sources.toml", show_default=True,
              envvar="MEDIAWATCH_CONFIG", help="Sources file.")
@click.option("--data", "data_dir", default="data", show_default=True,
              envvar="MEDIAWATCH_DATA", help="Data directory (archive.db, warcs/, logs/).")
@click.option("--watchlists", "watchlists_path", default=None, envvar="MEDIAWATCH_WATCHLISTS",
              help="Watchlists file [default: config/watchlists.toml, none if absent].")
@click.version_option(package_name="mediawatch")
@click.pass_context
def main(ctx: click.Context, config_path: str, data_dir: str,
         watchlists_path: str | None) -> None:
    """mediawatch: crawl defence and diplomacy news into WARC captures and a searchable
    archive."""
    ctx.obj = Context(config_path, data_dir, watchlists_path)


pass_ctx = click.make_pass_decorator(Context)


_F = TypeVar("_F", bound=Callable[..., Any])


def _format(*choices: str) -> Callable[[_F], _F]:
    """The ``--format`` option; the first choice is the default."""
    return click.option("--format", "fmt", type=click.Choice(list(choices)),
                        default=choices[0], show_default=True)


# --------------------------------------------------------------------------- crawl


@main.command()
@click.argument("source_ids", nargs=-1)
@click.option("--scheduled", is_flag=True,
              help="A scheduled run: honour per-feed poll intervals and source back-off.")
@click.option("--cluster", "on_cluster", is_flag=True,
              help="Enqueue the crawls for the cluster's workers instead (needs [cluster] "
                   "redis_url or MEDIAWATCH_REDIS_URL).")
@pass_ctx
def crawl(ctx: Context, source_ids: tuple[str, ...], scheduled: bool, on_cluster: bool) -> None:
    """Crawl now: every source, or the SOURCE_IDS named. Prints a summary per source."""
    from crawler.crawl import crawl_and_ingest
    from scheduler.monitor.delivery import alert_lines

    config = ctx.config()
    sources = [config.source(s) for s in source_ids] if source_ids else list(config.sources)
    if not sources:
        raise ConfigError(config.path, None, None, "no sources configured")
    if on_cluster:
        from scheduler.cluster_cli import enqueue_now

        enqueue_now(ctx, sources, scheduled)
        return
    with ExitStack() as stack:  # the total is known once the crawl has written its files
        progress = progress_once_known(stack, "loading WARC files")
        summary = crawl_and_ingest(config, sources, ctx.data_dir, scheduled=scheduled,
                                   progress=progress)
    click.echo(to_table(summary.rows(), summary.COLUMNS))
    for line in alert_lines(ctx.data_dir, ctx.watchlists_path, datetime.now(UTC),
                            warn=lambda message: click.echo(message, err=True)):
        click.echo(line)
    click.echo(crawl_footer(summary, ctx.warc_dir, ctx.db_path))
    for error in summary.errors[:10]:
        if "disk full:" not in error:  # said once, below
            click.echo(f"warning: {error}", err=True)
    if summary.disk_full:
        from scheduler.errors import CommandError

        raise CommandError("; ".join(summary.disk_full) + ". Free some space, then crawl "
                           "again: nothing already archived is lost.")


# --------------------------------------------------------------------------- read side


def parse_day(value: str | None, *, end: bool = False, name: str = "--since",
              now: datetime | None = None) -> datetime | None:
    """A ``--since/--until`` value: ISO date or time, ``today``, ``yesterday`` or a time
    back from now (``24h``, ``7d``, ``2w``); a bare date or day word covers the whole day,
    so an ``end`` bound is the next midnight (exclusive) (:func:`archive.times.parse_moment`).
    """
    if value is None:
        return None
    try:
        return parse_moment(value, now or datetime.now(UTC), end=end)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=name) from None


def parse_range(since: str | None, until: str | None) -> tuple[datetime | None,
                                                                datetime | None]:
    """``--since`` and ``--until`` read against one clock; an inverted range is an error
    (one line, exit 2), not an empty result."""
    now = datetime.now(UTC)
    start, stop = parse_day(since, now=now), parse_day(until, end=True, name="--until", now=now)
    if start is not None and stop is not None and start >= stop:
        from archive.store.query import QueryError

        raise QueryError(f"--since {since} is not before --until {until}")
    return start, stop


@main.command("search")
@click.argument("query")
@click.option("--source", help="Only this source id.")
@click.option("--since", help="Published on or after: YYYY-MM-DD, ISO time, today, "
              "yesterday, or back from now: 24h, 7d, 2w.")
@click.option("--until", help="Published on or before (same forms).")
@click.option("--lang", "language", help="Language code, e.g. en, ru, tr.")
@click.option("--sort", type=click.Choice(["relevance", "newest"]), default="relevance",
              show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--group", is_flag=True, help="One row per story (cluster of copies and "
              "coverage across outlets), with its size: cluster_size.")
@click.option("--entity", "entities", multiple=True, metavar="ID",
              help="Only articles mentioning this gazetteer entity (repeatable: all of them).")
@click.option("--exact", is_flag=True,
              help="Match the words as typed: no other scripts, spellings or aliases.")
@_format("table", "json", "csv")
@pass_ctx
def search_cmd(ctx: Context, query: str, source: str | None, since: str | None,
               until: str | None, language: str | None, sort: str, limit: int,
               group: bool, entities: tuple[str, ...], exact: bool, fmt: str) -> None:
    """Full-text search: words, "phrases", AND/OR/NOT, prefix*, title:word. Names match
    in every script and spelling (Shoigu finds Шойгу and Şoygu) unless --exact."""
    from archive.store.clusters import group_hits
    from archive.store.known import check_known
    from archive.store.names import check_entities
    from archive.store.search import SearchQuery, search_page

    start, stop = parse_range(since, until)
    # Grouped: up to 5 hits per row fetched, then folded (a post-step over the results).
    q = SearchQuery(text=query, source=source, since=start, until=stop, language=language,
                    sort=sort, limit=min(1000, limit * 5) if group else limit,
                    entities=entities, exact=exact)
    with ctx.reader() as archive:
        check_known(archive.db.conn, source=source, language=language)
        check_entities(entities)
        page = search_page(archive, q)
        hits = group_hits(archive.db.conn, page.hits)[:limit] if group else page.hits
    columns = (*SEARCH_COLUMNS, "cluster_size") if group else SEARCH_COLUMNS
    if fmt == "json":
        click.echo(to_json(hits))
    elif fmt == "csv":
        click.echo(to_csv(hits, [*columns, "url", "language"]), nl=False)
    else:
        click.echo(to_table(hits, columns) if hits else "no matches")
    # On stderr, so that JSON and CSV output stay data only.
    total = f"{page.total:,}" if page.total_exact else f"more than {page.total:,}"
    note = f"ranked among the newest {page.ranked_within:,}; " if page.ranked_within else ""
    click.echo(f"{total} matches ({note}showing {len(hits)})", err=True)


@main.command()
@click.argument("url_or_id")
@_format("text", "json")
@pass_ctx
def show(ctx: Context, url_or_id: str, fmt: str) -> None:
    """One article by id (or an unambiguous start of it) or by any URL it is known under,
    with versions and captures."""
    from archive.store.prefix import resolve_prefix

    with ctx.reader() as archive:
        record = archive.show(url_or_id)
        if record is None and (full := resolve_prefix(archive.db.conn, url_or_id)):
            record = archive.show(full)
    if record is None:
        raise NotFound(f"no article known under {url_or_id!r}")
    click.echo(to_json(record) if fmt == "json" else article_text(record))


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The URL the saved page was served under.")
@click.option("--source", "source_id", help="Parse with this source's selectors.")
@_format("text", "json")
@pass_ctx
def extract(ctx: Context, path: Path, url: str | None, source_id: str | None,
            fmt: str) -> None:
    """Run the article parser on a saved page (HTML, or gzip: .html.gz) or on each HTML
    response of a WARC, ARC or WACZ file. Each field comes with the method that produced it
    (json: "methods"). Exit code 1 when no page was extracted."""
    from scheduler.extract_cli import run_extract

    source = ctx.config().source(source_id) if source_id else None
    run_extract(path, url=url, source=source, fmt=fmt, max_payload=ctx.max_page_size())


@main.command()
@_format("jsonl", "csv", "wacz")
@click.option("--query", help="Only articles matching this search.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file [default: stdout; for wacz: mediawatch-export.wacz].")
@click.option("--sign", is_flag=True, help="wacz: sign with [evidence] signing_key and add "
              "the WARC files' timestamp tokens.")
@pass_ctx
def export(ctx: Context, fmt: str, query: str | None, output: Path | None, sign: bool) -> None:
    """Every article (or the matches of --query): the show fields without versions and
    captures, then provenance (capture_time, warc_file, warc_offset, payload_digest,
    replay_url, edited, cluster_id); or, as wacz, their captures packed for replay tools."""
    from archive.store.provenance import EXPORT_COLUMNS, export_rows
    from archive.store.records import export_sql
    from archive.store.search import fts_expression
    from scheduler.monitor.links import resolve_origins

    if sign and fmt != "wacz":
        raise click.UsageError("--sign applies to --format wacz only")
    with ctx.reader() as archive:
        if fmt == "wacz":
            from archive.warc.wacz import write_wacz
            from scheduler.evidence_cli import export_key

            r = write_wacz(archive, ctx.warc_dir, output or Path("mediawatch-export.wacz"), query,
                           sign_key=export_key(ctx) if sign else None)
            click.echo(f"wrote {r.path}: {r.articles} articles, {r.pages} pages, {r.captures}"
                       f" captures ({r.records} WARC records from {r.warc_files} files)"
                       + (f", signed, {r.timestamps} timestamp tokens" if r.signed else ""),
                       err=True)
            return
        with ExitStack() as stack, progress_bar(archive.count(query), "exporting articles") as bar:
            out = stack.enter_context(open(output, "w", encoding="utf-8", newline="")) \
                if output else None
            # Replay links name the origin of [web] replay_url or of the last `serve`.
            origin = resolve_origins(ctx.watchlists().web, ctx.data_dir).replay_url
            sql = export_sql(fts_expression(query) if query is not None else None)
            rows = counted(export_rows(archive.db.conn, sql, origin), bar)
            if fmt == "jsonl":
                for line in to_jsonl(rows):
                    click.echo(line, file=out)
            else:
                click.echo(to_csv(rows, EXPORT_COLUMNS), nl=False, file=out)


# --------------------------------------------------------------------------- operations


@main.command()
@click.option("--list", "list_only", is_flag=True,
              help="Print each source's schedule, next run and last result, then exit.")
@pass_ctx
def schedule(ctx: Context, list_only: bool) -> None:
    """Run the scheduler service in the foreground until SIGTERM or Ctrl-C (SIGHUP
    re-reads the sources file)."""
    from scheduler.runlog import SCHEDULE_COLUMNS, schedule_listing
    from scheduler.service import read_config, run_service

    config = read_config(ctx.config_path)
    if not list_only:
        run_service(ctx.config_path, ctx.data_dir, ctx.watchlists_path)
        return
    with ctx.reader() as archive:
        rows = schedule_listing(config, archive, datetime.now(UTC))
    click.echo(to_table(rows, SCHEDULE_COLUMNS))


@main.command("runs")
@click.option("--source", help="Only this source id.")
@_format("table", "json")
@pass_ctx
def runs_cmd(ctx: Context, source: str | None, fmt: str) -> None:
    """Past crawl runs with their figures, oldest first."""
    from scheduler.runlog import RUN_TABLE_COLUMNS, run_records

    with ctx.reader() as archive:
        records = run_records(archive, source)
    _print_rows(records, RUN_TABLE_COLUMNS, fmt, "no runs")


@main.command("alerts")
@click.option("--watchlist", "watchlist_name",
              help="Only this watchlist (_health: source-health alerts).")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@_format("table", "json")
@pass_ctx
def alerts_cmd(ctx: Context, watchlist_name: str | None, limit: int, fmt: str) -> None:
    """What was delivered: every delivery attempt of watchlist alerts, newest first."""
    from scheduler.monitor.alerts import ALERT_COLUMNS, list_deliveries

    with ctx.reader() as archive:
        rows = list_deliveries(archive, watchlist_name, limit)
    _print_rows(rows, ALERT_COLUMNS, fmt, "no alerts delivered")


def _print_rows(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str,
                empty: str | None) -> None:
    if fmt == "json":
        click.echo(to_json(rows))
    else:
        click.echo(to_table(rows, columns) if rows or empty is None else empty)


# --------------------------------------------------------------------------- serving


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address both servers bind (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port of the web interface.")
@click.option("--replay-port", type=click.IntRange(0, 65535), default=8081, show_default=True,
              help="Port of replay, a separate origin for archived pages.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes serving both origins [default: one per core].")
@click.option("--allowed-host", "allowed", multiple=True, metavar="NAME",
              help="Also answer requests for this host name (repeatable); by default only "
              "the bound address, and localhost/127.0.0.1 when it is loopback.")
@pass_ctx
def serve(ctx: Context, host: str, port: int, replay_port: int, workers: int | None,
          allowed: tuple[str, ...]) -> None:
    """Serve the web interface and replay (two origins) until Ctrl-C or SIGTERM."""
    from archive.replay.app import create_replay_app
    from archive.web.app import create_app
    from archive.web.hosts import allowed_hosts
    from archive.web.serving import default_workers, port_in_use
    from archive.web.serving import serve as serve_apps
    from scheduler.errors import CommandError

    try:
        hosts = allowed_hosts(host, allowed)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--allowed-host") from exc
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    origin = f"http://{shown}:{replay_port}"
    from scheduler.monitor.delivery import atom_feed

    ui = create_app(ctx.data_dir, ctx.config_path, origin,
                    source_rows=web_source_rows(ctx.config_path), hosts=hosts,
                    watchlists_path=ctx.watchlists_path, feed_writer=atom_feed)
    replay = create_replay_app(ctx.data_dir, hosts=hosts, max_payload=ctx.max_page_size(),
                               ui_origin=f"http://{shown}:{port}")
    for number, option in ((port, "--port"), (replay_port, "--replay-port")):
        if number and port_in_use(host, number):
            raise CommandError(f"port {number} is in use; try {option}")
    if port and replay_port:  # alert feeds link here (scheduler/monitor/links.py)
        from scheduler.monitor.links import write_serve_origins

        write_serve_origins(ctx.data_dir, f"http://{shown}:{port}", origin)
    try:
        count = workers or default_workers()
        serve_apps([(ui, host, port), (replay, host, replay_port)], on_started=lambda: click.echo(
            f"web interface http://{shown}:{port}/  replay {origin}/  ({count} worker"
            f"{'s' if count > 1 else ''}; Ctrl-C stops)"), workers=count)
    except OSError as exc:  # a port in use: serve raises a bare OSError naming no path
        raise CommandError(f"{host}:{port}/{replay_port}: {exc}") from exc


@main.command()
@click.option("--port", type=int, default=8765, show_default=True,
              help="Port for the sample newsroom (0: any free port).")
@pass_ctx
def demo(ctx: Context, port: int) -> None:
    """Serve the bundled sample newsroom on 127.0.0.1, crawl it twice (an article is
    edited in between), then show a search and an article."""
    from scheduler.demo import run_demo

    run_demo(ctx.data_dir, port, click.echo)


register_edits(main)
register_sources(main)
register_evidence(main)
register_warc(main)
register_cluster(main)

if __name__ == "__main__":
    main()
