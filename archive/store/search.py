"""Full-text search over the archive: query building (pure) and execution.

Query syntax (:func:`fts_expression`)
-------------------------------------
* words: ``S-400 Patriot`` finds articles with all the words (each word is matched as
  the tokens it contains, so ``S-400`` is the phrase ``s 400``); case and diacritics do not
  matter (``cafe`` finds ``café``, ``министр`` finds ``Министр``);
* ``"quoted phrases"``;
* ``AND``, ``OR``, ``NOT`` in capitals (lowercase ``and`` is a word); ``AND NOT`` reads as
  ``NOT``. Precedence is FTS5's: ``NOT`` binds tightest, then ``AND`` (written or implied),
  then ``OR``; use parentheses to group;
* ``word*`` and ``"a phrase"*`` for prefixes;
* ``title:word``, ``lead:"a phrase"``, ``body:(a OR b)`` restrict to one column;
* parentheses.

Anything else is read as plain words, never as FTS5 syntax: unbalanced quotes and
parentheses, an operator with nothing on one side (``AND`` alone, ``S-400 OR``, leading
``NOT``), ``-``, ``^``, ``:``, ``NEAR(``, unknown ``column:`` names, a lone ``*``. Every
term is emitted as an FTS5 string (``"..."`` with ``""`` escaping) and the expression is
passed as a bound parameter, so no input can produce an FTS5 syntax error or reach SQL.
Control characters count as spaces. Pieces without any letter or digit (``*``, ``--``,
``(``) are dropped, because an empty FTS5 string matches nothing and would empty the whole
result; a query left with no words (``*``, ``-``, ``(((``) raises :class:`QueryError`.

Languages: the index uses ``unicode61 remove_diacritics 2`` without stemming. Cyrillic is
case-folded (``министр`` = ``МИНИСТР``). unicode61 alone keeps Turkish dotless ``ı`` and
Russian ``ё`` as letters of their own (``kasim`` would not find ``Kasım``, ``елка`` would
not find ``ёлка``; ``İstanbul`` already folds to ``istanbul``), so the index and the query
terms both fold ``ı`` -> ``i`` and ``ё`` -> ``е`` (:data:`archive.store.schema.FOLD`): ``kasim``,
``Kasım`` and ``KASIM`` all find ``Kasım``. Words are matched whole: ``Kasımda`` needs
``kasım*``.

Results (:func:`search_sql`): designed for a million articles
------------------------------------------------------------
Article rowids follow their date (:func:`archive.store.schema.date_key`), so FTS5 can walk a
query's matches newest first and stop as soon as a page is full, however common the words:

* ``newest``: the page is read straight off the index in rowid order (date order); the
  cost is the page, not the number of matches. Filters on source and language are checked
  while walking; date filters become a rowid range, so FTS5 never visits other years.
* ``relevance``: ``bm25`` (column weights title 10, lead 4, body 1; ``rank``: lower is
  better) ranks the **newest** :data:`RANK_WINDOW` matches (or ``offset + limit`` when
  paging further), not all of them: a query matching 300,000 articles is ranked among its
  2,000 most recent ones, which is what a news archive's reader expects, and costs the
  same as one matching 2,000. :func:`search_page` says so in ``ranked_within``. When a
  query has fewer matches than the window, the ranking is exact. Use a date range to rank
  an older period.
* Snippets are computed only for the page returned: from the body when the body contains a
  hit, else from the lead, else from the title, hits in ``[``/``]``, ``…`` for cut text.
* :func:`count` is exact up to :data:`COUNT_CAP` matches, and says "more" beyond (counting
  a term in half the archive would cost more than the search itself).

The date of an article for ``since``/``until`` (inclusive, exclusive) and ``newest`` is its
published time, or its first capture when the page had none, as it was when the article was
first stored. ``language`` matches the primary subtag too (``en`` finds ``en-GB``);
``tag`` one of the article's tags, ignoring case.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from archive.store.schema import (
    FTS_COLUMNS,
    FTS_TABLE,
    ArchiveError,
    date_key,
    filter_tokens,
    fold_text,
    utc_text,
)

__all__ = [
    "COUNT_CAP",
    "RANK_WINDOW",
    "SORTS",
    "QueryError",
    "SearchPage",
    "SearchQuery",
    "count",
    "count_sql",
    "filter_clauses",
    "fts_expression",
    "match_expression",
    "search",
    "search_page",
    "search_sql",
]

#: Column weights for bm25, in FTS column order (title, lead, body).
WEIGHTS = (10.0, 4.0, 1.0, 0.0)  # the filter column never counts
SORTS = ("relevance", "newest")
MAX_QUERY_CHARS = 2000
MAX_LIMIT = 1000
_MAX_DEPTH = 16
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_SPECIAL = frozenset('()"')
_LANGUAGE = re.compile(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8})*")
_SNIPPET_TOKENS = 12
#: Relevance ranks this many of the newest matches (module docstring).
RANK_WINDOW = 2000
#: Counts are exact up to this many matches.
COUNT_CAP = 10_000


class QueryError(ValueError):
    """A search that cannot be run; the message is one line, fit for the CLI and web UI."""


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


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "term", "lparen", "rparen", "op"
    text: str  # term text (unquoted), or operator name
    raw: str  # as typed, for reading the token as a plain word
    column: str | None = None
    prefix: bool = False


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _word(raw: str, column: str | None = None, text: str | None = None) -> _Token:
    text = raw if text is None else text
    stripped = text.rstrip("*")
    if stripped != text and _has_word(stripped):
        return _Token("term", stripped, raw, column, prefix=True)
    return _Token("term", text, raw, column)


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(_Token("lparen", "(", "("))
            i += 1
        elif ch == ")":
            tokens.append(_Token("rparen", ")", ")"))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:  # unbalanced: the quote is punctuation, the rest plain words
                i += 1
                continue
            start, phrase, i = i, text[i + 1 : end], end + 1
            prefix = i < n and text[i] == "*"
            i += prefix
            tokens.append(_Token("term", phrase, text[start:i], None, prefix))
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            i = _lex_word(text, start, i, tokens)
    return tokens


def _lex_word(text: str, start: int, end: int, tokens: list[_Token]) -> int:
    """Append the token(s) of the word ``text[start:end]``; return where lexing goes on."""
    raw = text[start:end]
    if raw in _OPERATORS:
        tokens.append(_Token("op", raw, raw))
        return end
    name, colon, rest = raw.partition(":")
    column = name.lower()
    if not colon or column not in FTS_COLUMNS:
        tokens.append(_word(raw))
        return end
    if rest:
        tokens.append(_word(raw, column, rest))
        return end
    following = text[end : end + 1]
    if following == "(":
        tokens.append(_Token("lparen", "(", raw + "(", column))
        return end + 1
    if following == '"':
        close = text.find('"', end + 1)
        if close > 0:
            after = close + 1
            prefix = text[after : after + 1] == "*"
            phrase = text[end + 1 : close]
            tokens.append(_Token("term", phrase, text[start : after + prefix], column, prefix))
            return after + prefix
    tokens.append(_word(raw))  # "title:" with nothing after it
    return end


def _match_parens(tokens: list[_Token]) -> tuple[list[_Token], dict[int, int]]:
    """Pair parentheses; unmatched (or too deeply nested) ones become plain words."""
    tokens = list(tokens)
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for index, token in enumerate(tokens):
        if token.kind == "lparen":
            if len(stack) >= _MAX_DEPTH:
                tokens[index] = _word(token.raw)
            else:
                stack.append(index)
        elif token.kind == "rparen":
            if stack:
                pairs[stack.pop()] = index
            else:
                tokens[index] = _word(token.raw)
    for index in stack:
        tokens[index] = _word(tokens[index].raw)
    return tokens, pairs


def _quote(text: str) -> str:
    return '"' + fold_text(text).replace('"', '""') + '"'


def _term(token: _Token) -> str | None:
    if not _has_word(token.text):
        return None
    rendered = _quote(token.text) + ("*" if token.prefix else "")
    return f"{token.column} : {rendered}" if token.column else rendered


def _render(tokens: list[_Token], pairs: dict[int, int], start: int, end: int) -> str | None:
    """FTS5 expression for ``tokens[start:end]``, or None when nothing is left."""
    units: list[tuple[str, str]] = []  # ("operand", expression) or ("op", name)
    i = start
    while i < end:
        token = tokens[i]
        if token.kind == "lparen":
            close = pairs[i]
            inner = _render(tokens, pairs, i + 1, close)
            if inner is not None:
                group = f"{token.column} : ({inner})" if token.column else f"({inner})"
                units.append(("operand", group))
            i = close + 1
            continue
        if token.kind == "op":
            units.append(("op", token.text))
        elif token.kind == "term" and (term := _term(token)) is not None:
            units.append(("operand", term))
        i += 1
    out: list[str] = []
    after_operand = False
    for k, (kind, value) in enumerate(units):
        if kind == "op":
            nxt, then = (units[j] if j < len(units) else ("end", "") for j in (k + 1, k + 2))
            if value == "AND" and after_operand and nxt == ("op", "NOT") and then[0] == "operand":
                continue  # "a AND NOT b" means "a NOT b"
            if after_operand and nxt[0] == "operand":
                out.append(value)
                after_operand = False
                continue
            value = _quote(value)  # an operator with nothing to join is a word
        if after_operand:
            out.append("AND")
        out.append(value)
        after_operand = True
    return " ".join(out) or None


def fts_expression(text: str) -> str:
    """Translate the user's query syntax (module docstring) into an FTS5 MATCH expression.

    Pure and total: any input yields a valid expression or :class:`QueryError` (empty
    query, nothing searchable, too long).

    >>> fts_expression('title:"S-400" OR Patriot*')
    'title : "S-400" OR "Patriot"*'
    """
    if not text or not text.strip():
        raise QueryError("empty search query")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"search query too long ({len(text)} characters, at most {MAX_QUERY_CHARS})"
        )
    # Control characters are never searchable, and a NUL would end FTS5's reading early.
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    tokens, pairs = _match_parens(_lex(text))
    expression = _render(tokens, pairs, 0, len(tokens))
    if expression is None:
        raise QueryError(f"nothing to search for in {text.strip()[:80]!r}: no letters or digits")
    return expression


def _date_expr() -> str:
    return "coalesce(a.published, a.first_seen)"


def filter_clauses(*, source: str | None = None, language: str | None = None,
                   tag: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, rowid: str = f"{FTS_TABLE}.rowid"
                   ) -> tuple[list[str], list[str], dict[str, Any]]:
    """The filters a search and a facet count share (pure): FTS5 expressions on the
    filter column (source, language, tag: matched inside the index), SQL conditions on
    ``articles AS a`` (dates) and their parameters.

    ``rowid`` is the date-ordered rowid column the query walks: date bounds also become a
    range on it, which keeps FTS5 (or the primary key) inside the dates. Raises
    :class:`QueryError` for a bad language code or a naive date.
    """
    code = None
    if language:
        code = language.strip().lower()
        if not _LANGUAGE.fullmatch(code):
            raise QueryError(f"not a language code: {language!r}")
    matches = [f'"{token}"' for token in filter_tokens(source, code, tag.strip() if tag else None)]
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for name, op, value in (("since", ">=", since), ("until", "<", until)):
        if value is None:
            continue
        try:
            params[name] = utc_text(value, name)
        except ArchiveError as exc:
            raise QueryError(str(exc)) from None
        clauses.append(f"{_date_expr()} {op} :{name}")
        params[f"{name}_key"] = date_key(params[name])
        clauses.append(f"{rowid} {op} :{name}_key")
    return matches, clauses, params


def match_expression(text: str | None, filters: list[str]) -> str | None:
    """The FTS5 expression of a query's text and filter tokens.

    The text is not restricted to the text columns with a column filter: that would make
    FTS5 decode every position list it visits (half the cost of a common term); the
    filter column holds only hex tokens no word can match.
    """
    parts = [f"({fts_expression(text)})"] if text is not None else []
    return " AND ".join(parts + filters) or None


def _filters(q: SearchQuery) -> tuple[str, str, dict[str, Any]]:
    """The MATCH expression of ``q`` and its other WHERE conditions with parameters."""
    matches, clauses, params = filter_clauses(
        source=q.source, language=q.language, tag=q.tag, since=q.since, until=q.until)
    match = match_expression(q.text, matches)
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


def search_sql(q: SearchQuery) -> tuple[str, dict[str, Any]]:
    """SQL and parameters for ``q`` (pure).

    Columns: id, url, short_url, source, title, published, language, snippet, rank (None
    for ``newest``, which never computes bm25). Snippets are computed for the page only,
    by one index lookup per hit (``CROSS JOIN`` fixes that order; left to itself the planner
    may walk every match instead), or for prefix queries, whose cursors are costly to open,
    by one walk over the page's rowid span.
    """
    _check_page(q)
    match, filters, params = _filters(q)
    weights = ", ".join(str(w) for w in WEIGHTS)
    walk = f"""FROM {FTS_TABLE} JOIN articles AS a ON a.pk = {FTS_TABLE}.rowid
  WHERE {FTS_TABLE} MATCH :match{filters}
  ORDER BY {FTS_TABLE}.rowid DESC"""
    if q.sort == "newest":
        hits = f"""hits AS (
  SELECT {FTS_TABLE}.rowid AS pk, NULL AS score
  {walk}
  LIMIT :limit OFFSET :offset
)"""
        order = "hits.pk DESC"
    else:
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
    params.update(match=match, limit=q.limit, offset=q.offset)
    return sql, params


def count_sql(q: SearchQuery, cap: int | None = COUNT_CAP) -> tuple[str, dict[str, Any]]:
    """SQL and parameters counting the matches of ``q`` (filters apply; paging does not),
    up to ``cap`` + 1 (None: all)."""
    _check_page(q)
    match, filters, params = _filters(q)
    inner = (f"SELECT 1 FROM {FTS_TABLE} JOIN articles AS a ON a.pk = {FTS_TABLE}.rowid\n"
             f"WHERE {FTS_TABLE} MATCH :match{filters}")
    if cap is not None:
        inner += "\nLIMIT :cap"
        params["cap"] = cap + 1
    params["match"] = match
    return f"SELECT count(*) AS n FROM (\n{inner}\n)", params


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


def search(db_or_archive: object, q: SearchQuery) -> list[dict[str, Any]]:
    """Run ``q`` against an :class:`~archive.store.db.Archive` (or its Database / connection)."""
    sql, params = search_sql(q)
    cursor = _execute(db_or_archive, sql, params, q.text)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def count(db_or_archive: object, q: SearchQuery, cap: int | None = COUNT_CAP) -> int:
    """Number of articles matching ``q`` (its filters included, its page ignored), exact up
    to ``cap``; ``cap + 1`` means "more than ``cap``" (None: always exact)."""
    sql, params = count_sql(q, cap)
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
    hits = search(db_or_archive, q)
    total = count(db_or_archive, q)
    exact = total <= COUNT_CAP
    window = rank_window(q)
    windowed = q.sort == "relevance" and total > window
    return SearchPage(hits, min(total, COUNT_CAP) if not exact else total, exact,
                      window if windowed else None)
