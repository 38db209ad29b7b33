"""Load closed WARC files into the archive: the one path from captures to articles.

A crawl ingests the files it just closed; ``reindex`` ingests every file into a fresh
database. Both run this code on the same records in the same order, so the archive is a
pure function of the WARC files and the config. Files are taken in capture-time order
(parsed from the ``{source}-{timestamp}-{serial}-{host}`` name) and records in file order.
Ingest is idempotent per record: the ingest ledger (:mod:`archive.store.ledger`) moves past
each batch of records in the transaction that stores it, so a completely loaded file is
skipped and a half-loaded one (a killed crawl or ingest) is finished, never duplicated.
:func:`ingest_new` loads every closed file the ledger does not have completely: the next
crawl of any source and ``mediawatch ingest`` call it.

``mediawatch reindex`` (:func:`crawler.reindex.rebuild`) builds the new database beside
the old one and swaps it in only when complete, so a failed reindex leaves the archive as
it was; the operational tables (run log, polling state, alerts: what WARCs cannot rebuild)
are copied over.

Files imported from other tools (:mod:`archive.warc.importer`) hold records without
mediawatch's metadata record: :func:`with_import_metadata` gives each the source named in
the file's name and treats an HTML response like a crawl's article fetch, so the page-type
rules decide which become articles, exactly as for crawled pages.

Revisit records are linked to the article of the capture they repeat (its ``last_seen``
moves, as for an unchanged re-fetch); a takedown answer for a URL of an archived article
(a 404 / 410, a redirect to the front or a section page, a "page removed" page:
:mod:`crawler.takedown`) marks it removed with that record as evidence; block pages are
counted and never parsed.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from archive.config.sources import Config, Source
from archive.faults import INGEST_STOP_AFTER, stop_here
from archive.models import Article, Hints
from archive.store import ledger
from archive.store.db import Archive, CaptureRef, Outcome
from archive.store.writerlock import close_inherited
from archive.warc.cdxj import index_missing
from archive.warc.importer import import_stamp, imported_source
from archive.warc.payload import DEFAULT_MAX_PAYLOAD
from archive.warc.reader import (
    Damage,
    Notice,
    StoredResponse,
    WarcError,
    iter_responses,
    list_warcs,
)
from crawler.pages.blockpage import block_reason
from crawler.pages.listings import ArticlePage, NotAnArticle
from crawler.pages.markup import HTML_TYPES
from crawler.sidefiles import is_side_file, load_side_file
from crawler.takedown import GONE_STATUSES, takedown_kind

if TYPE_CHECKING:
    from pathlib import Path
    from threading import Event

    from archive.models import WarcLocation

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(?P<source>.+?)-(?P<ts>\d{17})-(?P<serial>\d{5})-.*\.warc(\.gz)?$")


def ingest_order(path: Path) -> tuple[str, str, str, str]:
    """Sort key: capture time, then source and serial; an imported file at its import
    time (after the crawl files of the same millisecond); other names by name after all."""
    # Imports first: the name of an imported crawl file contains that file's own name.
    if stamp := import_stamp(path.name):
        return (stamp, "~import", "", path.name)
    if m := _NAME.match(path.name):
        return (m["ts"], m["source"], m["serial"], path.name)
    return ("~", "", "", path.name)


def file_source(path: Path) -> str | None:
    """The source a crawl's WARC file was written for, from its name (None for others)."""
    m = _NAME.match(path.name)
    return m["source"] if m else None


@dataclass(slots=True)
class IngestReport:
    """What an ingest did: outcome counts per source, plus problems."""

    outcomes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    files: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Problems of records that were still loaded (a wrong Content-Length, a target URI
    #: with spaces), one line each (:class:`~archive.warc.reader.Notice`).
    notices: list[str] = field(default_factory=list)
    #: Per WARC file name: records stored (``records``) and what parsing the article
    #: candidates among them gave (``article``, ``not_article``, ``parse_error``), with the
    #: new articles (``inserted``): the import summary's figures.
    records: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def count(self, source: str, what: str) -> None:
        """Add one to ``what`` for ``source``."""
        self.outcomes[source][what] += 1

    def total(self, what: str) -> int:
        """``what`` summed over every source."""
        return sum(c[what] for c in self.outcomes.values())


def with_import_metadata(stored: StoredResponse, source: str) -> StoredResponse:
    """A record of an imported file as ingest sees a crawl's record: one that carries no
    mediawatch metadata gets ``source``, and ``kind`` ``article`` when it is an HTML
    response (the page-type rules then decide whether it is one, as for a crawl's article
    fetch; a section front or an error page stays a capture), else ``other``. A record
    that has mediawatch's metadata (a mediawatch WARC imported) keeps it."""
    captured = stored.captured
    if captured.metadata.get("source") or captured.metadata.get("kind"):
        return stored
    html = captured.content_type in HTML_TYPES
    meta: dict[str, object] = {"source": source, "kind": "article" if html else "other"}
    return replace(stored, captured=replace(captured, metadata={**captured.metadata, **meta}))


def read_records(path: Path, max_payload: int = DEFAULT_MAX_PAYLOAD,
                 on_damage: Callable[[Damage], object] | None = None,
                 on_notice: Callable[[Notice], object] | None = None
                 ) -> Iterator[StoredResponse]:
    """The response and revisit records of ``path`` in file order
    (:func:`~archive.warc.reader.iter_responses`), an imported file's records with the
    source its name gives (:func:`with_import_metadata`)."""
    records = iter_responses(path, max_payload=max_payload, on_damage=on_damage,
                             on_notice=on_notice)
    source = imported_source(path.name)
    if source is None:
        return records
    return (with_import_metadata(stored, source) for stored in records)


def parse_capture(stored: StoredResponse, source: Source) -> ArticlePage:
    """The page object for a stored article response, with the crawl's hints."""
    meta = stored.captured.metadata
    hints = Hints.from_json(meta.get("hints") if isinstance(meta.get("hints"), dict)
                            else None)  # type: ignore[arg-type]
    return ArticlePage(stored.captured, source, hints)


@dataclass(frozen=True, slots=True)
class Parsed:
    """What parsing one article record gave: an article, or why not (picklable)."""

    article: Article | None
    status: str  # "article" | "not_article" | "parse_error"
    message: str = ""


def parse_record(job: tuple[StoredResponse, Source]) -> Parsed:
    """Parse one stored article response; never raises (runs in worker processes)."""
    stored, source = job
    try:
        return Parsed(parse_capture(stored, source).to_article(), "article")
    except NotAnArticle as exc:
        return Parsed(None, "not_article", str(exc))
    except Exception as exc:  # one bad page must not stop an ingest
        return Parsed(None, "parse_error", f"{type(exc).__name__}: {exc}")


def is_article_record(stored: StoredResponse, blocked: bool | None = None) -> bool:
    """Only the final 200 answer to an article request is parsed: redirect hops, error
    answers, feeds and sitemaps are evidence, recorded as captures only; so are revisits
    (they repeat a capture already indexed), block pages (a captcha is not an article) and
    payloads over ``max_page_size`` (never expanded: a gzip bomb stays a capture).
    ``blocked``: the record's block check, when the caller has it already."""
    captured = stored.captured
    if not (captured.metadata.get("kind") == "article" and captured.status == 200
            and stored.revisit is None and not stored.too_large):
        return False
    if blocked is None:
        blocked = block_reason(200, captured.body) is not None
    return not blocked


def capture_ref(stored: StoredResponse) -> CaptureRef:
    """The archive's index entry for a response record."""
    captured = stored.captured
    meta = captured.metadata
    # The URL asked for: the start of the redirect chain, or the feed's tagged link whose
    # tracking parameters were stripped before the fetch. Both are aliases of the article.
    requested = (captured.redirect_urls[0] if captured.redirect_urls
                 else str(meta["link"]) if meta.get("link") else None)
    location = captured.header("Location")
    revisit = stored.revisit
    return CaptureRef(location=stored.location, url=captured.url, status=captured.status,
                      fetched_at=captured.fetched_at, digest=stored.digest,
                      record_id=captured.record_id, kind=str(meta.get("kind") or "other"),
                      source=str(meta.get("source") or "unknown"), requested_url=requested,
                      redirect_to=urljoin(captured.url, location)
                      if 300 <= captured.status < 400 and location else None,
                      revisit=revisit.profile if revisit else None,
                      refers_to=revisit.refers_to_id if revisit else None)


def store_record(archive: Archive, stored: StoredResponse, parsed: Parsed | None,
                 report: IngestReport, blocked: bool | None = None) -> None:
    """Record one capture and upsert its article, if it parsed into one. ``blocked``: the
    record's block check when the caller made it (a record whose body was dropped)."""
    capture = capture_ref(stored)
    source_id = capture.source or "unknown"
    counts = report.records[stored.location.file]
    counts["records"] += 1
    if parsed is not None:
        counts[parsed.status] += 1
    if stored.too_large:
        report.count(source_id, "too_large")
        report.errors.append(f"{stored.location.file}@{stored.location.offset}: "
                             f"{capture.url}: payload larger than max_page_size; not parsed")
        archive.record_capture(capture)
        return
    if stored.revisit is None and capture.kind == "article" and not blocked:
        kind = takedown_kind(capture.status, capture.url, stored.captured.body,
                             capture.redirect_to, capture.requested_url)
        # A 404 / 410 is indexed in any case; a redirect or a "page removed" page only
        # when it is an archived article's (else the page goes its usual way).
        if kind is not None and archive.mark_removed(
                capture, kind, only_known=capture.status not in GONE_STATUSES) is not None:
            report.count(source_id, "removed")
            return
        if kind is not None and capture.status in GONE_STATUSES:
            return
    if parsed is None:
        if blocked is None:
            blocked = block_reason(capture.status, stored.captured.body) is not None
        if blocked:
            report.count(source_id, "blocked")
        if stored.revisit is not None:
            if archive.record_revisit(capture) and capture.kind == "article":
                report.count(source_id, "unchanged")
        else:
            archive.record_capture(capture)
        return
    if parsed.article is None:
        where = f"{stored.location.file}@{stored.location.offset}"
        if parsed.status == "parse_error":
            log.error("parse failed for %s (record %s, %s): %s", capture.url,
                      capture.record_id, where, parsed.message)
            report.errors.append(f"{where}: {capture.url}: {parsed.message}")
        else:
            log.info("not an article: %s (%s)", capture.url, parsed.message)
        report.count(source_id, parsed.status)
        archive.record_capture(capture)
        return
    article = parsed.article
    if capture.requested_url:
        article = replace(article, aliases=(*article.aliases, capture.requested_url))
    outcome: Outcome = archive.upsert(article, capture)
    report.count(source_id, str(outcome))
    counts[str(outcome)] += 1


class Parser:
    """Parses article records in order, on several processes when there is work for them.

    Parsing (trafilatura, lxml) is CPU-bound and pure, so it fans out to a process pool;
    results come back in input order and the archive writes stay in this process, so the
    outcome is the same as a serial run (which ``workers=1`` gives).
    """

    def __init__(self, config: Config | None, workers: int | None = None):
        self.config = config
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Parser:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def parse(self, batch: list[StoredResponse]) -> list[Parsed | None]:
        """One result per record: None for records that are not article pages."""
        # Once per record: the block-page check behind is_article_record reads the body.
        wanted = [is_article_record(s) for s in batch]
        jobs = [(s, source_for(self.config, str(s.captured.metadata.get("source"))))
                for s, want in zip(batch, wanted, strict=True) if want]
        if self.workers > 1 and len(jobs) >= 2 * self.workers:
            if self._pool is None:
                # fork: workers inherit the imported parser, so they start in milliseconds.
                # The children drop the inherited writer lock: an orphan must never hold it.
                self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("fork"),
                                                 initializer=close_inherited)
            results = iter(list(self._pool.map(parse_record, jobs, chunksize=4)))
        else:
            results = iter([parse_record(job) for job in jobs])
        return [next(results) if want else None for want in wanted]


def default_workers() -> int:
    """Parser processes: ``MEDIAWATCH_PARSE_WORKERS``, else one per core (at most 8)."""
    configured = os.environ.get("MEDIAWATCH_PARSE_WORKERS")
    if configured and configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, min(8, os.cpu_count() or 1))


BATCH = 64


def _batches(stored: Iterator[StoredResponse], size: int) -> Iterator[list[StoredResponse]]:
    """Fixed-size batches; on a damaged file, the records read before the damage still come
    out before the error is raised."""
    batch: list[StoredResponse] = []
    try:
        for record in stored:
            batch.append(record)
            if len(batch) == size:
                yield batch
                batch = []
    except WarcError:
        if batch:
            yield batch
        raise
    if batch:
        yield batch


#: Test hook, for crash tests only: ``MEDIAWATCH_TEST_INGEST_STOP_AFTER=N`` makes an ingest
#: commit its records in batches of N and stop its own process (SIGSTOP) after the first
#: batch, so that a test can ``kill -9`` it at a known point of a load. Unset in production.
#: The stop is :func:`archive.faults.stop_here` at stage ``loading``.
STOP_HOOK = INGEST_STOP_AFTER


def _stop_after() -> int | None:
    value = os.environ.get(STOP_HOOK, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


def store_batch(archive: Archive, name: str,
                items: list[tuple[StoredResponse, Parsed | None, bool | None]],
                report: IngestReport) -> int:
    """Store parsed records of the file ``name`` in one transaction together with the
    ledger's new position, read again inside it (records another loader stored meanwhile
    are left out); then the test hook ``loading``. Returns the ledger's position."""
    with archive.transaction():
        now = ledger.position(archive, name)
        start = now.loaded_to if now is not None else 0
        todo = [item for item in items if item[0].location.offset >= start]
        for stored, result, blocked in todo:
            store_record(archive, stored, result, report, blocked)
        link_batch(archive, [s.location for s, result, _b in todo
                             if result is not None and result.article is not None])
        if todo:
            last = todo[-1][0].location
            start = last.offset + last.length
            ledger.advance(archive, name, len(todo), start)
    stop_here("loading")  # test hook (archive/faults.py; see STOP_HOOK)
    return start


def link_batch(archive: Archive, locations: list[WarcLocation]) -> None:
    """Link the articles of these just stored captures into stories (clusters stored at
    ingest: :mod:`archive.clusters`), in the transaction that stored them."""
    if not locations:
        return
    # Imported here: datasketch loads scipy (0.8 s), which commands that never ingest skip.
    from archive.clusters.index import link_stories

    conn = archive.db.conn
    ids = {row[0] for loc in locations for row in conn.execute(
        'SELECT article_id FROM captures WHERE warc_file = ? AND "offset" = ?'
        " AND article_id IS NOT NULL", [loc.file, loc.offset])}
    link_stories(conn, ids)


def _load_file(archive: Archive, path: Path, parser: Parser, report: IngestReport,
               batch_size: int, stop_after: int | None,
               reader: Callable[[Path], Iterator[StoredResponse]] = iter_responses) -> None:
    """Load the records of ``path`` the ledger does not have yet, then mark it complete.

    Each batch is stored in one transaction together with the ledger's new position, and
    that position is read again inside the transaction: a record is stored once, whether
    this load resumes a killed one or races another process loading the same file.
    After each batch, the test hook :func:`archive.faults.stop_here` (``loading``);
    ``stop_after`` is no longer read (the hook reads :data:`STOP_HOOK` itself)."""
    if is_side_file(path.name):
        load_side_file(archive, path, report)
        return
    seen = ledger.position(archive, path.name)
    start = seen.loaded_to if seen is not None else 0
    try:
        for batch in _batches(reader(path), batch_size):
            batch = [s for s in batch if s.location.offset >= start]
            if not batch:
                continue
            parsed = parser.parse(batch)
            start = store_batch(archive, path.name,
                                [(s, p, None) for s, p in zip(batch, parsed, strict=True)],
                                report)
    except WarcError as exc:
        # An unreadable file (damaged regions are skipped, not raised): what was read is
        # in; the file is marked complete so it is not retried forever, and the error is
        # reported.
        log.error("%s", exc)
        report.errors.append(str(exc))
    ledger.finish(archive, path.name, path.stat().st_size)


def ingest_files(archive: Archive, files: Iterable[Path], config: Config | None,
                 report: IngestReport | None = None, workers: int | None = None,
                 progress: Callable[[int], None] | None = None,
                 max_payload: int | None = None) -> IngestReport:
    """Ingest ``files`` (in :func:`ingest_order`), record by record through the ledger
    (:mod:`archive.store.ledger`): completely loaded files are skipped, half-loaded ones
    resumed at their first record not loaded.

    No payload is decoded past ``max_payload`` bytes (default: the config's
    ``max_page_size``); a larger one is recorded as a capture and counted ``too_large``.

    Each batch of records is one short write transaction. ``progress`` is called with the
    size in bytes of each file when it is done (for a progress bar).
    """
    report = report or IngestReport()
    done = archive.ingested_files()
    stop_after = _stop_after()
    # The crawl's own bound on a page: no stored payload expands past it (gzip bombs).
    if max_payload is None:
        max_payload = config.crawl.max_page_size if config is not None else DEFAULT_MAX_PAYLOAD

    def damaged(damage: Damage) -> None:
        # Each damaged region once; the intact records around it are loaded. INFO, like
        # notices: the crawl's log file keeps it, the commands print report.errors once.
        log.info("%s", damage)
        report.errors.append(str(damage))

    def noticed(notice: Notice) -> None:
        # INFO: the crawl's log file keeps it; the commands print report.notices once.
        log.info("%s", notice)
        report.notices.append(str(notice))
    with Parser(config, workers) as parser:
        for path in sorted(files, key=ingest_order):
            if path.name in done:
                continue
            _load_file(archive, path, parser, report, stop_after or BATCH, stop_after,
                       reader=lambda p: read_records(p, max_payload, damaged, noticed))
            report.files.append(path.name)
            if progress is not None:
                progress(path.stat().st_size)
    return report


def ingest_new(archive: Archive, warc_dir: Path, config: Config | None,
               workers: int | None = None,
               progress: Callable[[int], None] | None = None) -> IngestReport:
    """Ingest every closed WARC file in ``warc_dir`` that is not completely loaded: files
    a killed crawl or ingest left half-loaded or unloaded, files of crawls that ran
    without ingest (``MEDIAWATCH_INGEST = False``), files copied in."""
    return ingest_files(archive, pending_files(archive, warc_dir), config,
                        workers=workers, progress=progress)


def follow(db_path: Path, warc_dir: Path, config: Config | None, stop: Event,
           interval: float, on_report: Callable[[IngestReport], None],
           workers: int | None = None,
           before_round: Callable[[], None] | None = None) -> None:
    """Load the pending files of ``warc_dir`` (:func:`ingest_new`), then again every
    ``interval`` seconds, until ``stop`` is set (``mediawatch ingest --follow``).

    Polling, not inotify: it works the same on network file systems, where the crawl
    workers of the cluster mode write. The archive is opened for each round and closed
    between rounds, so a ``reindex`` can take its turn (and the next round writes to the
    new file). ``on_report`` receives each round that loaded something; ``before_round``
    runs before each (the cluster's: fetch files from an object store, recover the open
    files of dead workers, :mod:`scheduler.cluster.ingestside`)."""
    while True:
        if before_round is not None:
            before_round()
        with Archive(db_path) as archive:
            report = ingest_new(archive, warc_dir, config, workers=workers)
        if report.files:
            on_report(report)
        if stop.wait(interval):
            return


def pending_files(archive: Archive, warc_dir: Path) -> list[Path]:
    """The closed WARC files in ``warc_dir`` not completely loaded, in ingest order.

    Each gets its CDXJ index if it has none (:func:`archive.warc.cdxj.index_missing`): a
    process killed between closing a file and indexing it left it without one."""
    pending = sorted(ledger.pending(archive, list_warcs(warc_dir)), key=ingest_order)
    index_missing(pending)
    return pending


def leftover_files(archive: Archive, warc_dir: Path, source_id: str | None) -> list[Path]:
    """:func:`pending_files` for a crawl of ``source_id`` to load, without the files of
    another source whose crawl is still running: that crawl loads them itself, so that its
    run's figures count them (:meth:`~archive.store.db.Archive.live_run_sources`)."""
    busy = archive.live_run_sources(datetime.now(UTC)) - {source_id}
    return [p for p in pending_files(archive, warc_dir) if file_source(p) not in busy]


def source_for(config: Config | None, source_id: str) -> Source:
    """The configured source, or a generic profile for one no longer in the config."""
    if config is not None:
        for src in config.sources:
            if src.id == source_id:
                return src
    # A source removed from the config still has its captures: parse them generically.
    return Source(id=source_id, name=source_id, sections=("http://unknown/",))
