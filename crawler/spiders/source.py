"""The one config-driven spider: feeds, sitemaps and section pages of any configured source.

``scrapy crawl source -a source=ID`` loads the source from ``MEDIAWATCH_CONFIG``; the CLI
passes a parsed :class:`~crawler.sources.Source` instead. Article pages are only fetched here:
they are parsed from the WARC capture by the ingest step (:mod:`crawler.ingest`), so a crawl
and a ``reindex`` go through exactly the same parsing code.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from twisted.python.failure import Failure

from archive.identity import strip_tracking
from archive.models import Hints
from crawler.adapter import to_captured
from crawler.capture import META_KEY
from crawler.pages import FeedPage, Link, ParseError, SectionPage, SitemapPage
from crawler.sources import Source, load_config

log = logging.getLogger(__name__)


class SourceSpider(Spider):
    """Crawl one source: its feeds, sitemaps and sections, then the articles they list."""

    name = "source"

    def __init__(self, source: Source | str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._source_arg = source
        self.source: Source | None = source if isinstance(source, Source) else None

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """Apply the sources file's ``[crawl]`` table for ``scrapy crawl`` runs.

        At spider priority, so values the CLI set on its command line still win.
        """
        super().update_settings(settings)
        path = settings.get("MEDIAWATCH_CONFIG")
        if path and Path(path).is_file():
            settings.setdict(load_config(path).crawl.scrapy_settings(), priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SourceSpider:
        """Resolve ``-a source=ID`` against the configured sources file."""
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.source is None:
            if not spider._source_arg:
                raise ValueError("give a source: scrapy crawl source -a source=ID")
            config = load_config(crawler.settings.get("MEDIAWATCH_CONFIG"))
            spider.source = config.source(str(spider._source_arg))
        if spider.source.allowed_domains:
            spider.allowed_domains = list(spider.source.allowed_domains)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """Entry points: every feed, sitemap and section URL of the source."""
        assert self.source is not None
        for url in self.source.feeds:
            yield self._request(url, "feed", self.parse_feed, None)
        for url in self.source.sitemaps:
            yield self._request(url, "sitemap", self.parse_sitemap, None)
        for url in self.source.sections:
            yield self._request(url, "section", self.parse_section, None)

    def _request(self, url: str, kind: str, callback: Any, via: str | None,
                 hints: Hints | None = None) -> Request:
        discovery: dict[str, Any] = {"kind": kind}
        if via:
            discovery["via"] = via
        if hints is not None and (hints_json := hints.to_json()):
            discovery["hints"] = hints_json
        return Request(url, callback=callback, errback=self.on_error,
                       meta={META_KEY: discovery})

    # -- callbacks: listings yield requests, never items

    def parse_feed(self, response: Response) -> Iterator[Request]:
        """Article links of an RSS / Atom / RDF feed, with the entry's values as hints."""
        yield from self._follow(response, FeedPage)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """Nested sitemaps and article links (Google News values as hints)."""
        yield from self._follow(response, SitemapPage)

    def parse_section(self, response: Response) -> Iterator[Request]:
        """Links on a section page that the source's ``follow`` patterns call articles."""
        yield from self._follow(response, SectionPage)

    def parse_article(self, response: Response) -> None:
        """Article pages are parsed at ingest from the WARC record; count them here."""
        self._inc("mediawatch/pages/article")

    def _follow(self, response: Response, page_class: type) -> Iterator[Request]:
        assert self.source is not None
        try:
            links: list[Link] = page_class(to_captured(response), self.source).links()
        except ParseError as exc:
            log.warning("cannot parse %s: %s", response.url, exc)
            self._inc("mediawatch/parse_errors")
            return
        kind = {FeedPage: "feed", SitemapPage: "sitemap", SectionPage: "section"}[page_class]
        self._inc(f"mediawatch/pages/{kind}")
        for link in links:
            if link.kind == "sitemap":
                yield self._request(link.url, "sitemap", self.parse_sitemap, response.url)
            elif link.kind == "feed":
                yield self._request(link.url, "feed", self.parse_feed, response.url)
            elif self.source.allows(link.url):
                # Feeds tag every link with utm_* parameters; fetching the clean URL once
                # saves a second download of the same page (the tagged URL stays an alias).
                hints = link.hints
                url = strip_tracking(link.url)
                request = self._request(url, "article", self.parse_article, response.url, hints)
                if url != link.url:
                    request.meta[META_KEY]["link"] = link.url
                yield request

    def on_error(self, failure: Failure) -> None:
        """A failed request is logged and counted; the crawl goes on."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = failure.type.__name__ if failure.type else "error"
        log.warning("failed %s: %s", url, failure.getErrorMessage())
        self._inc("mediawatch/failures")
        self._inc(f"mediawatch/failures/{reason}")

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
