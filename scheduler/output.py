"""What the CLI prints: rows as a text table, JSON or CSV, an article as text, a stored
response as text (pure functions returning text), and the progress bar of long commands."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from archive.web.views import csv_cell

if TYPE_CHECKING:
    from contextlib import ExitStack
    from pathlib import Path

    from archive.warc.reader import StoredResponse
    from crawler.crawl import CrawlSummary

#: ``search``'s table columns; CSV adds ``url`` and ``language``.
SEARCH_COLUMNS = ("id", "published", "source", "title", "short_url", "snippet")
#: The header fields of :func:`article_text`, in order.
ARTICLE_FIELDS = ("id", "url", "short_url", "canonical_url", "source", "published", "modified",
                  "section", "language", "authors", "tags", "body_method")


def progress_bar(length: int, label: str) -> Any:
    """A progress bar on stderr (stdout stays clean for the data), drawn only when stderr is
    a terminal: logs and pipes get no control characters."""
    return click.progressbar(length=length, label=label, file=sys.stderr,
                             hidden=not sys.stderr.isatty(), show_pos=False, show_eta=True)


def progress_once_known(stack: ExitStack, label: str) -> Callable[[int, int], None]:
    """A ``progress(done, total)`` callback for work whose total is known only once it
    starts: the bar (:func:`progress_bar`) is opened on the first call, inside ``stack``."""
    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bars:
            bars.append(stack.enter_context(progress_bar(total, label)))
        bars[0].update(done)

    return progress


def counted(rows: Iterable[Any], bar: Any) -> Iterator[Any]:
    """Yield ``rows`` unchanged, advancing the progress ``bar`` by one for each."""
    for row in rows:
        yield row
        bar.update(1)


def to_json(value: Any) -> str:
    """Pretty JSON, UTF-8 kept readable (Cyrillic and Turkish stay as letters)."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def to_jsonl(rows: Iterable[dict[str, Any]]) -> Iterable[str]:
    """One compact JSON object per line."""
    for row in rows:
        yield json.dumps(row, ensure_ascii=False, default=str)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def to_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """CSV with a header row; cells by :func:`archive.web.views.csv_cell` (lists joined
    with '; ', formulas neutralised), the same as the web export."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def to_table(rows: Sequence[dict[str, Any]], columns: Sequence[str],
             max_width: int = 60) -> str:
    """A plain aligned text table; long cells are cut with an ellipsis."""
    cells = [[_cell(r.get(c)).replace("\n", " ") for c in columns] for r in rows]
    cells = [[v if len(v) <= max_width else v[: max_width - 1] + "…" for v in row]
             for row in cells]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
              for row in cells]
    return "\n".join(lines)


def article_text(record: Mapping[str, Any]) -> str:
    """An article for reading (``show``, ``extract``): header fields, lead and body, then
    aliases, versions, the story's other outlets (its cluster) and captures."""
    lines = [record.get("title") or "(no title)", ""]
    for key in ARTICLE_FIELDS:
        value = record.get(key)
        if value and key == "published":
            value = f"{value}{_published_detail(record)}"
        if value:
            lines.append(f"{key:>13}: {'; '.join(value) if isinstance(value, list) else value}")
    if removed := record.get("removed"):
        capture = removed.get("capture")
        where = (f", evidence {capture['status']} {capture['url']} in"
                 f" {capture['warc_file']}@{capture['offset']}" if capture else "")
        lines.append(f"{'taken down':>13}: {removed['at']} ({removed['kind']}{where})")
    for flag in record.get("flags") or []:
        lines.append(f"{'date flag':>13}: {flag['flag']} (published {flag['published']},"
                     f" first seen {flag['first_seen']}, modified {flag['modified']})")
    lines += ["", record.get("lead") or "", "", record.get("body") or ""]
    if record.get("aliases"):
        lines += ["", "Aliases:"] + [f"  {a}" for a in record["aliases"]]
    if record.get("versions"):
        lines += ["", "Versions:"] + [f"  v{v['version']}  {v['fetched_at']}  {v.get('title')}"
                                      for v in record["versions"]]
    cluster = record.get("cluster") or {}
    if len(cluster.get("members") or []) > 1:
        lines += ["", f"Story across outlets (cluster {cluster['id']}, first: "
                      f"{cluster['first']}):"] + [
            f"  {m['published'] or m['first_seen']}  {m['source']}  {m['id']}  {m['title']}"
            for m in cluster["members"]]
    if record.get("captures"):
        lines += ["", "Captures:"] + [
            f"  {c['fetched_at']}  {c['status']}  {c['warc_file']}@{c['offset']}+{c['length']}"
            for c in record["captures"]]
    return "\n".join(lines)


def _published_detail(record: Mapping[str, Any]) -> str:
    """`` (local ..., precision, from origin)`` after the UTC publication time, as known."""
    parts = [f"local {record['published_local']}"] if record.get("published_local") else []
    parts += [record[k] for k in ("published_precision",) if record.get(k)]
    if record.get("published_from"):
        parts.append(f"from {record['published_from']}")
    if record.get("published_zone") and record["published_zone"] != "offset":
        parts.append(f"zone: {record['published_zone']}")
    return f" ({', '.join(parts)})" if parts else ""


def response_head(stored: StoredResponse) -> str:
    """A stored response's status line and headers (``replay``)."""
    # Imported here: the replay package loads lxml, which the other commands do not need.
    from archive.replay.rewrite import response_head as head

    captured = stored.captured
    return head(stored.protocol, captured.status, stored.reason, captured.headers)


def response_body_text(stored: StoredResponse) -> str:
    """A stored response's body as text, or a note saying how large a binary body is
    (``replay`` without ``--raw``)."""
    from archive.replay.rewrite import decode_text, is_text

    captured = stored.captured
    if is_text(captured.content_type) or not captured.content_type:
        return decode_text(captured.body, captured.charset)
    return f"[{len(captured.body)} bytes of {captured.content_type}; use --raw]"


def crawl_footer(summary: CrawlSummary, warc_dir: Path, db_path: Path) -> str:
    """The lines under ``crawl``'s table: WARC bytes written and where everything went."""
    written = sum(f.warc_bytes for f in summary.figures)
    revisits = sum(f.revisit_bytes for f in summary.figures)
    return (f"\nWARC bytes written: {written:,} ({written - revisits:,} new captures, "
            f"{revisits:,} revisit records)\n"
            f"WARC files: {warc_dir}  archive: {db_path}  log: {summary.log_file}")
