"""Scrapy extension that screenshots the article versions a crawl created, from the archive.

Connected after :class:`crawler.components.ingest.IngestOnClose`, so its ``spider_closed``
handler runs once this crawl's captures are loaded: it asks the archive which versions the
files just ingested created (outcome ``inserted`` or ``updated``, of this crawl's source),
renders each from its capture through the replay app (:mod:`crawler.screenshots`) and
ingests the screenshot file, which links each record to its version.

On when the source says ``screenshots = true``, or says nothing and ``[crawl] screenshots``
(``MEDIAWATCH_SCREENSHOTS``, default off) is true. A browser failure never fails the crawl:
the versions not rendered are counted (``mediawatch/screenshots/failed``) and logged in one
line; ``mediawatch/screenshots/rendered`` counts the others.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import Spider, signals
from scrapy.exceptions import NotConfigured

from archive.config.sources import Source, load_config
from archive.store.db import Archive
from archive.store.screenshots import new_versions
from crawler.ingest import ingest_files
from crawler.screenshots import shoot_in_thread

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings
    from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)

RENDERED_STAT = "mediawatch/screenshots/rendered"
FAILED_STAT = "mediawatch/screenshots/failed"


def screenshots_on(source: Source | None, settings: Settings) -> bool:
    """The source's ``screenshots``, else the ``[crawl]`` default."""
    if source is not None and source.screenshots is not None:
        return source.screenshots
    return settings.getbool("MEDIAWATCH_SCREENSHOTS", False)


class ScreenshotsOnClose:
    """On ``spider_closed``, render the new versions of this crawl from their captures."""

    def __init__(self, data_dir: Path, config_path: str | None, settings: Settings,
                 stats: StatsCollector):
        self.data_dir = data_dir
        self.config_path = config_path
        self.settings = settings
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScreenshotsOnClose:
        """Scrapy's extension protocol; needs the ingest (no versions without it)."""
        settings = crawler.settings
        if not settings.getbool("MEDIAWATCH_INGEST") or not settings.get("MEDIAWATCH_DATA"):
            raise NotConfigured("screenshots need the ingest at close")
        assert crawler.stats is not None
        ext = cls(Path(settings["MEDIAWATCH_DATA"]), settings.get("MEDIAWATCH_CONFIG"),
                  settings, crawler.stats)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider) -> None:
        """Screenshot the versions the files ingested at close created, then load them."""
        source: Source | None = getattr(spider, "source", None)
        if source is None or not screenshots_on(source, self.settings):
            return
        files = self.stats.get_value("mediawatch/ingest/files") or []
        if not files:
            return
        db_path = self.data_dir / "archive.db"
        with Archive(db_path) as archive:
            todo = [v for v in new_versions(archive.db, files) if v.source == source.id]
        if not todo:
            return
        report = shoot_in_thread(self.data_dir, todo)
        self.stats.inc_value(RENDERED_STAT, report.rendered)
        if report.failed:
            self.stats.inc_value(FAILED_STAT, report.failed)
            log.warning("screenshots: %d of %d version(s) not rendered: %s", report.failed,
                        len(todo), report.problem)
        if report.files:
            config = load_config(self.config_path) \
                if self.config_path and Path(self.config_path).is_file() else None
            with Archive(db_path) as archive:
                ingest_files(archive, report.files, config, workers=1)
        log.info("screenshots: %d version(s) rendered", report.rendered)
