"""The sample newsroom's server: :class:`Newsroom`, a local, deliberately messy news website.

It stands in for the real web in the integration tests and in ``mediawatch demo``. Two outlets
share one host on 127.0.0.1, by path prefix:

* ``/northwind/`` - a Sputnik-like English outlet with a Russian sister section: an RSS 2.0 feed
  (gzip-encoded when the client accepts it, links carrying ``utm_*`` tracking parameters), a
  Google News sitemap index, section, tag and day-archive pages, article pages with JSON-LD,
  OpenGraph, canonical / AMP / shortlink links and a "Get short URL" widget, an AMP copy, short
  links under ``/s/`` and one windows-1251 article. Its pages name page requisites
  (:mod:`scheduler.newsroom.assets`): a stylesheet that ``@import``-s another with an
  ``@font-face`` font (its woff2 missing, the ttf there), a ``url()`` masthead image, a
  ``srcset`` photo, an icon, a script that draws nothing and a beacon under a path robots.txt
  disallows.
* ``/anatolia/`` - an Anadolu-like wire: an Atom feed, a truncated (broken) feed, a section
  page, a Turkish article in ISO-8859-9 (declared only in a ``<meta http-equiv>``), English
  articles with ``rev="canonical"`` short links, and a near-duplicate wire copy of a northwind
  story.

The transport is messy on purpose: chunked transfer encoding, repeated headers, a slow page, a
503 with ``Retry-After``, a 500, a 404, a 410, a redirect loop, binary junk served as
``text/html``, a page over 1 MB, malformed HTML and a bot-challenge interstitial served with
status 200. The RSS feed sends ``ETag`` and ``Last-Modified`` and answers conditional
requests with 304; the Atom feed sends no validators and the same bytes every time.

Two switches serve the incremental-crawling tests: :meth:`Newsroom.take_down` makes a path
answer 410 (a story withdrawn), :attr:`Newsroom.throttled` makes every path under the
given prefixes answer 429 with ``Retry-After`` (a rate-limited outlet), and
:attr:`Newsroom.failing` makes paths answer 502 (an overloaded backend).

Output is deterministic: every date is fixed (2020-2024), nothing depends on the clock, and the
only switch is :attr:`Newsroom.edition`, which changes the one story marked ``changes`` (and
the feeds, sitemap and section pages that list its title).

The site is split by what changes together: the ground truth for tests (:data:`STORIES`,
``NON_ARTICLES``, ``ROBOTS_DISALLOWED``) in :mod:`scheduler.newsroom.stories`, the pages and
routes in :mod:`scheduler.newsroom.pages`, feeds and sitemaps in
:mod:`scheduler.newsroom.feeds`, the HTTP handler in :mod:`scheduler.newsroom.handler` and the
sources file in :mod:`scheduler.newsroom.sources`. This module imports them by absolute name,
so that it works imported as :mod:`scheduler.newsroom.server` (the demo, the tests) and loaded
by its file path (``importlib.util``) alike, as long as the package is importable; it offers
:data:`STORIES` too, so that a tool loading it by path gets the server and its ground truth
from one module. The templates under ``site/`` are package data, installed with the wheel.
"""

# This file may be loaded by its path, unregistered in sys.modules. So it defines no
# @dataclass: with the string annotations below, dataclasses looks the defining module up in
# sys.modules and fails on None. The value classes live in the modules imported by name.
from __future__ import annotations

import argparse
import contextlib
import re
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scheduler.newsroom.handler import Handler, Response, redirect
from scheduler.newsroom.pages import GIF, Pages
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import STORIES

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["STORIES", "Newsroom", "main"]


class Newsroom:
    """The sample news site: a context manager around a threaded HTTP/1.1 server.

    ``Newsroom(host='127.0.0.1', port=0, slow_seconds=2.0)``; ``port=0`` picks a free port.
    After :meth:`start`, :attr:`base_url` is e.g. ``'http://127.0.0.1:43121'``. :attr:`hits`
    records ``(method, path-with-query)`` of every request in arrival order. Set
    :attr:`edition` to 2 to publish the update of the story marked ``changes``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, slow_seconds: float = 2.0,
                 verbose: bool = False) -> None:
        self.host = host
        self.port = port
        self.slow_seconds = slow_seconds
        self.verbose = verbose
        self.base_url = ""
        self.hits: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._edition = 1
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._pages = Pages(self.base_url)
        self._routes: dict[str, Callable[[int], Response]] = {}
        self._cache: dict[tuple[str, int], Response] = {}
        self._taken_down: set[str] = set()
        #: Path prefixes answered with 429 and ``Retry-After: 3600`` (a rate-limited outlet).
        self.throttled: set[str] = set()
        #: Paths answered with 502 Bad Gateway for now (an overloaded backend).
        self.failing: set[str] = set()

    # -- lifecycle

    def start(self) -> Newsroom:
        """Bind, start serving in a daemon thread and return ``self``."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self.host, self.port), Handler)
        server.daemon_threads = True
        server.newsroom = self  # type: ignore[attr-defined]
        host, port = server.server_address[:2]
        self.port = int(port)
        # An AF_INET server's address is (str, int); the bytes case is AF_UNIX only.
        self.base_url = f"http://{host!s}:{self.port}"
        self._pages = Pages(self.base_url)
        self._routes = self._pages.routes()
        self._cache.clear()
        self._stopping.clear()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"newsroom:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket; a slow request in flight is cut short."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Newsroom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- state

    @property
    def edition(self) -> int:
        """1 or 2; edition 2 changes the title, body and dateModified of the changing story."""
        with self._lock:
            return self._edition

    @edition.setter
    def edition(self, value: int) -> None:
        if value not in (1, 2):
            raise ValueError(f"edition must be 1 or 2, not {value!r}")
        with self._lock:
            self._edition = value

    def record(self, method: str, target: str) -> None:
        """Append one request to :attr:`hits` (called by the handler thread)."""
        with self._lock:
            self.hits.append((method, target))

    def take_down(self, path: str) -> None:
        """From now on ``path`` answers 410 Gone (the story was withdrawn)."""
        with self._lock:
            self._taken_down.add(path)

    def wait_slow(self) -> bool:
        """Sleep ``slow_seconds``; False when the server is stopping meanwhile."""
        return not self._stopping.wait(self.slow_seconds)

    # -- routing

    def respond(self, target: str) -> Response:
        """The response for a request target (path with query; absolute-form accepted).

        Routing ignores the query string, as news sites do with tracking parameters.
        """
        path = urlsplit(target).path or "/"
        edition = self.edition
        with self._lock:
            gone = path in self._taken_down
            throttled = any(path.startswith(p) for p in self.throttled)
            failing = path in self.failing
        if failing:
            return Response(502, b"Bad Gateway\n", (("Content-Type", "text/plain"),))
        if throttled:
            return Response(429, b"Too Many Requests\n",
                            (("Content-Type", "text/plain"), ("Retry-After", "3600")))
        if gone:
            return self._pages.page(410, "errors/410.html", edition)
        key = (path, edition)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        route = self._routes.get(path)
        if route is not None:
            resp = route(edition)
        elif path + "/" in self._routes:
            # nginx-style: a directory without its slash is redirected, not a 404.
            resp = redirect(301, path + "/")
        elif re.fullmatch(r"/(northwind|anatolia)/img/[\w.-]+\.(gif|jpg)", path):
            resp = Response(200, GIF, (("Content-Type", "image/gif"),
                                       ("Cache-Control", "max-age=86400")))
        else:
            return self._pages.page(404, "errors/404.html", edition)
        with self._lock:
            self._cache[key] = resp
        return resp


def main(argv: list[str] | None = None) -> None:
    """Serve the newsroom until interrupted: ``python -m scheduler.newsroom.server --port 8000``."""
    parser = argparse.ArgumentParser(description="Serve the mediawatch sample newsroom.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--slow-seconds", type=float, default=2.0)
    parser.add_argument("--edition", type=int, choices=(1, 2), default=1)
    parser.add_argument("--sources", metavar="FILE",
                        help="also write a sources.toml for this server to FILE")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    newsroom = Newsroom(args.host, args.port, args.slow_seconds, verbose=not args.quiet)
    newsroom.edition = args.edition
    with newsroom:
        if args.sources:
            Path(args.sources).write_text(render_sources(newsroom.base_url), encoding="utf-8")
        print(newsroom.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
