"""What issue 10's parser work changed in *how* a page is parsed must not change *what* comes
out. Each shortcut is compared with the straightforward way it replaces, on the fixture pages
and on the real pages of ``../shared/eval`` (``MEDIAWATCH_EVAL``):

- trafilatura's metadata field by field (:mod:`crawler.pages.trafmeta`) against
  ``trafilatura.metadata.extract_metadata``;
- trafilatura's body from the shared tree without metadata against one
  ``bare_extraction`` of the page text with metadata, as the parser called it before;
- the page parsed once (trafilatura's parse shared with our readers) against our own parse:
  every field of the article, the methods behind them, or the same refusal;
- :attr:`~crawler.pages.article.ArticlePage.linked_paragraphs` against the set of every
  link's text.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from archive.models import CapturedResponse
from crawler.pages import bodytext as bt
from crawler.pages import markup as mk
from crawler.pages.listings import ArticlePage, NotAnArticle
from crawler.pages.trafmeta import TrafMetadata

if TYPE_CHECKING:
    from parsel import Selector

ROOT = Path(__file__).resolve().parents[1]
EVAL = Path(os.environ.get("MEDIAWATCH_EVAL", ROOT.parent / "shared" / "eval"))
FIXTURES = ROOT / "tests" / "fixtures"
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)
URL = "https://news.example.org/2024/05/01/story-1"


def _fixture_pages() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*.html"))


def _eval_pages() -> list[Path]:
    """Every third real page (sorted, so the same ones each run): each is parsed several
    ways, and all 274 would add minutes to ``make test``; ``MEDIAWATCH_EVAL_ALL=1`` takes
    them all."""
    pages = sorted(p for d in (EVAL / "aeb" / "html", EVAL / "news_html") if d.is_dir()
                   for p in d.rglob("*") if p.name.endswith((".html", ".html.gz")))
    return pages if os.environ.get("MEDIAWATCH_EVAL_ALL") else pages[::3]


def _body(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _captured(body: bytes) -> CapturedResponse:
    return CapturedResponse(url=URL, status=200,
                            headers=(("Content-Type", "text/html; charset=utf-8"),),
                            body=body, fetched_at=FETCHED)


# --- trafilatura, the way the parser called it before -------------------------------------

def _params() -> dict[str, Any]:
    return {"original_date": True, "extensive_search": True, "min_date": "1990-01-01",
            "max_date": (FETCHED + timedelta(days=1)).strftime("%Y-%m-%d")}


def old_trafilatura(html_text: str) -> Any:
    """One ``bare_extraction`` with metadata, the table-less second pass as before."""
    import trafilatura

    def extract(*, precision: bool, tables: bool, metadata: bool) -> Any:
        return trafilatura.bare_extraction(
            html_text, url=URL, favor_precision=precision, include_tables=tables,
            with_metadata=metadata, include_comments=False, include_images=False,
            include_links=False, deduplicate=False, date_extraction_params=_params())

    doc = extract(precision=True, tables=True, metadata=True)
    text = doc.text if doc is not None and doc.text else ""
    if any(line.startswith("|") and len(line) > 300 for line in text.splitlines()):
        plain = extract(precision=False, tables=False, metadata=False)
        if doc is not None and plain is not None and plain.text:
            doc.text = plain.text
    return doc


def assert_trafilatura_same(paths: list[Path]) -> int:
    """New body and metadata fields equal the old single run's, page by page."""
    from trafilatura.metadata import extract_metadata

    compared = 0
    for path in paths:
        html_text = ArticlePage(_captured(_body(path))).html
        old = old_trafilatura(html_text)
        tree, _shared = bt.trafilatura_tree(html_text)
        assert bt.run_trafilatura(tree, URL) == (old.text if old is not None else None), path
        if tree is None:
            continue
        meta = TrafMetadata(tree, URL, bt.date_params(FETCHED))
        reference = extract_metadata(tree, URL, _params())
        for name in ("title", "author", "url", "date", "categories", "tags"):
            assert getattr(meta, name) == getattr(reference, name), (path, name)
            if old is not None:
                assert getattr(meta, name) == getattr(old, name), (path, name)
        compared += 1
    return compared


def test_trafilatura_same_on_fixture_pages() -> None:
    assert assert_trafilatura_same(_fixture_pages()) > 20


@pytest.mark.skipif(not _eval_pages(), reason="no ../shared/eval pages (MEDIAWATCH_EVAL)")
def test_trafilatura_same_on_real_pages() -> None:
    pages = _eval_pages()
    assert assert_trafilatura_same(pages) > len(pages) * 3 // 4  # most pages have a body


# --- one parse against two -----------------------------------------------------------------

class ReferencePage(ArticlePage):
    """The article page object on our own parse, never trafilatura's, with every link's
    text read: the reference."""

    @cached_property
    def selector(self) -> Selector:
        return mk.html_selector(self.html)

    @cached_property
    def linked_paragraphs(self) -> frozenset[str]:
        anchors = frozenset(bt.element_text(a.root) for a in self.selector.xpath("//a"))
        return frozenset(p for p in (self.body or "").split("\n\n") if p in anchors)


def outcome(page: ArticlePage) -> dict[str, Any]:
    """Every field and method, or the refusal."""
    try:
        article = page.to_article()
    except NotAnArticle as exc:
        return {"not_article": exc.reason}
    return {**dataclasses.asdict(article), "methods": page.field_methods()}


def assert_same_outcomes(paths: list[Path]) -> int:
    shared = 0
    for path in paths:
        body = _body(path)
        page = ArticlePage(_captured(body))
        result = outcome(page)
        assert result == outcome(ReferencePage(_captured(body))), path
        shared += page.selector.root is page.traf_tree
    return shared


def test_same_outcomes_on_fixture_pages() -> None:
    assert assert_same_outcomes(_fixture_pages()) > 20


@pytest.mark.skipif(not _eval_pages(), reason="no ../shared/eval pages (MEDIAWATCH_EVAL)")
def test_same_outcomes_on_real_pages() -> None:
    # every real page is parsed once
    assert assert_same_outcomes(_eval_pages()) == len(_eval_pages())


@pytest.mark.parametrize(("html_text", "why"), [
    ("<html><body>" + "<div>" * 400 + "<p>deep</p>" + "</div>" * 400 + "</body></html>",
     "nested deeper than trafilatura's parser goes"),
    ("<p>one fragment</p><p>and another, no head, no html tag</p>", "a fragment"),
    ("<html><head><title>t</title></head><body><p>a\ufffeb</p></body></html>",
     "U+FFFE, which trafilatura's parse removes"),
], ids=["deep", "fragment", "noncharacter"])
def test_own_parse_where_trafilatura_parses_otherwise(html_text: str, why: str) -> None:
    page = ArticlePage(_captured(html_text.encode()))
    assert page.selector.root is not page.traf_tree, why
    assert bt.trafilatura_tree(html_text)[1] is False, why


def test_deep_page_keeps_its_deep_text() -> None:
    """The parse shared only when complete: text below trafilatura's depth limit stays."""
    html_text = ("<html><head><title>Deep story</title></head><body><h1>Deep story</h1>"
                 + "<div>" * 400 + "<p>" + "Deep text of the story. " * 20 + "</p>"
                 + "</div>" * 400 + "</body></html>")
    page = ArticlePage(_captured(html_text.encode()))
    assert "Deep text of the story." in " ".join(bt.paragraphs(page.selector.root))
    assert "Deep text of the story." not in " ".join(page.traf_tree.itertext())
