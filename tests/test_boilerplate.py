"""Teaser, promo, social and credit lines in the middle of a body (issue 10's failure class):
dropped by the pattern list of :mod:`crawler.pages.boilerplate`, real paragraphs kept."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.models import CapturedResponse
from crawler.pages import boilerplate as bp
from crawler.pages.listings import ArticlePage

REAL = [
    "The defence ministers of the alliance met in Brussels on Tuesday to agree on new "
    "air-defence deliveries and a common plan for ammunition production next year.",
    "Related talks on the budget will follow in March, officials said, adding that the "
    "details were still being negotiated between the capitals.",
    "Follow-up meetings are planned in Vilnius, where the summit will be held in July; "
    "the host promised to read more than forty national proposals before then.",
    "Asked whether more money would come, the minister said: \"Read more carefully what we "
    "signed last year. The commitment is there and it is binding.\"",
    "More than 300 officers took part in the exercise, the largest since 2015, which "
    "ended on Sunday without incident according to the organisers.",
]
TEASERS = [
    "Read more: Ministers clash over the new drone programme",
    "[Related: Inside the alliance's new command centre]",
    "SEE MORE: Protests continue for a third day in the capital",
    "Also on example-news.com Another story about something else entirely",
    "You may also like",
    "Most read in world news",
    "DON'T MISS",
    "Frigate collides with a tanker in the strait [VIDEO]",
    "Subscribe to the Morning Briefing newsletter",
    "Defence Weekly Newsletter",
    "Follow her on Twitter @reporter_handle",
    "Have a tip? The reporter can be reached at tips@example.org.",
    "Photo: Reuters",
    "Image credit: AFP/Getty Images",
    "Our Standards: The Thomson Reuters Trust Principles.",
    "Like this story? Share it with a friend!",
    "Get Defence Monthly delivered to your door every month. Click here to subscribe.",
    "Advertisement",
]


def page(paras: list[str]) -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f'<html lang="en"><head><title>Ministers agree on air defence</title>'
            f'<meta property="og:type" content="article">'
            f'<meta property="article:published_time" content="2024-05-01T09:00:00Z">'
            f"</head><body><article><h1>Ministers agree on air defence</h1>{body}</article>"
            f"</body></html>").encode()


def body_of(html: bytes) -> str:
    captured = CapturedResponse(url="https://news.example.org/2024/05/01/air-defence",
                                status=200, headers=(("Content-Type", "text/html"),),
                                body=html, fetched_at=datetime(2024, 5, 2, tzinfo=UTC))
    body = ArticlePage(captured).to_article().body
    assert body is not None
    return body


@pytest.mark.parametrize("teaser", TEASERS)
def test_each_teaser_is_a_boilerplate_line(teaser: str) -> None:
    assert bp.is_boilerplate(teaser)


@pytest.mark.parametrize("para", REAL)
def test_real_paragraphs_are_not(para: str) -> None:
    assert not bp.is_boilerplate(para)


def test_teasers_between_paragraphs_leave_the_body() -> None:
    """Interleaved with the story (not only at its edges, which cleaning already trims)."""
    mixed = [REAL[0]]
    for n, teaser in enumerate(TEASERS):
        mixed += [teaser, REAL[1 + n % (len(REAL) - 1)]]
    body = body_of(page(mixed))
    paras = body.split("\n\n")
    assert not set(TEASERS) & set(paras)
    assert paras == [p for p in mixed if p not in TEASERS]


def test_a_list_after_its_label_goes_with_it() -> None:
    paras = [REAL[0], "Related:", "- Ten facts about the new frigates",
             "- Photos: the fleet in the harbour", REAL[1], "- A real list item after text."]
    assert bp.drop_boilerplate(paras) == [REAL[0], REAL[1], "- A real list item after text."]
    tabloid = [REAL[0], "DON'T MISS", "Navy chief quits after row [INSIGHT]",
               "Minister's plan explained [ANALYSIS]", REAL[2]]
    assert bp.drop_boilerplate(tabloid) == [REAL[0], REAL[2]]


def test_long_paragraph_starting_like_a_teaser_is_kept() -> None:
    long = "Read more: " + "the report runs to many pages and explains the decision. " * 5
    assert len(long) > bp.MAX_LINE
    assert bp.drop_boilerplate([REAL[0], long]) == [REAL[0], long]


def test_per_source_additions(monkeypatch: pytest.MonkeyPatch) -> None:
    line = "This story was produced with the agency's subscription service."
    monkeypatch.setitem(bp.SOURCE_LINES, "wire", (r"this story was produced with .*",))
    assert bp.drop_boilerplate([REAL[0], line], "wire") == [REAL[0]]
    assert bp.drop_boilerplate([REAL[0], line], "other") == [REAL[0], line]
