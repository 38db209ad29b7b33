"""Incremental crawling end to end: the real ``mediawatch crawl`` against the newsroom.

Recrawls of an unchanged site fetch no archived article again, answer the RSS feed's
conditional GET with 304 and write revisit records instead of second copies; re-checks by
age catch a withdrawn story; a rate-limited outlet is marked blocked and skipped by
scheduled runs; a crawl killed mid-file leaves a WARC that the next crawl closes and loads.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.warc.reader import iter_responses, list_warcs
from archive.warc.writer import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import CHALLENGE_PATH, STORIES

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
WARCIO = str(Path(sys.executable).with_name("warcio"))


@dataclass
class Site:
    newsroom: Newsroom
    config: Path
    data: Path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [MEDIAWATCH, "--config", str(self.config), "--data", str(self.data), *args],
            capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stderr
        return result

    def crawl(self, *args: str) -> list[tuple[str, str]]:
        """Run a crawl; the requests the newsroom saw during it."""
        before = len(self.newsroom.hits)
        self.cli("crawl", *args)
        return self.newsroom.hits[before:]

    def runs(self) -> list[dict[str, object]]:
        return json.loads(self.cli("runs", "--format", "json").stdout)

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data / "archive.db") as conn:
            return conn.execute(sql, params).fetchall()


def newsroom_site(tmp: Path, extra_crawl: str = "") -> Iterator[Site]:
    with Newsroom() as newsroom:
        config = tmp / "sources.toml"
        config.write_text(render_sources(newsroom.base_url).replace(
            "[crawl]\n", "[crawl]\n" + extra_crawl), encoding="utf-8")
        yield Site(newsroom, config, tmp / "data")


ARTICLE_PATHS = {s["canonical"] for s in STORIES}


@pytest.fixture(scope="module")
def recrawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, list, list]]:
    for site in newsroom_site(tmp_path_factory.mktemp("recrawl")):
        first = site.crawl()
        second = site.crawl()
        yield site, first, second


def test_recrawl_fetches_no_archived_article(recrawled: tuple[Site, list, list]) -> None:
    _site, first, second = recrawled
    assert {p.split("?")[0] for _, p in first} >= ARTICLE_PATHS
    assert not ARTICLE_PATHS & {p.split("?")[0] for _, p in second}
    assert len(second) < len(first) // 2


def test_conditional_get_and_revisit_records(recrawled: tuple[Site, list, list]) -> None:
    site, _first, _second = recrawled
    records = [r for f in list_warcs(site.data / "warcs") for r in iter_responses(f)]
    rss = [r for r in records if r.captured.url.endswith("/northwind/rss.xml")]
    atom = [r for r in records if r.captured.url.endswith("/anatolia/atom.xml")]
    # The RSS feed sends an ETag: the recrawl asks with If-None-Match and gets a 304.
    assert [r.captured.status for r in rss] == [200, 304]
    assert rss[1].revisit is not None
    assert rss[1].revisit.profile == REVISIT_NOT_MODIFIED
    assert rss[1].revisit.refers_to_id == rss[0].captured.record_id
    # The Atom feed never says 304: the same bytes become an identical-payload revisit.
    assert [r.revisit.profile if r.revisit else None for r in atom] == [None, REVISIT_IDENTICAL]
    assert atom[1].digest == atom[0].digest
    result = subprocess.run([WARCIO, "check", *map(str, list_warcs(site.data / "warcs"))],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_run_report_counts_revisit_bytes(recrawled: tuple[Site, list, list]) -> None:
    site, _first, _second = recrawled
    runs = {(r["source"], i // 2): r for i, r in enumerate(site.runs())}
    for source in ("northwind", "anatolia"):
        first, second = runs[(source, 0)], runs[(source, 1)]
        assert first["revisit_bytes"] == 0
        assert second["revisit_bytes"] > 0
        assert second["warc_bytes"] < first["warc_bytes"] / 3
        assert second["new"] == 0
        assert second["status"] == "ok"
    assert runs[("anatolia", 0)]["blocked"] >= 1  # the challenge interstitial


def test_challenge_page_is_kept_but_never_an_article(recrawled: tuple[Site, list, list]) -> None:
    site, _first, _second = recrawled
    captured = site.query("SELECT status, article_id FROM captures WHERE url LIKE ?",
                          f"%{CHALLENGE_PATH}")
    assert captured
    assert all(row == (200, None) for row in captured)
    assert not site.query("SELECT id FROM articles WHERE url LIKE ?", f"%{CHALLENGE_PATH}")


def test_reindex_resolves_revisits(recrawled: tuple[Site, list, list]) -> None:
    site, _first, _second = recrawled
    before = site.cli("export").stdout
    last_seen = site.query("SELECT id, last_seen FROM articles ORDER BY id")
    site.cli("reindex")
    assert site.cli("export").stdout == before
    assert site.query("SELECT id, last_seen FROM articles ORDER BY id") == last_seen
    assert site.query("SELECT count(*) FROM captures WHERE revisit IS NOT NULL")[0][0] >= 2


def test_recheck_by_age_catches_a_takedown(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path, 'recheck = ["1s"]\n'):
        site.crawl()
        story = next(s for s in STORIES if s["key"] == "madrid")
        site.newsroom.take_down(story["canonical"])
        second = site.crawl()
        # Every archived article is due (first seen more than a second ago): re-fetched once.
        assert story["canonical"] in {p for _, p in second}
        shown = json.loads(site.cli("show", site.newsroom.base_url + story["canonical"],
                                    "--format", "json").stdout)
        assert shown["removed_at"] is not None
        assert shown["body"]  # the text stays
        assert 410 in {c["status"] for c in shown["captures"]}
        northwind = [r for r in site.runs() if r["source"] == "northwind"]
        assert northwind[-1]["removed"] == 1
        third = site.crawl()
        assert story["canonical"] not in {p for _, p in third}  # checkpoint done


def test_blocked_source_backs_off_on_scheduled_runs(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path):
        site.newsroom.throttled.add("/anatolia/")
        site.crawl("--scheduled", "anatolia")
        state = site.query("SELECT status, backoff_until FROM source_state WHERE source = ?",
                           "anatolia")
        assert state
        assert state[0][0] == "blocked"
        hits = site.crawl("--scheduled", "anatolia")
        assert not [p for _, p in hits if p.startswith("/anatolia/")]
        assert site.runs()[-1]["status"] == "skipped"
        # A manual crawl is the user's explicit request: it goes ahead.
        site.newsroom.throttled.clear()
        hits = site.crawl("anatolia")
        assert "/anatolia/atom.xml" in {p for _, p in hits}


def test_scheduled_runs_poll_listings_only_when_due(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path):
        site.crawl("--scheduled", "northwind")
        polled = dict(site.query("SELECT url, interval_s FROM fetch_state WHERE kind = 'feed'"))
        assert polled == {site.newsroom.base_url + "/northwind/rss.xml": 300}
        hits = site.crawl("--scheduled", "northwind")
        assert "/northwind/rss.xml" not in {p for _, p in hits}  # next poll in 5 minutes
        hits = site.crawl("northwind")
        assert "/northwind/rss.xml" in {p for _, p in hits}


def test_interrupted_crawl_file_is_recovered(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path):
        site.crawl("anatolia")
        (done,) = [f for f in list_warcs(site.data / "warcs")]
        # A crawl killed mid-write: its file still .open, the last record cut in half.
        data = done.read_bytes()
        orphan = done.with_name(done.name.replace("-000", "-999") + ".open")
        orphan.write_bytes(data[: len(data) - 300])
        site.crawl("anatolia")
        assert not list((site.data / "warcs").glob("*.open"))
        recovered = orphan.with_name(orphan.name.removesuffix(".open"))
        result = subprocess.run([WARCIO, "check", str(recovered)], capture_output=True,
                                text=True, check=False)
        assert result.returncode == 0, result.stdout
        loaded = site.query("SELECT count(*) FROM captures WHERE warc_file = ?",
                            recovered.name)
        assert loaded[0][0] >= 1


def test_a_failed_article_is_retried_though_no_listing_changes(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path, 'poll_min = "1s"\n'):
        story = next(s for s in STORIES if s["key"] == "madrid")
        site.newsroom.failing.add(story["canonical"])
        first = site.crawl()
        assert story["canonical"] in {p for _, p in first}
        assert not site.query("SELECT id FROM articles WHERE url LIKE ?",
                              f"%{story['canonical']}")
        retry = site.query("SELECT kind, last_total FROM fetch_state WHERE url LIKE ?",
                           f"%{story['canonical']}%")
        assert ("retry", 1) in retry  # the link it was fetched through waits for a retry
        site.newsroom.failing.clear()
        second = site.crawl()  # the feeds are unchanged (304 / same bytes): only the retry
        assert story["canonical"] in {p for _, p in second}
        assert site.query("SELECT count(*) FROM articles WHERE url LIKE ?",
                          f"%{story['canonical']}")[0][0] == 1
        third = site.crawl()
        assert story["canonical"] not in {p for _, p in third}


def test_a_declared_short_link_is_fetched_once_after_its_page(tmp_path: Path) -> None:
    """A crawl that reached a story through its feed's link knows the story's short link
    only from the page's markup (as does a crawl interrupted before it reached the section
    page that lists the short link). A later crawl whose section page lists that short link
    fetches it once, so that its redirects are captured too (the archive then does not
    depend on which of the story's URLs was reached first); the crawl after that does not."""
    for site in newsroom_site(tmp_path):
        full = site.config.read_text(encoding="utf-8")
        start = full.index('id = "northwind"')
        block = full[start:full.index("[[source]]", start)]
        sections = block[block.index("sections = "):]
        no_sections = block.replace(sections[:sections.index("\n") + 1], "")
        site.config.write_text(full.replace(block, no_sections), encoding="utf-8")
        site.crawl()
        declared = {str(url).split("127.0.0.1", 1)[1].split("/", 1)[1] for (url,) in site.query(
            "SELECT short_url FROM articles WHERE source = 'northwind'"
            " AND short_url LIKE '%/s/%'")}
        assert declared, "the section's stories declare short links"
        site.config.write_text(full, encoding="utf-8")
        second = {p.split("?")[0].lstrip("/") for _, p in site.crawl()}
        assert declared & second  # the listed short links of archived stories, fetched once
        redirects = site.query(
            "SELECT count(*) FROM captures WHERE status BETWEEN 300 AND 399"
            " AND url LIKE '%/s/%'")
        assert redirects[0][0] >= len(declared & second)
        third = {p.split("?")[0].lstrip("/") for _, p in site.crawl()}
        assert not declared & third
