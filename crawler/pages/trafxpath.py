"""Python stand-ins for trafilatura's hottest pruning XPath expressions (issue 10).

trafilatura prunes boilerplate with XPath expressions (``trafilatura/xpaths.py``) whose
EXSLT ``re:test(...)`` predicates call back into Python once per candidate element: on
real pages ~29% of a parser process's CPU went to them (``prune_unwanted_nodes``, above all
the raw-tree prune of precision mode's ``compare_extraction``). Each :class:`Matcher` here
returns exactly the element list its XPath returns (the same elements, in document order)
with one Python loop over lxml's tag-filtered walk (the tag test runs in C), testing the
same regular expressions, compiled once and memoised per attribute value (class strings
repeat across a page and across a site's pages). Measured on the raw trees of the 242 real
pages of ``../shared/eval``, ms per page, XPath -> matcher: OVERALL_DISCARD_XPATH[0]
4.6 -> 0.6, [1] 7.7 -> 2.1, COMMENTS_DISCARD_XPATH[2] 5.0 -> 1.7, PRECISION_DISCARD_XPATH[1]
3.0 -> 0.5, REMOVE_COMMENTS_AND_LISTS_XPATH[0] 1.9 -> 0.4, REMOVE_COMMENTS_XPATH[0]
1.8 -> 0.4, RAW_TREE_PRUNE_XPATH[0] 1.5 -> 0.4, and the callback-free TEASER_DISCARD_XPATH[0]
1.3 -> 0.5 and DISCARD_IMAGE_ELEMENTS[0] 1.2 -> 0.4. The metadata and main-frame lists
(same pages, raw trees, measured beside the above another time, so on a different scale):
AUTHOR_XPATHS[0] 2.3 -> 0.8, [1] 3.3 -> 0.8, [2] 3.3 -> 1.2, AUTHOR_DISCARD_XPATHS[0]
2.5 -> 0.6 (trafilatura's ``extract_author``), CATEGORIES_XPATHS[0] 0.65 -> 0.31, [3]
0.60 -> 0.23, TAGS_XPATHS[2] 0.87 -> 0.28, [3] 0.93 -> 0.60 (``extract_catstags``),
BODY_XPATH[0] 1.5 -> 0.3, [2] 2.1 -> 0.3, [3] 1.7 -> 0.2, [4] 0.7 -> 0.3 (``_extract``,
which takes the first element of the first expression selecting one: ``( )[1]`` expressions
stop at their first match), COMMENTS_DISCARD_XPATH[0] 0.46 -> 0.21, RAW_TREE_PRUNE_XPATH[1]
0.59 -> 0.25.

:func:`install` puts the matchers into trafilatura's module-level lists in place
(``OVERALL_DISCARD_XPATH[0] = matcher``), so every trafilatura caller, which calls
``expression(tree)``, gets them. A matcher is swapped in only where the live expression's
source text (``XPath.path``) is exactly the text it was written for: if a trafilatura
upgrade changes an expression, the original XPath stays and nothing breaks silently.
``tests/test_trafxpath.py`` compares every matcher with its XPath element by element.

XPath semantics reproduced (each one is a clause of some expression):

- ``.//*`` is every descendant *element* of the context node, not the node itself, not
  comments or processing instructions; ``self::div`` is the tag name;
- ``//*`` is every element of the context node's *document*, its root element included,
  whatever the context node (extract_author's deepcopy is a document of its own);
- ``.//*[P][1]`` is ``descendant-or-self::node()/child::*[P][1]``: the first child
  satisfying P of every parent, where ``(.//*[P])[1]`` is the first in the document;
- ``rel='me'`` (AUTHOR_XPATHS[0]) compares the string value of child *elements* named rel,
  not an attribute; ``re:test(@class, P, 'i')`` ignores case;
- ``re:test(@id, P)`` is ``re.search(P, value)`` with the pattern as written and no flags
  (lxml's EXSLT implementation is Python's ``re``); an absent attribute is the empty
  string, which none of the patterns here matches (a test checks it), so an element
  without the attribute is not tested;
- ``re:test(@id|@class, P)`` and ``starts-with(@id|@class, s)`` see only the *first* of the
  two attributes in source order (the string value of a node-set is its first node in
  document order), which is ``el.keys()`` order in lxml;
- ``contains(translate(@role, 'N', 'n'), 'nav')`` is ``'nav' in role.replace('N', 'n')``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from lxml import etree

REGEXP_NS = "http://exslt.org/regular-expressions"
_NS = {"re": REGEXP_NS}
# memoised attribute values per pattern, cleared when this big (a crawl sees unbounded
# distinct class strings; a page a few hundred)
_MEMO_MAX = 20_000


class _Search(dict[str, bool]):
    """``memo[value]`` = whether the pattern is found in ``value`` (``re.search``),
    computed once per distinct value: a dict hit is cheaper than the regex."""

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self.pattern = pattern
        # compiled at the first use: importing this module stays cheap
        self._search: Callable[[str], re.Match[str] | None] | None = None

    def __missing__(self, value: str) -> bool:
        if self._search is None:
            self._search = re.compile(self.pattern).search
        if len(self) >= _MEMO_MAX:
            self.clear()
        found = self[value] = self._search(value) is not None
        return found


def _first(el: Any, a: str, b: str, va: str | None, vb: str | None) -> str:
    """The string value of ``@a|@b``: the first of the two attributes in source order
    (``va``/``vb`` are their values, None when absent), '' when neither is there."""
    if va is None:
        return vb or ""
    if vb is None:
        return va
    # both present: the one written first wins (iterating ``el`` would give its children)
    for key in el.keys():  # noqa: SIM118
        if key == a:
            return va
        if key == b:
            return vb
    return va  # not reached: both keys are in el.keys()


_TAGS6 = ("div", "item", "list", "p", "section", "span")


def _select(*tags: str) -> Callable[[Any], Iterator[Any]]:
    """The candidates a matcher tests in Python, in document order: the descendant elements
    named ``tags``, every descendant element without ``tags`` (``etree.Element`` skips
    comments, processing instructions and entities, as ``*`` does). lxml's tag-filtered
    ``iterdescendants`` is measured ~3x faster than an XPath ``.//*[self::div or ...]``
    returning the same list, and for every element a little faster than an attribute
    filter in XPath (``descendant::*[@id or @class]``) followed by the same ``get`` calls."""
    if tags:
        return lambda tree: tree.iterdescendants(*tags)
    return lambda tree: tree.iterdescendants(etree.Element)


# --- OVERALL_DISCARD_XPATH[0] --------------------------------------------------------------

_OD0_COOKIE = "cookie"
_OD0_ID = (
    "^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
    "^(?:jp-|dpsp-content)|bmdh|footer|Footer|share|Share|nav|Nav|menu|related|"
    "message-container|premium|^ad-"
)
_OD0_CLASS = (
    "^shar|social|viral|newsletter|syndication|tags|sidebar|banner|bread-?crumb|button|author|"
    "^(?:nav|post-nav|ZendeskForm)|subnav|avigation|navbar|navbox|menu|bar| ad |-ad-|(?:^| )ad-|"
    "dfp[Aa]d|outbrain|taboola|criteo|paid-?content|widget|footer|Footer|byline|Byline|share-|"
    "sociable|embedded|embed|tag-list|consent|modal-content|permission|elated|next-|-stories|"
    "most-popular|more-on|meta|rating|attachment|timestamp|user-info|user-profile|-icon|"
    "article-infos|message-container|slide|viewport|overlay|options|expand|obfuscated|blurred|"
    "mol-factbox|yin|zlylin|nfoline"
)
_OD0_PATH = f"""
        .//*[self::div or self::item or self::list or self::p or self::section or self::span][
        @data-lp-replacement-content or
        contains(translate(@role, 'N', 'n'), 'nav') or
        contains(@data-component, 'MostPopularStories') or
        re:test(@id|@class, '{_OD0_COOKIE}') or
        re:test(@id, '{_OD0_ID}') or
        re:test(@class, '{_OD0_CLASS}')]
        """
_od0_cookie = _Search(_OD0_COOKIE)
_od0_id = _Search(_OD0_ID)
_od0_class = _Search(_OD0_CLASS)
_od0_pre = _select(*_TAGS6)


def _overall_discard_0(tree: Any) -> list[Any]:
    out = []
    for el in _od0_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        if ((id_ is not None and _od0_id[id_])
                or (cls is not None and _od0_class[cls])
                or ((id_ is not None or cls is not None)
                    and _od0_cookie[_first(el, "id", "class", id_, cls)])
                or get("data-lp-replacement-content") is not None
                or "nav" in (get("role") or "").replace("N", "n")
                or "MostPopularStories" in (get("data-component") or "")):
            out.append(el)
    return out


# --- OVERALL_DISCARD_XPATH[1] --------------------------------------------------------------

_OD1_HIDDEN = "hidden"
_OD1_ID = "reader-comments|akismet"
_OD1_CLASS = (
    "^hide-|comments-title|nocomments|-reply-|message|akismet|suggest-links|-hide-|hide-print|"
    " hidden| hide|noprint|notloaded"
)
_OD1_PATH = f"""
        .//*[@class='comments-title' or
        starts-with(@id|@class, 'reply-') or
        re:test(@id|@style, '{_OD1_HIDDEN}') or
        contains(@style, 'display:none') or contains(@style, 'display: none') or
        re:test(@id, '{_OD1_ID}') or
        re:test(@class, '{_OD1_CLASS}') or @aria-hidden='true']
        """
_od1_hidden = _Search(_OD1_HIDDEN)
_od1_id = _Search(_OD1_ID)
_od1_class = _Search(_OD1_CLASS)
_od1_pre = _select()


def _overall_discard_1(tree: Any) -> list[Any]:
    out = []
    for el in _od1_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        style = get("style")
        if ((cls is not None and (cls == "comments-title" or _od1_class[cls]))
                or (id_ is not None and _od1_id[id_])
                or ((id_ is not None or cls is not None)
                    and _first(el, "id", "class", id_, cls).startswith("reply-"))
                or ((id_ is not None or style is not None)
                    and _od1_hidden[_first(el, "id", "style", id_, style)])
                or (style is not None and ("display:none" in style or "display: none" in style))
                or get("aria-hidden") == "true"):
            out.append(el)
    return out


# --- REMOVE_COMMENTS_XPATH[0], REMOVE_COMMENTS_AND_LISTS_XPATH[0] ---------------------------

_RC_ID_SHORT = "^(?:[Cc]omment(?!ary)|comol)"
_RC_ID = "^(?:[Cc]omment(?!ary)|comol|disqus_thread|dsq-comments)"
_RC_CLASS = "^[Cc]omment(?!ary)|(?:article|post)-comments"
_RC_PATH = f"""
        .//*[self::div or self::list or self::section or self::details][
        re:test(@id, '{_RC_ID}') or
        re:test(@class, '{_RC_CLASS}')]
        """
_RCL_OL_UL = (f"not(self::ol or self::ul) or re:test(@id, '{_RC_ID_SHORT}') or "
              f"re:test(@class, '{_RC_CLASS}')")
_RCL_PATH = f"""
        .//*[self::div or self::list or self::section or self::details or self::ol or self::ul][
        re:test(@id, '{_RC_ID}') or
        re:test(@class, '{_RC_CLASS}')][
        {_RCL_OL_UL}]
        """
_rc_id = _Search(_RC_ID)
_rc_id_short = _Search(_RC_ID_SHORT)
_rc_class = _Search(_RC_CLASS)
_rc_pre = _select("div", "list", "section", "details")
_rcl_pre = _select("div", "list", "section", "details", "ol", "ul")


def _remove_comments(tree: Any) -> list[Any]:
    out = []
    for el in _rc_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        if (id_ is not None and _rc_id[id_]) or (cls is not None and _rc_class[cls]):
            out.append(el)
    return out


def _remove_comments_and_lists(tree: Any) -> list[Any]:
    out = []
    for el in _rcl_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        class_hit = cls is not None and _rc_class[cls]
        # second predicate: ol/ul only by the comment ids (no disqus ids) or the class
        if class_hit or (id_ is not None and (
                _rc_id_short[id_] if el.tag in ("ol", "ul") else _rc_id[id_])):
            out.append(el)
    return out


# --- RAW_TREE_PRUNE_XPATH[0] ----------------------------------------------------------------

_RT_MVP = "mvp-post-add-(?:box|wrap)"
_RT_ANY = "mvp-post-add-(?:box|wrap)|infinite-?scroll"
_RT_PATH = f"""
        .//*[self::div or self::section or self::aside][
        re:test(@id, '{_RT_ANY}') or
        re:test(@class, '{_RT_ANY}')][
        not(.//h1) or re:test(@id, '{_RT_MVP}') or re:test(@class, '{_RT_MVP}')]
        """
_rt_any = _Search(_RT_ANY)
_rt_mvp = _Search(_RT_MVP)
_rt_pre = _select("div", "section", "aside")


def _raw_tree_prune(tree: Any) -> list[Any]:
    out = []
    for el in _rt_pre(tree):
        get = el.get
        id_ = get("id") or ""
        cls = get("class") or ""
        if (_rt_any[id_] or _rt_any[cls]) and (
                _rt_mvp[id_] or _rt_mvp[cls] or next(el.iterdescendants("h1"), None) is None):
            out.append(el)
    return out


# --- COMMENTS_DISCARD_XPATH[2] --------------------------------------------------------------

_CD_CLASS = "comments-title|nocomments|-reply-|message|signin"
_CD_FIRST = "^reply-|akismet"
_CD_PATH = f"""
        .//*[
        @class='comments-title' or
        contains(@style, 'display:none') or
        re:test(@class, '{_CD_CLASS}') or
        re:test(@id|@class, '{_CD_FIRST}')]
        """
_cd_class = _Search(_CD_CLASS)
_cd_first = _Search(_CD_FIRST)
_cd_pre = _select()


def _comments_discard_2(tree: Any) -> list[Any]:
    out = []
    for el in _cd_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        style = get("style")
        if ((cls is not None and _cd_class[cls])
                or (style is not None and "display:none" in style)
                or ((id_ is not None or cls is not None)
                    and _cd_first[_first(el, "id", "class", id_, cls)])):
            # @class='comments-title' is inside the class pattern already
            out.append(el)
    return out


# --- PRECISION_DISCARD_XPATH[1] -------------------------------------------------------------

_PD_BOTTOM = r"(^|\s)bottom|bottom(\s|$)"
_PD_LINK = r"(^|\s)link(\s|$)"
_PD_PATH = f"""
    .//*[self::div or self::item or self::list or self::p or self::section or self::span][
    re:test(@id|@class, '{_PD_BOTTOM}') or re:test(@id|@class, '{_PD_LINK}') or
    contains(@style, 'border')]
    """
_pd_bottom = _Search(_PD_BOTTOM)
_pd_link = _Search(_PD_LINK)
_pd_pre = _select(*_TAGS6)


def _precision_discard_1(tree: Any) -> list[Any]:
    out = []
    for el in _pd_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        style = get("style")
        if style is not None and "border" in style:
            out.append(el)
        elif id_ is not None or cls is not None:
            first = _first(el, "id", "class", id_, cls)
            if _pd_bottom[first] or _pd_link[first]:
                out.append(el)
    return out


# --- TEASER_DISCARD_XPATH[0], DISCARD_IMAGE_ELEMENTS[0] --------------------------------------
# callback-free XPath, but the tag-filtered walk still beats its ``self::`` tests

_TD_PATH = """
    .//*[self::div or self::item or self::list or self::p or self::section or self::span][
    contains(translate(@id, 'T', 't'), 'teaser') or contains(translate(@class, 'T', 't'), 'teaser')]
    """
_td_pre = _select(*_TAGS6)


def _teaser_discard(tree: Any) -> list[Any]:
    out = []
    for el in _td_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        if ((id_ is not None and "teaser" in id_.replace("T", "t"))
                or (cls is not None and "teaser" in cls.replace("T", "t"))):
            out.append(el)
    return out


_DI_PATH = """
    .//*[self::div or self::item or self::list or self::p or self::section or self::span][
    contains(@id, 'caption') or contains(@class, 'caption')]
    """
_di_pre = _select(*_TAGS6)


def _discard_image(tree: Any) -> list[Any]:
    out = []
    for el in _di_pre(tree):
        get = el.get
        id_ = get("id")
        cls = get("class")
        if (id_ is not None and "caption" in id_) or (cls is not None and "caption" in cls):
            out.append(el)
    return out


# --- COMMENTS_DISCARD_XPATH[0], RAW_TREE_PRUNE_XPATH[1]: callback-free, but the tag-filtered
# walk beats their ``self::`` tests (COMMENTS_DISCARD_XPATH[1] ``.//cite|.//quote``,
# PRECISION_DISCARD_XPATH[0] ``.//header``, BODY_XPATH[1] ``(.//article)[1]`` stay XPath:
# a matcher measured under 0.06 ms per page faster)

_CD0_PATH = ".//*[self::div or self::section][starts-with(@id, 'respond')]"


def _comments_discard_0(tree: Any) -> list[Any]:
    return [el for el in tree.iterdescendants("div", "section")
            if (el.get("id") or "").startswith("respond")]


_RT1_PATH = (".//*[self::div or self::section or self::aside]"
             "[contains(@class, 'elementor-share-buttons')]")


def _raw_tree_prune_1(tree: Any) -> list[Any]:
    return [el for el in tree.iterdescendants("div", "section", "aside")
            if "elementor-share-buttons" in (el.get("class") or "")]


# --- AUTHOR_XPATHS, AUTHOR_DISCARD_XPATHS (trafilatura's extract_author) ----------------------
# ``//`` is the whole document of the context node (from its root element, itself included),
# not the context's subtree: extract_author hands them a deepcopy, whose root is the copy


def _root(tree: Any) -> Any:
    return tree.getroottree().getroot()


_AU0_CLASS = "author-?name|AuthorName|authorName"
_AU0_PATH = f"""
        //*[self::a or self::address or self::div or self::link or self::p or self::span or self::strong][
        @rel='author' or @id='author' or @class='author' or @itemprop='author name' or rel='me' or
        @data-testid='AuthorCard' or @data-testid='AuthorURL' or
        re:test(@class, '{_AU0_CLASS}')]|//author
        """  # noqa: E501 (trafilatura's text, character for character)
_au0_class = _Search(_AU0_CLASS)
_AU0_TAGS = ("a", "address", "div", "link", "p", "span", "strong")
_REL_ME = etree.XPath("string() = 'me'")


def _author_0(tree: Any) -> list[Any]:
    root = _root(tree)
    # ``rel='me'``: a child *element* named rel whose string value is 'me' (rare: XPath's own
    # string value decides, for the parents of rel elements only)
    rel_me = {r.getparent() for r in root.iter("rel") if _REL_ME(r)}
    out = []
    for el in root.iter(*_AU0_TAGS, "author"):
        if el.tag == "author":  # |//author: the union, in document order
            out.append(el)
            continue
        get = el.get
        cls = get("class")
        if ((cls is not None and (cls == "author" or _au0_class[cls]))
                or get("rel") == "author" or get("id") == "author"
                or get("itemprop") == "author name"
                or get("data-testid") in ("AuthorCard", "AuthorURL")
                or (rel_me and el in rel_me)):
            out.append(el)
    return out


_AU1_ID = "author|zuozhe|bianji|xiaobian"
_AU1_CLASS = "author|channel-name|zuozhe|bianji|xiaobian|submitted-by|posted-by|journalist-name"
_AU1_PATH = f"""
        //*[self::a or self::div or self::h3 or self::h4 or self::p or self::span][
        @class='byline' or @class='username' or @class='byl' or @class='BBL' or
        contains(@itemprop, 'author') or
        re:test(@id, '{_AU1_ID}') or
        re:test(@class, '{_AU1_CLASS}')]
        """
_au1_id = _Search(_AU1_ID)
_au1_class = _Search(_AU1_CLASS)
_AU1_EXACT = frozenset(("byline", "username", "byl", "BBL"))


def _author_1(tree: Any) -> list[Any]:
    out = []
    for el in _root(tree).iter("a", "div", "h3", "h4", "p", "span"):
        get = el.get
        cls = get("class")
        id_ = get("id")
        if ((cls is not None and (cls in _AU1_EXACT or _au1_class[cls]))
                or (id_ is not None and _au1_id[id_])
                or "author" in (get("itemprop") or "")):
            out.append(el)
    return out


_AU2_ID = "[Aa]uthor"
_AU2_CLASS = "[Aa]uthor|screenname|writer|[Bb]yline"
_AU2_PATH = f"""
        //*[
        contains(@data-component, 'Byline') or contains(@itemprop, 'author') or
        re:test(@id, '{_AU2_ID}') or
        re:test(@class, '{_AU2_CLASS}')]
        """
_au2_id = _Search(_AU2_ID)
_au2_class = _Search(_AU2_CLASS)


def _author_2(tree: Any) -> list[Any]:
    out = []
    for el in _root(tree).iter(etree.Element):
        get = el.get
        cls = get("class")
        id_ = get("id")
        if ((cls is not None and _au2_class[cls])
                or (id_ is not None and _au2_id[id_])
                or "author" in (get("itemprop") or "")
                or "Byline" in (get("data-component") or "")):
            out.append(el)
    return out


_AD_ID = "^comments|comment-?list|ProductReviews"
_AD_CLASS = ("^[Cc]omments|commentlist|comments-list|sidebar|is-hidden|quote|embedly-instagram|"
             "article-(?:share|support)|print|category|meta-date|meta-reviewer")
_AD_PATH = f"""
        .//*[self::a or self::div or self::section or self::span][
        @id='comments' or @class='comments' or @class='title' or @class='date' or
        re:test(@id, '{_AD_ID}') or
        re:test(@class, '{_AD_CLASS}') or
        contains(@data-component, 'Figure')]
        """
_ad_id = _Search(_AD_ID)
_ad_class = _Search(_AD_CLASS)
_ad_pre = _select("a", "div", "section", "span")


def _author_discard_0(tree: Any) -> list[Any]:
    out = []
    for el in _ad_pre(tree):
        get = el.get
        cls = get("class")
        id_ = get("id")
        # @id='comments' is inside the id pattern, @class='comments' inside the class one
        if ((cls is not None and (cls in ("title", "date") or _ad_class[cls]))
                or (id_ is not None and _ad_id[id_])
                or "Figure" in (get("data-component") or "")):
            out.append(el)
    return out


# --- CATEGORIES_XPATHS, TAGS_XPATHS (trafilatura's extract_catstags) --------------------------
# ``//C//a[@href]``: the links under any container C, each once, in document order


def _links_under(containers: Iterable[Any]) -> list[Any]:
    """The ``a`` elements with an href under (not at) the containers, given in document
    order: nested containers are covered by their outermost one."""
    out: list[Any] = []
    last = None
    for c in containers:
        if last is not None and any(a is last for a in c.iterancestors()):
            continue
        last = c
        out.extend(a for a in c.iterdescendants("a") if a.get("href") is not None)
    return out


_CA0_CLASS = "^(?:post-?info|post-?meta|meta|entry-meta|entry-info|entry-utility)"
_CA0_PATH = f"""
        //div[
        re:test(@class, '{_CA0_CLASS}') or
        starts-with(@id, 'postpath')]//a[@href]
        """
_ca0_class = _Search(_CA0_CLASS)


def _categories_0(tree: Any) -> list[Any]:
    return _links_under(
        el for el in _root(tree).iter("div")
        if _ca0_class[el.get("class") or ""] or (el.get("id") or "").startswith("postpath"))


_CA3_PATH = """//*[self::li or self::span][@class='post-category' or @class='postcategory' or
     @class='entry-category' or contains(@class, 'cat-links')]//a[@href]"""
_CA3_EXACT = frozenset(("post-category", "postcategory", "entry-category"))


def _categories_3(tree: Any) -> list[Any]:
    return _links_under(
        el for el in _root(tree).iter("li", "span")
        if (cls := el.get("class")) is not None and (cls in _CA3_EXACT or "cat-links" in cls))


_TA2_CLASS = "^(?:tag|postmeta|meta)"
_TA2_PATH = f"""//div[@class='row' or @class='jp-relatedposts' or @class='entry-utility' or
    re:test(@class, '{_TA2_CLASS}')]//a[@href]"""
_ta2_class = _Search(_TA2_CLASS)
_TA2_EXACT = frozenset(("row", "jp-relatedposts", "entry-utility"))


def _tags_2(tree: Any) -> list[Any]:
    return _links_under(
        el for el in _root(tree).iter("div")
        if (cls := el.get("class")) is not None and (cls in _TA2_EXACT or _ta2_class[cls]))


_TA3_PATH = """//*[@class='entry-meta' or contains(@class, 'topics') or
     contains(@class, 'tags-links')]//a[@href]"""


def _tags_3(tree: Any) -> list[Any]:
    return _links_under(
        el for el in _root(tree).iter(etree.Element)
        if (cls := el.get("class")) is not None
        and (cls == "entry-meta" or "topics" in cls or "tags-links" in cls))


# --- BODY_XPATH (trafilatura's _extract: the first element of the first expression that
# selects one is the main content's frame) -----------------------------------------------------

_BODY_TAGS = ("article", "div", "main", "section")
_BO0_ID = ("(?:entry|article|art)-content|article__content|article(?:-|__)?body|articleBody|"
           "body-text")
_BO0_CLASS = (
    "post[-_]text|post-body|post-?entry|post[-_]?content|postContent|post_inner_wrapper|"
    "article-?text|articleText|(?:entry|page|text|article|art)-content|article__content|"
    "article(?:-|__)?body|articleBody|ArticleContent|body-text|article__container"
)
_BO0_PATH = f"""
        .//*[self::article or self::div or self::main or self::section][
        @class='post' or @class='entry' or
        @itemprop='articleBody' or @id='articleContent' or
        re:test(@id, '{_BO0_ID}') or
        re:test(@class, '{_BO0_CLASS}')
        ][1]
        """
_bo0_id = _Search(_BO0_ID)
_bo0_class = _Search(_BO0_CLASS)


def _body_0(tree: Any) -> list[Any]:
    # ``.//*[P][1]`` is ``descendant-or-self::node()/child::*[P][1]``: for every parent, its
    # first child satisfying P (not only the first in the document)
    out = []
    parents = set()
    for el in tree.iterdescendants(*_BODY_TAGS):
        get = el.get
        cls = get("class")
        id_ = get("id")
        if ((cls is not None and (cls in ("post", "entry") or _bo0_class[cls]))
                or (id_ is not None and (id_ == "articleContent" or _bo0_id[id_]))
                or get("itemprop") == "articleBody"):
            parent = el.getparent()
            if parent not in parents:
                parents.add(parent)
                out.append(el)
    return out


_BO2_ID = "^primary|story-body"
_BO2_FULLTEXT = "fulltext"  # with the flag 'i': ignoring case
_BO2_CLASS = (
    "^article |post-bodycopy|story-?content|(?:theme|blog|section|single)-content|single-post|"
    "main-column|wpb_text_column|story-body|field-body"
)
_BO2_PATH = f"""
        (.//*[self::article or self::div or self::main or self::section][
        @role='article' or
        @id='article' or @id='story' or
        @class='postarea' or @class='art-postcontent' or @class='text' or @class='cell' or @class='story' or
        re:test(@id, '{_BO2_ID}') or
        re:test(@class, '{_BO2_FULLTEXT}', 'i') or
        re:test(@class, '{_BO2_CLASS}')
        ])[1]
        """  # noqa: E501
_bo2_id = _Search(_BO2_ID)
_bo2_fulltext = _Search("(?i)" + _BO2_FULLTEXT)
_bo2_class = _Search(_BO2_CLASS)
_BO2_EXACT_CLASS = frozenset(("postarea", "art-postcontent", "text", "cell", "story"))


def _body_2(tree: Any) -> list[Any]:
    for el in tree.iterdescendants(*_BODY_TAGS):
        get = el.get
        cls = get("class")
        id_ = get("id")
        if ((cls is not None and (cls in _BO2_EXACT_CLASS or _bo2_class[cls]
                                  or _bo2_fulltext[cls]))
                or (id_ is not None and (id_ in ("article", "story") or _bo2_id[id_]))
                or get("role") == "article"):
            return [el]
    return []


_BO3_ID = "content-main|content-body|contentBody"
_BO3_CLASS = "content[-_]main|content(?:-|__)body"
_BO3_PATH = f"""
        (.//*[self::article or self::div or self::main or self::section][
        @id='content' or @class='content' or
        re:test(@id, '{_BO3_ID}') or
        re:test(@class, '{_BO3_CLASS}') or
        contains(translate(@id, 'CM','cm'), 'main-content') or contains(translate(@class, 'CM','cm'), 'main-content') or
        contains(translate(@class, 'CP','cp'), 'page-content')
        ])[1]
        """  # noqa: E501
_bo3_id = _Search(_BO3_ID)
_bo3_class = _Search(_BO3_CLASS)


def _body_3(tree: Any) -> list[Any]:
    for el in tree.iterdescendants(*_BODY_TAGS):
        get = el.get
        cls = get("class")
        id_ = get("id")
        if ((cls is not None and (
                cls == "content" or _bo3_class[cls]
                or "main-content" in cls.replace("C", "c").replace("M", "m")
                or "page-content" in cls.replace("C", "c").replace("P", "p")))
                or (id_ is not None and (
                    id_ == "content" or _bo3_id[id_]
                    or "main-content" in id_.replace("C", "c").replace("M", "m")))):
            return [el]
    return []


_BO4_PATH = """
        (.//*[self::article or self::div or self::section][
        starts-with(@class, 'main') or starts-with(@id, 'main') or starts-with(@role, 'main')])[1]|(.//main)[1]
        """  # noqa: E501


def _body_4(tree: Any) -> list[Any]:
    # the union of the first such article/div/section and the first main, in document order
    out: list[Any] = []
    main_seen = frame_seen = False
    for el in tree.iterdescendants(*_BODY_TAGS):
        if el.tag == "main":
            if not main_seen:
                main_seen = True
                out.append(el)
        elif not frame_seen:
            get = el.get
            if ((get("class") or "").startswith("main") or (get("id") or "").startswith("main")
                    or (get("role") or "").startswith("main")):
                frame_seen = True
                out.append(el)
        if main_seen and frame_seen:
            break
    return out


# --- the matchers and their installation ----------------------------------------------------


class Matcher:
    """A drop-in for one trafilatura XPath object: ``matcher(tree)`` returns the list of
    elements the XPath ``path`` selects under the element ``tree``."""

    def __init__(self, list_name: str, index: int, path: str,
                 fn: Callable[[Any], list[Any]]) -> None:
        self.list_name = list_name
        self.index = index
        self.path = path  # the exact XPath source text this stands in for
        self._fn = fn
        self.original: etree.XPath | None = None  # the XPath object it replaced

    def __repr__(self) -> str:
        return f"<trafxpath.Matcher {self.list_name}[{self.index}]>"

    def xpath(self) -> etree.XPath:
        """The XPath this matcher stands in for (the replaced object once installed)."""
        if self.original is None:
            self.original = etree.XPath(self.path, namespaces=_NS)
        return self.original

    def __call__(self, tree: Any, **variables: Any) -> list[Any]:
        # the matchers are written for an element context; a whole ElementTree (its
        # document node is the context, the root then matches too) or XPath variables
        # go to the XPath itself
        if variables or not isinstance(tree, etree._Element):
            return self.xpath()(tree, **variables)
        return self._fn(tree)


MATCHERS: tuple[Matcher, ...] = (
    Matcher("OVERALL_DISCARD_XPATH", 0, _OD0_PATH, _overall_discard_0),
    Matcher("OVERALL_DISCARD_XPATH", 1, _OD1_PATH, _overall_discard_1),
    Matcher("REMOVE_COMMENTS_AND_LISTS_XPATH", 0, _RCL_PATH, _remove_comments_and_lists),
    Matcher("REMOVE_COMMENTS_XPATH", 0, _RC_PATH, _remove_comments),
    Matcher("RAW_TREE_PRUNE_XPATH", 0, _RT_PATH, _raw_tree_prune),
    Matcher("COMMENTS_DISCARD_XPATH", 2, _CD_PATH, _comments_discard_2),
    Matcher("PRECISION_DISCARD_XPATH", 1, _PD_PATH, _precision_discard_1),
    Matcher("TEASER_DISCARD_XPATH", 0, _TD_PATH, _teaser_discard),
    Matcher("DISCARD_IMAGE_ELEMENTS", 0, _DI_PATH, _discard_image),
    Matcher("AUTHOR_XPATHS", 0, _AU0_PATH, _author_0),
    Matcher("AUTHOR_XPATHS", 1, _AU1_PATH, _author_1),
    Matcher("AUTHOR_XPATHS", 2, _AU2_PATH, _author_2),
    Matcher("AUTHOR_DISCARD_XPATHS", 0, _AD_PATH, _author_discard_0),
    Matcher("CATEGORIES_XPATHS", 0, _CA0_PATH, _categories_0),
    Matcher("CATEGORIES_XPATHS", 3, _CA3_PATH, _categories_3),
    Matcher("TAGS_XPATHS", 2, _TA2_PATH, _tags_2),
    Matcher("TAGS_XPATHS", 3, _TA3_PATH, _tags_3),
    Matcher("BODY_XPATH", 0, _BO0_PATH, _body_0),
    Matcher("BODY_XPATH", 2, _BO2_PATH, _body_2),
    Matcher("BODY_XPATH", 3, _BO3_PATH, _body_3),
    Matcher("BODY_XPATH", 4, _BO4_PATH, _body_4),
    Matcher("COMMENTS_DISCARD_XPATH", 0, _CD0_PATH, _comments_discard_0),
    Matcher("RAW_TREE_PRUNE_XPATH", 1, _RT1_PATH, _raw_tree_prune_1),
)


def install(module: Any = None, matchers: Iterable[Matcher] = MATCHERS) -> list[Matcher]:
    """Swap the matchers into ``module``'s lists (trafilatura.xpaths by default) in place,
    each only where the slot holds an XPath whose source text is exactly the matcher's;
    idempotent. Returns the matchers now in place."""
    if module is None:
        if _stock_held:  # inside stock_xpaths(): a caller's install() must not undo it
            return []
        from trafilatura import xpaths as module
    placed = []
    for matcher in matchers:
        slots = getattr(module, matcher.list_name, None)
        if not isinstance(slots, list) or len(slots) <= matcher.index:
            continue
        live = slots[matcher.index]
        if live is matcher:
            placed.append(matcher)
        elif isinstance(live, etree.XPath) and live.path == matcher.path:
            matcher.original = live
            slots[matcher.index] = matcher
            placed.append(matcher)
    return placed


def uninstall(module: Any = None, matchers: Iterable[Matcher] = MATCHERS) -> None:
    """Put the original XPath objects back where :func:`install` swapped matchers in."""
    if module is None:
        from trafilatura import xpaths as module
    for matcher in matchers:
        slots = getattr(module, matcher.list_name, None)
        if (isinstance(slots, list) and len(slots) > matcher.index
                and slots[matcher.index] is matcher and matcher.original is not None):
            slots[matcher.index] = matcher.original


_stock_held = False


@contextmanager
def stock_xpaths() -> Iterator[None]:
    """trafilatura's own XPath expressions inside the block, even where our code calls
    :func:`install` (for comparisons in tests and the benchmark's stock baseline); the
    matchers that were installed are back after it. Not reentrant, not thread-safe."""
    global _stock_held
    from trafilatura import xpaths

    was = [m for m in MATCHERS if getattr(xpaths, m.list_name)[m.index] is m]
    uninstall(xpaths, was)
    _stock_held = True
    try:
        yield
    finally:
        _stock_held = False
        install(xpaths, was)
