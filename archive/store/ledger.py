"""The ingest ledger: how far each WARC file has been loaded into the archive.

One ``warc_files`` row per file name (migration ``0007_ingest_ledger``): ``size`` (bytes, as
seen when the load finished), ``records`` (response and revisit records loaded),
``loaded_to`` (the byte offset just after the last loaded record) and ``complete``.

The ledger makes loading idempotent per record and resumable: the records of a file are
loaded in file order, and each batch is stored in the same transaction that moves
``loaded_to`` past it (:func:`advance`). A load killed at any point therefore leaves every
record either loaded and counted, or neither; the next load (any crawl's ingest, or
``mediawatch ingest``) skips the records before ``loaded_to`` and carries on. Reading the
position inside the batch's write transaction (:func:`position` under ``BEGIN IMMEDIATE``)
also keeps two processes loading the same file from storing a record twice.

A file is *pending* while it is closed (``.warc.gz`` / ``.warc``, never ``.open``) and not
``complete``: :func:`pending` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from archive.store.db import Archive


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """How far one WARC file is loaded."""

    name: str
    size: int | None
    records: int
    loaded_to: int
    complete: bool


_SELECT = "SELECT name, size, records, loaded_to, complete FROM warc_files"


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    name, size, records, loaded_to, complete = row
    return LedgerEntry(str(name), int(size) if size is not None else None, int(records),
                       int(loaded_to), bool(complete))


def position(archive: Archive, name: str) -> LedgerEntry | None:
    """The ledger entry of WARC file ``name`` (None: nothing of it loaded yet).

    Call it inside the write transaction that stores the next records, so that what it
    says cannot change before they are stored."""
    row = archive.db.execute(f"{_SELECT} WHERE name = ?", [name]).fetchone()
    return _entry(tuple(row)) if row is not None else None


def entries(archive: Archive) -> dict[str, LedgerEntry]:
    """Every ledger entry, by file name."""
    return {e.name: e for e in (_entry(tuple(r)) for r in archive.db.execute(_SELECT))}


def complete_files(archive: Archive) -> set[str]:
    """Names of the files completely loaded."""
    return {row[0] for row in archive.db.execute(
        "SELECT name FROM warc_files WHERE complete")}


def advance(archive: Archive, name: str, records: int, loaded_to: int) -> None:
    """Count ``records`` more loaded records of ``name``, loaded up to byte ``loaded_to``.

    Call it in the transaction that stored those records (the caller's)."""
    archive.db.execute(
        "INSERT INTO warc_files (name, records, loaded_to, complete) VALUES (?, ?, ?, 0)"
        " ON CONFLICT (name) DO UPDATE SET records = warc_files.records + excluded.records,"
        " loaded_to = max(warc_files.loaded_to, excluded.loaded_to)",
        [name, records, loaded_to])


def finish(archive: Archive, name: str, size: int) -> None:
    """Mark ``name`` completely loaded (every record read, or the rest unreadable)."""
    with archive.transaction():
        archive.db.execute(
            "INSERT INTO warc_files (name, records, size, complete) VALUES (?, 0, ?, 1)"
            " ON CONFLICT (name) DO UPDATE SET size = excluded.size, complete = 1",
            [name, size])


def pending(archive: Archive, files: Iterable[Path]) -> list[Path]:
    """The closed WARC files among ``files`` that are not completely loaded."""
    done = complete_files(archive)
    return [p for p in files if not p.name.endswith(".open") and p.name not in done]
