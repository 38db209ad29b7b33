"""archive.config as one package: one ConfigError, and cron lines accepted or refused
exactly as the scheduler (APScheduler 3.x) reads them."""

from __future__ import annotations

from datetime import UTC

import pytest
from apscheduler.triggers.cron import CronTrigger
from scrapy.settings import Settings

from archive.config import ConfigError, Schedule, parse_schedule, parse_sources

SOURCE = '[[source]]\nid = "a"\nfeeds = ["http://a/"]\nschedule = "{schedule}"\n'

ACCEPTED = [
    pytest.param("*/15 * * * *", id="every-quarter-hour"),
    pytest.param("5 4 * * *", id="daily-at-0405"),
    pytest.param("0 6 * * mon-fri", id="weekday-range"),
    pytest.param("0 6 * * sat,sun", id="weekday-list"),
    pytest.param("0 6 * * MON", id="weekday-uppercase"),
    pytest.param("0,30 8-18 * * *", id="list-and-range"),
    pytest.param("0-59/5 * * * *", id="stepped-range"),
    pytest.param("10/20 * * * *", id="start-and-step"),
    pytest.param("59 23 31 12 6", id="every-maximum"),
    pytest.param("0 0 1 1 0", id="every-minimum"),
    pytest.param("0 0 1 jan *", id="month-name"),
    pytest.param("0 0 * jan-mar *", id="month-range"),
    pytest.param("0 0 1 1,jul *", id="month-number-and-name"),
    pytest.param("0 0 last * *", id="last-day-of-month"),
    pytest.param("*/59 * * * *", id="step-equal-to-span"),
    pytest.param("0-0/5 * * * *", id="apscheduler-quirk-zero-range-step"),
    pytest.param("0 6 * * mon-fri/2", id="apscheduler-quirk-name-step-ignored"),
]
REFUSED = [
    pytest.param("99 * * * *", "minute", id="minute-99"),
    pytest.param("60 * * * *", "minute", id="minute-60"),
    pytest.param("* 24 * * *", "hour", id="hour-24"),
    pytest.param("* * 0 * *", "day", id="day-0"),
    pytest.param("* * 32 * *", "day", id="day-32"),
    pytest.param("* * * 0 *", "month", id="month-0"),
    pytest.param("* * * 13 *", "month", id="month-13"),
    pytest.param("* * * foo *", "month", id="month-unknown-name"),
    pytest.param("* * * * 7", "day_of_week", id="weekday-7"),
    pytest.param("* * * * sun-mon", "day_of_week", id="weekday-range-backwards"),
    pytest.param("* * * * jan", "day_of_week", id="weekday-month-name"),
    pytest.param("* * * * last", "day_of_week", id="weekday-last"),
    pytest.param("*/0 * * * *", "minute", id="step-0"),
    pytest.param("*/60 * * * *", "minute", id="step-above-span"),
    pytest.param("59/1 * * * *", "minute", id="step-past-the-end"),
    pytest.param("5-3 * * * *", "minute", id="range-backwards"),
    pytest.param("1,,2 * * * *", "minute", id="empty-list-item"),
    pytest.param("5- * * * *", "minute", id="open-range"),
    pytest.param("-1 * * * *", "minute", id="negative"),
    pytest.param("? * * * *", "minute", id="question-mark"),
    pytest.param("L * * * *", "minute", id="letter"),
    pytest.param("* * mon * *", "day", id="day-weekday-name"),
    pytest.param("* * * * * *", None, id="six-fields"),
    pytest.param("* * * *", None, id="four-fields"),
]


def apscheduler_accepts(line: str) -> bool:
    try:
        CronTrigger.from_crontab(line, timezone=UTC)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("line", ACCEPTED)
def test_cron_lines_apscheduler_accepts_pass_the_config_check(line: str) -> None:
    assert apscheduler_accepts(line)
    assert parse_schedule(line) == Schedule(cron=line)
    (source,) = parse_sources(SOURCE.format(schedule=line), "sources.toml").sources
    assert source.schedule == line


@pytest.mark.parametrize(("line", "field"), REFUSED)
def test_cron_lines_apscheduler_refuses_fail_the_config_check(line: str,
                                                              field: str | None) -> None:
    assert not apscheduler_accepts(line)
    with pytest.raises(ConfigError) as info:
        parse_sources(SOURCE.format(schedule=line), "conf/sources.toml")
    err = info.value
    assert (err.file, err.source, err.key) == ("conf/sources.toml", "a", "schedule")
    assert str(err).startswith("conf/sources.toml: source 'a': key 'schedule': ")
    if field is not None:
        assert f"bad cron line {line!r}: field {field} " in str(err)


def test_schedule_error_without_a_file_is_just_the_message() -> None:
    with pytest.raises(ConfigError) as info:
        parse_schedule("99 * * * *")
    assert info.value.file is None
    assert info.value.source is None
    assert str(info.value) == ("bad cron line '99 * * * *': field minute ('99'): "
                               "99 is above the highest value 59")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        pytest.param(ConfigError("config/sources.toml", "tass", "selectors.headline",
                                 "unknown key"),
                     "config/sources.toml: source 'tass': key 'selectors.headline': "
                     "unknown key", id="source-entry-key"),
        pytest.param(ConfigError("w.toml", "s400", "query", "empty", kind="watchlist"),
                     "w.toml: watchlist 's400': key 'query': empty", id="watchlist"),
        pytest.param(ConfigError("w.toml", None, "smtp.port", "not a port"),
                     "w.toml: key 'smtp.port': not a port", id="no-entry"),
        pytest.param(ConfigError("x.toml", None, None, "invalid TOML"),
                     "x.toml: invalid TOML", id="file-only"),
    ],
)
def test_one_config_error_message_format(error: ConfigError, message: str) -> None:
    assert str(error) == message
    assert isinstance(error, ValueError)


def test_entry_names_its_kind() -> None:
    source = ConfigError("s.toml", "tass", "id", "bad")
    watchlist = ConfigError("w.toml", "s400", "name", "bad", kind="watchlist")
    assert (source.source, source.watchlist) == ("tass", None)
    assert (watchlist.source, watchlist.watchlist) == (None, "s400")


# One field at a time, every other field "*": each item alone and in a list.
GRID_ITEMS = ["*", "*/0", "*/1", "*/7", "*/23", "*/24", "*/31", "*/59", "*/60", "0", "1", "6",
              "7", "12", "13", "23", "24", "31", "32", "59", "60", "0-0", "0-6", "1-7", "5-3",
              "0/5", "59/1", "0-0/5", "3-10/2", "mon", "sun", "fri-mon", "mon-fri",
              "mon-fri/2", "jan", "dec", "jan-mar", "mar-jan", "Jan", "MON", "monx", "janfoo",
              "last", "lastx", "x", "", "?", "L", "1-", "-1"]


def test_cron_grid_agrees_with_apscheduler() -> None:
    disagreements = []
    for position in range(5):
        for item in GRID_ITEMS:
            for tail in ("", ",3", ",mon", ",last"):
                fields = ["*"] * 5
                fields[position] = item + tail
                line = " ".join(fields)
                try:
                    parse_schedule(line)
                    ours = True
                except ConfigError:
                    ours = False
                if ours != apscheduler_accepts(line):
                    disagreements.append(line)
    assert disagreements == []


def test_crawl_defaults_are_the_documented_ones() -> None:
    """The README's ``[crawl]`` defaults are the values a file without them gets, in the
    config and in the Scrapy settings both ``mediawatch crawl`` and ``scrapy crawl`` use."""
    crawl = parse_sources(SOURCE.format(schedule="every 1h")).crawl
    assert (crawl.delay, crawl.per_domain_concurrency, crawl.concurrency) == (1.0, 2, 16)
    assert (crawl.sitemap_depth, crawl.max_sitemaps) == (5, 500)
    project = Settings()
    project.setmodule("crawler.settings")
    for key, value in crawl.scrapy_settings().items():
        if key != "MEDIAWATCH_RECHECK":
            assert project[key] == value, key


def test_sitemap_bounds_are_read_and_validated() -> None:
    crawl = parse_sources("[crawl]\nsitemap_depth = 0\nmax_sitemaps = 3\n"
                          + SOURCE.format(schedule="every 1h")).crawl
    assert (crawl.sitemap_depth, crawl.max_sitemaps) == (0, 3)
    assert crawl.scrapy_settings()["MEDIAWATCH_SITEMAP_DEPTH"] == 0
    assert crawl.scrapy_settings()["MEDIAWATCH_MAX_SITEMAPS"] == 3
    for table, message in [("sitemap_depth = -1", "non-negative"),
                           ("sitemap_depth = 1.5", "whole number"),
                           ("max_sitemaps = 0", "at least 1"),
                           ("max_sitemaps = 'many'", "non-negative"),
                           ("per_domain_concurrency = 0", "at least 1")]:
        with pytest.raises(ConfigError, match=message):
            parse_sources(f"[crawl]\n{table}\n" + SOURCE.format(schedule="every 1h"))
