"""The ``mediawatch`` command line: thin commands over the library.

Every command is a few lines that call a library function; errors become a one-line message
and a non-zero exit code here, at the edge, and nowhere else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, time, timedelta
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from archive.config.sources import Config, ConfigError, load_config
from archive.config.watchlists import Watchlists, load_watchlists
from archive.store.db import Archive
from archive.store.records import EXPORT_FIELDS, article_record
from archive.store.search import QueryError, SearchQuery, search_page
from archive.times import parse_utc
from archive.warc.reader import WarcError, list_warcs
from scheduler.output import progress_bar, to_csv, to_json, to_jsonl, to_table

F = TypeVar("F", bound=Callable[..., Any])
SEARCH_COLUMNS = ("id", "published", "source", "title", "short_url", "snippet")


class Context:
    """Global options, resolved lazily so ``--help`` never touches the disk."""

    def __init__(self, config_path: str, data_dir: str, watchlists_path: str | None = None):
        self.config_path = config_path
        self.data_dir = Path(data_dir)
        self.watchlists_path = watchlists_path

    def config(self) -> Config:
        """The parsed sources file."""
        return load_config(self.config_path)

    def watchlists(self) -> Watchlists:
        """The parsed watchlists file; a missing default file means no watchlists, a
        missing file named by --watchlists / MEDIAWATCH_WATCHLISTS is an error."""
        return load_watchlists(self.watchlists_path,
                               required=self.watchlists_path is not None)

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


def fails_cleanly(func: F) -> F:
    """Turn domain errors into one line on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except BrokenPipeError:
            # The reader went away (`| head`): not an error. Point stdout at /dev/null so
            # the interpreter's final flush does not raise again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except (ConfigError, QueryError, WarcError, LookupError, ValueError, OSError,
                RuntimeError) as exc:
            click.echo(f"mediawatch: error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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


# --------------------------------------------------------------------------- crawl


@main.command()
@click.argument("source_ids", nargs=-1)
@click.option("--scheduled", is_flag=True,
              help="A scheduled run: honour per-feed poll intervals and source back-off.")
@pass_ctx
@fails_cleanly
def crawl(ctx: Context, source_ids: tuple[str, ...], scheduled: bool) -> None:
    """Crawl now: every source, or the SOURCE_IDS named. Prints a summary per source."""
    from crawler.crawl import crawl_and_ingest

    config = ctx.config()
    sources = [config.source(s) for s in source_ids] if source_ids else list(config.sources)
    if not sources:
        raise ValueError(f"{config.path}: no sources configured")
    with ExitStack() as stack:
        bars: list[Any] = []

        def progress(done: int, total: int) -> None:
            if not bars:  # the total is known once the crawl has written its files
                bars.append(stack.enter_context(progress_bar(total, "loading WARC files")))
            bars[0].update(done)

        summary = crawl_and_ingest(config, sources, ctx.data_dir, scheduled=scheduled,
                                   progress=progress)
    click.echo(to_table(summary.rows(), summary.COLUMNS))
    for line in alert_lines(ctx):
        click.echo(line)
    written = sum(f.warc_bytes for f in summary.figures)
    revisits = sum(f.revisit_bytes for f in summary.figures)
    click.echo(f"\nWARC bytes written: {written:,} ({written - revisits:,} new captures, "
               f"{revisits:,} revisit records)")
    click.echo(f"WARC files: {ctx.warc_dir}  archive: {ctx.db_path}  log: {summary.log_file}")
    for error in summary.errors[:10]:
        click.echo(f"warning: {error}", err=True)


# --------------------------------------------------------------------------- read side


def parse_day(value: str | None, *, end: bool = False) -> datetime | None:
    """A ``--since/--until`` value: ISO date or datetime; a bare date covers the whole day."""
    if value is None:
        return None
    try:
        parsed = parse_utc(value)
    except ValueError:
        raise click.BadParameter(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    if len(value) <= 10 and end:
        parsed = datetime.combine(parsed.date(), time.max)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@main.command("search")
@click.argument("query")
@click.option("--source", help="Only this source id.")
@click.option("--since", help="Published on or after (YYYY-MM-DD or ISO datetime).")
@click.option("--until", help="Published on or before.")
@click.option("--lang", "language", help="Language code, e.g. en, ru, tr.")
@click.option("--sort", type=click.Choice(["relevance", "newest"]), default="relevance",
              show_default=True)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@pass_ctx
@fails_cleanly
def search_cmd(ctx: Context, query: str, source: str | None, since: str | None,
               until: str | None, language: str | None, sort: str, limit: int,
               fmt: str) -> None:
    """Full-text search: words, "phrases", AND/OR/NOT, prefix*, title:word."""
    q = SearchQuery(text=query, source=source, since=parse_day(since),
                    until=parse_day(until, end=True), language=language, sort=sort,
                    limit=limit)
    archive = ctx.archive()
    try:
        page = search_page(archive, q)
    finally:
        archive.close()
    hits = page.hits
    if fmt == "json":
        click.echo(to_json(hits))
    elif fmt == "csv":
        click.echo(to_csv(hits, [*SEARCH_COLUMNS, "url", "language"]), nl=False)
    elif hits:
        click.echo(to_table(hits, SEARCH_COLUMNS))
    else:
        click.echo("no matches")
    # On stderr, so that JSON and CSV output stay data only.
    total = f"{page.total:,}" if page.total_exact else f"more than {page.total:,}"
    note = f"ranked among the newest {page.ranked_within:,}; " if page.ranked_within else ""
    click.echo(f"{total} matches ({note}showing {len(hits)})", err=True)


@main.command()
@click.argument("url_or_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_ctx
@fails_cleanly
def show(ctx: Context, url_or_id: str, fmt: str) -> None:
    """One article by id or by any URL it is known under, with versions and captures."""
    archive = ctx.archive()
    try:
        record = archive.show(url_or_id)
    finally:
        archive.close()
    if record is None:
        raise LookupError(f"no article known under {url_or_id!r}")
    click.echo(to_json(record) if fmt == "json" else render_text(record))


def render_text(record: dict[str, Any]) -> str:
    """Human-readable article: header fields, text, then aliases, versions and captures."""
    lines = [record.get("title") or "(no title)", ""]
    for key in ("id", "url", "short_url", "canonical_url", "source", "published", "modified",
                "section", "language", "authors", "tags", "body_method"):
        value = record.get(key)
        if value:
            lines.append(f"{key:>13}: {'; '.join(value) if isinstance(value, list) else value}")
    lines += ["", record.get("lead") or "", "", record.get("body") or ""]
    if record.get("aliases"):
        lines += ["", "Aliases:"] + [f"  {a}" for a in record["aliases"]]
    if record.get("versions"):
        lines += ["", "Versions:"] + [f"  v{v['version']}  {v['fetched_at']}  {v.get('title')}"
                                      for v in record["versions"]]
    if record.get("captures"):
        lines += ["", "Captures:"] + [
            f"  {c['fetched_at']}  {c['status']}  {c['warc_file']}@{c['offset']}+{c['length']}"
            for c in record["captures"]]
    return "\n".join(lines)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="The URL the saved page was served under.")
@click.option("--source", "source_id", help="Parse with this source's selectors.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@pass_ctx
@fails_cleanly
def extract(ctx: Context, path: Path, url: str | None, source_id: str | None,
            fmt: str) -> None:
    """Run the article parser on a saved HTML file or on each HTML response in a WARC."""
    from crawler.extract import extract_path

    source = ctx.config().source(source_id) if source_id else None
    for page_url, article, error in extract_path(path, url=url, source=source):
        if error is not None:
            click.echo(f"{page_url}: not extracted: {error}", err=True)
            continue
        record = article_record(article)
        if fmt == "json":
            click.echo(next(iter(to_jsonl([record]))))
        else:
            click.echo(render_text(record) + "\n" + "=" * 72)


@main.command()
@pass_ctx
@fails_cleanly
def reindex(ctx: Context) -> None:
    """Rebuild archive.db from the WARC files alone (offline). Run logs are kept."""
    from crawler.reindex import rebuild

    config = ctx.config() if Path(ctx.config_path).exists() else None
    total = sum(p.stat().st_size for p in list_warcs(ctx.warc_dir))
    with progress_bar(total, "reindexing WARC files") as bar:
        report = rebuild(ctx.db_path, ctx.warc_dir, config, progress=bar.update)
    click.echo(f"reindexed {len(report.files)} WARC file(s): "
               f"{report.total('inserted')} articles, {report.total('updated')} updates, "
               f"{report.total('duplicate')} duplicates, {len(report.errors)} error(s)")
    for error in report.errors[:10]:
        click.echo(f"warning: {error}", err=True)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "wacz"]), default="jsonl",
              show_default=True)
@click.option("--query", help="Only articles matching this search.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file [default: stdout; for wacz: mediawatch-export.wacz].")
@pass_ctx
@fails_cleanly
def export(ctx: Context, fmt: str, query: str | None, output: Path | None) -> None:
    """Every article (or the matches of --query): the show fields without versions and
    captures; or, as wacz, their captures packed for replay tools."""
    archive = ctx.archive()
    try:
        if fmt == "wacz":
            from archive.warc.wacz import write_wacz

            report = write_wacz(archive, ctx.warc_dir, output or Path("mediawatch-export.wacz"),
                                query)
            click.echo(f"wrote {report.path}: {report.articles} articles, {report.pages} pages,"
                       f" {report.captures} captures ({report.records} WARC records from"
                       f" {report.warc_files} files)", err=True)
            return
        with ExitStack() as stack, progress_bar(archive.count(query), "exporting articles") as bar:
            out = stack.enter_context(open(output, "w", encoding="utf-8", newline="")) \
                if output else None
            rows = _counted(archive.export(query), bar)
            if fmt == "jsonl":
                for line in to_jsonl(rows):
                    click.echo(line, file=out)
            else:
                click.echo(to_csv(rows, EXPORT_FIELDS), nl=False, file=out)
    finally:
        archive.close()


def _counted(rows: Iterator[dict[str, Any]], bar: Any) -> Iterator[dict[str, Any]]:
    for row in rows:
        yield row
        bar.update(1)


# --------------------------------------------------------------------------- schedule


@main.command()
@click.option("--list", "list_only", is_flag=True,
              help="Print each source's schedule, next run and last result, then exit.")
@pass_ctx
@fails_cleanly
def schedule(ctx: Context, list_only: bool) -> None:
    """Run the scheduler service in the foreground until SIGTERM or Ctrl-C (SIGHUP
    re-reads the sources file)."""
    from scheduler.runlog import SCHEDULE_COLUMNS, schedule_rows
    from scheduler.service import read_config, run_service

    config = read_config(ctx.config_path)
    if not list_only:
        run_service(ctx.config_path, ctx.data_dir, ctx.watchlists_path)
        return
    with ctx.archive() as archive:
        runs = {src.id: archive.runs(src.id) for src in config.sources}
    click.echo(to_table(schedule_rows(config, runs, datetime.now(UTC)), SCHEDULE_COLUMNS))


@main.command("runs")
@click.option("--source", help="Only this source id.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_ctx
@fails_cleanly
def runs_cmd(ctx: Context, source: str | None, fmt: str) -> None:
    """Past crawl runs with their figures, oldest first."""
    from scheduler.runlog import RUN_TABLE_COLUMNS, run_record

    with ctx.archive() as archive:
        records = [run_record(row) for row in archive.runs(source)]
    if fmt == "json":
        click.echo(to_json(records))
    else:
        click.echo(to_table(records, RUN_TABLE_COLUMNS) if records else "no runs")


# --------------------------------------------------------------------------- serve


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address both servers bind (loopback by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="Port of the web interface.")
@click.option("--replay-port", type=click.IntRange(0, 65535), default=8081, show_default=True,
              help="Port of replay, a separate origin for archived pages.")
@pass_ctx
@fails_cleanly
def serve(ctx: Context, host: str, port: int, replay_port: int) -> None:
    """Serve the web interface and replay (two origins) until Ctrl-C or SIGTERM."""
    from archive.replay.app import create_replay_app
    from archive.web.app import create_app
    from archive.web.app import serve as serve_apps

    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    origin = f"http://{shown}:{replay_port}"
    ui = create_app(ctx.data_dir, ctx.config_path, origin,
                    source_rows=web_source_rows(ctx.config_path))
    replay = create_replay_app(ctx.data_dir)
    serve_apps([(ui, host, port), (replay, host, replay_port)], on_started=lambda: click.echo(
        f"web interface http://{shown}:{port}/  replay {origin}/  (Ctrl-C stops)"))


def web_source_rows(config_path: str) -> Callable[[Archive, datetime], list[dict[str, Any]]]:
    """The sources page's schedule columns (``schedule --list``), read from the sources
    file at each request, so that edits show without a restart; a broken file is shown
    as the sources found in the archive with the error as their status."""
    from scheduler.runlog import schedule_rows
    from scheduler.service import read_config

    def rows(archive: Archive, now: datetime) -> list[dict[str, Any]]:
        try:
            config = read_config(config_path)
        except (ConfigError, OSError, ValueError) as exc:
            return [{"source": s, "last_status": f"config error: {exc}"}
                    for s in sorted({r["source"] for r in archive.runs() if r["source"]})]
        runs = {src.id: archive.runs(src.id) for src in config.sources}
        names = {src.id: src.name for src in config.sources}
        return [{**row, "name": names.get(row["source"])}
                for row in schedule_rows(config, runs, now)]

    return rows


# --------------------------------------------------------------------------- demo


@main.command()
@click.option("--port", type=int, default=8765, show_default=True,
              help="Port for the sample newsroom (0: any free port).")
@pass_ctx
@fails_cleanly
def demo(ctx: Context, port: int) -> None:
    """Serve the bundled sample newsroom on 127.0.0.1, crawl it twice (an article is
    edited in between), then show a search and an article."""
    from scheduler.demo import load_newsroom

    newsroom_mod = load_newsroom()
    with newsroom_mod.Newsroom(port=port) as newsroom:
        config_path = ctx.data_dir / "newsroom-sources.toml"
        ctx.data_dir.mkdir(parents=True, exist_ok=True)
        config_path.write_text(newsroom_mod.render_sources(newsroom.base_url), encoding="utf-8")
        click.echo(f"sample newsroom at {newsroom.base_url}; config {config_path}\n")
        for edition in (1, 2):
            newsroom.edition = edition
            click.echo(f"== crawl {edition} (newsroom edition {edition})")
            _run_self(["--config", str(config_path), "--data", str(ctx.data_dir), "crawl"])
        example = newsroom_mod.DEMO_QUERY
        click.echo(f"\n== mediawatch search {example!r}")
        _run_self(["--config", str(config_path), "--data", str(ctx.data_dir), "search",
                   example, "--limit", "5"])
        click.echo("\n== mediawatch show <short URL of the edited article>")
        _run_self(["--config", str(config_path), "--data", str(ctx.data_dir), "show",
                   newsroom.base_url + newsroom_mod.DEMO_SHOW])


def _run_self(args: list[str]) -> None:
    # Each crawl needs a fresh Twisted reactor, which only a new process gives.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    result = subprocess.run([sys.executable, "-m", "scheduler.cli", *args], env=env,
                            check=False, timeout=timedelta(minutes=10).total_seconds())
    if result.returncode != 0:
        raise RuntimeError(f"mediawatch {' '.join(args)} exited {result.returncode}")


# --------------------------------------------------------------------------- alerts

ALERT_COLUMNS = ("time", "watchlist", "article", "title", "kind", "channel", "status",
                 "attempts")
SOURCE_COLUMNS = ("source", "articles", "normal_daily", "new_24h", "last_run", "last_status",
                  "flags")


def alert_lines(ctx: Context) -> list[str]:
    """After a crawl: record and deliver watchlist and source-health alerts when a
    watchlists file is configured; one line per watchlist with matches. A bad watchlists
    file or a locked database is a warning here: the crawl itself succeeded, and the
    scheduler would otherwise count the source as failing."""
    import sqlite3

    from scheduler.monitor.delivery import after_run

    try:
        watchlists = ctx.watchlists()
        if not watchlists.configured:
            return []
        with ctx.archive() as archive:
            return after_run(archive, watchlists, ctx.data_dir, datetime.now(UTC)).lines()
    except (ValueError, OSError, sqlite3.Error) as exc:
        click.echo(f"warning: alerts skipped: {exc}", err=True)
        return []


@main.command("alerts")
@click.option("--watchlist", "watchlist_name",
              help="Only this watchlist (_health: source-health alerts).")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_ctx
@fails_cleanly
def alerts_cmd(ctx: Context, watchlist_name: str | None, limit: int, fmt: str) -> None:
    """What was delivered: every delivery attempt of watchlist alerts, newest first."""
    from scheduler.monitor.alerts import list_deliveries

    with ctx.archive() as archive:
        rows = list_deliveries(archive, watchlist_name, limit)
    if fmt == "json":
        click.echo(to_json(rows))
    else:
        click.echo(to_table(rows, ALERT_COLUMNS) if rows else "no alerts delivered")


@main.command("sources")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@pass_ctx
@fails_cleanly
def sources_cmd(ctx: Context, fmt: str) -> None:
    """Each configured source: articles, normal daily volume, new in the last 24 h, last
    run and health flags."""
    from archive.store.health import check_health, health_record

    config = ctx.config()
    with ctx.archive() as archive:
        report = {h.source: h for h in check_health(archive, datetime.now(UTC))}
    rows = [{"name": src.name, **health_record(report.get(src.id), src.id)}
            for src in config.sources]
    click.echo(to_json(rows) if fmt == "json" else to_table(rows, SOURCE_COLUMNS))


# --------------------------------------------------------------------------- replay


@main.command()
@click.argument("url")
@click.option("--at", "at", help="Capture nearest this time (YYYYmmddHHMMSS or ISO date); "
              "default: the latest.")
@click.option("--raw", is_flag=True, help="Body bytes as stored to stdout (status line and "
              "headers to stderr).")
@pass_ctx
@fails_cleanly
def replay(ctx: Context, url: str, at: str | None, raw: bool) -> None:
    """Print a stored response: status line, headers, then the body."""
    from archive.replay.lookup import ReplayStore
    from archive.replay.rewrite import decode_text, is_text, response_head
    from archive.replay.rules import parse_when

    when = parse_when(at) if at else datetime.max.replace(tzinfo=UTC)
    found = ReplayStore(ctx.data_dir).lookup(url, when)
    if found is None:
        raise LookupError(f"{url}: not in the archive")
    stored, captured = found.stored, found.stored.captured
    head = response_head(stored.protocol, captured.status, stored.reason, captured.headers)
    click.echo(f"{head}", err=raw, nl=True)
    if raw:
        sys.stdout.buffer.write(captured.body)
        sys.stdout.buffer.flush()
    elif is_text(captured.content_type) or not captured.content_type:
        click.echo(decode_text(captured.body, captured.charset))
    else:
        click.echo(f"[{len(captured.body)} bytes of {captured.content_type}; use --raw]")


@main.command("import")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@fails_cleanly
def import_cmd(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Load WARC, ARC and WACZ files written by other tools into the archive."""
    from archive.warc.importer import import_files
    from crawler.ingest import ingest_files

    result = import_files(paths, ctx.warc_dir)
    with ctx.archive() as archive:
        report = ingest_files(archive, result.ready, None)
    for path in result.ready:
        click.echo(f"{path.name}: {result.records.get(path.name, 'already imported')} records")
    for line in result.errors + report.errors:
        click.echo(f"mediawatch: error: {line}", err=True)
    if result.errors or report.errors:
        sys.exit(2)


if __name__ == "__main__":
    main()
