"""URL normalization, aliases, identity keys, content hashes and outcome rules."""

from __future__ import annotations

import pytest

from archive.models import Article
from archive.store.identity import (
    Outcome,
    alias_records,
    article_aliases,
    article_id,
    article_id_candidates,
    choose_match,
    content_hash,
    decide_outcome,
    identity_key,
    normalize_text,
)
from archive.store.urls import (
    UrlError,
    is_tracking_param,
    link_key,
    normalize_url,
    strip_tracking,
    try_normalize_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("https://example.com/a", "https://example.com/a", id="already-normal"),
        pytest.param("http://example.com/a", "https://example.com/a", id="http-becomes-https"),
        pytest.param("HTTPS://EXAMPLE.COM/Path", "https://example.com/Path", id="case"),
        pytest.param("https://example.com", "https://example.com/", id="empty-path"),
        pytest.param("https://example.com?x=1", "https://example.com/?x=1", id="empty-path-query"),
        pytest.param("http://example.com:80/a", "https://example.com/a", id="http-port-80"),
        pytest.param("https://example.com:443/a", "https://example.com/a", id="https-port-443"),
        pytest.param("http://example.com:443/a", "https://example.com:443/a", id="odd-port-kept"),
        pytest.param("https://example.com:8080/a", "https://example.com:8080/a", id="port-kept"),
        pytest.param("https://example.com/a#section-2", "https://example.com/a", id="fragment"),
        pytest.param("https://www.example.com/a", "https://www.example.com/a", id="www-kept"),
        pytest.param("https://example.com./a", "https://example.com/a", id="trailing-dot-host"),
        pytest.param("https://user:pw@example.com/a", "https://example.com/a", id="userinfo"),
        pytest.param("https://example.com/a/", "https://example.com/a/", id="trailing-slash-kept"),
        pytest.param("https://example.com/a/./b/../c", "https://example.com/a/c", id="dots"),
        pytest.param("https://example.com/a/b/..", "https://example.com/a/", id="dots-at-end"),
        pytest.param("https://example.com/../a", "https://example.com/a", id="dots-above-root"),
        pytest.param(
            "https://example.com/a?utm_source=rss&utm_medium=feed",
            "https://example.com/a",
            id="utm-only",
        ),
        pytest.param(
            "https://example.com/a?id=7&utm_source=tw&page=2&fbclid=XyZ",
            "https://example.com/a?id=7&page=2",
            id="tracking-removed-order-kept",
        ),
        pytest.param(
            "https://example.com/a?b=2&a=1", "https://example.com/a?b=2&a=1", id="order-kept"
        ),
        pytest.param(
            "https://example.com/a?UTM_Campaign=x&GCLID=1&yclid=2&ysclid=3&_openstat=4",
            "https://example.com/a",
            id="tracking-case-insensitive",
        ),
        pytest.param(
            "https://www.bbc.com/news/x?at_medium=RSS&at_campaign=KARANGA",
            "https://www.bbc.com/news/x",
            id="bbc-at-params",
        ),
        pytest.param(
            "https://example.com/a?ref=rss&ref_src=twsrc%5Etfw&mc_cid=1&mc_eid=2",
            "https://example.com/a",
            id="ref-and-mailchimp",
        ),
        pytest.param("https://example.com/a?", "https://example.com/a", id="empty-query"),
        pytest.param("https://example.com/a?x=1&&y=", "https://example.com/a?x=1&y=", id="blanks"),
        pytest.param("https://example.com/%7euser", "https://example.com/~user", id="pct-tilde"),
        pytest.param("https://example.com/a%2fb", "https://example.com/a%2Fb", id="pct-upper"),
        pytest.param("https://example.com/a%41", "https://example.com/aA", id="pct-unreserved"),
        pytest.param("https://example.com/a b", "https://example.com/a%20b", id="space"),
        pytest.param("https://example.com/100%", "https://example.com/100%25", id="stray-percent"),
        pytest.param(
            "https://ria.ru/новости?q=тест",
            "https://ria.ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8?q=%D1%82%D0%B5%D1%81%D1%82",
            id="cyrillic-path-utf8",
        ),
        pytest.param(
            "https://ria.ru/%d0%bd%d0%be%d0%b2%d0%be%d1%81%d1%82%d0%b8",
            "https://ria.ru/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8",
            id="cyrillic-already-encoded",
        ),
        pytest.param("https://пример.рф/", "https://xn--e1afmkfd.xn--p1ai/", id="idn-host"),
        pytest.param(" https://example.com/a\n", "https://example.com/a", id="whitespace"),
        pytest.param("http://[::1]:80/a", "https://[::1]/a", id="ipv6"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("", id="empty"),
        pytest.param("/news/1", id="relative"),
        pytest.param("//example.com/a", id="scheme-relative"),
        pytest.param("ftp://example.com/a", id="ftp"),
        pytest.param("tag:example.com,2024:1", id="tag-guid"),
        pytest.param("urn:uuid:1234", id="urn"),
        pytest.param("https:///a", id="no-host"),
        pytest.param("https://example.com:99999/a", id="bad-port"),
    ],
)
def test_normalize_url_rejects(url: str) -> None:
    with pytest.raises(UrlError):
        normalize_url(url)
    assert try_normalize_url(url) is None


def test_normalize_url_is_idempotent() -> None:
    once = normalize_url("HTTP://Example.com:80/a/../%7eb?utm_source=x&q=%e2%82%ac#f")
    assert once == "https://example.com/~b?q=%E2%82%AC"
    assert normalize_url(once) == once


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(
            "HTTP://Ex.com:80/a/../b?utm_source=rss&id=1#top",
            "https://ex.com/b?utm_source=rss&id=1",
            id="normalized-tracking-kept",
        ),
        pytest.param("https://ex.com/b", "https://ex.com/b", id="plain"),
        pytest.param(" tag:ex.com,2024:1 ", "tag:ex.com,2024:1", id="not-a-url"),
    ],
)
def test_link_key(url: str, expected: str) -> None:
    assert link_key(url) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("utm_source", True),
        ("utm_anything", True),
        ("fbclid", True),
        ("Ref_Src", True),
        ("id", False),
        ("page", False),
        ("amp", False),
        ("utm", False),
    ],
)
def test_is_tracking_param(name: str, expected: bool) -> None:
    assert is_tracking_param(name) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param("http://Ex.com/a?utm_source=rss", "http://Ex.com/a", id="only-tracking"),
        pytest.param(
            "https://ex.com/a?utm_source=rss&id=2&fbclid=x#c",
            "https://ex.com/a?id=2#c",
            id="rest-kept-as-written",
        ),
        pytest.param("https://ex.com/a?b=%7e&a=1", "https://ex.com/a?b=%7e&a=1", id="untouched"),
        pytest.param("https://ex.com/a", "https://ex.com/a", id="no-query"),
        pytest.param("https://ex.com/a?x=1&&y=2", "https://ex.com/a?x=1&&y=2", id="no-tracking"),
        pytest.param("http://[bad/a?utm_source=x", "http://[bad/a?utm_source=x", id="unparsable"),
    ],
)
def test_strip_tracking(url: str, expected: str) -> None:
    assert strip_tracking(url) == expected


STORY = Article(
    url="https://news.example/2024/05/01/story?utm_source=rss",
    source="example",
    title="Story",
    canonical_url="https://news.example/2024/05/01/story",
    short_url="https://nws.ex/a1",
    amp_url="https://news.example/amp/2024/05/01/story",
    aliases=(
        "http://news.example/2024/05/01/story",  # the fetched http URL: same normalized
        "https://news.example/?p=123",
        "tag:news.example,2024:123",  # not a URL: skipped
    ),
)


def test_article_aliases_precedence_and_dedup() -> None:
    fetched = ("https://news.example/redirected", "https://nws.ex/a1", None)
    assert article_aliases(STORY, *fetched) == [
        ("https://nws.ex/a1", "short"),
        ("https://news.example/2024/05/01/story", "canonical"),
        ("https://news.example/amp/2024/05/01/story", "amp"),
        ("https://news.example/?p=123", "alias"),
        ("https://news.example/redirected", "fetched"),
    ]


def test_alias_records_keep_original_spelling() -> None:
    records = alias_records(STORY)
    assert records[1] == (
        "https://news.example/2024/05/01/story",
        "canonical",
        "https://news.example/2024/05/01/story",
    )
    plain = Article(url="https://ex.com/a?utm_medium=x", source="ex")
    assert alias_records(plain) == [("https://ex.com/a", "url", "https://ex.com/a?utm_medium=x")]


def test_site_root_canonical_is_ignored() -> None:
    page = Article(
        url="https://ex.com/news/1",
        source="ex",
        canonical_url="https://ex.com/",
        aliases=("https://ex.com",),
    )
    assert article_aliases(page) == [("https://ex.com/news/1", "url")]
    assert identity_key(page) == "https://ex.com/news/1"


def test_article_aliases_rejects_bad_page_url() -> None:
    with pytest.raises(UrlError):
        article_aliases(Article(url="/relative", source="ex"))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"short_url": "http://nws.ex/a1", "canonical_url": "https://ex.com/c"},
            "https://ex.com/c",
            id="own-site-canonical-first",
        ),
        pytest.param(
            {"short_url": "http://nws.ex/a1", "canonical_url": "https://www.ex.com/c"},
            "https://www.ex.com/c",
            id="www-is-the-same-site",
        ),
        pytest.param(
            {"short_url": "http://nws.ex/a1", "canonical_url": "https://wire.example/c"},
            "https://nws.ex/a1",
            id="other-site-canonical-passed-over",
        ),
        pytest.param({"short_url": "http://nws.ex/a1"}, "https://nws.ex/a1", id="short"),
        pytest.param({"canonical_url": "https://ex.com/c#x"}, "https://ex.com/c", id="canonical"),
        pytest.param({}, "https://ex.com/page", id="url"),
        pytest.param({"short_url": "not a url"}, "https://ex.com/page", id="bad-short-skipped"),
    ],
)
def test_identity_key_precedence(fields: dict[str, str], expected: str) -> None:
    article = Article(url="https://ex.com/page?utm_source=x", source="ex", **fields)
    assert identity_key(article) == expected


def test_amp_and_article_page_give_one_id_in_either_order() -> None:
    """The AMP page (no short URL) and the article page (short URL) of one story: the id
    must not depend on which of them a crawl fetched first."""
    amp = Article(url="https://ex.com/amp/news/1", source="ex",
                  canonical_url="https://ex.com/news/1")
    page = Article(url="https://ex.com/news/1", source="ex",
                   canonical_url="https://ex.com/news/1", short_url="https://ex.com/s/Ab3")
    assert identity_key(amp) == identity_key(page) == "https://ex.com/news/1"


def test_article_id_is_short_sha1_hex() -> None:
    assert article_id("https://ex.com/page") == "f2f1daabd6de"
    assert article_id("https://ex.com/page") == article_id("https://ex.com/page")
    assert len(article_id("x")) == 12


def test_article_id_candidates_fall_back_deterministically() -> None:
    gen = article_id_candidates("https://ex.com/page", "ex")
    first = [next(gen) for _ in range(4)]
    assert first == [
        article_id("https://ex.com/page"),
        article_id("ex https://ex.com/page"),
        article_id("ex https://ex.com/page #2"),
        article_id("ex https://ex.com/page #3"),
    ]
    assert len(set(first)) == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hello\n\tWorld  ", "hello world"),
        ("Stra\u00dfe", "strasse"),
        ("soft\u00adhyphen zero\u200bwidth", "softhyphen zerowidth"),
        ("МИНИСТР обороны", "министр обороны"),
        ("ﬁne\u00a0print", "fine print"),
        (None, ""),
    ],
)
def test_normalize_text(text: str | None, expected: str) -> None:
    assert normalize_text(text) == expected


def test_content_hash_ignores_case_and_whitespace_only() -> None:
    a = Article(url="https://ex.com/a", source="ex", title="Title", lead="Lead", body="Body  text")
    same = Article(
        url="https://ex.com/b", source="x", title=" TITLE", lead="lead", body="body\ntext"
    )
    moved = Article(url="https://ex.com/a", source="ex", title="TitleLead", body="Body text")
    changed = Article(url="https://ex.com/a", source="ex", title="Title", lead="Lead", body="Body")
    assert content_hash(a) == content_hash(same)
    assert content_hash(a) != content_hash(moved)
    assert content_hash(a) != content_hash(changed)
    assert len(content_hash(a)) == 40


@pytest.mark.parametrize(
    ("new", "current", "previous", "expected"),
    [
        pytest.param("h1", None, None, Outcome.INSERTED, id="no-article"),
        pytest.param("h1", "h1", None, Outcome.DUPLICATE, id="new-url-same-text"),
        pytest.param("h2", "h1", None, Outcome.DUPLICATE, id="new-url-other-text"),
        pytest.param("h1", "h1", "h1", Outcome.UNCHANGED, id="same"),
        pytest.param("h1", "h1", "h0", Outcome.UNCHANGED, id="equals-current"),
        pytest.param("h3", "h1", "h3", Outcome.UNCHANGED, id="equals-own-previous"),
        pytest.param("h2", "h1", "h1", Outcome.UPDATED, id="changed"),
    ],
)
def test_decide_outcome(
    new: str, current: str | None, previous: str | None, expected: Outcome
) -> None:
    assert decide_outcome(new, current, previous) is expected


def test_choose_match_prefers_short_then_canonical_and_never_merges() -> None:
    aliases = [("s", "short"), ("c", "canonical"), ("u", "url"), ("o", "alias")]
    owners = {"c": ("B", "ex"), "u": ("A", "ex"), "o": ("W", "wire")}
    match = choose_match(aliases, owners, "ex")
    assert match.article_id == "B"
    assert match.conflicts == (("u", "A"),)
    assert match.foreign == (("o", "W"),)
    assert choose_match(aliases, {**owners, "s": ("A", "ex")}, "ex").article_id == "A"


def test_choose_match_ignores_other_sources() -> None:
    match = choose_match([("c", "canonical")], {"c": ("W", "wire")}, "ex")
    assert match.article_id is None
    assert match.foreign == (("c", "W"),)
