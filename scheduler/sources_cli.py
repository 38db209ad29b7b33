"""``mediawatch sources``: each source's health, or with ``--check`` whether its current
profile still parses its newest capture (:mod:`crawler.profilecheck`).

Kept out of :mod:`scheduler.cli` (which stays under 500 lines) and added to its group by
:func:`register`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from scheduler.errors import CommandError
from scheduler.output import to_json, to_table

if TYPE_CHECKING:
    from archive.config.sources import Source
    from scheduler.cli import Context

__all__ = ["register"]


@click.command("sources")
@click.argument("source_ids", nargs=-1)
@click.option("--check", is_flag=True, help="Re-extract each source's newest capture with its "
              "current profile and flag fields lost against its last 20 articles; exit "
              "code 1 when a source is flagged.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_obj
def sources_cmd(ctx: Context, source_ids: tuple[str, ...], check: bool, fmt: str) -> None:
    """Each configured source (or the SOURCE_IDS named): articles, normal daily volume, new
    in the last 24 h, last run and health flags; with --check, the profile check."""
    config = ctx.config()
    sources = [config.source(s) for s in source_ids] if source_ids else list(config.sources)
    if check:
        _check(ctx, sources, fmt)
        return
    from scheduler.monitor.health import SOURCE_COLUMNS, source_rows

    wanted = {s.id for s in sources}
    with ctx.reader() as archive:
        rows = [r for r in source_rows(config, archive, datetime.now(UTC))
                if r["source"] in wanted]
    click.echo(to_json(rows) if fmt == "json" else to_table(rows, SOURCE_COLUMNS))


def _check(ctx: Context, sources: list[Source], fmt: str) -> None:
    from crawler.profilecheck import CHECK_COLUMNS, check_sources

    with ctx.reader() as archive:
        checks = check_sources(archive, ctx.warc_dir, sources, ctx.max_page_size())
    if fmt == "json":
        click.echo(to_json([c.row() for c in checks]))
    else:
        click.echo(to_table([c.table_row() for c in checks], CHECK_COLUMNS, max_width=120))
    flagged = [c.source for c in checks if c.flagged]
    if flagged:
        raise CommandError(f"profile check: {len(flagged)} source(s) lost fields: "
                           f"{', '.join(flagged)}", exit_code=1)


def register(group: click.Group) -> None:
    """Add ``sources`` to the ``mediawatch`` group."""
    group.add_command(sources_cmd)
