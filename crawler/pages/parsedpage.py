"""The parsed HTML page under :class:`~crawler.pages.article.ArticlePage`: decoding,
parsing, the ``<meta>``/``<link rel>``/JSON-LD maps, trafilatura and the source's
selectors, each computed once and only when a field needs it.

Kept apart from the page object's fields (:mod:`crawler.pages.article`), which read
everything through it.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from parsel import Selector

from archive.models import CapturedResponse, Hints
from crawler.pages import bodytext as bt
from crawler.pages import markup as mk
from crawler.pages.encoding import decode_html
from crawler.pages.scan import PageScan

if TYPE_CHECKING:
    from lxml.html import HtmlElement

    from archive.config.sources import Source
    from crawler.pages.trafmeta import TrafMetadata

__all__ = ["ParsedPage"]

logger = logging.getLogger(__name__)


class ParsedPage:
    """One captured HTML page, parsed lazily.

    Not slotted so that fields can be ``cached_property``: the HTML is decoded and parsed
    once, trafilatura runs at most once and only when a field needs it.
    """

    def __init__(self, response: CapturedResponse, source: Source | None = None,
                 hints: Hints | None = None):
        self.response = response
        # The profile valid when the page was captured (archive.config.profiles): a capture
        # from 2021 is parsed with the 2021 markup's selectors, whenever it is (re)parsed.
        self.source = source.at(response.fetched_at) if source else None
        self.hints = hints or Hints()
        self._selectors = dict(self.source.selectors) if self.source else {}
        # field -> the method that produced its value (see :meth:`field_methods`)
        self._methods: dict[str, str] = {}

    def _noted(self, field: str, method: str, value: Any) -> Any:
        """``value``, remembering that ``method`` produced ``field``."""
        self._methods[field] = method
        return value

    # --- parsing, once ---------------------------------------------------------------

    @cached_property
    def html(self) -> str:
        """The decoded page text (see :func:`crawler.pages.encoding.decode_html`)."""
        return decode_html(self.response)

    @cached_property
    def selector(self) -> Selector:
        """The parsed page: trafilatura's parse (:attr:`traf_tree`) when it holds the same
        elements and text as our own would (:func:`~crawler.pages.bodytext.shares_parse`),
        so that the page is parsed once; else our own parse."""
        tree, shared = self._traf_parse
        if shared:
            return Selector(root=tree, type="html")
        return mk.html_selector(self.html)

    @cached_property
    def scan(self) -> PageScan:
        """The elements the fields select by attribute, found in one walk over the page."""
        return PageScan(self.selector.root)

    @cached_property
    def h1_texts(self) -> list[str]:
        """The visible text of every ``<h1>``, in document order (empty ones too)."""
        return [bt.element_text(e) for e in self.selector.root.iter("h1")]

    @cached_property
    def base_url(self) -> str:
        """``<base href>`` resolved against the URL, else the URL: relative links use it."""
        href = mk.first_attribute(self.selector.root, "base", "href")
        return mk.absolute_url(self.response.url, href) or self.response.url

    @cached_property
    def _meta(self) -> dict[str, list[str]]:
        return mk.meta_map(self.selector)

    @cached_property
    def _rel(self) -> dict[str, list[str]]:
        return mk.rel_map(self.selector)

    @cached_property
    def jsonld(self) -> list[dict[str, Any]]:
        """Every JSON-LD object on the page (lists and ``@graph`` flattened)."""
        return mk.jsonld_objects(self.selector, self.response.url)

    @cached_property
    def jsonld_articles(self) -> list[dict[str, Any]]:
        """Article objects of the JSON-LD, the one with a headline and body first."""
        found = [o for o in self.jsonld if mk.jsonld_types(o) & mk.ARTICLE_TYPES]
        return sorted(found, key=lambda o: (not o.get("headline"), not o.get("articleBody")))

    @cached_property
    def _ld(self) -> dict[str, Any]:
        return self.jsonld_articles[0] if self.jsonld_articles else {}

    @cached_property
    def _traf_parse(self) -> tuple[HtmlElement | None, bool]:
        return bt.trafilatura_tree(self.html)

    @property
    def traf_tree(self) -> HtmlElement | None:
        """trafilatura's parse of the page, shared by its runs (:func:`~crawler.pages.
        bodytext.trafilatura_tree`) and, when it can be, by our readers; never modified."""
        return self._traf_parse[0]

    @cached_property
    def _traf_text(self) -> str | None:
        return bt.run_trafilatura(self.traf_tree, self.response.url)

    @cached_property
    def _traf_meta(self) -> TrafMetadata | None:
        # One ``bare_extraction`` with metadata gave no metadata either when it found no
        # text: so here too, whatever the metadata would be.
        if self._traf_text is None or self.traf_tree is None:
            return None
        # local: it imports trafilatura (~0.3 s), which listing pages never need
        from crawler.pages.trafmeta import TrafMetadata

        return TrafMetadata(self.traf_tree, self.response.url,
                            bt.date_params(self.response.fetched_at))

    def _traf(self, name: str) -> Any:
        """trafilatura's ``text`` or one of its metadata fields (``title``, ``author``,
        ``date``, ``categories``, ``tags``), computed when first asked; None when it has
        none. A metadata step that fails is logged with the URL and gives None."""
        if name == "text":
            return self._traf_text
        meta = self._traf_meta
        if meta is None:
            return None
        try:
            return getattr(meta, name)
        except Exception as exc:  # a third-party extractor must not take the crawl down
            logger.warning("%s: trafilatura's %s failed: %s: %s", self.response.url, name,
                           type(exc).__name__, exc)
            return None

    def meta_first(self, keys: tuple[str, ...]) -> str | None:
        """The first non-empty ``<meta>`` content under any of ``keys`` (lowercased)."""
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
        matches = bt.select(self.selector, selector, self.response.url)
        return list(mk.unique(bt.selected_strings(matches, body=body, attributes=attributes)))

    def _selected_text(self, field: str) -> str | None:
        values = self._select(field)
        return mk.normalize_space(" ".join(values)) or None

    def _ld_text(self, key: str) -> str | None:
        values = mk.jsonld_strings(self._ld.get(key))
        return values[0] if values else None

    def _url(self, href: str | None) -> str | None:
        return mk.absolute_url(self.base_url, href)
