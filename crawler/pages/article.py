"""The article page object: one property per field of :class:`~archive.models.Article`.

Imported through :mod:`crawler.pages.listings`; it lives apart because it is most of the code.
The ``<meta>`` names each field reads and the helpers that are not the page object itself
(visible date, lead sentences, short links from redirects) are in :mod:`crawler.pages.metadata`.

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

Datetimes are timezone-aware UTC. Dates are the exception to "first value found wins": they
are the inherited fields of :class:`~crawler.pages.pagedates.PageDates` (a value with an
offset beats one without, a zone-less value is read in the source's ``timezone``, day-only
dates keep day precision, rules in :mod:`crawler.pages.pubdates`).
``body_method`` records where the body came from: ``selectors``, ``jsonld`` (``articleBody``),
``trafilatura``, ``trafilatura_recall``, ``density`` (the candidates of
:mod:`crawler.pages.bodypick`) or ``feed`` (the hint's summary).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import cached_property, partial
from urllib.parse import urlsplit

from archive.config.profiles import rule_matches
from archive.models import Article
from crawler.pages import bodypick as bpk
from crawler.pages import bodytext as bt
from crawler.pages import boilerplate as bp
from crawler.pages import bylines as bl
from crawler.pages import markup as mk
from crawler.pages import metadata as md
from crawler.pages import pagetype
from crawler.pages.pagedates import PageDates

logger = logging.getLogger(__name__)


class NotAnArticle(ValueError):
    """A page that is not a story (section, tag, error, junk); the message says why."""

    def __init__(self, url: str, reason: str):
        self.url, self.reason = url, reason
        super().__init__(f"{url}: not an article: {reason}")


class ArticlePage(PageDates):
    """An HTML page that may be a news story: the fields, on top of the parsed page
    (:class:`~crawler.pages.parsedpage.ParsedPage`) and its dates
    (:class:`~crawler.pages.pagedates.PageDates`).

    :meth:`is_article` and :attr:`not_article_reason` apply the rules of
    :mod:`crawler.pages.pagetype`; :meth:`to_article` raises :class:`NotAnArticle` with the reason.
    """

    # --- fields ----------------------------------------------------------------------

    @cached_property
    def title(self) -> str | None:
        """Headline: selector > JSON-LD headline > og:title > twitter/dc/parsely titles >
        the page's only ``<h1>`` > ``<title>`` > trafilatura > feed title. A trailing
        " - Site Name" (og:site_name or the source name) is removed."""
        candidates = [
            ("selectors", self._selected_text("title")), ("jsonld", self._ld_text("headline")),
            ("jsonld", self._ld_text("name")),
            ("meta", self.meta_first(("og:title", "twitter:title", "dc.title", "parsely-title",
                                      "sailthru.title", "headline"))),
        ]
        h1 = [t for t in self.h1_texts if t]
        if len(h1) == 1:  # one <h1> is the headline; several mean a listing or a bad layout
            candidates.append(("h1", h1[0]))
        candidates.append(("title_element", mk.first_text(self.selector.root, "title")))
        for method, candidate in candidates:
            candidate = self._profile_title(candidate)
            if candidate:
                return self._noted("title", method, self._strip_site_name(candidate))
        traf = self._traf("title")
        if traf:
            return self._noted("title", "trafilatura",
                               self._strip_site_name(mk.normalize_space(traf)))
        return self._noted("title", "feed", self.hints.title)

    def _profile_title(self, title: str | None) -> str | None:
        """``title`` without what the profile's ``title_strip`` rules remove."""
        for pattern in self.source.title_strip if self.source and title else ():
            title = re.sub(pattern, "", title or "", flags=re.IGNORECASE)
        return title.strip() if title else None

    def _strip_site_name(self, title: str) -> str:
        title = mk.normalize_space(title)
        site = self.meta_first(("og:site_name", "application-name"))
        names = {site.casefold()} if site else set()
        if self.source:
            names.add(self.source.name.casefold())
        parts = md.TITLE_SEPARATORS.split(title)
        if len(parts) > 1 and parts[-1].casefold() in names:
            return mk.normalize_space(title[: title.rfind(parts[-1])]).rstrip("|-–—:·•» ")
        return bl.strip_glued_suffix(title, self.selector)  # "Headline-新华网"

    @cached_property
    def _body_and_method(self) -> tuple[str | None, str | None]:
        trim = partial(bt.clean_paragraphs, title=self.title, section=self.section,
                       authors=self.authors, tags=self.tags, headlines=self.h1_texts,
                       captions=bt.caption_texts(self.selector, self.scan))
        source_id = self.source.id if self.source else None
        drop = self.source.drop if self.source else ()

        def clean(paras: list[str]) -> list[str]:
            # Teasers and promos between paragraphs go first, so that the edges trimmed
            # next are the article's own.
            paras = [p for p in paras if not rule_matches(drop, p)]
            return trim(bp.drop_boilerplate(paras, source_id))

        selected = self._select("body", body=True)
        if selected:
            paras = [p for block in selected for p in block.split("\n\n")]
            kept = clean(paras)
            if kept:
                return "\n\n".join(kept), "selectors"
            logger.warning("%s: body selector %r matched no text", self.response.url,
                           self._selectors.get("body"))
        ld_body = self._ld.get("articleBody")
        text = self._traf("text")
        chosen = bpk.pick_body(
            self.selector.root, clean, traf_text=text if isinstance(text, str) else None,
            ld_body=ld_body if isinstance(ld_body, str) else None,
            recall=partial(bt.run_trafilatura_recall, self.traf_tree, self.response.url))
        if chosen is not None:
            return "\n\n".join(chosen[1]), chosen[0]
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
    def linked_paragraphs(self) -> frozenset[str]:
        """The paragraphs of :attr:`body` that are the whole visible text of a link
        (:func:`~crawler.pages.bodytext.element_text` of an ``<a>``): a teaser, not story
        text. A link's raw text holds every non-space character of its visible text, so a
        link whose raw text is shorter than every paragraph is not read (on most pages
        nearly all links are menu items, and reading each costs more than the page)."""
        paras = set((self.body or "").split("\n\n"))
        need = min(len("".join(p.split())) for p in paras)
        found = set()
        for anchor in self.selector.root.iter("a"):
            if need and len("".join(anchor.itertext())) < need:
                continue
            text = bt.element_text(anchor)
            if text in paras:
                found.add(text)
        return frozenset(found)

    @cached_property
    def lead(self) -> str | None:
        """Standfirst: selector > standfirst element > JSON-LD / og / meta description >
        the first body paragraph that is a sentence > feed summary. A description that
        is a truncated copy of the first paragraph gives way to the paragraph."""
        selected = self._selected_text("lead")
        if selected:
            return self._noted("lead", "selectors", selected)
        first = next((p for p in (self.body or "").split("\n\n") if md.is_sentence(p)), None)
        leads = md.lead_elements(self.selector, self.scan)[:3]
        element = next((t for t in (" ".join(bt.paragraphs(e, body=True)) for e in leads)
                        if md.is_sentence(t)), None)
        candidates = [("standfirst", element), ("jsonld", self._ld_text("description")),
                      ("meta", self.meta_first(("og:description", "description",
                                                "twitter:description", "dc.description")))]
        for method, candidate in candidates:
            if candidate and md.is_sentence(candidate):
                stem = md.TRUNCATED.sub("", candidate).strip()
                if first and first != candidate and first.startswith(stem):
                    return self._noted("lead", "body_first_paragraph", first)
                return self._noted("lead", method, candidate)
        if first:
            return self._noted("lead", "body_first_paragraph", first)
        return self._noted("lead", "feed", self.hints.summary)

    @cached_property
    def authors(self) -> tuple[str, ...]:
        """Authors: selector (every match) > JSON-LD author > meta > microdata / rel=author
        > links to author pages (:func:`~crawler.pages.bylines.author_links`) > trafilatura >
        feed authors. URLs, e-mail addresses, handles and ``authors_exclude`` are dropped."""
        groups: list[tuple[str, list[str]]] = [
            ("selectors", [n for v in self._select("authors") for n in mk.split_names(v)]),
            ("jsonld", [n for v in mk.jsonld_strings(self._ld.get("author"))
                        for n in mk.split_names(v)]),
        ]
        for key in md.AUTHOR_META:
            groups.append(("meta", [n for v in self._meta.get(key, ())
                                    for n in mk.split_names(v)]))
        groups.append(("microdata", [n for e in self.scan.author_names
                                     for n in mk.split_names(bt.element_text(e))]))
        skip = self.source.authors_exclude if self.source else ()
        for method, group in bl.then(groups, "links", bl.author_links, self.selector):
            group = [name for name in group if not rule_matches(skip, name)]
            if group:
                return self._noted("authors", method, mk.unique(group))
        traf = self._traf("author")
        if isinstance(traf, str) and traf.strip():
            return self._noted("authors", "trafilatura", mk.unique(
                n for v in traf.split(";") for n in mk.split_names(v)))
        return self._noted("authors", "feed", self.hints.authors)

    @cached_property
    def section(self) -> str | None:
        """Section: selector > JSON-LD articleSection > meta > microdata > trafilatura."""
        candidates = [("selectors", self._selected_text("section")),
                      ("jsonld", self._ld_text("articleSection")),
                      ("meta", self.meta_first(md.SECTION_META))]
        candidates += [("microdata", bt.element_text(e)) for e in
                       self.scan.itemprop("articleSection")[:1]]
        for method, candidate in candidates:
            if candidate:
                return self._noted("section", method, mk.normalize_space(candidate))
        categories = self._traf("categories")
        return self._noted("section", "trafilatura", categories[0]) if categories else None

    @cached_property
    def tags(self) -> tuple[str, ...]:
        """Tags: selector (every match) > JSON-LD keywords > article:tag > keywords-style
        meta (comma separated) > topic links (:func:`~crawler.pages.bylines.topic_links`) >
        trafilatura > feed/sitemap tags. One value joined with commas or semicolons is split;
        ``tags_exclude`` matches and the article's own authors are dropped."""
        groups = [("selectors", bl.split_list(self._select("tags")))]
        groups.append(("jsonld", bl.split_list(mk.jsonld_strings(self._ld.get("keywords")))))
        for key in md.TAG_META_LISTS:
            groups.append(("meta", bl.split_list(list(self._meta.get(key, ())))))
        for key in md.TAG_META_COMMAS:
            groups.append(("meta", [t for v in self._meta.get(key, ()) for t in v.split(",")]))
        skip = self.source.tags_exclude if self.source else ()
        people = {name.casefold() for name in self.authors}  # a byline is not a topic
        for method, group in bl.then(groups, "links", bl.topic_links, self.selector):
            cleaned = mk.unique(t for t in (mk.normalize_space(t) for t in group) if t and
                                t.casefold() not in people and not rule_matches(skip, t))
            if cleaned:
                return self._noted("tags", method, cleaned)
        if traf := self._traf("tags"):
            return self._noted("tags", "trafilatura", mk.unique(map(mk.normalize_space, traf)))
        return self._noted("tags", "feed", self.hints.tags)

    @cached_property
    def language(self) -> str | None:
        """Primary language subtag: ``<html lang>`` > og:locale / meta > JSON-LD inLanguage
        > Content-Language header > source language > feed language > the script of the
        text (Chinese, Japanese, Korean: :func:`~crawler.pages.bylines.script_language`)."""
        candidates = [
            ("html_lang", self.selector.xpath("/html/@lang | /html/@*[name()='xml:lang']").get()),
            ("meta", self.meta_first(("og:locale",))), ("jsonld", self._ld_text("inLanguage")),
            ("meta", self.meta_first(md.LANGUAGE_META)),
            ("http_header", self.response.header("Content-Language")),
            ("source", self.source.language if self.source else None),
            ("feed", self.hints.language)]
        for method, candidate in candidates:
            code = mk.language_code(candidate)
            if code:
                return self._noted("language", method, code)
        script = bl.script_language(" ".join(filter(None, (self.title, self.body))))
        return self._noted("language", "script", script) if script else None

    @cached_property
    def canonical_url(self) -> str | None:
        """``<link rel=canonical>``, else og:url."""
        for href in self._rel.get("canonical", ()):
            if url := self._url(href):
                return self._noted("canonical_url", "link_rel", url)
        return self._noted("canonical_url", "meta", self.og_url)

    @cached_property
    def og_url(self) -> str | None:
        """``og:url``, resolved."""
        return self._url(self.meta_first(("og:url",)))

    @cached_property
    def amp_url(self) -> str | None:
        """``<link rel=amphtml>``."""
        return next(filter(None, map(self._url, self._rel.get("amphtml", ()))), None)

    @cached_property
    def image(self) -> str | None:
        """og:image > twitter:image > JSON-LD image."""
        candidates = [("meta", self.meta_first(("og:image", "og:image:url", "og:image:secure_url",
                                                "twitter:image", "twitter:image:src")))]
        candidates += [("jsonld", v) for v in mk.jsonld_strings(self._ld.get("image"), "url")]
        for method, candidate in candidates:
            if url := self._url(candidate):
                return self._noted("image", method, url)
        return None

    @cached_property
    def short_url(self) -> str | None:
        """The site's short link: selector ("Get short URL" widget) > ``rel=shortlink`` >
        ``rev=canonical`` > a generic short-URL widget (``data-shorturl`` or an input
        inside an element whose class says ``short``) > the first URL of a redirect chain
        that reached this page from a different host or a shorter path."""
        def candidates() -> Iterator[tuple[str, str]]:
            # a generator: each source is read only when those before it gave no URL
            yield from (("selectors", v) for v in self._select("short_url"))
            yield from (("link_rel", v) for v in self._rel.get("shortlink", ()))
            yield from (("link_rev", v) for v in
                        mk.rel_map(self.selector, "rev").get("canonical", ()))
            yield from (("widget", v) for v in self.scan.short_values)

        for method, candidate in candidates():
            if url := self._url(candidate):
                return self._noted("short_url", method, url)
        return self._noted("short_url", "redirect", md.redirect_short_url(self.response))

    # --- decisions -------------------------------------------------------------------

    @cached_property
    def not_article_reason(self) -> str | None:
        """Why this page is not an article, or None when it is one."""
        return pagetype.not_article_reason(self)

    def is_article(self) -> bool:
        """True when the page is a story (rules: :mod:`crawler.pages.pagetype`)."""
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
            **self._date_fields(),
        )

    def field_methods(self) -> dict[str, str]:
        """Which method produced each field that has a value (``selectors``, ``jsonld``,
        ``meta``, ``trafilatura``, ``feed``, ``h1``, ``microdata``...), for ``mediawatch
        extract``: the profile author sees which rule won. Call after :meth:`to_article`."""
        article = self.to_article()
        methods = dict(self._methods)
        if self.body_method:
            methods["body"] = self.body_method
        for name, detail in (("published", self.published_detail),
                             ("modified", self.modified_detail)):
            if detail is not None:
                methods[name] = detail.origin
        if article.amp_url:
            methods["amp_url"] = "link_rel"
        return {field: method for field, method in methods.items()
                if getattr(article, field, None) not in (None, "", ())}

    def _source_id(self) -> str:
        """The source's id; without one, the capture's recorded source, else the host."""
        if self.source is not None:
            return self.source.id
        recorded = self.response.metadata.get("source")
        if isinstance(recorded, str) and recorded:
            return recorded
        return (urlsplit(self.response.url).hostname or "").lower()
