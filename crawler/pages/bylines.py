"""Generic finders for the fields a page prints outside its markup conventions: topic
links (tags), author-page links (bylines), a ``<title>`` site suffix glued to the headline
("Headline-新华网") and the script of a page that declares no language.

Used by :class:`~crawler.pages.article.ArticlePage` after the source's selectors, JSON-LD
and ``<meta>`` found nothing, so an outlet without a profile (BBC, DW, Carnegie...) still
gets its tags, authors and language. Pure functions of a parsed page.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from lxml import etree

from crawler.pages import bodytext as bt
from crawler.pages import markup as mk

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from parsel import Selector

T = TypeVar("T")

__all__ = ["author_links", "script_language", "split_list", "strip_glued_suffix", "then",
           "topic_links"]

# A container of the story's topics: data-component="tags" (BBC), class "tags", "topic-list",
# "related-topics", "keywords" (as class or id words).
_TOPIC_BOX = re.compile(r"(?:^|[\s_-])(tags?|topics?|topic-list|tag-list|keywords|"
                        r"related-topics|article-tags|themen)(?:$|[\s_-])", re.IGNORECASE)
# The address of a topic page: /topics/x, /tag/x, /tags/x, /keyword/x, DW's /de/name/t-123.
_TOPIC_HREF = re.compile(r"/(?:topics?|tags?|keywords?)/[^/]+|/t-\d+/?$", re.IGNORECASE)
# The address of a person's page: /author/x, /authors/x, /experts/123, /people/x, /profile/x.
_AUTHOR_HREF = re.compile(r"/(?:authors?|experts?|people|profiles?|staff|journalists?|"
                          r"contributors?|columnists?|byline)/[^/?#]+", re.IGNORECASE)
_ELSEWHERE_TAGS = {"nav", "footer", "aside", "form"}
_HEADINGS = {"h1", "h2", "h3"}
# Where a title may end and a site suffix begin: a separator, with or without spaces.
_SUFFIX_CUT = re.compile(r"\s*[-_|–—]\s*(?=\S)")
_COMMENTS = re.compile(r"comment|reply|disqus", re.IGNORECASE)
# Han ideographs, kana, Hangul: a page in these scripts says its language by its letters.
_HAN = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")


def then(groups: Iterable[tuple[str, T]], method: str, finder: Callable[[Selector], T],
         selector: Selector) -> Iterator[tuple[str, T]]:
    """``groups``, then ``(method, finder(selector))``, the finder run only when every
    group before it was empty (a scan of every link costs: only when needed)."""
    yield from groups
    yield method, finder(selector)


def split_list(values: list[str]) -> list[str]:
    """Tag values, a single comma- or semicolon-joined string split into its items
    ("World;Media & Telecom", "a, b, c"); several values stay as they are."""
    if len(values) == 1:
        for separator in (";", ","):
            if separator in values[0]:
                return [v for v in values[0].split(separator) if v.strip()]
    return values


def _href_path(element: Any) -> str:
    """The path of a link's ``href``; "" for none or one that is not a URL (a hostile
    ``href="http://[x"`` makes ``urlsplit`` raise)."""
    try:
        return urlsplit(element.get("href") or "").path
    except ValueError:
        return ""


def _outside_story(element: Any, *, aside: bool = False) -> bool:
    """In navigation, a footer, an aside (unless ``aside``), a form or the comments: not
    the story's own."""
    skipped = _ELSEWHERE_TAGS - {"aside"} if aside else _ELSEWHERE_TAGS
    for node in (element, *element.iterancestors()):
        tag = node.tag if isinstance(node.tag, str) else ""
        marks = " ".join(filter(None, (node.get("class"), node.get("id"))))
        if tag in skipped or (tag == "header" and node.getparent() is not None
                                      and node.getparent().tag == "body") \
                or _COMMENTS.search(marks):
            return True
    return False


def _boxed(element: Any) -> bool:
    """Inside an element whose class, id or data-component names tags or topics."""
    for node in element.iterancestors():
        marks = " ".join(filter(None, (node.get("class"), node.get("id"),
                                       node.get("data-component"), node.get("data-testid"))))
        if marks and _TOPIC_BOX.search(marks):
            return True
    return False


def topic_links(selector: Selector) -> list[str]:
    """The story's topics printed as links: anchors with a topic-page address (``/topics/``,
    ``/tag/``, DW's ``/t-123``) or ``rel=tag``, inside a box named for tags or topics, or
    else after the headline and outside the text's paragraphs; never in navigation, footers,
    asides, forms or comments (the site's menus are not topics, an inline link is not one)."""
    found = []
    after_headline = False
    # One pass in document order (an XPath "following::" set costs more than the page).
    for element in selector.root.iter("h1", "a"):
        if element.tag == "h1":
            after_headline = True
            continue
        href = _href_path(element)
        if not (_TOPIC_HREF.search(href) or "tag" in (element.get("rel") or "").split()):
            continue
        # DW prints "related topics" in an <aside> after the text: an aside may hold topics.
        if _outside_story(element, aside=True) or not (_boxed(element) or (
                after_headline and not any(e.tag == "p" for e in element.iterancestors()))):
            continue
        text = bt.element_text(element)
        if text and len(text) <= 60 and len(text.split()) <= 6:
            found.append(text)
    return found


def author_links(selector: Selector) -> list[str]:
    """Bylines printed as links to the authors' pages (``/experts/444``, ``/author/x``):
    the names of the first block that holds such links, outside navigation, footers, asides
    and comments; a link whose text is not a name ("All articles") is skipped."""
    names: list[str] = []
    block = None
    for element in selector.root.iter("a"):
        if not _AUTHOR_HREF.search(_href_path(element)):
            continue
        if _outside_story(element):
            continue
        text = bt.element_text(element)
        words = text.split()
        if not (2 <= len(words) <= 5 and mk.plausible_name(text)
                and all(w[:1].isupper() for w in words if w[:1].isalpha())):
            continue
        parent = element.getparent()
        scope = parent.getparent() if parent is not None else None
        if block is None:
            block = scope
        elif scope is not block:
            break  # the next block is another story's byline or a list of experts
        names.append(text)
    return names


def strip_glued_suffix(title: str, selector: Selector) -> str:
    """``title`` without a site suffix the " - Site Name" rule did not take: glued on
    without spaces ("Headline-新华网", "Headline_Site") or several parts long
    ("Headline | DW | 28.04.2023"), when the rest is printed on the page as the whole text of
    a heading or of an element whose class says title or headline. The longest such head
    wins, so a dash inside a headline stays."""
    cuts = [m.start() for m in _SUFFIX_CUT.finditer(title) if m.start() >= 8]
    if not cuts:
        return title
    heads = {title[:cut].strip() for cut in cuts}
    # Only headline-like elements are compared, in one pass: the text of every element of a
    # large page would cost more than the rest of the title.
    printed = set()
    for element in selector.root.iter(etree.Element):
        cls = element.get("class") or ""
        if element.tag in _HEADINGS or "title" in cls or "headline" in cls:
            text = " ".join(" ".join(element.itertext()).split())
            if text in heads:
                printed.add(text)
    return max(printed, key=len) if printed else title


def script_language(text: str) -> str | None:
    """``zh``, ``ja`` or ``ko`` when ``text`` is written mostly in that script; None
    otherwise (Latin and Cyrillic text does not name one language)."""
    sample = text[:4000]
    letters = sum(ch.isalpha() for ch in sample)
    if letters < 20:
        return None
    if len(_HANGUL.findall(sample)) > letters / 3:
        return "ko"
    if len(_KANA.findall(sample)) > letters / 10:
        return "ja"
    if len(_HAN.findall(sample)) > letters / 3:
        return "zh"
    return None
