"""One walk over a parsed page for the elements its fields look for by attribute.

libxml2 answers ``//*[@itemprop='x']`` or ``//*[contains(@class, 'date')]`` by visiting every
node of the page: 0.5 to 1.6 ms each on a real page (about 800 elements), and the article
page object asked nine such questions, 8 ms of a page's parse (issue 10's parser profile).
:class:`PageScan` visits every element once (about 1 ms) and keeps what each of those XPath
expressions selects, in document order. Each attribute names the expression it stands for;
``tests/test_page_scan.py`` compares them with the XPath expressions on generated pages, on
the fixture pages and on the real pages of ``../shared/eval``.

Questions by tag name alone (``//h1``, ``//meta``) need no walk: ``root.iter(tag)`` filters in
C, faster than the XPath; the page objects use it directly.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

__all__ = ["LEAD_CLASSES", "PageScan", "in_body"]

#: The class names of a standfirst (``metadata.LEAD_CSS`` as data).
LEAD_CLASSES = frozenset((
    "article__announce-text", "article__announce", "b-article__lead", "article-lead",
    "article__lead", "lead", "standfirst", "article__standfirst", "subtitle", "dek"))
# Every name of LEAD_CLASSES holds one of these.
_LEAD_WORDS = ("announce", "lead", "standfirst", "subtitle", "dek")
_XPATH_SPACE = re.compile("[ \t\r\n]+")  # what XPath's normalize-space() collapses
# ``translate(@class, 'DATE', 'date')``: only these four letters are folded.
_DATE_CASE = str.maketrans("DATE", "date")
_SHORT_CASE = str.maketrans("SHORT", "short")
_SHORT_ATTRIBUTES = frozenset(("data-shorturl", "data-short-url", "data-shortUrl"))


def in_body(element: Any) -> bool:
    """``element`` is a descendant of a ``<body>`` (XPath ``//body//*``)."""
    return any(node.tag == "body" for node in element.iterancestors())


def _has_ancestor(element: Any, test: Any) -> bool:
    return any(test(node) for node in element.iterancestors())


def _short_class(node: Any) -> bool:
    return "short" in (node.get("class") or "").translate(_SHORT_CASE)


def _author_item(node: Any) -> bool:
    return node.get("itemprop") == "author"


class PageScan:
    """The elements (and attribute values) the article's fields select by attribute, found
    in one walk over ``root``'s elements (comments and processing instructions are not
    elements, as for XPath's ``*``). Every list is in document order."""

    __slots__ = ("author_names", "captions", "date_nodes", "itemprops", "itemtypes", "leads",
                 "short_values")

    def __init__(self, root: Any):
        #: elements by their exact ``itemprop`` value: ``//*[@itemprop=$value]``
        self.itemprops: dict[str, list[Any]] = {}
        #: ``//*[@itemscope]/@itemtype``
        self.itemtypes: list[str] = []
        #: ``//figcaption | //body//*[contains(@class, 'caption')] | //body//*[@data-component]``
        self.captions: list[Any] = []
        #: ``//body//time[@datetime] | //body//*[contains(translate(@class, 'DATE', 'date'),
        #: 'date')]``
        self.date_nodes: list[Any] = []
        #: ``//*[@itemprop='author']//*[@itemprop='name'] | //a[@rel='author']``
        self.author_names: list[Any] = []
        #: ``//@data-shorturl | //@data-short-url | //@data-shortUrl |
        #: //*[contains(translate(@class, 'SHORT', 'short'), 'short')]//input/@value``
        self.short_values: list[str] = []
        #: ``metadata.LEAD_CSS``: an element with one of :data:`LEAD_CLASSES` among its
        #: class tokens, or ``[itemprop=description]`` that is not a ``<meta>``
        self.leads: list[Any] = []
        for element in root.iter(etree.Element):
            items = element.items()
            if items:
                self._scan(element, element.tag, items)
            elif element.tag == "figcaption":
                self.captions.append(element)

    def _scan(self, element: Any, tag: str, items: list[tuple[str, str]]) -> None:
        cls = itemprop = itemtype = None
        scoped = component = dated = False
        for name, value in items:
            if name == "class":
                cls = value
            elif name == "itemprop":
                itemprop = value
                self.itemprops.setdefault(value, []).append(element)
            elif name == "itemscope":
                scoped = True
            elif name == "itemtype":
                itemtype = value
            elif name == "data-component":
                component = True
            elif name == "datetime":
                dated = tag == "time"
            elif name in _SHORT_ATTRIBUTES or (
                    name == "value" and tag == "input" and _has_ancestor(element, _short_class)):
                self.short_values.append(value)
        if scoped and itemtype is not None:
            self.itemtypes.append(itemtype)
        if cls is not None:
            # Each class test runs its exact form only after a cheap one that every match
            # passes: most class values hold none of these words.
            lowered = cls.lower()
            if (tag == "figcaption" or component or "caption" in cls) and (
                    tag == "figcaption" or in_body(element)):
                self.captions.append(element)
            if (dated or ("date" in lowered and "date" in cls.translate(_DATE_CASE))) \
                    and in_body(element):
                self.date_nodes.append(element)
            if (any(word in cls for word in _LEAD_WORDS) and not LEAD_CLASSES.isdisjoint(
                    _XPATH_SPACE.split(cls))) or (itemprop == "description" and tag != "meta"):
                self.leads.append(element)
        else:
            if tag == "figcaption" or (component and in_body(element)):
                self.captions.append(element)
            if dated and in_body(element):
                self.date_nodes.append(element)
            if itemprop == "description" and tag != "meta":
                self.leads.append(element)
        if (itemprop == "name" and _has_ancestor(element, _author_item)) or (
                tag == "a" and element.get("rel") == "author"):
            self.author_names.append(element)

    def itemprop(self, value: str) -> list[Any]:
        """``//*[@itemprop=$value]``."""
        return self.itemprops.get(value, [])
