"""A body that starts with a video caption or the page's own headline (issue 10, seen on
BBC pages: the ``<h1>`` differs from og:title, the player's caption is a plain ``<p>``
in a ``data-component="video-block"``). Fixture page in ``tests/fixtures/body``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import trafilatura
from parsel import Selector

from archive.models import CapturedResponse
from crawler.pages import bodytext as bt
from crawler.pages.listings import ArticlePage

FIXTURES = Path(__file__).parent / "fixtures" / "body"
CAPTION = "Drone footage shows the new air-defence battery arriving at the base"
HEADLINE = "Defence: Allies agree joint ammunition orders"
FIRST = "The defence ministers of the alliance met in Brussels on Tuesday"


def test_body_starts_with_the_story_not_the_player_or_headline() -> None:
    html = (FIXTURES / "video_caption.html").read_text(encoding="utf-8")
    # the failure this fixture reproduces: the extractor keeps headline and caption
    raw = trafilatura.extract(html, favor_precision=True) or ""
    assert raw.startswith(f"{HEADLINE}\n{CAPTION}\n")
    page = ArticlePage(CapturedResponse(
        url="https://news.example.org/2026/01/05/allies", status=200,
        headers=(("Content-Type", "text/html"),), body=html.encode(),
        fetched_at=datetime(2026, 1, 6, tzinfo=UTC)))
    assert page.title == "Allies agree ammunition deal"  # og:title, not the <h1>
    body = page.body or ""
    assert body.startswith(FIRST)
    assert CAPTION not in body
    assert HEADLINE not in body
    assert body.count("\n\n") == 7


def test_caption_texts() -> None:
    sel = Selector(text=(
        '<body class="f_caption_muted_videos_on"><figure><img src="a.jpg">'
        "<figcaption>Ships in port</figcaption></figure>"
        '<span class="media-caption__text">Soldiers at the border</span>'
        '<div data-component="caption-block"><p>Ministers in Brussels</p></div>'
        '<div data-component="text-block"><p>Story text stays.</p></div></body>'))
    assert bt.caption_texts(sel) == {"Ships in port", "Soldiers at the border",
                                     "Ministers in Brussels"}


def test_captions_go_anywhere_headlines_only_at_the_edges() -> None:
    paras = ["Headline of the page", "Story one.", "Ships in port", "Headline of the page",
             "Story two."]
    assert bt.clean_paragraphs(paras, headlines=["Headline of the page"],
                               captions={"Ships in port"}) == [
        "Story one.", "Headline of the page", "Story two."]
