"""The one config-driven spider: feeds, sitemaps and section pages of any configured source.

``scrapy crawl source -a source=ID`` loads the source from ``MEDIAWATCH_CONFIG``; the CLI
passes a parsed :class:`~archive.config.sources.Source` instead. Article pages are only fetched
here: they are parsed from the WARC capture by the ingest step (:mod:`crawler.ingest`), so a crawl
and a ``reindex`` go through exactly the same parsing code.

The crawl is incremental (:mod:`crawler.incremental`): listings are fetched with conditional
GET, known articles are skipped unless due for a re-check, and when the spider closes it
writes each listing's validators and next poll time and the source's health to the archive.
``-a scheduled=1`` (what the scheduler passes) also skips listings that are not due.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive.config.sources import Source, load_config
from archive.models import FetchState, Hints, SourceState
from archive.store.crawlstate import CrawlState, save_states, source_states
from archive.store.db import Archive
from archive.store.identity import strip_tracking
from archive.warc.writer import payload_digest
from crawler.adapter import to_captured
from crawler.components.capture import META_KEY
from crawler.incremental import (
    Policy,
    RunHealth,
    article_fetch_reason,
    conditional_headers,
    is_due,
    is_retryable,
    listed_title_key,
    next_interval,
    next_source_state,
    recheck_due,
    retry_after_seconds,
    retry_delay,
)
from crawler.pages.blockpage import BLOCK_STATUSES, block_reason
from crawler.pages.listings import FeedPage, Link, ParseError, SectionPage, SitemapPage

LISTING_KINDS = ("feed", "sitemap", "section")
# Listing answers the callback sees itself: not modified, and block answers whose
# Retry-After must be read.
_LISTING_STATUSES = [304, *sorted(BLOCK_STATUSES)]


def policy_from_settings(settings: BaseSettings) -> Policy:
    """The incremental-crawling policy of the ``MEDIAWATCH_RECHECK/POLL_*`` settings."""
    poll_min = int(settings.getfloat("MEDIAWATCH_POLL_MIN"))
    return Policy(recheck=tuple(int(float(s)) for s in settings.getlist("MEDIAWATCH_RECHECK")),
                  poll_min=poll_min,
                  poll_max=max(poll_min, int(settings.getfloat("MEDIAWATCH_POLL_MAX"))))

log = logging.getLogger(__name__)


class SourceSpider(Spider):
    """Crawl one source: its feeds, sitemaps and sections, then the articles they list."""

    name = "source"

    def __init__(self, source: Source | str | None = None, *args: Any,
                 scheduled: bool | str = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._source_arg = source
        self.source: Source | None = source if isinstance(source, Source) else None
        self.scheduled = scheduled in (True, "1", "true", "yes")
        self.policy = Policy()
        self.state = CrawlState(None)
        self.started = datetime.now(UTC)
        self.health = RunHealth()
        self._fetches: dict[str, FetchState] = {}

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
        spider.policy = policy_from_settings(crawler.settings)
        data = crawler.settings.get("MEDIAWATCH_DATA")
        spider.state = CrawlState(Path(data) / "archive.db" if data else None)
        return spider

    async def start(self) -> AsyncIterator[Request]:
        """Entry points (every feed, sitemap and section URL of the source; on a scheduled
        run only those due), then the archived articles due for a re-check."""
        assert self.source is not None
        now = self.started = datetime.now(UTC)
        for kind, urls in (("feed", self.source.feeds), ("sitemap", self.source.sitemaps),
                           ("section", self.source.sections)):
            for url in urls:
                if self.scheduled and not is_due(self.state.fetch_state(url), now):
                    self._inc("mediawatch/listings/not_due")
                    continue
                yield self._listing_request(url, kind, None)
        for retry in self.state.retries_due(self.source.id, now):
            self._inc("mediawatch/articles/retry")
            yield self._article_request(retry.url, None, None, "retry")
        horizon = now - timedelta(seconds=max(self.policy.recheck, default=0) + 86400)
        for article in self.state.recent_articles(self.source.id, horizon):
            if recheck_due(article, now, self.policy.recheck):
                self._inc("mediawatch/articles/recheck")
                yield self._article_request(article.link, None, None, "recheck")

    def _request(self, url: str, kind: str, callback: Any, via: str | None,
                 hints: Hints | None = None) -> Request:
        discovery: dict[str, Any] = {"kind": kind}
        if via:
            discovery["via"] = via
        if hints is not None and (hints_json := hints.to_json()):
            discovery["hints"] = hints_json
        return Request(url, callback=callback, errback=self.on_error,
                       meta={META_KEY: discovery})

    def _listing_request(self, url: str, kind: str, via: str | None) -> Request:
        callback = {"feed": self.parse_feed, "sitemap": self.parse_sitemap,
                    "section": self.parse_section}[kind]
        request = self._request(url, kind, callback, via)
        request.headers.update(conditional_headers(self.state.fetch_state(url)))
        request.meta["handle_httpstatus_list"] = _LISTING_STATUSES
        request.meta["mediawatch_listing"] = url
        return request

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
        if block_reason(response.status, response.body):
            self._blocked(response, listing=False)
            return
        self.health = replace(self.health, articles_ok=self.health.articles_ok + 1)
        link = self._link(response.request)
        if (seen := self.state.fetch_state(link)) is not None and seen.kind == "retry":
            assert self.source is not None
            self._fetches[link] = FetchState(link, self.source.id, "fetched")

    def _follow(self, response: Response, page_class: type) -> Iterator[Request]:
        assert self.source is not None
        kind = {FeedPage: "feed", SitemapPage: "sitemap", SectionPage: "section"}[page_class]
        listing = response.meta.get("mediawatch_listing", response.url)
        before = self.state.fetch_state(listing)
        if response.status == 304:
            self._listed(listing, kind, before, response, unchanged=True)
            return
        if block_reason(response.status, response.body):
            self._blocked(response, listing=True)
            return
        if before is not None and before.digest == payload_digest(response.body):
            # Servers that never answer 304 (or lie about it): same bytes, nothing new.
            self._listed(listing, kind, before, response, unchanged=True)
            return
        try:
            links: list[Link] = page_class(to_captured(response), self.source).links()
        except ParseError as exc:
            log.warning("cannot parse %s: %s", response.url, exc)
            self._inc("mediawatch/parse_errors")
            self._listed(listing, kind, before, response, unchanged=False)
            return
        self._inc(f"mediawatch/pages/{kind}")
        total = new = 0
        for link in links:
            if link.kind in ("sitemap", "feed"):
                yield self._listing_request(link.url, link.kind, response.url)
            elif self.source.allows(link.url):
                known = self.state.known_article(link.url)
                total += 1
                new += known is None
                seen = self.state.fetch_state(link.url)
                why = article_fetch_reason(known, link.hints, self.started, self.policy,
                                           seen.digest if seen else None)
                if (title_key := listed_title_key(link.hints)) is not None:
                    # A link waiting for a retry keeps its kind, attempts and time.
                    self._fetches[link.url] = replace(seen, digest=title_key) \
                        if seen is not None and seen.kind == "retry" else FetchState(
                        link.url, self.source.id, "listed", digest=title_key,
                        next_fetch=seen.next_fetch if seen else None)
                if why is None or (self.scheduled and not is_due(seen, self.started)):
                    self._inc("mediawatch/articles/skipped_known")
                    continue
                # A known article is fetched again through the link its text came from.
                yield self._article_request(known.link if known else link.url, response.url,
                                            link.hints, why)
        self._listed(listing, kind, before, response, unchanged=False, total=total, new=new)

    def _article_request(self, link: str, via: str | None, hints: Hints | None,
                         why: str) -> Request:
        # Feeds tag every link with utm_* parameters; fetching the clean URL once saves a
        # second download of the same page (the tagged URL stays an alias and the link).
        url = strip_tracking(link)
        request = self._request(url, "article", self.parse_article, via, hints)
        request.meta[META_KEY]["reason"] = why
        if url != link:
            request.meta[META_KEY]["link"] = link
        return request

    def _listed(self, url: str, kind: str, before: FetchState | None, response: Response,
                *, unchanged: bool, total: int = 0, new: int = 0) -> None:
        """Record a listing fetch: validators, digest and the next poll time."""
        assert self.source is not None
        self._inc("mediawatch/listings/not_modified" if unchanged else "mediawatch/listings/ok")
        self.health = replace(self.health, listings_ok=self.health.listings_ok + 1)
        interval = next_interval(before.interval_s if before else None, unchanged=unchanged,
                                 total=total, new=new, policy=self.policy)
        header = response.headers.get
        etag, modified = header("ETag"), header("Last-Modified")
        self._fetches[url] = FetchState(
            url, self.source.id, kind,
            etag=etag.decode("latin-1") if etag else (before.etag if before else None),
            last_modified=modified.decode("latin-1") if modified
            else (before.last_modified if before else None),
            digest=before.digest if before and response.status == 304
            else payload_digest(response.body),
            interval_s=interval, next_fetch=self.started + timedelta(seconds=interval),
            last_total=total if not unchanged else (before.last_total if before else 0),
            last_new=new)

    def _blocked(self, response: Response, *, listing: bool) -> None:
        """A block answer: counted, its Retry-After honoured for the URL and the source."""
        assert self.source is not None
        why = block_reason(response.status, response.body)
        log.warning("blocked at %s: %s", response.url, why)
        self._inc("mediawatch/blocked")
        wait = retry_after_seconds(
            (response.headers.get("Retry-After") or b"").decode("latin-1"), self.started)
        h = self.health
        self.health = replace(
            h, listings_blocked=h.listings_blocked + listing,
            articles_blocked=h.articles_blocked + (not listing),
            retry_after=max(h.retry_after or 0, wait) if wait is not None else h.retry_after)
        if wait is not None:
            url = response.meta.get("mediawatch_listing", response.url)
            kind = "article" if not listing else self._kind(response)
            self._fetches[url] = FetchState(url, self.source.id, kind,
                                            next_fetch=self.started + timedelta(seconds=wait))

    @staticmethod
    def _kind(response: Response) -> str:
        return str((response.meta.get(META_KEY) or {}).get("kind", "other"))

    def on_error(self, failure: Failure) -> None:
        """A failed request is logged and counted; the crawl goes on."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        reason = failure.type.__name__ if failure.type else "error"
        log.warning("failed %s: %s", url, failure.getErrorMessage())
        self._inc("mediawatch/failures")
        self._inc(f"mediawatch/failures/{reason}")
        listing = request is not None and "mediawatch_listing" in request.meta
        status = failure.value.response.status if isinstance(failure.value, HttpError) else None
        if status in BLOCK_STATUSES:
            self._blocked(failure.value.response, listing=listing)
        elif listing:
            self.health = replace(self.health,
                                  listings_failed=self.health.listings_failed + 1)
        elif request is not None and is_retryable(reason, status):
            self._schedule_retry(self._link(request))

    @staticmethod
    def _link(request: Request) -> str:
        """The link an article request was made for (tracking parameters and all)."""
        discovery = request.meta.get(META_KEY) or {}
        return str(discovery.get("link") or request.meta.get("redirect_urls", [request.url])[0])

    def _schedule_retry(self, link: str) -> None:
        """Try a failed article again on a later run (see :func:`retry_delay`)."""
        assert self.source is not None
        seen = self.state.fetch_state(link)
        attempt = (seen.last_total or 0) + 1 if seen is not None and seen.kind == "retry" else 1
        delay = retry_delay(attempt, self.policy)
        if delay is None:
            log.warning("giving up on %s after %d failed fetches", link, attempt)
            self._fetches[link] = FetchState(link, self.source.id, "failed", last_total=attempt)
            return
        self._fetches[link] = FetchState(link, self.source.id, "retry", last_total=attempt,
                                         next_fetch=self.started + timedelta(seconds=delay))

    def closed(self, reason: str) -> None:
        """Write the polling state and the source's health back to the archive.

        Listing validators are kept only when the crawl finished: after an interrupted
        crawl a 304 must not hide articles that were listed but never fetched.
        """
        self.state.close()
        if self.source is None or self.crawler.settings.get("MEDIAWATCH_DATA") is None:
            return
        now = datetime.now(UTC)
        fetches = list(self._fetches.values())
        if reason != "finished":
            fetches = [f for f in fetches if f.digest is None]  # Retry-After marks only
        archive = Archive(Path(self.crawler.settings["MEDIAWATCH_DATA"]) / "archive.db")
        try:
            before = source_states(archive).get(self.source.id, SourceState(self.source.id))
            after = next_source_state(before, self.health, now, self.policy)
            save_states(archive, fetches, after, now)
        finally:
            archive.close()
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("mediawatch/source/status", after.status)

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
