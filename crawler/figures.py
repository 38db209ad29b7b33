"""The figures of one source's crawl: from Scrapy's stats to the summary row and the run log.

Pure functions over the stats dict the components fill (``mediawatch/...`` keys), so the
table ``mediawatch crawl`` prints and the ``runs`` row that :class:`crawler.components.session.
CrawlSession` writes for every crawl (``scrapy crawl`` too) are computed in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

#: The per-source columns of ``mediawatch crawl``'s table (and keys of :func:`summary_row`).
COLUMNS: tuple[str, ...] = (
    "source", "pages", "failures", "robots", "new", "updated", "unchanged", "duplicates",
    "not_articles", "parse_errors", "removed", "blocked", "revisits", "requisite_%")

# Stats keys the components hand each other (and that end up in the run row).
#: Why the session skipped the crawl (absent when it ran).
SKIPPED_STAT = "mediawatch/session/skipped"
#: The files of killed crawls the session closed, for the ingest.
RECOVERED_STAT = "mediawatch/warc/recovered"
#: The files the capture wrote and closed, for the ingest and the run row.
WARC_FILES_STAT = "mediawatch/warc/files"
#: WARC bytes written for page requisites (stylesheets, images, fonts of article pages).
REQUISITE_BYTES_STAT = "mediawatch/warc/requisite_bytes"
#: Prefix of the ingest's outcome counts (``inserted``, ``updated``, ``duplicate``, ...).
INGEST_OUTCOME = "mediawatch/ingest/outcome/"


@dataclass(frozen=True, slots=True)
class FetchFigures:
    """What one source's crawl fetched, from Scrapy's stats."""

    source: str
    pages: int
    failures: int
    robots_blocked: int
    warc_files: tuple[str, ...]
    warc_bytes: int
    finish_reason: str
    blocked: int = 0
    revisits: int = 0
    revisit_bytes: int = 0
    source_status: str | None = None
    requisites: int = 0
    requisite_bytes: int = 0

    @property
    def requisite_share(self) -> float:
        """The page requisites' share of the WARC bytes written (0.0 when none were)."""
        return self.requisite_bytes / self.warc_bytes if self.warc_bytes else 0.0


def figures_from_stats(source: str, stats: Mapping[str, Any]) -> FetchFigures:
    """The fetch figures of a Scrapy stats dict."""
    failures = sum(v for k, v in stats.items()
                   if k.startswith("mediawatch/failures/") and not k.endswith("IgnoreRequest"))
    return FetchFigures(
        source=source,
        pages=int(stats.get("downloader/response_count", 0)),
        failures=int(failures),
        robots_blocked=int(stats.get("robotstxt/forbidden", 0)),
        warc_files=tuple(stats.get(WARC_FILES_STAT) or ()),
        warc_bytes=int(stats.get("mediawatch/warc/bytes", 0)),
        finish_reason=str(stats.get("finish_reason", "")),
        blocked=int(stats.get("mediawatch/blocked", 0)),
        revisits=int(stats.get("mediawatch/warc/revisits", 0)),
        revisit_bytes=int(stats.get("mediawatch/warc/revisit_bytes", 0)),
        source_status=stats.get("mediawatch/source/status"),
        requisites=int(stats.get("mediawatch/warc/requisites", 0)),
        requisite_bytes=int(stats.get(REQUISITE_BYTES_STAT, 0)),
    )


def outcomes_from_stats(stats: Mapping[str, Any]) -> dict[str, int]:
    """What the ingest at close made of the crawl's records, by outcome."""
    return {k.removeprefix(INGEST_OUTCOME): int(v) for k, v in stats.items()
            if k.startswith(INGEST_OUTCOME)}


def summary_row(fig: FetchFigures, outcomes: Mapping[str, int]) -> dict[str, Any]:
    """One source's row of the crawl table, keyed by :data:`COLUMNS`."""
    return {
        "source": fig.source, "pages": fig.pages, "failures": fig.failures,
        "robots": fig.robots_blocked, "new": outcomes.get("inserted", 0),
        "updated": outcomes.get("updated", 0), "unchanged": outcomes.get("unchanged", 0),
        "duplicates": outcomes.get("duplicate", 0),
        "not_articles": outcomes.get("not_article", 0),
        "parse_errors": outcomes.get("parse_error", 0),
        "removed": outcomes.get("removed", 0), "blocked": fig.blocked,
        "revisits": fig.revisits,
        # Share of the WARC bytes that went to page requisites, in whole percent.
        "requisite_%": round(fig.requisite_share * 100),
    }


def run_record(fig: FetchFigures, outcomes: Mapping[str, int], started: datetime,
               finished: datetime) -> dict[str, Any]:
    """The ``runs`` row of a crawl that ran (see ``mediawatch runs``)."""
    row = summary_row(fig, outcomes)
    del row["requisite_%"]  # the table's rounded share; the run keeps the figures
    return {**row, "failed": row["failures"], "started": started.isoformat(),
            "finished": finished.isoformat(),
            "status": "ok" if fig.finish_reason == "finished" else fig.finish_reason,
            "warc_bytes": fig.warc_bytes, "revisit_bytes": fig.revisit_bytes,
            "requisite_records": fig.requisites, "requisite_bytes": fig.requisite_bytes,
            "requisite_share": round(fig.requisite_share, 4),
            "warc_files": list(fig.warc_files), "source_status": fig.source_status}


def skipped_record(source: str, started: datetime, finished: datetime,
                   reason: str) -> dict[str, Any]:
    """The ``runs`` row of a crawl that did not run, and why."""
    return {"source": source, "started": started.isoformat(),
            "finished": finished.isoformat(), "status": "skipped", "reason": reason}
