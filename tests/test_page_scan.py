"""The page scan and the tag walks stand for XPath expressions (issue 10's parser cost);
they must select exactly what the expressions select.

Each answer of :class:`crawler.pages.scan.PageScan` and of the tag helpers in
:mod:`crawler.pages.markup` is compared with the XPath expression it replaces, on generated
pages (hypothesis, biased towards the attribute values that matter), on the fixture pages and
on the real pages of ``../shared/eval`` (``MEDIAWATCH_EVAL``), each parsed both ways the page
object parses (ours, and trafilatura's shared parse).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from crawler.pages import bodytext as bt
from crawler.pages import markup as mk
from crawler.pages.metadata import LEAD_CSS
from crawler.pages.scan import LEAD_CLASSES, PageScan

ROOT = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("MEDIAWATCH_EVAL", ROOT.parent / "shared" / "eval"))
FIXTURES = ROOT / "tests" / "fixtures"

ITEMPROPS = ("author", "name", "articleSection", "datePublished", "dateModified",
             "articleBody", "description", "Author", "headline")
XPATHS: dict[str, str] = {
    "itemtypes": "//*[@itemscope]/@itemtype",
    "captions": "//figcaption | //body//*[contains(@class, 'caption')] | "
                "//body//*[@data-component]",
    "date_nodes": "//body//time[@datetime] | "
                  "//body//*[contains(translate(@class, 'DATE', 'date'), 'date')]",
    "author_names": "//*[@itemprop='author']//*[@itemprop='name'] | //a[@rel='author']",
    "short_values": "//@data-shorturl | //@data-short-url | //@data-shortUrl | "
                    "//*[contains(translate(@class, 'SHORT', 'short'), 'short')]//input/@value",
}


def assert_scan_equals_xpath(root: Any, where: str = "") -> None:
    """Every answer of the scan of ``root`` equals its XPath expression's."""
    scan = PageScan(root)
    for name, xpath in XPATHS.items():
        expected = [str(v) if isinstance(v, str) else v for v in root.xpath(xpath)]
        assert getattr(scan, name) == expected, (where, name)
    for value in ITEMPROPS:
        assert scan.itemprop(value) == root.xpath("//*[@itemprop=$v]", v=value), (where, value)
    # LEAD_CSS through cssselect, as the page object selected it before
    from parsel import Selector
    assert scan.leads == [e.root for e in Selector(root=root, type="html").css(LEAD_CSS)], \
        where


def assert_tag_walks_equal_xpath(root: Any, where: str = "") -> None:
    """markup's tag walks equal the XPath expressions they replace."""
    from parsel import Selector

    sel = Selector(root=root, type="html")
    assert mk.first_attribute(root, "base", "href") == sel.xpath("//base/@href").get(), where
    assert mk.first_text(root, "title") == sel.xpath("//title/text()").get(), where
    assert mk.jsonld_blocks(root) == sel.xpath(
        "//script[contains(translate(@type, 'JSONLD', 'jsonld'), 'ld+json')]/text()").getall(), \
        where
    for attribute in ("rel", "rev"):
        expected: dict[str, list[str]] = {}
        for node in sel.xpath(f"//link[@{attribute}][@href] | //a[@{attribute}][@href]"):
            href = node.attrib.get("href", "").strip()
            for token in node.attrib.get(attribute, "").lower().split() if href else ():
                expected.setdefault(token, []).append(href)
        assert mk.rel_map(sel, attribute) == expected, (where, attribute)
    metas: dict[str, list[str]] = {}
    for meta in sel.xpath("//meta[@content]"):
        content = mk.normalize_space(mk.unescape_entities(meta.attrib.get("content", "")))
        for attr in ("property", "name", "itemprop", "http-equiv") if content else ():
            if key := meta.attrib.get(attr):
                metas.setdefault(key.strip().lower(), []).append(content)
    assert mk.meta_map(sel) == metas, where


def test_lead_classes_are_lead_css() -> None:
    assert frozenset(p.strip()[1:] for p in LEAD_CSS.split(",")
                     if p.strip()[:1] == ".") == LEAD_CLASSES


# --- generated pages ---------------------------------------------------------------------

_CLASS_WORDS = st.sampled_from([
    "caption", "Caption", "image-caption", "date", "DATE", "pubDate", "dAtE", "update-date",
    "short", "SHORT", "shortUrl", "lead", "article__lead", "leader", "dek", "subtitle",
    "standfirst", "announce", "article__announce-text", "x", "b-article__lead", "date\xa0x"])
_ATTRIBUTES = st.lists(st.one_of(
    st.tuples(st.just("class"), st.lists(_CLASS_WORDS, min_size=1, max_size=3).map(" ".join)),
    st.tuples(st.just("itemprop"), st.sampled_from(ITEMPROPS)),
    st.tuples(st.just("itemscope"), st.just("")),
    st.tuples(st.just("itemtype"), st.sampled_from(["https://schema.org/NewsArticle", "x"])),
    st.tuples(st.just("data-component"), st.sampled_from(["caption-block", "text-block"])),
    st.tuples(st.sampled_from(["data-shorturl", "data-short-url", "value", "datetime",
                               "rel"]),
              st.sampled_from(["https://s.example/1", "author", "2024-05-01", ""])),
), max_size=4, unique_by=lambda a: a[0])
_TAGS = st.sampled_from(["div", "span", "p", "a", "time", "input", "figcaption", "meta",
                         "section", "h1", "body"])


@st.composite
def _elements(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(_TAGS)
    attrs = "".join(f' {k}="{v}"' if v else f" {k}" for k, v in draw(_ATTRIBUTES))
    if tag in ("input", "meta"):
        return f"<{tag}{attrs}>"
    children = draw(st.lists(_elements(depth + 1), max_size=3)) if depth < 3 else []
    return f"<{tag}{attrs}>t{''.join(children)}</{tag}>"


@settings(max_examples=300, deadline=None)
@given(st.lists(_elements(), max_size=5), st.lists(_elements(), max_size=2))
def test_scan_equals_xpath_on_generated_pages(body: list[str], head: list[str]) -> None:
    text = (f"<html><head><title>T</title>{''.join(head)}</head>"
            f"<body><!-- c --><div>{''.join(body)}</div></body></html>")
    for root in (mk.html_selector(text).root, bt.trafilatura_tree(text)[0]):
        assert_scan_equals_xpath(root, text)
        assert_tag_walks_equal_xpath(root, text)


def test_scan_examples() -> None:
    """The cases the expressions are subtle about, spelled out."""
    root = mk.html_selector(
        '<html><head><meta itemprop="description" content="m"></head><body>'
        '<div class="SHORT-link"><input value="https://s.example/1"></div>'
        '<input value="not short">'
        '<span class="pubDate">1 May</span><span class="x date\xa0y">no</span>'
        '<p class="lead">L</p><p class="leader">no</p><p itemprop="description">D</p>'
        '<div itemprop="author"><span itemprop="name">A B</span></div>'
        '<a rel="author" href="/a">C D</a><a rel="author nofollow" href="/b">no</a>'
        '<figure><figcaption>F</figcaption></figure></body></html>').root
    scan = PageScan(root)
    assert scan.short_values == ["https://s.example/1"]
    assert [e.text for e in scan.date_nodes] == ["1 May", "no"]
    assert [e.text for e in scan.leads] == ["L", "D"]
    assert [e.text for e in scan.author_names] == ["A B", "C D"]
    assert [e.text for e in scan.captions] == ["F"]
    assert_scan_equals_xpath(root)


# --- fixture and real pages ---------------------------------------------------------------

def _fixture_pages() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.html"))


def _eval_pages() -> list[Path]:
    return sorted(p for d in (EVAL / "aeb" / "html", EVAL / "news_html") if d.is_dir()
                  for p in d.rglob("*") if p.name.endswith((".html", ".html.gz")))


def _text(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8", "replace")


def _check_pages(paths: list[Path]) -> int:
    checked = 0
    for path in paths:
        text = _text(path)
        tree, _shared = bt.trafilatura_tree(text)
        for root in (mk.html_selector(text).root, tree):
            if root is None or not isinstance(root.tag, str):
                continue
            assert_scan_equals_xpath(root, str(path))
            assert_tag_walks_equal_xpath(root, str(path))
            checked += 1
    return checked


def test_scan_equals_xpath_on_fixture_pages() -> None:
    assert _check_pages(_fixture_pages()) > 20


@pytest.mark.skipif(not _eval_pages(), reason="no ../shared/eval pages (MEDIAWATCH_EVAL)")
def test_scan_equals_xpath_on_real_pages() -> None:
    assert _check_pages(_eval_pages()) > 200


def test_scan_skips_comments_and_processing_instructions() -> None:
    root = mk.html_selector('<html><body><!-- class="date" --><?pi x?>'
                            '<p class="date">1 May 2024</p></body></html>').root
    assert [e.tag for e in PageScan(root).date_nodes] == ["p"]
    assert not [e for e in root.iter() if e.tag is etree.Comment and e in
                PageScan(root).date_nodes]
