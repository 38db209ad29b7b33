"""A small hostile/instrumented web site on 127.0.0.1 for the crawl-limit tests.

It serves endless sitemap index chains, very wide sitemap indexes, and feeds whose
articles answer slowly, and records every path asked for and the largest number of
requests it was answering at once (what the politeness limits are about).
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
# How long an article request is held open, so that requests overlap if the crawler lets
# them: the measure of per-host concurrency needs answers that are not instant.
ARTICLE_HOLD = 0.15


class Site(ThreadingHTTPServer):
    """The server: ``hits`` (paths in arrival order) and ``max_in_flight``."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.hits: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def _index(base: str, locs: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{base}{loc}</loc></sitemap>" for loc in locs)
    return (f'<?xml version="1.0"?><sitemapindex xmlns="{SITEMAP_NS}">{items}'
            "</sitemapindex>").encode()


def _urlset(base: str, locs: list[str]) -> bytes:
    items = "".join(f"<url><loc>{base}{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">{items}</urlset>'.encode()


def _feed(base: str, locs: list[str]) -> bytes:
    items = "".join(f"<item><title>Story {loc}</title><link>{base}{loc}</link></item>"
                    for loc in locs)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
            f"<link>{base}/</link>{items}</channel></rss>").encode()


def _hinted_feed(base: str, locs: list[str]) -> bytes:
    items = "".join(f"<item><title>Story {loc}</title><link>{base}{loc}</link>"
                    "<dc:creator>Desk Writer</dc:creator></item>" for loc in locs)
    return ('<?xml version="1.0"?><rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
            f"<link>{base}/</link>{items}</channel></rss>").encode()


def _section(base: str, locs: list[str]) -> bytes:
    links = "".join(f'<li><a href="{base}{loc}">Story {loc}</a></li>' for loc in locs)
    return f"<html><body><h2>Latest</h2><ul>{links}</ul></body></html>".encode()


def _article(path: str) -> bytes:
    return (f"<html><head><title>{path}</title></head><body><h1>Article {path}</h1>"
            f"<p>{'Some words of the story. ' * 20}</p></body></html>").encode()


class Handler(BaseHTTPRequestHandler):
    """Routes: ``/chain/N.xml`` (an index naming ``N+1``, for ever), ``/wide.xml`` (an index
    of 1000 sitemaps), ``/leaf/N.xml`` (one article each), ``/feed/NAME.xml`` (12 slow
    articles under ``/NAME/``), ``/hinted/feed.xml`` and ``/hinted/section.html`` (the same
    6 articles, the feed naming their author; ``?delay=S`` holds the answer S seconds), and
    articles (``/.../art-N``)."""

    server: Site

    def do_GET(self) -> None:
        site = self.server
        with site.lock:
            site.hits.append(self.path)
            site.in_flight += 1
            site.max_in_flight = max(site.max_in_flight, site.in_flight)
        try:
            self._answer()
        finally:
            with site.lock:
                site.in_flight -= 1

    def _answer(self) -> None:
        base, path = self.server.base_url, self.path
        path, _, query = path.partition("?")
        if query.startswith("delay="):
            time.sleep(float(query.removeprefix("delay=")))
        hinted = [f"/hinted/art-{n}" for n in range(6)]
        if path == "/hinted/feed.xml":
            body, kind = _hinted_feed(base, hinted), "xml"
        elif path == "/hinted/section.html":
            body, kind = _section(base, hinted), "html"
        elif path.startswith("/chain/"):
            n = int(path.removeprefix("/chain/").removesuffix(".xml"))
            body, kind = _index(base, [f"/chain/{n + 1}.xml", f"/leaf/{n}.xml"]), "xml"
        elif path == "/wide.xml":
            body, kind = _index(base, [f"/leaf/{n}.xml" for n in range(1000)]), "xml"
        elif path.startswith("/leaf/"):
            n = path.removeprefix("/leaf/").removesuffix(".xml")
            body, kind = _urlset(base, [f"/leaf-art-{n}"]), "xml"
        elif path.startswith("/feed/"):
            name = path.removeprefix("/feed/").removesuffix(".xml")
            body, kind = _feed(base, [f"/{name}/art-{n}" for n in range(12)]), "xml"
        elif "art-" in path:
            time.sleep(ARTICLE_HOLD)
            body, kind = _article(path), "html"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", f"application/{kind}" if kind == "xml"
                         else "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet: the tests read ``hits``."""
