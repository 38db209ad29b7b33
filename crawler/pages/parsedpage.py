"""The parsed HTML page under :class:`~crawler.pages.article.ArticlePage`: decoding,
parsing, the ``<meta>``/``<link rel>``/JSON-LD maps, trafilatura and the source's
selectors, each computed once and only when a field needs it.

Kept apart from the page object's fields (:mod:`crawler.pages.article`), which read
everything through it.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from archive.models import CapturedResponse, Hints
from crawler.pages import bodytext as bt
from crawler.pages import markup as mk
from crawler.pages.encoding import decode_html

if TYPE_CHECKING:
    from parsel import Selector
    from trafilatura.settings import Document

    from archive.config.sources import Source

__all__ = ["ParsedPage"]


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
    def _trafilatura(self) -> Document | None:
        return bt.run_trafilatura(self.html, self.response.url, self.response.fetched_at)

    def _traf(self, name: str) -> Any:
        doc = self._trafilatura
        return getattr(doc, name, None) if doc is not None else None

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
