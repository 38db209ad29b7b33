"""Full-text search over the archive: query building (pure) and execution.

The query language (what a user types) is :mod:`archive.store.query`. A result set is a
:class:`Filters` value (search text plus filters); :class:`SearchQuery` is one page of it.
The SQL is built by pure functions (``*_sql``, returning SQL and parameters) and executed
by :func:`search` and :func:`count`, which take an :class:`~archive.store.db.Archive`, its
sqlite-utils ``Database`` or a ``sqlite3`` connection.

Results (:func:`search_sql`): designed for a million articles
------------------------------------------------------------
Article rowids follow their date (:func:`archive.store.schema.date_key`), so FTS5 can walk a
query's matches newest first and stop as soon as a page is full, however common the words:

* ``newest``: the page is read straight off the index in rowid order (date order); the
  cost is the page, not the number of matches. Filters on source and language are checked
  while walking; date filters become a rowid range, so FTS5 never visits other years.
* ``relevance``: bm25 (column weights title 10, lead 4, body 1; ``rank``: lower is
  better) ranks the **newest** :data:`RANK_WINDOW` matches (or ``offset + limit`` when
  paging further), not all of them: a query matching 300,000 articles is ranked among its
  2,000 most recent ones, which is what a news archive's reader expects, and costs the
  same as one matching 2,000. :func:`search_page` says so in ``ranked_within``. Use a
  date range to rank an older period. The window is ranked by :mod:`archive.store.ranking`
  (bm25's formula with the phrases' IDF counted within the window, through APSW): FTS5's
  own ``bm25()`` counts each phrase's matches in the whole index first, which the window
  does not bound. Where no ranking connection can be used (an in-memory database, a
  connection inside a transaction), ``bm25()`` ranks inside the query.
* Snippets are computed only for the page returned: from the body when the body contains a
  hit, else from the lead, else from the title, hits in ``[``/``]``, ``…`` for cut text.
* :func:`count` is exact up to :data:`COUNT_CAP` matches, and says "more" beyond (counting
  a term in half the archive would cost more than the search itself).

Names in every script (:mod:`archive.store.names`): unless ``exact``, each term of the
text is widened into the OR of the indexed words sharing its folded key (``Shoigu`` ->
``shoigu OR шойгу OR soygu ...``), their inflected forms and the spellings of a gazetteer
entity it names (:func:`expansions`); the SQL builders take the widening as a value
(``widened``, or :attr:`Filters.widened` set by :func:`widen`), so they stay pure. Snippets
mark the words as the article spells them. ``entities`` keeps the articles that mention
every gazetteer entity named: one filter token each in the index, like a source.

The date of an article for ``since``/``until`` (inclusive, exclusive) and ``newest`` is its
published time, or its first capture when the page had none, as it was when the article was
first stored. A day-only publication date counts as that whole (UTC) day: it matches any
range that overlaps the day. ``language`` matches the primary subtag too (``en`` finds ``en-GB``);
``tag`` one of the article's tags, ignoring case.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import apsw

from archive.store import ranking
from archive.store.query import (
    FTS_COLUMNS,
    QueryError,
    fts_expression,
    query_prefixes,
    query_terms,
)
from archive.store.schema import DATE_INDEX, FTS_TABLE, date_key, filter_tokens
from archive.times import utc_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

log = logging.getLogger(__name__)

__all__ = [
    "COUNT_CAP",
    "RANK_WINDOW",
    "SORTS",
    "Filters",
    "QueryError",  # re-exported from archive.store.query
    "SearchPage",
    "SearchQuery",
    "count",
    "count_sql",
    "day_bound_sql",
    "expansions",
    "filter_clauses",
    "fts_expression",  # re-exported from archive.store.query
    "match_expression",
    "search",
    "search_page",
    "search_sql",
    "where_sql",
    "widen",
    "widened_match",
    "window_sql",
]

SORTS = ("relevance", "newest")
MAX_LIMIT = 1000
_LANGUAGE = re.compile(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8})*")
_SNIPPET_TOKENS = 12
#: Relevance ranks this many of the newest matches (module docstring).
RANK_WINDOW = 2000
#: Counts are exact up to this many matches.
COUNT_CAP = 10_000


@dataclass(frozen=True, slots=True)
class Filters:
    """A result set: full-text ``text`` (None: all articles) and filters.

    ``since``/``until`` must be timezone-aware.
    """

    text: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    tag: str | None = None
    entities: tuple[str, ...] = ()
    exact: bool = False
    #: The widened terms (:func:`widen`), carried so that every SQL built from this result
    #: set (counts, facets, export) matches what the search matched.
    widened: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search: the text (see the module docstring), filters, order and page.

    ``since``/``until`` must be timezone-aware; ``sort`` is ``relevance`` or ``newest``.
    """

    text: str
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    sort: str = "relevance"
    limit: int = 20
    offset: int = 0
    tag: str | None = None
    entities: tuple[str, ...] = ()
    exact: bool = False

    @property
    def filters(self) -> Filters:
        """The result set this query is a page of."""
        return Filters(text=self.text, source=self.source, since=self.since,
                       until=self.until, language=self.language, tag=self.tag,
                       entities=self.entities, exact=self.exact)


#: ``articles AS a`` for a query that reads only its dates: through
#: :data:`~archive.store.schema.DATE_INDEX` (the planner would take the row itself, and
#: read past the body to the dates).
_DATES = f"articles AS a INDEXED BY {DATE_INDEX}"


def _date_expr() -> str:
    return "coalesce(a.published, a.first_seen)"


def day_bound_sql(date: str, bound: str) -> str:
    """SQL of ``date`` (a stored date expression) as compared with a range ``bound``:
    ``since`` compares a day-only date (bare ``YYYY-MM-DD``) by the day's last second,
    ``until`` by its first, so that a day matches every range that overlaps it (pure)."""
    day_as = "T23:59:59Z" if bound == "since" else "T00:00:00Z"
    return f"(CASE WHEN length({date}) = 10 THEN {date} || '{day_as}' ELSE {date} END)"


def filter_clauses(*, source: str | None = None, language: str | None = None,
                   tag: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, rowid: str = f"{FTS_TABLE}.rowid",
                   entities: tuple[str, ...] = ()
                   ) -> tuple[list[str], list[str], dict[str, Any]]:
    """The filters a search and a facet count share (pure): FTS5 expressions on the
    filter column (source, language, tag: matched inside the index), SQL conditions on
    ``articles AS a`` (dates) and their parameters.

    ``rowid`` is the date-ordered rowid column the query walks: date bounds also become a
    range on it, which keeps FTS5 (or the primary key) inside the dates. Each of
    ``entities`` (gazetteer ids) must be mentioned by the article: an index token too
    (:data:`~archive.store.schema.ENTITY_COLUMN`).
    Raises :class:`QueryError` for a bad language code or a naive date.
    """
    code = None
    if language:
        code = language.strip().lower()
        if not _LANGUAGE.fullmatch(code):
            raise QueryError(f"not a language code: {language!r}")
    matches = [f'"{token}"' for token in filter_tokens(
        source, code, tag.strip() if tag else None, dict.fromkeys(entities))]
    clauses: list[str] = []
    params: dict[str, Any] = {}
    # A day-only date (stored as bare YYYY-MM-DD) is the whole day: it matches when the
    # day overlaps [since, until). Its rowid is the day's first second, so the rowid bound
    # of ``since`` starts at the day of ``since``.
    for name, op, value in (("since", ">=", since), ("until", "<", until)):
        if value is None:
            continue
        params[name] = utc_text(value, name, QueryError)
        clauses.append(f"{day_bound_sql(_date_expr(), name)} {op} :{name}")
        params[f"{name}_key"] = date_key(params[name][:10] if name == "since" else params[name])
        clauses.append(f"{rowid} {op} :{name}_key")
    return matches, clauses, params


def match_expression(text: str | None, filters: list[str],
                     widened: Mapping[str, tuple[str, ...]] | None = None) -> str | None:
    """The FTS5 expression of a query's text (its terms ``widened``: :func:`expansions`)
    and filter tokens.

    The text is not restricted to the text columns with a column filter: that would make
    FTS5 decode every position list it visits (half the cost of a common term); the
    filter column holds only hex tokens no word can match.
    """
    expand = widened.get if widened else None
    parts = [f"({fts_expression(text, expand)})"] if text is not None else []
    return " AND ".join(parts + filters) or None


def _filters(q: SearchQuery, widened: Mapping[str, tuple[str, ...]] | None
             ) -> tuple[str, str, dict[str, Any]]:
    """The MATCH expression of ``q`` and its other WHERE conditions with parameters."""
    matches, clauses, params = filter_clauses(
        source=q.source, language=q.language, tag=q.tag, since=q.since, until=q.until,
        entities=q.entities)
    match = match_expression(q.text, matches, widened)
    assert match is not None
    return match, "".join(f"\n    AND {clause}" for clause in clauses), params


def _snippet(column: int) -> str:
    return f"snippet({FTS_TABLE}, {column}, char(2), char(3), '…', {_SNIPPET_TOKENS})"


def _snippet_expr() -> str:
    # Marked with control characters first to tell whether a column has a hit at all.
    body, lead, title = (_snippet(FTS_COLUMNS.index(c)) for c in ("body", "lead", "title"))
    choice = (
        f"CASE WHEN instr({body}, char(2)) THEN {body}"
        f" WHEN instr({lead}, char(2)) THEN {lead}"
        f" WHEN instr({title}, char(2)) THEN {title} ELSE {body} END"
    )
    return f"replace(replace({choice}, char(2), '['), char(3), ']')"


def _check_page(q: SearchQuery) -> None:
    if not 0 < q.limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {q.limit}")
    if q.offset < 0:
        raise QueryError(f"offset must not be negative, got {q.offset}")
    if q.sort not in SORTS:
        raise QueryError(f"unknown sort {q.sort!r}: use one of {', '.join(SORTS)}")


def rank_window(q: SearchQuery) -> int:
    """How many of the newest matches a relevance search ranks (module docstring)."""
    return max(RANK_WINDOW, q.offset + q.limit)


def _walk(q: SearchQuery, widened: Mapping[str, tuple[str, ...]] | None
          ) -> tuple[str, dict[str, Any]]:
    """``FROM ... WHERE ... ORDER BY`` walking the matches of ``q`` newest first, and its
    parameters. The articles are joined only for conditions on them (dates): every index
    row has one (the triggers), and a look-up per match is what a relevance window would
    pay for."""
    match, filters, params = _filters(q, widened)
    joined = f" JOIN {_DATES} ON a.pk = {FTS_TABLE}.rowid" if filters else ""
    params["match"] = match
    return f"""FROM {FTS_TABLE}{joined}
  WHERE {FTS_TABLE} MATCH :match{filters}
  ORDER BY {FTS_TABLE}.rowid DESC""", params


def window_sql(q: SearchQuery, widened: Mapping[str, tuple[str, ...]] | None = None
               ) -> tuple[str, dict[str, Any]]:
    """SQL and parameters of the relevance window of ``q`` (pure): the newest
    :func:`rank_window` matches, columns ``pk`` and ``weights``
    (:func:`archive.store.ranking.phrase_weights`, which only a ranking connection has)."""
    _check_page(q)
    walk, params = _walk(q, widened)
    params["window"] = rank_window(q)
    return (f"SELECT {FTS_TABLE}.rowid AS pk, {ranking.FUNCTION}({FTS_TABLE}) AS weights\n"
            f"  {walk}\n  LIMIT :window"), params


def search_sql(q: SearchQuery, widened: Mapping[str, tuple[str, ...]] | None = None,
               ranked: Sequence[tuple[int, float]] | None = None
               ) -> tuple[str, dict[str, Any]]:
    """SQL and parameters for ``q`` (pure), its terms ``widened`` (:func:`expansions`).

    Relevance ranks the window with ``bm25()`` inside the query, unless the page was
    ``ranked`` already (``(pk, score)`` of its hits: :func:`archive.store.ranking`).
    Columns: id, url, short_url, source, title, published, language, snippet, rank (None
    for ``newest``, which never ranks). Snippets are computed for the page only, by one
    index lookup per hit (``CROSS JOIN`` fixes that order; left to itself the planner
    may walk every match instead), or for prefix queries, whose cursors are costly to open,
    by one walk over the page's rowid span.
    """
    _check_page(q)
    walk, params = _walk(q, widened)
    match = params["match"]
    if q.sort == "newest":
        hits = f"""hits AS (
  SELECT {FTS_TABLE}.rowid AS pk, NULL AS score
  {walk}
  LIMIT :limit OFFSET :offset
)"""
        order = "hits.pk DESC"
    elif ranked is not None:
        hits = """hits AS (
  SELECT json_extract(value, '$[0]') AS pk, json_extract(value, '$[1]') AS score
  FROM json_each(:ranked)
)"""
        order = "hits.score, hits.pk DESC"
        params["ranked"] = json.dumps([list(hit) for hit in ranked])
    else:
        weights = ", ".join(str(w) for w in ranking.WEIGHTS)
        hits = f"""recent AS (
  SELECT {FTS_TABLE}.rowid AS pk, bm25({FTS_TABLE}, {weights}) AS score
  {walk}
  LIMIT :window
),
hits AS (
  SELECT pk, score FROM recent ORDER BY score, pk DESC LIMIT :limit OFFSET :offset
)"""
        order = "hits.score, hits.pk DESC"
        params["window"] = rank_window(q)
    if '"*' in match:
        # A prefix query merges the postings of all its terms when a cursor opens: walk the
        # page's rowid span with one cursor instead of opening one per hit.
        source = f"""FROM {FTS_TABLE}
CROSS JOIN hits ON hits.pk = {FTS_TABLE}.rowid
CROSS JOIN articles AS a ON a.pk = hits.pk
WHERE {FTS_TABLE} MATCH :match
  AND {FTS_TABLE}.rowid BETWEEN (SELECT min(pk) FROM hits) AND (SELECT max(pk) FROM hits)"""
        hits = hits.replace("hits AS (", "hits AS MATERIALIZED (")
    else:
        source = f"""FROM hits
CROSS JOIN articles AS a ON a.pk = hits.pk
CROSS JOIN {FTS_TABLE} ON {FTS_TABLE}.rowid = hits.pk
WHERE {FTS_TABLE} MATCH :match"""
    sql = f"""WITH {hits}
SELECT a.id, a.url, a.short_url, a.source, a.title, a.published, a.language,
  {_snippet_expr()} AS snippet,
  hits.score AS rank
{source}
ORDER BY {order}"""
    params.update(limit=q.limit, offset=q.offset)
    return sql, params


def where_sql(f: Filters, widened: Mapping[str, tuple[str, ...]] | None = None,
              *, dates_only: bool = False) -> tuple[str, dict[str, Any]]:
    """``FROM articles AS a WHERE ...`` selecting the articles of ``f``, and its parameters
    (``dates_only``: the query reads no other column of ``a``, which then comes from the
    date index).

    Raises :class:`QueryError` for a query with nothing to search, a bad language code or a
    naive date.
    """
    matches, shared, params = filter_clauses(
        source=f.source, language=f.language, tag=f.tag, since=f.since, until=f.until,
        rowid=f"{FTS_TABLE}.rowid", entities=f.entities)
    match = match_expression(f.text, matches, widened or dict(f.widened))
    clauses = shared
    if match is not None:
        # The FTS table drives (its rowids are date-ordered), so a LIMIT stops the walk;
        # without text or filters the primary key (also date-ordered) does.
        clauses = [f"{FTS_TABLE} MATCH :match", *shared]
        params["match"] = match
    else:
        clauses = [c.replace(f"{FTS_TABLE}.rowid", "a.pk") for c in shared]
    where = "\nWHERE " + "\n  AND ".join(clauses) if clauses else ""
    joined = _DATES if dates_only else "articles AS a"
    source = (f"FROM {FTS_TABLE} JOIN {joined} ON a.pk = {FTS_TABLE}.rowid"
              if match is not None else "FROM articles AS a")
    return f"{source}{where}", params


def count_sql(f: Filters, cap: int | None = COUNT_CAP,
              widened: Mapping[str, tuple[str, ...]] | None = None
              ) -> tuple[str, dict[str, Any]]:
    """SQL and parameters counting the articles of ``f`` (column ``n``), exact up to
    ``cap``: ``cap + 1`` means more (None: count all). What both a search and the web UI's
    facets report as the total."""
    base, params = where_sql(f, widened, dates_only=True)
    if cap is None:
        return f"SELECT count(*) AS n {base}", params
    params["cap"] = cap + 1
    return f"SELECT count(*) AS n FROM (SELECT 1 {base} LIMIT :cap)", params


def _connection(target: object) -> sqlite3.Connection:
    """The sqlite3 connection of an Archive, a sqlite_utils Database or a connection."""
    if isinstance(target, sqlite3.Connection):
        return target
    db = getattr(target, "db", target)
    conn = getattr(db, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        return conn
    raise TypeError(f"cannot search {target!r}: need an Archive, Database or connection")


def _execute(target: object, sql: str, params: dict[str, Any], text: str) -> sqlite3.Cursor:
    try:
        return _connection(target).execute(sql, params)
    except sqlite3.OperationalError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "fts5" in message or "syntax error" in message or "MATCH" in message:
            raise QueryError(f"cannot search for {text.strip()[:80]!r}: {message}") from None
        raise


def _ranked_page(conn: sqlite3.Connection, q: SearchQuery,
                 widened: Mapping[str, tuple[str, ...]] | None
                 ) -> list[tuple[int, float]] | None:
    """The page of a relevance search as ``(pk, score)``, ranked by
    :mod:`archive.store.ranking`; None where only ``bm25()`` can rank (no ranking
    connection, or it failed)."""
    with ranking.borrow(conn) as ranker:
        if ranker is None:
            return None
        sql, params = window_sql(q, widened)
        try:
            window = ranker.execute(sql, params).fetchall()
        except apsw.Error as exc:
            # A query FTS5 refuses (or busy, I/O): the same search through sqlite3, which
            # raises the QueryError users know, or the real error.
            log.debug("ranking with bm25(): %s", exc)
            return None
    return ranking.ranked_page(window, q.offset, q.limit)  # type: ignore[arg-type]


def expansions(db_or_archive: object, f: Filters | SearchQuery
               ) -> dict[str, tuple[str, ...]] | None:
    """How the terms of ``f`` are widened to names in every script
    (:func:`archive.store.names.expand_terms`, unless ``exact``) and its one-word prefixes
    spelt out as the words they stand for (:func:`~archive.store.names.expand_prefixes`,
    the same matches, so ``exact`` too); None when there is nothing to widen."""
    if f.text is None:
        return None
    from archive.store.names import expand_prefixes, expand_terms  # the gazetteer: lazily

    conn = _connection(db_or_archive)
    widened = {} if f.exact else expand_terms(conn, query_terms(f.text))
    widened.update(expand_prefixes(conn, query_prefixes(f.text)))
    return widened or None


def widened_match(db_or_archive: object, text: str, exact: bool = False) -> str:
    """The FTS5 expression of ``text`` with its terms widened (:func:`expansions`) unless
    ``exact``: what watchlists match with, the same as a search."""
    widened = expansions(db_or_archive, Filters(text=text, exact=exact))
    return fts_expression(text, widened.get if widened else None)


def widen(db_or_archive: object, f: Filters) -> Filters:
    """``f`` with its terms' widening (:func:`expansions`) computed, for the pure SQL
    builders (:func:`where_sql` and the facets) to use."""
    widened = expansions(db_or_archive, f)
    return replace(f, widened=tuple(widened.items())) if widened else f


def search(db_or_archive: object, q: SearchQuery,
           widened: Mapping[str, tuple[str, ...]] | None = None) -> list[dict[str, Any]]:
    """Run ``q`` against an :class:`~archive.store.db.Archive` (or its Database / connection),
    its terms widened and prefixes spelt out (:func:`expansions`)."""
    if widened is None:
        widened = expansions(db_or_archive, q)
    ranked = None
    if q.sort == "relevance":
        ranked = _ranked_page(_connection(db_or_archive), q, widened)
        if ranked == []:
            return []
    sql, params = search_sql(q, widened, ranked)
    cursor = _execute(db_or_archive, sql, params, q.text)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def count(db_or_archive: object, q: SearchQuery, cap: int | None = COUNT_CAP,
          widened: Mapping[str, tuple[str, ...]] | None = None) -> int:
    """Number of articles matching ``q`` (its filters included, its page ignored), exact up
    to ``cap``; ``cap + 1`` means "more than ``cap``" (None: always exact)."""
    _check_page(q)
    if widened is None:
        widened = expansions(db_or_archive, q)
    sql, params = count_sql(q.filters, cap, widened)
    return int(_execute(db_or_archive, sql, params, q.text).fetchone()[0])


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of results and what it stands for.

    ``total`` is exact when ``total_exact``, else a lower bound (more than :data:`COUNT_CAP`
    matches). ``ranked_within`` is set when relevance ranked only the newest that many of
    more matches (module docstring).
    """

    hits: list[dict[str, Any]]
    total: int
    total_exact: bool
    ranked_within: int | None


def search_page(db_or_archive: object, q: SearchQuery) -> SearchPage:
    """Run ``q`` and count its matches (capped), saying how the page was ranked."""
    widened = expansions(db_or_archive, q)
    hits = search(db_or_archive, q, widened)
    total = count(db_or_archive, q, widened=widened)
    exact = total <= COUNT_CAP
    window = rank_window(q)
    windowed = q.sort == "relevance" and total > window
    return SearchPage(hits, min(total, COUNT_CAP) if not exact else total, exact,
                      window if windowed else None)
