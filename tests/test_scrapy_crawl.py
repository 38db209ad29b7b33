"""``scrapy crawl source -a source=ID`` runs what ``mediawatch crawl`` runs: real subprocesses
against the sample newsroom on 127.0.0.1.

Both commands crawl into data directories of their own; their run rows and archives must
match (times, file names and compressed sizes aside). ``scrapy crawl`` takes the source's
lock (a crawl of a locked source is logged ``skipped`` and sends nothing), skips a backing-off
source on scheduled runs, and closes and loads the ``.open`` file a killed crawl left.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.warc.cdxj import cdxj_path
from archive.warc.reader import iter_responses, list_warcs
from crawler.components.session import SourceLock
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import STORIES

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = str(Path(sys.executable).with_name("scrapy"))
WARCIO = str(Path(sys.executable).with_name("warcio"))
SOURCES = ("northwind", "anatolia")


@dataclass
class Site:
    newsroom: Newsroom
    config: Path

    def scrapy_crawl(self, data: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``scrapy crawl`` from the repository root, configured through the environment."""
        env = {**os.environ, "MEDIAWATCH_CONFIG": str(self.config),
               "MEDIAWATCH_DATA": str(data)}
        result = subprocess.run([SCRAPY, "crawl", "source", "-a", f"source={source}", *args],
                                cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=300, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def mediawatch_crawl(self, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
        """``mediawatch crawl`` as the scheduler starts it."""
        result = subprocess.run([sys.executable, "-m", "scheduler.cli", "--config",
                                 str(self.config), "--data", str(data), "crawl", *args],
                                capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stderr[-3000:]
        return result

    def hits_during(self, run: Any, *args: Any) -> list[str]:
        """The paths the newsroom was asked for while ``run(*args)`` ran."""
        before = len(self.newsroom.hits)
        run(*args)
        return [path for _, path in self.newsroom.hits[before:]]


def newsroom_site(tmp: Path, *, serial: bool = False) -> Iterator[Site]:
    """The newsroom and its sources file; ``serial``: one request at a time, so that two
    crawls fetch in the same order (which of two copies of a story, the AMP page or the
    canonical one, arrives first decides which the archive calls the duplicate)."""
    with Newsroom() as newsroom:
        config = tmp / "sources.toml"
        text = render_sources(newsroom.base_url)
        if serial:
            text = text.replace("\nconcurrency = 8\nper_domain_concurrency = 8\n",
                                "\nconcurrency = 1\nper_domain_concurrency = 1\n")
            assert "concurrency = 1" in text
        config.write_text(text, encoding="utf-8")
        yield Site(newsroom, config)


def query(data: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(data / "archive.db") as conn:
        return conn.execute(sql, params).fetchall()


def dicts(data: Path, sql: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(data / "archive.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute(sql)]
    finally:
        conn.close()


# What differs between two crawls of the same site at different times: the clock, the
# WARC file names and offsets, record ids, and sizes that depend on how dates compress.
TIMES = {"started", "finished", "first_seen", "last_seen", "fetched_at", "updated",
         "next_fetch", "backoff_until"}


def run_rows(data: Path) -> list[dict[str, Any]]:
    """The run log without times, file names and byte counts (compared separately)."""
    rows = []
    for row in dicts(data, "SELECT * FROM runs ORDER BY id"):
        extra = json.loads(row.pop("extra"))
        row.update(extra)
        for key in ("id", "started", "finished", "warc_files", "warc_bytes", "revisit_bytes",
                    "requisite_bytes", "requisite_share"):
            row.pop(key, None)
        rows.append(row)
    return rows


def warc_sizes(data: Path) -> list[tuple[int, int, int]]:
    return [(len(json.loads(extra).get("warc_files") or []), warc_bytes or 0,
             json.loads(extra).get("revisit_bytes") or revisit_bytes or 0)
            for warc_bytes, revisit_bytes, extra in query(
                data, "SELECT warc_bytes, revisit_bytes, extra FROM runs ORDER BY id")]


def archive_content(data: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Articles, versions, aliases, captures and polling state, clock and files aside."""
    def table(sql: str, drop: set[str]) -> list[tuple[Any, ...]]:
        rows = [tuple(sorted((k, v) for k, v in row.items() if k not in drop))
                for row in dicts(data, sql)]
        return sorted(rows, key=repr)

    return {
        "articles": table("SELECT * FROM articles", {"pk", *TIMES}),
        "versions": table("SELECT * FROM versions", TIMES),
        "aliases": table("SELECT * FROM aliases", set()),
        "captures": table("SELECT url, requested_url, redirect_to, status, kind, source,"
                          " article_id, outcome, digest, content_hash, revisit FROM captures",
                          set()),
        "fetch_state": table("SELECT * FROM fetch_state", TIMES),
        "source_state": table("SELECT * FROM source_state", TIMES),
    }


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """Two editions of the newsroom, each source crawled by ``scrapy crawl`` into one
    data directory and by ``mediawatch crawl`` into another."""
    work = tmp_path_factory.mktemp("scrapy-crawl")
    scrapy_data, cli_data = work / "scrapy", work / "cli"
    for site in newsroom_site(work, serial=True):
        for edition in (1, 2):
            site.newsroom.edition = edition
            for source in SOURCES:
                site.scrapy_crawl(scrapy_data, source)
                site.mediawatch_crawl(cli_data, source)
        yield scrapy_data, cli_data


def test_run_rows_match(both: tuple[Path, Path]) -> None:
    scrapy_data, cli_data = both
    rows = run_rows(scrapy_data)
    assert rows == run_rows(cli_data)
    assert [(r["source"], r["status"]) for r in rows] == [
        ("northwind", "ok"), ("anatolia", "ok")] * 2
    stories = sum(s["source"] == "northwind" for s in STORIES)
    assert rows[0]["new"] == stories
    assert rows[0]["failed"] >= 4
    assert rows[0]["robots"] >= 1
    assert rows[2]["updated"] == 1
    assert rows[2]["new"] == 0
    assert rows[1]["blocked"] >= 1
    assert rows[0]["source_status"] == "ok"


def test_warc_figures_match(both: tuple[Path, Path]) -> None:
    scrapy_data, cli_data = both
    for (files, size, revisit), (cli_files, cli_size, cli_revisit) in zip(
            warc_sizes(scrapy_data), warc_sizes(cli_data), strict=True):
        assert files == cli_files == 1
        # Dates and record ids compress a little differently from run to run.
        assert abs(size - cli_size) <= cli_size * 0.02
        assert (revisit > 0) == (cli_revisit > 0)
        assert abs(revisit - cli_revisit) <= cli_revisit * 0.05


def test_archives_match(both: tuple[Path, Path]) -> None:
    scrapy_data, cli_data = both
    content = archive_content(scrapy_data)
    assert content == archive_content(cli_data)
    assert len(content["articles"]) == len(STORIES)
    assert len(content["versions"]) == len(STORIES) + 1
    assert any(dict(row)["revisit"] for row in content["captures"])
    assert content["fetch_state"]  # scrapy crawl saved the polling state too


def test_files_are_closed_indexed_and_loaded(both: tuple[Path, Path]) -> None:
    scrapy_data, _cli_data = both
    files = list_warcs(scrapy_data / "warcs")
    assert len(files) == 4
    assert not list((scrapy_data / "warcs").glob("*.open"))
    assert all(cdxj_path(f).is_file() for f in files)
    loaded = {name for (name,) in query(scrapy_data, "SELECT name FROM warc_files")}
    assert loaded == {f.name for f in files}
    # The lock file stays; the lock itself was released when the crawl ended.
    for source in SOURCES:
        lock = SourceLock(scrapy_data, source)
        assert lock.path.is_file()
        assert lock.acquire()
        lock.release()


def test_a_locked_source_is_skipped(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path):
        data = tmp_path / "data"
        held = SourceLock(data, "northwind")  # as a crawl in another process holds it
        assert held.acquire()
        try:
            hits = site.hits_during(site.scrapy_crawl, data, "northwind")
        finally:
            held.release()
        assert hits == []  # not even robots.txt
        assert not (data / "warcs").exists() or not list((data / "warcs").iterdir())
        runs = dicts(data, "SELECT source, status, pages, extra FROM runs")
        assert [(r["source"], r["status"], r["pages"]) for r in runs] == [
            ("northwind", "skipped", None)]
        assert json.loads(runs[0]["extra"])["reason"] == \
            "already being crawled by another process"
        assert query(data, "SELECT count(*) FROM fetch_state") == [(0,)]
        assert query(data, "SELECT count(*) FROM source_state") == [(0,)]
        # Once the lock is free the same command crawls.
        hits = site.hits_during(site.scrapy_crawl, data, "northwind")
        assert "/northwind/rss.xml" in hits
        assert [r[0] for r in query(data, "SELECT status FROM runs ORDER BY id")] == [
            "skipped", "ok"]


def test_a_backing_off_source_is_skipped_on_scheduled_runs(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path):
        data = tmp_path / "data"
        site.newsroom.throttled.add("/anatolia/")
        site.scrapy_crawl(data, "anatolia", "-a", "scheduled=1")
        assert query(data, "SELECT status FROM source_state") == [("blocked",)]
        hits = site.hits_during(site.scrapy_crawl, data, "anatolia", "-a", "scheduled=1")
        assert hits == []
        runs = dicts(data, "SELECT status, extra FROM runs ORDER BY id")
        assert [r["status"] for r in runs] == ["ok", "skipped"]
        assert json.loads(runs[1]["extra"])["reason"].startswith("blocked: ")
        # Skipping left the back-off as it was; a manual crawl goes ahead.
        assert query(data, "SELECT status FROM source_state") == [("blocked",)]
        site.newsroom.throttled.clear()
        hits = site.hits_during(site.scrapy_crawl, data, "anatolia")
        assert "/anatolia/atom.xml" in hits


def test_a_file_left_open_by_a_killed_crawl_is_recovered_and_loaded(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path):
        earlier, data = tmp_path / "earlier", tmp_path / "data"
        site.scrapy_crawl(earlier, "anatolia")
        (done,) = list_warcs(earlier / "warcs")
        records = list(iter_responses(done))
        # What a SIGKILL leaves: the file still .open, its last records cut mid-record.
        cut = records[len(records) // 2].location
        orphan = data / "warcs" / (done.name + ".open")
        orphan.parent.mkdir(parents=True)
        orphan.write_bytes(done.read_bytes()[: cut.offset + cut.length // 2])

        result = site.scrapy_crawl(data, "anatolia")

        assert not list((data / "warcs").glob("*.open"))
        assert f"recovered {orphan.name}" in result.stderr
        recovered = data / "warcs" / done.name
        check = subprocess.run([WARCIO, "check", str(recovered)], capture_output=True,
                               text=True, check=False)
        assert check.returncode == 0, check.stdout
        assert cdxj_path(recovered).is_file()
        kept = list(iter_responses(recovered))
        assert [r.location for r in kept] == [r.location for r in records[: len(kept)]]
        assert 0 < len(kept) <= len(records) // 2
        loaded = query(data, "SELECT count(*) FROM captures WHERE warc_file = ?",
                       recovered.name)
        assert loaded == [(len(kept),)]
        (row,) = dicts(data, "SELECT status, extra FROM runs")
        assert row["status"] == "ok"
        assert recovered.name not in json.loads(row["extra"])["warc_files"]  # not written now


PROGRESS_SCRIPT = """
import json, sys
from pathlib import Path
from archive.config.sources import load_config
from crawler.crawl import crawl_and_ingest

config = load_config(sys.argv[1])
calls = []
summary = crawl_and_ingest(config, list(config.sources), Path(sys.argv[2]),
                           progress=lambda done, total: calls.append((done, total)))
print(json.dumps({"calls": calls, "rows": summary.rows(), "errors": summary.errors,
                  "files": summary.report.files}))
"""


def test_crawl_and_ingest_runs_the_components_for_several_sources(tmp_path: Path) -> None:
    """In one process, as ``mediawatch crawl`` runs them: a locked source is left out with
    a warning, the other is crawled, loaded (with progress in bytes) and logged."""
    for site in newsroom_site(tmp_path):
        data = tmp_path / "data"
        held = SourceLock(data, "anatolia")
        assert held.acquire()
        try:
            result = subprocess.run([sys.executable, "-c", PROGRESS_SCRIPT, str(site.config),
                                     str(data)], capture_output=True, text=True, timeout=300,
                                    check=False, cwd=ROOT)
        finally:
            held.release()
        assert result.returncode == 0, result.stderr[-3000:]
        out = json.loads(result.stdout.splitlines()[-1])
        assert [row["source"] for row in out["rows"]] == ["northwind"]
        assert out["rows"][0]["new"] == sum(s["source"] == "northwind" for s in STORIES)
        assert out["errors"] == ["skipped anatolia: already being crawled by another process"]
        sizes = sum((data / "warcs" / name).stat().st_size for name in out["files"])
        assert out["calls"]
        assert sum(done for done, _ in out["calls"]) == sizes
        assert {total for _, total in out["calls"]} == {sizes}
        # By source: a crawl writes its row when it starts, so id order is start order.
        assert [r[0] for r in query(data, "SELECT source || ':' || status FROM runs"
                                          " ORDER BY source")] == ["anatolia:skipped",
                                                               "northwind:ok"]
