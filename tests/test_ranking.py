"""Relevance ranking through APSW (archive.store.ranking): the same order as FTS5's bm25()
where the IDF cannot differ, an IDF within the window where it can, and ranking
connections that are only used where they see what the caller sees."""

from __future__ import annotations

import os
import random
import sqlite3
from array import array
from pathlib import Path

import pytest

import archive.store.search as search_module
from archive.store import ranking
from archive.store.connection import connect
from archive.store.db import Archive
from archive.store.schema import date_key
from archive.store.search import QueryError, SearchQuery, search, search_sql, window_sql

WORDS = ("missile", "treaty", "summit", "navy", "army", "drone", "minister", "talks")


def _filler(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(("the", "of", "and", "report", "said")) for _ in range(n))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real archive file of 300 articles of random lengths and word counts."""
    path = Path(tmp_path_factory.mktemp("ranking")) / "archive.db"
    rng = random.Random(7)
    Archive(path).close()  # the schema
    rows = []
    for n in range(300):
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 12))]
        when = f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:00:00Z"
        rows.append((date_key(when) + n, f"id{n:04d}", f"https://example.test/{n}", "wire",
                     "en", f"{rng.choice(WORDS)} {_filler(rng, rng.randint(2, 8))}",
                     " ".join(words[:3]) + " " + _filler(rng, rng.randint(5, 20)),
                     " ".join(words) + " " + _filler(rng, rng.randint(20, 200)),
                     when, when, when, f"hash{n}", 1))
    conn = connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO articles (pk, id, url, source, language, title, lead, body,"
            " published, first_seen, last_seen, content_hash, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()
    return path


def _bm25_ids(conn: sqlite3.Connection, q: SearchQuery) -> list[str]:
    sql, params = search_sql(q)  # not ranked: bm25() inside the query
    return [row[0] for row in conn.execute(sql, params)]


@pytest.mark.parametrize("text", ["missile", '"said the"', "title:navy", "minist*"])
def test_same_order_as_bm25_for_one_phrase(db: Path, text: str) -> None:
    """One phrase: bm25's IDF scales every score alike, so the APSW ranking must give
    bm25's order exactly."""
    conn = connect(db, readonly=True)
    q = SearchQuery(text, limit=50, exact=True)
    got = [hit["id"] for hit in search(conn, q)]
    assert got, text
    assert got == _bm25_ids(conn, q)
    with ranking.borrow(conn) as ranker:
        assert ranker is not None  # the APSW path is the one that ran


@pytest.mark.parametrize("text", ["treaty summit", "drone AND army", "navy OR army",
                                  "missile NOT drone"])
def test_several_phrases_find_what_bm25_finds(db: Path, text: str) -> None:
    """Only the order may differ from bm25 (the IDF), never which articles match."""
    conn = connect(db, readonly=True)
    q = SearchQuery(text, limit=1000, exact=True)
    got = [hit["id"] for hit in search(conn, q)]
    assert got
    assert sorted(got) == sorted(_bm25_ids(conn, q))


def test_an_or_ranks_the_rarer_side_higher() -> None:
    """Within the window, a phrase few rows hold weighs more than one most rows hold."""
    common, rare = array("d", [0.9, 0.0]).tobytes(), array("d", [0.0, 0.9]).tobytes()
    scores = ranking.window_scores([common] * 9 + [rare])
    assert scores[-1] < scores[0]  # lower is better
    assert len(set(scores[:-1])) == 1
    assert len(ranking.window_scores([])) == 0


def test_the_page_is_best_first_then_newest() -> None:
    one = array("d", [0.5]).tobytes()
    two = array("d", [0.9]).tobytes()
    window = [(30, one), (20, two), (10, two), (5, one)]
    assert [pk for pk, _score in ranking.ranked_page(window, 0, 10)] == [20, 10, 30, 5]
    assert [pk for pk, _score in ranking.ranked_page(window, 1, 2)] == [10, 30]
    assert ranking.ranked_page([], 0, 20) == []


def test_more_of_a_phrase_ranks_higher_and_saturates(db: Path) -> None:
    """The term-frequency part grows with the count, less and less (k1), as bm25's."""
    conn = connect(db, readonly=True)
    with ranking.borrow(conn) as ranker:
        assert ranker is not None
        rows = ranker.execute(
            f"SELECT {ranking.FUNCTION}(articles_fts) FROM articles_fts"
            " WHERE articles_fts MATCH 'missile'").fetchall()
    parts = sorted(array("d", bytes(packed))[0] for (packed,) in rows)  # type: ignore[arg-type]
    assert parts[0] > 0
    assert parts[-1] < ranking.K1 + 1  # saturates below k1 + 1 times the weight share


def test_no_ranking_connection_in_memory_or_in_a_transaction(db: Path) -> None:
    memory = sqlite3.connect(":memory:")
    with ranking.borrow(memory) as ranker:
        assert ranker is None
    conn = connect(db)
    conn.execute("BEGIN")
    conn.execute("UPDATE articles SET title = 'zanzibar' WHERE id = 'id0001'")
    with ranking.borrow(conn) as ranker:
        assert ranker is None  # it would not see the uncommitted title
    hits = search(conn, SearchQuery("zanzibar", exact=True))
    assert [hit["id"] for hit in hits] == ["id0001"]
    conn.rollback()
    conn.close()


def test_a_replaced_file_gets_a_new_pool_and_the_old_one_closes(tmp_path: Path, db: Path
                                                                 ) -> None:
    """reindex swaps in a new file: the ranking must read the new one."""
    copy = tmp_path / "archive.db"
    copy.write_bytes(db.read_bytes())
    conn = connect(copy, readonly=True)
    with ranking.borrow(conn) as first:
        assert first is not None
    old_pool = ranking._pool(str(copy))
    conn.close()
    replacement = tmp_path / "new.db"
    replacement.write_bytes(db.read_bytes())
    os.replace(replacement, copy)
    conn = connect(copy, readonly=True)
    with ranking.borrow(conn) as second:
        assert second is not None
        assert second is not first
    assert old_pool.closed
    assert not old_pool.idle
    assert [hit["id"] for hit in search(conn, SearchQuery("missile", exact=True))]


def test_a_failed_ranking_falls_back_and_query_errors_stay_query_errors(db: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An expression FTS5 refuses, met first by the ranking connection (APSW), is the same
    QueryError as through sqlite3 (the search is re-run there), not an APSW exception."""
    def broken(q: SearchQuery, widened: object = None) -> tuple[str, dict[str, object]]:
        sql, params = window_sql(q)
        return sql, {**params, "match": '"missile" AND'}

    def broken_match(text: str | None, filters: list[str], widened: object = None) -> str:
        return '"missile" AND'

    monkeypatch.setattr(search_module, "window_sql", broken)
    conn = connect(db, readonly=True)
    # the ranking fails and the search goes on through sqlite3 with the good expression
    assert [hit["id"] for hit in search(conn, SearchQuery("missile", exact=True))] == \
        _bm25_ids(conn, SearchQuery("missile", exact=True))
    monkeypatch.setattr(search_module, "match_expression", broken_match)
    with pytest.raises(QueryError, match="cannot search"):
        search(conn, SearchQuery("missile"))


def test_pools_beyond_the_limit_close_the_least_recently_used(
        tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ranking, "MAX_DATABASES", 2)
    pools = []
    for n in range(4):
        copy = tmp_path / f"a{n}.db"
        copy.write_bytes(db.read_bytes())
        pools.append(ranking._pool(str(copy)))
    assert [pool.closed for pool in pools] == [True, True, False, False]
    assert ranking._pool(str(tmp_path / "a3.db")) is pools[3]  # still there
