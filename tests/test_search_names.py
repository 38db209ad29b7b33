"""Search across scripts and spellings on a real archive: widening through ``fold_terms``
and the gazetteer, ``exact``, entity filters, snippets in the article's own script."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.models import Article, WarcLocation
from archive.store.db import Archive, CaptureRef
from archive.store.identity import article_id
from archive.store.search import SearchQuery, count, expansions, search


def at(day: int) -> datetime:
    return datetime(2024, 6, day, 12, tzinfo=UTC)


ARTICLES = {
    "ru": Article(url="https://tass.example/ru/shoigu", source="tass-ru", language="ru",
                  title="Шойгу обсудил поставки С-400",
                  body="Министр обороны Сергей Шойгу провёл переговоры с Чавушоглу. "
                       "Лаврову доложили о ходе переговоров в Идлибе.", published=at(1)),
    "tr": Article(url="https://aa.example/tr/soygu", source="aa-tr", language="tr",
                  title="Şoygu ile Çavuşoğlu görüştü",
                  body="Rusya Savunma Bakanı Şoygu, Erdoğan'ın mesajını iletti. "
                       "S-400 teslimatları konuşuldu.", published=at(2)),
    "en": Article(url="https://reuters.example/shoigu", source="reuters", language="en",
                  title="Shoigu meets Cavusoglu on S-400 deliveries",
                  body="Russian Defence Minister Sergei Shoigu met Turkish Foreign Minister "
                       "Mevlut Cavusoglu in Ankara. Zelenskyy's office declined to comment.",
                  published=at(3)),
    "de": Article(url="https://dw.example/selenskyj", source="dw", language="de",
                  title="Selenskyj trifft Schoigu nicht",
                  body="Der ukrainische Präsident Wolodymyr Selenskyj sprach in Kiew.",
                  published=at(4)),
    "un": Article(url="https://lemonde.example/un", source="lemonde", language="fr",
                  title="Un sommet à Paris",
                  body="Un accord a été trouvé par les ministres.", published=at(5)),
}
ID = {name: article_id(a.url) for name, a in ARTICLES.items()}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    path = Path(tmp_path_factory.mktemp("names")) / "archive.db"
    with Archive(path) as opened:
        for offset, article in enumerate(ARTICLES.values()):
            capture = CaptureRef(WarcLocation("n.warc.gz", offset, 10), article.url, 200, at(6))
            opened.upsert(article, capture)
        yield opened


def found(archive: Archive, text: str, **kwargs: object) -> set[str]:
    hits = search(archive, SearchQuery(text, limit=50, **kwargs))  # type: ignore[arg-type]
    names = {v: k for k, v in ID.items()}
    return {names[h["id"]] for h in hits}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("Shoigu", {"ru", "tr", "en", "de"}, id="latin-finds-every-script"),
        pytest.param("Шойгу", {"ru", "tr", "en", "de"}, id="cyrillic-finds-latin"),
        pytest.param("Schoigu", {"ru", "tr", "en", "de"}, id="german-spelling"),
        pytest.param("Choïgou", {"ru", "tr", "en", "de"}, id="french-spelling"),
        pytest.param("Cavusoglu", {"ru", "tr", "en"}, id="cavusoglu"),
        pytest.param("Чавушоглу", {"ru", "tr", "en"}, id="cavusoglu-cyrillic"),
        pytest.param("S-400", {"ru", "tr", "en"}, id="designator-cyrillic-es"),
        pytest.param('"С-400"', {"ru", "tr", "en"}, id="designator-from-cyrillic"),
        pytest.param("Lavrov", {"ru"}, id="russian-case-ending"),
        pytest.param("Idlib", {"ru"}, id="place-case-ending"),
        pytest.param("Erdogan", {"tr"}, id="turkish-apostrophe-suffix"),
        pytest.param("Zelensky", {"en", "de"}, id="gazetteer-alias-selenskyj"),
        pytest.param("Selenskyj", {"en", "de"}, id="gazetteer-alias-back"),
        pytest.param("Shoigu Cavusoglu", {"ru", "tr", "en"}, id="two-names"),
        pytest.param("title:Shoigu", {"ru", "tr", "en", "de"}, id="column"),
    ],
)
def test_names_match_across_scripts(archive: Archive, query: str, expected: set[str]) -> None:
    assert found(archive, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("Shoigu", {"en"}, id="shoigu"),
        pytest.param("S-400", {"tr", "en"}, id="s-400-latin-only"),
        pytest.param("Lavrov", set(), id="no-case-endings"),
        pytest.param("Zelensky", set(), id="no-gazetteer"),
    ],
)
def test_exact_turns_widening_off(archive: Archive, query: str, expected: set[str]) -> None:
    assert found(archive, query, exact=True) == expected


def test_count_uses_the_same_widening(archive: Archive) -> None:
    assert count(archive, SearchQuery("Shoigu")) == 4
    assert count(archive, SearchQuery("Shoigu", exact=True)) == 1


def test_expansions_list_the_indexed_words(archive: Archive) -> None:
    widened = expansions(archive, SearchQuery("Shoigu"))
    assert widened is not None
    assert {"shoigu", "шойгу", "soygu", "schoigu"} <= set(widened["Shoigu"])
    assert expansions(archive, SearchQuery("Shoigu", exact=True)) is None


def test_snippets_mark_the_article_s_own_spelling(archive: Archive) -> None:
    hits = {h["id"]: h["snippet"] for h in search(archive, SearchQuery("Shoigu", limit=50))}
    assert "[Шойгу]" in hits[ID["ru"]]
    assert "[Şoygu]" in hits[ID["tr"]]
    assert "[Shoigu]" in hits[ID["en"]]


def test_entity_filter(archive: Archive) -> None:
    assert found(archive, "Shoigu", entities=("mevlut-cavusoglu",)) == {"ru", "tr", "en"}
    assert found(archive, "Shoigu", entities=("mevlut-cavusoglu", "ankara")) == {"en"}
    assert found(archive, "Shoigu", entities=("nato",)) == set()


def test_a_lowercase_word_is_not_an_acronym(archive: Archive) -> None:
    # French "Un" is not the United Nations (UN matches capitals only).
    rows = archive.db.execute("SELECT entity_id FROM article_entities WHERE article_id = ?",
                              [ID["un"]]).fetchall()
    assert ("united-nations",) not in rows


def test_alternatives_a_shorter_one_matches_are_left_out(archive: Archive) -> None:
    widened = expansions(archive, SearchQuery("Shoigu"))
    assert widened is not None
    # "Sergei Shoigu" adds no match to "shoigu": fewer phrases for FTS5 to check.
    assert not any(" " in phrase and "shoigu" in phrase.split()
                   for phrase in widened["Shoigu"])


def test_one_or_two_letters_widen_to_words_as_short(archive: Archive) -> None:
    widened = expansions(archive, SearchQuery('"S-400"'))
    assert widened is not None
    assert set(widened['S-400']) >= {"s 400", "с 400"}
    assert all(len(phrase.split()[0]) <= 2 for phrase in widened["S-400"]
               if phrase.split()[-1] == "400")


@pytest.mark.parametrize(("exact", "expected"), [
    pytest.param(False, {"ru", "tr", "en", "de"}, id="widened"),
    pytest.param(True, {"en"}, id="exact"),
])
def test_watchlists_match_like_a_search(archive: Archive, exact: bool,
                                        expected: set[str]) -> None:
    from datetime import timedelta

    from archive.config.watchlists import Watchlist
    from archive.web.watch import watchlist_view
    from scheduler.monitor.watchlists import record_alerts

    name = f"shoigu-{'exact' if exact else 'widened'}"
    watchlist = Watchlist(name=name, query="Shoigu", match='"Shoigu"', max_age_days=0,
                          exact=exact)
    alerts = record_alerts(archive, [watchlist], at(6) + timedelta(hours=1))
    names = {v: k for k, v in ID.items()}
    assert {names[a.article_id] for a in alerts} == expected
    view = watchlist_view(archive.db.conn, watchlist, at(5))
    assert {names[row["id"]] for row in view["new"]} == expected
