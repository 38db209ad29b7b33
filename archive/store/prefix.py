"""Articles named by the start of their id (``show 3f2a9c``, ``/articles/3f2a9c``).

Ids are hex digests (:func:`archive.store.identity.article_id`), long to type; a prefix of
at least :data:`MIN_PREFIX` characters names the article when exactly one id starts with
it. More than one is an error listing the candidates, never a guess.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from archive.store.query import QueryError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["MIN_PREFIX", "AmbiguousId", "resolve_prefix"]

MIN_PREFIX = 4
#: How many candidates an ambiguity error lists.
_LISTED = 10
_HEX = re.compile(r"[0-9a-f]+")


class AmbiguousId(QueryError):
    """An id prefix that more than one article id starts with."""

    def __init__(self, prefix: str, candidates: list[tuple[str, str | None]]):
        shown = "; ".join(f"{aid} {title or ''}".strip() for aid, title in
                          candidates[:_LISTED])
        more = ", …" if len(candidates) > _LISTED else ""
        super().__init__(f"ambiguous id prefix {prefix!r}: {shown}{more}")
        self.prefix = prefix
        self.candidates = [aid for aid, _ in candidates[:_LISTED]]


def resolve_prefix(conn: sqlite3.Connection, text: str) -> str | None:
    """The one article id starting with ``text`` (lower-cased hex, at least
    :data:`MIN_PREFIX` characters), None when none does or ``text`` is not such a prefix;
    :class:`AmbiguousId` when several do. A range scan of the id index."""
    prefix = text.strip().lower()
    if len(prefix) < MIN_PREFIX or not _HEX.fullmatch(prefix):
        return None
    # Every id is hex, and "g" sorts after every hex digit: [prefix, prefix + "g") holds
    # exactly the ids that start with prefix.
    rows = conn.execute("SELECT id, title FROM articles WHERE id >= ? AND id < ? ORDER BY id"
                        " LIMIT ?", [prefix, prefix + "g", _LISTED + 1]).fetchall()
    if len(rows) > 1:
        raise AmbiguousId(prefix, [(r[0], r[1]) for r in rows])
    return str(rows[0][0]) if rows else None
