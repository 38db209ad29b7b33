"""Where an article's metadata is found: the ``<meta>`` names per field, and the pure
helpers of :class:`~crawler.pages.article.ArticlePage` that are not the page object itself.

The ``<meta>`` names each field reads (OpenGraph, ``article:*``, Dublin Core, Parse.ly,
Sailthru, cXense), the standfirst elements, the patterns of a truncated teaser and of a
" - Site Name" title suffix; the page's visible date, the test that a lead reads as prose,
and the short link a redirect chain reveals. Pure functions of their arguments.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lxml import etree

from crawler.pages import bodytext as bt
from crawler.pages.dates import PageDate, parse_page_date

if TYPE_CHECKING:
    from parsel import Selector

    from archive.models import CapturedResponse

__all__ = [
    "AUTHOR_META", "LANGUAGE_META", "LEAD_CSS", "MODIFIED_META", "PUBLISHED_META",
    "SECTION_META", "TAG_META_COMMAS", "TAG_META_LISTS", "TITLE_SEPARATORS", "TRUNCATED",
    "is_sentence", "lead_elements", "redirect_short_url", "visible_date",
]

PUBLISHED_META = (
    "article:published_time", "og:article:published_time", "article:published",
    "og:published_time", "datepublished", "published_time", "publishdate", "publish-date",
    "publish_date", "pubdate", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
    "dc.date.created", "dcterms.created", "parsely-pub-date", "sailthru.date",
    "article.published", "cxenseparse:recs:publishtime", "citation_publication_date",
    "datecreated", "date",
)
MODIFIED_META = (
    "article:modified_time", "og:article:modified_time", "og:updated_time", "datemodified",
    "article:modified", "dc.date.modified", "dcterms.modified", "lastmod", "last-modified",
)
SECTION_META = ("article:section", "og:article:section", "parsely-section", "sailthru.section",
                "cxenseparse:recs:articlesection", "section", "category")
AUTHOR_META = ("author", "article:author", "og:article:author", "parsely-author",
               "sailthru.author", "dc.creator", "dcterms.creator", "byl")
TAG_META_LISTS = ("article:tag", "og:article:tag")
TAG_META_COMMAS = ("news_keywords", "keywords", "parsely-tags", "sailthru.tags", "dc.subject")
LANGUAGE_META = ("content-language", "language", "dc.language", "inlanguage")
LEAD_CSS = (".article__announce-text, .article__announce, .b-article__lead, .article-lead, "
            ".article__lead, .lead, .standfirst, .article__standfirst, .subtitle, .dek, "
            "[itemprop=description]:not(meta)")
# LEAD_CSS as data for lead_elements: the class names, and the itemprop.
_LEAD_CLASSES = frozenset(p.strip()[1:] for p in LEAD_CSS.split(",") if p.strip()[:1] == ".")
_XPATH_SPACE = re.compile("[ \t\r\n]+")  # what XPath's normalize-space() collapses
# A JSON-LD articleBody cut off with an ellipsis is a teaser, not the body.
TRUNCATED = re.compile(r"(?:\.\.\.|…|\[\.\.\.\])\s*$")
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")


def visible_date(selector: Selector, date_format: str | None) -> PageDate | None:
    """The story's own printed date: the first ``<time datetime>`` or element with
    "date" in its class (not "modified"/"updated") outside other stories' teasers,
    navigation and the site header, parsed with ``date_format`` (the source's) first.
    Zone-less when the page printed no offset (the caller applies the source's zone)."""
    nodes = selector.xpath(
        "//body//time[@datetime] | //body//*[contains(translate(@class, 'DATE', 'date'), "
        "'date')]")
    for node in nodes[:30]:
        element = node.root
        words = bt.class_words(element)
        if words & {"modified", "updated", "update", "upd", "mod"} or any(
                bt.is_elsewhere(e) for e in element.iterancestors()):
            continue
        found = parse_page_date(element.get("datetime") or bt.element_text(element)[:80],
                                date_format)
        if found:
            return found
    return None


def is_sentence(text: str | None) -> bool:
    """A lead must read as prose: four words or more, not a bare date or widget label."""
    if not text or len(text) < 20 or len(text.split()) < 4:
        return False
    return not bt.is_date_line(text) and not bt.is_phrase_line(text)


def redirect_short_url(response: CapturedResponse) -> str | None:
    """The first URL of the redirect chain when it is a short link: another host, or the
    same host with a shorter path. http->https, ``www.`` and trailing-slash hops are not."""
    if not response.redirect_urls:
        return None
    first = response.redirect_urls[0]

    def key(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().removeprefix("www.")
        rest = parts.path.rstrip("/") + ("?" + parts.query if parts.query else "")
        return host, rest

    try:
        (host_a, rest_a), (host_b, rest_b) = key(first), key(response.url)
    except ValueError:
        return None
    if (host_a, rest_a) == (host_b, rest_b) or not host_a:
        return None
    if host_a != host_b or len(rest_a) < len(rest_b):
        return first
    return None


def lead_elements(sel: Selector) -> list[Any]:
    """The elements ``sel.css(LEAD_CSS)`` selects, in document order, in one pass over the
    tree: the CSS selector becomes eleven XPath scans of the whole page, 20 ms on a large
    one (issue 10's parser profile); a class token test in Python gives the same elements
    (``tests/test_hotspots.py`` compares the two) in a third of the time."""
    found = []
    for el in sel.root.iter(etree.Element):
        cls = el.get("class")
        if (cls is not None and not _LEAD_CLASSES.isdisjoint(_XPATH_SPACE.split(cls))) or (
                el.get("itemprop") == "description" and el.tag != "meta"):
            found.append(el)
    return found
