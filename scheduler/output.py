"""Render rows as a text table, JSON or CSV for the CLI (pure functions returning text), and
the progress bar of long commands."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click


def progress_bar(length: int, label: str) -> Any:
    """A progress bar on stderr (stdout stays clean for the data), drawn only when stderr is
    a terminal: logs and pipes get no control characters."""
    return click.progressbar(length=length, label=label, file=sys.stderr,
                             hidden=not sys.stderr.isatty(), show_pos=False, show_eta=True)


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
    """CSV with a header row; lists joined with '; '."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
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
