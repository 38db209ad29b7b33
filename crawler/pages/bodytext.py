"""Article text from HTML: the paragraph walker, widget and furniture removal, site
selectors, and the trafilatura call.

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
   at the start and end of the body the title, the page's ``<h1>``, the section, the
   authors, a bare date line, the tags line, menu/breadcrumb rows, copyright lines and
   "Read more:" teasers; photo and video captions (:func:`caption_texts`) go anywhere.

Which extraction becomes the body is decided in :mod:`crawler.pages.bodypick`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from parsel import Selector, SelectorList

from crawler.pages import trafxpath
from crawler.pages.dates import parse_date
from crawler.pages.markup import normalize_space, unescape_entities, words
from crawler.pages.scan import PageScan

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

BLOCK_TAGS = words(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dt dd blockquote br hr tr td th table tbody thead "
    "section article main header footer pre figure figcaption address center details summary "
    "nav aside form"
)
SKIP_TAGS = words(
    "script style noscript template svg math iframe object embed canvas video audio head title "
    "meta link button input select textarea option"
)
FURNITURE_TAGS = words("nav aside form header footer figure figcaption menu dialog")
WIDGET_WORDS = words(
    "share shares sharing sharebar social socials related relatedposts tag tags taglist topics "
    "keywords comment comments discussion listen listenlive subscribe subscription newsletter "
    "promo advert advertisement advertising ad ads adv banner sponsored shorturl getshorturl "
    "shortlink breadcrumb breadcrumbs recommended recommendation recommendations recommend "
    "readmore readalso likes counters counter rating print toolbar player caption figcaption "
    "credits credit copyright byline author authors date dates timestamp rubric category "
    "categories footer sidebar nav navigation menu popup modal cookie cookies consent gdpr "
    "widget follow donate sronly visuallyhidden"
)
# class words of a caption; a ``data-component`` naming a media block (BBC's
# "video-block", "caption-block") holds a caption too
_CAPTION_WORDS = frozenset(("caption", "captions", "figcaption", "video", "image", "media"))
_CAPTION_XPATH = ("//figcaption | //body//*[contains(@class, 'caption')] | "
                  "//body//*[@data-component]")
_WORD_SPLIT = re.compile(r"[-_\s]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
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
    "ilgili haberler", "abone ol", "media playback is unsupported on your device",
    "text size", "print article", "order reprints",
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
_DATE_NOISE = re.compile(r"\b(?:updated|published|posted|обновлено|опубликовано)\b:?",
                         re.IGNORECASE)


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


_OTHER_STORIES = words(
    "related recommended recommendations popular most mostread latest sidebar teaser teasers "
    "more widget ticker breaking nav menu footer")


def is_elsewhere(element: Any) -> bool:
    """Inside navigation, a footer, an aside, the site header or a list of other stories:
    a date or headline there is not this story's."""
    tag = element.tag if isinstance(element.tag, str) else ""
    parent = element.getparent()
    if tag in ("nav", "aside", "footer") or (
            tag == "header" and parent is not None and parent.tag == "body"):
        return True
    return bool(class_words(element) & _OTHER_STORIES)


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


def unescape_all(text: str) -> str:
    """``text`` with HTML entities decoded, also when escaped twice or three times
    (``&amp;quot;`` in a JSON-LD ``articleBody``): a body never means a literal entity."""
    for _ in range(3):
        decoded = unescape_entities(text)
        if decoded == text:
            break
        text = decoded
    return text


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
                     tags: Iterable[str] = (), headlines: Iterable[str] = (),
                     captions: Iterable[str] = ()) -> list[str]:
    """Drop furniture lines (see the module docstring). ``headlines`` (the page's ``<h1>``
    texts, which may differ from the title) are trimmed at the edges like the title;
    ``captions`` (photo and video captions of the page) go wherever they are: a body that
    starts with a video's caption is a player's text, not the story's."""
    tag_set = {t.casefold() for t in tags}
    edge = {v.casefold() for v in (title, section, *headlines) if v}
    caption_set = {c.casefold() for c in captions if c}
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

    kept = [p for p in paras if not is_phrase_line(p) and p.casefold() != title_key
            and p.casefold() not in caption_set]
    while kept and is_edge(kept[0]):
        kept.pop(0)
    while kept and is_edge(kept[-1]):
        kept.pop()
    return kept


def caption_texts(sel: Selector, scan: PageScan | None = None) -> set[str]:
    """The page's photo and video captions (``figcaption``, elements whose class names a
    caption, ``data-component`` media and caption blocks), whole and paragraph by
    paragraph. ``scan``: the page's :class:`~crawler.pages.scan.PageScan`, when it has one
    (its ``captions`` are what ``_CAPTION_XPATH`` selects)."""
    found: set[str] = set()
    for root in (scan or PageScan(sel.root)).captions:
        component = set(_WORD_SPLIT.split((root.get("data-component") or "").lower()))
        if root.tag != "figcaption" and not (class_words(root) | component) & _CAPTION_WORDS:
            continue  # "f_caption_muted_videos_on" on a <body> is no caption
        paras = paragraphs(root)
        found.update(paras)
        found.add(normalize_space(" ".join(paras)))
    found.discard("")
    return found


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


def trafilatura_tree(html_text: str) -> tuple[HtmlElement | None, bool]:
    """trafilatura's own parse of the page (``load_html``: its repairs of faulty markup and
    its parser settings), None when trafilatura refuses the text as HTML; and whether it
    can stand for our own parse too (:func:`shares_parse`). Parsed once per page and
    handed to every trafilatura run: each copies it before pruning, and the metadata
    (:mod:`crawler.pages.trafmeta`) and our own readers read it as it is."""
    from trafilatura.utils import load_html

    try:
        tree = load_html(html_text)
    except Exception as exc:  # a third-party parser must not take the crawl down
        logger.warning("trafilatura could not parse the page: %s: %s", type(exc).__name__, exc)
        return None, False
    return tree, tree is not None and shares_parse(tree, html_text)


def shares_parse(tree: HtmlElement, html_text: str) -> bool:
    """Whether ``tree``, trafilatura's parse of ``html_text`` made right before (the
    parser's error log is read), can stand for our own (:func:`~crawler.pages.markup.
    html_selector`), so that a page is parsed once (issue 10's parser cost). Both are
    libxml2's HTML parser on the same text without C0 control characters; they differ in
    what trafilatura's ``load_html`` changes, each checked here, else our own parse is used:

    - it drops comments and processing instructions: kept, since none of our readers looks
      at them (the paragraph walker joins the text around a comment either way);
    - it returns a fragment's element, not the document, for a page that neither starts
      like an HTML document nor has a ``<head>``: the root must be ``<html>``;
    - it parses without ``huge_tree``: a page nested deeper than 256 elements (hostile
      pages nest thousands deep) is cut there; libxml2 then logs a resource-limit error;
    - it removes U+FFFE and U+FFFF, which our parse keeps.
    """
    from trafilatura.utils import HTML_PARSER

    if tree.tag != "html" or "\ufffe" in html_text or "\uffff" in html_text:
        return False
    # the module's parser's log holds the errors of its last parse: load_html's, of this page
    return not any(e.type_name == "ERR_RESOURCE_LIMIT" or "HUGE" in e.message
                   for e in HTML_PARSER.error_log)


def date_params(fetched_at: datetime | None) -> dict[str, Any]:
    """htmldate's settings for news and no clock: the latest acceptable date is the day
    after the fetch (htmldate would use today)."""
    params: dict[str, Any] = {"original_date": True, "extensive_search": True,
                              "min_date": "1990-01-01"}
    if fetched_at is not None:
        params["max_date"] = (fetched_at + timedelta(days=1)).strftime("%Y-%m-%d")
    else:
        params["max_date"] = "2100-12-31"
    return params


def run_trafilatura(tree: HtmlElement | None, url: str) -> str | None:
    """trafilatura's body text of a page parsed by :func:`trafilatura_tree`
    (``bare_extraction`` without metadata: the metadata fields come one by one from
    :class:`~crawler.pages.trafmeta.TrafMetadata`, when a field needs them), or None when
    it finds none.

    ``favor_precision`` with tables scored best on the article-extraction benchmark; but a
    page laid out in a ``<table>`` then comes back as one Markdown row holding the whole
    story, so such output is replaced by a second, table-less pass. An extractor crash is
    logged with the URL.
    """
    # local: importing trafilatura costs ~0.3 s, listing pages never need it
    import trafilatura
    from trafilatura.settings import Document

    # trafilatura's EXSLT re:test prunes call Python per element (~29% of parser CPU):
    # swap in exact Python matchers; here, not at import, as importing trafilatura is lazy
    trafxpath.install()
    if tree is None:
        return None

    def extract(*, precision: bool, tables: bool) -> Document | None:
        # bare_extraction copies a tree it is given before pruning it
        result = trafilatura.bare_extraction(
            tree, url=url, favor_precision=precision, include_tables=tables,
            with_metadata=False, include_comments=False, include_images=False,
            include_links=False, deduplicate=False)
        # as_dict is off, so the dict arm of bare_extraction's return type never happens
        return result if isinstance(result, Document) else None

    try:
        doc = extract(precision=True, tables=True)
        if doc is None:
            return None
        text = doc.text or ""
        if any(line.startswith("|") and len(line) > 300 for line in text.splitlines()):
            plain = extract(precision=False, tables=False)
            if plain is not None and plain.text:
                return plain.text
        return doc.text
    except Exception as exc:  # a third-party extractor must not take the crawl down
        logger.warning("%s: trafilatura failed: %s: %s", url, type(exc).__name__, exc)
        return None


def run_trafilatura_recall(tree: HtmlElement | None, url: str) -> str:
    """trafilatura's text in ``favor_recall`` mode, no metadata: a second opinion on the
    body when the precision run looks like a fragment ("" when it finds nothing or fails)."""
    import trafilatura

    trafxpath.install()  # as in run_trafilatura (idempotent)
    if tree is None:
        return ""
    try:
        return trafilatura.extract(
            tree, url=url, favor_recall=True, include_tables=False, with_metadata=False,
            include_comments=False, include_images=False, include_links=False,
            deduplicate=False) or ""
    except Exception as exc:  # a third-party extractor must not take the crawl down
        logger.warning("%s: trafilatura (recall) failed: %s: %s", url, type(exc).__name__, exc)
        return ""
