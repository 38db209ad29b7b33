"""The article page object: one property per field of :class:`~archive.models.Article`.

Imported through :mod:`crawler.pages`; it lives apart because it is most of the code.

Field precedence, first value found wins:

1. the source's per-site ``selectors`` (CSS, or XPath when the selector starts with ``/``
   or ``(``; an element match gives its visible text, ``::text``/``::attr()`` give strings;
   ``authors`` and ``tags`` take every match, other fields the joined text, dates the first
   match that parses, with ``source.date_format`` tried first);
2. JSON-LD (NewsArticle, Article, ReportageNewsArticle... also in ``@graph``/lists), then
   OpenGraph and other ``<meta>`` conventions (``article:*``, ``dc.*``, ``parsely-*``,
   ``sailthru.*``), then microdata and page markup (``<html lang>``, standfirst elements);
3. trafilatura (body, and title/date/author/tags metadata as a fallback);
4. the feed / news-sitemap :class:`~archive.models.Hints`.

Datetimes are timezone-aware; a value without an offset is taken as UTC (see
:mod:`crawler.dates`). ``body_method`` records where the body came from: ``selectors``,
``jsonld`` (``articleBody``), ``trafilatura`` or ``feed`` (the hint's summary).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from archive.models import Article, Hints
from archive.warc import CapturedResponse
from crawler import markup as mk
from crawler.dates import parse_date
from crawler.encoding import decode_html, looks_binary
from crawler.sources import Source

logger = logging.getLogger(__name__)

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
# A JSON-LD articleBody cut off with an ellipsis is a teaser, not the body.
_TRUNCATED = re.compile(r"(?:\.\.\.|…|\[\.\.\.\])\s*$")
_LISTING_URL = re.compile(
    r"/(?:tags?|topics?|category|categories|section|sections|rubric|author|authors|search|"
    r"archive|page)(?:/|$)", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s+[|\-–—:·•»]\s+")
MIN_ARTICLE_CHARS = 200   # without article markup
MIN_MARKED_CHARS = 80     # with article markup (JSON-LD / og:type=article / microdata)


class NotAnArticle(ValueError):
    """A page that is not a story (section, tag, error, junk); the message says why."""

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        super().__init__(f"{url}: not an article: {reason}")


class ArticlePage:
    """An HTML page that may be a news story.

    Not slotted so that fields can be ``cached_property``: the HTML is decoded and parsed
    once, trafilatura runs at most once and only when a field needs it.

    :meth:`is_article` is False, with the reason in :meth:`not_article_reason`, for:
    a status other than 200; a non-HTML content type; binary bytes (signatures, NULs,
    control bytes) or text that is mostly replacement characters; no title; no body text.
    A page with article markup (article JSON-LD, ``og:type`` article, a single microdata
    Article or an ``itemprop=articleBody``) and at least 80 characters of body is an
    article unless its body is mostly link text. Without that markup a page must also pass:
    no ``og:type`` other than article (``website`` is what section pages declare), no
    listing JSON-LD (CollectionPage, ItemList...), no listing-like URL (``/tag/``,
    ``/category/``, ``/author/``, ``?page=``, the site root), at least 200 characters of
    body, body paragraphs not mostly the text of links, and fewer than four ``<article>``
    or microdata Article teasers on the page.
    """

    def __init__(self, response: CapturedResponse, source: Source | None = None,
                 hints: Hints | None = None):
        self.response = response
        self.source = source
        self.hints = hints or Hints()
        self._selectors = dict(source.selectors) if source else {}

    # --- parsing, once ---------------------------------------------------------------

    @cached_property
    def html(self) -> str:
        """The decoded page text (see :func:`crawler.encoding.decode_html`)."""
        return decode_html(self.response)

    @cached_property
    def selector(self) -> Selector:
        """The parsed page."""
        return mk.html_selector(self.html)

    @cached_property
    def base_url(self) -> str:
        """``<base href>`` resolved against the URL, else the URL: relative links use it."""
        href = self.selector.xpath("//base/@href").get()
        return mk.absolute_url(self.response.url, href) or self.response.url

    @cached_property
    def _meta(self) -> dict[str, list[str]]:
        return mk.meta_map(self.selector)

    @cached_property
    def _rel(self) -> dict[str, list[str]]:
        return mk.rel_map(self.selector)

    @cached_property
    def _jsonld(self) -> list[dict[str, Any]]:
        return mk.jsonld_objects(self.selector, self.response.url)

    @cached_property
    def _articles(self) -> list[dict[str, Any]]:
        """Article objects of the JSON-LD, the one with a headline and body first."""
        found = [o for o in self._jsonld if mk.jsonld_types(o) & mk.ARTICLE_TYPES]
        return sorted(found, key=lambda o: (not o.get("headline"), not o.get("articleBody")))

    @cached_property
    def _ld(self) -> dict[str, Any]:
        return self._articles[0] if self._articles else {}

    @cached_property
    def _trafilatura(self) -> Any:
        return mk.run_trafilatura(self.html, self.response.url, self.response.fetched_at)

    def _traf(self, name: str) -> Any:
        doc = self._trafilatura
        return getattr(doc, name, None) if doc is not None else None

    def _meta_first(self, keys: tuple[str, ...]) -> str | None:
        for key in keys:
            for value in self._meta.get(key, ()):
                if value:
                    return value
        return None

    def _select(self, field: str, *, body: bool = False,
                attributes: tuple[str, ...] = ()) -> list[str]:
        selector = self._selectors.get(field)
        if not selector:
            return []
        matches = mk.select(self.selector, selector, self.response.url)
        return list(mk.unique(mk.selected_strings(matches, body=body, attributes=attributes)))

    def _selected_text(self, field: str) -> str | None:
        values = self._select(field)
        return mk.normalize_space(" ".join(values)) or None

    def _ld_text(self, key: str) -> str | None:
        values = mk.jsonld_strings(self._ld.get(key))
        return values[0] if values else None

    def _url(self, href: str | None) -> str | None:
        return mk.absolute_url(self.base_url, href)

    # --- fields ----------------------------------------------------------------------

    @cached_property
    def title(self) -> str | None:
        """Headline: selector > JSON-LD headline > og:title > twitter/dc/parsely titles >
        the page's only ``<h1>`` > ``<title>`` > trafilatura > feed title. A trailing
        " - Site Name" (og:site_name or the source name) is removed."""
        candidates = [
            self._selected_text("title"), self._ld_text("headline"), self._ld_text("name"),
            self._meta_first(("og:title", "twitter:title", "dc.title", "parsely-title",
                              "sailthru.title", "headline")),
        ]
        h1 = [t for t in (mk.element_text(e.root) for e in self.selector.xpath("//h1")) if t]
        if len(h1) == 1:  # one <h1> is the headline; several mean a listing or a bad layout
            candidates.append(h1[0])
        candidates.append(self.selector.xpath("//title/text()").get())
        for candidate in candidates:
            if candidate and candidate.strip():
                return self._strip_site_name(candidate)
        traf = self._traf("title")
        if traf:
            return self._strip_site_name(mk.normalize_space(traf))
        return self.hints.title

    def _strip_site_name(self, title: str) -> str:
        title = mk.normalize_space(title)
        site = self._meta_first(("og:site_name", "application-name"))
        names = {site.casefold()} if site else set()
        if self.source:
            names.add(self.source.name.casefold())
        parts = _TITLE_SEPARATORS.split(title)
        if len(parts) > 1 and parts[-1].casefold() in names:
            return mk.normalize_space(title[: title.rfind(parts[-1])]).rstrip("|-–—:·•» ")
        return title

    @cached_property
    def _body_and_method(self) -> tuple[str | None, str | None]:
        clean = dict(title=self.title, section=self.section, authors=self.authors,
                     tags=self.tags)
        selected = self._select("body", body=True)
        if selected:
            paras = [p for block in selected for p in block.split("\n\n")]
            kept = mk.clean_paragraphs(paras, **clean)
            if kept:
                return "\n\n".join(kept), "selectors"
            logger.warning("%s: body selector %r matched no text", self.response.url,
                           self._selectors.get("body"))
        ld_kept: list[str] = []
        ld_body = self._ld.get("articleBody")
        if isinstance(ld_body, str):
            ld_body = mk.unescape_entities(ld_body).strip()
            if len(ld_body) >= MIN_ARTICLE_CHARS and not _TRUNCATED.search(ld_body):
                ld_kept = mk.clean_paragraphs(mk.text_paragraphs(ld_body), **clean)
        # A long articleBody without paragraph breaks loses the structure the body
        # promises; trafilatura gets the same text with its paragraphs.
        if ld_kept and (len(ld_kept) > 1 or len(ld_kept[0]) < 1000):
            return "\n\n".join(ld_kept), "jsonld"
        text = self._traf("text")
        if isinstance(text, str) and text.strip():
            kept = mk.clean_paragraphs(mk.text_paragraphs(text), **clean)
            if kept:
                return "\n\n".join(kept), "trafilatura"
        if ld_kept:
            return "\n\n".join(ld_kept), "jsonld"
        if self.hints.summary:
            return self.hints.summary, "feed"
        return None, None

    @cached_property
    def body(self) -> str | None:
        """Article text, paragraphs joined by a blank line, furniture removed."""
        return self._body_and_method[0]

    @cached_property
    def body_method(self) -> str | None:
        """Which extractor produced :attr:`body`."""
        return self._body_and_method[1]

    @cached_property
    def lead(self) -> str | None:
        """Standfirst: selector > standfirst element > JSON-LD / og / meta description >
        the first body paragraph that is a sentence > feed summary. A description that
        is a truncated copy of the first paragraph gives way to the paragraph."""
        selected = self._selected_text("lead")
        if selected:
            return selected
        first = next((p for p in (self.body or "").split("\n\n") if _is_sentence(p)), None)
        element = next((t for t in (" ".join(mk.paragraphs(e.root, body=True)) for e in
                                    self.selector.css(LEAD_CSS)[:3]) if _is_sentence(t)), None)
        candidates = [element, self._ld_text("description"),
                      self._meta_first(("og:description", "description",
                                        "twitter:description", "dc.description"))]
        for candidate in candidates:
            if candidate and _is_sentence(candidate):
                stem = _TRUNCATED.sub("", candidate).strip()
                if first and first != candidate and first.startswith(stem):
                    return first
                return candidate
        return first or self.hints.summary

    @cached_property
    def authors(self) -> tuple[str, ...]:
        """Authors: selector (every match) > JSON-LD author > meta > microdata / rel=author
        > trafilatura > feed authors. URLs, e-mail addresses and handles are dropped."""
        groups: list[list[str]] = [
            [n for v in self._select("authors") for n in mk.split_names(v)],
            [n for v in mk.jsonld_strings(self._ld.get("author")) for n in mk.split_names(v)],
        ]
        for key in AUTHOR_META:
            groups.append([n for v in self._meta.get(key, ()) for n in mk.split_names(v)])
        groups.append([n for e in self.selector.xpath(
            "//*[@itemprop='author']//*[@itemprop='name'] | //a[@rel='author']")
            for n in mk.split_names(mk.element_text(e.root))])
        for group in groups:
            if group:
                return mk.unique(group)
        traf = self._traf("author")
        if isinstance(traf, str) and traf.strip():
            return mk.unique(n for v in traf.split(";") for n in mk.split_names(v))
        return self.hints.authors

    @cached_property
    def published(self) -> datetime | None:
        """Publication time: selector > JSON-LD datePublished > meta > microdata /
        ``<time pubdate>`` > the page's visible date (:meth:`_visible_date`) > trafilatura
        (htmldate) > feed date. htmldate yields a day only, so a feed timestamp falling on
        that day is preferred to it."""
        for value in self._select("published", attributes=("datetime", "content")):
            found = parse_date(value, self.source.date_format if self.source else None)
            if found:
                return found
        for value in self._date_candidates("datePublished", PUBLISHED_META):
            found = parse_date(value)
            if found:
                return found
        found = self._visible_date()
        if found:
            return found
        hint = self.hints.published
        if hint is not None and hint.tzinfo is None:
            hint = hint.replace(tzinfo=UTC)
        traf = self._traf("date")
        found = parse_date(traf) if isinstance(traf, str) else None
        # htmldate gives a day; the feed's timestamp on that same day is the better value.
        if found and not (hint and hint.date() == found.date()):
            return found
        return hint

    @cached_property
    def modified(self) -> datetime | None:
        """Last modification: selector > JSON-LD dateModified > meta > microdata."""
        for value in self._select("modified", attributes=("datetime", "content")):
            found = parse_date(value, self.source.date_format if self.source else None)
            if found:
                return found
        for value in self._date_candidates("dateModified", MODIFIED_META):
            found = parse_date(value)
            if found:
                return found
        return None

    def _visible_date(self) -> datetime | None:
        """The story's own printed date: the first ``<time datetime>`` or element with
        "date" in its class (not "modified"/"updated") outside other stories' teasers,
        navigation and the site header, parsed with the source's ``date_format`` first."""
        date_format = self.source.date_format if self.source else None
        nodes = self.selector.xpath(
            "//body//time[@datetime] | //body//*[contains(translate(@class, 'DATE', 'date'), "
            "'date')]")
        for node in nodes[:30]:
            element = node.root
            words = mk.class_words(element)
            if words & {"modified", "updated", "update", "upd", "mod"} or any(
                    _elsewhere(e) for e in element.iterancestors()):
                continue
            found = parse_date(element.get("datetime") or mk.element_text(element)[:80],
                               date_format)
            if found:
                return found
        return None

    def _date_candidates(self, ld_key: str, meta_keys: tuple[str, ...]) -> list[str]:
        values = mk.jsonld_strings(self._ld.get(ld_key))
        values += [v for key in meta_keys for v in self._meta.get(key, ())]
        extra = "|//time[@pubdate]/@datetime" if ld_key == "datePublished" else ""
        values += self.selector.xpath(f"//*[@itemprop='{ld_key}']/@datetime{extra}").getall()
        return values

    @cached_property
    def section(self) -> str | None:
        """Section: selector > JSON-LD articleSection > meta > microdata > trafilatura."""
        candidates = [self._selected_text("section"), self._ld_text("articleSection"),
                      self._meta_first(SECTION_META)]
        candidates += [mk.element_text(e.root) for e in
                       self.selector.xpath("//*[@itemprop='articleSection']")[:1]]
        for candidate in candidates:
            if candidate:
                return mk.normalize_space(candidate)
        categories = self._traf("categories")
        return categories[0] if categories else None

    @cached_property
    def tags(self) -> tuple[str, ...]:
        """Tags: selector (every match) > JSON-LD keywords > article:tag > keywords-style
        meta (comma separated) > trafilatura > feed/sitemap tags."""
        selected = self._select("tags")
        if len(selected) == 1 and "," in selected[0]:
            selected = selected[0].split(",")
        groups = [selected]
        keywords = self._ld.get("keywords")
        ld = mk.jsonld_strings(keywords)
        groups.append([t for v in ld for t in v.split(",")] if isinstance(keywords, str) else ld)
        for key in TAG_META_LISTS:
            groups.append(list(self._meta.get(key, ())))
        for key in TAG_META_COMMAS:
            groups.append([t for v in self._meta.get(key, ()) for t in v.split(",")])
        for group in groups:
            cleaned = mk.unique(mk.normalize_space(t) for t in group)
            if cleaned:
                return cleaned
        traf = self._traf("tags")
        if traf:
            return mk.unique(mk.normalize_space(t) for t in traf)
        return self.hints.tags

    @cached_property
    def language(self) -> str | None:
        """Primary language subtag: ``<html lang>`` > og:locale / meta > JSON-LD inLanguage
        > Content-Language header > source language > feed language."""
        candidates = [self.selector.xpath("/html/@lang | /html/@*[name()='xml:lang']").get(),
                      self._meta_first(("og:locale",)), self._ld_text("inLanguage"),
                      self._meta_first(LANGUAGE_META), self.response.header("Content-Language"),
                      self.source.language if self.source else None, self.hints.language]
        for candidate in candidates:
            code = mk.language_code(candidate)
            if code:
                return code
        return None

    @cached_property
    def canonical_url(self) -> str | None:
        """``<link rel=canonical>``, else og:url."""
        for href in self._rel.get("canonical", ()):
            if url := self._url(href):
                return url
        return self.og_url

    @cached_property
    def og_url(self) -> str | None:
        """``og:url``, resolved."""
        return self._url(self._meta_first(("og:url",)))

    @cached_property
    def amp_url(self) -> str | None:
        """``<link rel=amphtml>``."""
        return next(filter(None, map(self._url, self._rel.get("amphtml", ()))), None)

    @cached_property
    def image(self) -> str | None:
        """og:image > twitter:image > JSON-LD image."""
        candidates = [self._meta_first(("og:image", "og:image:url", "og:image:secure_url",
                                        "twitter:image", "twitter:image:src"))]
        candidates += mk.jsonld_strings(self._ld.get("image"), "url")
        return next(filter(None, map(self._url, candidates)), None)

    @cached_property
    def short_url(self) -> str | None:
        """The site's short link: selector ("Get short URL" widget) > ``rel=shortlink`` >
        ``rev=canonical`` > a generic short-URL widget (``data-shorturl`` or an input
        inside an element whose class says ``short``) > the first URL of a redirect chain
        that reached this page from a different host or a shorter path."""
        candidates = [*self._select("short_url"), *self._rel.get("shortlink", ()),
                      *mk.rel_map(self.selector, "rev").get("canonical", ()),
                      *self.selector.xpath(
                          "//@data-shorturl | //@data-short-url | //@data-shortUrl | "
                          "//*[contains(translate(@class, 'SHORT', 'short'), 'short')]"
                          "//input/@value").getall()]
        for candidate in candidates:
            if url := self._url(candidate):
                return url
        return _redirect_short_url(self.response)

    # --- decisions -------------------------------------------------------------------

    @cached_property
    def _article_markup(self) -> bool:
        og_type = (self._meta_first(("og:type",)) or "").lower()
        micro = self._microdata_articles
        return (len(self._articles) in (1, 2) or og_type.startswith("article")
                or micro in (1, 2)
                or bool(self.selector.xpath("//*[@itemprop='articleBody']")))

    @cached_property
    def _microdata_articles(self) -> int:
        types = self.selector.xpath("//*[@itemscope]/@itemtype").getall()
        return sum(1 for t in types if re.split(r"[/:#]", t.strip())[-1] in mk.ARTICLE_TYPES)

    @cached_property
    def _anchor_texts(self) -> frozenset[str]:
        return frozenset(mk.element_text(a.root) for a in self.selector.xpath("//a"))

    def _link_density(self) -> float:
        """Share of body characters in paragraphs that are the text of a link."""
        paras = (self.body or "").split("\n\n")
        total = sum(len(p) for p in paras)
        if not total:
            return 0.0
        return sum(len(p) for p in paras if p in self._anchor_texts) / total

    def _prose_paragraphs(self) -> int:
        """Body paragraphs long enough to be story text (200+ characters, not a link):
        teaser summaries on section pages are shorter."""
        return sum(1 for p in (self.body or "").split("\n\n")
                   if len(p) >= 200 and p not in self._anchor_texts)

    def _listing_reason(self) -> str | None:
        parts = urlsplit(self.response.url)
        if parts.path in ("", "/") and not parts.query:
            return "the URL is a site's home page"
        if _LISTING_URL.search(parts.path):
            return "the URL looks like a section, tag or listing page"
        listing = {t for o in self._jsonld for t in mk.jsonld_types(o)} & mk.LISTING_TYPES
        if listing:
            return f"JSON-LD declares {', '.join(sorted(listing))}"
        # Section pages say og:type=website, but so do some outlets' articles (Sputnik in
        # 2020, tagesschau): three paragraphs of story text overrule it.
        prose = self._prose_paragraphs()
        og_type = (self._meta_first(("og:type",)) or "").lower()
        if og_type and not og_type.startswith(("article", "news", "blog")) and prose < 3:
            return f"og:type is {og_type!r} and the page has no article markup"
        if prose:  # a paragraph of story text: the weaker signals below do not apply
            return None
        teasers = max(len(self.selector.xpath("//article")), self._microdata_articles,
                      len(self._articles))
        if teasers >= 4:
            return f"the page holds {teasers} article teasers"
        if self._headline_chars() >= 0.5 * len(self.body or ""):
            return "the page is mostly headlines linking elsewhere"
        return None

    def _headline_chars(self) -> int:
        """Characters of headline-like link text (4+ words) outside navigation, sidebars
        and other furniture: what a section page is made of."""
        total = 0
        for anchor in self.selector.xpath("//body//a[string-length(normalize-space()) > 24]"):
            text = mk.element_text(anchor.root)
            if len(text.split()) >= 4 and not any(
                    mk.is_furniture(e) for e in anchor.root.iterancestors()):
                total += len(text)
        return total

    @cached_property
    def not_article_reason(self) -> str | None:
        """Why this page is not an article, or None when it is one."""
        response = self.response
        if response.status != 200:
            return f"HTTP status {response.status}"
        if response.content_type not in mk.HTML_TYPES:
            return f"content type {response.content_type!r} is not HTML"
        if not (response.body or b"").strip():
            return "empty body"
        if looks_binary(response.body):
            return "binary body, not text"
        if self.html.count("\ufffd") > max(20, len(self.html) // 20):
            return "body does not decode as text"
        if not self.title:
            return "no title"
        body = self.body or ""
        if not body or (self.body_method == "feed" and not self._article_markup):
            return "no body text"
        dense = self._link_density() > 0.5
        if self._article_markup:
            if len(body) < MIN_MARKED_CHARS:
                return f"body too short ({len(body)} chars)"
            return "the body is mostly link text" if dense else None
        reason = self._listing_reason()
        if reason:
            return reason
        if len(body) < MIN_ARTICLE_CHARS:
            return f"too little text ({len(body)} chars) and no article markup"
        return "the body is mostly link text" if dense else None

    def is_article(self) -> bool:
        """True when the page is a story (see the class docstring for the rules)."""
        return self.not_article_reason is None

    def aliases(self) -> tuple[str, ...]:
        """Every other URL the page is known under: the response URL, the redirect chain,
        og:url, the AMP URL and the feed GUID when it is a URL (in that order)."""
        values = [self.response.url, *self.response.redirect_urls, self.og_url, self.amp_url]
        guid = self.hints.guid
        if guid and guid.startswith(("http://", "https://")):
            values.append(guid)
        return tuple(dict.fromkeys(v for v in values if v))

    def to_article(self) -> Article:
        """The :class:`~archive.models.Article`; :class:`NotAnArticle` when it is not one."""
        reason = self.not_article_reason
        if reason is not None:
            raise NotAnArticle(self.response.url, reason)
        return Article(
            url=self.response.url, source=self._source_id(), title=self.title,
            lead=self.lead, body=self.body, authors=self.authors, published=self.published,
            modified=self.modified, section=self.section, tags=self.tags,
            language=self.language, canonical_url=self.canonical_url,
            short_url=self.short_url, amp_url=self.amp_url, image=self.image,
            body_method=self.body_method, aliases=self.aliases(),
        )

    def _source_id(self) -> str:
        """The source's id; without one, the capture's recorded source, else the host."""
        if self.source is not None:
            return self.source.id
        recorded = self.response.metadata.get("source")
        if isinstance(recorded, str) and recorded:
            return recorded
        return (urlsplit(self.response.url).hostname or "").lower()


_OTHER_STORIES = frozenset(
    "related recommended recommendations popular most mostread latest sidebar teaser teasers "
    "more widget ticker breaking nav menu footer".split())


def _elsewhere(element: Any) -> bool:
    """Inside navigation, a footer, an aside, the site header or a list of other stories."""
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag in ("nav", "aside", "footer") or (
            tag == "header" and element.getparent() is not None
            and element.getparent().tag == "body"):
        return True
    return bool(mk.class_words(element) & _OTHER_STORIES)


def _is_sentence(text: str | None) -> bool:
    """A lead must read as prose: four words or more, not a bare date or widget label."""
    if not text or len(text) < 20 or len(text.split()) < 4:
        return False
    return not mk.is_date_line(text) and not mk.is_phrase_line(text)


def _redirect_short_url(response: CapturedResponse) -> str | None:
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
