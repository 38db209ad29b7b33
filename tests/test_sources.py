"""Config validation: good files load, bad ones name the file, source and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config import ConfigError, CrawlSettings, Schedule, parse_schedule
from archive.config import load_sources as load_config
from archive.config import parse_sources as parse_config

ROOT = Path(__file__).resolve().parents[1]
GOOD = """
[crawl]
delay = 0
max_page_size = "2MB"
[[source]]
id = "northwind"
feeds = ["http://127.0.0.1:8000/rss.xml"]
follow = ['/\\d{4}/']
allowed_domains = ["127.0.0.1"]
schedule = "every 30m"
language = "en"
date_format = "%H:%M GMT%d %B %Y"
[source.selectors]
short_url = ".b-share__short input::attr(value)"
"""


def test_shipped_config_is_valid() -> None:
    config = load_config(ROOT / "config" / "sources.toml")
    ids = {s.id for s in config.sources}
    assert {"sputnik", "tass", "anadolu", "defensenews", "nato", "un_press"} <= ids
    assert all(s.schedule and s.start_urls for s in config.sources)


def test_good_config_values() -> None:
    config = parse_config(GOOD, "sources.toml")
    (src,) = config.sources
    assert config.crawl.max_page_size == 2 * 1024 * 1024
    assert config.crawl.delay == 0
    assert config.crawl.obey_robots is True
    assert src.selectors == {"short_url": ".b-share__short input::attr(value)"}
    assert src.follows("http://127.0.0.1:8000/2020/11/a.html")
    assert not src.follows("http://127.0.0.1:8000/tags/s-400/")
    assert src.allows("http://127.0.0.1:8000/x")
    assert not src.allows("http://evil.example/x")


@pytest.mark.parametrize(
    ("text", "source", "key"),
    [
        pytest.param('[[source]]\nid = "Bad Id"\nfeeds = ["http://a/"]', "Bad Id", "id",
                     id="bad-id"),
        pytest.param('[[source]]\nid = "a"\nfeeds = ["http://a/"]\ncolour = 1', "a", "colour",
                     id="unknown-source-key"),
        pytest.param('[[source]]\nid = "a"\nfeeds = ["ftp://a/"]', "a", "feeds",
                     id="not-http"),
        pytest.param('[[source]]\nid = "a"\nfeeds = ["http://a/"]\nschedule = "often"', "a",
                     "schedule", id="bad-schedule"),
        pytest.param('[[source]]\nid = "a"\nfeeds = ["http://a/"]\nfollow = ["("]', "a",
                     "follow", id="bad-regex"),
        pytest.param('[[source]]\nid = "a"\nfeeds = ["http://a/"]\n[source.selectors]\n'
                     'headline = "h1"', "a", "selectors.headline", id="unknown-selector"),
        pytest.param('[[source]]\nid = "a"', "a", "feeds", id="no-entry-points"),
        pytest.param('[crawl]\ndelay = "fast"', None, "crawl.delay", id="crawl-type"),
        pytest.param('[crawl]\nmax_page_size = "huge"', None, "crawl.max_page_size",
                     id="crawl-size"),
        pytest.param('[crawl]\nrun_timeout = "soon"', None, "crawl.run_timeout",
                     id="crawl-duration"),
        pytest.param('[crawl]\nmisfire_grace = "0s"', None, "crawl.misfire_grace",
                     id="crawl-duration-zero"),
        pytest.param('[crawler]\n', None, "crawler", id="unknown-table"),
        pytest.param('[[source]]\nid = "a"\nfeeds = ["http://a/"]\n[[source]]\nid = "a"\n'
                     'feeds = ["http://b/"]', "a", "id", id="duplicate-id"),
    ],
)
def test_bad_config_names_file_source_and_key(text: str, source: str | None, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "conf/sources.toml")
    err = info.value
    assert (err.file, err.source, err.key) == ("conf/sources.toml", source, key)
    assert str(err).startswith("conf/sources.toml")


def test_unknown_source_id_lists_known() -> None:
    with pytest.raises(ConfigError, match="known: northwind"):
        parse_config(GOOD).source("nope")


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        parse_config("[[source]\nid=", "x.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every 30m", Schedule(interval_seconds=1800)),
        ("every 2h", Schedule(interval_seconds=7200)),
        ("Every 1d", Schedule(interval_seconds=86400)),
        ("every 2s", Schedule(interval_seconds=2)),
        ("*/15 * * * *", Schedule(cron="*/15 * * * *")),
        ("0 6 * * mon-fri", Schedule(cron="0 6 * * mon-fri")),
    ],
)
def test_schedules(text: str, expected: Schedule) -> None:
    assert parse_schedule(text) == expected


@pytest.mark.parametrize("text", ["every 0s", "hourly", "* * *", "every m"])
def test_bad_schedules(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_schedule(text)


def test_crawl_durations() -> None:
    assert CrawlSettings().run_timeout == 3600
    assert CrawlSettings().misfire_grace == 600
    crawl = parse_config('[crawl]\nrun_timeout = "90s"\nmisfire_grace = "10m"').crawl
    assert (crawl.run_timeout, crawl.misfire_grace) == (90, 600)
    assert parse_config("[crawl]\nrun_timeout = 5").crawl.run_timeout == 5
    assert parse_config('[crawl]\nrun_timeout = "1h"').crawl.run_timeout == 3600
