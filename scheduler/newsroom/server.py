"""The sample newsroom: a local, deliberately messy news website on 127.0.0.1.

It stands in for the real web in the integration tests and in ``mediawatch demo``. Two outlets
share one host, by path prefix:

* ``/northwind/`` - a Sputnik-like English outlet with a Russian sister section: an RSS 2.0 feed
  (gzip-encoded when the client accepts it, links carrying ``utm_*`` tracking parameters), a
  Google News sitemap index, section, tag and day-archive pages, article pages with JSON-LD,
  OpenGraph, canonical / AMP / shortlink links and a "Get short URL" widget, an AMP copy, short
  links under ``/s/`` and one windows-1251 article.
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

Ground truth for tests is in :data:`STORIES`, :data:`NON_ARTICLES` and
:data:`ROBOTS_DISALLOWED`. Output is deterministic: every date is fixed (2020-2024), nothing
depends on the clock, and the only switch is :attr:`Newsroom.edition`, which changes the one
story marked ``changes`` (and the feeds, sitemap and section pages that list its title).

This module uses only absolute stdlib imports and finds its templates relative to
``Path(__file__)``, so that it works imported as :mod:`scheduler.newsroom.server` (the demo,
the tests) and loaded by its file path (``importlib.util``) alike; its templates under
``site/`` are package data, installed with the wheel.
"""

# No ``from __future__ import annotations`` here: with string annotations, @dataclass looks the
# module up in sys.modules, and a module loaded by path need not be registered there.
import argparse
import contextlib
import functools
import gzip
import hashlib
import html
import json
import random
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape as xml_escape

SITE = Path(__file__).parent / "site"
UTM = "?utm_source=rss&utm_medium=feed"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


# --------------------------------------------------------------------------- stories


@dataclass(frozen=True, slots=True)
class _Story:
    """Everything the server needs to serve one article and list it in feeds and sitemaps."""

    key: str
    source: str
    path: str
    template: str
    title: str
    language: str
    published: str  # ISO 8601 with offset; the page shows it in that offset
    modified: str
    date_format: str  # strftime format of the visible date line (%B is always English)
    summary: str
    search_terms: tuple[str, ...]
    tags: tuple[str, ...] = ()
    short: str | None = None
    amp: str | None = None
    # Paths that answer 301 to the article; the short link hops through the first one.
    aliases: tuple[str, ...] = ()
    # Other published links to the story (e.g. a section page's own tracking parameters).
    extra_urls: tuple[str, ...] = ()
    charset: str = "utf-8"
    charset_in_header: bool = True
    chunked: bool = False
    slow: bool = False
    extra_headers: bool = False  # two Set-Cookie and two Link headers
    title_e2: str | None = None
    modified_e2: str | None = None
    summary_e2: str | None = None
    wire_copy_of: str | None = None

    @property
    def changes(self) -> bool:
        return self.title_e2 is not None

    def title_for(self, edition: int) -> str:
        return self.title_e2 if edition == 2 and self.title_e2 else self.title

    def modified_for(self, edition: int) -> str:
        return self.modified_e2 if edition == 2 and self.modified_e2 else self.modified

    def summary_for(self, edition: int) -> str:
        return self.summary_e2 if edition == 2 and self.summary_e2 else self.summary

    @property
    def in_feed(self) -> bool:
        # The Russian sister section is only in the news sitemap, not the English RSS feed.
        return self.source == "anatolia" or self.language == "en"

    @property
    def urls(self) -> list[str]:
        urls = [self.path]
        if self.source == "northwind" and self.in_feed:
            urls.append(self.path + UTM)
        if self.amp:
            urls.append(self.amp)
        urls.extend(self.extra_urls)
        urls.extend(self.aliases)
        if self.short:
            urls.append(self.short)
        return urls


_NW_DATE = "%H:%M GMT%d %B %Y"
_AA_DATE = "%d.%m.%Y %H:%M"

_STORY_SPECS: tuple[_Story, ...] = (
    _Story(
        key="s400", source="northwind", path="/northwind/2020/11/29/s400-idlib.html",
        template="northwind/s400-idlib.html",
        title="Turkish FM Says Idlib Escalation Will Not Derail S-400 Deliveries From Russia",
        language="en", published="2020-11-29T23:25:00+00:00",
        modified="2020-11-30T08:02:00+00:00", date_format=_NW_DATE,
        summary="Ankara will not let the fighting in Syria's Idlib undermine its air-defence "
                "deal with Moscow, Turkey's top diplomat said on the sidelines of a security "
                "conference in Munich.",
        search_terms=("Idlib", "Munich"), tags=("S-400", "Idlib", "Syria", "Turkey", "Russia"),
        short="/s/Ab3x", amp="/northwind/amp/2020/11/29/s400-idlib.html", extra_headers=True,
    ),
    _Story(
        key="summit", source="northwind", path="/northwind/2021/06/16/geneva-summit.html",
        template="northwind/geneva-summit.html",
        title="Presidents Open Geneva Summit With Low Expectations, Aides Say",
        title_e2="Geneva Summit Ends With Deal to Launch Strategic Stability Dialogue",
        language="en", published="2021-06-16T11:05:00+00:00",
        modified="2021-06-16T11:05:00+00:00", modified_e2="2021-06-16T19:48:00+00:00",
        date_format=_NW_DATE,
        summary="The two leaders sat down in a lakeside villa for talks that aides on both "
                "sides said were unlikely to produce a breakthrough.",
        summary_e2="After almost four hours of talks the two presidents agreed to return "
                   "ambassadors and to start a dialogue on strategic stability.",
        search_terms=("Geneva",), tags=("Summit", "Diplomacy", "Arms Control"),
        short="/s/Gn7q",
    ),
    _Story(
        key="exercise", source="northwind", path="/northwind/2021/05/10/steadfast-horizon.html",
        template="northwind/steadfast-horizon.html",
        title="NATO Launches Steadfast Horizon Drills With 24,000 Troops Near Baltic Coast",
        language="en", published="2021-05-10T14:30:00+00:00",
        modified="2021-05-10T16:12:00+00:00", date_format=_NW_DATE,
        summary="The alliance's largest spring exercise in years will move troops and armour "
                "across nine countries, the Russian Defence Ministry calling it provocative.",
        search_terms=("Steadfast", "Baltic"), tags=("NATO", "Exercises", "Baltic States"),
        short="/s/Df2k", aliases=("/northwind/2021/05/10/steadfast-horizon",), chunked=True,
    ),
    _Story(
        key="ru_s400", source="northwind", path="/northwind/ru/2020/11/30/s400-postavki.html",
        template="northwind/ru/s400-postavki.html",
        title="Министр обороны Турции: поставки С-400 идут по графику",
        language="ru", published="2020-11-30T13:15:00+03:00",
        modified="2020-11-30T13:15:00+03:00", date_format="%H:%M %d.%m.%Y",
        summary="Ситуация в Идлибе не повлияет на контракт по С-400, заявил министр обороны "
                "Турции.",
        search_terms=("Анкара", "Идлиб"), tags=("С-400", "Турция", "Россия"),
        short="/s/Ru4w", charset="windows-1251",
    ),
    _Story(
        key="expo", source="northwind", path="/northwind/2023/02/23/defence-expo-contracts.html",
        template="northwind/defence-expo-contracts.html",
        title="Defence Expo Closes With $5.7bn in Contracts Signed, Organisers Say",
        language="en", published="2023-02-23T16:40:00+00:00",
        modified="2023-02-23T16:40:00+00:00", date_format=_NW_DATE,
        summary="Armoured vehicles, drones and air-defence radars topped the order books at "
                "the five-day show.",
        search_terms=("Expo", "drones"), tags=("Arms Trade", "Drones"),
        short="/s/Ar9m",
    ),
    _Story(
        key="frigate", source="northwind", path="/northwind/2023/06/14/frigate-deal.html",
        template="northwind/frigate-deal.html",
        title="Jakarta Orders Two Turkish-Built Frigates in $1.4bn Naval Deal",
        language="en", published="2023-06-14T09:12:00+00:00",
        modified="2023-06-14T10:30:00+00:00", date_format=_NW_DATE,
        summary="The contract is the largest export order yet for a Turkish shipyard.",
        search_terms=("Jakarta", "frigates"), tags=("Arms Trade", "Navy", "Turkey"),
        short="/s/Fr6t",
    ),
    _Story(
        key="madrid", source="northwind", path="/northwind/2022/06/29/madrid-summit.html",
        template="northwind/madrid-summit.html",
        title="NATO Leaders in Madrid Adopt New Strategic Concept, Invite Two Nordic States",
        language="en", published="2022-06-29T17:20:00+00:00",
        modified="2022-06-29T18:05:00+00:00", date_format=_NW_DATE,
        summary="Alliance leaders agreed a new strategic concept and a sevenfold increase of "
                "high-readiness forces.",
        search_terms=("Madrid", "Nordic"), tags=("NATO", "Summit"),
        short="/s/Md2p", slow=True,
        extra_urls=("/northwind/2022/06/29/madrid-summit.html?utm_source=section&utm_medium=list",),
    ),
    _Story(
        key="aa_tr_s400", source="anatolia",
        path="/anatolia/tr/dunya/s-400-sistemleri-nisanda-gorevde-olacak/2061234",
        template="anatolia/tr-s400.html",
        title="Savunma Bakanı: S-400 sistemleri nisan ayında tam kapasiteyle görevde olacak",
        language="tr", published="2020-12-02T11:40:00+03:00",
        modified="2020-12-02T12:05:00+03:00", date_format=_AA_DATE,
        summary="Bakan, S-400 hava savunma sistemlerinin test atışlarının başarıyla "
                "tamamlandığını söyledi.",
        search_terms=("Savunma", "teslimatı"), tags=("S-400", "Savunma", "Rusya"),
        short="/aa/tR5k", charset="iso-8859-9", charset_in_header=False,
    ),
    _Story(
        key="aa_nato", source="anatolia",
        path="/anatolia/en/europe/nato-defence-ministers-discuss-black-sea-security/2150001",
        template="anatolia/en-nato-ministers.html",
        title="NATO defence ministers discuss Black Sea security in Brussels",
        language="en", published="2021-02-18T14:05:00+03:00",
        modified="2021-02-18T14:05:00+03:00", date_format=_AA_DATE,
        summary="Ministers agreed to step up air policing and maritime patrols in the region.",
        search_terms=("Brussels", "Black Sea"), tags=("NATO", "Black Sea"),
        short="/aa/nB7c",
    ),
    _Story(
        key="aa_wire_s400", source="anatolia",
        path="/anatolia/en/politics/idlib-tension-will-not-affect-s-400-deal-says-turkish-fm/"
             "2060999",
        template="anatolia/en-wire-s400.html",
        title="Idlib tension will not affect S-400 deal, says Turkish foreign minister",
        language="en", published="2020-11-30T00:10:00+03:00",
        modified="2020-11-30T00:10:00+03:00", date_format=_AA_DATE,
        summary="Ankara's air-defence purchase from Moscow and the situation in Idlib are "
                "separate issues, the foreign minister says.",
        search_terms=("Idlib", "Munich"), tags=("S-400", "Idlib", "Turkey"),
        short="/aa/wS4d", wire_copy_of="s400",
    ),
)

STORIES: list[dict[str, Any]] = [
    {
        "key": s.key,
        "source": s.source,
        "urls": s.urls,
        "short_url": s.short,
        "canonical": s.path,
        "title": s.title,
        "title_edition2": s.title_e2,
        "language": s.language,
        "published": s.published,
        "changes": s.changes,
        "search_terms": list(s.search_terms),
        "wire_copy_of": s.wire_copy_of,
    }
    for s in _STORY_SPECS
]
"""Ground truth, one dict per story. ``urls`` are paths (relative to ``base_url``) the story
answers 200 under, following redirects; ``canonical`` is the main path; ``title`` is the
edition-1 title (``title_edition2`` the edition-2 one when ``changes``); ``published`` is
ISO 8601; ``wire_copy_of`` names the story a wire copy was rewritten from (a different article,
to be linked, not merged)."""

# For ``mediawatch demo``: a search that finds the S-400 story and its wire copy, and the short
# link of the story edited between editions (so ``show`` displays two versions).
DEMO_QUERY: str = "Idlib"
DEMO_SHOW: str = next(s.short for s in _STORY_SPECS if s.changes and s.short)

# A "Checking your browser" interstitial served with 200, linked like an article.
CHALLENGE_PATH = "/anatolia/en/world/ankara-moscow-hotline/2069001"
_CHALLENGE_HTML = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="35"></head><body><div class="main-wrapper">
<h1>Checking your browser before accessing the site.</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>
<noscript>Please enable JavaScript and cookies to continue.</noscript>
<form id="challenge-form" action="/cdn-cgi/l/chk_jschl" method="get"></form>
</div></body></html>
"""

# Pages that are linked (or listed in a sitemap) and mostly match a ``follow`` regex, but must
# never become articles: listings, errors, redirects into a loop, junk and an oversized page.
NON_ARTICLES: list[str] = [
    "/",
    "/northwind/",
    "/northwind/military/",
    "/northwind/military/?page=2",
    "/northwind/ru/oborona/",
    "/northwind/tags/s-400/",
    "/northwind/tags/nato/",
    "/northwind/docs/community-standards.html",
    "/northwind/2021/03/02/deleted-story.html",
    "/northwind/2021/04/12/minister-interview.html",
    "/northwind/2021/04/13/ceasefire-talks.html",
    "/northwind/2021/05/05/moved-story.html",
    "/loop/a",
    "/loop/b",
    "/northwind/2021/07/07/corrupted.html",
    "/northwind/2021/08/08/live-blog.html",
    "/anatolia/",
    "/anatolia/world/",
    "/anatolia/tr/dunya/kaldirilan-haber/2061111",
    CHALLENGE_PATH,
    # Day archives (linked from every article's date line; they match the follow regex).
    *sorted({s.path.rsplit("/", 1)[0] + "/" for s in _STORY_SPECS if s.source == "northwind"}),
]

# Disallowed by /robots.txt, linked from section pages and matching the sources' follow
# regexes, so a crawl that ignored robots.txt would request them.
ROBOTS_DISALLOWED: list[str] = [
    "/northwind/private/2020/12/01/s400-contract-annex.html",
    "/anatolia/tr/taslak/s-400-ikinci-parti/2069999",
]

_OVERSIZED_BYTES = 1_300_000

# Tag pages: slug -> (name, description, story keys listed).
_TAGS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "s-400": ("S-400", "The S-400 long-range air defence system and the deals around it.",
              ("s400", "ru_s400")),
    "nato": ("NATO", "The North Atlantic alliance: summits, exercises and enlargement.",
             ("exercise", "madrid")),
}


# --------------------------------------------------------------------------- templates


_VAR = re.compile(r"\{\{\s*([a-z0-9_]+)\s*(?:\|\s*(raw|json)\s*)?\}\}")
_INCLUDE = re.compile(r"\[\[include ([\w./-]+)\]\]")


@functools.cache
def _template(name: str) -> str:
    return (SITE / name).read_text(encoding="utf-8")


def render(name: str, ctx: dict[str, Any]) -> str:
    """Render template ``site/<name>``: ``{{var}}`` (HTML-escaped), ``{{var|json}}``,
    ``{{var|raw}}``, then ``[[include path]]`` (after variables, so an include name may
    contain ``{{edition}}``). An unknown variable is an error, not an empty string, so a
    typo in a template cannot silently produce a page without its title."""

    def var(m: re.Match[str]) -> str:
        try:
            value = ctx[m.group(1)]
        except KeyError:
            raise KeyError(f"site/{name}: unknown template variable {m.group(1)!r}") from None
        if m.group(2) == "json":
            return json.dumps(value, ensure_ascii=False)
        if m.group(2) == "raw":
            return str(value)
        return html.escape(str(value))

    text = _VAR.sub(var, _template(name))
    return _INCLUDE.sub(lambda m: render(m.group(1), ctx), text)


def _fmt_date(dt: datetime, fmt: str) -> str:
    # %B by hand: strftime follows the process locale and the page must not.
    return dt.strftime(fmt.replace("%B", _MONTHS[dt.month - 1]))


def _http_date(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso).astimezone(UTC), usegmt=True)


# --------------------------------------------------------------------------- responses


@dataclass(frozen=True, slots=True)
class _Response:
    """What to send; the handler adds Date, Server and Content-Length or chunking."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    chunked: bool = False
    gzip: bool = False  # gzip the body when the client accepts it
    slow: bool = False  # wait slow_seconds before answering


def _html(status: int, text: str, charset: str = "utf-8", header_charset: bool = True,
          headers: tuple[tuple[str, str], ...] = ()) -> _Response:
    ctype = f"text/html; charset={charset}" if header_charset else "text/html"
    return _Response(status, text.encode(charset), (("Content-Type", ctype), *headers))


def _redirect(status: int, location: str) -> _Response:
    body = (f'<html><head><title>{status} Moved</title></head><body><h1>Moved</h1>'
            f'<p>The document has moved <a href="{html.escape(location)}">here</a>.</p>'
            "</body></html>\n")
    return _Response(status, body.encode(), (("Location", location),
                                             ("Content-Type", "text/html; charset=utf-8")))


# A 1x1 transparent GIF for every og:image and logo, so image links do not 404.
_GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c000000000100"
                     "01000002024401003b")


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
        self._routes: dict[str, Callable[[int], _Response]] = {}
        self._cache: dict[tuple[str, int], _Response] = {}
        self._taken_down: set[str] = set()
        #: Path prefixes answered with 429 and ``Retry-After: 3600`` (a rate-limited outlet).
        self.throttled: set[str] = set()
        #: Paths answered with 502 Bad Gateway for now (an overloaded backend).
        self.failing: set[str] = set()

    # -- lifecycle

    def start(self) -> "Newsroom":
        """Bind, start serving in a daemon thread and return ``self``."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.newsroom = self  # type: ignore[attr-defined]
        host, port = server.server_address[:2]
        self.port = int(port)
        # An AF_INET server's address is (str, int); the bytes case is AF_UNIX only.
        self.base_url = f"http://{host!s}:{self.port}"
        self._routes = self._build_routes()
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

    def __enter__(self) -> "Newsroom":
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

    def respond(self, target: str) -> _Response:
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
            return _Response(502, b"Bad Gateway\n", (("Content-Type", "text/plain"),))
        if throttled:
            return _Response(429, b"Too Many Requests\n",
                             (("Content-Type", "text/plain"), ("Retry-After", "3600")))
        if gone:
            return self._page(410, "errors/410.html", edition)
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
            resp = _redirect(301, path + "/")
        elif re.fullmatch(r"/(northwind|anatolia)/img/[\w.-]+\.(gif|jpg)", path):
            resp = _Response(200, _GIF, (("Content-Type", "image/gif"),
                                         ("Cache-Control", "max-age=86400")))
        else:
            return self._page(404, "errors/404.html", edition)
        with self._lock:
            self._cache[key] = resp
        return resp

    def _ctx(self, edition: int, story: _Story | None = None) -> dict[str, Any]:
        base = self.base_url
        ctx: dict[str, Any] = {"base": base, "netloc": base.split(":", 1)[1],
                               "edition": edition}
        for s in _STORY_SPECS:
            ctx[f"url_{s.key}"] = base + s.path
            ctx[f"title_{s.key}"] = s.title_for(edition)
            ctx[f"date_{s.key}"] = _fmt_date(datetime.fromisoformat(s.published),
                                             s.date_format)
        if story is not None:
            published = datetime.fromisoformat(story.published)
            modified = datetime.fromisoformat(story.modified_for(edition))
            ctx.update(
                title=story.title_for(edition),
                canonical=base + story.path,
                short_url=base + story.short if story.short else "",
                amp_url=base + story.amp if story.amp else "",
                published=story.published,
                modified=story.modified_for(edition),
                date_display=_fmt_date(published, story.date_format),
                modified_display=_fmt_date(modified, story.date_format),
                unixtime=int(published.timestamp()),
                summary=story.summary_for(edition),
                keywords=", ".join(story.tags),
            )
        return ctx

    def _page(self, status: int, template: str, edition: int, charset: str = "utf-8",
              headers: tuple[tuple[str, str], ...] = ()) -> _Response:
        return _html(status, render(template, self._ctx(edition)), charset, headers=headers)

    def _article(self, story: _Story, edition: int, template: str | None = None) -> _Response:
        text = render(template or story.template, self._ctx(edition, story))
        text = text.replace("</head>", _page_state(story.key) + "</head>", 1)
        headers: list[tuple[str, str]] = [
            ("Last-Modified", _http_date(story.modified_for(edition))),
            ("Cache-Control", "public, max-age=60"),
        ]
        if story.extra_headers:
            # Repeated headers: a capture must keep every value, not just the last one.
            base = self.base_url
            headers += [
                ("Set-Cookie", "nw_session=3f9c2a7e51; Path=/; HttpOnly"),
                ("Set-Cookie", "nw_consent=pending; Path=/; Max-Age=31536000; SameSite=Lax"),
                ("Link", f'<{base}{story.short}>; rel="shortlink"'),
                ("Link", f'<{base}{story.amp}>; rel="amphtml"'),
            ]
        resp = _html(200, text, story.charset, story.charset_in_header, tuple(headers))
        return _Response(resp.status, resp.body, resp.headers, chunked=story.chunked,
                         slow=story.slow)

    def _build_routes(self) -> dict[str, Callable[[int], _Response]]:
        base = self.base_url
        page = self._page
        routes: dict[str, Callable[[int], _Response]] = {
            "/robots.txt": lambda ed: _Response(
                200, render("robots.txt", self._ctx(ed)).encode(),
                (("Content-Type", "text/plain; charset=utf-8"),)),
            "/": functools.partial(page, 200, "index.html"),
            "/northwind/": functools.partial(page, 200, "northwind/index.html"),
            "/northwind/military/": functools.partial(page, 200, "northwind/military.html"),
            "/northwind/ru/oborona/": functools.partial(page, 200, "northwind/ru/oborona.html",
                                                        charset="windows-1251"),
            "/northwind/docs/community-standards.html": functools.partial(
                page, 200, "northwind/community-standards.html"),
            "/northwind/static/main.css": lambda ed: _Response(
                200, _template("northwind/main.css").encode(),
                (("Content-Type", "text/css; charset=utf-8"),)),
            "/northwind/rss.xml": self._rss,
            "/northwind/sitemap_index.xml": self._sitemap_index,
            "/northwind/sitemap_news.xml": self._news_sitemap,
            "/northwind/sitemap_pages.xml": self._pages_sitemap,
            "/northwind/2021/03/02/deleted-story.html": functools.partial(
                page, 404, "errors/404.html"),
            "/northwind/2021/04/12/minister-interview.html": functools.partial(
                page, 500, "errors/500.html"),
            "/northwind/2021/04/13/ceasefire-talks.html": functools.partial(
                page, 503, "errors/503.html", headers=(("Retry-After", "120"),)),
            "/northwind/2021/05/05/moved-story.html": lambda ed: _redirect(301, base + "/loop/a"),
            "/loop/a": lambda ed: _redirect(302, "/loop/b"),
            "/loop/b": lambda ed: _redirect(302, "/loop/a"),
            "/northwind/2021/07/07/corrupted.html": lambda ed: _junk(),
            "/northwind/2021/08/08/live-blog.html": lambda ed: _oversized(),
            ROBOTS_DISALLOWED[0]: functools.partial(page, 200, "northwind/private-annex.html"),
            "/anatolia/static/site.css": lambda ed: _Response(
                200, _template("anatolia/site.css").encode(),
                (("Content-Type", "text/css; charset=utf-8"),)),
            "/anatolia/": functools.partial(page, 200, "anatolia/index.html"),
            "/anatolia/world/": functools.partial(page, 200, "anatolia/world.html"),
            "/anatolia/atom.xml": self._atom,
            "/anatolia/broken.xml": lambda ed: _Response(
                200, render("anatolia/broken.xml", self._ctx(ed)).encode(),
                (("Content-Type", "application/atom+xml; charset=utf-8"),)),
            "/anatolia/tr/dunya/kaldirilan-haber/2061111": functools.partial(
                page, 410, "errors/410.html"),
            ROBOTS_DISALLOWED[1]: functools.partial(page, 200, "anatolia/taslak.html"),
            CHALLENGE_PATH: lambda ed: _html(200, _CHALLENGE_HTML),
        }
        for slug in _TAGS:
            routes[f"/northwind/tags/{slug}/"] = functools.partial(self._tag, slug)
        days: dict[str, list[_Story]] = {}
        for story in self._stories("northwind"):
            days.setdefault(story.path.rsplit("/", 1)[0] + "/", []).append(story)
        for day, stories in days.items():
            routes[day] = functools.partial(self._day, tuple(stories))
        for story in _STORY_SPECS:
            routes[story.path] = functools.partial(self._article, story)
            if story.amp:
                routes[story.amp] = functools.partial(
                    self._article, story, template=story.template.replace("/", "/amp/", 1))
            for alias in story.aliases:
                # Relative Location, as many CMSs send; clients resolve it.
                routes[alias] = functools.partial(_static_redirect, 301,
                                                  story.path.rsplit("/", 1)[1])
            if story.short:
                if story.aliases:
                    routes[story.short] = functools.partial(_static_redirect, 302,
                                                            base + story.aliases[0])
                else:
                    routes[story.short] = functools.partial(_static_redirect, 301,
                                                            base + story.path)
        return routes

    # -- listings built from the story table, so they cannot drift from STORIES

    def _list_items(self, stories: tuple[_Story, ...] | list[_Story], edition: int) -> str:
        base = self.base_url
        return "\n".join(
            f'  <li class="list__item"><a class="list__title" href="{html.escape(base + s.path)}">'
            f"{html.escape(s.title_for(edition))}</a> "
            f'<span class="list__date">'
            f"{_fmt_date(datetime.fromisoformat(s.published), s.date_format)}</span></li>"
            for s in stories)

    def _tag(self, slug: str, edition: int) -> _Response:
        name, description, keys = _TAGS[slug]
        stories = [s for s in self._stories("northwind") if s.key in keys]
        ctx = self._ctx(edition) | {"tag_name": name, "tag_description": description,
                                    "tag_items": self._list_items(stories, edition)}
        return _html(200, render("northwind/tag.html", ctx))

    def _day(self, stories: tuple[_Story, ...], edition: int) -> _Response:
        day = datetime.fromisoformat(stories[0].published)
        ctx = self._ctx(edition) | {"day_title": _fmt_date(day, "%d %B %Y"),
                                    "day_items": self._list_items(stories, edition)}
        return _html(200, render("northwind/day.html", ctx))

    # -- feeds and sitemaps (built here: they are lists of the stories above)

    def _stories(self, source: str) -> list[_Story]:
        return sorted((s for s in _STORY_SPECS if s.source == source),
                      key=lambda s: datetime.fromisoformat(s.published), reverse=True)

    def _rss(self, edition: int) -> _Response:
        base = self.base_url
        stories = [s for s in self._stories("northwind") if s.in_feed]
        built = max(datetime.fromisoformat(s.modified_for(edition)) for s in stories)
        items = []
        for s in stories:
            published = datetime.fromisoformat(s.published)
            if s.key == "frigate":
                # Feeds mix offsets: one item in Ankara time, not GMT.
                pub = format_datetime(published.astimezone(timezone(timedelta(hours=3))))
            else:
                pub = format_datetime(published.astimezone(UTC), usegmt=True)
            cats = "".join(f"\n      <category>{xml_escape(t)}</category>" for t in s.tags)
            items.append(f"""    <item>
      <title>{xml_escape(s.title_for(edition))}</title>
      <link>{xml_escape(base + s.path + UTM)}</link>
      <guid isPermaLink="true">{xml_escape(base + s.path)}</guid>
      <pubDate>{pub}</pubDate>
      <description><![CDATA[<p>{html.escape(s.summary_for(edition))}</p>]]></description>{cats}
      <enclosure url="{base}/northwind/img/{s.key}.gif" type="image/gif" length="43"/>
    </item>""")
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>Northwind News - Military &amp; Intelligence</title>
    <link>{base}/northwind/military/</link>
    <description>Defence and diplomacy news from Northwind News</description>
    <language>en</language>
    <copyright>Northwind News 2024</copyright>
    <lastBuildDate>{format_datetime(built.astimezone(UTC), usegmt=True)}</lastBuildDate>
    <atom:link href="{base}/northwind/rss.xml" rel="self" type="application/rss+xml"/>
{chr(10).join(items)}
  </channel>
</rss>
"""
        # Validators derived from the content, so they change exactly when the feed does.
        etag = '"' + hashlib.sha1(body.encode()).hexdigest()[:16] + '"'
        return _Response(200, body.encode(),
                         (("Content-Type", "application/rss+xml; charset=utf-8"),
                          ("ETag", etag),
                          ("Last-Modified", format_datetime(built.astimezone(UTC), usegmt=True))),
                         gzip=True)

    def _sitemap_index(self, edition: int) -> _Response:
        base = self.base_url
        latest = max(s.modified_for(edition) for s in self._stories("northwind"))
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap>
    <loc>{base}/northwind/sitemap_news.xml</loc>
    <lastmod>{latest}</lastmod>
  </sitemap>
  <sitemap>
    <loc>{base}/northwind/sitemap_pages.xml</loc>
    <lastmod>2024-01-15T09:00:00+00:00</lastmod>
  </sitemap>
</sitemapindex>
"""
        return _Response(200, body.encode(), (("Content-Type", "application/xml; charset=utf-8"),))

    def _news_sitemap(self, edition: int) -> _Response:
        base = self.base_url
        urls = []
        for s in self._stories("northwind"):
            urls.append(f"""  <url>
    <loc>{xml_escape(base + s.path)}</loc>
    <lastmod>{s.modified_for(edition)}</lastmod>
    <news:news>
      <news:publication>
        <news:name>Northwind News</news:name>
        <news:language>{s.language}</news:language>
      </news:publication>
      <news:publication_date>{s.published}</news:publication_date>
      <news:title>{xml_escape(s.title_for(edition))}</news:title>
      <news:keywords>{xml_escape(", ".join(s.tags))}</news:keywords>
    </news:news>
  </url>""")
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{chr(10).join(urls)}
</urlset>
"""
        return _Response(200, body.encode(), (("Content-Type", "application/xml; charset=utf-8"),))

    def _pages_sitemap(self, edition: int) -> _Response:
        # Real sitemaps list section and tag pages next to articles; they are not articles.
        base = self.base_url
        pages = ["/northwind/", "/northwind/military/", "/northwind/ru/oborona/",
                 "/northwind/tags/s-400/", "/northwind/tags/nato/"]
        urls = "\n".join(f"  <url><loc>{base}{p}</loc><changefreq>hourly</changefreq></url>"
                         for p in pages)
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{urls}\n</urlset>\n')
        return _Response(200, body.encode(), (("Content-Type", "application/xml; charset=utf-8"),))

    def _atom(self, edition: int) -> _Response:
        base = self.base_url
        stories = self._stories("anatolia")
        updated = max(s.modified_for(edition) for s in stories)
        entries = []
        for s in stories:
            article_id = s.path.rsplit("/", 1)[1]
            cats = "".join(f'\n    <category term="{xml_escape(t)}"/>' for t in s.tags)
            summary = "<p>" + html.escape(s.summary_for(edition)) + "</p>"
            entries.append(f"""  <entry xml:lang="{s.language}">
    <title type="text">{xml_escape(s.title_for(edition))}</title>
    <id>tag:anatolia.example,2020:{article_id}</id>
    <link rel="alternate" type="text/html" href="{xml_escape(base + s.path)}"/>
    <published>{s.published}</published>
    <updated>{s.modified_for(edition)}</updated>
    <author><name>Anatolia</name></author>
    <summary type="html">{xml_escape(summary)}</summary>{cats}
  </entry>""")
        body = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="tr">
  <title>Anatolia Haber Ajansı - Dünya</title>
  <subtitle>Wire service: world, defence and diplomacy</subtitle>
  <id>tag:anatolia.example,2020:feed/world</id>
  <updated>{updated}</updated>
  <link rel="self" type="application/atom+xml" href="{base}/anatolia/atom.xml"/>
  <link rel="alternate" type="text/html" href="{base}/anatolia/world/"/>
{chr(10).join(entries)}
</feed>
"""
        return _Response(200, body.encode(),
                         (("Content-Type", "application/atom+xml; charset=utf-8"),))


_STATE_WORDS = ("defence", "ministry", "summit", "missile", "talks", "navy", "border", "deal",
                "sanctions", "exercise", "brigade", "treaty", "frigate", "drone", "envoy",
                "ceasefire", "procurement", "alliance", "strike", "corvette", "radar")


@functools.cache
def _page_state(key: str) -> str:
    """The inline state blob a news CMS ships in every article page: recommendations, most
    read, ad slots and feature flags as JSON (about 60 kB, 15 kB gzipped; real article pages
    weigh 16-30 kB gzipped, see README). Seeded by the story, so every answer is the same
    bytes; ASCII, so it fits every page charset. Text extraction must ignore it."""
    rng = random.Random(key)

    def words(n: int) -> str:
        return " ".join(rng.choice(_STATE_WORDS) for _ in range(n)).capitalize()

    items = [{"id": rng.randrange(10**9), "type": rng.choice(("article", "video", "gallery")),
              "url": f"/news/{rng.randrange(2019, 2024)}/{rng.randrange(10**6):06d}.html",
              "title": words(rng.randint(6, 12)), "img": f"/img/{rng.getrandbits(64):016x}.jpg",
              "ts": rng.randrange(1_600_000_000, 1_700_000_000), "views": rng.randrange(10**5),
              "section": rng.choice(("military", "world", "politics", "analysis"))}
             for _ in range(260)]
    state = {"recommendations": items, "ads": [{"slot": f"div-gpt-{i}", "sizes": [[300, 250]],
                                                "targeting": {"kw": words(3)}}
                                               for i in range(12)],
             "flags": {f"exp_{rng.getrandbits(32):08x}": rng.random() < 0.5 for _ in range(80)}}
    return ("<script>window.__NEWSROOM_STATE__ = "
            + json.dumps(state, separators=(",", ":")) + ";</script>\n")


def _static_redirect(status: int, location: str, edition: int) -> _Response:
    return _redirect(status, location)


@functools.cache
def _junk() -> _Response:
    # A gzip member served raw as text/html: what a misconfigured cache sometimes sends.
    body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + random.Random(400).randbytes(48 * 1024)
    return _Response(200, body, (("Content-Type", "text/html; charset=utf-8"),))


@functools.cache
def _oversized() -> _Response:
    head = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            "<title>LIVE: Defence ministers' meeting - all the updates</title></head>\n<body>"
            '<h1 class="article__title">LIVE: Defence ministers\' meeting - all the updates</h1>'
            '\n<div class="article__body">\n')
    entries: list[str] = []
    size = len(head)
    n = 0
    while size < _OVERSIZED_BYTES:
        n += 1
        entry = (f'<div class="live-entry" id="u{n}"><span class="live-entry__time">'
                 f"{(n // 60) % 24:02d}:{n % 60:02d} GMT</span><p>Update {n}: delegations "
                 "continue consultations behind closed doors; a spokesperson said a joint "
                 "statement on air defence cooperation is still being drafted and further "
                 "briefings are expected later in the day.</p></div>\n")
        entries.append(entry)
        size += len(entry)
    text = head + "".join(entries) + "</div></body></html>\n"
    return _Response(200, text.encode(), (("Content-Type", "text/html; charset=utf-8"),))


# --------------------------------------------------------------------------- HTTP handler


def _not_modified(resp: _Response, if_none_match: str | None,
                  if_modified_since: str | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since; only 200 answers qualify."""
    if resp.status != 200:
        return False
    etag = next((v for k, v in resp.headers if k == "ETag"), None)
    modified = next((v for k, v in resp.headers if k == "Last-Modified"), None)
    if if_none_match is not None:
        return etag is not None and etag in [t.strip() for t in if_none_match.split(",")]
    return modified is not None and if_modified_since == modified


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "x-gzip", "*"):
            q = re.search(r"q\s*=\s*([\d.]+)", params)
            return q is None or float(q.group(1)) > 0
    return False


def _chunks(body: bytes) -> Iterator[bytes]:
    # Uneven sizes on purpose: chunk edges fall inside tags and multi-byte characters.
    sizes = (1, 7, 500, 4096, 33)
    i = n = 0
    while i < len(body):
        size = sizes[n % len(sizes)]
        yield body[i:i + size]
        i += size
        n += 1


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive: every response has Content-Length or is chunked."""

    protocol_version = "HTTP/1.1"
    server_version = "NewsroomEdge/1.4"
    timeout = 30  # idle keep-alive connections are dropped after this

    def version_string(self) -> str:
        return self.server_version

    @property
    def newsroom(self) -> Newsroom:
        return self.server.newsroom  # type: ignore[attr-defined]

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            # A client that cancels a download (the oversized page) resets the connection;
            # socketserver would print a traceback for what is expected behaviour.
            self.close_connection = True

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _not_allowed(self) -> None:
        self.newsroom.record(self.command, self.path)
        # The request body is never read, so the connection cannot be reused.
        self.close_connection = True
        body = b"<html><body><h1>405 Method Not Allowed</h1></body></html>\n"
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _serve(self, send_body: bool) -> None:
        newsroom = self.newsroom
        newsroom.record(self.command, self.path)
        try:
            resp = newsroom.respond(self.path)
        except Exception:
            # A template bug: answer 500 and show the traceback rather than hang the client.
            traceback.print_exc(file=sys.stderr)
            resp = _Response(500, b"newsroom error\n", (("Content-Type", "text/plain"),))
        if resp.slow and not newsroom.wait_slow():
            self.close_connection = True
            return
        body = resp.body
        headers = list(resp.headers)
        if _not_modified(resp, self.headers.get("If-None-Match"),
                         self.headers.get("If-Modified-Since")):
            resp, body = _Response(304), b""
            headers = [(k, v) for k, v in headers if k in ("ETag", "Last-Modified")]
        if resp.gzip:
            headers.append(("Vary", "Accept-Encoding"))
            if _accepts_gzip(self.headers.get("Accept-Encoding", "")):
                body = gzip.compress(body, mtime=0)  # mtime=0: identical bytes every time
                headers.append(("Content-Encoding", "gzip"))
        chunked = resp.chunked and self.request_version == "HTTP/1.1"
        try:
            self.send_response(resp.status)
            for name, value in headers:
                self.send_header(name, value)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not send_body:
                return
            if chunked:
                for chunk in _chunks(body):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # Clients drop oversized pages half-way; that is expected, not an error.
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.newsroom.verbose:
            super().log_message(format, *args)


# --------------------------------------------------------------------------- config, CLI


def render_sources(base_url: str) -> str:
    """A complete ``sources.toml`` for crawling the newsroom at ``base_url``.

    No delay, robots obeyed, a 5 s timeout (the slow page answers after 2 s, so it succeeds)
    and a 1 MB page limit (so the live blog is dropped).
    """
    base = base_url.rstrip("/")
    host = urlsplit(base).hostname or "127.0.0.1"
    return f"""# Sources for the sample newsroom at {base} (tests/newsroom/server.py).

[crawl]
user_agent = "mediawatch-test/0.1 (+{base}/)"
obey_robots = true
concurrency = 8
per_domain_concurrency = 8
delay = 0.0
timeout = 5.0
max_page_size = "1MB"

[[source]]
id = "northwind"
name = "Northwind News"
feeds = ["{base}/northwind/rss.xml"]
sitemaps = ["{base}/northwind/sitemap_index.xml"]
sections = ["{base}/northwind/military/", "{base}/northwind/ru/oborona/"]
# Articles live under /northwind/[<edition>/]YYYY/MM/DD/; /s/ are short links to them.
follow = ['/northwind/(?:[a-z]+/)?\\d{{4}}/\\d{{2}}/\\d{{2}}/', '/s/[A-Za-z0-9]+$']
allowed_domains = ["{host}"]
schedule = "every 30m"
language = "en"
date_format = "%H:%M GMT%d %B %Y"

[source.selectors]
title = "h1.article__title"
published = ".article__info-date a"
lead = ".article__announce-text"
body = ".article__body"
section = ".article__supertag a"
tags = ".article__tags a"
short_url = ".b-share__short input::attr(value)"

[[source]]
id = "anatolia"
name = "Anatolia Wire"
feeds = ["{base}/anatolia/atom.xml", "{base}/anatolia/broken.xml"]
sections = ["{base}/anatolia/world/"]
follow = ['/anatolia/(?:tr|en)/[a-z-]+/[a-z0-9-]+/\\d+$', '/aa/[A-Za-z0-9]+$']
allowed_domains = ["{host}"]
schedule = "every 1h"
language = "tr"
date_format = "%d.%m.%Y %H:%M"

[source.selectors]
title = ".detay-spot-category h1"
lead = ".detay-spot-category h4"
published = ".detay-bilgi .tarih"
body = ".detay-icerik"
tags = ".detay-etiket a"
short_url = '[rev="canonical"]::attr(href)'
"""


def main(argv: list[str] | None = None) -> None:
    """Serve the newsroom until interrupted: ``python tests/newsroom/server.py --port 8000``."""
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
