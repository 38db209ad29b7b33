"""archive.store.connection: one connection factory, one meaning of read-only."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

import pytest

from archive.store.connection import BUSY_TIMEOUT_MS, connect

if TYPE_CHECKING:
    from pathlib import Path


def pragma(conn: sqlite3.Connection, name: str) -> object:
    return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_read_write_creates_the_file_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "archive.db"
    conn = connect(path)
    try:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
        assert path.is_file()
        assert pragma(conn, "journal_mode") == "wal"
        assert pragma(conn, "foreign_keys") == 1
        assert pragma(conn, "busy_timeout") == BUSY_TIMEOUT_MS
        assert pragma(conn, "synchronous") == 1  # NORMAL
        assert pragma(conn, "query_only") == 0
    finally:
        conn.close()


def test_read_only_does_not_create_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.db"
    with pytest.raises(FileNotFoundError):
        connect(path, readonly=True)
    assert list(tmp_path.iterdir()) == []


def test_read_only_reads_but_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    writer = connect(path)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    reader = connect(path, readonly=True)
    try:
        assert reader.execute("SELECT x FROM t").fetchall() == [(1,)]
        assert pragma(reader, "query_only") == 1
        assert pragma(reader, "busy_timeout") == BUSY_TIMEOUT_MS
        for statement in ("INSERT INTO t VALUES (2)", "CREATE TABLE u (y)",
                          "CREATE TEMP TABLE v (z)", "DELETE FROM t"):
            with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only"):
                reader.execute(statement)
        # Not merely query_only: the handle itself is read-only (mode=ro), so switching
        # the pragma off does not make it a writer.
        reader.execute("PRAGMA query_only=OFF")
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only"):
            reader.execute("INSERT INTO t VALUES (3)")
        # ... and it sees what the writer commits while it is open (WAL).
        writer.execute("INSERT INTO t VALUES (4)")
        writer.commit()
        assert reader.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (4,)]
    finally:
        reader.close()
        writer.close()


def test_read_only_opens_after_the_writer_removed_its_wal_files(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    writer = connect(path)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("INSERT INTO t VALUES (1)")
    writer.commit()
    writer.close()  # the last connection checkpoints and deletes -wal and -shm
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive.db"]
    reader = connect(path, readonly=True, check_same_thread=False)
    try:
        assert reader.execute("SELECT x FROM t").fetchall() == [(1,)]
    finally:
        reader.close()


def test_archive_readers_use_the_read_only_meaning(tmp_path: Path) -> None:
    from archive.store.crawlstate import CrawlState
    from archive.store.db import Archive

    path = tmp_path / "archive.db"
    Archive(path).close()
    reader = Archive.open_readonly(path)
    try:
        assert pragma(reader.db.conn, "query_only") == 1
    finally:
        reader.close()
    state = CrawlState(path)
    try:
        assert state._conn is not None
        assert pragma(state._conn, "query_only") == 1
    finally:
        state.close()
    assert CrawlState(tmp_path / "absent.db")._conn is None
    assert not (tmp_path / "absent.db").exists()
