"""A real article whose markup says ``og:type website`` (no JSON-LD, no microdata) is
accepted by its content; a section front with the same markup is still refused (issue 10,
:func:`crawler.pages.pagetype.reads_as_story`). Fixture pages in ``tests/fixtures/body``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from archive.models import CapturedResponse
from crawler.pages.listings import ArticlePage

FIXTURES = Path(__file__).parent / "fixtures" / "body"


def page_of(name: str, url: str, html: str | None = None) -> ArticlePage:
    body = html if html is not None else (FIXTURES / name).read_text(encoding="utf-8")
    return ArticlePage(CapturedResponse(
        url=url, status=200, headers=(("Content-Type", "text/html"),), body=body.encode(),
        fetched_at=datetime(2026, 1, 6, tzinfo=UTC)))


STORY_URL = "https://news.example.org/2026/01/05/allies"


def test_a_story_declared_website_is_an_article() -> None:
    page = page_of("website_story.html", STORY_URL)
    assert page.meta_first(("og:type",)) == "website"
    assert not page.jsonld_articles
    # short wire paragraphs: none reaches the 200 characters the markup rule wants
    assert all(len(p) < 200 for p in (page.body or "").split("\n\n"))
    assert page.not_article_reason is None
    article = page.to_article()
    assert article.title == "Allies agree joint ammunition orders"
    assert (article.body or "").count("\n\n") == 3


def test_without_its_date_or_headline_it_is_not() -> None:
    html = (FIXTURES / "website_story.html").read_text(encoding="utf-8")
    undated = html.replace('<time datetime="2026-01-05T10:00:00+01:00">5 January 2026</time>',
                           "")
    assert "og:type" in (page_of("", STORY_URL, undated).not_article_reason or "")
    no_headline = html.replace("<h1>Allies agree joint ammunition orders</h1>", "")
    assert "og:type" in (page_of("", STORY_URL, no_headline).not_article_reason or "")


def test_a_section_front_declared_website_is_still_refused() -> None:
    page = page_of("website_section.html", "https://news.example.org/defence")
    assert page.body  # the teasers' summaries make a body...
    assert "og:type is 'website'" in (page.not_article_reason or "")  # ...but not a story
