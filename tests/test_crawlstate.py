"""What a crawl reads from the archive (archive.store.crawlstate.CrawlState): an archived
article's declared aliases that were never fetched, in the archive and in a cluster job's
snapshot alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from archive.models import Article, WarcLocation
from archive.store.crawlstate import CrawlState
from archive.store.db import Archive
from archive.store.records import CaptureRef
from archive.store.snapshot import write_snapshot

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
PAGE = "https://news.example/2026/12/03/s400-deal.html"
SHORT = "https://news.example/s/Df2k"


def _unfetched(view: CrawlState, url: str) -> bool:
    known = view.known_article(url)
    assert known is not None, url
    return known.unfetched_alias


def test_a_declared_short_link_is_unfetched_until_a_capture_is_made_under_it(
        tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    article = Article(url=PAGE, source="news", title="S-400 deal", body="Signed today. " * 20,
                      short_url=SHORT, published=NOW)
    with Archive(db) as archive:
        archive.upsert(article, CaptureRef(WarcLocation("a.warc.gz", 0, 10), PAGE, 200, NOW,
                                           source="news"))
    snapshot = write_snapshot(db, "news", tmp_path / "snap.db")
    for path in (db, snapshot):
        view = CrawlState(path)
        try:
            assert _unfetched(view, SHORT)  # only the page's markup named it
            assert not _unfetched(view, PAGE)  # fetched: the capture is under it
        finally:
            view.close()
    with Archive(db) as archive:  # the short link fetched: its redirect is captured
        archive.record_capture(CaptureRef(WarcLocation("b.warc.gz", 0, 10), SHORT, 301, NOW,
                                          source="news", redirect_to=PAGE))
    view = CrawlState(db)
    try:
        assert not _unfetched(view, SHORT)
    finally:
        view.close()
