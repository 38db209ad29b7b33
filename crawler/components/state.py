"""Scrapy extension owning the incremental state of one source's crawl.

:class:`IncrementalState` opens the archive's :class:`~archive.store.crawlstate.CrawlState`
(read-only) when the spider opens: the spider asks it which links are known articles, which
are due for a re-check or a retry, and each listing's validators; the WARC capture asks it
for the last full capture of a URL (:meth:`prior`, :meth:`remember`) to write revisits. The
callbacks hand it the fetch states they produce (:meth:`record`) and what the run met
(:meth:`count`); when the spider closes it writes them, with the source's health
(:func:`crawler.incremental.next_source_state`), in one transaction.

The rule at close: listing validators are kept only when the crawl finished (after an
interrupted crawl a 304 must not hide articles that were listed but never fetched; only the
``Retry-After`` marks stay), and a skipped crawl (see :mod:`crawler.components.session`)
writes nothing, so its source keeps backing off. Connected after the ingest at close, so
the state that steers the next crawl lands after the captures it refers to; and it is
written only when the ingest ledger says every file this crawl wrote is completely loaded
(:meth:`IncrementalState.captures_loaded`), else it is kept back as after an interrupted
crawl. A crawl killed before this point (while fetching, closing or loading) leaves no new
listing state at all, so the next crawl fetches the listings again, and the ledger makes
it load the files left half-loaded.

Stats: ``mediawatch/source/status``.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Spider, signals

from archive.config.sources import Source
from archive.models import FetchState, KnownArticle, SourceState
from archive.store.crawlstate import CrawlState, save_states, source_state_at, source_states
from archive.store.db import Archive
from archive.store.workerstate import state_payload
from archive.warc.crawlstate import write_crawl_state
from crawler.components.diskspace import is_disk_full
from crawler.components.workermode import WorkerPaths
from crawler.figures import SKIPPED_STAT, WARC_FILES_STAT, figures_from_stats, run_record
from crawler.incremental import Policy, RunHealth, next_source_state
from crawler.recheck import LEARN_DAYS, recheck_schedule

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

    from archive.models import PriorCapture

log = logging.getLogger(__name__)

def policy_from_settings(settings: BaseSettings) -> Policy:
    """The incremental-crawling policy of the ``MEDIAWATCH_RECHECK/POLL_*`` settings."""
    poll_min = int(settings.getfloat("MEDIAWATCH_POLL_MIN"))
    return Policy(recheck=tuple(int(float(s)) for s in settings.getlist("MEDIAWATCH_RECHECK")),
                  recheck_budget=settings.getint("MEDIAWATCH_RECHECK_BUDGET", 100),
                  recheck_learn=settings.getbool("MEDIAWATCH_RECHECK_LEARN", True),
                  poll_min=poll_min,
                  poll_max=max(poll_min, int(settings.getfloat("MEDIAWATCH_POLL_MAX"))))


def spider_source(spider: Spider | None) -> Source | None:
    """The configured source a spider crawls (``SourceSpider.source``), if it has one."""
    source = getattr(spider, "source", None)
    return source if isinstance(source, Source) else None


class IncrementalState:
    """The archive's view for one crawl, and the fetch states and health it collects."""

    def __init__(self, db_path: Path | None, policy: Policy,
                 stats: StatsCollector | None = None, worker: WorkerPaths | None = None):
        self.db_path = db_path
        self.worker = worker
        self.configured = policy
        self.policy = policy  # with the source's learned re-check checkpoints once opened
        self.stats = stats
        self.source: Source | None = None
        self.started = datetime.now(UTC)
        self.health = RunHealth()
        self.view = CrawlState(None)
        self._fetches: dict[str, FetchState] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncrementalState:
        """Read settings and connect signals (Scrapy's extension protocol).

        Without ``MEDIAWATCH_DATA`` the crawl knows nothing and saves nothing.
        """
        data = crawler.settings.get("MEDIAWATCH_DATA")
        worker = WorkerPaths.from_settings(crawler.settings)
        db_path = worker.state_db if worker else Path(data) / "archive.db" if data else None
        ext = cls(db_path, policy_from_settings(crawler.settings), crawler.stats, worker)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        """Open the archive's view for the spider's source."""
        self.source = spider_source(spider)
        self.started = datetime.now(UTC)
        self.view = CrawlState(self.db_path)
        self.policy = self._learned_policy()

    def _learned_policy(self) -> Policy:
        """The configured policy with this source's re-check checkpoints and budget
        (:mod:`crawler.recheck`: learned from its edit history)."""
        policy = self.configured
        if self.source is not None and self.source.recheck_budget is not None:
            policy = replace(policy, recheck_budget=self.source.recheck_budget)
        if policy.recheck_learn and self.source is not None:
            habits = self.view.edit_habits(self.source_id, self.started, LEARN_DAYS)
            schedule = recheck_schedule(habits, policy.recheck)
            if schedule != policy.recheck:
                log.info("%s: re-checks at %s (learned: %d of %d articles edited)",
                         self.source_id, ", ".join(f"{s / 3600:g}h" for s in schedule),
                         habits.edited, habits.articles)
            policy = replace(policy, recheck=schedule)
        if self.stats is not None:
            self.stats.set_value("mediawatch/recheck/schedule", list(policy.recheck))
        return policy

    # -- what the spider and the capture ask

    @property
    def source_id(self) -> str:
        """The id of the source crawled (the spider's name without one)."""
        return self.source.id if self.source is not None else "unknown"

    def fetch_state(self, url: str) -> FetchState | None:
        """Validators and polling state of a listing URL (or the retry state of a link)."""
        return self.view.fetch_state(url)

    def known_article(self, url: str) -> KnownArticle | None:
        """The archived article ``url`` is an alias of, if any."""
        return self.view.known_article(url)

    def retries_due(self, now: datetime) -> list[FetchState]:
        """Failed article links of the source whose retry time has come."""
        return self.view.retries_due(self.source_id, now)

    def recent_articles(self, since: datetime) -> list[KnownArticle]:
        """Articles of the source first seen since ``since`` and not taken down."""
        return self.view.recent_articles(self.source_id, since)

    def prior(self, url: str) -> PriorCapture | None:
        """The last full 200 response captured for ``url``, in the archive or this crawl."""
        return self.view.prior(url)

    def remember(self, prior: PriorCapture) -> None:
        """A full response written during this crawl (not in the archive until ingest)."""
        self.view.remember(prior)

    # -- what the callbacks report

    def record(self, fetch: FetchState) -> None:
        """The state a fetch leaves for ``fetch.url`` (the last one per URL wins)."""
        self._fetches[fetch.url] = fetch

    def recorded(self) -> list[FetchState]:
        """The fetch states collected so far, in first-recorded order."""
        return list(self._fetches.values())

    def count(self, *, retry_after: int | None = None, **more: int) -> None:
        """Add to the run's health counters (:class:`~crawler.incremental.RunHealth` fields);
        ``retry_after`` keeps the longest wait asked for."""
        h = self.health
        changes: dict[str, Any] = {k: getattr(h, k) + n for k, n in more.items()}
        if retry_after is not None:
            changes["retry_after"] = max(h.retry_after or 0, retry_after)
        self.health = replace(h, **changes)

    # -- close

    def captures_loaded(self, archive: Archive) -> bool:
        """Whether every WARC file this crawl wrote is completely loaded (the ingest
        ledger): only then may its listing state take effect."""
        written = [Path(p).name for p in
                   ((self.stats.get_value(WARC_FILES_STAT) if self.stats else None) or [])]
        return set(written) <= archive.ingested_files()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Write the polling state and the source's health back to the archive."""
        self.view.close()
        if self.source is None or self.db_path is None:
            return
        if self.stats is not None and self.stats.get_value(SKIPPED_STAT):
            return  # nothing ran: the source's state stays as it was (back-off included)
        try:
            after = self._report(reason) if self.worker else self._save(reason)
        except (sqlite3.Error, OSError) as exc:
            if not is_disk_full(exc):
                raise
            # Not saved: the next crawl fetches these pages again, which loses nothing.
            log.error("could not save the polling state of %s: %s", self.source.id, exc)
            return
        if self.stats is not None:
            self.stats.set_value("mediawatch/source/status", after.status)

    def _report(self, reason: str) -> SourceState:
        """A cluster worker's end: the states and the run go into a crawl-state record
        (:mod:`archive.warc.crawlstate`), applied when the ingest loads it after the
        crawl's captures; the source's state before this run is the snapshot's."""
        assert self.source is not None
        assert self.worker is not None
        now = datetime.now(UTC)
        before = source_state_at(self.worker.state_db, self.source.id) \
            or SourceState(self.source.id)
        after = next_source_state(before, self.health, now, self.policy)
        stats: dict[str, Any] = self.stats.get_stats() if self.stats else {}
        figures = replace(figures_from_stats(self.source.id, stats), finish_reason=reason,
                          source_status=after.status)
        run = run_record(figures, {}, self.started, now)
        written = [Path(p).name for p in stats.get(WARC_FILES_STAT) or []]
        payload = state_payload(self.source.id, self.recorded(), after, run, written,
                                reason == "finished", now)
        write_crawl_state(self.worker.warc_dir, self.source.id, payload, now)
        return after

    def _save(self, reason: str) -> SourceState:
        assert self.source is not None
        assert self.db_path is not None
        now = datetime.now(UTC)
        fetches = self.recorded()
        archive = Archive(self.db_path)
        try:
            if reason != "finished" or not self.captures_loaded(archive):
                # Validators and last titles only with the captures they refer to: else the
                # next crawl's 304 or unchanged title would hide what was never loaded.
                fetches = [f for f in fetches if f.digest is None]  # Retry-After marks only
            before = source_states(archive).get(self.source.id, SourceState(self.source.id))
            after = next_source_state(before, self.health, now, self.policy)
            save_states(archive, fetches, after, now)
        finally:
            archive.close()
        return after
