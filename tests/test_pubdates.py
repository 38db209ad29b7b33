"""The right time: which date of a page is its publication time, in which zone, how precise.

Pure parts (:mod:`crawler.pages.dates`, :mod:`crawler.pages.pubdates`) and the article page
object on small pages; the end-to-end checks on the sample newsroom are in
``tests/test_crawl_newsroom.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from archive.config import ConfigError, parse_sources
from archive.config.sources import Source
from archive.models import CapturedResponse, Hints
from crawler.pages.dates import parse_page_date, parse_unix_time
from crawler.pages.listings import ArticlePage
from crawler.pages.pubdates import url_date

FETCHED_AT = datetime(2024, 1, 1, tzinfo=UTC)
URL = "https://news.example/world/story-12345"
BODY = ("<p>" + "Envoys met in Geneva on Sunday for a new round of talks on a prisoner swap, "
        "the mediators said after the meeting. " * 4 + "</p>")


@pytest.mark.parametrize(("text", "fmt", "value", "precision", "explicit"), [
    pytest.param("2020-11-30T13:15:00+03:00", None, "2020-11-30T13:15:00+03:00", "second", True,
                 id="iso-offset"),
    pytest.param("2020-11-30T13:15+03:00", None, "2020-11-30T13:15:00+03:00", "minute", True,
                 id="iso-minutes"),
    pytest.param("2020-11-30T13:15:00", None, "2020-11-30T13:15:00", "second", False,
                 id="iso-zoneless"),
    pytest.param("2020-11-30", None, "2020-11-30T00:00:00", "day", False, id="iso-day"),
    pytest.param("13:15 30.11.2020", "%H:%M %d.%m.%Y", "2020-11-30T13:15:00", "minute", False,
                 id="format-zoneless"),
    pytest.param("23:25 GMT29 November 2020", "%H:%M GMT%d %B %Y", "2020-11-29T23:25:00+00:00",
                 "minute", True, id="format-says-gmt"),
    pytest.param("15 March 2022", "%d %B %Y", "2022-03-15T00:00:00", "day", False,
                 id="format-day"),
    pytest.param("Sun, 29 Nov 2020 23:25:00 +0300", None, "2020-11-29T23:25:00+03:00", "second",
                 True, id="rfc822"),
    pytest.param("29 ноября 2020, 23:25", None, "2020-11-29T23:25:00", "minute", False,
                 id="fuzzy-minutes"),
    pytest.param("29 Nov 2020 23:25 MSK", None, "2020-11-29T23:25:00+03:00", "minute", True,
                 id="fuzzy-zone-name"),
    pytest.param("29. November 2020", None, "2020-11-29T00:00:00", "day", False,
                 id="fuzzy-day"),
])
def test_page_date_says_offset_and_precision(text: str, fmt: str | None, value: str,
                                             precision: str, explicit: bool) -> None:
    found = parse_page_date(text, fmt)
    assert found is not None
    assert (found.value.isoformat(), found.precision, found.explicit) == (
        value, precision, explicit)


@pytest.mark.parametrize(("value", "expected"), [
    pytest.param(1606692300, "2020-11-29T23:25:00+00:00", id="seconds"),
    pytest.param("1606692300000", "2020-11-29T23:25:00+00:00", id="milliseconds-text"),
    pytest.param(1606692300.5, "2020-11-29T23:25:00+00:00", id="float"),
    pytest.param("12345", None, id="id"),
    pytest.param(True, None, id="bool"),
    pytest.param("0000000001", None, id="1970"),
])
def test_unix_time_is_an_explicit_utc_moment(value: object, expected: str | None) -> None:
    found = parse_unix_time(value)
    assert (found.value.isoformat() if found else None) == expected
    assert found is None or (found.explicit and found.precision == "second")


def test_unix_time_in_jsonld_beats_a_zoneless_date_line() -> None:
    head = ('<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Envoys '
            'meet in Geneva", "datePublished": 1606731300}</script>')
    # The moment is the Unix time's; the date line's 13:15 for 10:15Z shows the newsroom's
    # offset, +03:00 (crawler.pages.pubdates.newsroom_offset).
    assert _fields(_page(head, DATE_LINE))[:5] == (
        "2020-11-30T10:15:00+00:00", "2020-11-30T13:15:00+03:00", "second", "jsonld", "page")


@pytest.mark.parametrize(("url", "day"), [
    pytest.param("https://n.example/2020/11/29/story.html", "2020-11-29", id="slashes"),
    pytest.param("https://n.example/news/2020-11-29-story", "2020-11-29", id="dashes"),
    pytest.param("https://n.example/story-2020112912345", None, id="id-not-a-date"),
    pytest.param("https://n.example/2020/13/40/story", None, id="no-such-day"),
    pytest.param("https://n.example/?d=2020/11/29", None, id="query-not-path"),
])
def test_url_day(url: str, day: str | None) -> None:
    found = url_date(url)
    assert (found.value.date().isoformat() if found else None) == day
    assert found is None or found.precision == "day"


def _page(head: str, date_line: str = "", *, timezone: str | None = None,
          selectors: dict[str, str] | None = None, hints: Hints | None = None,
          url: str = URL) -> ArticlePage:
    html = (f"<html lang=en><head><title>Envoys meet in Geneva</title>{head}</head><body>"
            f"<article><h1>Envoys meet in Geneva</h1>{date_line}{BODY}</article></body></html>")
    response = CapturedResponse(url=url, status=200,
                                headers=(("Content-Type", "text/html; charset=utf-8"),),
                                body=html.encode(), fetched_at=FETCHED_AT)
    source = Source(id="s", name="S", feeds=("https://news.example/rss",),
                    selectors=selectors or {}, timezone=timezone)
    return ArticlePage(response, source, hints)


def _ld(published: str | None = None, modified: str | None = None) -> str:
    fields = [f'"datePublished": "{published}"'] if published else []
    fields += [f'"dateModified": "{modified}"'] if modified else []
    return ('<script type="application/ld+json">{"@context": "https://schema.org", '
            '"@type": "NewsArticle", "headline": "Envoys meet in Geneva", '
            + ", ".join(fields) + "}</script>")


def _fields(page: ArticlePage) -> tuple[str | None, ...]:
    article = page.to_article()
    return (article.published.isoformat() if article.published else None,
            article.published_local, article.published_precision, article.published_from,
            article.published_zone)


DATE_LINE = '<span class="date">30.11.2020 13:15</span>'


def test_explicit_offset_beats_a_zoneless_selector() -> None:
    """The measured bug: a selector's zone-less 13:15 was stored as 13:15Z although the
    JSON-LD says +03:00."""
    page = _page(_ld("2020-11-30T13:15:00+03:00"), DATE_LINE, selectors={"published": ".date"})
    assert _fields(page) == ("2020-11-30T10:15:00+00:00", "2020-11-30T13:15:00+03:00",
                             "second", "jsonld", "offset")


def test_zoneless_value_read_in_the_source_timezone() -> None:
    page = _page("", DATE_LINE, timezone="Asia/Kolkata", selectors={"published": ".date"})
    assert _fields(page) == ("2020-11-30T07:45:00+00:00", "2020-11-30T13:15:00+05:30",
                             "minute", "selector", "timezone")


def test_source_timezone_follows_daylight_saving_time() -> None:
    winter = _page("", '<span class="date">2021-01-15 09:00</span>', timezone="America/New_York")
    summer = _page("", '<span class="date">2021-07-15 09:00</span>', timezone="America/New_York")
    assert _fields(winter)[:2] == ("2021-01-15T14:00:00+00:00", "2021-01-15T09:00:00-05:00")
    assert _fields(summer)[:2] == ("2021-07-15T13:00:00+00:00", "2021-07-15T09:00:00-04:00")


def test_without_timezone_the_offset_of_the_pages_other_dates() -> None:
    """Only dateModified has an offset: the zone-less date line is read in it."""
    page = _page(_ld(modified="2020-11-30T18:00:00-05:00"), DATE_LINE)
    assert _fields(page) == ("2020-11-30T18:15:00+00:00", "2020-11-30T13:15:00-05:00",
                             "minute", "visible", "page")
    assert page.to_article().modified == datetime(2020, 11, 30, 23, 0, tzinfo=UTC)


def test_without_anything_utc_and_no_local_time() -> None:
    page = _page("", DATE_LINE)
    assert _fields(page) == ("2020-11-30T13:15:00+00:00", None, "minute", "visible", "utc")


def test_day_only_keeps_day_precision() -> None:
    page = _page(_ld("2022-03-15"), '<span class="date">15 March 2022</span>')
    article = page.to_article()
    assert _fields(page) == ("2022-03-15T00:00:00+00:00", "2022-03-15", "day", "jsonld", None)
    assert article.published_zone is None


def test_a_time_beats_a_day_and_the_url_day_is_the_last_resort() -> None:
    hints = Hints(published=datetime(2022, 3, 15, 9, 30, tzinfo=UTC), published_from="sitemap",
                  published_precision="second")
    page = _page(_ld("2022-03-15"), hints=hints)
    assert _fields(page)[2:4] == ("second", "sitemap")
    dated_url = "https://news.example/2022/03/14/story-12345"
    assert _fields(_page("", url=dated_url))[2:4] == ("day", "url")


def test_zoneless_feed_date_is_read_in_the_source_timezone() -> None:
    """A feed entry without an offset stays naive in the hints; the page applies the zone."""
    hints = Hints(published=datetime(2020, 11, 30, 13, 15), published_from="feed",
                  published_precision="minute")
    assert Hints.from_json(hints.to_json()) == hints
    page = _page("", hints=hints, timezone="Europe/Moscow")
    assert _fields(page) == ("2020-11-30T10:15:00+00:00", "2020-11-30T13:15:00+03:00",
                             "minute", "feed", "timezone")


def test_day_hint_survives_the_warc_metadata_round_trip() -> None:
    hints = Hints(published=datetime(2022, 3, 15), published_precision="day",
                  published_from="sitemap")
    data = hints.to_json()
    assert data["published"] == "2022-03-15"
    assert Hints.from_json(data) == hints


def test_modified_never_before_published() -> None:
    """The measured bug: published read as UTC came after a correctly zoned modified."""
    page = _page(_ld("2020-11-30T13:15:00+03:00", "2020-11-30T09:00:00Z"))
    article = page.to_article()
    assert article.published == datetime(2020, 11, 30, 10, 15, tzinfo=UTC)
    assert article.modified is None
    kept = _page(_ld("2020-11-30T13:15:00+03:00", "2020-11-30T11:00:00Z")).to_article()
    assert kept.modified == datetime(2020, 11, 30, 11, 0, tzinfo=UTC)
    same_day = _page(_ld("2022-03-15", "2022-03-15T08:00:00Z")).to_article()
    assert same_day.modified == datetime(2022, 3, 15, 8, 0, tzinfo=UTC)


def test_timezone_key_is_validated() -> None:
    good = '[[source]]\nid = "a"\nfeeds = ["http://a/"]\ntimezone = "Europe/Istanbul"\n'
    assert parse_sources(good).sources[0].timezone == "Europe/Istanbul"
    with pytest.raises(ConfigError) as info:
        parse_sources(good.replace("Europe/Istanbul", "Mars/Olympus"), "sources.toml")
    assert (info.value.source, info.value.key) == ("a", "timezone")
    assert "IANA" in str(info.value)
