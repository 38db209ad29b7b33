"""Scrapy extension that loads the crawl's WARC files into ``archive.db`` when it ends.

Connected after :class:`crawler.components.capture.WarcCapture`, so its ``spider_closed``
handler runs once the last WARC file is closed. ``mediawatch crawl`` turns it off and ingests
once after all its spiders finish; cluster workers turn it off and leave ingest to one process.
"""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from archive.config.sources import load_config
from archive.store.db import Archive
from crawler.ingest import ingest_files

log = logging.getLogger(__name__)


class IngestOnClose:
    """On ``spider_closed``, ingest the files this crawl wrote."""

    def __init__(self, data_dir: Path, config_path: str, crawler: Crawler):
        self.data_dir = data_dir
        self.config_path = config_path
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IngestOnClose:
        """Scrapy's extension protocol; ``MEDIAWATCH_INGEST = False`` switches it off."""
        if not crawler.settings.getbool("MEDIAWATCH_INGEST"):
            raise NotConfigured("MEDIAWATCH_INGEST is off")
        ext = cls(Path(crawler.settings["MEDIAWATCH_DATA"]),
                  crawler.settings["MEDIAWATCH_CONFIG"], crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider) -> None:
        """Ingest the closed files listed by the capture extension."""
        stats = self.crawler.stats
        files = [Path(p) for p in (stats.get_value("mediawatch/warc/files") or [])] \
            if stats is not None else []
        archive = Archive(self.data_dir / "archive.db")
        try:
            # One process: forking inside a running reactor is not worth the risk here.
            report = ingest_files(archive, files, load_config(self.config_path), workers=1)
        finally:
            archive.close()
        if stats is not None:
            for outcomes in report.outcomes.values():
                for what, n in outcomes.items():
                    stats.inc_value(f"mediawatch/articles/{what}", n)
        log.info("ingested %d WARC file(s)", len(report.files))
