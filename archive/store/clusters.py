"""The stored side of stories across outlets: signatures, links and clusters (migration
``0011_story_clusters``), and the reads that show and group them.

Tables (all derived from the articles, so ``mediawatch reindex`` rebuilds them):

``story_signatures``
    one row per article: what the linking rules read (source, language, title key, the
    moment ``at`` used by the windows, the MinHash signature as bytes, NULL for a text too
    short to compare, and its number of shingles: :class:`archive.clusters.linking.
    StoryKey`) and the content hash it was made from. ``seq`` grows with every write
    (AUTOINCREMENT), so an ingest run's LSH index picks up rows any process wrote since it
    last looked.
``story_links``
    one row per linked pair (``a < b``) and rule (``title``, ``text``, ``entities``) with its
    score (Jaccard estimate, shared entity count, 1 for the title rule).
``cluster_members``
    article -> cluster id (the smallest member id), for clusters of two or more articles
    only: an article without a row is a cluster of one whose id is its own.

The rules are in :mod:`archive.clusters`; this module holds the SQL. Entities come from the
``article_entities(article_id, entity_id)`` table of the entity tagging (issue 11 part 1),
read through :func:`shared_entities`, which finds nothing while that table is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from archive.store.schema import MIGRATIONS
from archive.times import parse_utc, utc_text

if TYPE_CHECKING:
    import sqlite3
    from datetime import datetime

    from sqlite_utils import Database

__all__ = [
    "ENTITY_TABLE",
    "cluster_ids",
    "cluster_of",
    "cluster_sizes",
    "entity_kinds",
    "first_member",
    "group_hits",
    "last_seq",
    "recluster",
    "replace_links",
    "save_signature",
    "shared_entities",
    "signatures_between",
    "signatures_since",
    "story_rows",
    "title_matches",
]

ENTITY_TABLE = "article_entities"

_TABLES = """
CREATE TABLE story_signatures (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  article_id TEXT NOT NULL UNIQUE REFERENCES articles(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  language TEXT,
  title_key TEXT NOT NULL,
  at TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  minhash BLOB,
  shingles INTEGER NOT NULL
);
CREATE INDEX story_signatures_at ON story_signatures(at);
CREATE INDEX story_signatures_title ON story_signatures(source, title_key, at);
CREATE TABLE story_links (
  a TEXT NOT NULL,
  b TEXT NOT NULL,
  kind TEXT NOT NULL,
  score REAL NOT NULL,
  PRIMARY KEY (a, b, kind)
) WITHOUT ROWID;
CREATE INDEX story_links_b ON story_links(b);
CREATE TABLE cluster_members (
  article_id TEXT PRIMARY KEY,
  cluster_id TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX cluster_members_cluster ON cluster_members(cluster_id);
"""


@MIGRATIONS(name="0011_story_clusters")
def _story_clusters(db: Database) -> None:
    # Clusters are stored at ingest (they were computed per page view before). Articles
    # archived before this migration are not linked here: at a million articles that takes
    # a quarter of an hour under the writer lock at the first open. `mediawatch reindex`
    # links them (or archive.clusters.index.rebuild_clusters on the open archive).
    db.executescript(_TABLES)


# --------------------------------------------------------------------------- writing


def story_rows(conn: sqlite3.Connection, ids: Iterable[str]) -> list[dict[str, Any]]:
    """The articles ``ids`` with what the rules need (``title``, ``lead``, ``body``,
    ``published``, ``first_seen``, ``content_hash``...) and their stored signature row's
    state (``s_*`` columns, NULL when none), in id order."""
    ids = sorted(set(ids))
    out: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        cursor = conn.execute(
            "SELECT a.id, a.source, a.language, a.title, a.lead, a.body, a.published,"
            " a.first_seen, a.content_hash, s.source AS s_source, s.language AS s_language,"
            " s.title_key AS s_title_key, s.at AS s_at, s.content_hash AS s_content_hash"
            " FROM articles AS a LEFT JOIN story_signatures AS s ON s.article_id = a.id"
            f" WHERE a.id IN ({marks}) ORDER BY a.id", chunk)
        names = [d[0] for d in cursor.description]
        out.extend(dict(zip(names, row, strict=True)) for row in cursor)
    return out


def save_signature(conn: sqlite3.Connection, article_id: str, source: str,
                   language: str | None, title_key: str, at: datetime, content_hash: str,
                   minhash: bytes | None, size: int) -> None:
    """Store (or replace, with a new ``seq``) the signature row of one article."""
    conn.execute("DELETE FROM story_signatures WHERE article_id = ?", [article_id])
    conn.execute(
        "INSERT INTO story_signatures (article_id, source, language, title_key, at,"
        " content_hash, minhash, shingles) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [article_id, source, language, title_key, utc_text(at), content_hash, minhash, size])


_SIGNATURE_COLUMNS = "seq, article_id, source, language, title_key, at, minhash, shingles"


def last_seq(conn: sqlite3.Connection) -> int:
    """The ``seq`` of the last signature row written (0 for none)."""
    return int(conn.execute("SELECT coalesce(max(seq), 0) FROM story_signatures").fetchone()[0])


def signatures_since(conn: sqlite3.Connection, seq: int) -> Iterator[tuple[Any, ...]]:
    """Signature rows written after ``seq`` (columns: seq, article_id, source, language,
    title_key, at, minhash, shingles), in ``seq`` order."""
    return iter(conn.execute(f"SELECT {_SIGNATURE_COLUMNS} FROM story_signatures"
                             " WHERE seq > ? ORDER BY seq", [seq]))


def signatures_between(conn: sqlite3.Connection, lo: datetime, hi: datetime
                       ) -> Iterator[tuple[Any, ...]]:
    """Signature rows (as :func:`signatures_since`) whose ``at`` is in ``[lo, hi]`` and that
    have a MinHash."""
    return iter(conn.execute(f"SELECT {_SIGNATURE_COLUMNS} FROM story_signatures"
                             " WHERE at BETWEEN ? AND ? AND minhash IS NOT NULL",
                             [utc_text(lo), utc_text(hi)]))


def title_matches(conn: sqlite3.Connection, article_id: str, source: str, title_key: str,
                  lo: datetime, hi: datetime) -> list[tuple[str, str]]:
    """Other articles of ``source`` with the title key ``title_key`` and ``at`` in
    ``[lo, hi]``: ``(article_id, at)`` rows."""
    return conn.execute(
        "SELECT article_id, at FROM story_signatures WHERE source = ? AND title_key = ?"
        " AND at BETWEEN ? AND ? AND article_id != ?",
        [source, title_key, utc_text(lo), utc_text(hi), article_id]).fetchall()


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        [name]).fetchone() is not None


def shared_entities(conn: sqlite3.Connection, article_id: str, lo: datetime, hi: datetime,
                    minimum: int) -> dict[str, set[str]]:
    """Articles with ``at`` in ``[lo, hi]`` sharing at least ``minimum`` entities with
    ``article_id``: other id -> the shared entity ids. Empty while the ``article_entities``
    table (entity tagging) does not exist."""
    if not _has_table(conn, ENTITY_TABLE):
        return {}
    rows = conn.execute(
        f"WITH mine AS (SELECT DISTINCT entity_id FROM {ENTITY_TABLE} WHERE article_id = :id),"
        f" hits AS (SELECT DISTINCT e.article_id, e.entity_id FROM {ENTITY_TABLE} AS e"
        "  JOIN mine USING (entity_id) WHERE e.article_id != :id),"
        " counted AS (SELECT article_id FROM hits GROUP BY article_id"
        "  HAVING count(*) >= :minimum)"
        " SELECT h.article_id, h.entity_id FROM hits AS h JOIN counted USING (article_id)"
        " JOIN story_signatures AS s ON s.article_id = h.article_id"
        " WHERE s.at BETWEEN :lo AND :hi",
        {"id": article_id, "minimum": minimum, "lo": utc_text(lo), "hi": utc_text(hi)})
    out: dict[str, set[str]] = {}
    for other, entity in rows:
        out.setdefault(other, set()).add(entity)
    return out


def entity_kinds(conn: sqlite3.Connection, entity_ids: Iterable[str]) -> dict[str, str]:
    """The kind (``person``, ``weapon``, ``place``...) of each entity id, from the gazetteer
    the articles were tagged with (:func:`archive.config.entities.default_gazetteer`); an id
    it does not know (an entry since removed) is left out. ``conn`` is unused: the kinds
    live in the gazetteer file, not in the archive."""
    from archive.config.entities import default_gazetteer

    known = {e.id: e.kind for e in default_gazetteer().entities}
    return {e: known[e] for e in sorted(set(entity_ids)) if e in known}


def replace_links(conn: sqlite3.Connection, article_id: str,
                  links: Iterable[tuple[str, str, str, float]]) -> set[str]:
    """Replace every link of ``article_id`` by ``links`` (``a, b, kind, score``, ``a < b``);
    returns the ids it was linked to before (their clusters may split)."""
    before = {r[0] for r in conn.execute(
        "SELECT b FROM story_links WHERE a = :id UNION SELECT a FROM story_links WHERE b = :id",
        {"id": article_id})}
    conn.execute("DELETE FROM story_links WHERE a = :id OR b = :id", {"id": article_id})
    conn.executemany("INSERT OR REPLACE INTO story_links (a, b, kind, score)"
                     " VALUES (?, ?, ?, ?)", list(links))
    return before


def _linked(conn: sqlite3.Connection, ids: list[str]) -> set[str]:
    marks = ", ".join("?" * len(ids))
    return {r[0] for r in conn.execute(
        f"SELECT b FROM story_links WHERE a IN ({marks})"
        f" UNION SELECT a FROM story_links WHERE b IN ({marks})", ids + ids)}


def recluster(conn: sqlite3.Connection, seeds: Iterable[str]) -> None:
    """Recompute the clusters of ``seeds``' components (walking ``story_links``) and store
    them in ``cluster_members``: each member -> the smallest member id; clusters of one are
    not stored. Any cluster id a member had before is replaced."""
    from archive.clusters.linking import components  # pure; no import cycle at load time

    todo = sorted(set(seeds))
    seen: set[str] = set(todo)
    # Former fellow members too: a removed link may have split their cluster.
    frontier = set(todo)
    while frontier:
        batch = sorted(frontier)
        found: set[str] = set()
        for start in range(0, len(batch), 400):
            chunk = batch[start : start + 400]
            found |= _linked(conn, chunk)
            marks = ", ".join("?" * len(chunk))
            found |= {r[0] for r in conn.execute(
                "SELECT article_id FROM cluster_members WHERE cluster_id IN"
                f" (SELECT cluster_id FROM cluster_members WHERE article_id IN ({marks}))",
                chunk)}
        frontier = found - seen
        seen |= found
    nodes = sorted(seen)
    links: list[tuple[str, str]] = []
    for start in range(0, len(nodes), 400):
        chunk = nodes[start : start + 400]
        marks = ", ".join("?" * len(chunk))
        links.extend(conn.execute(f"SELECT a, b FROM story_links WHERE a IN ({marks})", chunk))
    cluster = components(nodes, links)
    size: dict[str, int] = {}
    for root in cluster.values():
        size[root] = size.get(root, 0) + 1
    conn.executemany("DELETE FROM cluster_members WHERE article_id = ?", [[n] for n in nodes])
    conn.executemany("INSERT INTO cluster_members (article_id, cluster_id) VALUES (?, ?)",
                     [[n, root] for n, root in sorted(cluster.items()) if size[root] > 1])


# --------------------------------------------------------------------------- reading


def cluster_ids(conn: sqlite3.Connection, ids: Iterable[str]) -> dict[str, str]:
    """Each of ``ids`` -> its cluster id (its own id when it is alone)."""
    ids = sorted(set(ids))
    out = {i: i for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        out.update(conn.execute("SELECT article_id, cluster_id FROM cluster_members"
                                f" WHERE article_id IN ({marks})", chunk).fetchall())
    return out


def cluster_sizes(conn: sqlite3.Connection, cluster: Iterable[str]) -> dict[str, int]:
    """Each cluster id -> its number of members (1 for an article alone)."""
    ids = sorted(set(cluster))
    out = dict.fromkeys(ids, 1)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        out.update(conn.execute("SELECT cluster_id, count(*) FROM cluster_members"
                                f" WHERE cluster_id IN ({marks}) GROUP BY cluster_id",
                                chunk).fetchall())
    return out


def _order_key(member: Mapping[str, Any]) -> tuple[Any, ...]:
    # Instants: published is stored in UTC (a bare day is its midnight UTC); an article
    # without a date counts from its first capture. Ties: first capture, then id.
    when = parse_utc(member["published"] or member["first_seen"])
    return (when, member["first_seen"], member["id"])


def first_member(members: list[Mapping[str, Any]]) -> str:
    """The id of the member that had the story first (see :func:`cluster_of`)."""
    return str(min(members, key=_order_key)["id"])


def cluster_of(conn: sqlite3.Connection, article_id: str) -> dict[str, Any]:
    """The cluster of ``article_id`` as ``show`` gives it: ``{id, first, members}``, the
    members (``id, source, title, published, first_seen``) in the order they had the story:
    by ``published`` as instants (UTC, offsets applied), ties by ``first_seen``; ``first``
    is the first of them. An article alone is a cluster of one with its own id."""
    cid = cluster_ids(conn, [article_id])[article_id]
    cursor = conn.execute(
        "SELECT a.id, a.source, a.title, a.published, a.first_seen FROM articles AS a"
        " WHERE a.id = :aid OR a.id IN"
        " (SELECT article_id FROM cluster_members WHERE cluster_id = :cid)",
        {"aid": article_id, "cid": cid})
    names = [d[0] for d in cursor.description]
    members = sorted((dict(zip(names, r, strict=True)) for r in cursor), key=_order_key)
    return {"id": cid, "first": members[0]["id"] if members else article_id,
            "members": members}


def group_hits(conn: sqlite3.Connection, hits: Iterable[Mapping[str, Any]]
               ) -> list[dict[str, Any]]:
    """Search hits folded into one row per cluster (``search --group``, the UI's "one row
    per story"): the first hit of each cluster in result order stands for it, with
    ``cluster`` (its id), ``cluster_size`` (members in the archive) and ``grouped`` (how
    many of ``hits`` belong to it). A post-step over any result list: the search itself
    is untouched."""
    hits = [dict(h) for h in hits]
    cid = cluster_ids(conn, [h["id"] for h in hits])
    sizes = cluster_sizes(conn, cid.values())
    out: dict[str, dict[str, Any]] = {}
    for hit in hits:
        c = cid[hit["id"]]
        if c in out:
            out[c]["grouped"] += 1
            continue
        out[c] = {**hit, "cluster": c, "cluster_size": sizes[c], "grouped": 1}
    return list(out.values())
