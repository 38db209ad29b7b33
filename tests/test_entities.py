"""The gazetteer (config/entities.toml): loading, validation, tagging articles, ``show``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
import sqlite_utils

from archive.config.entities import (
    BUNDLED,
    KINDS,
    ConfigError,
    gazetteer_paths,
    load_entities,
    parse_entities,
)
from archive.gazetteer import entities_in, entities_named, matcher
from archive.models import Article, WarcLocation
from archive.store.db import Archive, CaptureRef
from archive.store.names import rebuild_names
from archive.store.schema import MIGRATIONS, entity_tokens
from archive.store.search import SearchQuery, search

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

SEED_IDS = {
    "sergei-shoigu", "sergey-lavrov", "volodymyr-zelensky", "recep-tayyip-erdogan",
    "mevlut-cavusoglu", "vladimir-putin", "hakan-fidan", "nato", "united-nations",
    "ministry-of-defence-russia", "s-400", "su-57", "bayraktar-tb2", "iskander", "himars",
    "patriot", "idlib", "turkey", "russia", "ukraine", "syria", "ankara", "moscow", "kyiv",
    "united-states",
}


def test_the_bundled_gazetteer_loads() -> None:
    gazetteer = load_entities(BUNDLED)
    ids = {e.id for e in gazetteer.entities}
    assert ids >= SEED_IDS
    assert all(e.kind in KINDS for e in gazetteer.entities)
    shoigu = gazetteer.get("sergei-shoigu")
    assert shoigu is not None
    assert "Шойгу" in shoigu.aliases
    assert shoigu.name == "Sergei Shoigu"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('[[entity]]\nid = "X Y"\nkind = "person"\nname = "x"',
                     "entity 'X Y': key 'id': must be a lowercase ascii slug", id="bad-id"),
        pytest.param('[[entity]]\nid = "x"\nkind = "robot"\nname = "x"',
                     "entity 'x': key 'kind': must be one of", id="bad-kind"),
        pytest.param('[[entity]]\nid = "x"\nkind = "person"\nname = "x"\nes = ["x"]',
                     "entity 'x': key 'es': unknown key", id="unknown-language"),
        pytest.param('[[entity]]\nid = "x"\nkind = "person"\nname = "x"\nru = "x"',
                     "entity 'x': key 'ru': must be a list", id="not-a-list"),
        pytest.param('[[entity]]\nid = "x"\nkind = "person"',
                     "entity 'x': key 'name': required", id="no-name"),
        pytest.param('[[entity]]\nid = "x"\nkind = "person"\nname = "x"\n'
                     '[[entity]]\nid = "x"\nkind = "person"\nname = "y"',
                     "entity 'x': key 'id': duplicate id", id="duplicate"),
    ],
)
def test_bad_entries_are_config_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_entities(text, "entities.toml")


def test_a_user_file_extends_and_overrides(tmp_path: Path) -> None:
    mine = tmp_path / "mine.toml"
    mine.write_text('[[entity]]\nid = "nato"\nkind = "organisation"\nname = "NATO"\n'
                    'en = ["the Alliance"]\n\n[[entity]]\nid = "akkuyu"\nkind = "place"\n'
                    'name = "Akkuyu"\nru = ["Аккую"]\n', encoding="utf-8")
    paths = gazetteer_paths(str(mine))
    assert paths == (BUNDLED, mine)
    gazetteer = load_entities(*paths)
    nato = gazetteer.get("nato")
    assert nato is not None
    assert nato.aliases == ("NATO", "the Alliance")
    assert gazetteer.get("akkuyu") is not None
    assert gazetteer.get("ankara") is not None


GAZETTEER = load_entities(BUNDLED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Министр Шойгу прибыл в Анкару", {"sergei-shoigu", "ankara"},
                     id="russian-case-ending-place"),
        pytest.param("Лаврову и Зеленского", {"sergey-lavrov", "volodymyr-zelensky"},
                     id="russian-cases"),
        pytest.param("Erdoğan'ın Çavuşoğlu ile", {"recep-tayyip-erdogan", "mevlut-cavusoglu"},
                     id="turkish"),
        pytest.param("поставки С-400 и Су-57", {"s-400", "su-57"}, id="designators"),
        pytest.param("the UN and the US", {"united-nations", "united-states"}, id="acronyms"),
        pytest.param("un accord, us too", set(), id="lowercase-is-no-acronym"),
        pytest.param("Минобороны России сообщило", {"ministry-of-defence-russia", "russia"},
                     id="organisation"),
        pytest.param("حلف شمال الأطلسي", {"nato"}, id="arabic"),
        # The longest spelling at a word wins: not Russia's ministry ("Минобороны").
        pytest.param("Минобороны Украины сообщило", {"ministry-of-defence-ukraine", "ukraine"},
                     id="longest-at-a-word"),
        # Acronyms letter for letter: the folded key of BRICS is Paris's.
        pytest.param("BRICS summit", {"brics"}, id="acronym-not-folded"),
        pytest.param("Poutine et l'OTAN", {"vladimir-putin", "nato"}, id="french"),
    ],
)
def test_entities_in_text(text: str, expected: set[str]) -> None:
    # Subsets: a fuller gazetteer may know more entities in the same text.
    found = entities_in(matcher(GAZETTEER), text)
    assert expected <= found
    assert not found & {"ministry-of-defence-russia", "paris"} - expected
    if not expected:
        assert not found & {"united-nations", "united-states"}


def test_a_query_names_an_entity_by_any_spelling() -> None:
    m = matcher(GAZETTEER)
    assert entities_named(m, "Selenskyj") == {"volodymyr-zelensky"}
    assert entities_named(m, "НАТО") == {"nato"}
    assert entities_named(m, "Sergey Shoigu") == {"sergei-shoigu"}
    assert entities_named(m, "us") == set()


def at(day: int) -> datetime:
    return datetime(2024, 7, day, 12, tzinfo=UTC)


STORY = Article(url="https://tass.example/s400", source="tass-ru", language="ru",
                title="Шойгу: поставки С-400 в Турцию завершены",
                body="Министр обороны России доложил Путину.", published=at(1))


TAGGED = {"russia", "s-400", "sergei-shoigu", "turkey", "vladimir-putin"}


def test_articles_are_tagged_at_ingest_and_show_lists_them(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        archive.upsert(STORY, CaptureRef(WarcLocation("a.warc.gz", 0, 1), STORY.url, 200, at(2)))
        shown = archive.show(STORY.url)
        assert shown is not None
        tagged = [e for e in shown["entities"] if e["id"] in TAGGED]
        assert tagged == [
            {"id": "russia", "name": "Russia", "kind": "country"},
            {"id": "s-400", "name": "S-400", "kind": "weapon"},
            {"id": "sergei-shoigu", "name": "Sergei Shoigu", "kind": "person"},
            {"id": "turkey", "name": "Turkey", "kind": "country"},
            {"id": "vladimir-putin", "name": "Vladimir Putin", "kind": "person"},
        ]
        # A new version's text replaces the tags.
        edited = Article(url=STORY.url, source=STORY.source, language="ru",
                         title="Поставки завершены", body="Без подробностей.",
                         published=STORY.published)
        archive.upsert(edited, CaptureRef(WarcLocation("a.warc.gz", 1, 1), STORY.url, 200,
                                          at(3)))
        shown = archive.show(STORY.url)
        assert shown is not None
        assert shown["entities"] == []


def test_rebuild_gives_what_ingest_gave(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        archive.upsert(STORY, CaptureRef(WarcLocation("a.warc.gz", 0, 1), STORY.url, 200, at(2)))
        conn: sqlite3.Connection = archive.db.conn
        tables = ("SELECT * FROM fold_terms ORDER BY 1, 2",
                  "SELECT * FROM article_entities ORDER BY 1, 2",
                  "SELECT id, entity_tokens FROM articles ORDER BY 1")
        before = [conn.execute(sql).fetchall() for sql in tables]
        conn.execute("DELETE FROM fold_terms")
        conn.execute("DELETE FROM article_entities")
        conn.execute("UPDATE articles SET entity_tokens = NULL")
        rebuild_names(conn, GAZETTEER)
        assert [conn.execute(sql).fetchall() for sql in tables] == before
        assert ("soigu", "шойгу") in before[0]
        assert before[2][0][1] == entity_tokens(
            e for (_aid, e) in before[1])  # the tokens of every tagged entity
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def ids(archive: Archive, text: str, *entities: str) -> list[str]:
    return [h["id"] for h in search(archive, SearchQuery(text, entities=entities))]


def test_an_entity_filter_is_an_index_token_replaced_with_the_text(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        archive.upsert(STORY, CaptureRef(WarcLocation("a.warc.gz", 0, 1), STORY.url, 200, at(2)))
        (story,) = ids(archive, "завершены")
        assert ids(archive, "завершены", "sergei-shoigu", "s-400") == [story]
        assert ids(archive, "завершены", "sergei-shoigu", "nato") == []
        # The filter is matched inside the index: the token is in the filter column.
        token = (entity_tokens(["s-400"]) or "").strip()
        assert archive.db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?",
                                  [f"filters:{token}"]).fetchone()[0] == 1
        edited = Article(url=STORY.url, source=STORY.source, language="ru",
                         title="Поставки завершены", body="Без подробностей.",
                         published=STORY.published)
        archive.upsert(edited, CaptureRef(WarcLocation("a.warc.gz", 1, 1), STORY.url, 200,
                                          at(3)))
        assert ids(archive, "завершены") == [story]
        assert ids(archive, "завершены", "sergei-shoigu") == []
        # The old tokens left the index with the old text ('delete' took the stored value).
        archive.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


def test_migration_puts_the_entities_of_older_archives_into_the_index(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.upsert(STORY, CaptureRef(WarcLocation("a.warc.gz", 0, 1), STORY.url, 200, at(2)))
        row = archive.db.execute("SELECT * FROM articles").fetchone()
        names = [d[0] for d in archive.db.execute("SELECT * FROM articles").description]
        tagged = archive.db.execute("SELECT * FROM article_entities").fetchall()
    old = sqlite_utils.Database(tmp_path / "old.db")
    MIGRATIONS.apply(old, stop_before="0013_entity_filter_tokens")
    kept = [n for n in names if n not in ("filters", "entity_tokens")]
    old.execute(f"INSERT INTO articles ({', '.join(kept)}) VALUES "
                f"({', '.join('?' * len(kept))})", [row[names.index(n)] for n in kept])
    old.conn.executemany("INSERT INTO article_entities VALUES (?, ?)", tagged)
    old.conn.commit()
    old.close()
    with Archive(tmp_path / "old.db") as migrated:
        (story,) = ids(migrated, "завершены")
        assert ids(migrated, "завершены", "sergei-shoigu", "turkey") == [story]
        assert ids(migrated, "завершены", "nato") == []
        migrated.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
