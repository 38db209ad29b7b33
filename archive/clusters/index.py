"""Linking articles into stories at ingest: the in-process MinHash LSH of one ingest run.

:class:`StoryIndex` is kept per process and database file (:func:`index_for`): an ingest
run, or the rounds of ``ingest --follow``. It never rebuilds the LSH from scratch per
article: it loads, lazily, the stored signatures (``story_signatures``) of the time window
around the articles it links, and every row any process wrote since it last looked (the
table's ``seq``), so it sees the whole window whatever wrote it. For each article whose
text, date, title, source or language changed since its signature was made it stores the
new signature, recomputes the article's links with every rule
(:mod:`archive.clusters.linking`) and the clusters they touch.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from archive.clusters.bands import BandIndex
from archive.clusters.linking import (
    ENTITY_WINDOW,
    MIN_SHARED_ENTITIES,
    MIN_SHINGLES,
    TEXT_WINDOW,
    TITLE_WINDOW,
    Link,
    StoryKey,
    entity_link,
    language_of,
    moment,
    text_score,
)
from archive.clusters.minhash import NUM_PERM, signature, to_bytes
from archive.clusters.shingles import shingles, title_key
from archive.store import clusters as store
from archive.times import parse_utc

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Iterable
    from datetime import datetime

__all__ = ["LSH_PARAMS", "MAX_ENTRIES", "StoryIndex", "forget", "index_for", "link_stories",
           "rebuild_clusters"]

#: Bands x rows of the LSH (42 x 3 = 126 of the 128 permutations): a pair shares a band
#: with probability 1 - (1 - J**3)**42: 0.49 at J = 0.25 (the rule's minimum), 0.68 at
#: 0.3, 0.99 at 0.5, 0.05 at 0.1 (such candidates fail the check, which costs microseconds).
#: Set by hand: an optimizer weighing misses and false candidates equally picks fewer
#: bands, and a missed copy costs more here than a check.
LSH_PARAMS = (42, 3)
#: An ingest run that linked more articles than this starts its in-memory index again
#: (loading the windows it needs anew): memory stays bounded on a long reindex.
MAX_ENTRIES = 200_000


def _key_of(row: dict[str, Any]) -> tuple[StoryKey, str]:
    text = " ".join(filter(None, (row["title"], row["lead"], row["body"])))
    grams = shingles(text)
    sig = signature(grams) if len(grams) >= MIN_SHINGLES else None
    key = StoryKey(id=row["id"], source=row["source"], language=language_of(row["language"]),
                   title_key=title_key(row["title"]),
                   at=moment(row["published"], row["first_seen"]), signature=sig,
                   size=len(grams))
    return key, row["content_hash"]


def _unchanged(row: dict[str, Any]) -> bool:
    # The signature row still describes the article: same text, date, source, language.
    if row["s_content_hash"] is None:
        return False
    at = moment(row["published"], row["first_seen"])
    return (row["s_content_hash"] == row["content_hash"] and row["s_source"] == row["source"]
            and row["s_language"] == language_of(row["language"])
            and parse_utc(row["s_at"]) == at and row["s_title_key"] == title_key(row["title"]))


class StoryIndex:
    """The MinHash LSH of one ingest run over a connection (see the module docstring)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._reset()

    def _reset(self) -> None:
        self.bands = BandIndex(NUM_PERM, *LSH_PARAMS)
        # Rows written from now on come in by seq; older ones only with their window (a
        # fresh index must not read the whole table).
        self.seq = store.last_seq(self.conn)
        self.lo: datetime | None = None
        self.hi: datetime | None = None
        self.loaded = 0  # signature rows read from the database (for the bench)

    # -- the in-memory window ----------------------------------------------------------

    def _put(self, rows: Iterable[tuple[Any, ...]], skip_known: bool = False) -> None:
        """Add signature rows (:func:`archive.store.clusters.signatures_since` columns), in
        chunks (a week of a busy archive is 100,000 rows), sorted into the index once."""
        added = False
        rows = iter(rows)
        while chunk := list(itertools.islice(rows, 5000)):
            ids: list[str] = []
            sigs: list[bytes] = []
            ats: list[int] = []
            sizes: list[int] = []
            for seq, aid, _source, _language, _tkey, at, minhash, size in chunk:
                self.seq = max(self.seq, seq)
                self.loaded += 1
                if skip_known and aid in self.bands.row_of:
                    continue
                if minhash is None:
                    self.bands.remove(aid)  # its text became too short to compare
                    continue
                ids.append(aid)
                sigs.append(minhash)
                ats.append(int(parse_utc(at).timestamp()))
                sizes.append(size)
            if ids:
                matrix = np.frombuffer(b"".join(sigs), dtype="<u4").reshape(len(ids), NUM_PERM)
                # A batch's few rows go in as they are; a window's thousands sort once.
                bulk = len(ids) >= 256
                self.bands.add(ids, matrix, ats, sizes, defer=bulk)
                added = added or bulk
        if added:
            self.bands.sort()

    def _refresh(self) -> None:
        # Rows written since the last look (by this run or any other writer).
        self._put(store.signatures_since(self.conn, self.seq))

    def _cover(self, at: datetime) -> None:
        """Load the stored signatures of ``[at - window, at + window]`` not loaded yet."""
        lo, hi = at - TEXT_WINDOW, at + TEXT_WINDOW
        if self.lo is None or self.hi is None:
            ranges = [(lo, hi)]
        else:
            ranges = [r for r in ((lo, self.lo), (self.hi, hi)) if r[0] < r[1]]
        for a, b in ranges:
            # Rows already held are as new or newer (refreshed by seq): keep those.
            self._put(store.signatures_between(self.conn, a, b), skip_known=True)
        self.lo = lo if self.lo is None else min(self.lo, lo)
        self.hi = hi if self.hi is None else max(self.hi, hi)

    # -- linking -------------------------------------------------------------------------

    def _links(self, key: StoryKey) -> list[Link]:
        links: list[Link] = []
        if key.signature is not None:
            self._cover(key.at)
            sig = key.signature
            rows = self.bands.query(sig)
            near = np.abs(self.bands.ats[rows] - int(key.at.timestamp())) <= \
                TEXT_WINDOW.total_seconds()
            rows = rows[near]
            for row, jaccard in zip(rows.tolist(), self.bands.jaccard(sig, rows).tolist(),
                                    strict=True):
                score = text_score(jaccard, key.size, int(self.bands.sizes[row]))
                other = self.bands.ids[row]
                if score is not None and other != key.id:
                    links.append(Link.of(key.id, other, "text", score))
        if key.title_key:
            for other, _at in store.title_matches(self.conn, key.id, key.source, key.title_key,
                                                 key.at - TITLE_WINDOW, key.at + TITLE_WINDOW):
                links.append(Link.of(key.id, other, "title", 1.0))
        if key.language is not None:
            shared = store.shared_entities(self.conn, key.id, key.at - ENTITY_WINDOW,
                                           key.at + ENTITY_WINDOW, MIN_SHARED_ENTITIES)
            kinds = store.entity_kinds(self.conn, set().union(*shared.values()))
            others = {r["id"]: r for r in store.story_rows(self.conn, shared)}
            for other, entities in sorted(shared.items()):
                row = others.get(other)
                if row is None:
                    continue
                other_key = StoryKey(other, row["source"], language_of(row["language"]), "",
                                     moment(row["published"], row["first_seen"]), None)
                found = entity_link(key, other_key, entities, kinds)
                if found is not None:
                    links.append(found)
        # One row per pair and rule (a title match may also be found as text).
        return sorted(set(links))

    def update(self, ids: Iterable[str]) -> int:
        """Link the articles ``ids`` whose stored signature no longer describes them (or
        have none) and recompute the clusters they touch; returns how many were linked.
        Call it inside the transaction that stored the articles."""
        if len(self.bands) > MAX_ENTRIES:
            self._reset()
        changed: list[StoryKey] = []
        for row in store.story_rows(self.conn, ids):
            if _unchanged(row):
                continue
            key, content_hash = _key_of(row)
            store.save_signature(self.conn, key.id, key.source, key.language, key.title_key,
                                 key.at, content_hash,
                                 to_bytes(key.signature) if key.signature is not None else None,
                                 key.size)
            changed.append(key)
        if not changed:
            return 0
        self._refresh()  # this batch's own signatures too: articles of one batch link
        seeds: set[str] = set()
        for key in changed:
            links = self._links(key)
            seeds |= store.replace_links(self.conn, key.id,
                                         [(x.a, x.b, x.kind, x.score) for x in links])
            seeds.add(key.id)
            seeds.update(x.a if x.b == key.id else x.b for x in links)
        store.recluster(self.conn, seeds)
        return len(changed)


def rebuild_clusters(conn: sqlite3.Connection, batch: int = 500) -> int:
    """Drop every signature, link and cluster and link the whole archive again, in date
    order (an archive that had articles before migration 0011, a change of the rules or of
    the entity tagging; ``reindex`` does the same from the WARC files). Returns the number
    of articles linked. The result is the one ingest gives: the rules do not depend on the
    order."""
    for table in ("story_signatures", "story_links", "cluster_members"):
        conn.execute(f"DELETE FROM {table}")
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM articles ORDER BY coalesce(published, first_seen), id")]
    forget(conn)
    index = StoryIndex(conn)
    return sum(index.update(ids[start : start + batch]) for start in range(0, len(ids), batch))


_INDEXES: dict[tuple[str, int], StoryIndex] = {}


def _file_key(conn: sqlite3.Connection) -> tuple[str, int] | None:
    # The database file (path and inode: reindex swaps a new file in under the same name).
    path = next((r[2] for r in conn.execute("PRAGMA database_list") if r[1] == "main"), "")
    if not path:
        return None
    try:
        return path, os.stat(path).st_ino
    except OSError:
        return None


def index_for(conn: sqlite3.Connection) -> StoryIndex:
    """The :class:`StoryIndex` of this process for the database file of ``conn``: kept
    while the process lives, so ``ingest --follow`` and the scheduler, which open the
    archive again for each round, load the window's signatures once, not every round (what
    other processes wrote meanwhile comes in by ``seq``)."""
    key = _file_key(conn)
    if key is None:
        return StoryIndex(conn)
    index = _INDEXES.get(key)
    if index is None:
        index = _INDEXES[key] = StoryIndex(conn)
    index.conn = conn
    return index


def forget(conn: sqlite3.Connection) -> None:
    """Drop this process's index of the database of ``conn`` (after a rollback or a
    rebuild: its memory no longer matches the tables)."""
    key = _file_key(conn)
    if key is not None:
        _INDEXES.pop(key, None)


def link_stories(conn: sqlite3.Connection, ids: Iterable[str]) -> int:
    """Link the articles ``ids`` just stored (:meth:`StoryIndex.update` on
    :func:`index_for`); on an error the index is dropped, since the transaction that
    stored its new rows rolls back."""
    index = index_for(conn)
    try:
        return index.update(ids)
    except BaseException:
        forget(conn)
        raise
