"""Page requisites: the URLs a browser loads to draw a page, found in its HTML and CSS.

Pure functions over text (no network, no Scrapy): :func:`html_requisites` lists what an
article page needs - stylesheets, images (the ``src`` and the ``srcset`` candidate a desktop
browser would pick, see :func:`pick_srcset`), favicons, scripts, video posters, and what
inline ``<style>`` blocks and ``style`` attributes name; :func:`css_requisites` lists what a
stylesheet needs - ``@import``-ed stylesheets, fonts of ``@font-face`` rules and every other
``url()`` (background images, cursors). The spider requests them (crawler/spiders/source.py)
so that a replayed page looks like the original; scripts are stored, never run.

Only ``http(s)`` URLs come out, resolved against the page (``<base href>`` honoured) or the
stylesheet, fragment removed, each once, in document order. Links a browser does not load
by itself (``<a href>``, ``rel=alternate``, ``rel=canonical``, prefetch hints) are left out.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass
from urllib.parse import urldefrag, urljoin, urlsplit

import lxml.html
from lxml import etree

__all__ = ["DESKTOP_WIDTH", "Requisite", "css_requisites", "html_requisites", "pick_srcset",
           "slot_width"]

#: The viewport a desktop browser is assumed to have when picking from ``srcset``: the
#: common desktop width, at a device pixel ratio of 1 (Playwright's default page is 1280 too).
DESKTOP_WIDTH = 1280
_EM = 16  # px per em/rem: browsers' default font size, what ``sizes`` lengths are read in

_FONT_EXT = re.compile(r"\.(woff2?|ttf|otf|eot)(?:[?#]|$)", re.IGNORECASE)
# url(...) with or without quotes; @import "x" or @import url(x). Comments go first.
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^\s;)'"]+))""",
                         re.IGNORECASE)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.IGNORECASE)
_ICON_RELS = frozenset({"icon", "apple-touch-icon", "apple-touch-icon-precomposed",
                        "mask-icon"})


@dataclass(frozen=True, slots=True)
class Requisite:
    """One resource a page needs: its absolute URL and what it is for the page.

    ``kind`` is ``stylesheet``, ``image``, ``font``, ``icon`` or ``script``; a stylesheet's
    own requisites are found with :func:`css_requisites` once it is fetched.
    """

    url: str
    kind: str


def _absolute(base: str, ref: str | None) -> str | None:
    """``ref`` resolved against ``base``, without fragment; None unless it is http(s)."""
    if not ref:
        return None
    ref = ref.strip()
    if not ref or ref.startswith(("data:", "#", "javascript:", "about:", "blob:")):
        return None
    try:
        url = urldefrag(urljoin(base, ref)).url
    except ValueError:  # a malformed IPv6 host and the like: not loadable either
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def _first(m: re.Match[str]) -> str:
    return next(g for g in m.groups() if g is not None)


def css_requisites(css: str, base_url: str) -> list[Requisite]:
    """What a stylesheet (or a ``style`` attribute or block) at ``base_url`` makes a browser
    load: ``@import`` targets as stylesheets, ``@font-face`` sources (and any URL ending in
    a font extension) as fonts, every other ``url()`` as an image."""
    css = _CSS_COMMENT.sub(" ", css)
    fonts = {m.start() for face in _FONT_FACE.finditer(css)
             for m in _CSS_URL.finditer(css, face.start(), face.end())}
    found: list[Requisite] = []
    imported: set[int] = set()
    for m in _CSS_IMPORT.finditer(css):
        if (url := _absolute(base_url, _first(m))) is not None:
            found.append(Requisite(url, "stylesheet"))
        imported.update(range(m.start(), m.end()))
    for m in _CSS_URL.finditer(css):
        if m.start() in imported:
            continue  # the url() of an @import, already listed as a stylesheet
        if (url := _absolute(base_url, _first(m))) is None:
            continue
        font = m.start() in fonts or _FONT_EXT.search(url) is not None
        found.append(Requisite(url, "font" if font else "image"))
    return _unique(found)


def _length(value: str) -> float | None:
    """A ``sizes`` length in CSS px at :data:`DESKTOP_WIDTH`; None for what is not simple."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(px|vw|em|rem)?\s*", value)
    if m is None:
        return None
    number, unit = float(m.group(1)), m.group(2) or "px"
    if unit == "vw":
        return number * DESKTOP_WIDTH / 100
    return number * _EM if unit in ("em", "rem") else number


def _media_matches(condition: str) -> bool:
    """Simple ``(min-width: X)`` / ``(max-width: X)`` conditions joined by ``and``, at
    :data:`DESKTOP_WIDTH`; anything else does not match (the browser's default applies)."""
    for part in re.split(r"\s+and\s+", condition.strip(), flags=re.IGNORECASE):
        m = re.fullmatch(r"\(\s*(min|max)-width\s*:\s*([^)]+)\)", part.strip(), re.IGNORECASE)
        if m is None or (limit := _length(m.group(2))) is None:
            return False
        if not (limit <= DESKTOP_WIDTH if m.group(1).lower() == "min"
                else limit >= DESKTOP_WIDTH):
            return False
    return True


def slot_width(sizes: str | None) -> float:
    """The width, in CSS px, an image with this ``sizes`` attribute gets on a desktop:
    the first entry whose media condition matches, else the last one; ``100vw`` when
    ``sizes`` is absent or says nothing this function can read."""
    for entry in (sizes or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        m = re.match(r"^(\(.*\))\s+(\S+)$", entry)
        if m is None:
            width = _length(entry)
            return width if width is not None else DESKTOP_WIDTH
        if _media_matches(m.group(1)) and (width := _length(m.group(2))) is not None:
            return width
    return DESKTOP_WIDTH


def _candidates(srcset: str) -> list[tuple[str, str]]:
    """``srcset`` split into (URL, descriptor) pairs as the HTML spec does: a URL runs to
    the next whitespace (trailing commas end it), its descriptor to the next comma."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(srcset)
    while i < n:
        while i < n and (srcset[i].isspace() or srcset[i] == ","):
            i += 1
        start = i
        while i < n and not srcset[i].isspace():
            i += 1
        url = srcset[start:i]
        if not url:
            break
        descriptor = ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            end = srcset.find(",", i)
            end = n if end < 0 else end
            descriptor, i = srcset[i:end].strip(), end + 1
        if url:
            out.append((url, descriptor))
    return out


def pick_srcset(srcset: str, sizes: str | None = None, dpr: float = 1.0) -> str | None:
    """The ``srcset`` candidate a desktop browser (:data:`DESKTOP_WIDTH` px wide, device
    pixel ratio ``dpr``) loads, as written in the attribute (not resolved).

    Each candidate's density is its ``x`` descriptor, or its ``w`` descriptor over the slot
    width (:func:`slot_width`); none means 1x. Then Blink's rule: walking the candidates by
    increasing density, take the first whose density exceeds ``dpr`` (at ``dpr`` <= 1) or
    whose geometric mean with the next one reaches ``dpr``; else the densest.
    """
    slot = slot_width(sizes)
    dense: list[tuple[float, str]] = []
    for url, descriptor in _candidates(srcset):
        density = 1.0
        if m := re.fullmatch(r"(\d+(?:\.\d+)?)x", descriptor):
            density = float(m.group(1))
        elif m := re.fullmatch(r"(\d+)w", descriptor):
            density = int(m.group(1)) / slot if slot > 0 else 1.0
        elif descriptor and not re.fullmatch(r"\d+h", descriptor):
            continue  # an invalid descriptor drops the candidate, as browsers do
        dense.append((density, url))
    if not dense:
        return None
    dense.sort(key=lambda c: c[0])
    for (density, url), (following, _) in itertools.pairwise(dense):
        if (dpr <= 1.0 and density > dpr) or math.sqrt(density * following) >= dpr:
            return url
    return dense[-1][1]


def html_requisites(html: str | bytes, url: str) -> list[Requisite]:
    """What a browser loads to draw the HTML page at ``url`` (see the module docstring).

    Unparseable markup gives an empty list: the page itself is still captured.
    """
    try:
        root = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    base = url
    for el in root.iter("base"):
        if (href := el.get("href")) and (resolved := _absolute(url, href)):
            base = resolved
        break
    found: list[Requisite] = []
    pictures: set[etree._Element] = set()

    def add(ref: str | None, kind: str) -> None:
        if (absolute := _absolute(base, ref)) is not None:
            found.append(Requisite(absolute, kind))

    for el in root.iter(etree.Element):
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag == "link":
            rels = set((el.get("rel") or "").lower().split())
            if "stylesheet" in rels and "alternate" not in rels:
                add(el.get("href"), "stylesheet")
            elif rels & _ICON_RELS or rels == {"shortcut", "icon"}:
                add(el.get("href"), "icon")
        elif tag == "img":
            add(el.get("src"), "image")
            if srcset := el.get("srcset"):
                add(pick_srcset(srcset, el.get("sizes")), "image")
        elif tag == "source" and (picture := next(el.iterancestors("picture"), None)) \
                is not None and picture not in pictures \
                and (srcset := el.get("srcset")) and _source_applies(el):
            # The first <source> that applies is the one loaded. (libxml2 does not know
            # <source> is void and nests the next ones in it: hence the ancestor lookup.)
            pictures.add(picture)
            add(pick_srcset(srcset, el.get("sizes")), "image")
        elif tag == "script":
            add(el.get("src"), "script")
        elif tag == "video":
            add(el.get("poster"), "image")
        elif tag == "input" and (el.get("type") or "").lower() == "image":
            add(el.get("src"), "image")
        elif tag == "style" and el.text:
            found.extend(css_requisites(el.text, base))
        if (style := el.get("style")) and "url(" in style.lower():
            found.extend(css_requisites(style, base))
    if not any(r.kind == "icon" for r in found):
        # Browsers ask for /favicon.ico when the page names no icon.
        add("/favicon.ico", "icon")
    return _unique(found)


def _source_applies(el: etree._Element) -> bool:
    """A ``<picture><source>`` a desktop browser uses: no media query or one that matches,
    and an image type every browser decodes (or none)."""
    media = el.get("media")
    kind = (el.get("type") or "").lower()
    return ((media is None or _media_matches(media))
            and kind in ("", "image/jpeg", "image/png", "image/gif", "image/webp",
                         "image/svg+xml"))


def _unique(found: list[Requisite]) -> list[Requisite]:
    seen: set[str] = set()
    out: list[Requisite] = []
    for req in found:
        if req.url not in seen:
            seen.add(req.url)
            out.append(req)
    return out
