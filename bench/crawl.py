"""Crawl throughput: ``mediawatch crawl`` against plain Scrapy on the same local site, one run.

Generates a synthetic newsroom of N article pages (English and Russian, realistic lengths)
listed in a Google News sitemap, serves it on 127.0.0.1, then crawls it
1. with a bare Scrapy spider (sitemap -> pages, robots.txt on, no storage): the baseline;
2. with ``mediawatch crawl`` (WARC capture of every exchange + parse + SQLite ingest).
Both run in their own process with the same concurrency and no delay. Prints a table and ends
with one JSON line of the figures.

    python bench/crawl.py [--articles 2000] [--concurrency 16]

Real-page mode (issue 10): ``--pages DIR`` serves the ``*.html`` / ``*.html.gz`` pages of DIR
(e.g. ``../shared/eval/aeb/html``) under ``--urls`` URLs each (several sizes, e.g. ``--urls
1000 5000``), every payload unique (a per-URL nonce comment) and gzip-encoded on the wire,
listed in one sitemap, and crawls them with the naive spider (``bench/naive_spider.py``:
Scrapy + ``trafilatura.extract`` + warcio) and with ``mediawatch crawl`` in the same run.
Prints pages/s, the ratio, CPU seconds per page and the peak
resident memory of each crawl's whole process tree (sampled from ``/proc``): its PSS, each
page shared by n processes counted 1/n (the parser processes are forked from the crawl's,
and share its pages), and beside it the summed RSS, which counts those pages once per
process.

    python bench/crawl.py --pages ../shared/eval/aeb/html --urls 1000 5000
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass
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
    args.add_argument("--pages", type=Path, help="real-page mode: a directory of pages")
    args.add_argument("--urls", type=int, nargs="+", default=[1000],
                      help="real-page mode: URLs served, one run per value [1000]")
    args.add_argument("--no-naive", action="store_true",
                      help="real-page mode: mediawatch only (memory at a large size)")
    opts = args.parse_args(argv)
    if opts.pages is not None:
        compare_real(opts.pages, opts.urls, opts.concurrency, naive=not opts.no_naive)
        return
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


# --- real-page mode ---------------------------------------------------------------------

def real_site(page_dir: Path, n: int) -> dict[str, tuple[bytes, str, bool]]:
    """Path -> (payload, content type, gzip-encoded) for robots.txt, a sitemap (with BASE
    for the base URL) and ``n`` URLs over the pages of ``page_dir``, each with a nonce."""
    sources = sorted(p for p in page_dir.iterdir() if p.name.endswith((".html", ".html.gz")))
    if not sources:
        raise SystemExit(f"no *.html / *.html.gz pages in {page_dir}")
    bodies = [gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
              for raw in (p.read_bytes() for p in sources)]
    site: dict[str, tuple[bytes, str, bool]] = {
        "/robots.txt": (b"User-agent: *\nDisallow: /private/\n", "text/plain", False)}
    paths = [f"/story/{i:05d}.html" for i in range(n)]
    for i, path in enumerate(paths):
        body = bodies[i % len(bodies)] + f"\n<!-- nonce {i} {path} -->\n".encode()
        site[path] = (gzip.compress(body, 6, mtime=0), "text/html; charset=utf-8", True)
    entries = "".join(f"<url><loc>BASE{p}</loc></url>" for p in paths)
    site["/sitemap.xml"] = (
        ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns='
         f'"http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>').encode(),
        "application/xml", False)
    return site


def serve_real(site: dict[str, tuple[bytes, str, bool]]) -> tuple[ThreadingHTTPServer, str]:
    """Serve ``site`` on a free loopback port, gzip-encoded pages as such."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            found = site.get(self.path.split("?")[0])
            if found is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, ctype, gzipped = found
            if not gzipped:
                body = body.replace(b"BASE", base.encode())
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
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


PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(root: int) -> list[int]:
    """``root`` and all its descendants (from each task's ``children`` file in /proc)."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                todo.extend(int(c) for c in
                            Path(f"/proc/{pid}/task/{task}/children").read_text().split())
            except OSError:
                continue
    return pids


def _rss(pids: list[int]) -> int:
    """Summed resident bytes (``statm``: a counter read, cheap)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    return total


def _pss(pids: list[int]) -> int:
    """Summed proportional bytes: a page shared by n processes counts 1/n (the parser
    processes are forked, so the pages they share with the crawl's process are in each RSS
    but once in the PSS). ``smaps_rollup`` walks every page table of the process under its
    memory-map lock, so it is read only when the RSS reaches a new peak (see measured)."""
    total = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) * 1024
    return total


@dataclass
class Measured:
    """Wall seconds, CPU seconds of the whole process tree, its peak summed RSS and PSS in
    bytes."""

    wall: float
    cpu: float
    peak_rss: int
    peak_pss: int


def measured(cmd: list[str], env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd`` (must succeed), sampling its process tree's memory every 50 ms.

    The sampler must not slow down what it measures. It reads each process's RSS counter
    every 50 ms, and its PSS (``smaps_rollup``, a walk of every page table that holds the
    process's memory-map lock, milliseconds per process) only when the summed RSS is at a
    new peak (at most every 0.5 s, so a peak inside that time is read at its end) and every
    5 s in any case (pages the processes shared may become their own without the RSS
    growing). Read at every sample (with every PID's ``stat`` to find the
    tree), it took about 7 ms per 50 ms on this machine, a sixth of a core, and held each
    crawl process's memory-map lock (its ``mmap``/``munmap`` calls wait meanwhile): a cost
    the crawl that keeps both cores busy paid, and the single-process naive one hardly.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    peak_rss = peak_pss = 0
    last_pss = 0.0
    pending = False  # a new RSS peak not yet followed by a PSS reading
    while proc.poll() is None:
        pids = _tree(proc.pid)
        rss = _rss(pids)
        if rss > peak_rss:
            peak_rss, pending = rss, True
        now = time.perf_counter()
        if (pending and now - last_pss >= 0.5) or now - last_pss >= 5:
            peak_pss, last_pss, pending = max(peak_pss, _pss(pids)), now, False
        time.sleep(0.05)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{cmd[:4]} failed with exit code {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, cpu, peak_rss, peak_pss)


def compare_real(page_dir: Path, sizes: list[int], concurrency: int,
                 naive: bool = True) -> None:
    """The naive spider and ``mediawatch crawl`` on the same real pages, per size
    (``naive=False``: mediawatch alone, its figures beside zeros)."""
    naive_script = Path(__file__).with_name("naive_spider.py")
    results = []
    for n in sizes:
        server, base = serve_real(real_site(page_dir, n))
        fetched = n + 2  # + robots.txt + sitemap
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            config = work / "sources.toml"
            config.write_text(textwrap.dedent(f"""\
                [crawl]
                delay = 0
                concurrency = {concurrency}
                per_domain_concurrency = {concurrency}
                allow_private = true
                requisites = false
                [[source]]
                id = "bench"
                sitemaps = ["{base}/sitemap.xml"]
                allowed_domains = ["127.0.0.1"]
                """))
            base_run = measured([sys.executable, str(naive_script), base,
                                 str(work / "naive"), str(concurrency)]) \
                if naive else Measured(float("nan"), 0.0, 0, 0)
            mw = measured([sys.executable, "-m", "scheduler.cli", "--config", str(config),
                           "--data", str(work / "data"), "crawl"])
            with sqlite3.connect(work / "data" / "archive.db") as db:
                row = db.execute("select pages, new, updated, duplicates from runs").fetchone()
        server.shutdown()
        server.server_close()
        results.append({
            "urls": n, "naive_pages_per_s": round(fetched / base_run.wall, 1),
            "mediawatch_pages_per_s": round(fetched / mw.wall, 1),
            "ratio": round(base_run.wall / mw.wall, 3),
            "naive_cpu_ms_per_page": round(base_run.cpu / fetched * 1000, 1),
            "mediawatch_cpu_ms_per_page": round(mw.cpu / fetched * 1000, 1),
            "naive_peak_mb": round(base_run.peak_pss / 2**20),
            "mediawatch_peak_mb": round(mw.peak_pss / 2**20),
            "naive_peak_rss_mb": round(base_run.peak_rss / 2**20),
            "mediawatch_peak_rss_mb": round(mw.peak_rss / 2**20),
            "articles": {"pages": row[0], "new": row[1], "updated": row[2],
                         "duplicates": row[3]}})
        print(json.dumps(results[-1]), file=sys.stderr)  # as it goes: runs are long
    print(f"real pages from {page_dir}, concurrency {concurrency}, gzip on the wire, loopback")
    print(f"{'urls':>6} {'crawler':18} {'pages/s':>8} {'CPU ms/page':>12} {'peak MB':>8} "
          f"{'(RSS sum)':>9}")
    for r in results:
        for who in ("naive", "mediawatch"):
            print(f"{r['urls']:>6} {who:18} {r[f'{who}_pages_per_s']:8.1f} "
                  f"{r[f'{who}_cpu_ms_per_page']:12.1f} {r[f'{who}_peak_mb']:8} "
                  f"{r[f'{who}_peak_rss_mb']:9}")
        print(f"{'':6} mediawatch / naive throughput: {r['ratio']:.2f}x  "
              f"(articles: {r['articles']})")
    print(json.dumps({"bench": "crawl-real", "pages": str(page_dir), "runs": results}))


if __name__ == "__main__":
    main()
