"""The sample newsroom's pages: the template engine, the routes and every page they answer.

:func:`render` fills the templates under ``site/`` (package data, found relative to this
file, so the demo runs from a wheel). :class:`Pages` holds the site's base URL and builds the
route table - path to a function of the edition - for sections, tags, day archives, articles
and their AMP copies, aliases and short links, robots.txt, stylesheets, error pages, the
redirect loop, the bot challenge, binary junk and the oversized live blog; the feeds and
sitemaps come from :mod:`scheduler.newsroom.feeds`. Every answer is the same bytes each time
for a given base URL and edition.
"""

from __future__ import annotations

import functools
import html
import json
import random
import re
import zlib
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.newsroom import assets, feeds
from scheduler.newsroom.handler import Response, html_response, redirect
from scheduler.newsroom.stories import (
    CHALLENGE_PATH,
    ROBOTS_DISALLOWED,
    STORY_SPECS,
    TAGS,
    Story,
    stories_of,
)

if TYPE_CHECKING:
    from collections.abc import Callable

SITE = Path(__file__).parent / "site"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")

# The page served at CHALLENGE_PATH.
_CHALLENGE_HTML = """<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="refresh" content="35"></head><body><div class="main-wrapper">
<h1>Checking your browser before accessing the site.</h1>
<p>This process is automatic. Your browser will redirect to your requested content shortly.</p>
<noscript>Please enable JavaScript and cookies to continue.</noscript>
<form id="challenge-form" action="/cdn-cgi/l/chk_jschl" method="get"></form>
</div></body></html>
"""

_OVERSIZED_BYTES = 1_300_000

# A 1x1 transparent GIF for every og:image and logo, so image links do not 404.
GIF = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c000000000100"
                    "01000002024401003b")


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


def _aware(iso: str) -> datetime:
    value = datetime.fromisoformat(iso)
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # a bare day


def _http_date(iso: str) -> str:
    value = datetime.fromisoformat(iso)
    value = value if value.tzinfo else value.replace(tzinfo=UTC)  # a bare day
    return format_datetime(value.astimezone(UTC), usegmt=True)


# --------------------------------------------------------------------------- pages


class Pages:
    """The newsroom's pages at one base URL: :meth:`routes` maps each path to a function of
    the edition that answers it; :meth:`page` renders one template as a whole page."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _ctx(self, edition: int, story: Story | None = None) -> dict[str, Any]:
        base = self.base_url
        ctx: dict[str, Any] = {"base": base, "netloc": base.split(":", 1)[1],
                               "edition": edition}
        for s in STORY_SPECS:
            ctx[f"url_{s.key}"] = base + s.path
            ctx[f"title_{s.key}"] = s.title_for(edition)
            ctx[f"date_{s.key}"] = _fmt_date(s.published_at, s.date_format)
        if story is not None:
            published = _aware(story.published_for(edition))
            modified = datetime.fromisoformat(story.modified_for(edition))
            ctx.update(
                title=story.title_for(edition),
                canonical=base + story.path,
                short_url=base + story.short if story.short else "",
                amp_url=base + story.amp if story.amp else "",
                published=story.published_for(edition),
                day_url=f"{base}{story.path.rsplit('/', 1)[0]}/",
                body_html="\n".join(f"<p>{html.escape(story.fill(p, edition))}</p>"
                                     for p in story.paragraphs),
                modified=story.modified_for(edition),
                date_display=_fmt_date(published, story.date_format),
                modified_display=_fmt_date(modified, story.date_format),
                unixtime=int(published.timestamp()),
                summary=story.summary_for(edition),
                keywords=", ".join(story.tags),
            )
        return ctx

    def page(self, status: int, template: str, edition: int, charset: str = "utf-8",
             headers: tuple[tuple[str, str], ...] = ()) -> Response:
        """Template ``site/<template>`` rendered for ``edition`` and sent with ``status``."""
        return html_response(status, render(template, self._ctx(edition)), charset, headers=headers)

    def _article(self, story: Story, edition: int, template: str | None = None) -> Response:
        if edition == 2 and story.removed_e2 is not None:
            return self._removed(story, edition)
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
        resp = html_response(200, text, story.charset, story.charset_in_header, tuple(headers))
        return Response(resp.status, resp.body, resp.headers, chunked=story.chunked,
                        slow=story.slow)

    def _removed(self, story: Story, edition: int) -> Response:
        """A story taken down in edition 2, as its ``removed_e2`` says."""
        if story.removed_e2 == "gone":
            return self.page(410, "errors/410.html", edition)
        if story.removed_e2 == "redirect":
            section = "/northwind/military/" if story.source == "northwind" else "/anatolia/world/"
            return redirect(302, self.base_url + section)
        return self.page(200, "errors/removed.html", edition)

    def routes(self) -> dict[str, Callable[[int], Response]]:
        """Every path the site answers, each with the function of the edition answering it."""
        base = self.base_url
        page = self.page
        routes: dict[str, Callable[[int], Response]] = {
            "/robots.txt": lambda ed: Response(
                200, render("robots.txt", self._ctx(ed)).encode(),
                (("Content-Type", "text/plain; charset=utf-8"),)),
            "/": functools.partial(page, 200, "index.html"),
            "/northwind/": functools.partial(page, 200, "northwind/index.html"),
            "/northwind/military/": functools.partial(page, 200, "northwind/military.html"),
            "/northwind/ru/oborona/": functools.partial(page, 200, "northwind/ru/oborona.html",
                                                        charset="windows-1251"),
            "/northwind/docs/community-standards.html": functools.partial(
                page, 200, "northwind/community-standards.html"),
            "/northwind/static/main.css": lambda ed: Response(
                200, _template("northwind/main.css").encode(),
                (("Content-Type", "text/css; charset=utf-8"),)),
            "/northwind/static/fonts.css": lambda ed: Response(
                200, _template("northwind/fonts.css").encode(),
                (("Content-Type", "text/css"),)),  # no charset: as many CDNs send CSS
            "/northwind/static/fonts/headline.ttf": lambda ed: _asset(assets.font(), "font/ttf"),
            "/northwind/static/app.js": lambda ed: _asset(assets.app_js(),
                                                          "application/javascript"),
            "/northwind/img/masthead.png": lambda ed: _asset(assets.masthead(), "image/png"),
            "/northwind/rss.xml": functools.partial(feeds.rss, base),
            "/northwind/sitemap_index.xml": functools.partial(feeds.sitemap_index, base),
            "/northwind/sitemap_news.xml": functools.partial(feeds.news_sitemap, base),
            "/northwind/sitemap_pages.xml": functools.partial(feeds.pages_sitemap, base),
            "/northwind/2021/03/02/deleted-story.html": functools.partial(
                page, 404, "errors/404.html"),
            "/northwind/2021/04/12/minister-interview.html": functools.partial(
                page, 500, "errors/500.html"),
            "/northwind/2021/04/13/ceasefire-talks.html": functools.partial(
                page, 503, "errors/503.html", headers=(("Retry-After", "120"),)),
            "/northwind/2021/05/05/moved-story.html": lambda ed: redirect(301, base + "/loop/a"),
            "/loop/a": lambda ed: redirect(302, "/loop/b"),
            "/loop/b": lambda ed: redirect(302, "/loop/a"),
            "/northwind/2021/07/07/corrupted.html": lambda ed: _junk(),
            "/northwind/2021/08/08/live-blog.html": lambda ed: _oversized(),
            ROBOTS_DISALLOWED[0]: functools.partial(page, 200, "northwind/private-annex.html"),
            "/anatolia/static/site.css": lambda ed: Response(
                200, _template("anatolia/site.css").encode(),
                (("Content-Type", "text/css; charset=utf-8"),)),
            "/anatolia/": functools.partial(page, 200, "anatolia/index.html"),
            "/anatolia/world/": functools.partial(page, 200, "anatolia/world.html"),
            "/anatolia/atom.xml": functools.partial(feeds.atom, base),
            "/anatolia/broken.xml": lambda ed: Response(
                200, render("anatolia/broken.xml", self._ctx(ed)).encode(),
                (("Content-Type", "application/atom+xml; charset=utf-8"),)),
            "/anatolia/tr/dunya/kaldirilan-haber/2061111": functools.partial(
                page, 410, "errors/410.html"),
            ROBOTS_DISALLOWED[1]: functools.partial(page, 200, "anatolia/taslak.html"),
            CHALLENGE_PATH: lambda ed: html_response(200, _CHALLENGE_HTML),
        }
        for width in assets.PHOTO_WIDTHS:
            routes[f"/northwind/img/photo-{width}.png"] = functools.partial(
                _asset_of, assets.photo, width, "image/png")
        for slug in TAGS:
            routes[f"/northwind/tags/{slug}/"] = functools.partial(self._tag, slug)
        days: dict[str, list[Story]] = {}
        for story in stories_of("northwind"):
            days.setdefault(story.path.rsplit("/", 1)[0] + "/", []).append(story)
        for day, stories in days.items():
            routes[day] = functools.partial(self._day, tuple(stories))
        for story in STORY_SPECS:
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

    def _list_items(self, stories: tuple[Story, ...] | list[Story], edition: int) -> str:
        base = self.base_url
        return "\n".join(
            f'  <li class="list__item"><a class="list__title" href="{html.escape(base + s.path)}">'
            f"{html.escape(s.title_for(edition))}</a> "
            f'<span class="list__date">'
            f"{_fmt_date(s.published_at, s.date_format)}</span></li>"
            for s in stories)

    def _tag(self, slug: str, edition: int) -> Response:
        name, description, keys = TAGS[slug]
        stories = [s for s in stories_of("northwind") if s.key in keys]
        ctx = self._ctx(edition) | {"tag_name": name, "tag_description": description,
                                    "tag_items": self._list_items(stories, edition)}
        return html_response(200, render("northwind/tag.html", ctx))

    def _day(self, stories: tuple[Story, ...], edition: int) -> Response:
        day = stories[0].published_at
        ctx = self._ctx(edition) | {"day_title": _fmt_date(day, "%d %B %Y"),
                                    "day_items": self._list_items(stories, edition)}
        return html_response(200, render("northwind/day.html", ctx))


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


def _asset(body: bytes, content_type: str) -> Response:
    # Long-cached with an ETag, as static files are served; gzip only where it pays.
    return Response(200, body, (("Content-Type", content_type),
                                ("Cache-Control", "public, max-age=31536000"),
                                ("ETag", f'"{zlib.crc32(body):08x}"')),
                    gzip=content_type.startswith(("font/", "application/javascript")))


def _asset_of(make: Callable[[int], bytes], width: int, content_type: str,
              edition: int) -> Response:
    return _asset(make(width), content_type)


def _static_redirect(status: int, location: str, edition: int) -> Response:
    return redirect(status, location)


@functools.cache
def _junk() -> Response:
    # A gzip member served raw as text/html: what a misconfigured cache sometimes sends.
    body = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + random.Random(400).randbytes(48 * 1024)
    return Response(200, body, (("Content-Type", "text/html; charset=utf-8"),))


@functools.cache
def _oversized() -> Response:
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
    return Response(200, text.encode(), (("Content-Type", "text/html; charset=utf-8"),))


