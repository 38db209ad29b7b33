"""The WARC capture extension, driven the way Scrapy's own tests drive components."""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from archive.warc.reader import iter_responses, list_warcs
from crawler.components.capture import META_KEY, WarcCapture, exchange_metadata, request_target

if TYPE_CHECKING:
    from pathlib import Path


class NewsSpider(Spider):
    name = "news"


def capture_for(tmp_path: Path) -> tuple[WarcCapture, Spider]:
    crawler = get_crawler(NewsSpider, {"MEDIAWATCH_DATA": str(tmp_path),
                                       "MEDIAWATCH_WARC_MAX_SIZE": 10**9})
    crawler.spider = crawler._create_spider()
    ext = WarcCapture.from_crawler(crawler)
    ext.spider_opened(crawler.spider)
    return ext, crawler.spider


def test_not_configured_without_data_dir() -> None:
    with pytest.raises(NotConfigured):
        WarcCapture.from_crawler(get_crawler(NewsSpider, {"MEDIAWATCH_DATA": ""}))


@pytest.mark.parametrize(("url", "target"), [
    ("http://h/a/b.html?x=1&y=%20", "/a/b.html?x=1&y=%20"),
    ("http://h", "/"),
    ("http://h/path", "/path"),
])
def test_request_target_keeps_query(url: str, target: str) -> None:
    assert request_target(url) == target


def test_metadata_carries_discovery_and_redirects() -> None:
    request = Request("http://h/a", meta={
        META_KEY: {"kind": "article", "via": "http://h/rss.xml", "hints": {"title": "T"}},
        "redirect_urls": ["http://h/s/1"], "depth": 1})
    assert exchange_metadata(request, "northwind") == {
        "source": "northwind", "kind": "article", "via": "http://h/rss.xml",
        "hints": {"title": "T"}, "redirect_urls": ["http://h/s/1"], "depth": 1}
    assert exchange_metadata(Request("http://h/robots.txt"), "n")["kind"] == "robots"


def test_exchange_written_as_received(tmp_path: Path) -> None:
    ext, spider = capture_for(tmp_path)
    body = gzip.compress(b"<html><title>S-400</title></html>")
    request = Request("http://127.0.0.1:9/news/a.html?id=7", headers={"Accept-Encoding": "gzip"},
                      meta={META_KEY: {"kind": "article"}})
    response = HtmlResponse(
        request.url, status=200, body=body, request=request, protocol="HTTP/1.0",
        headers=[(b"Content-Encoding", b"gzip"), (b"Set-Cookie", b"a=1"),
                 (b"Set-Cookie", b"b=2"), (b"Content-Type", b"text/html")])
    ext.response_downloaded(response, request, spider)
    ext.response_downloaded(Response("http://127.0.0.1:9/missing", status=404,
                                      request=Request("http://127.0.0.1:9/missing")),
                            Request("http://127.0.0.1:9/missing"), spider)
    ext.spider_closed(spider)

    (path,) = list_warcs(tmp_path / "warcs")
    assert path.name.startswith("news-")
    raw = gzip.decompress(path.read_bytes())
    assert b"HTTP/1.0 200 OK" in raw
    assert b"GET /news/a.html?id=7 HTTP/1.0" in raw
    assert body in raw  # still gzip, as it came over the wire
    first, second = iter_responses(path)
    assert [v for k, v in first.captured.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert first.captured.body == b"<html><title>S-400</title></html>"
    assert first.captured.metadata["kind"] == "article"
    assert (second.captured.status, second.reason) == (404, "Not Found")
    assert request.meta["mediawatch_warc"] == first.location
    stats = spider.crawler.stats
    assert stats.get_value("mediawatch/warc/records") == 6
    assert stats.get_value("mediawatch/warc/files") == [str(path)]
