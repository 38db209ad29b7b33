"""An article's listing hints do not depend on which listing answered first.

A feed and a section page list the same six articles; only the feed names their author and
the pages name none, so the archived authors come from the feed's hints. Whichever of the
two listings is slow, the archive must be the same: articles are requested once every
listing has answered, with the hints of their best mention (feeds first), never with those
of whichever listing Scrapy happened to parse first. (On this small site Scrapy happens to
answer the listings first anyway; the ranking itself is checked directly by the last test,
and the two-source fault-matrix crawl is where the race showed.)
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.site_server import Site
from tests.test_crawl_limits import MEDIAWATCH

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


def archived_authors(site: Site, tmp_path: Path, slow: str) -> dict[str, list[str]]:
    """Crawl with the ``slow`` listing (``feed`` or ``section``) held 1 s; the authors of
    each archived article by URL."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    feed = f"{site.base_url}/hinted/feed.xml{'?delay=1' if slow == 'feed' else ''}"
    section = f"{site.base_url}/hinted/section.html{'?delay=1' if slow == 'section' else ''}"
    config = tmp_path / "sources.toml"
    config.write_text(f"""[crawl]
delay = 0
per_domain_concurrency = 4
requisites = false

[[source]]
id = "hinted"
feeds = ["{feed}"]
sections = ["{section}"]
follow = ['/hinted/art-\\\\d+$']
""", encoding="utf-8")
    data = tmp_path / "data"
    args = [MEDIAWATCH, "--config", str(config), "--data", str(data)]
    crawled = subprocess.run([*args, "crawl"], capture_output=True, text=True, timeout=300,
                             check=False)
    assert crawled.returncode == 0, crawled.stderr
    out = subprocess.run([*args, "export", "--format", "jsonl"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return {row["url"]: row["authors"] for row in rows}


def test_hints_come_from_the_best_listing_whichever_answers_first(
        site: Site, tmp_path: Path) -> None:
    feed_slow = archived_authors(site, tmp_path / "feed-slow", "feed")
    section_slow = archived_authors(site, tmp_path / "section-slow", "section")
    assert len(feed_slow) == 6
    assert feed_slow == section_slow
    assert all(authors == ["Desk Writer"] for authors in feed_slow.values()), feed_slow


def test_every_listed_article_is_requested_once(site: Site, tmp_path: Path) -> None:
    archived_authors(site, tmp_path, "feed")
    articles = [hit for hit in site.hits if "/hinted/art-" in hit]
    assert sorted(articles) == sorted(f"/hinted/art-{n}" for n in range(6))


def test_the_mention_ranked_first_wins_in_any_order() -> None:
    from archive.models import Hints
    from crawler.spiders.source import ListedLink

    feed = ListedLink("feed", "http://x/feed.xml", "http://x/a", Hints(authors=("A",)), "new")
    richer = ListedLink("sitemap", "http://x/s2.xml", "http://x/a",
                        Hints(title="T", tags=("t",)), "new")
    poorer = ListedLink("sitemap", "http://x/s1.xml", "http://x/a", Hints(title="T"), "new")
    bare = ListedLink("section", "http://x/", "http://x/a", None, "new")
    mentions = [bare, poorer, richer, feed]
    for order in (mentions, mentions[::-1], mentions[1:] + mentions[:1]):
        assert min(order, key=ListedLink.rank) is feed
    assert min([bare, poorer, richer], key=ListedLink.rank) is richer
    twin = ListedLink("sitemap", "http://x/s0.xml", "http://x/a", Hints(title="T"), "new")
    assert min([poorer, twin], key=ListedLink.rank) is twin  # then by listing URL
