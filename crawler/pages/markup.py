"""Metadata helpers behind :class:`crawler.pages.listings.ArticlePage`: URLs, ``<meta>`` tags,
link relations, JSON-LD, language codes and author names. Pure functions over parsel
selectors and strings; body text lives in :mod:`crawler.pages.bodytext`.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from parsel import Selector

logger = logging.getLogger(__name__)


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``: long keyword tables read better so."""
    return frozenset(text.split())


HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})
# C0 controls except tab, LF and CR. A regex removes them ~20x faster than str.translate
# with a dict (which looks every character up in the table); same result.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]+")
# The same characters one by one: ``c in text`` is a fast C search, and nearly every page
# holds none of them, so 29 such searches beat one pass of the regex (~10x).
_CONTROL_LIST = tuple(chr(c) for c in (*range(0, 9), 11, 12, *range(14, 32)))
# Two-letter ISO 639-1 codes: "utf-8" in a Content-Language meta is not Ute.
ISO_639_1 = words(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
    "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
    "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
    "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk "
    "sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz "
    "ve vi vo wa wo xh yi yo za zh zu"
)
_SPACE = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")
_BY = re.compile(r"^(?:by|автор|от|yazar)\s*:?\s+", re.IGNORECASE)
ARTICLE_TYPES = words(
    "Article NewsArticle ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle "
    "BackgroundNewsArticle ReviewNewsArticle AskPublicNewsArticle SatiricalArticle "
    "BlogPosting LiveBlogPosting Report"
)
LISTING_TYPES = words("CollectionPage ItemList SearchResultsPage ProfilePage")
# JSON-LD keys that may hold the page's own article; lists of *other* articles
# (itemListElement, hasPart, relatedLink...) are deliberately not entered.
_JSONLD_CONTAINERS = ("@graph", "mainEntity")


def absolute_url(base: str, href: str | None) -> str | None:
    """``href`` resolved against ``base`` without its fragment; None unless http(s)."""
    if not href:
        return None
    # Browsers drop tabs and newlines inside URLs (WHATWG URL parsing); so do we.
    href = re.sub(r"[\t\n\r]", "", href).strip()
    if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
        return None
    try:
        url = urldefrag(urljoin(base, href))[0]
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an invalid IPv6 literal in a hostile href
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    return url


def html_selector(text: str) -> Selector:
    """A parsel Selector over page text; control characters (NUL first of all) removed
    because lxml refuses or truncates on them."""
    return Selector(text=strip_control_chars(text), type="html")


def strip_control_chars(text: str) -> str:
    """``text`` without C0 control characters other than tab, LF and CR."""
    for char in _CONTROL_LIST:
        if char in text:
            return _CONTROL_CHARS.sub("", text)
    return text


def unescape_entities(text: str) -> str:
    """Decode HTML entities left in metadata: JSON-LD strings and doubly escaped
    ``<meta content="&amp;quot;...">`` values carry ``&quot;``, ``&hellip;``, ``&#39;``."""
    return html.unescape(text) if "&" in text else text


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (incl. NBSP and zero-width spaces) to one space."""
    return _SPACE.sub(" ", text).strip()


# Whole-page questions by tag name go through ``root.iter(tag)``, which filters in C: a
# ``//meta[@content]`` XPath visits every node of the page and costs several times more
# (issue 10's parser profile). Each function says the XPath it stands for.

def first_attribute(root: Any, tag: str, attribute: str) -> str | None:
    """``//tag/@attribute`` 's first value, in document order (None when none has it)."""
    for element in root.iter(tag):
        value = element.get(attribute)
        if value is not None:
            return value
    return None


def first_text(root: Any, tag: str) -> str | None:
    """``//tag/text()`` 's first text node, in document order (None when none has text)."""
    for element in root.iter(tag):
        if element.text:
            return element.text
        for child in element:
            if child.tail:
                return child.tail
    return None


# ``translate(@type, 'JSONLD', 'jsonld')``: only these letters are folded.
_JSONLD_CASE = str.maketrans("JSONLD", "jsonld")


def jsonld_blocks(root: Any) -> list[str]:
    """The text of every JSON-LD ``<script>``:
    ``//script[contains(translate(@type, 'JSONLD', 'jsonld'), 'ld+json')]/text()``."""
    return [script.text for script in root.iter("script")
            if script.text and "ld+json" in (script.get("type") or "").translate(_JSONLD_CASE)]


def meta_map(sel: Selector) -> dict[str, list[str]]:
    """``<meta>`` contents by lowercased property / name / itemprop / http-equiv, in order."""
    out: dict[str, list[str]] = {}
    for meta in sel.root.iter("meta"):  # //meta[@content]
        raw = meta.get("content")
        if raw is None:
            continue
        content = normalize_space(unescape_entities(raw))
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                out.setdefault(key.strip().lower(), []).append(content)
    return out


def rel_map(sel: Selector, attribute: str = "rel") -> dict[str, list[str]]:
    """``href`` of ``<link>`` / ``<a>`` elements by each lowercased token of ``attribute``."""
    out: dict[str, list[str]] = {}
    for node in sel.root.iter("link", "a"):  # //link[@rel][@href] | //a[@rel][@href]
        tokens = node.get(attribute)
        raw = node.get("href")
        if tokens is None or raw is None:
            continue
        href = raw.strip()
        if not href:
            continue
        for token in tokens.lower().split():
            out.setdefault(token, []).append(href)
    return out


def jsonld_objects(sel: Selector, url: str) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, flattened out of lists and ``@graph``.
    Invalid blocks are logged with the URL and skipped."""
    found: list[dict[str, Any]] = []
    for raw in jsonld_blocks(sel.root):
        data = _load_json(raw)
        if data is None:
            logger.warning("%s: invalid JSON-LD block skipped (%d chars)", url, len(raw))
            continue
        found.extend(_flatten(data, 0))
    return found


def _load_json(raw: str) -> Any:
    text = raw.strip()
    for candidate in (text, _repair_json(text)):
        try:
            return json.loads(candidate, strict=False)
        except (ValueError, RecursionError):
            continue
    return None


def _repair_json(text: str) -> str:
    """The common breakages: HTML comments / CDATA around the JSON, a trailing ``;``,
    trailing commas."""
    text = re.sub(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)", "", text)
    text = re.sub(r"(?:-->|//\s*\]\]>|\]\]>)\s*$", "", text).strip().rstrip(";")
    return re.sub(r",\s*([}\]])", r"\1", text)


def _flatten(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 8:
        return
    if isinstance(data, list):
        for item in data:
            yield from _flatten(item, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        for key in _JSONLD_CONTAINERS:
            if key in data and isinstance(data[key], (list, dict)):
                yield from _flatten(data[key], depth + 1)


def jsonld_types(obj: dict[str, Any]) -> set[str]:
    """``@type`` names without a schema.org prefix."""
    raw = obj.get("@type")
    names = raw if isinstance(raw, list) else [raw]
    return {re.split(r"[/:#]", n)[-1] for n in names if isinstance(n, str) and n}


def jsonld_strings(value: Any, key: str = "name") -> list[str]:
    """Strings out of a JSON-LD value that may be a string, an object with ``key`` or a
    list of either (authors, images, keywords, sections)."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get(key)
            if isinstance(item, list):
                out.extend(jsonld_strings(item, key))
                continue
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            text = normalize_space(unescape_entities(str(item)))
            if text:
                out.append(text)
    return out


def language_code(value: str | None) -> str | None:
    """``en-US`` / ``ru_RU`` / ``EN`` -> ``en``; None for anything that is not a code."""
    if not value:
        return None
    primary = re.split(r"[-_,;\s]", value.strip(), maxsplit=1)[0].lower()
    return primary if primary in ISO_639_1 else None


def split_names(value: str) -> list[str]:
    """Author names out of one byline string: "By A and B", "A; B", "A, B"."""
    value = _BY.sub("", normalize_space(value))
    parts = [p for p in re.split(r"\s*(?:;|\||\band\b|\bи\b|\bve\b|&)\s*", value) if p]
    names: list[str] = []
    for part in parts:
        pieces = [p.strip() for p in part.split(",") if p.strip()]
        # "Smith, John" is one name; "John Smith, Jane Doe" is two.
        if len(pieces) > 1 and all(len(p.split()) >= 2 for p in pieces):
            names.extend(pieces)
        else:
            names.append(part.strip(" ,"))
    return [_BY.sub("", n).strip(" ,.") for n in names if plausible_name(n)]


def plausible_name(value: str) -> bool:
    """Not a URL, an e-mail address, a handle or a sentence."""
    value = value.strip()
    return (0 < len(value) <= 80 and "://" not in value and "@" not in value
            and not value.startswith("www.") and len(value.split()) <= 8)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Order-preserving, case-insensitive de-duplication of non-empty strings."""
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return tuple(out)
