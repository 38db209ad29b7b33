"""The cluster commands: ``worker``, ``cluster``, and what ``crawl --cluster`` calls.

Kept out of :mod:`scheduler.cli` and added to its group by :func:`register`; a few lines
each over :mod:`scheduler.cluster`. The cluster mode is on when the sources file has
``[cluster] redis_url`` or ``MEDIAWATCH_REDIS_URL`` is set (:mod:`archive.config.cluster`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from scheduler.errors import CommandError
from scheduler.output import to_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from archive.config.cluster import ClusterSettings
    from archive.config.sources import Config, Source
    from scheduler.cli import Context

__all__ = ["cluster", "cluster_round", "enqueue_now", "register", "settings_of", "worker"]


def settings_of(ctx: Context) -> ClusterSettings:
    """The cluster settings in force (the sources file's, if there is one, with the
    environment applied); :class:`CommandError` when no Redis is configured."""
    from archive.config.cluster import REDIS_ENV, ClusterSettings

    base = ctx.config().cluster if Path(ctx.config_path).exists() else ClusterSettings()
    settings = base.from_environment()
    if not settings.enabled:
        raise CommandError(f"no cluster configured: set [cluster] redis_url in "
                           f"{ctx.config_path} or {REDIS_ENV}")
    return settings


def cluster_round(config: Config | None, warc_dir: Path,
                  db_path: Path) -> Callable[[], None] | None:
    """What ``ingest --follow`` runs before each round in cluster mode (object store,
    orphaned ``.open`` files: :mod:`scheduler.cluster.ingestside`); None otherwise."""
    from archive.config.cluster import ClusterSettings
    from scheduler.cluster.ingestside import before_round

    base = config.cluster if config is not None else ClusterSettings()
    return before_round(base.from_environment(), warc_dir, db_path)


def enqueue_now(ctx: Context, sources: list[Source], scheduled: bool = False) -> None:
    """``crawl --cluster``: one job per source, each with its crawl-state snapshot."""
    from scheduler.cluster import connect
    from scheduler.cluster.enqueue import enqueue_crawls

    settings = settings_of(ctx)
    for done in enqueue_crawls(connect(settings.redis_url or ""), settings, ctx.config(),
                               sources, ctx.db_path, scheduled=scheduled):
        click.echo(done.line())


@click.command()
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Crawls run at once by this worker (one process each).")
@click.option("--warcs", "warcs", type=click.Path(file_okay=False, path_type=Path),
              help="The shared WARC directory the ingest reads; this worker writes into "
                   "its own sub-folder [default: <data>/warcs].")
@click.pass_obj
def worker(ctx: Context, concurrency: int, warcs: Path | None) -> None:
    """Run crawl jobs from the cluster's Redis queue until SIGTERM or Ctrl-C. Never opens
    archive.db: each job brings its crawl state; WARC files go to the shared directory."""
    import signal
    import threading
    from contextlib import suppress

    from scheduler.cluster.worker import run_workers

    settings = settings_of(ctx)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # both: each crawl finishes, then exit
        signal.signal(sig, lambda *_: stop.set())
    with suppress(KeyboardInterrupt):
        click.echo(f"worker: {concurrency} process(es) on queue {settings.queue!r}; "
                   f"WARC files to {warcs or ctx.warc_dir}")
        run_workers(settings, ctx.data_dir, warcs or ctx.warc_dir, concurrency, stop,
                    on_event=click.echo)
    stop.set()


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_obj
def cluster(ctx: Context, fmt: str) -> None:
    """The cluster now: workers, queued, running and failed crawl jobs, and the ingest
    backlog (closed WARC files not loaded yet)."""
    from scheduler.cluster import connect
    from scheduler.cluster.status import cluster_status

    settings = settings_of(ctx)
    status = cluster_status(connect(settings.redis_url or ""), settings.queue,
                            ctx.warc_dir, ctx.db_path, warc_store=settings.warc_store)
    if fmt == "json":
        click.echo(json.dumps(status.as_json(), indent=2, default=str))
        return
    click.echo(f"workers: {len(status.workers)}")
    if status.workers:
        click.echo(to_table(status.workers, ["worker", "state", "source", "heartbeat",
                                             "done", "failed"]))
    for title, rows in (("queued", status.queued), ("running", status.running),
                        ("failed", status.failed)):
        click.echo(f"{title}: {len(rows)}")
        if rows:
            click.echo(to_table(rows, ["job", "source", "worker", "enqueued", "started",
                                       "retries_left", "error"]))
    click.echo(f"ingest backlog: {status.backlog_files} closed WARC file(s), "
               f"{status.backlog_bytes:,} bytes; {status.open_files} still open")
    if status.store_backlog is not None:
        click.echo(f"object store {settings.warc_store}: {status.store_backlog[0]} file(s), "
                   f"{status.store_backlog[1]:,} bytes not loaded yet")


def register(group: click.Group) -> None:
    """Add the cluster commands to the ``mediawatch`` group."""
    for command in (worker, cluster):
        group.add_command(command)
