"""Parse while fetching (:mod:`crawler.handover`): files closed during a crawl are parsed by
worker processes that read them themselves and loaded by a thread, through the ledger; the
archive is the one the ordinary ingest builds from the same files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from htmldate.extractors import get_external_parser
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from archive.config.sources import Source
from archive.store import ledger
from archive.store.db import Archive
from archive.warc.reader import list_warcs
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.components.capture import META_KEY, WarcCapture
from crawler.components.ingest import EARLY_START, HANDED_OVER_STAT, IngestOnClose
from crawler.handover import HandOver, load_prepared, merged, prepare_file
from crawler.ingest import IngestReport, ingest_files
from tests.test_ingest import article_html

if TYPE_CHECKING:
    from pathlib import Path

    from scrapy.crawler import Crawler

WIRE = Source(id="wire", name="Wire", feeds=("http://127.0.0.1:9/rss.xml",))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHALLENGE = b"<html><title>Just a moment...</title><p>Checking your browser</p></html>"


class WireSpider(Spider):
    name = "wire"
    source = WIRE
    scheduled = False


def pages() -> list[tuple[str, bytes, int, str]]:
    """Articles (one changed later, one repeated), a block page, a 404, a feed."""
    out = [(f"http://127.0.0.1:9/a/{n}.html", article_html(n), 200, "article")
           for n in range(12)]
    out.insert(3, ("http://127.0.0.1:9/a/blocked.html", CHALLENGE, 200, "article"))
    out.insert(5, ("http://127.0.0.1:9/a/gone.html", b"gone", 404, "article"))
    out.insert(7, ("http://127.0.0.1:9/rss.xml", b"<rss><channel/></rss>", 200, "feed"))
    out.append(("http://127.0.0.1:9/a/2.html", article_html(2, " Updated."), 200, "article"))
    out.append(("http://127.0.0.1:9/a/4.html", article_html(4), 200, "article"))
    return out


def exchange(n: int, url: str, body: bytes, status: int, kind: str) -> Exchange:
    return Exchange(url=url, method="GET", request_target="/", request_headers=(),
                    protocol="HTTP/1.1", status=status, reason="OK",
                    headers=(("Content-Type", "text/html; charset=utf-8"),), body=body,
                    fetched_at=T0 + timedelta(seconds=n),
                    metadata={"source": "wire", "kind": kind})


def crawler_for(data: Path, **settings: Any) -> Crawler:
    crawler = get_crawler(WireSpider, {
        "MEDIAWATCH_DATA": str(data), "MEDIAWATCH_CONFIG": "", "MEDIAWATCH_INGEST": True,
        "MEDIAWATCH_INGEST_WORKERS": 2, "MEDIAWATCH_WARC_MAX_SIZE": 10**9,
        "EXTENSIONS": {"crawler.components.capture.WarcCapture": 100,
                       "crawler.components.ingest.IngestOnClose": 200}, **settings})
    crawler.spider = crawler._create_spider()
    return crawler


def article_request(n: int) -> Request:
    return Request(f"http://127.0.0.1:9/a/{n}.html", meta={META_KEY: {"kind": "article"}})


def _parser_state() -> tuple[bool, bool]:
    """Whether trafilatura is imported, and whether dateparser's parser has been made."""
    import sys

    from htmldate.extractors import get_external_parser

    return "trafilatura" in sys.modules, get_external_parser.cache_info().currsize == 1


def crawl(data: Path, handover: int, scheduled: int = 0) -> Crawler:
    """Drive the capture and the ingest through their handlers, as a crawl does
    (``scheduled``: article requests the crawl schedules before it writes)."""
    crawler = crawler_for(data, MEDIAWATCH_HANDOVER_SIZE=handover)
    capture = crawler.get_extension(WarcCapture)
    ingest = crawler.get_extension(IngestOnClose)
    assert capture is not None
    assert ingest is not None
    capture.spider_opened(crawler.spider)
    assert capture.writer is not None
    for n in range(scheduled):
        ingest.request_scheduled(article_request(n), crawler.spider)
    for n, (url, body, status, kind) in enumerate(pages()):
        capture.writer.write_exchange(exchange(n, url, body, status, kind))
    capture.spider_closed(crawler.spider)
    ingest.spider_closed(crawler.spider)
    return crawler


def archived(data: Path) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The export without capture times and locations, and the table counts."""
    with Archive(data / "archive.db") as archive:
        rows = [json.loads(json.dumps(row, default=str)) for row in archive.export()]
        return rows, archive.stats()


def test_files_closed_while_crawling_are_loaded_as_the_ordinary_ingest_would(
        tmp_path: Path) -> None:
    handed = crawl(tmp_path / "handed", handover=2000)
    files = list_warcs(tmp_path / "handed" / "warcs")
    assert len(files) > 3  # small files: several closed while the crawl went on
    stats = handed.stats.get_stats()
    # Every file was loaded by the hand-over, the last one (closed at the end) too.
    assert stats[HANDED_OVER_STAT] == len(files)
    assert sorted(stats["mediawatch/ingest/files"]) == sorted(p.name for p in files)
    with Archive(tmp_path / "handed" / "archive.db") as archive:
        entries = ledger.entries(archive)
        assert {n: (e.complete, e.size) for n, e in entries.items()} == {
            p.name: (True, p.stat().st_size) for p in files}
    # The same files loaded by `mediawatch reindex`'s path, from scratch, one at a time.
    with Archive(tmp_path / "again.db") as fresh:
        ingest_files(fresh, files, None, workers=1)
    rows, counts = archived(tmp_path / "handed")
    with Archive(tmp_path / "again.db") as fresh:
        again = [json.loads(json.dumps(row, default=str)) for row in fresh.export()]
        assert counts == fresh.stats()
    assert rows == again
    assert stats["mediawatch/ingest/outcome/inserted"] == 12
    assert stats["mediawatch/ingest/outcome/updated"] == 1
    assert stats["mediawatch/ingest/outcome/blocked"] == 1


def test_a_large_crawl_starts_its_parsers_before_its_first_file(tmp_path: Path) -> None:
    """At EARLY_START article requests the parser processes start, trafilatura imported
    before the fork, dateparser left cold (its locale patterns cost 1.3 s of CPU per
    process, compiled only when a page needs them); the crawl's one file is then handed to
    them at its end, and the archive is the ordinary ingest's."""
    get_external_parser.cache_clear()  # the workers inherit nothing warm from this process
    crawler = crawler_for(tmp_path / "early", MEDIAWATCH_HANDOVER_SIZE=10**9)
    ingest = crawler.get_extension(IngestOnClose)
    assert ingest is not None
    listing = Request("http://127.0.0.1:9/rss.xml", meta={META_KEY: {"kind": "feed"}})
    for n in range(EARLY_START - 1):
        ingest.request_scheduled(article_request(n), crawler.spider)
        ingest.request_scheduled(listing, crawler.spider)  # listings do not count
    assert ingest.handover is None
    ingest.request_scheduled(article_request(EARLY_START), crawler.spider)
    pool = ingest.handover._pool if ingest.handover is not None else None
    assert pool is not None
    assert all(pool.submit(_parser_state).result() == (True, False) for _ in range(4))
    ingest.handover.finish()  # type: ignore[union-attr]

    early = crawl(tmp_path / "crawl", handover=10**9, scheduled=EARLY_START)
    files = list_warcs(tmp_path / "crawl" / "warcs")
    assert len(files) == 1
    assert early.stats.get_value(HANDED_OVER_STAT) == 1
    with Archive(tmp_path / "again.db") as fresh:
        ingest_files(fresh, files, None, workers=1)
    rows, counts = archived(tmp_path / "crawl")
    with Archive(tmp_path / "again.db") as fresh:
        assert rows == [json.loads(json.dumps(row, default=str)) for row in fresh.export()]
        assert counts == fresh.stats()


def test_without_handover_one_file_is_loaded_at_the_end(tmp_path: Path) -> None:
    crawler = crawl(tmp_path, handover=0)
    assert len(list_warcs(tmp_path / "warcs")) == 1
    assert crawler.stats.get_value(HANDED_OVER_STAT) is None
    assert crawler.stats.get_value("mediawatch/ingest/outcome/inserted") == 12


def test_prepared_file_stores_what_the_ordinary_load_stores(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path / "warcs", "wire", host="test", clock=lambda: T0)
    for n, page in enumerate(pages()):
        writer.write_exchange(exchange(n, *page))
    path = writer.close()
    assert path is not None
    prepared = prepare_file((path, None, 10**7, 0, 1))
    assert all(r.stored.captured.body == b"" for r in prepared.records)  # bodies stay there
    # Shared by three processes, each parsing every third record: the same once merged.
    shares = [prepare_file((path, None, 10**7, part, 3)) for part in range(3)]
    assert sum(r.parsed is not None for r in shares[0].records) == 5
    # The other parts send back only what they parsed, not the records part 0 reports.
    assert [(len(s.records), len(s.parsed)) for s in shares[1:]] == [(0, 5), (0, 4)]
    assert merged(shares) == prepared
    assert [r.blocked for r in prepared.records].count(True) == 1
    report = IngestReport()
    with Archive(tmp_path / "prepared.db") as archive:
        load_prepared(archive, path, prepared, report)
        load_prepared(archive, path, prepared, IngestReport())  # again: the ledger skips
        assert ledger.position(archive, path.name).complete  # type: ignore[union-attr]
        got = (list(archive.export()), archive.stats())
    ordinary = IngestReport()
    with Archive(tmp_path / "ordinary.db") as archive:
        ingest_files(archive, [path], None, ordinary, workers=1)
        want = (list(archive.export()), archive.stats())
    assert json.dumps(got, default=str) == json.dumps(want, default=str)
    assert report.outcomes == ordinary.outcomes
    assert report.files == ordinary.files == [path.name]


def test_an_archive_that_cannot_be_opened_leaves_the_files_to_the_ingest_at_the_end(
        tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path / "warcs", "wire", host="test", clock=lambda: T0)
    for n, page in enumerate(pages()[:4]):
        writer.write_exchange(exchange(n, *page))
    path = writer.close()
    assert path is not None
    (tmp_path / "archive.db").mkdir()  # no database can be opened there
    handover = HandOver(tmp_path / "archive.db", tmp_path / "warcs", None, 1, 10**7)
    handover.closed(path)  # never raises into the crawl
    assert handover.off
    assert handover.finish().files == []
    with Archive(tmp_path / "later.db") as archive:
        assert ingest_files(archive, [path], None, workers=1).files == [path.name]


def test_the_handover_leaves_a_live_crawl_of_another_source_its_files(tmp_path: Path) -> None:
    """Leftovers handed over with the first file: not those of another source's crawl still
    running (it loads them itself and its run counts them); a dead crawl's are taken."""
    from tests.test_interrupted_runs import dead_owner

    closed: dict[str, Path] = {}
    for source in ("desk", "gone", "wire"):
        writer = RotatingWarcWriter(tmp_path / "warcs", source, host="test", clock=lambda: T0)
        writer.write_exchange(exchange(0, *pages()[0]))
        path = writer.close()
        assert path is not None
        closed[source] = path
    with Archive(tmp_path / "archive.db") as archive:
        archive.start_run("desk", T0)  # this (live) process
        archive.start_run("gone", T0, dead_owner())
    handover = HandOver(tmp_path / "archive.db", tmp_path / "warcs", None, 1, 10**7)
    handover.closed(closed["wire"])
    loaded = handover.finish().files
    assert sorted(loaded) == sorted([closed["gone"].name, closed["wire"].name])
