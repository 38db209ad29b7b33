"""The sample newsroom serves what the integration tests rely on: messy but deterministic."""

from __future__ import annotations

import gzip
import http.client
import importlib.util
import sys
import time
import urllib.error
import urllib.request
import urllib.robotparser
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archive.config.sources import parse_config
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import NON_ARTICLES, ROBOTS_DISALLOWED, STORIES

SLOW = 0.2  # the slow page waits this long here, instead of the default 2 s
STORY = {s["key"]: s for s in STORIES}
CHARSETS = {"ru_s400": "cp1251", "aa_tr_s400": "iso-8859-9"}


@pytest.fixture(scope="module")
def site() -> Iterator[Newsroom]:
    with Newsroom(slow_seconds=SLOW) as newsroom:
        yield newsroom


def fetch(newsroom: Newsroom, path: str, method: str = "GET",
          headers: dict[str, str] | None = None) -> tuple[http.client.HTTPResponse, bytes]:
    """One request without following redirects; returns the response and its body."""
    conn = http.client.HTTPConnection(newsroom.host, newsroom.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


def get_following(newsroom: Newsroom, path: str) -> tuple[str, bytes]:
    """GET following redirects; returns the final URL and body."""
    with urllib.request.urlopen(newsroom.base_url + path, timeout=10) as resp:
        assert resp.status == 200
        return resp.url, resp.read()


def test_robots_txt_disallows_private_paths(site: Newsroom) -> None:
    resp, body = fetch(site, "/robots.txt")
    assert resp.status == 200
    assert "Disallow: /northwind/private/" in body.decode()
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(body.decode().splitlines())
    for path in ROBOTS_DISALLOWED:
        assert not robots.can_fetch("mediawatch", site.base_url + path), path
    for story in STORIES:
        assert robots.can_fetch("mediawatch", site.base_url + story["canonical"])


def test_short_link_answers_301_to_the_article(site: Newsroom) -> None:
    resp, _ = fetch(site, "/s/Ab3x")
    assert resp.status == 301
    assert resp.getheader("Location") == site.base_url + STORY["s400"]["canonical"]


@pytest.mark.parametrize("key", [s["key"] for s in STORIES if s["short_url"]])
def test_every_short_link_lands_on_the_canonical_url(site: Newsroom, key: str) -> None:
    final, _ = get_following(site, STORY[key]["short_url"])
    assert final == site.base_url + STORY[key]["canonical"]


@pytest.mark.parametrize("key", [s["key"] for s in STORIES])
def test_every_story_url_answers_200_with_its_title(site: Newsroom, key: str) -> None:
    story = STORY[key]
    for path in story["urls"]:
        final, body = get_following(site, path)
        assert urlsplit(final).path in (story["canonical"], urlsplit(path).path)
        text = body.decode(CHARSETS.get(key, "utf-8"))
        assert story["title"].replace("'", "&#x27;") in text, path
        for term in story["search_terms"]:
            assert term in text


def test_windows_1251_article_is_encoded_cp1251(site: Newsroom) -> None:
    resp, body = fetch(site, STORY["ru_s400"]["canonical"])
    assert resp.getheader("Content-Type") == "text/html; charset=windows-1251"
    text = body.decode("cp1251")
    assert "Министр обороны" in text
    assert "С-400" in text  # Cyrillic Es
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


def test_turkish_article_declares_its_charset_only_in_meta(site: Newsroom) -> None:
    resp, body = fetch(site, STORY["aa_tr_s400"]["canonical"])
    assert resp.getheader("Content-Type") == "text/html"
    assert b'<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-9">' in body
    assert "teslimatı" in body.decode("iso-8859-9")
    assert b'<link rev="canonical" href="' + site.base_url.encode() + b'/aa/tR5k">' in body


def test_rss_is_gzipped_when_the_client_accepts_gzip(site: Newsroom) -> None:
    resp, body = fetch(site, "/northwind/rss.xml", headers={"Accept-Encoding": "gzip, deflate"})
    assert resp.getheader("Content-Encoding") == "gzip"
    assert resp.getheader("Vary") == "Accept-Encoding"
    xml = gzip.decompress(body)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"')
    assert b"?utm_source=rss&amp;utm_medium=feed</link>" in xml
    assert b'<guid isPermaLink="true">' in xml
    _, again = fetch(site, "/northwind/rss.xml", headers={"Accept-Encoding": "gzip"})
    assert again == body  # mtime=0: byte-identical on every request

    plain_resp, plain = fetch(site, "/northwind/rss.xml")
    assert plain_resp.getheader("Content-Encoding") is None
    assert plain == xml


def test_chunked_article_is_sent_chunked(site: Newsroom) -> None:
    resp, body = fetch(site, STORY["exercise"]["canonical"])
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Length") is None
    assert body.rstrip().endswith(b"</html>")
    assert STORY["exercise"]["title"].encode() in body


def test_keep_alive_serves_many_requests_on_one_connection(site: Newsroom) -> None:
    conn = http.client.HTTPConnection(site.host, site.port, timeout=10)
    try:
        statuses = []
        sockets = set()
        for path in ["/robots.txt", STORY["exercise"]["canonical"], "/s/Ab3x", "/nope",
                     "/northwind/rss.xml", STORY["exercise"]["canonical"]]:
            conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
            resp = conn.getresponse()
            resp.read()
            statuses.append(resp.status)
            assert not resp.will_close, path
            sockets.add(id(conn.sock))
        assert statuses == [200, 200, 301, 404, 200, 200]
        assert len(sockets) == 1, "the connection was not reused"
    finally:
        conn.close()


def test_article_repeats_set_cookie_and_link_headers(site: Newsroom) -> None:
    resp, _ = fetch(site, STORY["s400"]["canonical"])
    assert len(resp.headers.get_all("Set-Cookie")) == 2
    links = resp.headers.get_all("Link")
    assert links == [f'<{site.base_url}/s/Ab3x>; rel="shortlink"',
                     f'<{site.base_url}/northwind/amp/2020/11/29/s400-idlib.html>; rel="amphtml"']


def test_amp_copy_points_back_to_the_canonical_url(site: Newsroom) -> None:
    _, body = fetch(site, "/northwind/amp/2020/11/29/s400-idlib.html")
    canonical = site.base_url + STORY["s400"]["canonical"]
    assert f'<link rel="canonical" href="{canonical}">'.encode() in body


def test_edition_switch_changes_the_changing_story_and_nothing_else() -> None:
    def snapshot(newsroom: Newsroom) -> dict[str, bytes]:
        return {path: get_following(newsroom, path)[1]
                for story in STORIES for path in story["urls"]}

    with Newsroom(slow_seconds=0) as newsroom:
        first = snapshot(newsroom)
        feed_before = fetch(newsroom, "/northwind/rss.xml")[1]
        newsroom.edition = 2
        second = snapshot(newsroom)
        feed_after = fetch(newsroom, "/northwind/rss.xml")[1]
        newsroom.edition = 1
        assert snapshot(newsroom) == first  # switching back restores the bytes exactly

    changed = {path for path in first if first[path] != second[path]}
    edited = [s for s in STORIES if s["changes"] or s["words"] or s["published_edition2"]
              or s["removed_edition2"]]
    expected = {path for story in edited for path in story["urls"]}
    assert {s["key"] for s in edited} == {"summit", "drones", "procurement", "aa_border",
                                          "aa_redated"}
    assert changed == expected
    for story in STORIES:
        if story["changes"]:
            assert story["title_edition2"].encode() in second[story["canonical"]]
            assert story["title"].encode() not in second[story["canonical"]]
        for old, new in story["words"].values():
            page1, page2 = first[story["canonical"]], second[story["canonical"]]
            assert f" {old} ".encode() in page1
            assert f" {new} ".encode() not in page1
            assert f" {new} ".encode() in page2
        if story["removed_edition2"] == "redirect":
            assert b"list__item" in second[story["canonical"]]  # the section page
        if story["removed_edition2"] == "soft_404":
            assert "yayından kaldırılmıştır".encode() in second[story["canonical"]]
        if story["published_edition2"]:
            assert story["published_edition2"].encode() in second[story["canonical"]]
    assert feed_before != feed_after


def test_render_sources_parses_into_two_sources(site: Newsroom) -> None:
    config = parse_config(render_sources(site.base_url))
    assert [s.id for s in config.sources] == ["northwind", "anatolia"]
    assert config.crawl.obey_robots is True
    assert config.crawl.delay == 0
    assert config.crawl.max_page_size == 1024**2
    assert config.crawl.timeout > SLOW
    assert config.crawl.timeout > 2.0
    for source in config.sources:
        assert source.allows(site.base_url + "/")
        for url in source.start_urls:
            status = fetch(site, urlsplit(url).path)[0].status
            assert status == 200, url
    northwind, anatolia = config.sources
    for story in STORIES:
        source = northwind if story["source"] == "northwind" else anatolia
        assert source.follows(site.base_url + story["canonical"]), story["key"]
    for path in ROBOTS_DISALLOWED:
        assert any(s.follows(site.base_url + path) for s in config.sources), path


@pytest.mark.parametrize(("path", "status"), [
    ("/northwind/2021/03/02/deleted-story.html", 404),
    ("/northwind/2021/04/12/minister-interview.html", 500),
    ("/northwind/2021/04/13/ceasefire-talks.html", 503),
    ("/anatolia/tr/dunya/kaldirilan-haber/2061111", 410),
    ("/no/such/page", 404),
    ("/northwind/2021/05/05/moved-story.html", 301),
    ("/loop/a", 302),
    ("/loop/b", 302),
    ("/northwind/military", 301),
], ids=lambda v: str(v))
def test_error_and_redirect_pages(site: Newsroom, path: str, status: int) -> None:
    resp, body = fetch(site, path)
    assert resp.status == status
    assert resp.getheader("Content-Length") == str(len(body))
    if status == 503:
        assert resp.getheader("Retry-After") == "120"


def test_redirect_loop_never_ends(site: Newsroom) -> None:
    with pytest.raises(urllib.error.HTTPError, match="infinite loop"):
        urllib.request.urlopen(site.base_url + "/northwind/2021/05/05/moved-story.html")


def test_junk_and_oversized_pages(site: Newsroom) -> None:
    resp, junk = fetch(site, "/northwind/2021/07/07/corrupted.html")
    assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        junk.decode("utf-8")
    resp, big = fetch(site, "/northwind/2021/08/08/live-blog.html")
    assert int(resp.getheader("Content-Length")) == len(big) > 1024**2


def test_non_articles_are_served(site: Newsroom) -> None:
    for path in NON_ARTICLES:
        assert fetch(site, path)[0].status in (200, 301, 302, 404, 410, 500, 503), path


def test_head_mirrors_get_without_a_body(site: Newsroom) -> None:
    path = STORY["summit"]["canonical"]
    get_resp, body = fetch(site, path)
    head_resp, head_body = fetch(site, path, method="HEAD")
    assert head_resp.status == 200
    assert head_body == b""
    assert head_resp.getheader("Content-Length") == str(len(body))
    assert head_resp.getheader("Last-Modified") == get_resp.getheader("Last-Modified")


def test_other_methods_are_not_allowed(site: Newsroom) -> None:
    resp, _ = fetch(site, "/northwind/rss.xml", method="POST")
    assert resp.status == 405
    assert resp.getheader("Allow") == "GET, HEAD"


def test_hits_record_method_and_path_with_query(site: Newsroom) -> None:
    fetch(site, "/northwind/military/?page=2", method="HEAD")
    assert ("HEAD", "/northwind/military/?page=2") in site.hits


def test_slow_page_answers_after_slow_seconds(site: Newsroom) -> None:
    started = time.monotonic()
    resp, _ = fetch(site, STORY["madrid"]["canonical"])
    assert resp.status == 200
    assert time.monotonic() - started >= SLOW


def test_loads_by_file_path_without_sys_modules() -> None:
    # Anyone may load the server by its file path (a bench script, a tool outside the
    # package); the module must not need a package.
    path = Path(__file__).parents[1] / "scheduler" / "newsroom" / "server.py"
    spec = importlib.util.spec_from_file_location("mediawatch_newsroom", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "mediawatch_newsroom" not in sys.modules
    assert module.STORIES == STORIES
    with module.Newsroom() as newsroom:
        assert fetch(newsroom, "/robots.txt")[0].status == 200


def test_demo_constants_point_at_real_stories() -> None:
    from scheduler.newsroom.stories import DEMO_QUERY, DEMO_SHOW

    assert DEMO_SHOW in {s["short_url"] for s in STORIES if s["changes"]}
    assert sum(DEMO_QUERY in s["search_terms"] for s in STORIES) >= 2


@pytest.mark.parametrize(("key", "date_line", "jsonld"), [
    pytest.param("ru_s400", "13:15 30.11.2020", '"2020-11-30T13:15:00+03:00"', id="plus-3"),
    pytest.param("delhi", "14 September 2022, 21:10", '"2022-09-14T21:10:00+05:30"',
                 id="plus-5-30"),
    pytest.param("pentagon", "November 29, 2021 09:10 PM", '"2021-11-29T21:10:00-05:00"',
                 id="minus-5"),
    pytest.param("white_paper", "15 March 2022", '"datePublished": "2022-03-15"', id="day-only"),
])
def test_desks_print_local_time_without_a_zone(site: Newsroom, key: str, date_line: str,
                                               jsonld: str) -> None:
    """The time-zone ground truth: the date line a selector reads is local time with no
    zone; only the JSON-LD names the offset (the day-only page has no time at all)."""
    story = next(s for s in STORIES if s["key"] == key)
    resp, body = fetch(site, story["canonical"])
    assert resp.status == 200
    html = body.decode("windows-1251" if key == "ru_s400" else "utf-8")
    assert f">{date_line}</a>" in html
    assert jsonld in html


def test_day_only_story_is_in_the_news_sitemap_but_not_the_rss_feed(site: Newsroom) -> None:
    story = next(s for s in STORIES if s["published_precision"] == "day")
    _, sitemap = fetch(site, "/northwind/sitemap_news.xml")
    assert (f"<news:publication_date>{story['published']}</news:publication_date>"
            in sitemap.decode())
    _, rss = fetch(site, "/northwind/rss.xml")
    delhi = next(s for s in STORIES if s["key"] == "delhi")
    assert delhi["canonical"].encode() in rss
    assert story["canonical"].encode() not in rss
