"""The pure date rules behind issue 10's fixes: both readings of ``01-11-2023``, the page's
day order, plausibility against the capture time, the second opinion, whose JSON-LD and
which regions of a page count (page-level checks: ``tests/test_dates_failures.py``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from parsel import Selector

from crawler.pages import metadata as md
from crawler.pages import pubdates as pd
from crawler.pages.dates import PageDate, numeric_readings, parse_page_date


@pytest.mark.parametrize(("text", "readings"), [
    ("01-11-2023", (date(2023, 1, 11), date(2023, 11, 1))),
    ("Updated 3/4/2021 10:00", (date(2021, 3, 4), date(2021, 4, 3))),
    ("13-11-2023", None),  # 13 cannot be a month
    ("11-11-2023", None),  # both readings are the same day
    ("01.11.2023", None),  # dots: always day first
    ("2023/11/01", None),  # year first
    ("1. November 2023", None),
    ("01-11-23", None),  # two-digit year: not read here
])
def test_numeric_readings(text: str, readings: tuple[date, date] | None) -> None:
    assert numeric_readings(text) == readings


def test_dayfirst_applies_to_year_last_numeric_dates_only() -> None:
    def day(text: str, dayfirst: bool | None) -> date | None:
        found = parse_page_date(text, dayfirst=dayfirst)
        return found.value.date() if found else None

    assert day("01-11-2023", None) == date(2023, 1, 11)
    assert day("01-11-2023", True) == date(2023, 11, 1)
    assert day("01/11/2023 10:00", True) == date(2023, 11, 1)
    # dateutil's dayfirst would make this the 11th of January.
    assert day("2023/11/01", True) == date(2023, 11, 1)
    assert day("November 1, 2023", True) == date(2023, 11, 1)


@pytest.mark.parametrize(("settled", "language", "expected"), [
    ([date(2023, 11, 1)], None, True),  # another date on the page is the day-first reading
    ([date(2023, 1, 11)], "de", False),  # ... the month-first one: the page beats language
    ([], "de", True),
    ([], "de-AT", True),
    ([], "fr_FR", True),
    ([], "en-GB", True),
    ([], "en-US", None),
    ([], "en", None),
    ([], "ja", None),  # year-first language: no rule
    ([], None, None),
])
def test_day_first(settled: list[date], language: str | None, expected: bool | None) -> None:
    readings = [(date(2023, 1, 11), date(2023, 11, 1))]
    assert pd.day_first(readings, settled, language) is expected


def test_day_first_without_ambiguous_dates_is_none() -> None:
    assert pd.day_first([], [date(2023, 11, 1)], "de") is None


def _dated(value: datetime | date, zone: str | None = "offset") -> pd.Dated:
    if isinstance(value, datetime):
        return pd.Dated(value, "second", "meta", None, zone)
    day = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return pd.Dated(day, "day", "meta", None, None)


CAPTURED = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("dated", "ok"), [
    (_dated(datetime(2024, 1, 1, 12, 30, tzinfo=UTC)), True),  # clock skew
    (_dated(datetime(2024, 1, 1, 14, 0, tzinfo=UTC)), False),  # named offset, 2 h ahead
    (_dated(datetime(2024, 1, 1, 23, 0, tzinfo=UTC), "utc"), True),  # zone guessed
    (_dated(datetime(2024, 1, 2, 3, 0, tzinfo=UTC), "utc"), False),
    (_dated(date(2024, 1, 2)), True),  # a day: the next day is tolerated
    (_dated(date(2024, 1, 3)), False),
    (_dated(datetime(1989, 12, 31, tzinfo=UTC)), False),
])
def test_plausible(dated: pd.Dated, ok: bool) -> None:
    assert pd.plausible(dated, CAPTURED) is ok


def _candidate(day: date, origin: str = "meta") -> pd.DateCandidate:
    return pd.DateCandidate(PageDate(datetime(day.year, day.month, day.day), "day", False),
                            origin)


def test_agreeing_keeps_htmldates_day_only_when_candidates_disagree() -> None:
    march, june = _candidate(date(2023, 3, 14)), _candidate(date(2023, 6, 30), "visible")
    assert pd.disagree([march, june])
    assert pd.agreeing([march, june], date(2023, 6, 30)) == [june]
    assert pd.agreeing([march, june], date(2023, 5, 1)) == [march, june]  # nobody agrees
    next_day = _candidate(date(2023, 3, 15), "visible")  # one day apart: time zones
    assert not pd.disagree([march, next_day])
    assert pd.agreeing([march, next_day], date(2023, 3, 15)) == [march, next_day]
    feed = _candidate(date(2023, 6, 30), "feed")  # the feed's date is not the page's own
    assert not pd.disagree([march, feed])


def test_own_jsonld() -> None:
    page = ["https://www.news.example/world/story-1/", "https://news.example/s/1"]
    mine = {"@type": "NewsArticle", "url": "https://news.example/world/story-1"}
    unnamed = {"@type": "NewsArticle", "headline": "x"}
    amp = {"@type": "NewsArticle", "mainEntityOfPage": {"@id": "https://m.news.example/world/"
                                                                "story-1/amp"}}
    other = {"@type": "NewsArticle", "@id": "https://news.example/world/story-2#article"}
    assert md.own_jsonld([other, mine, unnamed, amp], page) == [mine, unnamed, amp]


def test_salvaged_jsonld_dates() -> None:
    html = """<html><head>
    <script type="application/ld+json">{"@type": "NewsArticle", "headline": "A "quote"",
     "datePublished": "2023-03-14T09:00:00+01:00"}</script>
    <script type="application/ld+json">{"@type": "ItemList", "x": "a "b"",
     "datePublished": "2023-01-01"}</script>
    <script type="application/ld+json">{"@type": "NewsArticle",
     "datePublished": "2022-02-02"}</script>
    </head><body></body></html>"""
    # Only the invalid block whose type is an article; the valid one is read normally.
    assert md.salvaged_jsonld_dates(Selector(text=html), "datePublished") == [
        "2023-03-14T09:00:00+01:00"]


@pytest.mark.parametrize(("html", "other"), [
    ('<div class="comments"><time id="t"/></div>', True),
    ('<ol id="reply-list"><li><time id="t"/></li></ol>', True),
    ('<div itemtype="http://schema.org/Comment"><span><time id="t"/></span></div>', True),
    ('<aside><time id="t"/></aside>', True),
    ('<ul><li><a href="/a">a</a><time id="t"/></li><li><a href="/b">b</a></li>'
     '<li><a href="/c">c</a></li></ul>', True),
    # A list of two items, or of items without links, is the article's own meta line.
    ('<ul><li><a href="/a">a</a><time id="t"/></li><li><a href="/b">b</a></li></ul>', False),
    ('<ul class="meta"><li>By A</li><li><time id="t"/></li><li>5 min read</li></ul>', False),
    ('<article><header><p class="byline"><time id="t"/></p></header></article>', False),
])
def test_in_other_region(html: str, other: bool) -> None:
    element = Selector(text=f"<html><body>{html}</body></html>").css("#t")[0].root
    assert md.in_other_region(element) is other


def test_headline_dates_skip_the_logo_and_other_stories() -> None:
    html = """<html><body><header><div class="site-logo"><h1>Site</h1></div>
    <p>1 January 2024</p></header>
    <div class="story"><h1>Headline</h1><div class="relatedStories"><p>2 January 2024</p></div>
    <p class="byline">By A. Reporter</p><p>5 March 2023, 10:00</p></div></body></html>"""
    found = md.headline_dates(Selector(text=html))
    assert [d.value for d in found] == [datetime(2023, 3, 5, 10, 0)]


def test_relative_time_beside_a_date_is_not_its_hour() -> None:
    found = parse_page_date("January 19, 2020 / 12:25 PM / Updated 8 hours ago")
    assert found is not None
    assert found.value == datetime(2020, 1, 19, 12, 25)
    assert parse_page_date("Published 3 hours ago") is None


def test_update_stamps() -> None:
    def dated(value: datetime, zone: str) -> pd.Dated:
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return pd.Dated(aware, "second", "meta", None, zone)

    stamp_at = datetime(2020, 1, 20, 9, 49, tzinfo=UTC)
    stamp = (pd.DateCandidate(PageDate(stamp_at, "second", True), "jsonld"),
             dated(stamp_at, "offset"))

    def line(value: datetime, zone: str = "page") -> tuple[pd.DateCandidate, pd.Dated]:
        return (pd.DateCandidate(PageDate(value, "minute", zone == "offset"), "visible"),
                dated(value, zone))

    modified = [dated(stamp_at, "offset")]
    assert pd.update_stamps([stamp, line(datetime(2020, 1, 19, 12, 25))], modified) == {0}
    # 8 hours earlier with a guessed zone: maybe the same moment, nothing dropped.
    assert pd.update_stamps([stamp, line(datetime(2020, 1, 20, 1, 49))], modified) == set()
    # ... but with both offsets named, an hour earlier is earlier.
    assert pd.update_stamps([stamp, line(datetime(2020, 1, 20, 8, 49, tzinfo=UTC),
                                         "offset")], modified) == {0}
    # Months earlier is not a first publication the stamp would have replaced.
    assert pd.update_stamps([stamp, line(datetime(2019, 6, 1, 12, 0))], modified) == set()
    # Never updated: nothing earlier, nothing dropped.
    assert pd.update_stamps([stamp], modified) == set()


def test_newsroom_offset() -> None:
    utc = datetime(2019, 11, 20, 1, 50, 59, tzinfo=UTC)
    chosen = pd.Dated(utc, "second", "jsonld", "2019-11-20T01:50:59+00:00", "offset")

    def line(value: datetime, precision: str = "minute") -> pd.DateCandidate:
        return pd.DateCandidate(PageDate(value, precision, False), "visible")

    shown = pd.newsroom_offset(chosen, [line(datetime(2019, 11, 19, 17, 50))])
    assert shown is not None
    assert (shown.utc, shown.local, shown.zone) == (utc, "2019-11-19T17:50:59-08:00", "page")
    # Not a whole quarter hour away, or more than 14 hours: another moment, left alone.
    assert pd.newsroom_offset(chosen, [line(datetime(2019, 11, 19, 17, 47))]) is chosen
    assert pd.newsroom_offset(chosen, [line(datetime(2019, 11, 19, 1, 50))]) is chosen
    # A value with a named non-UTC offset is already the newsroom's.
    moscow = pd.Dated(utc, "second", "jsonld", "2019-11-20T04:50:59+03:00", "offset")
    assert pd.newsroom_offset(moscow, [line(datetime(2019, 11, 19, 17, 50))]) is moscow
