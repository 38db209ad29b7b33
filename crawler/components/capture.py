"""Scrapy extension that writes every HTTP exchange to WARC at ``response_downloaded``.

That signal fires in the downloader before any downloader middleware sees the response, so
the body is still content-encoded (the bytes as received) and redirects, robots.txt and error
responses are captured like any other. Each exchange becomes response + request + metadata
records (see :class:`archive.warc.writer.RotatingWarcWriter`). A response identical to the
URL's last full capture, which :class:`crawler.components.state.IncrementalState` knows,
becomes a revisit record. Each closed file gets its CDXJ index
(:func:`archive.warc.cdxj.index_closed_warc`) beside it and, with ``[evidence] tsa_url``
(``MEDIAWATCH_TSA_URL``), an RFC 3161 token: the file is queued for a background thread
(:class:`archive.evidence.timestamps.TimestampQueue`), together with the source's closed
files still without one, and the crawl's end waits for it at most
``MEDIAWATCH_TSA_WAIT`` seconds; a TSA that is down costs a warning, never the crawl. The
first file is opened with the first response, so a crawl that fetches nothing (a skipped
one) writes no file.

:func:`to_captured` is the one Scrapy -> :class:`archive.models.CapturedResponse` adapter the
spider's callbacks hand to the page objects.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http.client import responses as REASONS
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import NotConfigured

from archive.evidence.timestamps import TimestampQueue, unstamped
from archive.faults import stop_here
from archive.models import CapturedResponse
from archive.warc.cdxj import index_closed_warc
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.components.diskspace import (
    DISK_FULL,
    DISK_STAT,
    disk_full_message,
    is_disk_full,
    low_space,
)
from crawler.components.state import IncrementalState, spider_source
from crawler.components.workermode import WorkerPaths
from crawler.figures import REQUISITE_BYTES_STAT, WARC_FILES_STAT

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Headers, Response

log = logging.getLogger(__name__)
META_KEY = "mediawatch"

#: Sent for each WARC file closed (and indexed): ``path``, and ``last`` (True for the file
#: closed at the crawl's end). :class:`crawler.components.ingest.IngestOnClose` hands the
#: others to its parser processes while the crawl goes on (:mod:`crawler.handover`).
warc_file_closed = object()


def header_pairs(headers: Headers) -> tuple[tuple[str, str], ...]:
    """Every value of every header, decoded latin-1 as HTTP/1.1 defines them."""
    pairs: list[tuple[str, str]] = []
    for key in headers:
        name = key.decode("latin-1")
        for value in headers.getlist(key):
            pairs.append((name, value.decode("latin-1")))
    return tuple(pairs)


def request_target(url: str) -> str:
    """Path plus query, as written on the HTTP request line."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def exchange_metadata(request: Request, source: str) -> dict[str, Any]:
    """The JSON of the metadata record: which source, how the URL was found, redirects."""
    discovery = dict(request.meta.get(META_KEY) or {})
    meta: dict[str, Any] = {"source": source, "kind": discovery.pop("kind", "other")}
    if request.url.endswith("/robots.txt") and meta["kind"] == "other":
        meta["kind"] = "robots"
    meta.update(discovery)
    if redirects := request.meta.get("redirect_urls"):
        meta["redirect_urls"] = list(redirects)
    if (depth := request.meta.get("depth")) is not None:
        meta["depth"] = depth
    return meta


def to_exchange(response: Response, request: Request, source: str,
                fetched_at: datetime) -> Exchange:
    """Scrapy objects -> the typed value the WARC writer takes."""
    req_headers = list(header_pairs(request.headers))
    if not any(k.lower() == "host" for k, _ in req_headers):
        # Twisted adds Host itself; the request record should show what was sent.
        req_headers.insert(0, ("Host", urlsplit(request.url).netloc))
    ip = getattr(response, "ip_address", None)
    return Exchange(
        url=response.url,
        method=request.method,
        request_target=request_target(request.url),
        request_headers=tuple(req_headers),
        protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        status=response.status,
        reason=REASONS.get(response.status, ""),
        headers=header_pairs(response.headers),
        body=response.body,
        fetched_at=fetched_at,
        ip_address=str(ip) if ip is not None else None,
        metadata=exchange_metadata(request, source),
    )


class WarcCapture:
    """Writes ``response_downloaded`` exchanges to ``<MEDIAWATCH_DATA>/warcs/``.

    Stats: ``mediawatch/warc/records``, ``mediawatch/warc/bytes``, ``mediawatch/warc/files``,
    ``mediawatch/warc/revisits`` and ``mediawatch/warc/revisit_bytes``; with a TSA,
    ``mediawatch/evidence/timestamped`` and ``mediawatch/evidence/not_timestamped``.
    """

    def __init__(self, directory: Path, max_size: int, crawler: Crawler,
                 min_free_space: int = 0, tsa_url: str = "", tsa_wait: float = 30.0):
        self.directory = directory
        self.max_size = max_size
        self.crawler = crawler
        self.min_free_space = min_free_space
        self.writer: RotatingWarcWriter | None = None
        self.state: IncrementalState | None = None
        self.stopped: str | None = None  # why nothing more is written (a full disk)
        self.tsa_url = tsa_url
        self.tsa_wait = tsa_wait
        self.stamper: TimestampQueue | None = None
        self.closing = False  # the crawl's end: the file closed now is its last

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture:
        """Read settings and connect signals (Scrapy's extension protocol)."""
        data = crawler.settings.get("MEDIAWATCH_DATA")
        if not data:
            raise NotConfigured("MEDIAWATCH_DATA is not set")
        settings = crawler.settings
        max_size = settings.getint("MEDIAWATCH_WARC_MAX_SIZE")
        handover = settings.getint("MEDIAWATCH_HANDOVER_SIZE")
        if settings.getbool("MEDIAWATCH_INGEST") and handover:
            # Small files while the crawl's own ingest parses them as they close.
            max_size = min(max_size, handover)
        worker = WorkerPaths.from_settings(settings)
        ext = cls(worker.warc_dir if worker else Path(data) / "warcs", max_size, crawler,
                  settings.getint("MEDIAWATCH_MIN_FREE_SPACE"),
                  settings.get("MEDIAWATCH_TSA_URL") or "",
                  settings.getfloat("MEDIAWATCH_TSA_WAIT", 30.0))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        """Start a writer named after the spider's source; find the crawl's state."""
        source = spider_source(spider)
        self.state = self.crawler.get_extension(IncrementalState)
        name = source.id if source else spider.name
        if self.tsa_url:
            # The source's files closed earlier without a token (TSA down, killed crawl,
            # files recovered just now) go first.
            self.stamper = TimestampQueue(self.tsa_url)
            self.stamper.submit_all(unstamped(self.directory, f"{name}-"))
        self.writer = RotatingWarcWriter(self.directory, name, max_size=self.max_size,
                                         software=f"mediawatch (Scrapy {_scrapy_version()})",
                                         on_close=self.file_closed)

    def file_closed(self, path: Path) -> None:
        """The writer's hook: index the closed file, queue it for its timestamp."""
        index_closed_warc(path)
        if self.stamper is not None:
            self.stamper.submit(path)
        self.crawler.signals.send_catch_log(warc_file_closed, path=path, last=self.closing)

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        """Write one exchange; a failure to write is logged and counted, never fatal."""
        if self.writer is None:
            return
        stats = self.crawler.stats
        if self.stopped is None and (problem := low_space(self.directory,
                                                          self.min_free_space)):
            self.stop(spider, problem)
        if self.stopped is not None:
            if stats is not None:
                stats.inc_value("mediawatch/warc/not_written")
            return
        # The crawl's view of the archive says what the URL's last full capture was, so an
        # unchanged answer is written as a revisit record.
        state = self.state
        prior = state.prior(response.url) if state is not None else None
        fetched_at = datetime.now(UTC)
        try:
            written = self.writer.write_exchange(
                to_exchange(response, request, self.writer.source, fetched_at), prior)
        except OSError as exc:
            if stats is not None:
                stats.inc_value("mediawatch/warc/errors")
            if is_disk_full(exc):
                self.stop(spider, disk_full_message(self.directory, exc))
            else:
                log.error("WARC write failed for %s: %s", response.url, exc)
            return
        request.meta["mediawatch_warc"] = written.response
        if written.revisit is None and response.status == 200 and state is not None:
            state.remember(written.as_prior(response.url, fetched_at))
        if stats is not None:
            stats.inc_value("mediawatch/warc/records", 3)
            stats.inc_value("mediawatch/warc/bytes", written.bytes_written)
            if written.revisit is not None:
                stats.inc_value("mediawatch/warc/revisits")
                stats.inc_value("mediawatch/warc/revisit_bytes", written.bytes_written)
            if (request.meta.get(META_KEY) or {}).get("kind") == "requisite":
                # The page requisites' share of the crawl's WARC bytes (crawler/figures.py).
                stats.inc_value(REQUISITE_BYTES_STAT, written.bytes_written)
                stats.inc_value("mediawatch/warc/requisites")
        stop_here("fetched")  # test hook (archive/faults.py)

    def stop(self, spider: Spider, problem: str) -> None:
        """Write nothing more and close the spider (reason ``disk_full``), saying why once."""
        self.stopped = problem
        log.error("%s: stopping the crawl", problem)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(DISK_STAT, problem)
        if self.crawler.engine is not None:
            self.crawler.engine.close_spider(spider, DISK_FULL)

    def spider_closed(self, spider: Spider) -> None:
        """Close (and so rename) the last file: rotation at the end of every crawl."""
        if self.writer is None:
            return
        self.closing = True
        try:
            self.writer.close()
        except OSError as exc:  # its index did not fit: the file itself is closed
            log.error("closing %s: %s", self.writer.source, exc)
        files = [str(p) for p in self.writer.closed_files]
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(WARC_FILES_STAT, files)
        if self.stamper is not None:
            report = self.stamper.close(self.tsa_wait)
            if self.crawler.stats is not None:
                self.crawler.stats.set_value("mediawatch/evidence/timestamped",
                                             len(report.stamped))
                self.crawler.stats.set_value("mediawatch/evidence/not_timestamped",
                                             len(unstamped(self.directory,
                                                           f"{self.writer.source}-")))


def _scrapy_version() -> str:
    import scrapy

    return scrapy.__version__


def to_captured(response: Response, fetched_at: datetime | None = None) -> CapturedResponse:
    """A Scrapy response (body already decompressed by the middleware) as a capture value."""
    return CapturedResponse(
        url=response.url,
        status=response.status,
        headers=header_pairs(response.headers),
        body=response.body,
        fetched_at=fetched_at or datetime.now(UTC),
        redirect_urls=tuple(response.meta.get("redirect_urls") or ()) if _has_meta(response)
        else (),
    )


def _has_meta(response: Response) -> bool:
    # Response.meta raises when the response is not tied to a request (in tests).
    try:
        response.meta  # noqa: B018
    except AttributeError:
        return False
    return True

