"""Issue 10's publication-date failure classes, on small pages built like the real ones.

Each fixture page in ``tests/fixtures/dates/`` reproduces one class (the page object before
the fix picked the wrong date on every one of them): an all-numeric date read month-first on
a page that writes the day first; an invalid JSON-LD block skipped and another story's date
taken; a comment's ``time[pubdate]`` beating the article's date; a date after the capture.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.models import CapturedResponse, Hints
from crawler.pages.listings import ArticlePage

FIXTURES = Path(__file__).parent / "fixtures" / "dates"
FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
URL = "https://news.example/world/air-defence-package"


def page(name: str, url: str = URL, hints: Hints | None = None,
         fetched_at: datetime = FETCHED_AT) -> ArticlePage:
    response = CapturedResponse(url=url, status=200, headers=(("Content-Type", "text/html"),),
                                body=(FIXTURES / name).read_bytes(), fetched_at=fetched_at)
    return ArticlePage(response, hints=hints)


def published(p: ArticlePage) -> tuple[str | None, str | None]:
    """(the publisher's local text, or the UTC day), origin."""
    detail = p.published_detail
    if detail is None:
        return None, None
    return detail.local or detail.utc.isoformat(), detail.origin


@pytest.mark.parametrize(("name", "expected"), [
    # <html lang="de">: 01-11-2023 is the 1st of November.
    pytest.param("de_numeric_date.html", "2023-11-01", id="language-says-day-first"),
    # No language; "1. November 2023" beside <meta name=date content=01-11-2023>.
    pytest.param("numeric_date_beside_month_name.html", "2023-11-01",
                 id="other-date-says-day-first"),
    # en-US writes the month first: the rule is not "always day first".
    pytest.param("us_numeric_date.html", "2023-01-11", id="en-us-stays-month-first"),
])
def test_numeric_date_read_in_the_pages_day_order(name: str, expected: str) -> None:
    assert published(page(name))[0] == expected


def test_invalid_jsonld_block_still_gives_the_articles_date() -> None:
    # The article's block has unescaped quotes in its headline (not JSON); a valid block
    # describes another story (its url names another page), and a related list has dates.
    p = page("invalid_jsonld_teaser.html")
    assert published(p) == ("2023-03-14T09:00:00+01:00", "jsonld")


def test_another_storys_jsonld_and_a_link_list_never_win() -> None:
    # The article's own block has no date; the only JSON-LD date is another story's, and a
    # list of latest stories with dates comes before the article in the page.
    p = page("teaser_jsonld_visible_date.html")
    assert published(p) == ("2023-03-14T09:00:00+01:00", "visible")


def test_a_latest_news_list_before_the_article_is_not_its_date() -> None:
    assert published(page("latest_list.html")) == ("2023-03-14T09:00:00+01:00", "visible")


@pytest.mark.parametrize("name", [
    pytest.param("comment_pubdate.html", id="time-pubdate-in-comment-thread"),
    pytest.param("comment_microdata.html", id="schema-org-comment-item"),
])
def test_a_comments_date_does_not_beat_the_articles(name: str) -> None:
    # The comment's date names a time and an offset, the article's only a day: before the
    # fix the comment won on precision.
    assert published(page(name)) == ("2023-05-12", "visible")


def test_a_date_after_the_capture_is_dropped() -> None:
    # article:published_time says 2031 (a placeholder); the printed date is the real one.
    assert published(page("future_date.html")) == ("2023-03-14", "visible")
    # Captured in 2032, the same value is possible and wins (a time beats a day).
    late = page("future_date.html", fetched_at=datetime(2032, 1, 1, tzinfo=UTC))
    assert published(late) == ("2031-01-01T00:00:00+00:00", "meta")


@pytest.mark.parametrize("hint", [
    pytest.param(datetime(2030, 5, 1, 12, 0, tzinfo=UTC), id="feed-date-in-the-future"),
    pytest.param(datetime(1970, 1, 1, tzinfo=UTC), id="feed-epoch-zero"),
])
def test_an_implausible_feed_date_is_not_used(hint: datetime) -> None:
    # The page's own date is a day; a feed timestamp would beat it on precision.
    p = page("comment_pubdate.html", hints=Hints(published=hint, published_from="feed"))
    assert published(p) == ("2023-05-12", "visible")
    assert p.published is not None
    assert p.published < FETCHED_AT


def test_a_plausible_feed_date_still_wins_on_precision() -> None:
    hint = datetime(2023, 5, 12, 7, 15, tzinfo=UTC)
    p = page("comment_pubdate.html", hints=Hints(published=hint, published_from="feed"))
    assert published(p) == ("2023-05-12T07:15:00+00:00", "feed")


def test_htmldate_settles_candidates_that_disagree() -> None:
    # article:published_time says 30 June, the printed date and the URL 14 March: our own
    # candidates disagree, and htmldate's day (the URL's) picks among them.
    p = page("disagreeing_dates.html", url="https://news.example/2023/03/14/air-defence")
    assert published(p) == ("2023-03-14", "visible")
    # Without the URL htmldate agrees with the meta tag, which then keeps its precedence.
    assert published(page("disagreeing_dates.html"))[0] == "2023-06-30T12:00:00+00:00"


def test_the_date_line_beside_the_headline_when_no_markup_dates_it() -> None:
    # No date markup or date class; the site header prints today's date and a logo <h1>.
    detail = page("headline_date_line.html").published_detail
    assert detail is not None
    assert (detail.utc.isoformat(), detail.origin) == ("2020-10-13T18:29:00+00:00", "visible")


def test_a_camelcase_related_box_is_another_storys() -> None:
    # "relatedContent" holds the only date-classed elements; the story's date is the
    # "Datum 28.04.2023" line in the headline's block.
    assert published(page("related_camelcase.html")) == ("2023-04-28", "visible")


def test_published_equal_to_modified_is_an_update_stamp_when_the_date_line_is_earlier() -> None:
    # JSON-LD and og say published = modified = 20 Jan 09:49Z; the date line prints the
    # first publication, 19 Jan 12:25 ("Updated 8 hours ago" is not read as 8 o'clock).
    assert published(page("update_stamp.html")) == ("2020-01-19T12:25:00+00:00", "visible")


def test_the_same_moment_in_another_zone_is_not_an_earlier_date() -> None:
    # "Nov. 19, 2019 5:50 PM" (Pacific, no offset printed) is 01:50Z on the 20th: the
    # JSON-LD moment stays, shown in the newsroom's offset that the date line reveals.
    p = page("same_moment_two_zones.html")
    assert published(p) == ("2019-11-19T17:50:59-08:00", "jsonld")
    assert p.published == datetime(2019, 11, 20, 1, 50, 59, tzinfo=UTC)
    assert p.published_detail is not None
    assert p.published_detail.zone == "page"
