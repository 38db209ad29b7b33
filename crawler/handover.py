"""Parse while fetching: WARC files handed to parser processes as they close (issue 10).

A crawl that loads its captures only when it ends parses nothing while it fetches, and then
decodes every record in the main process and ships the bodies to the parser processes in
batches they wait on. Here the capture closes small files while the crawl goes on
(``MEDIAWATCH_HANDOVER_SIZE``, :mod:`crawler.components.capture`) and each closed file is
handed over as a path: a parser process reads the file itself
(:func:`prepare_file`: the same :func:`crawler.ingest.read_records`, block check and
:func:`crawler.ingest.parse_record` as any ingest), and gives back the records without
their bodies, parsed. A loader thread of the crawl's process stores them, file by file in
the order they closed, through :func:`crawler.ingest.store_batch`: one transaction per
batch with the ingest ledger's position, the very path of ``mediawatch ingest``.

So nothing changes in what the archive holds (a function of the WARC files: ``reindex``
gives the same) nor in what a crash leaves (a file is loaded exactly once through the
ledger, whoever loads it; a file not completely loaded is loaded by the next crawl or
ingest). Files left by earlier crawls (the ledger's pending files) are handed over first,
at the first hand-over, so older captures still load before newer ones; when one of them
is larger than :data:`MAX_HANDOVER_FILE` the crawl hands nothing over and loads everything
at its end, as before. Each file is shared by every parser process (each parses every
n-th article record), so the crawl's last file, handed over when the crawl ends, is parsed
on all of them too. A crawl that closed no file before its end (a small one) loads its one
file at its end through the ordinary ingest.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import get_context
from typing import TYPE_CHECKING

from archive.store import ledger
from archive.store.db import Archive
from archive.store.identity import normalize_text
from archive.store.writerlock import close_inherited
from archive.warc.reader import Damage, Notice, StoredResponse, WarcError
from crawler.ingest import (
    BATCH,
    IngestReport,
    Parsed,
    _stop_after,
    file_source,
    is_article_record,
    leftover_files,
    parse_record,
    read_records,
    source_for,
    store_batch,
)
from crawler.pages.blockpage import block_reason
from crawler.sidefiles import is_side_file

if TYPE_CHECKING:
    from pathlib import Path

    from archive.config.sources import Config

log = logging.getLogger(__name__)

#: Files left by earlier crawls larger than this are not handed over (their parsed records
#: would be held in memory at once): the crawl then loads everything at its end.
MAX_HANDOVER_FILE = 64 * 1024**2


@dataclass(frozen=True, slots=True)
class PreparedRecord:
    """One record of a file, parsed: ``stored`` without its body (the archive's writes do
    not read it), what parsing gave (None: not an article record) and the block check."""

    stored: StoredResponse
    parsed: Parsed | None
    blocked: bool


@dataclass(slots=True)
class PreparedFile:
    """What a parser process made of one file (picklable): part 0 of :func:`prepare_file`
    reports every record, the other parts only what they parsed."""

    records: list[PreparedRecord] = field(default_factory=list)
    #: Record number -> what parsing gave, for a part other than 0.
    parsed: dict[int, Parsed] = field(default_factory=dict)
    damages: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    #: The file could not be read to its end (what was read is in ``records``).
    error: str | None = None


def without_body(stored: StoredResponse) -> StoredResponse:
    """``stored`` with an empty body: what crosses back from a parser process."""
    return replace(stored, captured=replace(stored.captured, body=b""))


def prepare_file(job: tuple[Path, Config | None, int, int, int]) -> PreparedFile:
    """Read the records of a closed file and parse every ``parts``-th article record from
    the ``part``-th (runs in a parser process: ``parts`` processes share one file). Part 0
    reports every record (without its body), the others only what they parsed: the rest
    would cross back to the crawl's process for nothing. ``job`` is ``(path, config,
    max_payload, part, parts)``. Never raises for a bad page or a damaged file: those are
    in the result."""
    path, config, max_payload, part, parts = job
    out = PreparedFile()

    def damaged(damage: Damage) -> None:
        out.damages.append(str(damage))

    def noticed(notice: Notice) -> None:
        out.notices.append(str(notice))

    try:
        for n, stored in enumerate(read_records(path, max_payload, damaged, noticed)):
            mine = n % parts == part
            if not mine and part != 0:
                continue
            captured = stored.captured
            # Once per record: the block check reads the body, which does not cross back.
            blocked = block_reason(captured.status, captured.body) is not None
            parsed = None
            if mine and is_article_record(stored, blocked):
                source = source_for(config, str(captured.metadata.get("source")))
                parsed = parse_record((stored, source))
            if part == 0:
                out.records.append(PreparedRecord(without_body(stored), parsed, blocked))
            elif parsed is not None:
                out.parsed[n] = parsed
    except WarcError as exc:
        out.error = str(exc)
    return out


def merged(parts: list[PreparedFile]) -> PreparedFile:
    """One file's parts (:func:`prepare_file` with part 0, 1, ...) as one: the ``n``-th
    record parsed by part ``n % len(parts)``. Each part read the same records."""
    first = parts[0]
    records = [r if n % len(parts) == 0 else
               PreparedRecord(r.stored, parts[n % len(parts)].parsed.get(n), r.blocked)
               for n, r in enumerate(first.records)]
    return PreparedFile(records, damages=first.damages, notices=first.notices,
                        error=first.error)


def load_prepared(archive: Archive, path: Path, prepared: PreparedFile,
                  report: IngestReport, batch: int = BATCH) -> None:
    """Store a prepared file's records the ledger does not have yet, batch by batch, then
    mark the file complete: :func:`crawler.ingest._load_file` with the parsing done."""
    for damage in prepared.damages:
        log.info("%s", damage)
        report.errors.append(damage)
    for notice in prepared.notices:
        log.info("%s", notice)
        report.notices.append(notice)
    records = prepared.records
    for at in range(0, len(records), batch):
        store_batch(archive, path.name, [(r.stored, r.parsed, r.blocked)
                                         for r in records[at:at + batch]], report)
    if prepared.error is not None:
        log.error("%s", prepared.error)
        report.errors.append(prepared.error)
    ledger.finish(archive, path.name, path.stat().st_size)
    report.files.append(path.name)


class HandOver:
    """Hands closed WARC files to parser processes and loads them in a thread, in order.

    :meth:`closed` is called in the crawl's (reactor) thread for each file closed while
    fetching goes on; :meth:`finish` waits for every file handed over to be loaded and
    returns what the loads did. A load that fails (a full disk, a database error) stops the
    hand-over: the file and those after it are loaded by the ingest at the crawl's end (or
    the next one), through the ledger.
    """

    def __init__(self, db_path: Path, warc_dir: Path, config: Config | None, workers: int,
                 max_payload: int):
        self.db_path = db_path
        self.warc_dir = warc_dir
        self.config = config
        self.workers = max(1, workers)
        self.max_payload = max_payload
        self.report = IngestReport()
        self.off = False
        self._handed: set[str] = set()
        self._pool: ProcessPoolExecutor | None = None
        self._queue: queue.Queue[tuple[Path, list[Future[PreparedFile]]] | None] = \
            queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the parser processes now, before any file is handed over, so that they
        are ready when the first one closes.

        Nothing is warmed up in them beyond what they inherit: dateparser compiles a
        pattern for each of its hundreds of locales (1.3 s of CPU) only the first time
        htmldate's extensive search hands it a string, which none of the 243 real pages
        in ``../shared/eval`` does. Warming it up in every parser process at its start cost
        each crawl that CPU on cores the crawl was using (``bench/crawl.py``: 1.45x the
        naive spider with it, 1.51x to 1.59x without; README)."""
        if self._pool is None and not self.off:
            normalize_text("\u00e9")  # builds its table once, before the fork, not per worker
            import trafilatura  # noqa: F401  (imported once here, inherited by the fork)

            # fork, in this (the main) thread: the workers inherit the imported parser; they
            # drop the inherited writer lock (an orphan must never hold it).
            self._pool = ProcessPoolExecutor(self.workers, mp_context=get_context("fork"),
                                             initializer=close_inherited)
            for _ in range(self.workers):  # the pool forks as work arrives
                self._pool.submit(int)

    def closed(self, path: Path) -> None:
        """Hand ``path`` over (and, the first time, the files earlier crawls left, except
        those of another source's crawl still running: :func:`crawler.ingest.
        leftover_files`)."""
        if self.off or path.name in self._handed:
            return
        files = [path]
        if not self._handed:
            try:
                with Archive(self.db_path) as archive:
                    left = leftover_files(archive, self.warc_dir, file_source(path))
            except Exception as exc:  # the ingest at the crawl's end meets it and says so
                log.warning("not loading while crawling: %s: %s", type(exc).__name__, exc)
                self.off = True
                return
            # A large leftover, or one that holds no captures (screenshots, crawl states):
            # the ingest at the crawl's end loads everything, in order.
            if any(p.stat().st_size > MAX_HANDOVER_FILE or is_side_file(p.name) for p in left):
                self.off = True
                return
            files = [*left, path]
            self.start()
        assert self._pool is not None
        for file in files:
            if file.name in self._handed:
                continue
            self._handed.add(file.name)
            # Every process takes a share of each file, so that the crawl's last file too is
            # parsed on all of them. The ledger's position filters at the store.
            self._queue.put((file, [self._pool.submit(
                prepare_file, (file, self.config, self.max_payload, part, self.workers))
                for part in range(self.workers)]))
        if self._thread is None:
            self._thread = threading.Thread(target=self._load_all, name="mediawatch-handover",
                                            daemon=True)
            self._thread.start()

    def _load_all(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.off:
                continue  # drain: what is left is loaded at the crawl's end
            path, futures = item
            try:
                prepared = merged([f.result() for f in futures])
                with Archive(self.db_path) as archive:
                    load_prepared(archive, path, prepared, self.report,
                                  _stop_after() or BATCH)
            except Exception as exc:  # the ingest at the crawl's end takes over
                log.error("loading %s while crawling failed (%s: %s); it is loaded at the "
                          "crawl's end", path.name, type(exc).__name__, exc)
                self.off = True

    def finish(self) -> IngestReport:
        """Wait until every file handed over is loaded (or given up); stop the workers."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
        self.off = True
        return self.report
