"""Property-based tests (hypothesis) of the search query language (issue 8):
:func:`archive.store.query.fts_expression` and the searches that run it
(:mod:`archive.store.search`, :mod:`archive.store.facets`, ``Archive.export``/``count``) on a
real small archive, loaded from a real WARC file. Random strings (quotes, parentheses,
operators, ``NEAR``, column filters, unicode, NUL): results or the documented QueryError,
never ``sqlite3.OperationalError``; and plain words find exactly the articles holding them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from archive.store import facets
from archive.store.db import Archive
from archive.store.query import MAX_QUERY_CHARS, QueryError, fts_expression
from archive.store.search import SORTS, Filters, SearchQuery, count, search_page
from archive.warc.reader import list_warcs
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.ingest import ingest_files

WHEN = datetime(2024, 5, 4, 10, 30, tzinfo=UTC)
# Words no article holds by chance; article n holds the words whose bit n is set.
VOCAB = ["zebrafinch", "quokkanet", "marmotide", "ocelotrix", "wombatize"]
LANGS = ["en", "ru", "tr", "en", "de", "fr", "en"]
EXTRA = {"ru": "Министр обороны ёлка встретился", "tr": "Kasım ayında İstanbul toplantısı"}


def _words(n: int) -> list[str]:
    return [w for bit, w in enumerate(VOCAB) if n >> bit & 1]


def _page(n: int) -> bytes:
    lang = LANGS[n % len(LANGS)]
    words = " ".join(_words(n))
    paras = "".join(
        f"<p>Paragraph {i} of report {n}: {words} the delegates met to discuss deliveries, "
        f"production and the agenda of the next summit. {EXTRA.get(lang, '')}</p>"
        for i in range(4))
    return (f'<html lang="{lang}"><head><title>Report {n} {words}</title>'
            f'<meta property="og:type" content="article">'
            f'<meta property="article:tag" content="tag{n % 3}">'
            f'<meta property="article:published_time" content="2024-05-0{1 + n % 9}T09:00:00Z">'
            f"</head><body><article><h1>Report {n} {words}</h1>{paras}</article></body></html>"
            ).encode()


ARTICLES = range(1, 2 ** len(VOCAB))  # every non-empty subset of the vocabulary


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    data = tmp_path_factory.mktemp("query")
    writer = RotatingWarcWriter(data / "warcs", "wire", host="h")
    for n in ARTICLES:
        url = f"http://wire.test/news/2024/05/report-{n}.html"
        writer.write_exchange(Exchange(
            url, "GET", f"/news/2024/05/report-{n}.html", (), "HTTP/1.1", 200, "OK",
            (("Content-Type", "text/html; charset=utf-8"),), _page(n),
            WHEN + timedelta(minutes=n), metadata={"source": f"wire{n % 2}", "kind": "article"}))
    writer.close()
    with Archive(data / "archive.db") as opened:
        ingest_files(opened, list_warcs(data / "warcs"), None, workers=1)
        assert opened.count() == len(ARTICLES)
        yield opened


# Pieces a user (or an attacker) types: words, FTS5 syntax, column filters, odd characters.
_PIECES = st.one_of(
    st.sampled_from(['"', "(", ")", "*", "AND", "OR", "NOT", "NEAR", "NEAR(", "NEAR/2",
                     "title:", "lead:", "body:", "filters:", "rowid:", "source:", "^", "-",
                     "+", ":", "\x00", "\x1a", "'", ";", "--", "/*", "{", "}", "\\", "''",
                     "AND NOT", "title:(", 'title:"', "*)", "\u0131", "\u0451", "\ufffd",
                     "\u200b", "\U0001f600", "\u0301", "İ", "1=1", "x'00'", "%", "_"]),
    st.sampled_from([*VOCAB, "report", "delegates", "министр", "kasim"]),
    st.text(max_size=8))
_QUERIES = st.one_of(st.lists(_PIECES, max_size=12).map(" ".join),
                     st.lists(_PIECES, max_size=12).map("".join), st.text(max_size=60))
FAST = settings(max_examples=200, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(_QUERIES)
@example("")
@example("NEAR(a b, 2)")
@example('title:"unterminated')
@example("a" * (MAX_QUERY_CHARS + 1))
@example("(" * 40 + "x" + ")" * 40)
@example("x\x00y")
def test_fts_expression_is_total(text: str) -> None:
    try:
        expression = fts_expression(text)
    except QueryError as exc:
        expression, message = "", str(exc)
    else:
        message = ""
    if message:
        assert "\n" not in message
        return
    assert expression
    assert "\x00" not in expression
    assert len(expression) < 10 * len(text) + 100  # no blow-up in the translation


@FAST
@given(text=_QUERIES, sort=st.sampled_from(SORTS),
       source=st.one_of(st.none(), st.sampled_from(["wire0", "wire1", "x\x00", '"', ""])),
       language=st.one_of(st.none(), st.sampled_from(["en", "RU", "tr-TR", "e n", "\x00", ""])),
       tag=st.one_of(st.none(), st.sampled_from(["tag1", "TAG2", '"', "\x00", ""])),
       offset=st.integers(-1, 40), limit=st.integers(0, 1001))
@example(text="NEAR(zebrafinch quokkanet, 1)", sort="relevance", source=None,
         language=None, tag=None, offset=0, limit=20)
def test_search_gives_results_or_query_error(archive: Archive, text: str, sort: str,
                                             source: str | None, language: str | None,
                                             tag: str | None, offset: int,
                                             limit: int) -> None:
    q = SearchQuery(text, source=source, language=language, tag=tag, sort=sort,
                    limit=limit, offset=offset)
    try:
        page = search_page(archive, q)
    except QueryError as exc:
        message = str(exc)
    except sqlite3.Error as exc:  # pragma: no cover - what the property forbids
        pytest.fail(f"{type(exc).__name__} escaped for {text!r}: {exc}")
    else:
        message = ""
    if message:
        assert "\n" not in message
        return
    assert len(page.hits) <= limit
    assert page.total >= len(page.hits)
    assert all(hit["id"] for hit in page.hits)


@FAST
@given(_QUERIES)
def test_facets_and_exports_give_rows_or_query_error(archive: Archive, text: str) -> None:
    conn = archive.db.conn
    f = Filters(text=text)
    try:
        for facet in ("source", "language", "tag"):
            facets.rows(conn, facets.counts_sql(f, facet))
        facets.rows(conn, facets.day_counts_sql(f))
        facets.rows(conn, facets.browse_sql(f, 5, 0))
        exported = list(archive.export(text))
        assert archive.count(text) == len(exported)
    except QueryError:
        return
    except sqlite3.Error as exc:  # pragma: no cover - what the property forbids
        pytest.fail(f"{type(exc).__name__} escaped for {text!r}: {exc}")


@settings(max_examples=100, deadline=2000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3, unique=True),
       st.sampled_from([str.lower, str.upper, str.title]),
       st.sampled_from(["", "*", "title:", "body:"]))
def test_plain_words_find_exactly_the_articles_holding_them(
        archive: Archive, words: list[str], case: object, decoration: str) -> None:
    """The honest half: whatever the syntax around them, words still mean words."""
    assert callable(case)
    if decoration == "*":
        text = " ".join(case(w) + "*" for w in words)
    else:
        text = " ".join(decoration + case(w) for w in words)
    expected = {n for n in ARTICLES if set(words) <= set(_words(n))}
    q = SearchQuery(text, limit=100)
    found = {int(hit["title"].split()[1]) for hit in search_page(archive, q).hits}
    assert found == expected, text
    assert count(archive, q) == len(expected)
