"""Teaser and promo lines in the middle of a body, and a JSON-LD ``articleBody`` with
entities and a promo tail (issue 10's failure classes). Fixture pages in
``tests/fixtures/body`` are written here; the patterns are in :mod:`crawler.pages.boilerplate`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.models import CapturedResponse
from crawler.pages import bodytext as bt
from crawler.pages import boilerplate as bp
from crawler.pages.listings import ArticlePage

FIXTURES = Path(__file__).parent / "fixtures" / "body"
STORY_WORDS = re.compile(r"ministers|alliance|deliveries|parliaments|cables|working group|"
                         r"secretary general|ministerial")


def page_of(name: str) -> ArticlePage:
    return ArticlePage(CapturedResponse(
        url="https://news.example.org/2026/01/05/allies", status=200,
        headers=(("Content-Type", "text/html"),),
        body=(FIXTURES / name).read_bytes(), fetched_at=datetime(2026, 1, 6, tzinfo=UTC)))


def test_promo_lines_between_paragraphs_leave_the_body() -> None:
    page = page_of("promo_lines.html")
    paras = (page.body or "").split("\n\n")
    html_paras = [p for p in bt.paragraphs(page.selector.root) if len(p) > 150]
    assert paras == html_paras  # the eight story paragraphs, in order, nothing else
    assert len(paras) == 8


@pytest.mark.parametrize("line", [
    "More Great Defence Stories", "Most read in world news", "You may also like...",
    "Get the latest updates right in your inbox. Subscribe to our defence newsletters.",
    "Subscribe to Example News and stay informed about defence.",
    "Follow the Example News defence desk on Facebook, Twitter and Instagram.",
    "Follow @defence_desk for updates", "Follow AP's full coverage of Brexit at https://x.org",
    "More AP NBA: https://apnews.com/NBA", "Tempo de leitura: 3 minutos", "5 min read",
    "Lesen Sie auch: Die Bundeswehr bestellt neue Munition", "(Leggi anche: Un'altra storia)",
    "Читайте также: Министры обсудили поставки", "Síguenos en Twitter y Facebook",
    "Фото: РИА Новости", "(Photo by Jane Doe/Getty Images)", "Filed under: Defence | Diplomacy",
    "SOURCE: News agencies", "(Reporting by Jane Doe; Editing by John Roe)",
    "Keith Doe contributed reporting from Hong Kong.",
    "If you enjoyed this article, we have a proposition for you: join our club.",
])
def test_each_line_of_the_class_is_boilerplate(line: str) -> None:
    assert bp.is_boilerplate(line)


@pytest.mark.parametrize("para", [
    "Subscribers to the defence budget plan include eleven countries, officials said.",
    "The source of the leak was never found, the ministry said in a statement on Monday.",
    "Follow-up talks on the photo reconnaissance satellites are planned for March.",
    "More than 300 officers took part in the exercise, the largest since 2015.",
])
def test_story_sentences_are_not(para: str) -> None:
    assert not bp.is_boilerplate(para)


def test_headlines_follow_only_a_label_standing_alone() -> None:
    story = "The ministers met in Brussels on Tuesday and agreed on the plan, officials said."
    assert bp.drop_boilerplate([story, "More Great Defence Stories", "Drone makers race ahead",
                                "Why the cables matter", story]) == [story, story]
    # a teaser with its own headline is not a label: the subheading after it stays
    assert bp.drop_boilerplate([story, "Related post: Pickled sprouts recipe",
                                "WHAT YOU NEED TO MAKE JAM", story]) == [
        story, "WHAT YOU NEED TO MAKE JAM", story]


def test_jsonld_body_is_unescaped_and_cleaned() -> None:
    page = page_of("jsonld_entities.html")
    body = page.body or ""
    assert page.body_method == "jsonld"
    assert "&quot;" not in body
    assert "&amp;" not in body
    assert 'the "secretary general" declined' in body
    assert "Share it with a friend" not in body
    assert "newsletter" not in body
    assert body.count("\n\n") == 7
    assert all(STORY_WORDS.search(p) for p in body.split("\n\n"))


def test_unescape_all_stops_at_plain_text() -> None:
    assert bt.unescape_all("&amp;amp;quot;x&amp;amp;quot;") == '"x"'
    assert bt.unescape_all("AT&T & co") == "AT&T & co"
