"""The one config-driven spider: feeds, sitemaps and section pages of any configured source.

``scrapy crawl source -a source=ID`` loads the source from ``MEDIAWATCH_CONFIG``; the CLI
passes a parsed :class:`~archive.config.sources.Source` instead. Article pages are only fetched
here: they are parsed from the WARC capture by the ingest step (:mod:`crawler.ingest`), so a crawl
and a ``reindex`` go through exactly the same parsing code.

Requests and callbacks only. The crawl is incremental (:mod:`crawler.incremental`): listings
are fetched with conditional GET and known articles are skipped unless due for a re-check;
what the archive knows, and the fetch states and health the callbacks report, live in
:class:`crawler.components.state.IncrementalState`, which writes them when the crawl ends.
Lock, skip, recovery, capture, ingest and run log are components too (``crawler.settings``),
so ``scrapy crawl`` and ``mediawatch crawl`` run the same machinery. ``-a scheduled=1`` (what
the scheduler passes) also skips listings that are not due.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.spidermiddlewares.httperror import HttpError

from archive.config.sources import Source, load_config
from archive.models import FetchState, Hints
from archive.store.urls import strip_tracking
from archive.warc.writer import payload_digest
from crawler.components.capture import META_KEY, to_captured
from crawler.components.state import IncrementalState
from crawler.incremental import (
    article_fetch_reason,
    conditional_headers,
    is_due,
    is_retryable,
    listed_link_state,
    listed_title_key,
    listing_state,
    recheck_due_since,
    retry_after_seconds,
    retry_state,
)
from crawler.pages.blockpage import BLOCK_STATUSES, block_reason
from crawler.pages.listings import FeedPage, Link, ParseError, SectionPage, SitemapPage
from crawler.pages.requisites import Requisite, css_requisites, html_requisites

if TYPE_CHECKING:
    from scrapy.http import Response
    from twisted.python.failure import Failure

LISTING_KINDS = ("feed", "sitemap", "section")
# Listing answers the callback sees itself: not modified, and block answers whose
# Retry-After must be read.
_LISTING_STATUSES = [304, *sorted(BLOCK_STATUSES)]
# Request meta: how many sitemap indexes lie between a nested sitemap and a configured one.
SITEMAP_DEPTH = "mediawatch_sitemap_depth"
# Requisite answers the callback sees itself (with their page, as captured), not failures.
_ERROR_STATUSES = list(range(400, 600))
# Request meta: the article page a requisite request was made for (its budget's key).
REQUISITE_OF = "mediawatch_requisite_of"


@dataclass(frozen=True, slots=True)
class ListedLink:
    """One listing's mention of an article link, waiting for the listing phase to end."""

    kind: str  # the listing's kind: feed, sitemap or section
    via: str  # the listing URL
    link: str
    hints: Hints | None
    why: str

    def rank(self) -> tuple[int, int, str]:
        """Which mention's hints a request carries when several listings name the same
        article: feeds first (they say the most), then the most filled-in hints, then the
        listing URL, so the choice never depends on which listing answered first."""
        filled = len(self.hints.to_json()) if self.hints is not None else 0
        return LISTING_KINDS.index(self.kind), -filled, self.via


@dataclass(slots=True)
class RequisiteBudget:
    """What one article page's requisites have used of the per-page caps."""

    requests: int = 0
    bytes: int = 0


log = logging.getLogger(__name__)


class SourceSpider(Spider):
    """Crawl one source: its feeds, sitemaps and sections, then the articles they list."""

    name = "source"
    allowed_domains: list[str]  # set from the source's, when it has any (OffsiteMiddleware)

    def __init__(self, source: Source | str | None = None, *args: Any,
                 scheduled: bool | str = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._source_arg = source
        self.source: Source | None = source if isinstance(source, Source) else None
        self.scheduled = scheduled in (True, "1", "true", "yes")
        self._state: IncrementalState | None = None
        # Sitemaps requested this run and those left out (by reason), for the bounds on
        # sitemap index chains (see _sitemap_allowed).
        self._sitemaps = 0
        self._sitemaps_dropped: dict[str, int] = {}
        self._requisites: dict[str, RequisiteBudget] = {}  # by article page URL
        # Article links found by listings, by request URL, requested when the crawl has no
        # listing left to fetch (see _request_listed).
        self._listed_links: dict[str, list[ListedLink]] = {}
        self._rechecks = 0  # re-check requests made this run (within recheck_budget)

    @classmethod
    def update_settings(cls, settings: Any) -> None:
        """Apply the sources file's ``[crawl]`` table for ``scrapy crawl`` runs.

        At spider priority, so values the CLI set on its command line still win.
        """
        super().update_settings(settings)
        path = settings.get("MEDIAWATCH_CONFIG")
        if path and Path(path).is_file():
            config = load_config(path)
            settings.setdict({**config.crawl.scrapy_settings(),
                              **config.evidence.scrapy_settings()}, priority="spider")

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
        crawler.signals.connect(spider._request_listed, signal=signals.spider_idle)
        return spider

    @property
    def state(self) -> IncrementalState:
        """The crawl's incremental state (the ``IncrementalState`` extension)."""
        if self._state is None:
            self._state = self.crawler.get_extension(IncrementalState)
            if self._state is None:
                raise RuntimeError("enable crawler.components.state.IncrementalState in"
                                   " EXTENSIONS: the spider needs it")
        return self._state

    async def start(self) -> AsyncIterator[Request]:
        """Entry points (every feed, sitemap and section URL of the source; on a scheduled
        run only those due), then the archived articles due for a re-check."""
        assert self.source is not None
        state = self.state
        now = state.started
        for kind, urls in (("feed", self.source.feeds), ("sitemap", self.source.sitemaps),
                           ("section", self.source.sections)):
            for url in urls:
                if self.scheduled and not is_due(state.fetch_state(url), now):
                    self._inc("mediawatch/listings/not_due")
                    continue
                if kind == "sitemap":
                    # Configured sitemaps are always fetched; they count towards the budget.
                    self._sitemaps += 1
                yield self._listing_request(url, kind, None)
        for retry in state.retries_due(now):
            self._inc("mediawatch/articles/retry")
            yield self._article_request(retry.url, None, None, "retry")
        # The source's checkpoints (learned from its edit history, crawler/recheck.py);
        # those due longest first, within the crawl's budget.
        recheck = state.policy.recheck
        if not recheck:
            return
        window = now - timedelta(seconds=max(recheck) + 86400)
        due = sorted(((since, article.id, article)
                      for article in state.recent_articles(window)
                      if (since := recheck_due_since(article, now, recheck)) is not None),
                     key=lambda item: (item[0], item[1]))
        for _since, _aid, article in due:
            if self._take_recheck():
                yield self._article_request(article.link, None, None, "recheck")

    def _take_recheck(self) -> bool:
        """Count one re-check against the crawl's ``recheck_budget``; False when spent."""
        if self._rechecks >= self.state.policy.recheck_budget:
            self._inc("mediawatch/articles/recheck_over_budget")
            return False
        self._rechecks += 1
        self._inc("mediawatch/articles/recheck")
        return True

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

    def parse_article(self, response: Response) -> Iterator[Request]:
        """Article pages are parsed at ingest from the WARC record; count them here and
        request their page requisites."""
        self._inc("mediawatch/pages/article")
        if why := block_reason(response.status, response.body):
            self._blocked(response, why, listing=False)
            return
        self.state.count(articles_ok=1)
        assert response.request is not None  # a downloaded response knows its request
        link = self._link(response.request)
        if (seen := self.state.fetch_state(link)) is not None and seen.kind == "retry":
            assert self.source is not None
            self.state.record(FetchState(link, self.source.id, "fetched"))
        if self._requisites_on() and _is_html(response):
            found = html_requisites(response.body, response.url)
            yield from self._requisite_requests(found, response.url)

    # -- page requisites: what the article page needs to be drawn as it looked

    def _requisites_on(self) -> bool:
        assert self.source is not None
        if self.source.requisites is not None:
            return self.source.requisites
        return self.crawler.settings.getbool("MEDIAWATCH_REQUISITES", True)

    def _requisite_requests(self, found: list[Requisite], page: str) -> Iterator[Request]:
        """Requests for a page's requisites, within the page's caps.

        They go through the same downloader and spider middlewares as the page: robots.txt,
        the address gate, politeness and the source's ``allowed_domains`` (a source that
        sets it lists its CDN hosts there too, or their images and fonts are not captured).
        The per-page count cap is exact; the byte cap stops new requests once the bytes
        received reach it, and each request may download at most what is left of it
        (``download_maxsize``, never more than ``max_page_size``), so the overshoot is what
        is in flight.
        """
        settings = self.crawler.settings
        max_count = settings.getint("MEDIAWATCH_MAX_REQUISITES", 60)
        max_bytes = settings.getint("MEDIAWATCH_MAX_REQUISITE_BYTES", 5 * 1024**2)
        max_page = settings.getint("DOWNLOAD_MAXSIZE") or max_bytes  # 0: no page limit
        budget = self._requisites.setdefault(page, RequisiteBudget())
        for req in found:
            left = max_bytes - budget.bytes
            if budget.requests >= max_count or left <= 0:
                self._inc("mediawatch/requisites/over_cap")
                continue
            budget.requests += 1
            self._inc("mediawatch/requisites/requested")
            request = self._request(req.url, "requisite", self.parse_requisite, page)
            request.meta[META_KEY]["as"] = req.kind
            request.meta[REQUISITE_OF] = page
            request.meta["download_maxsize"] = min(left, max_page)
            # Every error answer (a 404 favicon too) is a capture of what the page got, not
            # a failure of the crawl; not handle_httpstatus_all, which stops redirects.
            request.meta["handle_httpstatus_list"] = _ERROR_STATUSES
            request.meta["dont_retry"] = True
            request.errback = self.on_requisite_error
            # Right after the page, so the requisites are captured close to its time.
            request.priority = 1
            yield request

    def parse_requisite(self, response: Response) -> Iterator[Request]:
        """A requisite was captured (by the capture component): count its bytes against its
        page's budget; a stylesheet's own requisites (``@import``, fonts, images) follow."""
        page = str(response.meta.get(REQUISITE_OF) or response.url)
        budget = self._requisites.setdefault(page, RequisiteBudget())
        budget.bytes += len(response.body)
        self._inc("mediawatch/requisites/fetched")
        if response.status != 200:
            return
        ctype = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
        if "text/css" in ctype or (
                not ctype and (response.meta.get(META_KEY) or {}).get("as") == "stylesheet"):
            try:
                text = response.body.decode(_charset(ctype) or "utf-8", errors="replace")
            except LookupError:  # a charset Python does not know
                text = response.body.decode("utf-8", errors="replace")
            yield from self._requisite_requests(css_requisites(text, response.url), page)

    def on_requisite_error(self, failure: Failure) -> None:
        """A requisite that could not be fetched: counted and logged quietly; the page
        and the crawl go on (nothing to retry: the next fetch of the page asks again)."""
        request = getattr(failure, "request", None)
        log.info("requisite not fetched: %s: %s", request.url if request is not None else "?",
                 failure.getErrorMessage())
        self._inc("mediawatch/requisites/failed")

    def _follow(self, response: Response, page_class: type) -> Iterator[Request]:
        assert self.source is not None
        state = self.state
        kind = {FeedPage: "feed", SitemapPage: "sitemap", SectionPage: "section"}[page_class]
        listing = response.meta.get("mediawatch_listing", response.url)
        before = state.fetch_state(listing)
        if response.status == 304:
            self._listed(listing, kind, before, response, unchanged=True)
            return
        if why := block_reason(response.status, response.body):
            self._blocked(response, why, listing=True)
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
            if link.kind == "sitemap":
                depth = int(response.meta.get(SITEMAP_DEPTH, 0)) + 1
                if self._sitemap_allowed(link.url, depth, response.url):
                    request = self._listing_request(link.url, link.kind, response.url)
                    request.meta[SITEMAP_DEPTH] = depth
                    yield request
            elif link.kind == "feed":
                yield self._listing_request(link.url, link.kind, response.url)
            elif self.source.allows(link.url):
                known = state.known_article(link.url)
                total += 1
                new += known is None
                seen = state.fetch_state(link.url)
                why = article_fetch_reason(known, link.hints, state.started, state.policy,
                                           seen.digest if seen else None)
                if (title_key := listed_title_key(link.hints)) is not None:
                    state.record(listed_link_state(link.url, self.source.id, seen, title_key))
                if why is None or (self.scheduled and not is_due(seen, state.started)):
                    self._inc("mediawatch/articles/skipped_known")
                    continue
                # A known article is fetched again through the link its text came from,
                # an unfetched alias through itself.
                found = known.link if known and why != "alias" else link.url
                self._listed_links.setdefault(strip_tracking(found), []).append(
                    ListedLink(kind, response.url, found, link.hints, why))
        self._listed(listing, kind, before, response, unchanged=False, total=total, new=new)

    def _request_listed(self) -> None:
        """When every listing has answered (the spider is idle), request the articles they
        named, each once, with the hints of its best-ranked mention (:meth:`ListedLink.rank`)
        and through its untagged link when a listing gave one.

        Listings are fetched before articles so that an article's hints (the fallback for
        fields its page lacks: feed authors, summary, tags) do not depend on which listing
        answered first: two runs over the same site archive the same fields.
        """
        if not self._listed_links:
            return
        listed, self._listed_links = self._listed_links, {}
        for url in listed:
            best = min(listed[url], key=ListedLink.rank)
            # A re-check counts against the budget once, however many listings named it.
            if best.why == "recheck" and not self._take_recheck():
                self._inc("mediawatch/articles/skipped_known")
                continue
            # The link it is fetched through (the archive's key for "the same way in", see
            # archive.store.identity): an untagged one when any listing gave it, else the
            # first in order, so this too is the same whichever listing answered first.
            link = min((m.link for m in listed[url]), key=lambda k: (k != url, k))
            request = self._article_request(link, best.via, best.hints, best.why)
            # Scheduled from here, the request skips the spider middlewares that would have
            # set it (RefererMiddleware): a browser following the link would send it.
            request.headers.setdefault("Referer", best.via)
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def _sitemap_allowed(self, url: str, depth: int, via: str) -> bool:
        """Whether a nested sitemap at ``depth`` below a configured one may be fetched.

        Sitemap indexes can name further indexes without end (243 levels were seen), so
        nesting deeper than ``sitemap_depth`` and sitemaps past ``max_sitemaps`` per source
        per run are left out: counted in the stats, logged once per reason, never fetched.
        """
        max_depth = self.crawler.settings.getint("MEDIAWATCH_SITEMAP_DEPTH")
        max_count = self.crawler.settings.getint("MEDIAWATCH_MAX_SITEMAPS")
        if depth > max_depth:
            reason, limit = "too_deep", f"nested deeper than sitemap_depth = {max_depth}"
        elif self._sitemaps >= max_count:
            reason, limit = "over_limit", f"past max_sitemaps = {max_count} this run"
        else:
            self._sitemaps += 1
            return True
        dropped = self._sitemaps_dropped.get(reason, 0) + 1
        self._sitemaps_dropped[reason] = dropped
        self._inc(f"mediawatch/sitemaps/{reason}")
        if dropped == 1:
            assert self.source is not None
            log.warning("%s: not following sitemap %s (listed in %s): %s; further ones are"
                        " counted, not logged", self.source.id, url, via, limit)
        return False

    def closed(self, reason: str) -> None:
        """Sum up the sitemaps left out by the bounds on sitemap chains, if any."""
        if self._sitemaps_dropped and self.source is not None:
            log.warning("%s: %d sitemap(s) not followed (%s)", self.source.id,
                        sum(self._sitemaps_dropped.values()),
                        ", ".join(f"{k.replace('_', ' ')}: {v}"
                                  for k, v in sorted(self._sitemaps_dropped.items())))

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
        self.state.count(listings_ok=1)
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        self.state.record(listing_state(
            url, self.source.id, kind, before, not_modified=response.status == 304,
            unchanged=unchanged, etag=etag.decode("latin-1") if etag else None,
            last_modified=modified.decode("latin-1") if modified else None,
            digest=payload_digest(response.body), total=total, new=new,
            now=self.state.started, policy=self.state.policy))

    def _blocked(self, response: Response, why: str | None, *, listing: bool) -> None:
        """A block answer (``why``: :func:`block_reason`, computed once by the caller):
        counted, its Retry-After honoured for the URL and the source."""
        assert self.source is not None
        log.warning("blocked at %s: %s", response.url, why)
        self._inc("mediawatch/blocked")
        started = self.state.started
        wait = retry_after_seconds(
            (response.headers.get("Retry-After") or b"").decode("latin-1"), started)
        self.state.count(listings_blocked=int(listing), articles_blocked=int(not listing),
                         retry_after=wait)
        if wait is not None:
            url = response.meta.get("mediawatch_listing", response.url)
            kind = "article" if not listing else self._kind(response)
            self.state.record(FetchState(url, self.source.id, kind,
                                         next_fetch=started + timedelta(seconds=wait)))

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
        error = failure.value
        answer = error.response if isinstance(error, HttpError) else None
        status = answer.status if answer is not None else None
        if answer is not None and status in BLOCK_STATUSES:
            self._blocked(answer, f"http {status}", listing=listing)
        elif listing:
            self.state.count(listings_failed=1)
        elif request is not None and is_retryable(reason, status):
            self._schedule_retry(self._link(request))

    @staticmethod
    def _link(request: Request) -> str:
        """The link an article request was made for (tracking parameters and all)."""
        discovery = request.meta.get(META_KEY) or {}
        return str(discovery.get("link") or request.meta.get("redirect_urls", [request.url])[0])

    def _schedule_retry(self, link: str) -> None:
        """Try a failed article again on a later run (see :func:`retry_state`)."""
        assert self.source is not None
        after = retry_state(link, self.source.id, self.state.fetch_state(link),
                            self.state.started, self.state.policy)
        if after.kind == "failed":
            log.warning("giving up on %s after %d failed fetches", link, after.last_total)
        self.state.record(after)

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)


def _is_html(response: Response) -> bool:
    ctype = (response.headers.get("Content-Type") or b"").decode("latin-1").lower()
    return response.status == 200 and ("html" in ctype or not ctype)


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip() == "charset" and value.strip():
            return value.strip().strip('"')
    return None
