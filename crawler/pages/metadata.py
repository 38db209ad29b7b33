"""Where an article's metadata is found: the ``<meta>`` names per field, and the pure
helpers of :class:`~crawler.pages.article.ArticlePage` that are not the page object itself.

The ``<meta>`` names each field reads (OpenGraph, ``article:*``, Dublin Core, Parse.ly,
Sailthru, cXense), the standfirst elements, the patterns of a truncated teaser and of a
" - Site Name" title suffix; the page's visible date, the test that a lead reads as prose,
and the short link a redirect chain reveals. Pure functions of their arguments.

Dates have two more: :func:`in_other_region` (a date in a comment, a teaser, a related or
latest-news list is not the story's) and :func:`own_jsonld` / :func:`salvaged_jsonld_dates`
(the JSON-LD objects that describe this page, not another story, and the dates of the
page's own JSON-LD block when that block is not valid JSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crawler.pages import bodytext as bt
from crawler.pages import markup as mk
from crawler.pages.dates import PageDate, parse_page_date
from crawler.pages.scan import PageScan, in_body

if TYPE_CHECKING:
    from parsel import Selector

    from archive.models import CapturedResponse

__all__ = [
    "AUTHOR_META", "LANGUAGE_META", "LEAD_CSS", "MODIFIED_META", "PUBLISHED_META",
    "SECTION_META", "TAG_META_COMMAS", "TAG_META_LISTS", "TITLE_SEPARATORS", "TRUNCATED",
    "date_elements", "headline_dates", "in_other_region", "is_sentence", "lead_elements",
    "own_jsonld", "redirect_short_url", "salvaged_jsonld_dates", "visible_date",
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
# LEAD_CSS as data for lead_elements: scan.LEAD_CLASSES, and the itemprop (a test checks
# that the two say the same).
# A JSON-LD articleBody cut off with an ellipsis is a teaser, not the body.
TRUNCATED = re.compile(r"(?:\.\.\.|…|\[\.\.\.\])\s*$")
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")


# Class/id words of the regions whose dates belong to someone else than the story.
_COMMENT_WORDS = frozenset({"comment", "comments", "reply", "replies", "discussion", "disqus",
                            "respond", "responses", "kommentar", "kommentare", "коммент",
                            "комментарии", "yorum", "yorumlar"})
_UPDATE_WORDS = frozenset({"modified", "updated", "update", "upd", "mod"})
# The first word of a camelCase class name ("relatedContent", "teaserList"), which the
# lowercased class words miss: the words of other stories' boxes.
_CAMEL_HEAD = re.compile(r"(?:^|[\s_-])([a-z]+)[A-Z]")
_OTHER_HEADS = frozenset({"related", "recommended", "teaser", "teasers", "popular", "latest",
                          "more", "mostread", "sidebar", "comment", "comments"})
_DATE_NODES = ("//body//time[@datetime] | //body//*[contains(translate(@class, 'DATE', "
               "'date'), 'date')]")


def in_other_region(element: Any) -> bool:
    """True when ``element`` stands where another text's date stands: navigation, the site
    header, a teaser, related or "most read" box (:func:`~crawler.pages.bodytext.
    is_elsewhere`), a comment thread (class/id words, a schema.org ``Comment`` item), or an
    item of a list of links (three or more items with a link each: a latest-news list)."""
    for node in (element, *element.iterancestors()):
        if not isinstance(node.tag, str):
            continue
        if bt.is_elsewhere(node) or not _COMMENT_WORDS.isdisjoint(bt.class_words(node)):
            return True
        classes = node.get("class")
        if classes and not _OTHER_HEADS.isdisjoint(_CAMEL_HEAD.findall(classes)):
            return True
        if "comment" in (node.get("itemtype") or "").lower():
            return True
        if node.tag == "li" and _is_link_list(node.getparent()):
            return True
    return False


def _is_link_list(parent: Any) -> bool:
    if parent is None or parent.tag not in ("ul", "ol"):
        return False
    items = [c for c in parent if c.tag == "li"]
    return len(items) >= 3 and all(next(c.iter("a"), None) is not None for c in items)


def date_elements(selector: Selector, scan: PageScan | None = None
                  ) -> Iterator[tuple[Any, str]]:
    """The story's own printed dates, in document order, as (element, text): every
    ``<time datetime>`` and element with "date" in its class (not "modified"/"updated")
    outside the regions of :func:`in_other_region`; the text is ``datetime`` or the
    element's first 80 characters. The first 30 such elements are looked at. ``scan``: the
    page's :class:`~crawler.pages.scan.PageScan` if it has one (its ``date_nodes`` are
    what ``_DATE_NODES`` selects)."""
    for element in (scan or PageScan(selector.root)).date_nodes[:30]:
        if not _UPDATE_WORDS.isdisjoint(bt.class_words(element)) or in_other_region(element):
            continue
        yield element, element.get("datetime") or bt.element_text(element)[:80]


_HEADLINE_TEXTS = ".//text()[not(ancestor::script) and not(ancestor::style)]"
_SHORT_DATE = re.compile(r"^[^\n]{6,40}$")
_LOGO_WORDS = frozenset({"logo", "brand", "branding", "masthead"})
_A_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def headline_dates(selector: Selector, date_format: str | None = None,
                   dayfirst: bool | None = None, levels: int = 3) -> list[PageDate]:
    """The dates of short texts (6 to 40 characters, a year in them) in the block around
    the page's first ``<h1>`` outside other stories' regions: the story's date line when it
    carries no date class ("13 Oct 2020 18:29" in the headline's meta list, "Datum
    28.04.2023" under it). The headline's parent first, then up to ``levels`` ancestors:
    the dates of the first level that has any, in document order, none from
    :func:`in_other_region`."""
    headline = next((h for h in selector.root.iter("h1")  # //body//h1
                     if in_body(h) and not in_other_region(h) and not _is_logo(h)), None)
    block = headline.getparent() if headline is not None else None
    for _ in range(levels):
        if block is None or block.tag in ("body", "html"):
            break
        found = []
        for node in block.xpath(_HEADLINE_TEXTS):
            text = " ".join(str(node).split())
            if not _SHORT_DATE.match(text) or not _A_YEAR.search(text):
                continue
            if (date := parse_page_date(text, date_format, dayfirst)) is not None and \
                    not _in_teaser(node.getparent(), block):
                found.append(date)
        if found:
            return found
        block = block.getparent()
    return []


def _in_teaser(element: Any, block: Any) -> bool:
    """Between ``element`` and ``block`` (the headline's): a comment, another story's
    teaser or a list of links. Navigation words are not looked at here: beside the
    headline a ``nav`` class is a layout's inline list (the date line's own)."""
    node = element
    while node is not None and node is not block:
        words = bt.class_words(node)
        classes = node.get("class") or ""
        if not (_COMMENT_WORDS.isdisjoint(words) and _OTHER_HEADS.isdisjoint(words)
                and _OTHER_HEADS.isdisjoint(_CAMEL_HEAD.findall(classes))):
            return True
        if node.tag in ("aside", "footer") or (
                node.tag == "li" and _is_link_list(node.getparent())):
            return True
        node = node.getparent()
    return False


def _is_logo(element: Any) -> bool:
    """An ``<h1>`` that holds the site's logo (its own or its parent's class says so)."""
    parent = element.getparent()
    return any(not _LOGO_WORDS.isdisjoint(bt.class_words(e))
               for e in (element, parent) if e is not None)


def visible_date(selector: Selector, date_format: str | None,
                 dayfirst: bool | None = None) -> PageDate | None:
    """The first of :func:`date_elements` that parses, with ``date_format`` (the source's)
    first and ``dayfirst`` for an ambiguous numeric date. Zone-less when the page printed no
    offset (the caller applies the source's zone)."""
    for _element, text in date_elements(selector):
        found = parse_page_date(text, date_format, dayfirst)
        if found:
            return found
    return None


def own_jsonld(objects: Iterable[dict[str, Any]], page_urls: Iterable[str | None]
               ) -> list[dict[str, Any]]:
    """The JSON-LD article objects that describe this page: those that name no URL
    (``url``, ``@id``, ``mainEntityOfPage``) or name one of ``page_urls`` (the response URL,
    canonical, og:url, redirects). An object naming another page is another story's teaser."""
    known = {_url_key(u) for u in page_urls if u}
    own = []
    for obj in objects:
        named = {_url_key(u) for u in _jsonld_urls(obj)}
        named.discard(None)
        if not named or named & known:
            own.append(obj)
    return own


def _jsonld_urls(obj: dict[str, Any]) -> list[str]:
    values = [obj.get("url"), obj.get("@id"), obj.get("mainEntityOfPage")]
    out: list[str] = []
    for value in values:
        if isinstance(value, dict):
            value = value.get("@id") or value.get("url")
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            out.append(value)
    return out


def _url_key(url: str | None) -> str | None:
    """A URL compared loosely: scheme, ``www.``/``m.``/``amp.``, query, fragment, a
    trailing slash and an ``/amp`` tail do not count."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = re.sub(r"^(?:www\d?|m|amp|mobile)\.", "", (parts.hostname or "").lower())
    path = re.sub(r"(?:/amp|\.amp)?/*$", "", parts.path) or "/"
    return f"{host}{path}"


_LD_BLOCKS = "//script[contains(translate(@type, 'JSONLD', 'jsonld'), 'ld+json')]/text()"
_FIRST_TYPE = re.compile(r'"@type"\s*:\s*\[?\s*"([^"]+)"')


def salvaged_jsonld_dates(selector: Selector, key: str) -> list[str]:
    """``key``'s value (``datePublished``) out of the page's JSON-LD blocks that are not
    valid JSON even after the usual repairs (:func:`~crawler.pages.markup.jsonld_objects`
    skips them), when the block's first ``@type`` is an article type: the page's own
    markup, broken by a stray quote or control character, still says when it was
    published. The first value of each such block, as text."""
    pattern = re.compile(r'"' + re.escape(key) + r'"\s*:\s*"([^"]{6,60})"')
    found = []
    for raw in mk.jsonld_blocks(selector.root):
        if key not in raw or _loads(raw):
            continue
        kind = _FIRST_TYPE.search(raw)
        if kind is None or re.split(r"[/:#]", kind.group(1))[-1] not in mk.ARTICLE_TYPES:
            continue
        if match := pattern.search(raw):
            found.append(match.group(1))
    return found


def _loads(raw: str) -> bool:
    """True when ``raw`` is JSON as :func:`~crawler.pages.markup.jsonld_objects` reads it."""
    text = re.sub(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)", "", raw.strip())
    text = re.sub(r"(?:-->|//\s*\]\]>|\]\]>)\s*$", "", text).strip().rstrip(";")
    for candidate in (text, re.sub(r",\s*([}\]])", r"\1", text)):
        try:
            json.loads(candidate, strict=False)
            return True
        except (ValueError, RecursionError):
            continue
    return False


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


def lead_elements(sel: Selector, scan: PageScan | None = None) -> list[Any]:
    """The elements ``sel.css(LEAD_CSS)`` selects, in document order, found in the walk of
    :class:`~crawler.pages.scan.PageScan` (``scan``, the page's, if it has one): the CSS
    selector becomes eleven XPath scans of the whole page, 20 ms on a large one (issue 10's
    parser profile); a class token test in Python gives the same elements
    (``tests/test_hotspots.py`` compares the two)."""
    return (scan or PageScan(sel.root)).leads
