"""Names in every script, in the store: the ``fold_terms`` and ``article_entities`` tables
(migration ``0010_folding_entities``), kept at ingest and rebuilt by ``reindex``, and the
widening of a search's terms.

``fold_terms(key, word)``
    every word the FTS index holds (numbers aside), under its folded key
    (:func:`archive.folding.word_key`): ``soigu`` -> ``shoigu``, ``шойгу``, ``soygu``. There
    is no folded copy of the text in the index: a query term is widened instead
    (:func:`expand_terms`) into the OR of the indexed words that share its key, or the key
    of one of its inflected forms (:func:`archive.folding.inflected_keys`), plus the
    spellings of a gazetteer entity it names. Rows are only added (at ingest, from the
    article's words): a word no article holds any longer costs one empty index lookup in
    the OR, never a wrong match; ``reindex`` starts afresh.
``article_entities(article_id, entity_id)``
    the gazetteer entities each article's current title, lead and body mention
    (:func:`archive.gazetteer.entities_in`), replaced whenever the text changes.
"""

from __future__ import annotations

import itertools
import sqlite3
from typing import TYPE_CHECKING, Any

from archive.config.entities import default_gazetteer
from archive.folding import index_words, inflected_keys, word_key
from archive.gazetteer import entities_in, entities_named, matcher
from archive.store.query import QueryError
from archive.store.schema import (
    ENTITY_COLUMN,
    FILTER_MARKERS,
    FTS_TABLE,
    INDEX_COLUMNS,
    MIGRATIONS,
    entity_tokens,
    fts_trigger_sql,
    has_entity_column,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlite_utils import Database

    from archive.config.entities import Gazetteer

__all__ = [
    "MAX_PHRASES",
    "MAX_PREFIX_WORDS",
    "MAX_WORDS",
    "article_entities",
    "check_entities",
    "entity_rows",
    "expand_prefixes",
    "expand_terms",
    "fill_entity_tokens",
    "index_article",
    "rebuild_names",
    "text_entities",
]

#: At most this many indexed words stand for one query word (most names have a handful).
MAX_WORDS = 24
#: At most this many alternative phrases stand for one query term or phrase.
MAX_PHRASES = 48
#: A prefix that stands for more words than this stays an FTS5 prefix (expand_prefixes).
MAX_PREFIX_WORDS = 32
_SHORT = 2


@MIGRATIONS(name="0010_folding_entities")
def _folding_entities(db: Database) -> None:
    # Derived from the articles (and the gazetteer): filled here for an existing archive,
    # then kept at ingest; reindex rebuilds both with everything else.
    db.executescript("""
    CREATE TABLE fold_terms (
      key TEXT NOT NULL,
      word TEXT NOT NULL,
      PRIMARY KEY (key, word)
    ) WITHOUT ROWID;
    CREATE TABLE article_entities (
      article_id TEXT NOT NULL,
      entity_id TEXT NOT NULL,
      PRIMARY KEY (article_id, entity_id)
    );
    CREATE INDEX article_entities_entity ON article_entities(entity_id, article_id);
    """)
    rebuild_names(db, default_gazetteer())


@MIGRATIONS(name="0013_entity_filter_tokens")
def _entity_filter_tokens(db: Database) -> None:
    # Entity filters move into the index like source filters (schema.ENTITY_COLUMN): the
    # new triggers add the column to the filter column, and filling it re-indexes the
    # articles that mention an entity (the 'delete' of each takes the old, empty value).
    db.executescript(f"""
    ALTER TABLE articles ADD COLUMN {ENTITY_COLUMN} TEXT;
    DROP TRIGGER articles_ai;
    DROP TRIGGER articles_ad;
    DROP TRIGGER articles_au;
    """ + fts_trigger_sql(INDEX_COLUMNS, entities=True))
    fill_entity_tokens(db.conn)


@MIGRATIONS(name="0014_fold_terms_by_word")
def _fold_terms_by_word(db: Database) -> None:
    # Prefix queries are spelt out from fold_terms (expand_prefixes): a range of words.
    db.execute("CREATE INDEX IF NOT EXISTS fold_terms_word ON fold_terms(word)")


def fill_entity_tokens(conn: sqlite3.Connection) -> None:
    """Set every article's :data:`~archive.store.schema.ENTITY_COLUMN` from
    ``article_entities``; only the rows whose value changes are written (and re-indexed)."""
    tokens: dict[str, list[str]] = {}
    for article_id, entity_id in conn.execute("SELECT article_id, entity_id"
                                              " FROM article_entities"):
        tokens.setdefault(article_id, []).append(entity_id)
    conn.execute(f"UPDATE articles SET {ENTITY_COLUMN} = NULL WHERE {ENTITY_COLUMN} IS NOT NULL"
                 " AND id NOT IN (SELECT article_id FROM article_entities)")
    conn.executemany(f"UPDATE articles SET {ENTITY_COLUMN} = :t"
                     f" WHERE id = :id AND {ENTITY_COLUMN} IS NOT :t",
                     [{"t": entity_tokens(ids), "id": aid} for aid, ids in tokens.items()])


def _conn(db: Database | sqlite3.Connection) -> sqlite3.Connection:
    return db if isinstance(db, sqlite3.Connection) else db.conn


def _term_rows(words: Iterable[str]) -> list[tuple[str, str]]:
    rows = []
    for word in set(words):
        if word.isdigit():
            continue  # a number is its own key and never inflects: the query has it
        key = word_key(word)
        if key:
            rows.append((key, word))
    return rows


def text_entities(gazetteer: Gazetteer, title: str | None, lead: str | None,
                  body: str | None) -> list[str]:
    """The ids of the gazetteer entities an article's text mentions, sorted (computed
    before the text is written, so that its :data:`~archive.store.schema.ENTITY_COLUMN`
    goes into the index with it)."""
    return sorted(entities_in(matcher(gazetteer), *(t for t in (title, lead, body) if t)))


def index_article(db: Database | sqlite3.Connection, article_id: str, entity_ids: list[str],
                  title: str | None, lead: str | None, body: str | None) -> None:
    """Record the words and the entities (:func:`text_entities`) of an article's current
    text (at ingest)."""
    db = _conn(db)
    db.executemany("INSERT OR IGNORE INTO fold_terms (key, word) VALUES (?, ?)",
                   _term_rows(w for t in (title, lead, body) if t for w in index_words(t)))
    db.execute("DELETE FROM article_entities WHERE article_id = ?", [article_id])
    db.executemany("INSERT INTO article_entities (article_id, entity_id) VALUES (?, ?)",
                   [(article_id, e) for e in entity_ids])


def rebuild_names(db: Database | sqlite3.Connection, gazetteer: Gazetteer | None = None,
                  *, entities: bool = True) -> None:
    """Fill ``fold_terms`` from the FTS index's vocabulary and, with ``entities``,
    ``article_entities`` from every article, and their index tokens once the archive has
    them (migrations 0010 and 0013: :func:`fill_entity_tokens`)."""
    db = _conn(db)
    db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.fold_vocab USING fts5vocab("
               f"main, {FTS_TABLE}, 'row')")
    words = (row[0] for row in db.execute("SELECT term FROM temp.fold_vocab"))
    db.executemany("INSERT OR IGNORE INTO fold_terms (key, word) VALUES (?, ?)",
                   _term_rows(w for w in words if not w.startswith(FILTER_MARKERS)
                              or not _hexish(w)))
    db.execute("DROP TABLE temp.fold_vocab")
    if not entities:
        return
    m = matcher(gazetteer or default_gazetteer())
    db.execute("DELETE FROM article_entities")
    articles = db.execute("SELECT id, title, lead, body FROM articles")
    while rows := articles.fetchmany(5000):  # streamed: an archive's text need not fit
        db.executemany("INSERT INTO article_entities (article_id, entity_id) VALUES (?, ?)",
                       [(aid, e) for aid, *texts in rows
                        for e in sorted(entities_in(m, *texts))])
    if has_entity_column(db):
        fill_entity_tokens(db)


def _hexish(word: str) -> bool:
    # The filter column's tokens (src74617373...): a prefix and hex digits.
    tail = word
    for start in FILTER_MARKERS:
        tail = tail.removeprefix(start)
    return len(tail) >= 2 and all(ch in "0123456789abcdef" for ch in tail)


def _words_by_key(conn: sqlite3.Connection, keys: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for key, word in conn.execute(
                f"SELECT key, word FROM fold_terms WHERE key IN ({marks})", chunk):
            out.setdefault(key, []).append(word)
    return out


def _word_alternatives(word: str, words: Mapping[str, list[str]]) -> list[str]:
    if word.isdigit():
        return [word]
    key = word_key(word)
    found = [word, *words.get(key, ())]
    for inflected in inflected_keys(key):
        found.extend(words.get(inflected, ()))
    if len(word) <= _SHORT:
        # A letter or two is a designator's piece or an abbreviation: only its own length
        # (S -> С, Su -> Су), never a longer word whose folding happens to end the same
        # (США, "ssha", folds to "sa" like SA-21).
        found = [w for w in found if len(w) <= _SHORT]
    return list(dict.fromkeys(found))[:MAX_WORDS]


def _subsumed(phrase: tuple[str, ...], others: Iterable[tuple[str, ...]]) -> bool:
    """Whether a shorter alternative occurs inside ``phrase`` (then it adds no match)."""
    return any(len(o) < len(phrase) and any(phrase[i:i + len(o)] == o
                                             for i in range(len(phrase) - len(o) + 1))
               for o in others)


def _pruned(phrases: Iterable[str]) -> list[str]:
    """``phrases`` without those a shorter one already matches (``sergey lavrov`` when
    ``lavrov`` is there): fewer phrases for FTS5 to check, the same matches."""
    split = [tuple(p.split()) for p in dict.fromkeys(phrases)]
    return [" ".join(p) for p in split if not _subsumed(p, split)]


def _phrases(words: list[str], known: Mapping[str, list[str]]) -> list[str]:
    choices = [_word_alternatives(w, known) for w in words]
    return [" ".join(p) for p in itertools.islice(itertools.product(*choices), MAX_PHRASES)]


def expand_terms(conn: sqlite3.Connection, terms: Iterable[str],
                 gazetteer: Gazetteer | None = None) -> dict[str, tuple[str, ...]]:
    """For each query term (a word or a phrase as typed), the phrases (index words joined by
    spaces) it stands for: the indexed words sharing its folded key or the key of an
    inflected form, and the spellings of the gazetteer entities it names, likewise
    widened. The term's own words come first. Terms without a word are left out."""
    m = matcher(gazetteer or default_gazetteer())
    plans: dict[str, list[list[str]]] = {}
    for term in dict.fromkeys(terms):
        own = index_words(term)
        if not own:
            continue
        spellings = [own]
        for entity_id in sorted(entities_named(m, term)):
            for alias in m.entities[entity_id].aliases:
                spellings.append(index_words(alias))
        plans[term] = [s for s in spellings if s]
    keys: set[str] = set()
    for spelling in itertools.chain.from_iterable(plans.values()):
        for word in spelling:
            key = word_key(word)
            keys.update([key, *inflected_keys(key)])
    known = _words_by_key(conn, sorted(keys))
    out: dict[str, tuple[str, ...]] = {}
    for term, spellings in plans.items():
        phrases = _pruned(itertools.chain.from_iterable(_phrases(s, known) for s in spellings))
        out[term] = tuple(phrases[:MAX_PHRASES])
    return out


def expand_prefixes(conn: sqlite3.Connection, prefixes: Iterable[str]
                    ) -> dict[str, tuple[str, ...]]:
    """For each one-word prefix (as typed, without ``*``), the indexed words it stands for,
    under the key ``prefix + "*"`` (:func:`archive.store.query.fts_expression`): from
    ``fold_terms``, which holds every word the index does except numbers and the filter
    column's tokens. So a prefix that may match those (all digits, or the start of a
    filter token), or that stands for more than :data:`MAX_PREFIX_WORDS` words, is left
    to FTS5 (not in the result), as is one that matches no word."""
    out: dict[str, tuple[str, ...]] = {}
    for prefix in dict.fromkeys(prefixes):
        words = index_words(prefix)
        if len(words) != 1 or words[0].isdigit():
            continue
        word = words[0]
        if any(word.startswith(f) or f.startswith(word) for f in FILTER_MARKERS):
            continue
        found = [row[0] for row in conn.execute(
            "SELECT DISTINCT word FROM fold_terms WHERE word >= ? AND word < ?"
            " ORDER BY word LIMIT ?", [word, word + "\U0010ffff", MAX_PREFIX_WORDS + 1])]
        if 0 < len(found) <= MAX_PREFIX_WORDS:
            out[prefix + "*"] = tuple(found)
    return out


def check_entities(ids: Iterable[str], gazetteer: Gazetteer | None = None) -> None:
    """Raise :class:`~archive.store.query.QueryError` for an id the gazetteer does not
    have (an unknown ``--entity`` is an error, not an empty result)."""
    entities = matcher(gazetteer or default_gazetteer()).entities
    unknown = [i for i in ids if i not in entities]
    if unknown:
        raise QueryError(f"unknown entity {unknown[0]!r} (not in the gazetteer: "
                         "config/entities.toml, MEDIAWATCH_ENTITIES)")


def article_entities(conn: sqlite3.Connection, article_id: str,
                     gazetteer: Gazetteer | None = None) -> list[dict[str, Any]]:
    """The entities an article mentions: ``[{id, name, kind}]``, by name (an id the
    gazetteer no longer has shows with its id as name and kind None)."""
    ids = [r[0] for r in conn.execute(
        "SELECT entity_id FROM article_entities WHERE article_id = ?", [article_id])]
    return entity_rows(ids, gazetteer)


def entity_rows(ids: Iterable[str], gazetteer: Gazetteer | None = None
                ) -> list[dict[str, Any]]:
    """``{id, name, kind}`` of each entity id, sorted by name."""
    entities = matcher(gazetteer or default_gazetteer()).entities
    rows = []
    for entity_id in ids:
        entity = entities.get(entity_id)
        rows.append({"id": entity_id, "name": entity.name if entity else entity_id,
                     "kind": entity.kind if entity else None})
    return sorted(rows, key=lambda r: (str(r["name"]).lower(), r["id"]))
