"""The edit commands: ``mediawatch diff`` and ``mediawatch edits``.

Kept out of :mod:`scheduler.cli` (which stays under 500 lines) and added to its group by
:func:`register`. A few lines over :mod:`archive.diffs` (the classifier) and
:mod:`archive.store.edits` (the versions it reads); errors become one line and an exit code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from archive.diffs import KINDS, Segment, changes, field_diffs
from archive.store.edits import DATE_FLAGS
from scheduler.errors import NotFound
from scheduler.output import to_json, to_table

if TYPE_CHECKING:
    from scheduler.cli import Context

__all__ = ["diff_text", "register", "segments_text"]


def segments_text(segments: list[Segment]) -> str:
    """A word diff as plain text, like ``git diff --word-diff=plain``: ``[-old-]{+new+}``."""
    marks = {"=": "{}", "-": "[-{}-]", "+": "{{+{}+}}"}
    return "".join(marks[op].format(text) for op, text in segments)


def diff_text(record: dict[str, Any]) -> str:
    """The text form of ``mediawatch diff``: the changes, one a line, then the word diff of
    each changed field."""
    lines = [f"{record['id']}  v{record['from']['version']} ({record['from']['fetched_at']})"
             f" -> v{record['to']['version']} ({record['to']['fetched_at']})",
             f"kinds: {', '.join(record['kinds']) or 'none'}", ""]
    for c in record["changes"]:
        where = "+".join(c["fields"])
        lines.append(f"[{c['kind']}] {where}: {c['old'] or '-'!r} -> {c['new'] or '-'!r}")
    for name, segments in record["words"].items():
        lines += ["", f"== {name}", segments_text(segments)]
    return "\n".join(lines)


@click.command()
@click.argument("url_or_id")
@click.option("--from", "start", type=click.IntRange(1), help="Old version [default: the "
              "one before --to].")
@click.option("--to", "end", type=click.IntRange(1), help="New version [default: the latest].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.pass_obj
def diff(ctx: Context, url_or_id: str, start: int | None, end: int | None, fmt: str) -> None:
    """Word-level diff of title, lead and body between two versions of an article (default:
    the last two), each change classified (headline, date, number, quote, entity,
    paragraph_added, paragraph_removed, text)."""
    from archive.store.edits import VersionError, version_pair

    with ctx.reader() as archive:
        aid = archive.resolve(url_or_id)
        if aid is None:
            raise NotFound(f"no article known under {url_or_id!r}")
        latest = archive.db.execute("SELECT version FROM articles WHERE id = ?",
                                    [aid]).fetchone()[0]
        try:
            old, new = version_pair(archive.db.conn, aid, latest, start, end)
        except VersionError as exc:
            raise click.UsageError(str(exc)) from None
    found = changes(old, new)
    record = {"id": aid, "url": new["url"],
              "from": {k: old[k] for k in ("version", "fetched_at")},
              "to": {k: new[k] for k in ("version", "fetched_at")},
              "kinds": sorted({c.kind for c in found}, key=KINDS.index),
              "changes": [c.as_dict() for c in found],
              "words": {f.name: f.segments for f in field_diffs(old, new)}}
    if fmt == "json":
        click.echo(to_json(record))
    else:
        click.echo(diff_text(record))


@click.command()
@click.option("--since", help="Only edits fetched (takedowns: seen) on or after: YYYY-MM-DD, "
              "ISO time, today, yesterday, or back from now: 24h, 7d.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="Only edits with a change of this kind (repeatable).")
@click.option("--source", help="Only this source id.")
@click.option("--dates", is_flag=True, help="Instead: date-integrity flags (backdated: "
              "published after the archive first saw the story; silent_restamp: modified "
              "moved with no text change).")
@click.option("--flag", "flags", multiple=True, type=click.Choice(DATE_FLAGS),
              help="With --dates: only this flag (repeatable).")
@click.option("--takedowns", is_flag=True, help="Instead: articles taken down (404/410, "
              "redirect to the front or a section page, soft 404), with the evidence.")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.pass_obj
def edits(ctx: Context, since: str | None, kinds: tuple[str, ...], source: str | None,
          dates: bool, flags: tuple[str, ...], takedowns: bool, limit: int, fmt: str) -> None:
    """The archive's recent edits (every version after the first), newest first, each with
    the kinds of its changes; with --dates, the articles whose dates do not hold up; with
    --takedowns, the articles taken down."""
    from archive.store import edits as store
    from scheduler.cli import parse_day

    if dates and takedowns:
        raise click.UsageError("--dates and --takedowns are different lists: give one")
    if dates and (since or kinds):
        raise click.UsageError("--dates takes --flag, --source and --limit only")
    if flags and not dates:
        raise click.UsageError("--flag needs --dates")
    if takedowns and kinds:
        raise click.UsageError("--takedowns takes --since, --source and --limit only")
    with ctx.reader() as archive:
        if source:
            from archive.store.known import check_known

            check_known(archive.db.conn, source=source)
        conn = archive.db.conn
        columns: tuple[str, ...]
        if dates:
            rows = store.date_flags(conn, source=source, flags=flags, limit=limit)
            columns, empty = store.DATE_FLAG_COLUMNS, "no date flags"
        elif takedowns:
            rows = store.takedowns(conn, since=parse_day(since), source=source, limit=limit)
            columns, empty = store.TAKEDOWN_COLUMNS, "no takedowns"
        else:
            rows = list(store.recent_edits(conn, since=parse_day(since), source=source,
                                           kinds=kinds, limit=limit))
            columns, empty = store.EDIT_COLUMNS, "no edits"
    if fmt == "json":
        click.echo(to_json(rows))
    elif rows:
        click.echo(to_table([{**r, "kinds": ", ".join(r.get("kinds", []))} for r in rows],
                            columns))
    else:
        click.echo(empty)


def register(group: click.Group) -> None:
    """Add the edit commands to the ``mediawatch`` group."""
    group.add_command(diff)
    group.add_command(edits)
