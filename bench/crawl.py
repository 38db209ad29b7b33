"""Crawl throughput: ``mediawatch crawl`` against plain Scrapy on the same local site, one run.

Generates a synthetic newsroom of N article pages (English and Russian, realistic lengths)
listed in a Google News sitemap, serves it on 127.0.0.1, then crawls it
1. with a bare Scrapy spider (sitemap -> pages, robots.txt on, no storage): the baseline;
2. with ``mediawatch crawl`` (WARC capture of every exchange + parse + SQLite ingest).
Both run in their own process with the same concurrency and no delay. Prints a table and ends
with one JSON line of the figures.

    python bench/crawl.py [--articles 2000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WORDS = [
    "defence", "ministry", "missile", "system", "summit", "delegation", "treaty", "frigate",
    "exercise", "sanctions", "ceasefire", "negotiations", "brigade", "procurement", "contract",
    "министр", "обороны", "переговоры", "поставки", "зенитный", "комплекс",
]


def make_site(n: int, seed: int = 7) -> dict[str, bytes]:
    """Path -> body for a robots.txt, a news sitemap and ``n`` article pages."""
    rng = random.Random(seed)
    pages: dict[str, bytes] = {"/robots.txt": b"User-agent: *\nDisallow: /private/\n"}
    urls = []
    for i in range(n):
        path = f"/news/2024/05/{i:05d}-story.html"
        urls.append(path)
        paras = "".join(
            "<p>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(25, 60))) + ".</p>"
            for _ in range(rng.randint(6, 14)))
        title = " ".join(rng.choice(WORDS) for _ in range(8)).capitalize()
        pages[path] = textwrap.dedent(f"""\
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
            <meta property="og:type" content="article"><meta property="og:title" content="{title}">
            <link rel="canonical" href="{path}"><link rel="shortlink" href="/s/{i:05d}">
            <meta property="article:published_time" content="2024-05-{1 + i % 28:02d}T10:00:00Z">
            </head><body><nav><a href="/">Home</a><a href="/world/">World</a></nav>
            <article><h1>{title}</h1>{paras}</article>
            <aside class="related"><a href="/news/x.html">Related</a></aside></body></html>
            """).encode()
    entries = "".join(
        f"<url><loc>BASE{u}</loc><news:news><news:publication><news:name>Bench</news:name>"
        f"<news:language>en</news:language></news:publication><news:publication_date>"
        f"2024-05-01T10:00:00Z</news:publication_date><news:title>t</news:title></news:news>"
        f"</url>" for u in urls)
    pages["/sitemap.xml"] = (
        '<?xml version="1.0" encoding="UTF-8"?><urlset '
        'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"{entries}</urlset>").encode()
    return pages


def serve(pages: dict[str, bytes]) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``pages`` on a free loopback port (BASE in bodies becomes the base URL)."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = pages.get(self.path.split("?")[0])
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = body.replace(b"BASE", base.encode())
            self.send_response(200)
            ctype = "application/xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
            self.send_header("Content-Type", ctype if "robots" not in self.path else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, base


PLAIN_SPIDER = """
import sys
from scrapy.crawler import CrawlerProcess
from scrapy.spiders import SitemapSpider

class Plain(SitemapSpider):
    name = "plain"
    sitemap_urls = [sys.argv[1] + "/sitemap.xml"]
    def parse(self, response):
        pass

process = CrawlerProcess({"ROBOTSTXT_OBEY": True, "CONCURRENT_REQUESTS": int(sys.argv[2]),
    "CONCURRENT_REQUESTS_PER_DOMAIN": int(sys.argv[2]), "DOWNLOAD_DELAY": 0,
    "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
process.crawl(Plain)
process.start()
"""


def timed(cmd: list[str]) -> float:
    """Wall-clock seconds of a command that must succeed."""
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Run both crawls and print the comparison."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--articles", type=int, default=2000)
    args.add_argument("--concurrency", type=int, default=16)
    opts = args.parse_args(argv)
    pages = make_site(opts.articles)
    server, base = serve(pages)
    fetched = opts.articles + 2  # + robots.txt + sitemap
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "plain.py").write_text(PLAIN_SPIDER)
        config = work / "sources.toml"
        config.write_text(textwrap.dedent(f"""\
            [crawl]
            delay = 0
            concurrency = {opts.concurrency}
            per_domain_concurrency = {opts.concurrency}
            [[source]]
            id = "bench"
            sitemaps = ["{base}/sitemap.xml"]
            allowed_domains = ["127.0.0.1"]
            """))
        plain = timed([sys.executable, str(work / "plain.py"), base, str(opts.concurrency)])
        mw = timed([sys.executable, "-m", "scheduler.cli", "--config", str(config),
                    "--data", str(work / "data"), "crawl"])
        warc_bytes = sum(p.stat().st_size for p in (work / "data" / "warcs").glob("*.warc.gz"))
        with sqlite3.connect(work / "data" / "archive.db") as db:
            started, finished, new = db.execute(
                "select started, finished, new from runs").fetchone()
        fetch = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
    server.shutdown()
    rows = [("plain Scrapy (fetch only)", plain), ("mediawatch crawl (WARC+parse+ingest)", mw),
            ("  of which fetch + WARC capture", fetch),
            ("  of which parse + ingest (+ start-up)", mw - fetch)]
    print(f"{opts.articles} articles, concurrency {opts.concurrency}, loopback\n")
    print(f"{'crawler':40} {'seconds':>8} {'pages/s':>8}")
    for name, secs in rows:
        print(f"{name:40} {secs:8.2f} {fetched / secs:8.1f}")
    ratio = (fetched / mw) / (fetched / plain)
    print(f"\nmediawatch / plain Scrapy throughput: {ratio:.2f}  "
          f"(articles stored: {new}, WARC bytes written: {warc_bytes:,})")
    print(json.dumps({"bench": "crawl", "articles": opts.articles,
                      "plain_pages_per_s": round(fetched / plain, 1),
                      "mediawatch_pages_per_s": round(fetched / mw, 1),
                      "ratio": round(ratio, 3), "fetch_s": round(fetch, 2),
                      "ingest_s": round(mw - fetch, 2), "articles_stored": new,
                      "warc_bytes": warc_bytes}))


if __name__ == "__main__":
    main()
