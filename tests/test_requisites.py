"""Page requisites: finding them in HTML and CSS (pure functions), their config keys, and a
real crawl of the sample newsroom that captures them as ``requisite`` captures (never
articles), within robots.txt and the per-page caps, as revisits when unchanged.

The browser comparison of a replayed page with the live one is in
test_replay_requisites_browser.py.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from archive.config.files import ConfigError
from archive.config.sources import parse_sources
from crawler.pages.requisites import (
    Requisite,
    css_requisites,
    html_requisites,
    pick_srcset,
    slot_width,
)
from scheduler.newsroom import assets
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import Crawled

if TYPE_CHECKING:
    from pathlib import Path

PAGE = "http://news.test/world/2024/story.html"

# --------------------------------------------------------------------------- CSS


@pytest.mark.parametrize(("css", "expected"), [
    pytest.param('@import url("print.css") print;', [("http://news.test/s/print.css",
                                                       "stylesheet")], id="import-url"),
    pytest.param("@import 'a.css';\n@import \"/b.css\";",
                 [("http://news.test/s/a.css", "stylesheet"),
                  ("http://news.test/b.css", "stylesheet")], id="import-strings"),
    pytest.param("h1 { background: #fff url( ../img/bg.png ) no-repeat }",
                 [("http://news.test/img/bg.png", "image")], id="url-unquoted-spaces"),
    pytest.param('@font-face { font-family: X; src: url("f/x.woff2?v=3#iefix") '
                 'format("woff2"), url(f/x.ttf) }',
                 [("http://news.test/s/f/x.woff2?v=3", "font"),
                  ("http://news.test/s/f/x.ttf", "font")], id="font-face"),
    pytest.param(".i { background: url(https://cdn.test/icons.woff) }",
                 [("https://cdn.test/icons.woff", "font")], id="font-by-extension"),
    pytest.param("/* .old { background: url(old.png) } */ b { cursor: url(c.cur), auto }",
                 [("http://news.test/s/c.cur", "image")], id="comment-skipped"),
    pytest.param("a { background: url(data:image/png;base64,AAAA) } b { x: url('#f') }",
                 [], id="data-and-fragment-skipped"),
    pytest.param("a { background: url(x.png) } b { background: url('x.png') }",
                 [("http://news.test/s/x.png", "image")], id="each-once"),
])
def test_css_requisites(css: str, expected: list[tuple[str, str]]) -> None:
    found = css_requisites(css, "http://news.test/s/main.css")
    assert [(r.url, r.kind) for r in found] == expected


# --------------------------------------------------------------------------- srcset


@pytest.mark.parametrize(("sizes", "width"), [
    pytest.param(None, 1280, id="absent-100vw"),
    pytest.param("720px", 720, id="plain"),
    pytest.param("(max-width: 720px) 100vw, 688px", 688, id="media-not-matching"),
    pytest.param("(min-width: 1024px) 50vw, 100vw", 640, id="media-matching-vw"),
    pytest.param("(min-width: 60em) 40em, 100vw", 640, id="em"),
    pytest.param("calc(100vw - 2rem)", 1280, id="unreadable-falls-back"),
])
def test_slot_width(sizes: str | None, width: float) -> None:
    assert slot_width(sizes) == width


@pytest.mark.parametrize(("srcset", "sizes", "expected"), [
    pytest.param("a.png 480w, b.png 800w, c.png 1600w", "(max-width: 720px) 100vw, 688px",
                 "b.png", id="width-descriptors"),
    pytest.param("a.png 480w, b.png 1200w, c.png 2400w", None, "b.png",
                 id="geometric-mean-picks-just-under"),
    pytest.param("a.png 1x, b.png 2x", None, "a.png", id="density"),
    pytest.param("b.png 2x, a.png", None, "a.png", id="no-descriptor-is-1x"),
    pytest.param("a.png 0.5x, b.png 3x", None, "a.png", id="geometric-mean-of-far-apart"),
    pytest.param("img/a,b.jpg 1x,img/c.jpg 2x", None, "img/a,b.jpg", id="comma-in-url"),
    pytest.param("a.png 100q, b.png 640w", None, "b.png", id="bad-descriptor-dropped"),
    pytest.param("  ", None, None, id="empty"),
])
def test_pick_srcset(srcset: str, sizes: str | None, expected: str | None) -> None:
    assert pick_srcset(srcset, sizes) == expected


# --------------------------------------------------------------------------- HTML

HTML = """<!DOCTYPE html><html><head>
<base href="http://static.news.test/assets/">
<link rel="stylesheet" href="css/site.css"><link rel="alternate stylesheet" href="alt.css">
<link rel="alternate" type="application/rss+xml" href="/rss.xml">
<link rel="preload" as="image" href="hero-preload.jpg">
<link rel="shortcut icon" href="/favicon.ico"><link rel="apple-touch-icon" href="touch.png">
<script src="js/app.js" defer></script><script>var inline = 1;</script>
<style>.hero { background-image: url("img/hero-bg.jpg") }</style>
</head><body>
<a href="/elsewhere.html">a link is not a requisite</a>
<img src="img/photo.jpg" srcset="img/photo-640.jpg 640w, img/photo-1280.jpg 1280w">
<picture><source media="(max-width: 600px)" srcset="img/m.webp">
<source srcset="img/d.avif" type="image/avif"><source srcset="img/d.jpg 1x, img/d2.jpg 2x">
<img src="img/fallback.jpg"></picture>
<video poster="img/poster.jpg"></video>
<div style="background: url(img/inline.png)">x</div>
<img src="data:image/gif;base64,R0lGOD"><img src="javascript:void(0)">
<img src="img/photo.jpg">
</body></html>"""


def test_html_requisites_in_document_order() -> None:
    base = "http://static.news.test/assets/"
    assert html_requisites(HTML, PAGE) == [
        Requisite(base + "css/site.css", "stylesheet"),
        Requisite("http://static.news.test/favicon.ico", "icon"),
        Requisite(base + "touch.png", "icon"),
        Requisite(base + "js/app.js", "script"),
        Requisite(base + "img/hero-bg.jpg", "image"),
        Requisite(base + "img/photo.jpg", "image"),
        Requisite(base + "img/photo-1280.jpg", "image"),
        Requisite(base + "img/d.jpg", "image"),  # the first <source> a desktop uses
        Requisite(base + "img/fallback.jpg", "image"),
        Requisite(base + "img/poster.jpg", "image"),
        Requisite(base + "img/inline.png", "image"),
    ]


def test_a_page_without_an_icon_gets_the_default_favicon() -> None:
    assert html_requisites("<html><body><p>x</p></body></html>", PAGE) == [
        Requisite("http://news.test/favicon.ico", "icon")]


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02", b"<html>"], ids=repr)
def test_unparseable_pages_have_no_requisites_but_no_error(body: bytes) -> None:
    assert all(r.url.startswith("http") for r in html_requisites(body, PAGE))


# --------------------------------------------------------------------------- config

SOURCE = '[[source]]\nid = "a"\nfeeds = ["http://a.test/rss"]\n'


def test_requisite_keys_and_defaults() -> None:
    default = parse_sources(SOURCE)
    assert default.crawl.requisites is True
    assert default.sources[0].requisites is None
    config = parse_sources('[crawl]\nrequisites = false\nmax_requisites = 5\n'
                           'max_requisite_bytes = "2MB"\n' + SOURCE + "requisites = true\n")
    assert (config.crawl.requisites, config.crawl.max_requisites,
            config.crawl.max_requisite_bytes) == (False, 5, 2 * 1024**2)
    assert config.sources[0].requisites is True
    assert config.crawl.scrapy_settings()["MEDIAWATCH_MAX_REQUISITE_BYTES"] == 2 * 1024**2


@pytest.mark.parametrize(("text", "key"), [
    pytest.param('[crawl]\nrequisites = "yes"\n' + SOURCE, "crawl.requisites", id="crawl"),
    pytest.param(SOURCE + "requisites = 1\n", "requisites", id="source"),
    pytest.param('[crawl]\nmax_requisite_bytes = "lots"\n' + SOURCE,
                 "crawl.max_requisite_bytes", id="bytes"),
])
def test_bad_requisite_values_name_the_key(text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sources(text)
    assert info.value.key == key


# --------------------------------------------------------------------------- crawl


@dataclass
class Crawls:
    """Two crawls of the newsroom into one folder (the second re-checks every article),
    one with a per-page count cap and one with a byte cap (anatolia switched off in both);
    every request the newsroom answered."""

    first: Crawled
    counted: Crawled
    sized: Crawled
    hits: list[tuple[str, str]]
    hits_first: list[str]


@pytest.fixture(scope="module")
def crawls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawls]:
    work = tmp_path_factory.mktemp("requisites")
    with Newsroom(slow_seconds=0.2) as newsroom:
        sources = render_sources(newsroom.base_url)
        config = work / "sources.toml"
        config.write_text(sources, encoding="utf-8")
        first = Crawled(newsroom.base_url, config, work / "data", [], newsroom.hits)
        first.outputs.append(first.cli("crawl").stdout)
        hits_first = [p for _m, p in newsroom.hits]
        config.write_text(sources.replace("[crawl]\n", '[crawl]\nrecheck = ["1s"]\n'),
                          encoding="utf-8")
        first.outputs.append(first.cli("crawl").stdout)
        capped = []
        for name, cap in (("counted", "max_requisites = 1"),
                          ("sized", 'max_requisite_bytes = "100KB"')):
            capped_config = work / f"{name}.toml"
            capped_config.write_text(
                sources.replace("[crawl]\n", f"[crawl]\n{cap}\n")
                .replace('id = "anatolia"\n', 'id = "anatolia"\nrequisites = false\n'),
                encoding="utf-8")
            crawl = Crawled(newsroom.base_url, capped_config, work / name, [], newsroom.hits)
            crawl.outputs.append(crawl.cli("crawl").stdout)
            capped.append(crawl)
        yield Crawls(first, capped[0], capped[1], list(newsroom.hits), hits_first)


def _captures(data: Path) -> list[dict[str, object]]:
    db = sqlite3.connect(data / "archive.db")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(
            "SELECT url, kind, status, revisit, article_id, source FROM captures"
            " ORDER BY fetched_at")]
    finally:
        db.close()


def test_requisites_are_captured_as_requisites_never_as_articles(crawls: Crawls) -> None:
    base = crawls.first.base
    rows = _captures(crawls.first.data)
    requisites = {str(r["url"]).removeprefix(base) for r in rows if r["kind"] == "requisite"}
    assert {"/northwind/static/main.css", "/northwind/static/fonts.css",  # @import
            "/northwind/static/fonts/headline.ttf", "/northwind/static/fonts/headline.woff2",
            "/northwind/img/masthead.png",  # url() in the stylesheet
            "/northwind/img/photo-800.png",  # src and the desktop srcset candidate
            "/northwind/img/favicon.gif", "/northwind/static/app.js",
            "/anatolia/static/site.css", "/favicon.ico"} <= requisites
    assert all(r["article_id"] is None for r in rows if r["kind"] == "requisite")
    # Only article pages pull requisites: a feed or a section page names none of its own.
    assert "/northwind/img/photo-480.png" not in requisites
    assert "/northwind/img/photo-1600.png" not in requisites
    exported = crawls.first.cli("export", "--format", "jsonl").stdout
    urls = {json.loads(line)["url"] for line in exported.splitlines() if line.strip()}
    assert len(urls) >= 10
    assert not any(u.endswith((".css", ".png", ".gif", ".js", ".ttf")) for u in urls)


def test_requisites_obey_robots_txt(crawls: Crawls) -> None:
    # The article names a beacon under a disallowed path: the crawl never asks for it.
    assert not any(p.startswith("/northwind/private/") for _m, p in crawls.hits)


def test_a_stylesheet_is_fetched_once_per_crawl(crawls: Crawls) -> None:
    # Every northwind article names main.css; the crawl asks for it once.
    assert crawls.hits_first.count("/northwind/static/main.css") == 1


def test_unchanged_requisites_are_revisits_on_the_next_crawl(crawls: Crawls) -> None:
    base = crawls.first.base
    css = [r for r in _captures(crawls.first.data)
           if r["url"] == base + "/northwind/static/main.css"]
    assert [r["revisit"] is not None for r in css] == [False, True]
    font = [r for r in _captures(crawls.first.data)
            if r["url"] == base + "/northwind/static/fonts/headline.ttf"]
    assert len(font) == 2
    assert font[1]["revisit"] is not None
    runs = json.loads(crawls.first.cli("runs", "--format", "json").stdout)
    northwind = [r for r in runs if r["source"] == "northwind"]
    first, recheck = northwind[0]["requisite_bytes"], northwind[1]["requisite_bytes"]
    assert first > 5_000
    assert 0 < recheck < first / 10


def test_the_crawl_table_shows_the_requisite_share(crawls: Crawls) -> None:
    header, _rule, *rows = crawls.first.outputs[0].splitlines()[:4]
    assert header.split()[-1] == "requisite_%"
    shares = {row.split()[0]: int(row.split()[-1]) for row in rows}
    assert shares["northwind"] > 10


def _requisite_paths(crawl: Crawled) -> set[str]:
    return {str(r["url"]).removeprefix(crawl.base) for r in _captures(crawl.data)
            if r["kind"] == "requisite"}


def test_a_source_can_switch_requisites_off(crawls: Crawls) -> None:
    for crawl in (crawls.counted, crawls.sized):
        rows = _captures(crawl.data)
        assert any(r["kind"] == "article" and r["source"] == "anatolia" for r in rows)
        assert not any(r["kind"] == "requisite" and r["source"] == "anatolia" for r in rows)


def test_the_count_cap_per_page(crawls: Crawls) -> None:
    # Every northwind article names its stylesheet first: with one requisite per page, what
    # the stylesheet names (fonts.css, the masthead) is never asked for, whichever page a
    # concurrent crawl happened to fetch main.css for (a cap of 3 made that order matter).
    found = _requisite_paths(crawls.counted)
    assert "/northwind/static/main.css" in found
    assert "/northwind/static/fonts.css" not in found
    assert "/northwind/img/masthead.png" not in found


def test_the_byte_cap_per_page(crawls: Crawls) -> None:
    # The 340 kB font does not fit in a 100 kB budget: its download is cut, nothing stored;
    # the small requisites around it are captured.
    found = _requisite_paths(crawls.sized)
    assert {"/northwind/static/main.css", "/northwind/static/fonts.css",
            "/northwind/img/masthead.png"} <= found
    # (Without DejaVu on the machine the newsroom's font is a few bytes and fits.)
    font_fits = len(assets.font()) <= 100 * 1024
    assert ("/northwind/static/fonts/headline.ttf" in found) is font_fits
# --------------------------------------------------------------------------- replay of fonts


@pytest.mark.parametrize(("ctype", "url", "font"), [
    pytest.param("font/woff2", "http://n.test/f", True, id="font-type"),
    pytest.param("application/font-woff", "http://n.test/f", True, id="legacy-type"),
    pytest.param("application/octet-stream", "http://n.test/a/x.TTF?v=2", True,
                 id="octet-stream-by-extension"),
    pytest.param(None, "http://n.test/x.woff", True, id="no-type-by-extension"),
    pytest.param("text/html; charset=utf-8", "http://n.test/x.woff2", False,
                 id="error-page-at-a-font-url"),
    pytest.param("text/css", "http://n.test/fonts.css", False, id="stylesheet"),
])
def test_only_fonts_are_readable_cross_origin_in_replay(ctype: str | None, url: str,
                                                        font: bool) -> None:
    from datetime import UTC, datetime

    from archive.replay.rules import is_font, replay_headers

    assert is_font(ctype, url) is font
    headers = replay_headers([("Content-Type", ctype or "")], url=url,
                             fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
                             origin="http://127.0.0.1:8081", ts="20240101000000",
                             content_type=ctype, content_length=3)
    assert (("Access-Control-Allow-Origin", "*") in headers) is font
    raw = replay_headers([], url=url, fetched_at=datetime(2024, 1, 1, tzinfo=UTC),
                         origin="http://127.0.0.1:8081", ts="20240101000000",
                         content_type=ctype, content_length=3, raw=True)
    assert ("Access-Control-Allow-Origin", "*") not in raw
