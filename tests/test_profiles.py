"""Site profiles as data, versioned by capture date (archive/config/profiles.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from archive.config.files import ConfigError
from archive.config.sources import load_sources, parse_sources
from archive.models import CapturedResponse
from crawler.pages.article import ArticlePage

if TYPE_CHECKING:
    from pathlib import Path

    from archive.config.sources import Source

BASE = """
[[source]]
id = "wire"
feeds = ["https://wire.example/rss"]
[source.selectors]
title = "h1.base"
"""

OLD_AND_NEW = BASE + """
[[source.profile]]
valid_until = 2022-06-01
note = "old markup"
[source.profile.selectors]
title = "h1.old"
body = "div.old-text"

[[source.profile]]
valid_from = 2022-06-01
title_strip = [' - Wire News$']
drop = ['Subscribe to Wire News.{0,40}']
tags_exclude = ['[A-Z]{2,5}']
authors_exclude = ['Wire News']
[source.profile.selectors]
title = "h1.new"
body = "article .text"
tags = "a.tag"
authors = ".byline"
"""

PAGE = """<html lang="en"><head><title>x</title></head><body>
<h1 class="base">Base headline</h1><h1 class="old">Old headline</h1>
<h1 class="new">New headline - Wire News</h1>
<div class="old-text"><p>{old}</p></div>
<article><div class="text"><p>{new}</p><p>Subscribe to Wire News for daily briefings.</p>
<p>{more}</p></div></article>
<a class="tag">MIL</a><a class="tag">Air defence</a><a class="tag">GEN</a>
<span class="byline">Jane Roe</span><span class="byline">Wire News</span>
<time datetime="2022-05-01T10:00:00Z">1 May</time>
</body></html>"""

SENTENCE = ("The defence ministry said on Monday that the air defence systems were moved to "
            "the border region after talks with the neighbouring government failed. ")


def page(source: Source, when: datetime | None) -> ArticlePage:
    html = PAGE.format(old="Old body. " + SENTENCE * 4, new="New body. " + SENTENCE * 4,
                       more="More. " + SENTENCE * 2)
    response = CapturedResponse(url="https://wire.example/a/1", status=200,
                                headers=(("Content-Type", "text/html; charset=utf-8"),),
                                body=html.encode(), fetched_at=when or datetime.now(UTC))
    return ArticlePage(response, source)


def test_the_profile_valid_at_capture_time_parses_the_page() -> None:
    src = parse_sources(OLD_AND_NEW).source("wire")
    old = page(src, datetime(2021, 3, 1, tzinfo=UTC))
    new = page(src, datetime(2023, 3, 1, tzinfo=UTC))
    assert old.title == "Old headline"
    assert (old.body or "").startswith("Old body.")
    assert new.title == "New headline"  # title_strip removed the suffix
    assert (new.body or "").startswith("New body.")
    assert "Subscribe" not in (new.body or "")  # drop
    assert "More." in (new.body or "")  # what follows the dropped line is kept
    assert new.tags == ("Air defence",)  # the internal codes are excluded
    assert new.authors == ("Jane Roe",)
    # The window boundary: valid_from is inclusive, valid_until exclusive.
    assert page(src, datetime(2022, 6, 1, tzinfo=UTC)).title == "New headline"
    assert page(src, datetime(2022, 5, 31, 23, 59, tzinfo=UTC)).title == "Old headline"


def test_without_a_dated_profile_the_source_keys_apply() -> None:
    src = parse_sources(BASE).source("wire")
    assert src.at(datetime(2023, 1, 1, tzinfo=UTC)) is src
    assert page(src, datetime(2023, 1, 1, tzinfo=UTC)).title == "Base headline"
    gap = parse_sources(BASE + """
[[source.profile]]
valid_from = 2030-01-01
[source.profile.selectors]
title = "h1.new"
""").source("wire")
    assert page(gap, datetime(2023, 1, 1, tzinfo=UTC)).title == "Base headline"
    assert gap.at(None).selectors["title"] == "h1.new"  # no capture time: the current one


def test_profile_file_beside_the_sources_file(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text(BASE, encoding="utf-8")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "wire.toml").write_text("""
[[profile]]
valid_from = "2024-01-01T00:00:00+03:00"
language = "ru"
timezone = "Europe/Moscow"
[profile.selectors]
title = "h1.new"
""", encoding="utf-8")
    src = load_sources(tmp_path / "sources.toml").source("wire")
    assert len(src.profiles) == 1
    current = src.at(datetime(2024, 5, 1, tzinfo=UTC))
    assert (current.language, current.timezone) == ("ru", "Europe/Moscow")
    assert current.selectors == {"title": "h1.new"}
    assert current.profile == "2023-12-31.."  # 00:00 in Moscow is 21:00 UTC the day before
    assert src.at(datetime(2023, 12, 31, 20, 0, tzinfo=UTC)) is src


@pytest.mark.parametrize(("extra", "message"), [
    ("[[source.profile]]\nvalid_until = 2022-01-01\n[[source.profile]]\nvalid_from = 2021-01-01\n",
     "overlap"),
    ("[[source.profile]]\n[[source.profile]]\nvalid_from = 2021-01-01\n", "overlap"),
    ("[[source.profile]]\nvalid_from = 2022-01-01\nvalid_until = 2021-01-01\n",
     "must be after valid_from"),
    ("[[source.profile]]\ndrop = ['(unclosed']\n", "bad regex"),
    ("[[source.profile]]\nvalid_from = 'soon'\n", "not a date"),
    ("[[source.profile]]\nselector = {}\n", "unknown key"),
    ("[[source.profile]]\n[source.profile.selectors]\nheadline = 'h1'\n", "unknown key"),
    ("[[source.profile]]\ntimezone = 'Mars/Olympus'\n", "unknown time zone"),
])
def test_bad_profiles_are_refused_with_the_key(extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_sources(BASE + extra)
    assert "wire" in str(caught.value)


def test_overlap_across_inline_and_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sources.toml").write_text(
        BASE + "[[source.profile]]\nvalid_from = 2020-01-01\n", encoding="utf-8")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "wire.toml").write_text(
        "[[profile]]\nvalid_from = 2024-01-01\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="overlap"):
        load_sources(tmp_path / "sources.toml")
