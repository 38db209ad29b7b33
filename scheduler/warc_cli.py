"""The commands over the WARC files: ``reindex``, ``ingest``, ``import`` and ``replay``.

Kept out of :mod:`scheduler.cli` (which stays under 500 lines) and added to its group by
:func:`register`. Like every command, a few lines over library calls (:mod:`crawler.ingest`,
:mod:`archive.warc.importer`, :mod:`archive.replay`); errors become one line and an exit
code at the edge (:mod:`scheduler.errors`).
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.errors import NotFound
from scheduler.output import progress_bar, response_body_text, response_head

if TYPE_CHECKING:
    from crawler.ingest import IngestReport
    from scheduler.cli import Context

__all__ = ["import_cmd", "import_summary", "ingest", "register", "reindex", "replay"]


@click.command()
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="While crawls or ingests are writing to the archive: wait for them, or "
                   "refuse at once.")
@click.pass_obj
def reindex(ctx: Context, wait: bool) -> None:
    """Rebuild archive.db from the WARC files alone (offline). Run logs are kept.

    Crawls started meanwhile wait for it; WARC files closed meanwhile are loaded too."""
    from archive.store.writerlock import ArchiveBusy
    from archive.warc.reader import list_warcs
    from crawler.reindex import rebuild
    from scheduler.errors import CommandError

    config = ctx.config() if Path(ctx.config_path).exists() else None
    total = sum(p.stat().st_size for p in list_warcs(ctx.warc_dir))

    def waiting() -> None:
        click.echo(f"waiting for the crawls and ingests writing to {ctx.db_path} to finish",
                   err=True)
    try:
        with progress_bar(total, "reindexing WARC files") as bar:
            report = rebuild(ctx.db_path, ctx.warc_dir, config, progress=bar.update,
                             wait=wait, on_wait=waiting)
    except ArchiveBusy:
        raise CommandError(f"{ctx.db_path} is being written by a crawl or an ingest; run "
                           "reindex again when it has finished, or without --no-wait") from None
    _echo_report("reindexed", report)


@click.command()
@click.option("--follow", is_flag=True,
              help="Keep watching the WARC folder and load files as they close, until "
                   "SIGTERM or Ctrl-C.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              help="With --follow: seconds between looks at the WARC folder.")
@click.pass_obj
def ingest(ctx: Context, follow: bool, interval: float) -> None:
    """Load every closed WARC file in the data folder that is not completely loaded yet
    (left by a killed crawl or ingest, or written with ingest off); a half-loaded file is
    finished, never duplicated."""
    import signal
    import threading
    from contextlib import suppress

    from crawler.ingest import follow as follow_dir
    from crawler.ingest import ingest_new, pending_files
    from scheduler.cluster_cli import cluster_round
    from scheduler.evidence_cli import stamp_pending_files

    config = ctx.config() if Path(ctx.config_path).exists() else None

    def summary(report: IngestReport) -> None:
        _echo_report("ingested", report)
        stamp_pending_files(ctx, config)  # [evidence] tsa_url: tokens the TSA still owes
        if follow:  # cluster workers deliver no alerts: the ingest that loads their files does
            from scheduler.monitor.delivery import alert_lines

            for line in alert_lines(ctx.data_dir, ctx.watchlists_path, datetime.now(UTC),
                                    warn=lambda message: click.echo(message, err=True)):
                click.echo(line)

    cluster = cluster_round(config, ctx.warc_dir, ctx.db_path)  # None on one machine
    if not follow:
        if cluster is not None:
            cluster()
        with ctx.archive() as archive:
            total = sum(p.stat().st_size for p in pending_files(archive, ctx.warc_dir))
            with progress_bar(total, "loading WARC files") as bar:
                summary(ingest_new(archive, ctx.warc_dir, config, progress=bar.update))
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C: the batch in progress is rolled back, so the ledger stays consistent.
    with suppress(KeyboardInterrupt):
        follow_dir(ctx.db_path, ctx.warc_dir, config, stop, interval, summary,
                   before_round=cluster)


@click.command()
@click.argument("url")
@click.option("--at", "at", help="Capture nearest this time (YYYYmmddHHMMSS, ISO date, or "
              "back from now: 24h, 7d, yesterday); default: the latest.")
@click.option("--raw", is_flag=True, help="Body bytes as stored to stdout (status line and "
              "headers to stderr).")
@click.option("--info", is_flag=True, help="Print the capture it would serve as JSON "
              "(WARC file, offset, length, record id, payload digest, and for a revisit the "
              "capture it resolves to) instead of the response.")
@click.pass_obj
def replay(ctx: Context, url: str, at: str | None, raw: bool, info: bool) -> None:
    """Print a stored response: status line and headers as stored, then the body (a
    revisit's body is that of the capture it repeats)."""
    import json

    from archive.replay.info import capture_info, distance_note
    from archive.replay.lookup import ReplayStore
    from archive.replay.rules import parse_when
    from archive.times import parse_moment, utc_text

    try:
        when = parse_when(at) if at else datetime.max.replace(tzinfo=UTC)
    except ValueError as exc:  # parse_when signals a bad timestamp with a bare ValueError
        try:  # a relative time (24h, 7d, yesterday): the moment it names, now
            when = parse_moment(at or "", datetime.now(UTC))
        except ValueError:
            raise click.BadParameter(str(exc), param_hint="'--at'") from None
        at = utc_text(when)
    found = ReplayStore(ctx.data_dir, ctx.max_page_size()).lookup(url, when)
    if found is None:
        raise NotFound(f"{url}: not in the archive")
    if at and (note := distance_note(at, found.capture.fetched_at)):
        click.echo(note, err=True)
    if info:
        click.echo(json.dumps(capture_info(found), indent=2))
        return
    # A revisit's own status line (304 Not Modified) and headers, when it stores them.
    stored_head = found.record if found.record and found.record.captured.status else None
    click.echo(response_head(stored_head or found.stored), err=raw)
    if raw:
        sys.stdout.buffer.write(found.stored.captured.body)
        sys.stdout.buffer.flush()
    else:
        click.echo(response_body_text(found.stored))


@click.command("import")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source", default="import", show_default=True,
              help="Source id of the imported pages (records without mediawatch metadata); "
                   "kept in the imported file's name, so reindex gives it again.")
@click.pass_obj
def import_cmd(ctx: Context, paths: tuple[Path, ...], source: str) -> None:
    """Load WARC, ARC and WACZ files written by other tools into the archive: every HTML
    page the page-type rules accept becomes a searchable article."""
    from archive.warc.importer import check_source_id, import_files
    from crawler.ingest import ingest_files
    from scheduler.evidence_cli import tsa_roots

    try:
        check_source_id(source)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--source'") from None
    config = ctx.config() if Path(ctx.config_path).exists() else None
    max_payload = ctx.max_page_size()
    result = import_files(paths, ctx.warc_dir, max_payload, source=source,
                          now=datetime.now(UTC), roots=tsa_roots(ctx, None))
    with ctx.archive() as archive:
        # All files in one ingest, in the order reindex takes them, with the config as
        # reindex uses it: reindex gives the same archive.
        report = ingest_files(archive, result.ready, config, max_payload=max_payload)
    first: dict[Path, str] = {}  # WARC file -> the input it was loaded from
    for given, files in result.inputs.items():
        if not files:
            continue  # refused: its line is in result.errors
        if earlier := next((first[f] for f in files if f in first), None):
            click.echo(f"{given}: same content as {earlier}; nothing new")
            continue
        first.update(dict.fromkeys(files, given))
        verdict = result.verdicts.get(given)  # a WACZ: what verifying it found
        click.echo(import_summary(given, files, report,
                                  verdict.line().removeprefix(f"{given}: ") if verdict else None))
    names = {f.name: given for given, files in result.inputs.items() for f in files}
    _echo_notices([_given_name(line, names) for line in report.notices])
    errors = result.errors + report.errors
    for line in errors:
        click.echo(f"mediawatch: error: {line}", err=True)
    if errors:
        sys.exit(2)


def _echo_report(done: str, report: IngestReport) -> None:
    """The one-line summary of an ingest or reindex, then its errors and notices."""
    click.echo(f"{done} {len(report.files)} WARC file(s): "
               f"{report.total('inserted')} articles, {report.total('updated')} updates, "
               f"{report.total('duplicate')} duplicates, {len(report.errors)} error(s)")
    for error in report.errors[:10]:
        click.echo(f"warning: {error}", err=True)
    _echo_notices(report.notices)


def _echo_notices(notices: list[str], limit: int = 10) -> None:
    """Problems of records that were still loaded (warcio's warnings, once each, without
    the file's bytes: archive/warc/notices.py), at most ``limit`` lines on stderr."""
    for line in notices[:limit]:
        click.echo(f"notice: {line}", err=True)
    if len(notices) > limit:
        click.echo(f"notice: ... and {len(notices) - limit} more (see the log)", err=True)


def _given_name(line: str, names: dict[str, str]) -> str:
    """``line`` about an imported WARC file, naming the input file the user gave instead."""
    name, sep, rest = line.partition(": ")
    return f"{names[name]}: {rest}" if sep and name in names else line


def import_summary(given: str, files: list[Path], report: IngestReport,
                   verified: str | None = None) -> str:
    """The line ``import`` prints for one input file: the records, articles and
    non-articles it loaded, the WARC file(s) it became in the archive and, for a WACZ,
    what verifying it found (``verified``)."""
    names = ", ".join(f.name for f in files)
    if not any(f.name in report.files for f in files):
        return f"{given}: already imported as {names}; nothing new"
    counts: Counter[str] = sum((report.records[f.name] for f in files), Counter())
    records, articles = counts["records"], counts["article"]
    return (f"{given}: {records} records, {articles} articles ({counts['inserted']} new), "
            f"{records - articles} non-articles ({counts['not_article']} HTML pages the "
            f"page-type rules refused) -> {names}"
            + (f"; verify: {verified}" if verified is not None else ""))


def register(group: click.Group) -> None:
    """Add the WARC-file commands to the ``mediawatch`` group."""
    for command in (reindex, ingest, import_cmd, replay):
        group.add_command(command)
