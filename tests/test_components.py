"""The crawl's stateful components, built by Scrapy from settings as in a crawl and driven
through their signal handlers (``scrapy.utils.test.get_crawler``, as Scrapy's own tests do),
on a real archive in a temporary directory."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from archive.config.sources import Source
from archive.models import FetchState, SourceState
from archive.store.crawlstate import save_states
from archive.store.db import Archive
from archive.warc.cdxj import cdxj_path
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.components.capture import WarcCapture
from crawler.components.ingest import IngestOnClose, ingest_progress
from crawler.components.session import CrawlSession, SkipGate
from crawler.components.state import IncrementalState
from crawler.figures import RECOVERED_STAT, SKIPPED_STAT, WARC_FILES_STAT

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.crawler import Crawler

WIRE = Source(id="wire", name="Wire", feeds=("http://127.0.0.1:9/rss.xml",))
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
COMPONENTS = {
    "crawler.components.session.CrawlSession": 50,
    "crawler.components.capture.WarcCapture": 100,
    "crawler.components.ingest.IngestOnClose": 200,
    "crawler.components.state.IncrementalState": 300,
}


class WireSpider(Spider):
    name = "wire"
    source = WIRE
    scheduled = False


def crawler_for(data: Path, **settings: Any) -> Crawler:
    crawler = get_crawler(WireSpider, {
        "MEDIAWATCH_DATA": str(data), "MEDIAWATCH_CONFIG": "", "MEDIAWATCH_INGEST": True,
        "MEDIAWATCH_INGEST_WORKERS": 1, "MEDIAWATCH_WARC_MAX_SIZE": 10**9,
        "MEDIAWATCH_RECHECK": [3600], "MEDIAWATCH_POLL_MIN": 300, "MEDIAWATCH_POLL_MAX": 3600,
        "EXTENSIONS": COMPONENTS, **settings})
    crawler.spider = crawler._create_spider()
    return crawler


def ext(crawler: Crawler, cls: type[Any]) -> Any:
    found = crawler.get_extension(cls)
    assert found is not None
    return found


def exchange(path: str) -> Exchange:
    return Exchange(
        url=f"http://127.0.0.1:9{path}", method="GET", request_target=path,
        request_headers=(("Host", "127.0.0.1:9"),), protocol="HTTP/1.1", status=200,
        reason="OK", headers=(("Content-Type", "text/html; charset=utf-8"),),
        body=b"<html><title>Frigates</title><p>The navy signed.</p></html>", fetched_at=NOW,
        metadata={"source": "wire", "kind": "other"})


def drain(start: AsyncIterator[Any]) -> list[Any]:
    async def collect() -> list[Any]:
        return [item async for item in start]
    return asyncio.run(collect())


async def two_requests() -> AsyncIterator[Request]:
    yield Request("http://127.0.0.1:9/a")
    yield Request("http://127.0.0.1:9/b")


# -- IncrementalState


def saved(data: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with Archive(data / "archive.db") as archive:
        fetches = archive.db.execute(
            "SELECT url, kind, etag FROM fetch_state ORDER BY url").fetchall()
        sources = archive.db.execute("SELECT source, status FROM source_state").fetchall()
    return [tuple(r) for r in fetches], [tuple(r) for r in sources]


def run_state(data: Path, reason: str, *, skipped: bool = False) -> IncrementalState:
    Archive(data / "archive.db").close()
    crawler = crawler_for(data)
    state = ext(crawler, IncrementalState)
    state.spider_opened(crawler.spider)
    assert state.source_id == "wire"
    assert state.policy.recheck == (3600,)
    state.record(FetchState(WIRE.feeds[0], "wire", "feed", etag='"v1"', digest="d"))
    state.record(FetchState("http://127.0.0.1:9/a", "wire", "article",
                            next_fetch=NOW + timedelta(hours=1)))  # a Retry-After mark
    state.count(listings_ok=1)
    if skipped:
        crawler.stats.set_value(SKIPPED_STAT, "already being crawled by another process")
    state.spider_closed(crawler.spider, reason)
    return state


def test_state_is_saved_with_the_source_health_when_the_crawl_finished(tmp_path: Path) -> None:
    state = run_state(tmp_path, "finished")
    assert saved(tmp_path) == ([("http://127.0.0.1:9/a", "article", None),
                                (WIRE.feeds[0], "feed", '"v1"')], [("wire", "ok")])
    assert state.stats is not None
    assert state.stats.get_value("mediawatch/source/status") == "ok"


def test_an_interrupted_crawl_keeps_only_retry_after_marks(tmp_path: Path) -> None:
    run_state(tmp_path, "shutdown")
    assert saved(tmp_path)[0] == [("http://127.0.0.1:9/a", "article", None)]


def test_a_skipped_crawl_saves_nothing(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        save_states(archive, [], SourceState("wire", "blocked", 1, NOW, "block answers"), NOW)
    run_state(tmp_path, "finished", skipped=True)
    assert saved(tmp_path) == ([], [("wire", "blocked")])


def test_health_counts_keep_the_longest_retry_after(tmp_path: Path) -> None:
    state = IncrementalState(None, ext(crawler_for(tmp_path), IncrementalState).policy)
    state.count(listings_blocked=1, retry_after=60)
    state.count(articles_blocked=1, retry_after=30)
    assert (state.health.listings_blocked, state.health.articles_blocked,
            state.health.retry_after) == (1, 1, 60)


def test_capture_asks_the_state_component_for_prior_captures(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path)
    capture, state = ext(crawler, WarcCapture), ext(crawler, IncrementalState)
    state.spider_opened(crawler.spider)
    capture.spider_opened(crawler.spider)
    assert capture.state is state


# -- CrawlSession and SkipGate


def test_second_session_on_a_locked_source_is_skipped_and_sends_nothing(tmp_path: Path) -> None:
    first, second = crawler_for(tmp_path), crawler_for(tmp_path)
    holder = ext(first, CrawlSession)
    holder.spider_opened(first.spider)
    assert holder.skipped is None
    session = ext(second, CrawlSession)
    session.spider_opened(second.spider)
    assert session.skipped == "already being crawled by another process"
    assert second.stats.get_value(SKIPPED_STAT) == session.skipped
    assert drain(SkipGate(session).process_start(two_requests())) == []
    assert len(drain(SkipGate(holder).process_start(two_requests()))) == 2
    session.spider_closed(second.spider, "finished")
    session.engine_stopped()
    holder.spider_closed(first.spider, "finished")
    holder.engine_stopped()  # releases the lock: a third crawl may go ahead
    third = crawler_for(tmp_path)
    ext(third, CrawlSession).spider_opened(third.spider)
    assert ext(third, CrawlSession).skipped is None
    with Archive(tmp_path / "archive.db") as archive:
        runs = archive.runs()
    # The holder's row was written when it started, the skipped one at its end; the third
    # crawl, still going, has its row too.
    assert sorted((r["source"], r["status"]) for r in runs) == [
        ("wire", "ok"), ("wire", "running"), ("wire", "skipped")]
    ext(third, CrawlSession).release()


def test_skip_gate_needs_the_session() -> None:
    with pytest.raises(NotConfigured):
        SkipGate.from_crawler(get_crawler(WireSpider, {"MEDIAWATCH_DATA": "x"}))


def test_session_recovers_open_files_of_its_source_only(tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    for source in ("wire", "other"):
        writer = RotatingWarcWriter(warcs, source, host="test")
        writer.write_exchange(exchange("/a"))  # left open: the process "was killed"
    crawler = crawler_for(tmp_path)
    session = ext(crawler, CrawlSession)
    session.spider_opened(crawler.spider)
    (recovered,) = session.recovered
    assert recovered.name.startswith("wire-")
    assert recovered.is_file()
    assert cdxj_path(recovered).is_file()
    assert crawler.stats.get_value(RECOVERED_STAT) == [str(recovered)]
    assert [p.name.split("-")[0] for p in warcs.glob("*.open")] == ["other"]
    session.engine_stopped()


# -- IngestOnClose


def test_ingest_loads_recovered_and_written_files_and_reports_progress(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path / "warcs", "wire", host="test")
    writer.write_exchange(exchange("/a"))
    first = writer.close()
    writer.write_exchange(exchange("/b"))
    second = writer.close()
    assert first is not None
    assert second is not None
    crawler = crawler_for(tmp_path)
    crawler.stats.set_value(RECOVERED_STAT, [str(first)])
    crawler.stats.set_value(WARC_FILES_STAT, [str(second)])
    seen: list[tuple[int, int]] = []

    def on_progress(done: int, total: int) -> None:
        seen.append((done, total))

    crawler.signals.connect(on_progress, signal=ingest_progress)
    ext(crawler, IngestOnClose).spider_closed(crawler.spider)
    total = first.stat().st_size + second.stat().st_size
    assert seen == [(first.stat().st_size, total), (second.stat().st_size, total)]
    assert crawler.stats.get_value("mediawatch/ingest/files") == [first.name, second.name]
    with Archive(tmp_path / "archive.db") as archive:
        assert archive.ingested_files() >= {first.name, second.name}


def test_ingest_leaves_a_live_crawl_of_another_source_its_files(tmp_path: Path) -> None:
    """A file another source's crawl closed while it still runs is that crawl's to load
    (its run counts it); once that crawl is gone, the file is a leftover anyone loads."""
    from tests.test_interrupted_runs import dead_owner

    writer = RotatingWarcWriter(tmp_path / "warcs", "desk", host="test")
    writer.write_exchange(exchange("/desk"))
    theirs = writer.close()
    assert theirs is not None
    now = datetime.now(UTC).replace(microsecond=0)
    with Archive(tmp_path / "archive.db") as archive:
        live = archive.start_run("desk", now)  # owned by this (live) process
        assert archive.live_run_sources(now) == {"desk"}
    crawler = crawler_for(tmp_path)
    ext(crawler, IngestOnClose).spider_closed(crawler.spider)
    with Archive(tmp_path / "archive.db") as archive:
        assert theirs.name not in archive.ingested_files()
        archive.amend_run(live, "failed", reason="interrupted")
        archive.start_run("desk", now + timedelta(seconds=1), dead_owner())
        assert archive.live_run_sources(now) == set()
    crawler = crawler_for(tmp_path)
    ext(crawler, IngestOnClose).spider_closed(crawler.spider)
    assert crawler.stats.get_value("mediawatch/ingest/files") == [theirs.name]
    with Archive(tmp_path / "archive.db") as archive:
        assert theirs.name in archive.ingested_files()


def test_ingest_can_be_switched_off(tmp_path: Path) -> None:
    crawler = crawler_for(tmp_path, MEDIAWATCH_INGEST=False)
    assert crawler.get_extension(IngestOnClose) is None
    assert json.dumps(sorted(type(e).__name__ for e in crawler.extensions.middlewares
                             if type(e).__module__.startswith("crawler."))) == json.dumps(
        ["CrawlSession", "IncrementalState", "WarcCapture"])


def test_session_logs_its_run_at_start_and_closes_runs_of_dead_crawls(tmp_path: Path) -> None:
    from tests.test_interrupted_runs import dead_owner

    now = datetime.now(UTC).replace(microsecond=0)
    with Archive(tmp_path / "archive.db") as archive:
        dead = archive.start_run("other", now - timedelta(minutes=3), dead_owner())
    crawler = crawler_for(tmp_path)
    session = ext(crawler, CrawlSession)
    session.spider_opened(crawler.spider)
    with Archive(tmp_path / "archive.db") as archive:
        rows = {r["id"]: r for r in archive.runs()}
    assert (rows[dead]["status"], rows[dead]["extra"]["reason"]) == ("failed", "interrupted")
    assert session.run_id is not None
    assert rows[session.run_id]["status"] == "running"
    assert rows[session.run_id]["source"] == "wire"
    session.spider_closed(crawler.spider, "finished")
    session.engine_stopped()
    with Archive(tmp_path / "archive.db") as archive:
        (own,) = archive.runs("wire")  # the same row, completed
    assert (own["id"], own["status"]) == (session.run_id, "ok")
    assert own["finished"] is not None
