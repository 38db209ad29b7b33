"""Load closed WARC files into the archive: the one path from captures to articles.

A crawl ingests the files it just closed; ``reindex`` ingests every file into a fresh
database. Both run this code on the same records in the same order, so the archive is a
pure function of the WARC files and the config. Files are taken in capture-time order
(parsed from the ``{source}-{timestamp}-{serial}-{host}`` name) and records in file order.
Ingest is idempotent: a file already loaded (``warc_files`` table) is skipped.
"""

from __future__ import annotations

import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urljoin

from archive.db import Archive, CaptureRef, Outcome
from archive.models import Hints
from archive.warc import StoredResponse, WarcError, iter_responses, list_warcs
from crawler.pages import ArticlePage, NotAnArticle
from crawler.sources import Config, Source

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(?P<source>.+?)-(?P<ts>\d{17})-(?P<serial>\d{5})-.*\.warc(\.gz)?$")


def ingest_order(path: Path) -> tuple[str, str, str, str]:
    """Sort key: capture time, then source and serial; foreign names sort by name after."""
    if m := _NAME.match(path.name):
        return (m["ts"], m["source"], m["serial"], path.name)
    return ("~", "", "", path.name)


@dataclass(slots=True)
class IngestReport:
    """What an ingest did: outcome counts per source, plus problems."""

    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def count(self, source: str, what: str) -> None:
        """Add one to ``what`` for ``source``."""
        self.outcomes[source][what] += 1

    def total(self, what: str) -> int:
        """``what`` summed over every source."""
        return sum(c[what] for c in self.outcomes.values())


def parse_capture(stored: StoredResponse, source: Source) -> ArticlePage:
    """The page object for a stored article response, with the crawl's hints."""
    meta = stored.captured.metadata
    hints = Hints.from_json(meta.get("hints") if isinstance(meta.get("hints"), dict)
                            else None)  # type: ignore[arg-type]
    return ArticlePage(stored.captured, source, hints)


def ingest_record(archive: Archive, stored: StoredResponse, config: Config | None,
                  report: IngestReport) -> None:
    """Record one response capture and, when it is an article page, upsert the article."""
    meta = stored.captured.metadata
    source_id = str(meta.get("source") or "unknown")
    kind = str(meta.get("kind") or "other")
    captured = stored.captured
    # The URL asked for: the start of the redirect chain, or the feed's tagged link whose
    # tracking parameters were stripped before the fetch. Both are aliases of the article.
    requested = (captured.redirect_urls[0] if captured.redirect_urls
                 else str(meta["link"]) if meta.get("link") else None)
    location_header = captured.header("Location")
    capture = CaptureRef(location=stored.location, url=captured.url, status=captured.status,
                         fetched_at=captured.fetched_at, digest=stored.digest,
                         record_id=captured.record_id, kind=kind, source=source_id,
                         requested_url=requested,
                         redirect_to=urljoin(captured.url, location_header)
                         if 300 <= captured.status < 400 and location_header else None)
    # Redirect hops and error answers are evidence, not articles; the final 200 is parsed.
    if kind != "article" or captured.status != 200:
        archive.record_capture(capture)
        return
    source = _source(config, source_id)
    try:
        article = parse_capture(stored, source).to_article()
    except NotAnArticle as exc:
        log.info("not an article: %s (%s)", stored.captured.url, exc)
        report.count(source_id, "not_article")
        archive.record_capture(capture)
        return
    except Exception as exc:  # one bad page must not stop an ingest
        log.error("parse failed for %s (record %s in %s): %s: %s", stored.captured.url,
                  stored.captured.record_id, stored.location.file, type(exc).__name__, exc)
        report.count(source_id, "parse_error")
        report.errors.append(f"{stored.location.file}@{stored.location.offset}: {exc}")
        archive.record_capture(capture)
        return
    if requested:
        article = replace(article, aliases=(*article.aliases, requested))
    outcome: Outcome = archive.upsert(article, capture)
    report.count(source_id, str(outcome))


def ingest_files(archive: Archive, files: Iterable[Path], config: Config | None,
                 report: IngestReport | None = None) -> IngestReport:
    """Ingest ``files`` (in :func:`ingest_order`), skipping those already loaded."""
    report = report or IngestReport()
    done = archive.ingested_files()
    for path in sorted(files, key=ingest_order):
        if path.name in done:
            continue
        records = 0
        try:
            for stored in iter_responses(path):
                ingest_record(archive, stored, config, report)
                records += 1
        except WarcError as exc:
            # Records before the damage are in; the file is marked so it is not retried
            # forever, and the error is reported.
            log.error("%s", exc)
            report.errors.append(str(exc))
        archive.mark_ingested(path.name, records)
        report.files.append(path.name)
    return report


def ingest_new(archive: Archive, warc_dir: Path, config: Config | None) -> IngestReport:
    """Ingest every closed WARC file in ``warc_dir`` not yet in the archive."""
    return ingest_files(archive, list_warcs(warc_dir), config)


def _source(config: Config | None, source_id: str) -> Source:
    if config is not None:
        for src in config.sources:
            if src.id == source_id:
                return src
    # A source removed from the config still has its captures: parse them generically.
    return Source(id=source_id, name=source_id, sections=("http://unknown/",))
