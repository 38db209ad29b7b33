"""Watchlist Atom entries carry the announced version's text and link the archive: the
article page of the web interface and the capture's replay permalink (scheduler/monitor/
links.py, alerts.py, delivery.py). End to end on the sample newsroom, whose Geneva story is
edited between two crawls, with a real `mediawatch serve` answering the links."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from archive.config import ConfigError
from archive.config.watchlists import WebLinks, parse_watchlists
from archive.models import Article, WarcLocation
from archive.store.db import Archive, CaptureRef
from scheduler.monitor.delivery import after_run
from scheduler.monitor.links import SERVE_FILE, resolve_origins, write_serve_origins
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import STORY_SPECS

ROOT = Path(__file__).resolve().parents[1]
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
SUMMIT = next(s for s in STORY_SPECS if s.key == "summit")
NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        return str(response.read().decode("utf-8", "replace"))


def links(entry: Any) -> dict[str, str]:
    """``{title or rel: href}`` of an entry's links."""
    return {link.get("title") or link["rel"]: link["href"] for link in entry.links}


@pytest.fixture
def served(tmp_path: Path, free_port: Callable[[], int]
           ) -> Iterator[tuple[Newsroom, Path, Path, str, str]]:
    """The newsroom, a sources file for it, a data folder and a running `mediawatch serve`
    (ui origin, replay origin) on that folder."""
    data = tmp_path / "data"
    with Newsroom() as newsroom:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        port, replay_port = free_port(), free_port()
        proc = subprocess.Popen(
            [MEDIAWATCH, "--config", str(sources), "--data", str(data), "serve", "--port",
             str(port), "--replay-port", str(replay_port)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert "web interface" in line, proc.stderr.read() if proc.stderr else line
            yield (newsroom, sources, data, f"http://127.0.0.1:{port}",
                   f"http://127.0.0.1:{replay_port}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def test_feed_entries_carry_their_version_and_link_the_archive(
        served: tuple[Newsroom, Path, Path, str, str], tmp_path: Path) -> None:
    newsroom, sources, data, ui, replay = served
    assert json.loads((data / SERVE_FILE).read_text()) == {"base_url": ui, "replay_url": replay}
    lists = tmp_path / "watchlists.toml"
    lists.write_text('[[watchlist]]\nname = "geneva"\nquery = "Geneva"\nmax_age_days = 0\n',
                     encoding="utf-8")
    for edition in (1, 2):
        newsroom.edition = edition
        result = subprocess.run(
            [MEDIAWATCH, "--config", str(sources), "--data", str(data), "--watchlists",
             str(lists), "crawl", "northwind"],
            cwd=ROOT, capture_output=True, text=True, timeout=180, check=False)
        assert result.returncode == 0, result.stderr
        assert "alerts: geneva 1" in result.stdout, result.stdout + result.stderr
    feed = feedparser.parse((data / "alerts" / "geneva.atom").read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    update, new = feed.entries
    # Each entry shows the text of its own version, not the article's current one.
    assert new.title == f"[new] {SUMMIT.title}"
    assert update.title == f"[update, version 2] {SUMMIT.title_e2}"
    assert new.summary == SUMMIT.summary
    assert update.summary == SUMMIT.summary_e2
    began, ended = "began their first face-to-face meeting", "ended their Geneva summit"
    assert began in new.content[0].value
    assert ended not in new.content[0].value
    assert ended in update.content[0].value
    assert began not in update.content[0].value
    assert new.content[0].type == "text/plain"
    for entry in (new, update):
        found = links(entry)
        assert found["alternate"] == newsroom.base_url + SUMMIT.path
        assert found["archived article"].startswith(f"{ui}/articles/")
        capture = next(href for name, href in found.items() if name.startswith("capture "))
        assert capture.startswith(f"{replay}/replay/")
        assert capture.endswith("/" + newsroom.base_url + SUMMIT.path)
    # The links answer: the article page (both versions), and each capture replays the
    # text of the version its entry announces.
    page = fetch(links(new)["archived article"])
    assert SUMMIT.title in page
    assert SUMMIT.title_e2 in page
    first = fetch(next(h for n, h in links(new).items() if n.startswith("capture ")))
    second = fetch(next(h for n, h in links(update).items() if n.startswith("capture ")))
    assert SUMMIT.title in first
    assert SUMMIT.title_e2 not in first
    assert SUMMIT.title_e2 in second


def _store(archive: Archive, title: str, body: str, offset: int, fetched: datetime) -> str:
    article = Article(url="https://news.example/1", source="tass", title=title, lead=None,
                      body=body, language="en", published=NOW - timedelta(hours=3))
    archive.upsert(article, CaptureRef(
        location=WarcLocation("crawl-1.warc.gz", offset, 100), url=article.url, status=200,
        fetched_at=fetched, digest=f"sha1:{offset}", record_id=f"<urn:uuid:{offset}>",
        kind="article", source="tass"))
    aid = archive.resolve(article.url)
    assert aid is not None
    return aid


def test_web_table_wins_over_serve_and_unknown_origins_give_no_archive_links(
        archive: Archive, tmp_path: Path) -> None:
    watchlists = parse_watchlists(
        '[web]\nbase_url = "https://archive.example.org/"\n'
        '[[watchlist]]\nname = "s400"\nquery = "S-400"\n')
    assert watchlists.web == WebLinks("https://archive.example.org", None)
    aid = _store(archive, "S-400 first", "First text.", 1, NOW - timedelta(hours=2))
    _store(archive, "S-400 second", "Second text.", 2, NOW - timedelta(hours=1))
    # Nothing known: the entry still has its text and the live link, no archive links.
    after_run(archive, watchlists, tmp_path, NOW, origins=WebLinks())
    (entry,) = feedparser.parse((tmp_path / "alerts" / "s400.atom").read_bytes()).entries
    assert links(entry) == {"alternate": "https://news.example/1"}
    assert entry.content[0].value == "Second text."
    # [web] base_url wins; replay_url comes from what `serve` wrote.
    write_serve_origins(tmp_path, "http://127.0.0.1:8080", "http://127.0.0.1:8081/")
    origins = resolve_origins(watchlists.web, tmp_path)
    assert origins == WebLinks("https://archive.example.org", "http://127.0.0.1:8081")
    after_run(archive, watchlists, tmp_path, NOW)
    (entry,) = feedparser.parse((tmp_path / "alerts" / "s400.atom").read_bytes()).entries
    assert links(entry) == {
        "alternate": "https://news.example/1",
        "archived article": f"https://archive.example.org/articles/{aid}#versions",
        "capture 2024-05-10T11:00:00Z":
            "http://127.0.0.1:8081/replay/20240510110000/https://news.example/1"}


@pytest.mark.parametrize(("text", "key"), [
    ('[web]\nbase_url = "ftp://x"\n', "web.base_url"),
    ('[web]\nreplay = "http://x"\n', "replay"),
    ('web = "http://x"\n', "web"),
], ids=["not-http", "unknown-key", "not-a-table"])
def test_bad_web_table_is_rejected(text: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        parse_watchlists(text)
