"""Rewriting of archived HTML and CSS for replay, and the rendering of a capture as a replayed
response.

Every URL in a replayed page (links, images, ``srcset``, stylesheets, scripts, frames, media,
forms, ``meta refresh``, ``base href``, ``style`` blocks and attributes, CSS ``url()`` and
``@import``) is made absolute and pointed back into the archive with
:func:`~archive.replay.rules.rewrite_url`; attributes that would fetch or verify against the
live site (``integrity``, ``crossorigin``, ``nonce``, ``ping``) are dropped. Pure: text in,
text out, no I/O. Which capture answers and which headers it may carry are the rules of
:mod:`archive.replay.rules`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import lxml.html
from lxml import etree

from archive.replay.rules import format_timestamp, replay_headers, rewrite_url

if TYPE_CHECKING:
    from archive.models import CapturedResponse


def rewrite_srcset(value: str, base: str, ts: str) -> str:
    """``srcset``: each candidate URL rewritten, its width / density descriptor kept."""
    out = []
    # Candidates are separated by commas followed by whitespace; a URL may contain commas.
    for candidate in re.split(r",\s+|,(?=\s*$)", value.strip()):
        parts = candidate.strip().split(None, 1)
        if not parts:
            continue
        url = rewrite_url(parts[0].rstrip(","), base, ts)
        out.append(" ".join([url, *parts[1:]]))
    return ", ".join(out)


_CSS_URL = re.compile(r"""url\(\s*(?P<q>['"]?)(?P<url>.*?)(?P=q)\s*\)""", re.IGNORECASE | re.DOTALL)


_CSS_IMPORT = re.compile(r"""@import\s+(?P<q>['"])(?P<url>[^'"]+)(?P=q)""", re.IGNORECASE)


def rewrite_css(text: str, base: str, ts: str) -> str:
    """``url(...)`` and ``@import "..."`` in a stylesheet or a style attribute."""
    def _url(m: re.Match[str]) -> str:
        q = m.group("q")
        return f"url({q}{rewrite_url(m.group('url'), base, ts)}{q})"

    def _import(m: re.Match[str]) -> str:
        q = m.group("q")
        return f"@import {q}{rewrite_url(m.group('url'), base, ts)}{q}"

    return _CSS_IMPORT.sub(_import, _CSS_URL.sub(_url, text))


_META_REFRESH = re.compile(r"^(?P<delay>\s*\d*\.?\d*\s*[;,]?\s*)(?:url\s*=\s*)?(?P<q>['\"]?)"
                           r"(?P<url>.*?)(?P=q)\s*$", re.IGNORECASE | re.DOTALL)


def rewrite_refresh(value: str, base: str, ts: str) -> str:
    """``<meta http-equiv=refresh content="5; url=...">`` (and the Refresh header)."""
    m = _META_REFRESH.match(value)
    if not m or not m.group("url"):
        return value
    delay = m.group("delay").strip().rstrip(";,").strip() or "0"
    return f"{delay}; url={rewrite_url(m.group('url'), base, ts)}"


SRCSET_ELEMENTS = ("img", "source")


# Removed: they would stop a rewritten subresource from loading (its bytes are unchanged,
# but integrity checks are made on what the browser fetched from the live URL's origin)
# or re-enable cross-origin behaviour.
_DROP_ATTRIBUTES = ("integrity", "crossorigin", "nonce", "ping")


_DOCTYPE = re.compile(r"^\ufeff?\s*(<!doctype[^>]*>)", re.IGNORECASE)


def rewrite_html(html: str, url: str, ts: str) -> str:
    """Archived HTML with every URL pointing back into the archive at ``ts``.

    ``url`` is the capture's URL; a ``<base href>`` changes the base for the rest of the
    document, as in a browser, and is itself rewritten. Covers the attributes of
    :data:`URL_ATTRIBUTES`, ``srcset``, ``<meta http-equiv=refresh>``, ``<style>`` blocks
    and ``style`` attributes. Script bodies are left as they are: they never run here.
    """
    if not html.strip():
        return html
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return html
    base = url
    for el in doc.iter("base"):
        href = el.get("href")
        if href:
            base = urljoin(url, href.strip())
            break
    for el in doc.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag:
            continue
        tag = tag.lower()
        for attr in URL_ATTRIBUTES.get(tag, ()):
            value = el.get(attr)
            if value is not None:
                # base href resolves against the page URL, everything else against base.
                el.set(attr, rewrite_url(value, url if tag == "base" else base, ts))
        if tag in SRCSET_ELEMENTS:
            for attr in ("srcset", "data-srcset"):
                if el.get(attr):
                    el.set(attr, rewrite_srcset(el.get(attr, ""), base, ts))
        for attr in _DROP_ATTRIBUTES:
            if attr in el.attrib:
                del el.attrib[attr]
        style = el.get("style")
        if style and "url" in style.lower():
            el.set("style", rewrite_css(style, base, ts))
        if tag == "style" and el.text:
            el.text = rewrite_css(el.text, base, ts)
        elif tag == "meta" and (el.get("http-equiv") or "").lower() == "refresh":
            el.set("content", rewrite_refresh(el.get("content") or "", base, ts))
        elif tag == "meta" and el.get("charset"):
            el.set("charset", "utf-8")  # the rewritten page is sent as UTF-8
        elif tag == "meta" and (el.get("http-equiv") or "").lower() == "content-type":
            el.set("content", "text/html; charset=utf-8")
    body = lxml.html.tostring(doc, encoding="unicode", method="html")
    # Only the page's own doctype: lxml's default one would move a quirks-mode page to
    # another rendering mode.
    doctype = _DOCTYPE.match(html)
    return f"{doctype.group(1)}\n{body}" if doctype else body


def is_html(content_type: str) -> bool:
    """A media type the HTML rewriter handles."""
    return content_type in ("text/html", "application/xhtml+xml")


def is_text(content_type: str) -> bool:
    """A media type printed as text by ``mediawatch replay``."""
    return (content_type.startswith("text/") or content_type.endswith(("+xml", "+json"))
            or content_type in ("application/json", "application/xml",
                                "application/javascript", "application/x-javascript"))


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*['"]?\s*([A-Za-z0-9_.:-]+)""",
                           re.IGNORECASE)


def decode_text(body: bytes, charset: str | None) -> str:
    """Text of an archived body: the HTTP charset, else a ``<meta charset>`` in the first
    2 KB, else UTF-8; bytes that do not decode are replaced, never an error."""
    candidates = [charset] if charset else []
    if m := _META_CHARSET.search(body[:2048]):
        candidates.append(m.group(1).decode("ascii"))
    candidates.append("utf-8")
    for name in candidates:
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


@dataclass(frozen=True, slots=True)
class ReplayResponse:
    """What the replay server sends for one capture."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def render_capture(captured: CapturedResponse, origin: str, *, raw: bool = False
                   ) -> ReplayResponse:
    """A stored response as replayed on ``origin``: HTML and CSS rewritten into the archive
    (re-encoded as UTF-8), any other body as stored; headers by :func:`replay_headers`.

    Raw (``id_``) mode sends the payload as stored, without Content-Encoding (the archive
    keeps the decoded payload; a browser must not decode it twice). A capture without an
    HTTP status line (some tools' records) is served as 200.
    """
    ts = format_timestamp(captured.fetched_at)
    ctype = captured.content_type
    body = captured.body
    content_type = captured.header("Content-Type")
    if not raw and is_html(ctype):
        text = decode_text(body, captured.charset)
        body = rewrite_html(text, captured.url, ts).encode("utf-8")
        content_type = f"{ctype}; charset=utf-8"
    elif not raw and ctype == "text/css":
        text = decode_text(body, captured.charset)
        body = rewrite_css(text, captured.url, ts).encode("utf-8")
        content_type = "text/css; charset=utf-8"
    status = captured.status if 200 <= captured.status <= 599 else 200
    if status in (204, 304) or 100 <= status < 200:
        body = b""
    headers = replay_headers(captured.headers, url=captured.url,
                             fetched_at=captured.fetched_at, origin=origin, ts=ts,
                             content_type=content_type, content_length=len(body), raw=raw)
    return ReplayResponse(status, tuple(headers), body)


def response_head(protocol: str, status: int, reason: str,
                  headers: Iterable[tuple[str, str]]) -> str:
    """The status line and headers of a stored response as text (``mediawatch replay``)."""
    lines = [f"{protocol or 'HTTP/1.1'} {status} {reason}".rstrip()]
    lines += [f"{name}: {value}" for name, value in headers]
    return "\n".join(lines) + "\n"


# Attributes holding one URL, by element ('*': any element).
URL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "a": ("href",), "area": ("href",), "link": ("href",), "base": ("href",),
    "img": ("src", "longdesc", "lowsrc", "data-src"), "script": ("src",),
    "iframe": ("src", "longdesc"), "frame": ("src", "longdesc"), "embed": ("src",),
    "source": ("src",), "audio": ("src",), "video": ("src", "poster"), "track": ("src",),
    "input": ("src", "formaction"), "button": ("formaction",), "form": ("action",),
    "object": ("data", "codebase"), "applet": ("codebase",), "body": ("background",),
    "table": ("background",), "td": ("background",), "th": ("background",),
    "blockquote": ("cite",), "q": ("cite",), "del": ("cite",), "ins": ("cite",),
    "image": ("href", "{http://www.w3.org/1999/xlink}href"), "use": ("href",),
}

