"""Pure HTML helpers behind :class:`crawler.pages.ArticlePage`: visible text, boilerplate
removal, JSON-LD, meta tags, site selectors and the trafilatura call.

Kept apart from the page objects because these change for a different reason (a new kind
of share widget, a new meta convention) than the page API does.

How body text is made, whichever extractor found it:

1. The selected element is walked (no recursion: hostile pages nest thousands deep);
   block elements (``p``, ``div``, ``li``, ``br``, headings...) end a paragraph, inline
   text is joined, whitespace is collapsed.
2. Widgets are skipped as whole subtrees: ``script``, ``style``, ``nav``, ``aside``,
   ``form``, ``button``, ``figure``, ``header``, ``footer``..., hidden elements, and
   elements whose class or id contains a furniture word (``share``, ``related``, ``tags``,
   ``comments``, ``listen``, ``subscribe``, ``shorturl``, ``date``, ``rubric``...). Words are
   the parts of a class split at ``-`` and ``_`` so ``article__tags`` matches but
   ``b-article__text`` does not. The selected element itself is never skipped.
3. A paragraph whose text is nine tenths link text is a teaser for another story.
4. :func:`clean_paragraphs` then drops lines made only of known furniture phrases
   ("Listen Live", "Get short URL", "Community standards", "Discussion"...) anywhere, and
   at the start and end of the body the title, the section, the authors, a bare date line
   and the tags line.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

from parsel import Selector, SelectorList

from crawler.dates import parse_date

logger = logging.getLogger(__name__)



def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


HTML_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})
_CONTROL_CHARS = dict.fromkeys([*range(0, 9), 11, 12, *range(14, 32)])

BLOCK_TAGS = _words(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote br hr tr td th table tbody thead "
    "section article main header footer pre figure figcaption address center details summary "
    "nav aside form"
)
SKIP_TAGS = _words(
    "script style noscript template svg math iframe object embed canvas video audio head title "
    "meta link button input select textarea option"
)
FURNITURE_TAGS = _words("nav aside form header footer figure figcaption menu dialog")
WIDGET_WORDS = _words(
    "share shares sharing sharebar social socials related relatedposts tag tags taglist topics "
    "keywords comment comments discussion listen listenlive subscribe subscription newsletter "
    "promo advert advertisement advertising ad ads adv banner sponsored shorturl getshorturl "
    "shortlink breadcrumb breadcrumbs recommended recommendation recommendations recommend "
    "readmore readalso likes counters counter rating print toolbar player caption figcaption "
    "credits credit copyright byline author authors date dates timestamp rubric category "
    "categories footer sidebar nav navigation menu popup modal cookie cookies consent gdpr "
    "widget follow donate sronly visuallyhidden"
)
# Two-letter ISO 639-1 codes: "utf-8" in a Content-Language meta is not Ute.
ISO_639_1 = _words(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu "
    "cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi "
    "ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks "
    "ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl "
    "nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg sh si sk "
    "sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz "
    "ve vi vo wa wo xh yi yo za zh zu"
)
_WORD_SPLIT = re.compile(r"[-_\s]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_SPACE = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")

_PHRASES = (
    "listen live", "listen", "get short url", "short url", "short link", "community standards",
    "discussion", "discuss", "comments", "comment", "add comment", "add a comment",
    "show comments", "share", "share this", "share this article", "share this story",
    "share on facebook", "share on twitter", "tweet", "print", "email", "e-mail", "subscribe",
    "subscribe to our newsletter", "follow us", "follow", "read more", "read also", "see also",
    "also read", "related", "related articles", "related stories", "related news", "more news",
    "most read", "most popular", "latest news", "all news", "advertisement", "copy link",
    "link copied", "copied", "telegram", "facebook", "twitter", "vk", "whatsapp", "reddit",
    "linkedin", "viber", "flipboard", "google news", "loading", "back to top",
    "to participate in the discussion", "log in or register", "log in", "register", "sign in",
    "sign up", "поделиться", "читайте также", "читать также", "подписаться", "комментарии",
    "обсуждение", "правила сообщества", "слушать", "paylaş", "yorumlar", "yorum yap",
    "ilgili haberler", "abone ol",
)
_PHRASE_LINE = re.compile(
    r"^(?:(?:" + "|".join(re.escape(p) for p in sorted(_PHRASES, key=len, reverse=True))
    + r")[\s|•·,/:.\-–—]*)+$",
    re.IGNORECASE,
)
_TEASER_PREFIX = re.compile(
    r"^(?:read more|read also|also read|see also|related|more|watch|listen|читайте также|"
    r"читать также|ilgili haber)\s*[:|—–-]", re.IGNORECASE
)
_COPYRIGHT = re.compile(r"^(?:©|\(c\)|copyright\b|all rights reserved)", re.IGNORECASE)
_MENU_SPLIT = re.compile(r"\s*(?:\||»|›|>|/|·|•)\s*")
_BY = re.compile(r"^(?:by|автор|от|yazar)\s*:?\s+", re.IGNORECASE)
_DATE_NOISE = re.compile(r"\b(?:updated|published|posted|обновлено|опубликовано)\b:?",
                         re.IGNORECASE)

ARTICLE_TYPES = _words(
    "Article NewsArticle ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle "
    "BackgroundNewsArticle ReviewNewsArticle AskPublicNewsArticle SatiricalArticle "
    "BlogPosting LiveBlogPosting Report"
)
LISTING_TYPES = _words("CollectionPage ItemList SearchResultsPage ProfilePage")
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
    return Selector(text=text.translate(_CONTROL_CHARS), type="html")


def unescape_entities(text: str) -> str:
    """Decode HTML entities left in metadata: JSON-LD strings and doubly escaped
    ``<meta content="&amp;quot;...">`` values carry ``&quot;``, ``&hellip;``, ``&#39;``."""
    return html.unescape(text) if "&" in text else text


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (incl. NBSP and zero-width spaces) to one space."""
    return _SPACE.sub(" ", text).strip()


def class_words(element: Any) -> set[str]:
    """Lowercased words of an element's class and id attributes, split at ``-``/``_``."""
    attrs = " ".join(filter(None, (element.get("class"), element.get("id"))))
    words = set(_WORD_SPLIT.split(attrs.lower())) if attrs else set()
    # "sr-only" / "visually-hidden" are screen-reader duplicates, whole-token names.
    words.update(w.replace("-", "") for w in attrs.lower().split() if w in (
        "sr-only", "visually-hidden", "visuallyhidden"))
    return words


def is_furniture(element: Any) -> bool:
    """True for an element that is page furniture, never article text."""
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag in SKIP_TAGS or tag in FURNITURE_TAGS:
        return True
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    style = element.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    return bool(class_words(element) & WIDGET_WORDS)


def _is_skipped_plain(element: Any) -> bool:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    return tag in SKIP_TAGS


def paragraphs(root: Any, *, body: bool = False) -> list[str]:
    """Visible text of an lxml element as paragraphs, whitespace normalized.

    With ``body=True`` furniture subtrees are skipped and teaser paragraphs (nine tenths
    link text) dropped; otherwise only scripts, styles and the like are skipped.
    """
    skip: Callable[[Any], bool] = is_furniture if body else _is_skipped_plain
    out: list[str] = []
    pieces: list[str] = []
    link_chars = 0
    link_depth = 0

    def flush() -> None:
        nonlocal link_chars
        text = normalize_space("".join(pieces))
        if text:
            dense = link_chars >= 0.9 * len(text.replace(" ", "")) and len(text) < 300
            if not (body and dense):
                out.append(text)
        pieces.clear()
        link_chars = 0

    def add(text: str | None) -> None:
        nonlocal link_chars
        if text:
            pieces.append(text)
            if link_depth:
                link_chars += len("".join(text.split()))

    stack: list[tuple[Any, bool]] = [(root, True)]
    while stack:
        element, entering = stack.pop()
        tag = element.tag.lower() if isinstance(element.tag, str) else None
        if entering:
            if tag is None:  # comment or processing instruction: only its tail is text
                if element is not root:
                    add(element.tail)
                continue
            if element is not root and skip(element):
                if tag in BLOCK_TAGS:
                    flush()
                if element.tail:
                    add(element.tail)
                continue
            if tag in BLOCK_TAGS:
                flush()
            if tag == "a":
                link_depth += 1
            add(element.text)
            stack.append((element, False))
            stack.extend((child, True) for child in reversed(element))
        else:
            if tag == "a":
                link_depth -= 1
            if tag in BLOCK_TAGS:
                flush()
            if element is not root:
                add(element.tail)
    flush()
    return out


def element_text(root: Any) -> str:
    """Visible text of an element on one line (for titles, sections, dates...)."""
    return normalize_space(" ".join(paragraphs(root)))


def text_paragraphs(text: str) -> list[str]:
    """Split plain text (trafilatura output, JSON-LD articleBody) into paragraphs."""
    if "<" in text and re.search(r"</?(?:p|br|div)\b", text, re.IGNORECASE):
        sel = Selector(text=f"<div>{text}</div>")
        return paragraphs(sel.root, body=True)
    return [p for p in (normalize_space(line) for line in text.splitlines()) if p]


def is_date_line(line: str) -> bool:
    """A short line that is nothing but a date ("23:25 GMT29 November 2020")."""
    if len(line) > 60 or len(line.split()) > 8 or line.rstrip().endswith((".", "!", "?", "…")):
        return False
    return parse_date(_DATE_NOISE.sub(" ", line).strip("()[] ")) is not None


def is_phrase_line(line: str) -> bool:
    """A line made only of widget labels ("Listen Live", "Community standardsDiscussion")."""
    return len(line) < 120 and bool(_PHRASE_LINE.match(line.strip()))


def is_menu_line(line: str) -> bool:
    """A menu or breadcrumb row: "Home | World | Defence", "| Ana Sayfa \\| Dünya |"
    (trafilatura renders layout tables as Markdown rows)."""
    items = [i.strip() for i in _MENU_SPLIT.split(line.replace("\\|", "|")) if i.strip()]
    return len(items) >= 2 and all(
        len(i) <= 30 and len(i.split()) <= 3 and not i.endswith((".", "!", "?")) for i in items)


def clean_paragraphs(paras: Iterable[str], *, title: str | None = None,
                     section: str | None = None, authors: Iterable[str] = (),
                     tags: Iterable[str] = ()) -> list[str]:
    """Drop furniture lines (see the module docstring)."""
    tag_set = {t.casefold() for t in tags}
    edge = {v.casefold() for v in (title, section) if v}
    for name in authors:
        edge.update({name.casefold(), f"by {name}".casefold()})
    title_key = title.casefold() if title else None

    def is_tags_line(line: str) -> bool:
        items = [i.strip().casefold() for i in re.split(r"[,|·•;]", line) if i.strip()]
        return bool(items) and bool(tag_set) and all(i in tag_set for i in items)

    def is_edge(line: str) -> bool:
        key = line.casefold()
        return (key in edge or is_date_line(line) or is_tags_line(line) or is_menu_line(line)
                or (bool(_COPYRIGHT.match(line)) and len(line) < 200)
                or (bool(_TEASER_PREFIX.match(line)) and len(line) < 200))

    kept = [p for p in paras if not is_phrase_line(p) and p.casefold() != title_key]
    while kept and is_edge(kept[0]):
        kept.pop(0)
    while kept and is_edge(kept[-1]):
        kept.pop()
    return kept


# --- site selectors ---------------------------------------------------------------------

def select(sel: Selector, selector: str, url: str) -> SelectorList[Selector]:
    """Run a configured selector: XPath when it starts with ``/`` or ``(``, CSS otherwise.
    A broken selector is logged with the URL and selects nothing."""
    try:
        if selector.lstrip().startswith(("/", "(")):
            return sel.xpath(selector)
        return sel.css(selector)
    except Exception as exc:  # cssselect and lxml raise several unrelated types
        logger.warning("%s: selector %r failed: %s", url, selector, exc)
        return SelectorList([])


def selected_strings(matches: SelectorList[Selector], *, body: bool = False,
                     attributes: tuple[str, ...] = ()) -> list[str]:
    """One string per match: the string itself for ::text/::attr/@x matches, else the
    element's ``attributes`` (first present, e.g. ``datetime`` for dates) or its visible
    text (paragraphs joined with blank lines when ``body``)."""
    out: list[str] = []
    for match in matches:
        root = match.root
        if isinstance(root, str):
            value = normalize_space(root)
        else:
            value = next((normalize_space(root.get(a)) for a in attributes if root.get(a)), "")
            if not value:
                value = ("\n\n".join(paragraphs(root, body=True)) if body
                         else element_text(root))
        if value:
            out.append(value)
    return out


# --- meta tags, link relations, JSON-LD -------------------------------------------------

def meta_map(sel: Selector) -> dict[str, list[str]]:
    """``<meta>`` contents by lowercased property / name / itemprop / http-equiv, in order."""
    out: dict[str, list[str]] = {}
    for meta in sel.xpath("//meta[@content]"):
        content = normalize_space(unescape_entities(meta.attrib.get("content", "")))
        if not content:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.attrib.get(attr)
            if key:
                out.setdefault(key.strip().lower(), []).append(content)
    return out


def rel_map(sel: Selector, attribute: str = "rel") -> dict[str, list[str]]:
    """``href`` of ``<link>`` / ``<a>`` elements by each lowercased token of ``attribute``."""
    out: dict[str, list[str]] = {}
    for node in sel.xpath(f"//link[@{attribute}][@href] | //a[@{attribute}][@href]"):
        href = node.attrib.get("href", "").strip()
        if not href:
            continue
        for token in node.attrib.get(attribute, "").lower().split():
            out.setdefault(token, []).append(href)
    return out


def jsonld_objects(sel: Selector, url: str) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, flattened out of lists and ``@graph``.
    Invalid blocks are logged with the URL and skipped."""
    found: list[dict[str, Any]] = []
    for raw in sel.xpath("//script[contains(translate(@type, 'JSONLD', 'jsonld'), "
                         "'ld+json')]/text()").getall():
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


# --- trafilatura --------------------------------------------------------------------------

def run_trafilatura(html_text: str, url: str, fetched_at: datetime | None) -> Any:
    """``trafilatura.bare_extraction`` with settings fixed for news and no clock: the
    latest acceptable date is the day after the fetch (htmldate would use today).

    ``favor_precision`` with tables scored best on the article-extraction benchmark; but a
    page laid out in a ``<table>`` then comes back as one Markdown row holding the whole
    story, so such output is replaced by a second, table-less pass. Returns the Document
    or None; an extractor crash is logged with the URL.
    """
    import trafilatura  # local: importing it costs ~0.3 s, listing pages never need it

    params: dict[str, Any] = {"original_date": True, "extensive_search": True,
                              "min_date": "1990-01-01"}
    if fetched_at is not None:
        params["max_date"] = (fetched_at + timedelta(days=1)).strftime("%Y-%m-%d")
    else:
        params["max_date"] = "2100-12-31"
    options = dict(url=url, include_comments=False, include_images=False, include_links=False,
                   deduplicate=False, date_extraction_params=params)
    try:
        doc = trafilatura.bare_extraction(html_text, favor_precision=True, include_tables=True,
                                          with_metadata=True, **options)
        text = getattr(doc, "text", None) or ""
        if any(line.startswith("|") and len(line) > 300 for line in text.splitlines()):
            plain = trafilatura.bare_extraction(html_text, include_tables=False, **options)
            if doc is not None and getattr(plain, "text", None):
                doc.text = plain.text
        return doc
    except Exception as exc:  # a third-party extractor must not take the crawl down
        logger.warning("%s: trafilatura failed: %s: %s", url, type(exc).__name__, exc)
        return None
