"""The archive's SQLite schema, changed only through ``sqlite_utils.Migrations``.

Migrations are registered, in order, on :data:`MIGRATIONS` (set ``mediawatch.archive``);
sqlite-utils records each applied one in ``_sqlite_migrations`` and runs each inside a
transaction together with that record, so reopening a database applies nothing twice and a
failed migration leaves no trace. Never edit a released migration: add a new one.

Tables (times are ISO 8601 UTC text, ``2020-11-29T23:25:00Z``; lists are JSON arrays):

``articles``
    current fields of each story. ``pk`` is an ``INTEGER PRIMARY KEY`` because FTS5
    external content needs a stable integer rowid (an implicit rowid may change on VACUUM),
    and it is derived from the article's date when first stored (:func:`date_key`), so that
    rowid order is date order and a search can stop after one page of newest matches;
    ``id`` is the public id derived from content (:mod:`archive.store.identity`).
``versions``
    every text an article has had, ``(article_id, version)``; the last one is current.
``aliases``
    normalized URL -> article, with the alias kind and the first original spelling seen.
``captures``
    one row per WARC response or revisit record, article or not (feeds, robots.txt, 404s),
    unique on ``(warc_file, offset)``; ``revisit`` is the WARC-Profile of a revisit record
    and ``refers_to`` the record id it repeats; ``url_norm`` is the normalized record URL (NULL when
    it is not http(s)), ``link_key`` the link it was fetched through
    (:func:`archive.store.urls.link_key`), ``redirect_norm`` the normalized target of a
    redirect; ``content_hash``/``outcome`` are set for article
    captures stored by ``Archive.upsert``.
``warc_files``
    the WARC files already ingested (name, response records), so ingest skips them.
``runs``
    operational crawl log (one row per source and run).
``fetch_state``, ``source_state``
    operational state of scheduled crawling: conditional-GET validators and adaptive poll
    interval per feed / sitemap / section URL; health and backoff per source.
``alerts``, ``deliveries``
    watchlist matches (one per watchlist, article and version) and every delivery attempt.
    These and ``runs`` are the tables ``reindex`` cannot rebuild from the WARCs: it copies
    them over (:data:`OPERATIONAL_TABLES`).
``articles_fts``
    FTS5 index over ``articles(title, lead, body)``, external content kept in step by
    triggers, tokenizer ``unicode61 remove_diacritics 2`` (no stemming: the archive is
    multilingual). See :data:`archive.store.query.FOLD` for the two letters folded at
    indexing time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlite_utils.migrations import Migrations

from archive.store.query import FOLD, FTS_COLUMNS, fold_text
from archive.times import parse_utc

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable

    from sqlite_utils import Database

__all__ = [
    "DATE_INDEX",
    "ENTITY_COLUMN",
    "FILTER_COLUMN",
    "FILTER_MARKERS",
    "FOLD",  # defined in archive.store.query (the query side needs it without SQLite)
    "FTS_COLUMNS",
    "FTS_TABLE",
    "INDEX_COLUMNS",
    "MIGRATIONS",
    "OPERATIONAL_TABLES",
    "ArchiveError",
    "date_key",
    "entity_tokens",
    "filter_tokens",
    "fold_sql",
    "fold_text",
    "free_rowid",
    "fts_trigger_sql",
    "has_entity_column",
    "rebuild_fts",
]

MIGRATIONS = Migrations("mediawatch.archive")
OPERATIONAL_TABLES = ("runs", "fetch_state", "source_state", "alerts", "deliveries")


class ArchiveError(ValueError):
    """A value the archive cannot store (naive datetime, unusable URL, unknown article)."""


FTS_TABLE = "articles_fts"
#: A fourth FTS column holding one token per source, language and tag of the article
#: (``src74617373 lang656e ...``), so that filters are matched inside FTS5 (doclist
#: intersection) instead of by visiting every matching article: see
#: :func:`filter_tokens`. Since migration 0006.
FILTER_COLUMN = "filters"
INDEX_COLUMNS = (*FTS_COLUMNS, FILTER_COLUMN)


def fold_sql(expression: str) -> str:
    """SQL applying the :data:`~archive.store.query.FOLD` replacements to ``expression``
    (the index side; :func:`~archive.store.query.fold_text` is the query side).

    Plain ``replace()`` calls, so that any SQLite client can write to ``articles``.
    """
    for old, new in FOLD:
        expression = f"replace({expression}, '{old}', '{new}')"
    return expression


#: Tags beyond this many per article are not filterable in the index (generated columns
#: cannot iterate a JSON array; news pages rarely carry more).
MAX_FILTER_TAGS = 12


def _marker(prefix: str, value: str) -> str:
    # One token per value (prefix + hex of its UTF-8): a single-term FTS query, no phrase
    # to check, and nothing a user's words can collide with.
    return prefix + value.encode("utf-8").hex()


def _ascii_lower(text: str) -> str:
    # SQLite's lower() folds ASCII letters only; the query side must do exactly the same.
    return "".join(ch.lower() if ch.isascii() else ch for ch in text)


def filter_tokens(source: str | None = None, language: str | None = None,
                  tag: str | None = None, entities: Iterable[str] = ()) -> list[str]:
    """Pure: the index tokens of :data:`FILTER_COLUMN` that select a source, a language
    (its primary subtag is indexed too: ``en`` finds ``en-GB``), a tag (ASCII letters
    compared without case) and gazetteer entities (:func:`entity_tokens`). ``tass`` does
    not find ``tass-ru``: each value is one token."""
    tokens = []
    if source:
        tokens.append(_marker("src", source))
    if language:
        tokens.append(_marker("lang", _ascii_lower(language)))
    if tag:
        tokens.append(_marker("tag", _ascii_lower(tag)))
    tokens.extend(_marker("ent", entity) for entity in entities)
    return tokens


#: How the filter column's tokens begin (:func:`filter_tokens`): source, language, tag,
#: entity; the rest is hex.
FILTER_MARKERS = ("src", "lang", "tag", "ent")

#: The ``articles`` column (migration 0013) holding the filter tokens of the gazetteer
#: entities the article mentions (:func:`entity_tokens`), written with its text at ingest;
#: the triggers add it to :data:`FILTER_COLUMN`, so an entity filter is a doclist
#: intersection like a source filter instead of a look-up per matching article.
ENTITY_COLUMN = "entity_tokens"


def entity_tokens(entity_ids: Iterable[str]) -> str | None:
    """Pure: the :data:`ENTITY_COLUMN` value of an article mentioning ``entity_ids``
    (each token led by a space, as the filter column's other tokens; None for none)."""
    return "".join(f" {_marker('ent', e)}" for e in sorted(set(entity_ids))) or None


def _hex_marker(prefix: str, expression: str) -> str:
    # hex(NULL) is '': nullif keeps a missing value from leaving a bare "tag" token behind.
    return f"coalesce(' {prefix}' || lower(nullif(hex({expression}), '')), '')"


#: The ``articles.filters`` generated column (migration 0006): the filter column's text.
#: FTS5 external content reads every indexed column from the content table, so the
#: tokens live there, computed with plain functions from source, language and tags, as
#: generated columns require (:func:`filter_tokens` is the query side).
_FILTERS_SQL = " || ".join([
    _hex_marker("src", "source"),
    _hex_marker("lang", "lower(language)"),
    _hex_marker("lang", "lower(substr(language, 1, instr(language || '-', '-') - 1))"),
    *(_hex_marker("tag", f"lower(json_extract(tags, '$[{i}]'))")
      for i in range(MAX_FILTER_TAGS)),
])


def _fts_values(prefix: str, columns: tuple[str, ...], entities: bool) -> str:
    values = [fold_sql(f"{prefix}.{column}") for column in columns]
    if entities:  # hex tokens: nothing to fold
        values[columns.index(FILTER_COLUMN)] += f" || coalesce({prefix}.{ENTITY_COLUMN}, '')"
    return ", ".join(values)


def fts_trigger_sql(columns: tuple[str, ...] = FTS_COLUMNS, entities: bool = False) -> str:
    """Triggers keeping ``articles_fts`` (with ``columns``) in step with ``articles``
    (folded text), the filter column with the entity tokens when ``entities``. The default
    is the three text columns migrations 0001 and 0005 made."""
    names = ", ".join(columns)
    watched = ", ".join(FTS_COLUMNS + (("source", "language", "tags")
                                       if FILTER_COLUMN in columns else ())
                        + ((ENTITY_COLUMN,) if entities else ()))
    delete = (
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {names}) "
        f"VALUES ('delete', old.pk, {_fts_values('old', columns, entities)});"
    )
    insert = (f"INSERT INTO {FTS_TABLE}(rowid, {names}) "
              f"VALUES (new.pk, {_fts_values('new', columns, entities)});")
    return f"""
CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
  {insert}
END;
CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
  {delete}
END;
CREATE TRIGGER articles_au AFTER UPDATE OF {watched} ON articles BEGIN
  {delete}
  {insert}
END;
"""


#: A rowid spans 2**10 values per second of its date: room for 1,024 articles a second.
_KEY_BITS = 10


def date_key(when: str) -> int:
    """Pure: the first article rowid of the second ``when`` (ISO 8601 UTC text).

    Articles get rowids in the order of their date (published, else first capture), so
    FTS5 can walk a term's matches newest first and stop after a page (see
    :mod:`archive.store.search`). Dates before 1970 share rowid 0 onwards.
    """
    return max(0, int(parse_utc(when).timestamp())) << _KEY_BITS


def free_rowid(db: Database, key: int) -> int:
    """The first rowid at or after ``key`` that no article has."""
    row = db.execute("SELECT max(pk) FROM articles WHERE pk BETWEEN ? AND ?",
                     [key, key + (1 << _KEY_BITS) - 1]).fetchone()
    candidate = key if row[0] is None else row[0] + 1
    while db.execute("SELECT 1 FROM articles WHERE pk = ?", [candidate]).fetchone():
        candidate += 1
    return candidate


def has_entity_column(db: Database | sqlite3.Connection) -> bool:
    """Whether ``articles`` has :data:`ENTITY_COLUMN` yet (migration 0013 made it)."""
    return ENTITY_COLUMN in {row[1] for row in db.execute("PRAGMA table_info(articles)")}


def rebuild_fts(db: Database) -> None:
    """Rebuild ``articles_fts`` from ``articles`` with folding (instead of FTS5 'rebuild'),
    for the columns the tables have (they changed in migrations 0006 and 0013)."""
    columns = tuple(row[1] for row in db.execute(f"PRAGMA table_info({FTS_TABLE})"))
    entities = has_entity_column(db)
    names = ", ".join(columns)
    with db.atomic():
        db.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
        db.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, {names}) SELECT pk,"
            f" {_fts_values('a', columns, entities)} FROM articles AS a"
        )


_INITIAL = f"""
CREATE TABLE articles (
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  url TEXT NOT NULL,
  canonical_url TEXT,
  short_url TEXT,
  amp_url TEXT,
  title TEXT,
  lead TEXT,
  body TEXT,
  authors TEXT NOT NULL DEFAULT '[]',
  published TEXT,
  modified TEXT,
  section TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  language TEXT,
  image TEXT,
  body_method TEXT,
  content_hash TEXT NOT NULL,
  version INTEGER NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL
);
CREATE INDEX articles_source_date ON articles(source, published);
CREATE INDEX articles_date ON articles(coalesce(published, first_seen), id);

CREATE TABLE versions (
  article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  fetched_at TEXT NOT NULL,
  url TEXT NOT NULL,
  title TEXT,
  lead TEXT,
  body TEXT,
  content_hash TEXT NOT NULL,
  PRIMARY KEY (article_id, version)
);

CREATE TABLE aliases (
  url TEXT PRIMARY KEY,
  article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  original TEXT NOT NULL
);
CREATE INDEX aliases_article ON aliases(article_id);

CREATE TABLE captures (
  id INTEGER PRIMARY KEY,
  warc_file TEXT NOT NULL,
  "offset" INTEGER NOT NULL,
  length INTEGER NOT NULL,
  record_id TEXT,
  url TEXT NOT NULL,
  url_norm TEXT,
  requested_url TEXT,
  link_key TEXT NOT NULL,
  redirect_to TEXT,
  redirect_norm TEXT,
  status INTEGER NOT NULL,
  fetched_at TEXT NOT NULL,
  digest TEXT,
  content_hash TEXT,
  kind TEXT NOT NULL,
  source TEXT,
  article_id TEXT REFERENCES articles(id) ON DELETE SET NULL,
  outcome TEXT,
  UNIQUE (warc_file, "offset")
);
CREATE INDEX captures_article_link ON captures(article_id, link_key, fetched_at);
CREATE INDEX captures_url ON captures(url_norm, fetched_at);
CREATE INDEX captures_record ON captures(record_id);
CREATE INDEX captures_redirect ON captures(redirect_norm) WHERE redirect_norm IS NOT NULL;

CREATE TABLE warc_files (
  name TEXT PRIMARY KEY,
  records INTEGER NOT NULL
);

CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  source TEXT,
  started TEXT,
  finished TEXT,
  status TEXT,
  pages INTEGER,
  failed INTEGER,
  new INTEGER,
  updated INTEGER,
  unchanged INTEGER,
  duplicates INTEGER,
  warc_bytes INTEGER,
  extra TEXT NOT NULL DEFAULT '{{}}'
);
CREATE INDEX runs_source ON runs(source, started);

CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
  {", ".join(FTS_COLUMNS)},
  content='articles', content_rowid='pk',
  tokenize='unicode61 remove_diacritics 2'
);
"""

# The FTS table as 0005 recreates it (0001's text above is history and stays as it was).
_FTS_SQL = f"""CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
  {", ".join(FTS_COLUMNS)},
  content="articles", content_rowid="pk",
  tokenize="unicode61 remove_diacritics 2"
);"""


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    db.executescript(_INITIAL + fts_trigger_sql())


_OPERATIONS = """
ALTER TABLE runs ADD COLUMN removed INTEGER;
ALTER TABLE runs ADD COLUMN blocked INTEGER;
ALTER TABLE runs ADD COLUMN revisit_bytes INTEGER;
ALTER TABLE articles ADD COLUMN removed_at TEXT;

CREATE TABLE fetch_state (
  url TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  etag TEXT,
  last_modified TEXT,
  digest TEXT,
  interval_s INTEGER,
  next_fetch TEXT,
  last_total INTEGER,
  last_new INTEGER,
  updated TEXT NOT NULL
);
CREATE INDEX fetch_state_source ON fetch_state(source);

CREATE TABLE source_state (
  source TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL DEFAULT 0,
  backoff_until TEXT,
  reason TEXT,
  updated TEXT NOT NULL
);

CREATE TABLE alerts (
  id INTEGER PRIMARY KEY,
  watchlist TEXT NOT NULL,
  article_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  kind TEXT NOT NULL,
  matched_at TEXT NOT NULL,
  UNIQUE (watchlist, article_id, version)
);
CREATE INDEX alerts_watchlist ON alerts(watchlist, matched_at);

CREATE TABLE deliveries (
  id INTEGER PRIMARY KEY,
  alert_id INTEGER REFERENCES alerts(id) ON DELETE CASCADE,
  watchlist TEXT NOT NULL,
  channel TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  error TEXT,
  delivered_at TEXT NOT NULL
);
CREATE INDEX deliveries_watchlist ON deliveries(watchlist, delivered_at);
"""


@MIGRATIONS(name="0002_operations")
def _operations(db: Database) -> None:
    # Operational state of the scheduled service (polling, backoff, alerts): like ``runs``
    # it is not derived from the WARCs, and ``reindex`` carries it over.
    db.executescript(_OPERATIONS)


@MIGRATIONS(name="0003_capture_revisits")
def _capture_revisits(db: Database) -> None:
    # Revisit records (identical payload, 304) are captures too; the crawler looks up the
    # last full response of a URL to decide whether the next answer is a revisit.
    db.executescript("""
    ALTER TABLE captures ADD COLUMN revisit TEXT;
    ALTER TABLE captures ADD COLUMN refers_to TEXT;
    CREATE INDEX captures_url_exact ON captures(url, fetched_at);
    """)


@MIGRATIONS(name="0004_date_ordered_rowids")
def _date_ordered_rowids(db: Database) -> None:
    # Renumber articles so that rowid order is date order (see date_key); articles are
    # referenced by their text id everywhere, so only the FTS index follows the rowids.
    rows = db.execute("SELECT pk, coalesce(published, first_seen) FROM articles"
                      " ORDER BY coalesce(published, first_seen), pk").fetchall()
    db.execute("UPDATE articles SET pk = -pk - 1")
    for old, when in rows:
        db.execute("UPDATE articles SET pk = ? WHERE pk = ?",
                   [free_rowid(db, date_key(when)), -old - 1])
    rebuild_fts(db)


@MIGRATIONS(name="0005_fts_content_quoted")
def _fts_content_quoted(db: Database) -> None:
    # sqlite-utils and Datasette find an external-content FTS table by the text
    # content="articles" in its SQL; 0001 wrote content='articles'. Same index, new spelling.
    db.executescript(f"""
    DROP TRIGGER articles_ai;
    DROP TRIGGER articles_ad;
    DROP TRIGGER articles_au;
    DROP TABLE {FTS_TABLE};
    {_FTS_SQL}
    """ + fts_trigger_sql())
    rebuild_fts(db)


@MIGRATIONS(name="0006_fts_filter_column")
def _fts_filter_column(db: Database) -> None:
    # Source, language and tag filters move into the index (FILTER_COLUMN), so a filtered
    # search intersects doclists instead of visiting every match.
    columns = ",\n  ".join(INDEX_COLUMNS)
    db.executescript(f"""
    ALTER TABLE articles ADD COLUMN {FILTER_COLUMN} TEXT
      GENERATED ALWAYS AS ({_FILTERS_SQL}) VIRTUAL;
    DROP TRIGGER articles_ai;
    DROP TRIGGER articles_ad;
    DROP TRIGGER articles_au;
    DROP TABLE {FTS_TABLE};
    CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(
      {columns},
      content="articles", content_rowid="pk",
      tokenize="unicode61 remove_diacritics 2"
    );
    """ + fts_trigger_sql(INDEX_COLUMNS))
    rebuild_fts(db)


@MIGRATIONS(name="0007_ingest_ledger")
def _ingest_ledger(db: Database) -> None:
    # The ledger says how far each WARC file is loaded, so a load killed half-way resumes
    # at the next record instead of skipping or repeating the file. Rows written before this
    # migration were only ever written once a file was completely loaded.
    db.executescript("""
    ALTER TABLE warc_files ADD COLUMN size INTEGER;
    ALTER TABLE warc_files ADD COLUMN loaded_to INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE warc_files ADD COLUMN complete INTEGER NOT NULL DEFAULT 0;
    UPDATE warc_files SET complete = 1;
    """)


@MIGRATIONS(name="0008_published_detail")
def _published_detail(db: Database) -> None:
    # Beside the UTC value: the publisher's offset, second/minute/day, the origin and how a
    # zone-less value got its offset. Older rows stay NULL until `mediawatch reindex`.
    db.executescript("""
    ALTER TABLE articles ADD COLUMN published_local TEXT;
    ALTER TABLE articles ADD COLUMN published_precision TEXT;
    ALTER TABLE articles ADD COLUMN published_from TEXT;
    ALTER TABLE articles ADD COLUMN published_zone TEXT;
    """)


@MIGRATIONS(name="0009_screenshots")
def _screenshots(db: Database) -> None:
    # Where the screenshot of each article version is (a WARC resource record: see
    # archive/warc/screenshots.py). Derived from the WARC files like versions: ingest fills
    # it from the screenshot files, so `mediawatch reindex` links the screenshots again.
    db.executescript("""
    CREATE TABLE screenshots (
      article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      warc_file TEXT NOT NULL,
      "offset" INTEGER NOT NULL,
      length INTEGER NOT NULL,
      refers_to TEXT,
      rendered_at TEXT NOT NULL,
      PRIMARY KEY (article_id, version)
    );
    """)


@MIGRATIONS(name="0012_edit_habits")
def _edit_habits(db: Database) -> None:
    # Takedowns with their kind and evidence (crawler/takedown.py): the WARC-Record-ID of
    # the answer that showed it; filled by ingest, so `mediawatch reindex` rebuilds them.
    # The index serves the crawl's look-ups by source and first capture: the articles due
    # for a re-check and the edit history its re-check schedule is learned from.
    db.executescript("""
    ALTER TABLE articles ADD COLUMN removed_kind TEXT;
    ALTER TABLE articles ADD COLUMN removed_record TEXT;
    CREATE INDEX IF NOT EXISTS articles_source_seen ON articles(source, first_seen);
    """)


#: The index a search's date filter reads instead of the articles rows (migration 0015).
DATE_INDEX = "articles_pk_date"


@MIGRATIONS(name="0015_article_dates_by_rowid")
def _article_dates_by_rowid(db: Database) -> None:
    # A search with a date range checks each match's date (archive.store.search): read
    # from the articles row, that is a walk past the body, onto its overflow pages for a
    # real article (the date columns come after it); this index holds just the dates.
    db.execute(f"CREATE INDEX IF NOT EXISTS {DATE_INDEX} ON articles(pk, published, first_seen)")
