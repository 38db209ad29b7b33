"""Scrapy settings for mediawatch, plus the ``MEDIAWATCH_*`` settings its components read.

``scrapy crawl source -a source=ID`` (from the repository root, via ``scrapy.cfg``) and
``mediawatch crawl`` (:func:`crawler.crawl.scrapy_settings`) both run with these, so both
run the same components. Values that come from ``config/sources.toml`` (user agent, robots,
concurrency, delay, timeout, page size) are applied over them, by the spider's
``update_settings`` and by :func:`crawler.crawl.scrapy_settings`.

Components, in ``EXTENSIONS`` order (the order their signal handlers run in):

* ``CrawlSession`` (50): at ``spider_opened``, before any WARC file is opened, the source's
  lock, the skip (lock held; back-off on scheduled runs) and the recovery of ``.open``
  files; at ``engine_stopped``, after everything below, the ``runs`` row and the unlock.
  Its spider middleware ``SkipGate`` sends no request for a skipped crawl.
* ``WarcCapture`` (100): every exchange to WARC at ``response_downloaded``; closes the last
  file (and writes its CDXJ) at ``spider_closed``.
* ``IngestOnClose`` (200): loads the recovered and the written files at ``spider_closed``.
* ``ScreenshotsOnClose`` (250): with ``screenshots`` on, renders the versions just loaded
  from their captures (through the replay app) and loads the screenshot file.
* ``IncrementalState`` (300): the archive's view for the spider; writes the polling state
  and the source's health at ``spider_closed``, after the captures it refers to are loaded.
"""

from __future__ import annotations

import os

BOT_NAME = "mediawatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Where `scrapy crawl` finds the config and data directory; the CLI passes its own values.
MEDIAWATCH_CONFIG = os.environ.get("MEDIAWATCH_CONFIG", "config/sources.toml")
MEDIAWATCH_DATA = os.environ.get("MEDIAWATCH_DATA", "data")
MEDIAWATCH_WARC_MAX_SIZE = 1024**3
# Parse while fetching (crawler/handover.py): with the crawl's own ingest on, WARC files close
# at this size (if smaller than the max size) and each is parsed and loaded while the crawl
# goes on. 0: one file per crawl, parsed at its end.
MEDIAWATCH_HANDOVER_SIZE = 4 * 1024**2
# Stop the crawl cleanly below this much free space in MEDIAWATCH_DATA (0: no check).
MEDIAWATCH_MIN_FREE_SPACE = 200 * 1024**2
# [evidence] tsa_url: every closed WARC file is timestamped there (empty: none asked for).
MEDIAWATCH_TSA_URL = ""
# Seconds the crawl's end waits for the timestamps still queued (the rest: next crawl/ingest).
MEDIAWATCH_TSA_WAIT = 30.0
# Load finished WARC files into archive.db when the spider closes. Cluster workers turn this
# off and leave ingest to one process.
MEDIAWATCH_INGEST = True
# Cluster worker mode (crawler/components/workermode.py): no archive.db; the crawl reads the
# job's state snapshot, writes WARC files to its folder of the shared WARC directory and
# its learned state into a crawl-state record there.
MEDIAWATCH_WORKER = False
MEDIAWATCH_STATE_DB = ""
MEDIAWATCH_WARC_DIR = ""
MEDIAWATCH_SHARED_WARCS = ""
# Processes parsing articles at ingest (0: one per core, at most 8; MEDIAWATCH_PARSE_WORKERS
# in the environment overrides that default).
MEDIAWATCH_INGEST_WORKERS = 0
# Incremental crawling (seconds): re-check checkpoints after first seen, poll interval bounds.
MEDIAWATCH_RECHECK = [3600, 6 * 3600, 24 * 3600, 72 * 3600]
MEDIAWATCH_RECHECK_BUDGET = 100
MEDIAWATCH_RECHECK_LEARN = True
MEDIAWATCH_POLL_MIN = 300
MEDIAWATCH_POLL_MAX = 6 * 3600
# Sitemap index chains: nesting followed below a configured sitemap, and sitemaps fetched
# per source per run (the [crawl] keys sitemap_depth and max_sitemaps).
# Requests to private, loopback and link-local addresses ([crawl] allow_private; a source's
# own value and MEDIAWATCH_ALLOW_PRIVATE=1 in the environment allow them too).
MEDIAWATCH_ALLOW_PRIVATE = False
MEDIAWATCH_SITEMAP_DEPTH = 5
MEDIAWATCH_MAX_SITEMAPS = 500
# Page requisites of article pages ([crawl] requisites, max_requisites, max_requisite_bytes;
# a source's own requisites key wins): see crawler/pages/requisites.py.
MEDIAWATCH_REQUISITES = True
MEDIAWATCH_SCREENSHOTS = False
MEDIAWATCH_MAX_REQUISITES = 60
MEDIAWATCH_MAX_REQUISITE_BYTES = 5 * 1024**2

ROBOTSTXT_OBEY = True
USER_AGENT = "mediawatch/0.1 (+https://github.com/mediawatch/mediawatch)"
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024**2
DOWNLOAD_WARNSIZE = 0
# A news site that answers 500 now often answers later; the next scheduled run retries, so
# one in-crawl retry is enough and keeps failing sources from hammering.
RETRY_TIMES = 1
# 429 and 503 are not retried within a crawl: their Retry-After is honoured by backing off
# (crawler/incremental.py), never by asking again seconds later.
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Keep every response for the WARC and let the spider decide; error pages are evidence too.
HTTPERROR_ALLOW_ALL = False
LOG_LEVEL = "INFO"
# Depth-first crawling of feeds would starve other sources; breadth-first like Heritrix.
DEPTH_PRIORITY = 1
SCHEDULER_DISK_QUEUE = "scrapy.squeues.PickleFifoDiskQueue"
SCHEDULER_MEMORY_QUEUE = "scrapy.squeues.FifoMemoryQueue"

# Signal handlers run in this order (see the module docstring): the session locks and
# recovers before the capture opens a file, the state is saved after the ingest, and the run
# row is written at engine_stopped, after every spider_closed handler.
# Scrapy's own downloader starts every queued request of a host at once when there is no
# delay, and counts per crawler only: this one holds per_domain_concurrency and delay per
# host over all the crawlers of the process (crawler/components/politeness.py).
DOWNLOADER = "crawler.components.politeness.PoliteDownloader"
EXTENSIONS = {
    "crawler.components.session.CrawlSession": 50,
    "crawler.components.capture.WarcCapture": 100,
    "crawler.components.ingest.IngestOnClose": 200,
    "crawler.components.screenshots.ScreenshotsOnClose": 250,
    "crawler.components.state.IncrementalState": 300,
}
# Before robots.txt (100): a refused host is not even asked for its robots.txt.
DOWNLOADER_MIDDLEWARES = {
    "crawler.components.addresses.PrivateAddressGate": 50,
}
SPIDER_MIDDLEWARES = {
    "crawler.components.session.SkipGate": 10,
}
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
