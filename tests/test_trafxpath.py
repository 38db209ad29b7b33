"""The Python matchers of :mod:`crawler.pages.trafxpath` select exactly what the trafilatura
XPath expressions they replace select: the same elements (identity), the same order, on the
repository's HTML pages, on generated trees that exercise every clause, and on the real pages
of ``../shared/eval`` (``MEDIAWATCH_EVAL``; skipped without them), raw as trafilatura parses
them and after its cleaning and tag conversion (where the pruning in extraction runs). Then
trafilatura's and our output (text, author, categories, tags, our articles' fields) are the
same with the matchers installed and without.
"""

from __future__ import annotations

import random
from copy import copy, deepcopy
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
import trafilatura
from lxml import etree, html
from trafilatura import xpaths
from trafilatura.htmlprocessing import convert_tags, tree_cleaning
from trafilatura.metadata import extract_author, extract_catstags
from trafilatura.settings import Extractor
from trafilatura.utils import load_html

from crawler.pages import bodytext as bt
from crawler.pages import trafxpath as tx
from crawler.pages.listings import ArticlePage
from tests.test_parser_equivalence import EVAL, _body, _captured, _eval_pages, outcome

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[1]
URL = "https://news.example.org/2024/05/01/story-1"


def _repo_pages() -> list[Path]:
    """Every HTML page of the repository: test fixtures and the sample newsroom."""
    return sorted(p for d in (ROOT / "tests" / "fixtures", ROOT / "scheduler")
                  for p in d.rglob("*") if p.name.endswith((".html", ".html.gz")))


def _all_eval_pages() -> list[Path]:
    """Every real page (the comparison of the matchers alone is quick)."""
    return sorted(p for d in (EVAL / "aeb" / "html", EVAL / "news_html") if d.is_dir()
                  for p in d.rglob("*") if p.name.endswith((".html", ".html.gz")))


def _originals() -> list[tuple[tx.Matcher, etree.XPath]]:
    """Each matcher with trafilatura's XPath object it stands in for."""
    return [(m, m.xpath()) for m in tx.MATCHERS]


def assert_same(tree: Any, where: str) -> None:
    for matcher, xp in _originals():
        want = xp(tree)
        got = matcher(tree)
        assert len(got) == len(want), (where, matcher, len(got), len(want))
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g is w, (where, matcher, i, g, w)


def _cleaned(tree: Any) -> Any:
    """The tree as trafilatura's extraction prunes it: cleaned and converted (``list``,
    ``item``... tags), as in ``trafilatura.core._prepare_tree``."""
    options = Extractor(precision=True, comments=False, tables=True)
    return convert_tags(tree_cleaning(copy(tree), options), options, URL)


def _check_pages(paths: list[Path]) -> int:
    checked = 0
    for path in paths:
        tree = load_html(_body(path))
        if tree is None:
            continue
        assert_same(tree, f"{path} (raw)")
        assert_same(_cleaned(tree), f"{path} (cleaned)")
        checked += 1
    return checked


# --- the matchers against the XPath -------------------------------------------------------

def test_paths_are_trafilaturas() -> None:
    """Each matcher was written for the expression this trafilatura has (else install()
    keeps the XPath, and these matchers go untested against the live text)."""
    for matcher in tx.MATCHERS:
        assert getattr(xpaths, matcher.list_name)[matcher.index].path == matcher.path, matcher


def test_no_pattern_matches_the_empty_string() -> None:
    """The matchers skip absent attributes (XPath's empty string): sound only while no
    pattern matches ''."""
    memos = [v for v in vars(tx).values() if isinstance(v, tx._Search)]
    assert len(memos) >= 30
    for memo in memos:
        assert not memo[""], memo.pattern


def test_same_on_repository_pages() -> None:
    assert _check_pages(_repo_pages()) > 50


@pytest.mark.skipif(not _all_eval_pages(), reason="no ../shared/eval pages (MEDIAWATCH_EVAL)")
def test_same_on_real_pages() -> None:
    assert _check_pages(_all_eval_pages()) > 200


_VALUES: dict[str, list[str]] = {
    "id": ["", "x", "comments", "Comment-list", "commentary", "comol", "disqus_thread",
           "dsq-comments", "reply-1", "share-bar", "Share", "cookie-bar", "hidden-x",
           "reader-comments", "akismet", "mvp-post-add-box", "infinite-scroll", "Teaser1",
           "caption", "main", "Nav", "foo bottom", "bottom", "link", "respond", "ad-top",
           "jp-x", "premium", "author", "Author-box", "zuozhe", "postpath-2", "articleContent",
           "article-body", "article", "story", "primary-col", "content", "contentBody",
           "Main-Content", "main", "main-x", "ProductReviews", "commentlist", "respond-x"],
    "class": ["", "x", "comments-title", "comment", "Comments", "commentary",
              "article-comments", "reply-x", "hide-me", "x hidden", "a hide", "foo-ad-bar",
              "ad-top", "a ad b", "widget", "cookie", "bottom", "footer-bottom", "bottom x",
              "Padding-bottom-lg", "page link", "link-x", "teaserBox", "TeaserBox", "caption",
              "mvp-post-add-wrap", "infinite-scroll", "message", "signin", "meta", "post-nav",
              "nav", "content", "yin", "hidden", "-reply-", "akismet", "elementor-share-buttons",
              "author", "author-name", "AuthorName", "byline", "Byline x", "username", "byl",
              "BBL", "channel-name", "writer", "screenname", "title", "date", "is-hidden",
              "quote", "print", "category", "meta-date", "post-info", "postmeta x",
              "entry-meta", "entry-utility", "row", "jp-relatedposts", "tag-cloud", "tags",
              "tags-links", "topics", "cat-links x", "post-category", "postcategory",
              "entry-category", "post", "entry", "post-content", "articleBody", "FullText",
              "fulltext", "text", "cell", "story", "postarea", "article x", "content",
              "content-main", "Main-Content", "Page-Content", "main", "main-col"],
    "style": ["", "display:none", "display: none", "border:1px", "color:red", "hidden",
              "visibility: hidden"],
    "role": ["", "Navigation", "navigation", "main", "NAV", "subnav"],
    "aria-hidden": ["true", "false", "TRUE", ""],
    "data-component": ["MostPopularStories", "x"],
    "data-lp-replacement-content": ["", "x"],
    "title": ["comment", "x"],
    "rel": ["author", "me", "x"],
    "itemprop": ["author", "author name", "articleBody", "x"],
    "data-testid": ["AuthorCard", "AuthorURL", "x"],
    "href": ["", "/category/news/", "/tag/x/", "/tags/y", "/other"],
}
_VALUES["role"] += ["article", "main-x"]
_VALUES["data-component"] += ["Byline", "Figure", "x-Figure"]
_TAGS = ["div", "item", "list", "p", "section", "span", "details", "ol", "ul", "aside", "h1",
         "a", "header", "li", "article", "main", "cite", "quote", "td", "address", "link",
         "strong", "h3", "h4", "author", "rel", "time", "figure", "footer", "a", "a", "div"]


def _random_tree(rng: random.Random, size: int, tags: list[str] = _TAGS,
                 values: dict[str, list[str]] = _VALUES) -> Any:
    """A random page: nested elements of the tags above and others, each with a random
    subset of the attributes in random order (id before class, class before id...), with
    comments and processing instructions between them."""
    root: Any = html.Element("html")
    body = etree.SubElement(root, "body")
    nodes: list[Any] = [body]
    for _ in range(size):
        parent = rng.choice(nodes)
        roll = rng.random()
        if roll < 0.08:
            parent.append(etree.Comment(rng.choice(["comment", " x "])))
            continue
        if roll < 0.12:
            parent.append(etree.ProcessingInstruction("php", "echo 1"))
            continue
        el = etree.SubElement(parent, rng.choice(tags))
        names = rng.sample(sorted(values), rng.randint(0, min(4, len(values))))
        for name in names:
            el.set(name, rng.choice(values[name]))
        el.text = rng.choice(["", "text", "some more text here", "me"])
        nodes.append(el)
    return root


def test_same_on_generated_trees() -> None:
    rng = random.Random(10)
    for n in range(400):
        tree = _random_tree(rng, rng.randint(1, 60))
        assert_same(tree, f"generated tree {n}")
        # and as the page's text parsed by trafilatura (attribute order kept)
        reparsed = load_html(etree.tostring(tree, encoding="unicode"))
        assert_same(reparsed, f"generated tree {n}, reparsed")
        # a context node that matches itself is not selected (descendants only)
        for el in list(tree.iter(etree.Element))[:5]:
            assert_same(el, f"generated tree {n}, subtree {el.tag}")


_LINK_VALUES = {
    "class": ["post-info", "postmeta x", "meta", "entry-meta", "entry-utility", "row", "tags",
              "jp-relatedposts", "tag-cloud", "tags-links", "topics", "cat-links x",
              "post-category", "postcategory", "entry-category", "x", ""],
    "id": ["postpath-2", "x"],
    "href": ["", "/category/news/", "/tag/x/"],
}


def test_same_on_generated_link_trees() -> None:
    """Category and tag containers (div, li, span...) nested in each other, links in them:
    each link once, in document order."""
    rng = random.Random(11)
    hits = 0
    for n in range(300):
        tree = _random_tree(rng, rng.randint(1, 60), ["div", "li", "span", "a", "a", "p"],
                            _LINK_VALUES)
        assert_same(tree, f"generated link tree {n}")
        hits += sum(len(m(tree)) for m in tx.MATCHERS if m.list_name.endswith("GORIES_XPATHS"))
    assert hits > 100


@pytest.mark.parametrize("markup", [
    # id before class and class before id: only the first counts for @id|@class
    '<div id="x" class="cookie">a</div><div class="cookie" id="x">b</div>',
    '<div id="reply-1" class="x">a</div><div class="x" id="reply-1">b</div>',
    '<p id="foo bottom" class="x">a</p><p class="bottom" id="x">b</p><p class="x" id="link">c</p>',
    # @id|@style: the first of id and style
    '<span style="hidden" id="x">a</span><span id="x" style="hidden">b</span>',
    # absent attributes are the empty string
    '<div>a<div class="">b</div><div id="">c</div></div>',
    '<div role="Navigation">a</div><div role="NAV">b</div><div role="main">c</div>',
    '<div style="display: none">a</div><div style="display:none">b</div>'
    '<b aria-hidden="true">c</b>',
    '<div data-lp-replacement-content="">a</div><i class="widget">not a listed tag</i>',
    # nested matches, all of them in document order
    '<div class="comments"><div class="comment"><ol id="comment-1"><li>x</li></ol></div></div>',
    '<ul id="disqus_thread"><li>x</li></ul><ol id="comments"><li>y</li></ol>',
    '<div id="infinite-scroll"><h1>t</h1></div><div id="infinite-scroll"><p>x</p></div>'
    '<aside class="mvp-post-add-wrap"><h1>t</h1></aside>',
    # comments and processing instructions are not elements
    '<div class="x"><!-- comment --><?php echo 1 ?><p class="teaser">t</p></div>',
    # rel='me' is a child element rel (string value), not an attribute; //author is a union
    '<span><rel>me</rel>a</span><span><rel>m<b>e</b></rel>b</span><p rel="me">c</p>'
    '<author>d</author><a rel="author">e</a><span><rel>you</rel><rel>me</rel>f</span>',
    # //: the whole document, whatever the context node
    '<div class="author">a<div class="byline">b</div></div><time>t</time><figure>f</figure>',
    # .//*[P][1]: the first matching child of each parent; ( )[1]: the first in the document
    '<div><p>x</p><div class="post">a</div><div class="entry">b</div></div>'
    '<section class="post-content">c<div class="post">d</div></section>',
    '<div class="x FullText">a</div><div class="story">b</div>',
    '<main>m</main><div class="main">a</div><main>n</main><section id="main">b</section>',
    '<div id="respond"><section id="respond-2">a</section></div><p id="respond">b</p>'
    '<aside class="x elementor-share-buttons"><div class="elementor-share-buttons">c</div></aside>',
    # nested containers: each link once, in document order
    '<div class="meta"><a href="/category/a/">a</a><div class="meta x"><a href="/category/b/">'
    'b</a></div><a>no href</a></div><span class="cat-links"><a href="/category/c/">c</a></span>',
])
def test_same_on_tricky_markup(markup: str) -> None:
    tree = load_html(f"<html><body><article>{markup}</article></body></html>")
    assert_same(tree, markup)
    root = html.fromstring(f"<div class='cookie comments teaser caption'>{markup}</div>")
    assert_same(root, markup)  # the context node matches: selected by // only, not by .//


def test_a_whole_document_goes_to_the_xpath() -> None:
    """An ElementTree context includes its root: handed to the XPath itself."""
    tree = etree.ElementTree(html.fromstring("<div class='cookie'><p class='widget'>x</p></div>"))
    for matcher, xp in _originals():
        assert matcher(tree) == xp(tree)


# --- install() ------------------------------------------------------------------------------

@pytest.fixture
def stock() -> Iterator[None]:
    with tx.stock_xpaths():
        yield


def test_install_swaps_the_expressions() -> None:
    placed = tx.install()
    assert placed == list(tx.MATCHERS)
    for matcher in tx.MATCHERS:
        slot = getattr(xpaths, matcher.list_name)[matcher.index]
        assert slot is matcher
        assert isinstance(matcher.original, etree.XPath)
        assert matcher.original.path == matcher.path
    assert tx.install() == list(tx.MATCHERS)  # idempotent
    overall: list[Any] = xpaths.OVERALL_DISCARD_XPATH
    assert overall[0] is tx.MATCHERS[0]


def test_stock_xpaths_puts_trafilaturas_back(stock: None) -> None:
    for matcher in tx.MATCHERS:
        slot = getattr(xpaths, matcher.list_name)[matcher.index]
        assert isinstance(slot, etree.XPath)
        assert slot.path == matcher.path
    assert tx.install() == []  # held: our code's install() calls change nothing here
    assert isinstance(xpaths.OVERALL_DISCARD_XPATH[0], etree.XPath)


def test_a_changed_expression_is_not_swapped() -> None:
    changed = etree.XPath(tx.MATCHERS[0].path.replace("'cookie'", "'cookies'"),
                          namespaces={"re": tx.REGEXP_NS})
    other = etree.XPath(".//div")
    slots: list[Any] = [changed, other]
    fake = SimpleNamespace(OVERALL_DISCARD_XPATH=slots, REMOVE_COMMENTS_XPATH=[])
    matchers = [tx.Matcher(m.list_name, m.index, m.path, m._fn) for m in tx.MATCHERS]
    assert tx.install(fake, matchers) == []
    assert slots == [changed, other]
    # the same text is swapped, in place
    same = etree.XPath(tx.MATCHERS[1].path, namespaces={"re": tx.REGEXP_NS})
    slots[1] = same
    assert tx.install(fake, matchers) == [matchers[1]]
    assert slots[0] is changed
    assert slots[1] is matchers[1]
    tx.uninstall(fake, matchers)
    assert slots[1:] == [same]  # (identity: XPath objects compare by it)


# --- the output with and without the matchers -----------------------------------------------

_DOC_FIELDS = ("title", "author", "url", "date", "categories", "tags", "text", "comments")


def _outputs(body: bytes) -> tuple[Any, ...]:
    text = body.decode("utf-8", "replace")
    tree, _shared = bt.trafilatura_tree(text)
    precise = trafilatura.bare_extraction(text, favor_precision=True, with_metadata=False)
    full = trafilatura.bare_extraction(text, url=URL)  # with its metadata
    page = load_html(text)
    return (
        bt.run_trafilatura(tree, URL),
        bt.run_trafilatura_recall(tree, URL),
        trafilatura.extract(text),  # defaults: comments on
        getattr(precise, "text", None), getattr(precise, "comments", None),
        tuple(getattr(full, name, None) for name in _DOC_FIELDS),
        page is not None and extract_author(deepcopy(page)),
        page is not None and extract_catstags("category", page),
        page is not None and extract_catstags("tag", page),
        outcome(ArticlePage(_captured(body))),  # our page, whole (install() inside)
    )


def _assert_outputs_same(paths: list[Path]) -> int:
    checked = 0
    for path in paths:
        body = _body(path)
        tx.install()
        with_matchers = _outputs(body)
        with tx.stock_xpaths():
            stock = _outputs(body)
        assert with_matchers == stock, path
        checked += 1
    return checked


def test_same_output_on_repository_pages() -> None:
    assert _assert_outputs_same(_repo_pages()) > 50


@pytest.mark.skipif(not _eval_pages(), reason="no ../shared/eval pages (MEDIAWATCH_EVAL)")
def test_same_output_on_real_pages() -> None:
    assert _assert_outputs_same(_eval_pages()) > 50
