"""The SQLite article archive: one connection, its transactions, and the tables not derived
from the WARCs (the ingest ledger and the run log).

:class:`Archive` is the handle every caller holds (crawler, scheduler, web app, tests,
benchmarks). It opens the file (schema and migrations: :mod:`archive.store.schema`), owns the
transactions, keeps the ledger of ingested WARC files and the run log, and carries the
operational tables over on ``reindex``. Storing and reading articles are separate modules,
with their own reasons to change: :mod:`archive.store.articles` (the write side, applying the
rules of :mod:`archive.store.identity`) and :mod:`archive.store.lookups` (the read side).
Their public functions stay reachable as thin :class:`Archive` methods (``upsert``,
``record_capture``, ``show``, ``export``...) rather than callers switching to the
functions: a caller holds one ``Archive`` and needs its transaction, about two hundred call
sites use the methods, and ``archive.upsert(...)`` keeps reading as one object's API.

Everything but the ``runs`` table (and the other :data:`~archive.store.schema.OPERATIONAL_TABLES`)
is derived from the WARC captures: calling the same methods with the same values in the
same order gives the same database, which is what ``mediawatch reindex`` relies on. No
method reads the clock; every time comes from a capture.

Times are stored as ISO 8601 UTC text with a ``Z`` and whole seconds
(``2020-11-29T23:25:00Z``): fixed width, so text order is time order; sub-second
precision is dropped. A naive datetime is an error (:class:`ArchiveError`).

Opening runs under the schema lock (:func:`archive.store.connection.schema_lock`), so any
number of processes may open a fresh data directory at the same moment. A read-write
:class:`Archive` holds the archive-wide writer lock shared while it is open
(:mod:`archive.store.writerlock`), so ``reindex`` never replaces the file under it: opening
one waits while a reindex runs, and migrations run under it too.

A crawl's run is logged twice: :meth:`Archive.start_run` when it starts (status ``running``,
its process in ``extra``), :meth:`Archive.finish_run` on the same row when it ends. A
``running`` row whose process is gone is marked ``failed``, reason ``interrupted``, by
:meth:`Archive.fail_interrupted_runs` (:mod:`archive.store.runowner`).

An :class:`Archive` is one connection: use it from one thread. Each write method is one
short ``BEGIN IMMEDIATE`` transaction; wrap many calls in :meth:`Archive.transaction` to
make a bulk load faster (nested calls become savepoints).
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from archive.store import articles, ledger, lookups

# Registers migration 0010 (fold_terms, article_entities) beside the code keeping them.
from archive.store import names as _names  # noqa: F401
from archive.store.connection import connect, schema_lock
from archive.store.identity import Outcome
from archive.store.records import CaptureRef, run_row
from archive.store.runowner import DEFAULT_MAX_AGE, INTERRUPTED, RunOwner, interrupted
from archive.store.schema import MIGRATIONS, OPERATIONAL_TABLES, ArchiveError
from archive.store.writerlock import reindex_pid, writer_lock

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from datetime import datetime, timedelta

    from archive.models import Article

log = logging.getLogger(__name__)

__all__ = [
    "Archive",
    "ArchiveError",
    "CaptureRef",
    "Outcome",
]


class Archive:
    """The article archive in one SQLite file (see the module docstring).

    Opening creates the parent directory and the file if needed, takes the writer lock
    shared (waiting for a reindex in progress), switches to WAL mode and applies pending
    migrations. ``writer_lock=False`` is for the one database no other process can see:
    the one ``reindex`` builds beside the archive.
    """

    def __init__(self, path: str | Path, *, writer_lock: bool = True) -> None:
        self.path = Path(path)
        self._locks = ExitStack()
        if writer_lock:
            self._locks.enter_context(_writer_lock(self.path))
        try:
            # Connect (the switch to WAL included) and migrate as one step under the lock:
            # the applied migrations are read once it is held, so a second opener finds them
            # done.
            with schema_lock(self.path):
                self.db = sqlite_utils.Database(connect(self.path))
                try:
                    MIGRATIONS.apply(self.db)
                except BaseException:
                    self.db.close()
                    raise
        except BaseException:
            self._locks.close()
            raise

    @classmethod
    def open_readonly(cls, path: str | Path) -> Archive:
        """Open an existing archive for reading only (no migration, no write)."""
        path = Path(path)
        if not path.is_file():
            raise ArchiveError(f"no archive at {path}")
        self = cls.__new__(cls)
        self.path = path
        self._locks = ExitStack()  # a reader needs no writer lock
        with schema_lock(path, shared=True):  # wait for a migration in progress
            self.db = sqlite_utils.Database(connect(path, readonly=True))
            pending = MIGRATIONS.pending(self.db)
        if pending:
            self.db.close()
            raise ArchiveError(
                f"{path} needs migrations ({', '.join(m.name for m in pending)}): "
                "open it read-write once"
            )
        return self

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Archive {self.path}>"

    def close(self) -> None:
        """Close the connection and let the writer lock go."""
        try:
            self.db.close()
        finally:
            self._locks.close()

    @contextmanager
    def transaction(self) -> Iterator[Archive]:
        """One write transaction (``BEGIN IMMEDIATE``); nested, a savepoint."""
        conn = self.db.conn
        if conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.db.rollback()
            raise
        conn.execute("COMMIT")

    # -- writing: archive.store.articles ---------------------------------------------------

    def record_capture(self, capture: CaptureRef, article_id: str | None = None) -> None:
        """Index one WARC record that is not an article page stored through :meth:`upsert`
        (:func:`archive.store.articles.record_capture`)."""
        articles.record_capture(self, capture, article_id)

    def record_revisit(self, capture: CaptureRef) -> str | None:
        """Index a revisit record, linked to the article of the capture it repeats; returns
        the article id (:func:`archive.store.articles.record_revisit`)."""
        return articles.record_revisit(self, capture)

    def mark_removed(self, capture: CaptureRef, kind: str = "gone", *,
                     only_known: bool = False) -> str | None:
        """Index a takedown answer and mark the article of its URL removed, with the kind and
        the capture as evidence; returns its id (:func:`archive.store.articles.mark_removed`)."""
        return articles.mark_removed(self, capture, kind, only_known=only_known)

    def upsert(self, article: Article, capture: CaptureRef) -> Outcome:
        """Store one parsed article page and its capture; say what that did
        (:func:`archive.store.articles.upsert`)."""
        return articles.upsert(self, article, capture)

    # -- reading: archive.store.lookups ----------------------------------------------------

    def resolve(self, url_or_id: str) -> str | None:
        """The id of the article ``url_or_id`` names: an article id or any alias URL."""
        return lookups.resolve(self.db, url_or_id)

    def show(self, url_or_id: str) -> dict[str, Any] | None:
        """Everything about one article: current fields, aliases, versions and captures
        (:func:`archive.store.lookups.show`)."""
        return lookups.show(self.db, url_or_id)

    def export(self, query: str | None = None) -> Iterator[dict[str, Any]]:
        """Every article (or the full-text matches of ``query``), in export order
        (:func:`archive.store.lookups.export`)."""
        return lookups.export(self.db, query)

    def count(self, query: str | None = None) -> int:
        """How many articles :meth:`export` gives for ``query`` (all when None)."""
        return lookups.count(self.db, query)

    def stats(self) -> dict[str, int]:
        """Row counts: articles, versions, aliases, captures."""
        return lookups.stats(self.db)

    # -- the ingest ledger, maintenance and the run log -------------------------------------

    def ingested_files(self) -> set[str]:
        """Names of the WARC files completely loaded (the ingest ledger,
        :mod:`archive.store.ledger`; ingest skips them)."""
        return ledger.complete_files(self)

    def mark_ingested(self, name: str, records: int) -> None:
        """Record that WARC file ``name`` (``records`` response records) is completely
        loaded, without going through the per-record ledger (:mod:`archive.store.ledger`)."""
        with self.transaction():
            self.db.execute(
                "INSERT INTO warc_files (name, records, complete) VALUES (?, ?, 1)"
                " ON CONFLICT (name) DO UPDATE SET records = excluded.records, complete = 1",
                [name, records],
            )

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (before copying or renaming the file)."""
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def reset(self) -> None:
        """Delete everything derived from the WARCs, keeping the run log (for reindex)."""
        with self.transaction():
            for table in ("warc_files", "screenshots", "captures", "versions", "aliases",
                          "articles"):
                self.db.execute(f"DELETE FROM {table}")

    def log_run(self, run: Mapping[str, Any]) -> None:
        """Append one crawl run to the operational log.

        Known keys (source, started, finished, status, pages, failed, new, updated,
        unchanged, duplicates, warc_bytes) become columns; datetimes must be aware; every
        other key (and the items of an ``extra`` dict) goes to the ``extra`` JSON.
        """
        row = run_row(run)
        names = ", ".join(row)
        with self.transaction():
            self.db.execute(
                f"INSERT INTO runs ({names}) VALUES ({', '.join(':' + n for n in row)})", row
            )

    def carry_over(self, old_path: str | Path) -> None:
        """Copy the operational tables (run log, polling state, alerts) of the archive at
        ``old_path`` into this one; ``reindex`` uses it, since WARCs cannot rebuild them."""
        old = Archive(old_path)  # brings an older file up to the current schema first
        # (reindex holds the writer lock exclusive: re-entrant, so this does not wait)
        old.close()
        self.db.execute("ATTACH DATABASE ? AS old", [str(old_path)])
        try:
            with self.transaction():
                for table in OPERATIONAL_TABLES:
                    self.db.execute(_carry_sql(table, list(self.db[table].columns_dict),
                                               self.db[table].count > 0))
        finally:
            self.db.execute("DETACH DATABASE old")

    def start_run(self, source: str, started: datetime,
                  owner: RunOwner | None = None) -> int:
        """Log a run that starts now as ``running``, owned by ``owner`` (this process by
        default); its id, for :meth:`finish_run`."""
        owner = owner or RunOwner.current()
        row = run_row({"source": source, "started": started, "status": "running",
                       "extra": owner.extra()})
        with self.transaction():
            cursor = self.db.execute(
                f"INSERT INTO runs ({', '.join(row)})"
                f" VALUES ({', '.join(':' + n for n in row)})", row)
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def finish_run(self, run_id: int, run: Mapping[str, Any]) -> None:
        """Complete run ``run_id`` (logged by :meth:`start_run`) with the figures of ``run``
        (keys as :meth:`log_run` takes them), dropping the owner from ``extra``. A row another
        process has meanwhile marked interrupted (it took this one for dead) is completed
        all the same: the run did finish."""
        row = run_row(run)
        with self.transaction():
            old = self.db.execute("SELECT extra FROM runs WHERE id = ?", [run_id]).fetchone()
            if old is None:
                raise ArchiveError(f"no run {run_id}")
            extra = {**json.loads(old[0]), **json.loads(row.pop("extra"))}
            if extra.get("reason") == INTERRUPTED and row.get("status") != "failed":
                extra.pop("reason")
            for key in RunOwner.KEYS:  # only a running row needs its process
                extra.pop(key, None)
            row["extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True)
            sets = ", ".join(f"{name} = :{name}" for name in row)
            self.db.execute(f"UPDATE runs SET {sets} WHERE id = :id", {**row, "id": run_id})

    def _running_rows(self, now: datetime, max_age: timedelta
                      ) -> list[tuple[dict[str, Any], bool]]:
        """Every ``running`` row (``extra`` parsed) and whether its process is gone
        (:func:`~archive.store.runowner.interrupted`)."""
        host = socket.gethostname()
        rows = [{**row, "extra": json.loads(row["extra"])}
                for row in self.db.query("SELECT * FROM runs WHERE status = 'running'")]
        return [(row, interrupted(row, host, now, max_age)) for row in rows]

    def fail_interrupted_runs(self, now: datetime,
                              max_age: timedelta = DEFAULT_MAX_AGE) -> list[int]:
        """Mark every ``running`` row whose process is gone ``failed`` with reason
        ``interrupted``; the ids it marked."""
        marked = []
        for row, gone in self._running_rows(now, max_age):
            if gone:
                # Re-checked in the update: the crawl may have finished meanwhile.
                self.amend_run(row["id"], "failed", only_if="running", reason=INTERRUPTED)
                marked.append(int(row["id"]))
        return marked

    def live_run_sources(self, now: datetime,
                         max_age: timedelta = DEFAULT_MAX_AGE) -> set[str]:
        """The sources with a ``running`` row whose process still runs: crawls going on
        now."""
        return {str(row["source"]) for row, gone in self._running_rows(now, max_age)
                if not gone and row["source"] is not None}

    def amend_run(self, run_id: int, status: str, *, finished: datetime | None = None,
                  only_if: str | None = None, **extra: Any) -> None:
        """Change a logged run's status and add ``extra`` items to its ``extra`` JSON; set
        ``finished`` when given; change nothing when ``only_if`` is given and the run's
        status is not that."""
        with self.transaction():
            row = self.db.execute("SELECT extra, status FROM runs WHERE id = ?",
                                  [run_id]).fetchone()
            if row is None:
                raise ArchiveError(f"no run {run_id}")
            if only_if is not None and row[1] != only_if:
                return
            merged = {**json.loads(row[0]), **extra}
            self.db.execute("UPDATE runs SET status = ?, extra = ? WHERE id = ?",
                            [status, json.dumps(merged, ensure_ascii=False, sort_keys=True),
                             run_id])
            if finished is not None:
                self.db.execute("UPDATE runs SET finished = ? WHERE id = ?",
                                [run_row({"finished": finished})["finished"], run_id])

    def runs(self, source: str | None = None) -> list[dict[str, Any]]:
        """Logged runs (all, or of one source), oldest first; ``extra`` parsed back."""
        where, params = ("WHERE source = ?", [source]) if source is not None else ("", [])
        rows = self.db.query(f"SELECT * FROM runs {where} ORDER BY started, id", params)
        return [{**row, "extra": json.loads(row["extra"])} for row in rows]


def _writer_lock(path: Path) -> contextlib.AbstractContextManager[None]:
    """The shared writer lock of the archive at ``path``; says once whom it waits for."""
    def waiting() -> None:
        pid = reindex_pid(path)
        log.warning("%s is being rebuilt by mediawatch reindex%s; waiting for it to finish",
                    path, f" (pid {pid})" if pid else "")
    return writer_lock(path, on_wait=waiting)


def _carry_sql(table: str, names: list[str], filled: bool) -> str:
    """Copy ``old.<table>`` into ``main.<table>`` for :meth:`Archive.carry_over`. Tables
    the WARC files filled already (a cluster worker's crawl-state records: runs, fetch and
    source states) keep one row per run or URL: the old archive's row wins, a run already
    there is not logged twice (ids are renumbered then)."""
    columns = ", ".join(f'"{c}"' for c in names)
    if not filled:
        return f"INSERT INTO main.{table} ({columns}) SELECT {columns} FROM old.{table}"
    if table == "runs":
        kept = ", ".join(f'"{c}"' for c in names if c != "id")
        return (f"INSERT INTO main.runs ({kept}) SELECT {kept} FROM old.runs AS o"
                " WHERE NOT EXISTS (SELECT 1 FROM main.runs AS m WHERE m.source IS o.source"
                " AND m.started IS o.started) ORDER BY o.id")
    return f"INSERT OR REPLACE INTO main.{table} ({columns}) SELECT {columns} FROM old.{table}"
