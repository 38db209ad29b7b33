"""Body candidates (issue 10): trafilatura's precision pick is a fragment or misses part of
the story, and another extraction of the same page wins by the rules of
:mod:`crawler.pages.bodypick`. Fixture pages in ``tests/fixtures/body`` are written here."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import trafilatura

from archive.models import CapturedResponse
from crawler.pages import bodypick as bpk
from crawler.pages.listings import ArticlePage

FIXTURES = Path(__file__).parent / "fixtures" / "body"
FIRST = "The defence ministers of the alliance met in Brussels on Tuesday"
LAST = "review the cable-protection plan."


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def page_of(html: str, url: str = "https://news.example.org/2026/01/05/allies") -> ArticlePage:
    return ArticlePage(CapturedResponse(
        url=url, status=200, headers=(("Content-Type", "text/html"),), body=html.encode(),
        fetched_at=datetime(2026, 1, 6, tzinfo=UTC)))


def precision_text(html: str) -> str:
    return trafilatura.extract(html, favor_precision=True) or ""


def test_an_article_split_into_chunks_keeps_its_second_half() -> None:
    """Ad rows between ``article__body`` chunks: trafilatura keeps the first chunk only."""
    html = fixture("split_chunks.html")
    assert LAST not in precision_text(html)  # the failure this fixture reproduces
    page = page_of(html)
    paras = (page.body or "").split("\n\n")
    assert len(paras) == 8
    assert paras[0].startswith(FIRST)
    assert paras[-1].endswith(LAST)
    assert "Advertisement" not in (page.body or "")
    assert page.body_method == "density"


def test_a_first_paragraph_in_its_own_div_is_kept() -> None:
    html = fixture("lead_apart.html")
    assert FIRST not in precision_text(html)  # the failure this fixture reproduces
    body = page_of(html).body or ""
    assert body.startswith(FIRST)
    assert body.endswith(LAST)
    assert body.count("\n\n") == 7


def test_a_standfirst_is_not_taken_for_a_missing_first_paragraph() -> None:
    html = fixture("lead_apart.html").replace('class="text-block first"',
                                              'class="article-summary"')
    body = page_of(html).body or ""
    assert not body.startswith(FIRST)
    assert body.count("\n\n") == 6


STORY = [f"Paragraph {n} of the story tells what the ministers agreed and why it matters "
         f"for the {n}th time in this long and detailed report from Brussels." for n in range(12)]


def test_a_fragment_contained_in_a_longer_candidate_gives_way() -> None:
    fragment = STORY[:2]
    chosen = bpk.choose([("trafilatura", fragment), ("jsonld", []), ("density", STORY)])
    assert chosen == ("density", STORY)


def test_the_shortest_candidate_that_contains_the_fragment_wins() -> None:
    with_comments = STORY + [f"Comment {n}: I disagree with this, it is all wrong and "
                             "everybody knows it." for n in range(20)]
    chosen = bpk.choose([("trafilatura", STORY[:3]), ("recall", with_comments),
                         ("density", STORY)])
    assert chosen == ("density", STORY)


def test_an_outlier_gives_way_to_two_candidates_that_agree() -> None:
    """A reprint notice instead of the story: not contained, but two others agree."""
    notice = ["This copy is for your personal, non-commercial use only. To order "
              "presentation-ready copies visit the reprints desk."]
    chosen = bpk.choose([("trafilatura", notice), ("density", STORY[1:]),
                         ("recall", ["Order Reprints", *STORY])])
    assert chosen == ("density", STORY[1:])


def test_a_longer_candidate_that_does_not_contain_the_choice_loses() -> None:
    """Comments or a sidebar make another candidate longer; the preferred one stays."""
    other = [f"Another story number {n} about something else entirely, with many words "
             "in it to make it long." for n in range(40)]
    assert bpk.choose([("trafilatura", STORY), ("density", other)]) == ("trafilatura", STORY)
    assert bpk.choose([("trafilatura", []), ("density", STORY)]) == ("density", STORY)
    assert bpk.choose([("trafilatura", []), ("density", [])]) is None


def test_density_pick_skips_comments_and_sidebars() -> None:
    html = fixture("split_chunks.html").replace(
        "</main>", '<div class="comments">' + "".join(
            f"<p>Reader {n} writes a long comment that goes on and on about the story and "
            "the ministers and the plan.</p>" for n in range(30)) + "</div></main>")
    paras = bpk.density_paragraphs(page_of(html).selector.root)
    assert len(paras) == 8
    assert not any(p.startswith("Reader") for p in paras)
