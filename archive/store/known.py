"""Whether a ``source`` or ``lang`` filter names anything in the archive.

A misspelt source id or language code would otherwise give an empty result that looks
like "nothing was written": the CLI (exit 2) and the web (400) say so instead. Checked in
the full-text index's filter column (one index probe each, fast at a million articles).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.store.query import QueryError
from archive.store.schema import FTS_TABLE, filter_tokens
from archive.store.search import filter_clauses

if TYPE_CHECKING:
    import sqlite3

__all__ = ["check_known", "known_values"]

# How many known values an error message lists.
_LISTED = 12


def _present(conn: sqlite3.Connection, token: str) -> bool:
    row = conn.execute(f"SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? LIMIT 1",
                       [f'"{token}"']).fetchone()
    return row is not None


def known_values(conn: sqlite3.Connection, column: str) -> list[str]:
    """The distinct ``source`` or ``language`` values of the archive (for messages and the
    search form's choices), sorted; languages by their primary subtag too."""
    if column not in ("source", "language"):
        raise ValueError(f"not a filter column: {column}")
    values = [r[0] for r in conn.execute(
        f"SELECT DISTINCT {column} FROM articles WHERE {column} IS NOT NULL")]
    if column == "language":
        values += [v.split("-")[0] for v in values]
    return sorted({v.lower() if column == "language" else v for v in values})


def check_known(conn: sqlite3.Connection, *, source: str | None = None,
                language: str | None = None) -> None:
    """Raise :class:`QueryError` naming the known values when ``source`` or ``language``
    (``en`` also matches ``en-GB``) matches no article of the archive; a language that is
    not a code at all keeps its own message (:func:`archive.store.search.filter_clauses`)."""
    if language:
        filter_clauses(language=language)
    for column, value, token in (
            ("source", source, filter_tokens(source=source.strip()) if source else None),
            ("language", language,
             filter_tokens(language=language.strip().lower()) if language else None)):
        if not value or not token or _present(conn, token[0]):
            continue
        known = known_values(conn, column)
        listed = ", ".join(known[:_LISTED]) + (", …" if len(known) > _LISTED else "")
        flag = "source" if column == "source" else "lang"
        raise QueryError(f"unknown {flag} {value.strip()[:40]!r} (the archive has: "
                         f"{listed or 'none'})")
