"""The naive baseline of ``bench/crawl.py --pages``: Scrapy + ``trafilatura.extract`` + WARC.

What one would write in an afternoon: a sitemap spider whose callback runs
``trafilatura.extract`` on every page (in the reactor thread, one process) and appends each
answer as a WARC response record with warcio (one gzip member per record, one file). No
lock, no recovery, no metadata record, no index, no deduplication: the floor mediawatch's
crawl is compared with. Prints one JSON line: pages seen, pages with text, WARC bytes.

    python bench/naive_spider.py BASE_URL OUT_DIR [CONCURRENCY]
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import trafilatura
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


class Naive(SitemapSpider):
    """Sitemap -> pages; each page extracted with trafilatura and written to WARC."""

    name = "naive"

    def __init__(self, base: str, out: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.sitemap_urls = [base + "/sitemap.xml"]
        Path(out).mkdir(parents=True, exist_ok=True)
        self.file = open(Path(out) / "naive.warc.gz", "wb")  # noqa: SIM115 - closed at close
        self.writer = WARCWriter(self.file, gzip=True)
        self.pages = self.extracted = 0

    def parse(self, response: Any) -> None:
        """Extract the text, write the response record."""
        self.pages += 1
        text = trafilatura.extract(response.text)
        if text:
            self.extracted += 1
        headers = [(k.decode("latin-1"), v.decode("latin-1"))
                   for k, vs in response.headers.items() for v in vs
                   if k.lower() not in (b"content-encoding", b"transfer-encoding")]
        record = self.writer.create_warc_record(
            response.url, "response", payload=io.BytesIO(response.body),
            length=len(response.body),
            http_headers=StatusAndHeaders(f"{response.status} OK", headers,
                                          protocol="HTTP/1.1"))
        self.writer.write_record(record)

    def closed(self, reason: str) -> None:
        """Close the WARC file and print the figures."""
        self.file.close()
        print(json.dumps({"pages": self.pages, "extracted": self.extracted,
                          "warc_bytes": Path(self.file.name).stat().st_size}))


def main() -> None:
    """Crawl ``BASE_URL``'s sitemap with the naive spider."""
    base, out = sys.argv[1], sys.argv[2]
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 16
    process = CrawlerProcess({
        "ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency, "DOWNLOAD_DELAY": 0,
        "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
    process.crawl(Naive, base=base, out=out)
    process.start()


if __name__ == "__main__":
    main()
