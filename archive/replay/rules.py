"""Replay of stored captures: the pure rules (no I/O, no clock).

Which capture answers a request, what a revisit record stands for, which headers a replayed
response may carry, and where a URL points inside the archive (:func:`rewrite_url`; the
rewriting of whole HTML and CSS documents is :mod:`archive.replay.rewrite`).

URL scheme (the one pywb and the Wayback Machine use)::

    /replay/<YYYYmmddHHMMSS>/<url>     the capture nearest that time, rewritten
    /replay/<YYYYmmddHHMMSS>id_/<url>  the same capture's payload and headers, not rewritten
    /replay/*/<url>                    every capture of the URL
    /replay/timemap/link/<url>         the Memento TimeMap (application/link-format)
    /replay/<url>                      the Memento TimeGate (latest, or Accept-Datetime)

Safety rules, applied to every replayed response: archived ``Set-Cookie`` is never passed on
(not even renamed: a cookie is not evidence of what a page said); hop-by-hop and security
headers of the archived site are kept only as ``X-Archive-Orig-*``; every response carries
:func:`content_security_policy`: ``sandbox`` (no script runs, the page gets an opaque
origin so it cannot read or set cookies) and ``default-src`` limited to the replay origin, so
a URL the rewriter missed is blocked by the browser instead of reaching the live web.

Raw (``id_``) responses are sent as ``Content-Disposition: attachment``: a browser saves the
bytes and never renders them. The CSP cannot hold raw HTML in: Chromium opens a TCP
connection (DNS lookup, TLS handshake) for ``<link rel=preconnect|dns-prefetch>``, and before
the CSP check for an ``<iframe src>`` or a preload, to any host the page names, which tells
that host the reader's address and that the capture is being looked at. Stripping the
hints would mean knowing every hint a browser has or will have (``modulepreload``,
``Link`` headers, speculation rules...), and would change the bytes that ``id_`` exists to
give as stored. pywb and the Wayback Machine serve ``id_`` inline because their readers
browse with it; here ``id_`` is the evidence copy (hashing, hand-over, ``curl``/``wget``,
which ignore the disposition), and reading a page is the rewritten, sandboxed mode.
The original ``Content-Disposition``, if any, is kept as ``X-Archive-Orig-Content-Disposition``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from archive.times import parse_utc

PREFIX = "/replay/"


RAW_MODIFIER = "id_"


_TS_FORMAT = "%Y%m%d%H%M%S"


@dataclass(frozen=True, slots=True)
class Capture:
    """One row of the ``captures`` index, as replay needs it."""

    warc_file: str
    offset: int
    length: int
    url: str
    status: int
    fetched_at: datetime
    digest: str | None = None
    record_id: str | None = None
    revisit: str | None = None
    refers_to: str | None = None

    @property
    def timestamp(self) -> str:
        """The 14-digit timestamp of this capture (its replay URL's time)."""
        return format_timestamp(self.fetched_at)


def parse_timestamp(ts: str) -> datetime:
    """A 1 to 14 digit timestamp as UTC; missing digits count from the start of the period
    (``2024`` is 2024-01-01 00:00:00), as in the Wayback Machine. Raises ValueError."""
    if not ts.isdigit() or not 1 <= len(ts) <= 14:
        raise ValueError(f"not a timestamp (YYYYmmddHHMMSS): {ts!r}")
    padded = ts + "00000101000000"[len(ts):]
    # A short form like "2024" pads to 20240101000000; "202402" to 20240201000000.
    return datetime.strptime(padded, _TS_FORMAT).replace(tzinfo=UTC)


def format_timestamp(when: datetime) -> str:
    """``YYYYmmddHHMMSS`` in UTC."""
    return when.astimezone(UTC).strftime(_TS_FORMAT)


def http_date(when: datetime) -> str:
    """RFC 7231 date (``Mon, 27 Jan 2014 17:12:38 GMT``), as Memento headers use."""
    return format_datetime(when.astimezone(UTC).replace(microsecond=0), usegmt=True)


def nearest_capture(captures: Iterable[Capture], url: str, at: datetime) -> Capture | None:
    """The capture of ``url`` nearest ``at``.

    ``captures`` are all captures with the same normalized URL. Captures under exactly
    ``url`` are preferred when there are any (normalization folds tracking parameters, which
    the archived site may not have ignored); between two equally near captures the earlier
    one wins, as it is what the page said at that time.
    """
    pool = list(captures)
    exact = [c for c in pool if c.url == url]
    pool = exact or pool
    if not pool:
        return None
    return min(pool, key=lambda c: (abs((c.fetched_at - at).total_seconds()),
                                    c.fetched_at, c.offset))


def ordered_by_nearness(captures: Iterable[Capture], url: str, at: datetime) -> list[Capture]:
    """Every capture, nearest first in the order :func:`nearest_capture` prefers: replay falls
    back to the next one when a capture cannot be read or its revisit cannot be resolved."""
    pool = list(captures)
    return sorted(pool, key=lambda c: (c.url != url, abs((c.fetched_at - at).total_seconds()),
                                       c.fetched_at, c.offset))


def resolve_revisit(revisit: Capture, candidates: Iterable[Capture], *,
                    refers_to_uri: str | None = None,
                    refers_to_date: datetime | None = None,
                    not_modified: bool = False) -> Capture | None:
    """The full capture a revisit record repeats, or None.

    By record id (``WARC-Refers-To``) first; else a capture of the same URL (the record's
    ``WARC-Refers-To-Target-URI`` when it names one, as URL-agnostic revisits do) with the
    same payload digest, the one nearest ``WARC-Refers-To-Date`` (or the revisit's own date),
    earlier captures preferred. A server-not-modified revisit often has no digest: then the
    latest full capture of the same URL before it.
    """
    pool = [c for c in candidates if c.revisit is None]
    if revisit.refers_to:
        for c in pool:
            if c.record_id == revisit.refers_to:
                return c
    target = refers_to_uri or revisit.url
    when = refers_to_date or revisit.fetched_at
    same_url = [c for c in pool if c.url == target]
    matches = [c for c in same_url if revisit.digest and c.digest == revisit.digest]
    if not matches and not_modified:
        matches = [c for c in same_url if c.fetched_at <= revisit.fetched_at]
    if not matches:
        return None
    return min(matches, key=lambda c: (c.fetched_at > when,
                                       abs((c.fetched_at - when).total_seconds())))


def replay_path(url: str, ts: str, modifier: str = "") -> str:
    """The path (on the replay origin) replaying ``url`` at ``ts``."""
    return f"{PREFIX}{ts}{modifier}/{url}"


def prefix_bounds(prefix: str) -> tuple[str, str | None]:
    """``(low, high)`` such that exactly the strings starting with ``prefix`` sort in
    ``[low, high)`` (SQLite's binary text order; ``high`` None: no upper bound, for an empty
    prefix or one of only U+10FFFF): a URL-prefix listing is one index range."""
    stem = prefix.rstrip("\U0010ffff")  # nothing sorts above it: carry into the one before
    if not stem:
        return prefix, None
    return prefix, stem[:-1] + chr(ord(stem[-1]) + 1)


def split_replay_target(path: str, query: str = "") -> str:
    """The archived URL from the part of a replay path after the timestamp.

    Restores what HTTP servers and proxies do to an absolute URL in a path (``http:/x`` with
    one slash after merging) and adds ``http://`` when the scheme is missing.
    """
    url = path
    m = re.match(r"^(https?):/+", url, re.IGNORECASE)
    if m:
        url = f"{m.group(1).lower()}://{url[m.end():]}"
    elif not re.match(r"^[a-z][a-z0-9+.-]*:", url, re.IGNORECASE):
        url = "http://" + url
    if query:
        url += "?" + query
    return url




HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})


COOKIE_HEADERS = frozenset({"set-cookie", "set-cookie2"})


# Policies of the archived site: they would apply to the replay origin (HSTS on 127.0.0.1,
# a CORS grant, a CSP weaker than ours, reporting endpoints on the live web).
SECURITY_HEADERS = frozenset({
    "content-security-policy", "content-security-policy-report-only", "x-content-security-policy",
    "x-webkit-csp", "strict-transport-security", "public-key-pins",
    "public-key-pins-report-only", "x-frame-options", "x-xss-protection",
    "access-control-allow-origin", "access-control-allow-credentials",
    "access-control-allow-headers", "access-control-allow-methods",
    "access-control-expose-headers", "access-control-max-age", "cross-origin-opener-policy",
    "cross-origin-embedder-policy", "cross-origin-resource-policy", "permissions-policy",
    "feature-policy", "report-to", "reporting-endpoints", "nel", "clear-site-data",
    "expect-ct", "origin-agent-cluster", "service-worker-allowed",
})


# Describe a body we no longer send as it was (decoded, rewritten) or would load or go
# elsewhere (Link preloads, Refresh): recomputed or rewritten, originals kept as X-Archive-Orig.
RECOMPUTED = frozenset({"content-type", "content-length", "content-encoding", "content-md5",
                        "content-disposition",
                        "digest", "etag", "location", "link", "refresh", "alt-svc",
                        "content-range", "accept-ranges"})


ORIG_PREFIX = "X-Archive-Orig-"


def content_security_policy(origin: str) -> str:
    """The policy of every replayed response: no script, nothing from outside ``origin``.

    ``sandbox`` without ``allow-scripts`` / ``allow-same-origin`` / ``allow-forms`` stops
    scripts, form submission and cookie access; ``'self'`` is named together with the
    explicit origin because a sandboxed document has an opaque origin of its own. Inline
    styles and ``data:`` images and fonts load nothing from the network, so they stay.
    """
    src = f"'self' {origin}"
    return (f"sandbox; default-src {src}; script-src 'none'; object-src 'none'; "
            f"style-src {src} 'unsafe-inline'; img-src {src} data:; font-src {src} data:; "
            f"form-action 'none'; base-uri {src}")


def memento_headers(url: str, fetched_at: datetime, origin: str) -> list[tuple[str, str]]:
    """``Memento-Datetime`` and ``Link`` (original, timegate, timemap), as pywb sends them."""
    return [
        ("Memento-Datetime", http_date(fetched_at)),
        ("Link", f'<{url}>; rel="original", <{origin}{PREFIX}{url}>; rel="timegate", '
                 f'<{origin}{PREFIX}timemap/link/{url}>; rel="timemap"; '
                 'type="application/link-format"'),
    ]


def _title_case(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def replay_headers(original: Sequence[tuple[str, str]], *, url: str, fetched_at: datetime,
                   origin: str, ts: str, content_type: str | None, content_length: int,
                   raw: bool = False) -> list[tuple[str, str]]:
    """Headers of a replayed response.

    Rewritten mode keeps every original header as ``X-Archive-Orig-<Name>`` (repeated
    headers repeated). Raw (``id_``) mode passes the original headers on as they were,
    except the unsafe ones, which are kept as ``X-Archive-Orig-*`` there too. In both modes
    ``Set-Cookie`` is dropped, ``Location`` points into the archive, Content-Type and
    Content-Length describe the body actually sent, and the CSP and Memento headers are
    added; raw mode adds ``Content-Disposition: attachment``.
    """
    out: list[tuple[str, str]] = []
    location = None
    for name, value in original:
        lname = name.lower()
        if lname in COOKIE_HEADERS:
            continue
        if lname == "location" and location is None:
            location = value
        if raw and lname not in HOP_BY_HOP | SECURITY_HEADERS | RECOMPUTED:
            out.append((name, value))
        else:
            out.append((ORIG_PREFIX + _title_case(name), value))
    if location is not None:
        out.append(("Location", rewrite_url(location, url, ts, RAW_MODIFIER if raw else "")))
    if content_type:
        out.append(("Content-Type", content_type))
    out.append(("Content-Length", str(content_length)))
    if raw:  # saved, never rendered: see the module docstring
        out.append(("Content-Disposition", "attachment"))
    if not raw and is_font(content_type, url):
        # A replayed page is sandboxed, so its origin is opaque and every font it loads is
        # a cross-origin CORS request: without this header no web font would ever replay.
        # Fonts only, so no other page can read archived pages or their data this way.
        out.append(("Access-Control-Allow-Origin", "*"))
    out.append(("Content-Security-Policy", content_security_policy(origin)))
    out.append(("X-Content-Type-Options", "nosniff"))
    out.append(("Referrer-Policy", "no-referrer"))
    out.extend(memento_headers(url, fetched_at, origin))
    return out


_FONT_TYPES = ("font/", "application/font", "application/x-font",
               "application/vnd.ms-fontobject")


def is_font(content_type: str | None, url: str) -> bool:
    """Whether a response is a web font: by its type, or by its extension when it was
    served as ``application/octet-stream`` or with no type (as many CDNs do)."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.startswith(_FONT_TYPES):
        return True
    return ctype in ("", "application/octet-stream") and re.search(
        r"\.(woff2?|ttf|otf|eot)$", urlsplit(url).path, re.IGNORECASE) is not None


def timemap(url: str, captures: Sequence[Capture], origin: str) -> str:
    """The Memento TimeMap of ``url`` in application/link-format (RFC 7089), oldest first."""
    lines = [f'<{url}>; rel="original"',
             f'<{origin}{PREFIX}timemap/link/{url}>; rel="self"; type="application/link-format"',
             f'<{origin}{PREFIX}{url}>; rel="timegate"']
    ordered = sorted(captures, key=lambda c: (c.fetched_at, c.offset))
    for i, c in enumerate(ordered):
        rel = "memento"
        if i == 0:
            rel = "first memento"
        if i == len(ordered) - 1:
            rel = "last memento" if i else "first last memento"
        lines.append(f'<{origin}{replay_path(c.url, c.timestamp)}>; rel="{rel}"; '
                     f'datetime="{http_date(c.fetched_at)}"')
    return ",\n".join(lines) + "\n"


def parse_when(value: str) -> datetime:
    """A ``--at`` value: a 1 to 14 digit timestamp or an ISO date / datetime (UTC unless
    it says otherwise). Raises ValueError."""
    if value.isdigit():
        return parse_timestamp(value)
    return parse_utc(value)


_SKIP_SCHEMES = ("data:", "javascript:", "mailto:", "tel:", "about:", "blob:", "#")


@lru_cache(maxsize=65536)
def rewrite_url(value: str, base: str, ts: str, modifier: str = "") -> str:
    """One URL found in archived content, made absolute against ``base`` and pointed into
    the archive. Fragments, ``data:`` and ``javascript:`` and similar are left alone (they
    load nothing; script URLs cannot run under the sandbox); any other scheme becomes an
    in-archive link that answers 404 rather than a live one.

    Cached: pure, and pages of one site repeat the same links (urljoin is most of the cost
    of rewriting a page)."""
    raw = value.strip()
    if not raw or raw.lower().startswith(_SKIP_SCHEMES):
        return value
    if raw.startswith(PREFIX):  # already rewritten (a page saved from a replay)
        return raw
    # urljoin also resolves protocol-relative //host/path against the page's scheme.
    return replay_path(urljoin(base, raw), ts, modifier)

