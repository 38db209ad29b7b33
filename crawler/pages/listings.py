"""Page objects: pure functions of a captured response, in the style of Zyte's web-poet.

Each class wraps one :class:`~archive.models.CapturedResponse` and exposes one property per
field, ``None`` (or an empty tuple) when the page lacks it. No network, no clock, no
database and no Scrapy: the spider, ``reindex``, ``extract`` and the tests run the same code
on the same stored bytes and get the same answer.

- :class:`FeedPage` / :class:`SitemapPage` / :class:`SectionPage` -> ``links()``: the
  article (and nested sitemap) URLs they list, with what the listing said as
  :class:`~archive.models.Hints`.
- :class:`ArticlePage` (in :mod:`crawler.pages.article`) -> fields and ``to_article()``.

Only :class:`ParseError` (a listing that cannot be read) and :class:`NotAnArticle` (a page
that is not a story) leave these classes; everything else is logged with the URL.
"""

from __future__ import annotations

import calendar
import io
import logging
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lxml import etree

from archive.models import CapturedResponse, Hints
from crawler.pages import bodytext, markup
from crawler.pages.article import ArticlePage, NotAnArticle
from crawler.pages.dates import parse_date
from crawler.pages.encoding import decode_html, looks_binary
from crawler.pages.markup import HTML_TYPES, absolute_url, html_selector

if TYPE_CHECKING:
    from archive.config.sources import Source

__all__ = [
    "ArticlePage", "FeedPage", "Link", "NotAnArticle", "ParseError", "SectionPage",
    "SitemapPage", "decode_html",
]

logger = logging.getLogger(__name__)

MAX_SITEMAP_BYTES = 100 * 1024**2  # the protocol caps a sitemap at 50 MB uncompressed
_NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True, slots=True)
class Link:
    """A URL a listing points to: ``kind`` is ``article``, ``sitemap`` (a nested sitemap or
    index) or ``feed``; ``hints`` is what the feed entry or news sitemap said about it."""

    url: str
    kind: str
    hints: Hints = field(default_factory=Hints)


class ParseError(ValueError):
    """A feed or sitemap that cannot be read as one; the message names the URL."""

    def __init__(self, url: str, msg: str):
        self.url, self.msg = url, msg
        super().__init__(f"{url}: {msg}")


def _unique_links(links: list[Link]) -> list[Link]:
    seen: set[tuple[str, str]] = set()
    out: list[Link] = []
    for link in links:
        if (link.url, link.kind) not in seen:
            seen.add((link.url, link.kind))
            out.append(link)
    return out


def _gunzip(body: bytes, url: str) -> bytes:
    """The payload of a gzip'd body (``sitemap.xml.gz`` served without Content-Encoding),
    capped so that a gzip bomb cannot take the worker's memory."""
    if not body.startswith(b"\x1f\x8b"):
        return body
    out = bytearray()
    data = body
    try:
        while data.startswith(b"\x1f\x8b"):  # concatenated members are one stream
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out += inflater.decompress(data, MAX_SITEMAP_BYTES + 1 - len(out))
            if len(out) > MAX_SITEMAP_BYTES or inflater.unconsumed_tail:
                raise ParseError(url, f"gzip payload larger than {MAX_SITEMAP_BYTES} bytes")
            data = inflater.unused_data
    except zlib.error as exc:
        raise ParseError(url, f"corrupt gzip body: {exc}") from exc
    return bytes(out)


# --- feeds ------------------------------------------------------------------------------

class FeedPage:
    """An RSS 0.9x/2.0, RSS 1.0 (RDF) or Atom feed, read with feedparser.

    Every entry with a link becomes an ``article`` Link; relative links resolve against
    ``xml:base`` or the feed URL. Hints: title, ``published`` (the entry's published date,
    else its updated date, which is the only date Atom requires), guid, summary as text,
    authors, tags and the feed's language. No filtering by the source: a feed is the
    outlet's own list and often links through a redirector host; the spider decides.
    """

    def __init__(self, response: CapturedResponse, source: Source | None = None):
        self.response = response
        self.source = source

    def links(self) -> list[Link]:
        """Article links in feed order, de-duplicated; ParseError when the body is no feed."""
        import feedparser  # local: only listing callbacks need it

        url = self.response.url
        body = _gunzip(self.response.body or b"", url)
        if not body.strip():
            raise ParseError(url, "empty body, not a feed")
        headers = {"content-location": url,
                   "content-type": self.response.header("Content-Type") or "application/xml"}
        try:
            # A file object, never a string: feedparser fetches strings that look like URLs.
            parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
        except Exception as exc:  # feedparser wraps most errors in bozo, not all
            raise ParseError(url, f"feed parser failed: {type(exc).__name__}: {exc}") from exc
        if not parsed.entries:
            if parsed.get("bozo"):
                raise ParseError(url, f"not a feed: {parsed.get('bozo_exception')}")
            if not parsed.get("version"):
                raise ParseError(url, "not an RSS, RDF or Atom feed")
        feed_language = markup.language_code(parsed.feed.get("language"))
        links: list[Link] = []
        for entry in parsed.entries:
            link = _entry_url(entry, url)
            if link is None:
                logger.info("%s: feed entry without a link skipped", url)
                continue
            links.append(Link(link, "article", _entry_hints(entry, feed_language)))
        return _unique_links(links)


def _entry_url(entry: Any, feed_url: str) -> str | None:
    candidates = [entry.get("link")]
    candidates += [lk.get("href") for lk in entry.get("links", ())
                   if lk.get("rel", "alternate") == "alternate"]
    guid = entry.get("id")
    if isinstance(guid, str) and guid.startswith(("http://", "https://")):
        candidates.append(guid)
    for candidate in candidates:
        found = absolute_url(feed_url, candidate)
        if found:
            return found
    return None


def _entry_hints(entry: Any, feed_language: str | None) -> Hints:
    published = None
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        published = parse_date(raw) if isinstance(raw, str) else None
        parsed = entry.get(f"{key}_parsed")
        if published is None and parsed:
            published = _struct_to_datetime(parsed)
        if published is not None:
            break
    summary = entry.get("summary")
    if isinstance(summary, str) and summary.strip():
        summary = "\n\n".join(bodytext.text_paragraphs(summary)) or None
    else:
        summary = None
    authors: list[str] = []
    for author in entry.get("authors", ()) or ():
        authors.extend(_author_names(author.get("name") or ""))
    if not authors and isinstance(entry.get("author"), str):
        authors.extend(_author_names(entry["author"]))
    tags = [normalize for t in entry.get("tags", ()) or ()
            if (normalize := markup.normalize_space(t.get("term") or t.get("label") or ""))]
    title_detail = entry.get("title_detail") or {}
    language = markup.language_code(title_detail.get("language")) or feed_language
    title = entry.get("title")
    return Hints(
        title=markup.normalize_space(title) or None if isinstance(title, str) else None,
        published=published,
        guid=entry.get("id") or None,
        summary=summary,
        authors=markup.unique(authors),
        tags=markup.unique(tags),
        language=language,
    )


def _author_names(value: str) -> list[str]:
    # RSS <author> is "email (Name)"; feedparser passes it through as the name.
    value = re.sub(r"\S+@\S+", " ", value)
    value = re.sub(r"^\s*\((.*)\)\s*$", r"\1", value.strip())
    return markup.split_names(value.replace("(", " ").replace(")", " "))


def _struct_to_datetime(value: Any) -> datetime | None:
    try:
        result = datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return result if 1990 <= result.year <= 2100 else None


# --- sitemaps -----------------------------------------------------------------------------

class SitemapPage:
    """A sitemap (``urlset``), sitemap index, gzip'd sitemap or plain-text URL list.

    ``urlset`` entries become ``article`` Links, kept when the source ``follows`` and
    ``allows`` them (sitemaps list every page of a site, sections and videos included).
    Google News values go into the hints: ``news:title``, ``news:publication_date`` as
    ``published``, ``news:keywords`` as tags, ``news:language``. ``<lastmod>`` is never
    used as ``published``: it changes whenever the page is re-rendered, and a wrong
    publication date is worse than none (the article page almost always has its own).
    ``sitemapindex`` entries become ``sitemap`` Links, unfiltered. An RSS or Atom feed
    submitted as a sitemap (Google accepts those) is read as a feed.

    XML is parsed with lxml in recover mode with entity resolution and network access
    off, so a hostile sitemap cannot read local files (XXE) or make requests.
    """

    def __init__(self, response: CapturedResponse, source: Source | None = None):
        self.response = response
        self.source = source

    def links(self) -> list[Link]:
        """Links in document order, de-duplicated; ParseError when the body is no sitemap."""
        url = self.response.url
        body = _gunzip(self.response.body or b"", url).lstrip()
        if not body:
            raise ParseError(url, "empty body, not a sitemap")
        if not body.startswith(b"<"):
            return self._text_links(body)
        parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True,
                                 load_dtd=False, huge_tree=True, remove_comments=True)
        try:
            root = etree.fromstring(body, parser)
        except (etree.XMLSyntaxError, ValueError) as exc:
            raise ParseError(url, f"not XML: {exc}") from exc
        if root is None:
            raise ParseError(url, "not XML")
        name = _local_name(str(root.tag))
        if name in ("rss", "feed", "RDF"):
            return FeedPage(self.response, self.source).links()
        if name == "sitemapindex":
            return _unique_links([Link(loc, "sitemap") for loc, _ in self._entries(root)])
        if name != "urlset":
            raise ParseError(url, f"not a sitemap (root element <{name}>)")
        links = [Link(loc, "article", _news_hints(fields)) for loc, fields in
                 self._entries(root) if self._wanted(loc)]
        return _unique_links(links)

    def _entries(self, root: Any) -> list[tuple[str, dict[tuple[str, str], str]]]:
        out = []
        for entry in root:
            if not isinstance(entry.tag, str):
                continue
            fields: dict[tuple[str, str], str] = {}
            for node in entry.iter():
                if node is entry or not isinstance(node.tag, str):
                    continue
                parent = _local_name(node.getparent().tag)
                # news:title and image:title share a local name; key by namespace too.
                prefix = "news" if node.tag.startswith("{" + _NEWS_NS + "}") else parent
                fields.setdefault((prefix, _local_name(node.tag)), (node.text or "").strip())
            loc = absolute_url(self.response.url, fields.get((_local_name(entry.tag), "loc")))
            if loc:
                out.append((loc, fields))
        return out

    def _text_links(self, body: bytes) -> list[Link]:
        lines = [line.strip() for line in body.decode("utf-8", "replace").splitlines()]
        # The protocol wants absolute URLs, one per line; anything else is not a URL list.
        urls = [absolute_url(self.response.url, line) if line.startswith(("http://", "https://"))
                else None for line in lines if line]
        if not urls or None in urls:
            raise ParseError(self.response.url, "not a sitemap (neither XML nor a URL list)")
        return _unique_links([Link(u, "article") for u in urls if u and self._wanted(u)])

    def _wanted(self, url: str) -> bool:
        return self.source is None or (self.source.follows(url) and self.source.allows(url))


def _local_name(tag: str) -> str:
    """The local name of an element's tag: ``{ns}loc``, ``news:title`` or ``loc``.

    Not ``etree.QName``: in recover mode lxml keeps an element with an undeclared prefix
    (``<dc:creator>`` without ``xmlns:dc``) as the tag ``dc:creator``, which QName refuses
    with ValueError; a sitemap with one such element must still be read (found by
    tests/test_fuzz_feeds.py)."""
    return tag.rpartition("}")[2].rpartition(":")[2]


def _news_hints(fields: dict[tuple[str, str], str]) -> Hints:
    keywords = fields.get(("news", "keywords"), "")
    return Hints(
        title=markup.normalize_space(fields.get(("news", "title"), "")) or None,
        published=parse_date(fields.get(("news", "publication_date"), "")),
        tags=markup.unique(markup.normalize_space(k) for k in keywords.split(",")),
        language=markup.language_code(fields.get(("news", "language"))),
    )


# --- section pages -----------------------------------------------------------------------

class SectionPage:
    """A section, tag or home page: the links on it that the source calls articles.

    Every ``<a href>`` is resolved against the page URL (or ``<base href>``), its fragment
    dropped, de-duplicated in order, and kept when ``source.follows`` and ``source.allows``
    it (every http(s) link when no source is given).
    """

    def __init__(self, response: CapturedResponse, source: Source | None):
        self.response = response
        self.source = source

    def links(self) -> list[Link]:
        """Article links in document order; ParseError when the body is not HTML."""
        response = self.response
        if response.content_type not in HTML_TYPES or looks_binary(response.body or b""):
            raise ParseError(response.url, f"not an HTML page ({response.content_type!r})")
        sel = html_selector(decode_html(response))
        base = absolute_url(response.url, sel.xpath("//base/@href").get()) or response.url
        links: list[Link] = []
        for href in sel.xpath("//a/@href").getall():
            url = absolute_url(base, href)
            if url and (self.source is None
                        or (self.source.follows(url) and self.source.allows(url))):
                links.append(Link(url, "article"))
        return _unique_links(links)
