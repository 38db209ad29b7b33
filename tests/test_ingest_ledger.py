"""The ingest ledger under real crashes: ``kill -9`` of ``mediawatch crawl`` or ``mediawatch
ingest`` while it loads a closed WARC file, then ``mediawatch ingest`` or the next crawl;
the final export must equal an uninterrupted run's (timestamps aside).

The kill lands at a known point through the documented test hook
``MEDIAWATCH_TEST_INGEST_STOP_AFTER`` (:data:`crawler.ingest.STOP_HOOK`): the loading
process stops itself (SIGSTOP) after committing its first N records, the test waits for
that with ``waitpid(WUNTRACED)`` (no sleeping) and sends SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from typing import TYPE_CHECKING, Any

import pytest
import sqlite_utils

from archive.store import ledger
from archive.store.db import Archive
from archive.store.schema import MIGRATIONS
from archive.warc.reader import list_warcs
from crawler.ingest import (
    BATCH,
    STOP_HOOK,
    IngestReport,
    Parsed,
    Parser,
    _load_file,
    ingest_files,
)
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import MEDIAWATCH
from tests.test_ingest import T0, article_html, write

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from archive.warc.reader import StoredResponse

STOP_AFTER = 3
# Capture times, and where the capture landed (export provenance: which file, at which
# offset, replayed at which time): a re-run writes other files with other record ids.
TIMES = ("first_seen", "last_seen", "capture_time", "warc_file", "warc_offset", "replay_url")


def cli(config: Path, data: Path, *args: str, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``mediawatch`` to completion."""
    result = subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data), *args],
                            capture_output=True, text=True, timeout=300, check=False,
                            env={**os.environ, **(env or {})})
    if check:
        assert result.returncode == 0, result.stderr
    return result


def killed_while_loading(config: Path, data: Path, *args: str) -> None:
    """Run ``mediawatch *args`` until it has loaded STOP_AFTER records, then ``kill -9`` it."""
    proc = subprocess.Popen(
        [MEDIAWATCH, "--config", str(config), "--data", str(data), *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, STOP_HOOK: str(STOP_AFTER), "MEDIAWATCH_PARSE_WORKERS": "1"})
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status), f"{args} ended before loading: status {status}"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def export(config: Path, data: Path) -> list[dict[str, Any]]:
    """``mediawatch export --format jsonl`` without the capture times."""
    out = cli(config, data, "export", "--format", "jsonl").stdout
    return [{k: v for k, v in json.loads(line).items() if k not in TIMES}
            for line in out.splitlines()]


def without_clusters(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Export rows to compare with an archive of fewer sources: without ``cluster_id``. A
    story's cluster spans sources and is named by its smallest member's id, so the same
    article is in another cluster (or none) where the other sources' copies are missing."""
    return [{k: v for k, v in row.items() if k != "cluster_id"} for row in rows]


def ledger_rows(data: Path) -> list[tuple[str, int, int]]:
    """(name, records, complete) of every ledger row."""
    conn = sqlite3.connect(f"file:{data / 'archive.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT name, records, complete FROM warc_files ORDER BY name"
                            ).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The sample newsroom serving, its sources file, and an uninterrupted crawl's data."""
    work = tmp_path_factory.mktemp("ledger")
    with Newsroom() as server:
        config = work / "sources.toml"
        config.write_text(render_sources(server.base_url), encoding="utf-8")
        cli(config, work / "reference", "crawl", "northwind")
        yield config, work / "reference"


@pytest.mark.parametrize("then", ["ingest", "crawl"])
def test_crawl_killed_while_loading_its_closed_warc_loses_nothing(
        newsroom: tuple[Path, Path], tmp_path: Path, then: str) -> None:
    config, reference = newsroom
    data = tmp_path / "data"
    killed_while_loading(config, data, "crawl", "northwind")
    warcs = data / "warcs"
    assert not list(warcs.rglob("*.open"))  # killed after its WARC file was closed
    [(name, records, complete)] = ledger_rows(data)
    assert (records, complete) == (STOP_AFTER, 0)  # half-loaded
    with Archive(data / "archive.db") as archive:
        # Listing state waits for its captures: the killed crawl saved none.
        assert archive.db.execute("SELECT count(*) FROM fetch_state WHERE digest IS NOT NULL"
                                  ).fetchone()[0] == 0
        assert [p.name for p in list_warcs(warcs)] == [name]
    cli(config, data, "ingest" if then == "ingest" else "crawl",
        *(() if then == "ingest" else ("northwind",)))
    assert export(config, data) == export(config, reference)
    assert all(complete for _, _, complete in ledger_rows(data))


def test_ingest_killed_mid_file_finishes_it_without_duplicates(tmp_path: Path) -> None:
    pages = [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200) for n in range(12)]
    config = tmp_path / "sources.toml"
    config.write_text('[[source]]\nid = "wire"\nfeeds = ["http://127.0.0.1:1/rss.xml"]\n',
                      encoding="utf-8")
    data, reference = tmp_path / "data", tmp_path / "reference"
    path = write(data / "warcs", pages, T0)
    write(reference / "warcs", pages, T0)
    cli(config, reference, "ingest")
    killed_while_loading(config, data, "ingest")
    assert ledger_rows(data) == [(path.name, STOP_AFTER, 0)]
    cli(config, data, "ingest")
    assert ledger_rows(data) == [(path.name, 12, 1)]
    assert export(config, data) == export(config, reference)
    with Archive(data / "archive.db") as archive, Archive(reference / "archive.db") as ref:
        assert archive.stats() == ref.stats()  # no capture stored twice
    second = cli(config, data, "ingest").stdout
    assert "ingested 0 WARC file(s)" in second


def test_two_loaders_of_one_file_store_each_record_once(tmp_path: Path) -> None:
    path = write(tmp_path / "warcs", [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200)
                                      for n in range(5)], T0)
    with Archive(tmp_path / "archive.db") as first, Archive(tmp_path / "archive.db") as other:

        class RacedParser(Parser):
            """Another loader stores the whole file while this one parses its batch."""

            def parse(self, batch: list[StoredResponse]) -> list[Parsed | None]:
                ingest_files(other, [path], None, workers=1)
                return super().parse(batch)

        report = IngestReport()
        with RacedParser(None, workers=1) as parser:
            _load_file(first, path, parser, report, BATCH, None)
        assert report.outcomes == {}  # every record was already stored by the other one
        entry = ledger.position(first, path.name)
        assert entry is not None
        assert (entry.records, entry.complete, entry.size) == (5, True, path.stat().st_size)
        assert first.stats()["captures"] == 5


def test_migration_keeps_files_loaded_before_the_ledger_complete(tmp_path: Path) -> None:
    db = sqlite_utils.Database(tmp_path / "archive.db")
    MIGRATIONS.apply(db, stop_before="0007_ingest_ledger")
    db.execute("INSERT INTO warc_files (name, records) VALUES ('old.warc.gz', 7)")
    db.conn.commit()
    db.close()
    with Archive(tmp_path / "archive.db") as archive:
        assert archive.ingested_files() == {"old.warc.gz"}
        assert ledger.entries(archive)["old.warc.gz"].records == 7


def test_ingest_follow_loads_files_as_they_close_until_sigterm(tmp_path: Path) -> None:
    config, data = tmp_path / "sources.toml", tmp_path / "data"
    config.write_text('[[source]]\nid = "wire"\nfeeds = ["http://127.0.0.1:1/rss.xml"]\n',
                      encoding="utf-8")
    proc = subprocess.Popen(
        [MEDIAWATCH, "--config", str(config), "--data", str(data), "ingest", "--follow",
         "--interval", "0.1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        write(data / "warcs", [("http://127.0.0.1:1/a/1.html", article_html(1), 200)], T0)
        deadline = time.monotonic() + 60
        loaded = 0
        while loaded == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)  # polling the real process: what --follow itself does
            try:  # the service may still be creating the file
                loaded = sum(complete for _, _, complete in ledger_rows(data))
            except sqlite3.OperationalError:
                continue
        assert loaded == 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "ingested 1 WARC file(s): 1 articles" in out


@pytest.mark.parametrize("ingest", [True, False], ids=["loaded", "not-loaded"])
def test_listing_state_takes_effect_only_with_its_captures(tmp_path: Path,
                                                           ingest: bool) -> None:
    from scrapy import signals

    from archive.models import FetchState
    from crawler.components.state import IncrementalState
    from crawler.figures import WARC_FILES_STAT
    from tests.test_components import WIRE, crawler_for, ext

    written = write(tmp_path / "warcs", [("http://127.0.0.1:9/a/1.html", article_html(1), 200)],
                    T0)
    Archive(tmp_path / "archive.db").close()
    crawler = crawler_for(tmp_path, MEDIAWATCH_INGEST=ingest)
    state = ext(crawler, IncrementalState)
    state.spider_opened(crawler.spider)
    state.record(FetchState(WIRE.feeds[0], "wire", "feed", etag='"v1"', digest="d"))
    crawler.stats.set_value(WARC_FILES_STAT, [str(written)])
    # Every spider_closed handler in EXTENSIONS order, as Scrapy sends the signal.
    crawler.signals.send_catch_log(signals.spider_closed, spider=crawler.spider,
                                   reason="finished")
    with Archive(tmp_path / "archive.db") as archive:
        etags = archive.db.execute("SELECT etag FROM fetch_state").fetchall()
        assert archive.ingested_files() == ({written.name} if ingest else set())
    assert [tuple(r) for r in etags] == ([('"v1"',)] if ingest else [])
