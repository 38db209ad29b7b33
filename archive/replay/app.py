"""The replay server: archived captures on an origin of their own.

``create_replay_app(data_dir)`` is a Starlette app serving the URL scheme of
:mod:`archive.replay.rules` from ``<data>/archive.db`` and ``<data>/warcs``. It is meant to run on
its own port (``mediawatch serve --replay-port``), never on the interface's origin, so that
archived content shares no cookies, storage or scripts with the interface; the interface
frames these pages under a banner it owns. This app only ever answers from the archive: a
URL that was never captured is a 404 page here, never a request to the live web.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz
from typing import TYPE_CHECKING

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route

from archive.replay.lookup import ReplayStore
from archive.replay.rewrite import render_capture
from archive.replay.rules import (
    PREFIX,
    RAW_MODIFIER,
    Capture,
    content_security_policy,
    format_timestamp,
    parse_timestamp,
    replay_path,
    split_replay_target,
    timemap,
)
from archive.warc.payload import DEFAULT_MAX_PAYLOAD
from archive.web.hosts import HostGuard

if TYPE_CHECKING:
    from pathlib import Path

    from starlette.requests import Request

_TEMPLATES = {
    "banner.html": """<header class="banner" role="banner" style="border-bottom:1px solid #888;
padding:.5em 0;margin-bottom:1em">
<strong>mediawatch archive</strong> · {{ heading }}
<nav>{% if back %}<a href="{{ back }}">&larr; {{ back_label }}</a> · {% endif %}
{% for label, href in links -%}
<a href="{{ href }}">{{ label }}</a>{{ " · " if not loop.last }}
{%- endfor %}</nav>
<small>Served from the archive only: nothing is fetched from the live web.</small>
</header>
""",
    "list.html": """<!doctype html>
<html><head><meta charset="utf-8"><title>Captures of {{ url }}</title></head>
<body>{% include "banner.html" %}<h1>Captures of {{ url }}</h1>
{% if captures %}<p>{{ captures|length }} capture{{ "s" if captures|length != 1 }},
{{ captures[0].when }} to {{ captures[-1].when }} (UTC).</p>
<table><thead><tr><th>time (UTC)</th><th>status</th><th>payload digest</th><th>record</th>
<th>URL</th><th>original</th>{% if back %}<th>with banner</th>{% endif %}</tr></thead>
<tbody>{% for c in captures %}<tr>
<td><a href="{{ c.path }}">{{ c.when }}</a></td>
<td>{{ c.status }}{{ " (revisit)" if c.revisit }}</td>
<td><code>{{ c.digest or "" }}</code></td><td><code>{{ c.record }}</code></td>
<td>{{ c.url }}</td><td><a href="{{ c.raw_path }}">id_</a></td>
{% if back %}<td><a href="{{ c.frame }}">view</a></td>{% endif %}</tr>
{% endfor %}</tbody></table>
{% else %}<p>This URL is not in the archive.</p>{% endif %}
</body></html>
""",
    "prefix.html": """<!doctype html>
<html><head><meta charset="utf-8"><title>Captured URLs under {{ prefix }}</title></head>
<body>{% include "banner.html" %}<h1>Captured URLs under {{ prefix }}</h1>
{% if urls %}<p>{{ urls|length }} URL{{ "s" if urls|length != 1 }}{% if truncated %}
(the first {{ urls|length }}; narrow the prefix for more){% endif %}.</p>
<table><thead><tr><th>URL</th><th>captures</th><th>first (UTC)</th><th>last (UTC)</th></tr>
</thead><tbody>{% for u in urls %}<tr>
<td><a href="{{ u.list_path }}">{{ u.url }}</a></td><td>{{ u.captures }}</td>
<td><a href="{{ u.first_path }}">{{ u.first }}</a></td>
<td><a href="{{ u.last_path }}">{{ u.last }}</a></td></tr>
{% endfor %}</tbody></table>
{% else %}<p>No captured URL starts with {{ prefix }}.</p>{% endif %}
</body></html>
""",
    "missing.html": """<!doctype html>
<html><head><meta charset="utf-8"><title>Not in the archive</title></head>
<body><h1>Not in the archive</h1>
<p>{{ url }}{% if ts %} (asked for {{ ts }}){% endif %} was never captured{{ reason }}.
The live web is not consulted.</p>
<p><a href="{{ list_path }}">All captures of this URL</a></p>
</body></html>
""",
}
_ENV = Environment(loader=DictLoader(_TEMPLATES), autoescape=select_autoescape(default=True))
_LATEST = datetime(9999, 12, 31, tzinfo=UTC)


def _origin(request: Request) -> str:
    # The Host was checked by HostGuard (an allowed name, host[:port] syntax only), so the
    # origin written into the CSP and the Memento links can carry no directive of its own.
    return f"{request.url.scheme}://{request.url.netloc}"


def accept_datetime(value: str) -> datetime:
    """An ``Accept-Datetime`` (RFC 1123 date) as UTC. A valid date whose offset moves it
    past year 9999 or before year 1 is clamped there (it still asks for the latest or the
    earliest capture). Raises ValueError for anything that is not a date."""
    parts = parsedate_tz(value)
    if parts is None:
        raise ValueError(f"not an HTTP date: {value[:60]!r}")
    naive = datetime(*parts[:6])  # ValueError for day 32, month 13...
    offset = parts[9] or 0
    try:
        return (naive - timedelta(seconds=offset)).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.max if offset < 0 else datetime.min).replace(tzinfo=UTC)


def _target(request: Request) -> str:
    """The part of the raw (still percent-encoded) path after ``/replay/``: decoding it
    would turn an archived ``%2F`` or ``%20`` into another URL."""
    raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    path = raw.decode("latin-1")
    cut = path.find(PREFIX)
    return path[cut + len(PREFIX):] if cut >= 0 else path


def _send(status: int, headers: list[tuple[str, str]] | tuple[tuple[str, str], ...],
          body: bytes) -> Response:
    response = Response(body, status_code=status)
    # Starlette's headers argument is a mapping; repeated archived headers need raw pairs.
    # CR/LF in a stored value must not split the header (response splitting).
    response.raw_headers = [
        (name.lower().encode("latin-1", "replace"),
         value.replace("\r", " ").replace("\n", " ").encode("latin-1", "replace"))
        for name, value in headers
    ]
    return response


def _page(template: str, status: int, origin: str, **values: object) -> Response:
    body = _ENV.get_template(template).render(**values).encode("utf-8")
    return _send(status, [("Content-Type", "text/html; charset=utf-8"),
                          ("Content-Length", str(len(body))),
                          ("Content-Security-Policy", content_security_policy(origin)),
                          ("X-Content-Type-Options", "nosniff")], body)


#: The most URLs a URL-prefix listing shows.
PREFIX_LIMIT = 1000


def create_replay_app(data_dir: Path, *, hosts: frozenset[str] | None = None,
                      max_payload: int = DEFAULT_MAX_PAYLOAD,
                      ui_origin: str | None = None) -> Starlette:
    """The replay app over ``<data_dir>/archive.db`` and ``<data_dir>/warcs`` (read only).

    Routes: ``/replay/<ts>/<url>``, ``/replay/<ts>id_/<url>``, ``/replay/*/<url>`` (the
    capture list), ``/replay/*/<url prefix>*`` (the captured URLs under a prefix),
    ``/replay/timemap/link/<url>`` and the TimeGate ``/replay/<url>``. ``hosts`` are the
    Host names answered (:func:`archive.web.hosts.allowed_hosts`; None: any well-formed
    name, for tests); others get a 421, so the CSP never names an arbitrary origin.
    ``max_payload`` (``[crawl] max_page_size``) bounds every payload it decodes.
    ``ui_origin``, the web interface's origin when one runs beside it: the listings link
    back to it (the article, or the search page) and to each capture under its banner.
    """
    store = ReplayStore(data_dir, max_payload)

    def banner(heading: str, url: str | None, links: list[tuple[str, str]]
               ) -> dict[str, object]:
        back = back_label = None
        if ui_origin:
            aid = store.article_id(url) if url else None
            back = f"{ui_origin}/articles/{aid}" if aid else f"{ui_origin}/"
            back_label = "the article in mediawatch" if aid else "mediawatch search"
        return {"heading": heading, "back": back, "back_label": back_label, "links": links}

    def when(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def missing(origin: str, url: str, ts: str = "", reason: str = "") -> Response:
        return _page("missing.html", 404, origin, url=url, ts=ts, reason=reason,
                     list_path=f"{PREFIX}*/{url}")

    def capture_list(request: Request, url: str) -> Response:
        captures = sorted(store.captures(url), key=lambda c: (c.fetched_at, c.offset))
        rows = [{"path": replay_path(c.url, c.timestamp),
                 "raw_path": replay_path(c.url, c.timestamp, RAW_MODIFIER),
                 "frame": f"{ui_origin}/replay-frame/{c.timestamp}/{c.url}",
                 "when": when(c.fetched_at), "status": c.status, "digest": c.digest,
                 "record": f"{c.warc_file}@{c.offset}", "url": c.url, "revisit": c.revisit}
                for c in captures]
        parent = url[:url.rfind("/") + 1] if url.count("/") > 2 else url.rstrip("/") + "/"
        links = [("latest capture", str(rows[-1]["path"]))] if rows else []
        links.append((f"every captured URL under {parent}", f"{PREFIX}*/{parent}*"))
        return _page("list.html", 200 if rows else 404, _origin(request), url=url,
                     captures=rows, **banner(f"captures of {url}", url, links))

    def prefix_list(request: Request, prefix: str) -> Response:
        found = store.urls_with_prefix(prefix, PREFIX_LIMIT + 1)
        urls = [{"url": u.url, "captures": u.captures, "list_path": f"{PREFIX}*/{u.url}",
                 "first": when(u.first), "last": when(u.last),
                 "first_path": replay_path(u.url, format_timestamp(u.first)),
                 "last_path": replay_path(u.url, format_timestamp(u.last))}
                for u in found[:PREFIX_LIMIT]]
        return _page("prefix.html", 200 if urls else 404, _origin(request), prefix=prefix,
                     urls=urls, truncated=len(found) > PREFIX_LIMIT,
                     **banner(f"URLs under {prefix}", None, []))

    def timemap_response(request: Request, url: str) -> Response:
        captures = store.captures(url)
        if not captures:
            return missing(_origin(request), url)
        body = timemap(url, captures, _origin(request)).encode("utf-8")
        return _send(200, [("Content-Type", "application/link-format"),
                           ("Content-Length", str(len(body)))], body)

    def timegate(request: Request, url: str) -> Response:
        origin = _origin(request)
        at = _LATEST
        if asked := request.headers.get("accept-datetime"):
            try:
                at = accept_datetime(asked)
            except (TypeError, ValueError, OverflowError):
                return _send(400, [("Content-Type", "text/plain")], b"bad Accept-Datetime\n")
        captures = store.captures(url)
        found = store.lookup(url, at, captures)
        if found is None:
            return missing(origin, url)
        cap: Capture = found.capture
        return _send(302, [("Location", replay_path(cap.url, cap.timestamp)),
                           ("Vary", "accept-datetime"), ("Content-Length", "0"),
                           ("Link", f'<{url}>; rel="original", <{origin}{PREFIX}timemap/link/'
                                    f'{url}>; rel="timemap"; type="application/link-format"')],
                     b"")

    def replay(request: Request) -> Response:
        target = _target(request)
        query = request.url.query
        head, _, rest = target.partition("/")
        if target.startswith("timemap/link/"):
            return timemap_response(request, split_replay_target(
                target.removeprefix("timemap/link/"), query))
        if head == "*":
            listed = split_replay_target(rest, query)
            if listed.endswith("*"):  # pywb's URL-prefix query
                return prefix_list(request, listed[:-1])
            return capture_list(request, listed)
        ts, raw = head, False
        if ts.endswith("_"):
            # id_ is the original; other pywb modifiers (mp_, im_, js_, cs_...) replay as usual.
            raw = ts.endswith(RAW_MODIFIER)
            ts = ts[:-3]
        if not ts.isdigit() or not rest:
            return timegate(request, split_replay_target(target, query))
        url = split_replay_target(rest, query)
        try:
            at = parse_timestamp(ts)
        except ValueError:
            return missing(_origin(request), url, ts, reason=" (bad timestamp)")
        found = store.lookup(url, at)
        if found is None:
            return missing(_origin(request), url, ts)
        out = render_capture(found.stored.captured, _origin(request), raw=raw)
        return _send(out.status, out.headers, out.body)

    def index(request: Request) -> Response:
        body = (b"mediawatch replay: /replay/<YYYYmmddHHMMSS>/<url>, /replay/*/<url>, "
                b"/replay/timemap/link/<url>\n")
        return _send(200, [("Content-Type", "text/plain; charset=utf-8"),
                           ("Content-Length", str(len(body)))], body)

    return Starlette(routes=[
        Route("/", index),
        Route("/replay/{rest:path}", replay, methods=["GET", "HEAD"]),
    ], middleware=[Middleware(HostGuard, hosts=hosts)])


__all__ = ["create_replay_app"]
