"""Stories across outlets end to end: the sample newsroom crawled with the real
``mediawatch crawl``, clusters stored at ingest, ``show --format json``'s ``cluster``, the
same clusters after ``reindex`` (and after an ingest of the WARC files in reverse order),
``search --group``, the article page's timeline and the grouped search page and API."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest
from starlette.testclient import TestClient

from archive.store.db import Archive
from archive.warc.reader import list_warcs
from archive.web.app import create_app
from crawler.ingest import ingest_files
from scheduler.newsroom.stories import STORIES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Crawled

BY_KEY = {s["key"]: s for s in STORIES}
#: Each wire copy and the story it was rewritten from.
WIRE_PAIRS = [(s["key"], s["wire_copy_of"]) for s in STORIES if s["wire_copy_of"]]


def _clusters(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute("SELECT article_id, cluster_id FROM cluster_members"))


def _show(crawled: Crawled, key: str) -> dict:
    story = BY_KEY[key]
    return json.loads(crawled.cli("show", crawled.base + (story["short_url"] or story["canonical"]),
                                  "--format", "json").stdout)


def test_a_wire_copy_with_a_new_headline_is_clustered_with_its_original(
        crawled: Crawled) -> None:
    assert WIRE_PAIRS, "the newsroom has a wire copy"
    for copy_key, original_key in WIRE_PAIRS:
        copy, original = _show(crawled, copy_key), _show(crawled, original_key)
        assert BY_KEY[copy_key]["title"] != BY_KEY[original_key]["title"]  # new headline
        assert copy["cluster"]["id"] == original["cluster"]["id"]
        assert copy["cluster"]["id"] == min(m["id"] for m in copy["cluster"]["members"])
        ids = {m["id"] for m in copy["cluster"]["members"]}
        assert {copy["id"], original["id"]} <= ids
        assert {m["source"] for m in copy["cluster"]["members"]} >= {
            BY_KEY[copy_key]["source"], BY_KEY[original_key]["source"]}
        # `first` is the earliest publication as an instant (offsets applied).
        members = copy["cluster"]["members"]
        assert set(members[0]) == {"id", "source", "title", "published", "first_seen"}
        earliest = min((BY_KEY[k] for k in (copy_key, original_key)),
                       key=lambda s: s["published_utc"])
        by_id = {m["id"]: m for m in members}
        assert by_id[copy["cluster"]["first"]]["published"] == earliest["published_utc"]
        assert copy["cluster"]["first"] == members[0]["id"]


def test_an_unrelated_story_is_a_cluster_of_one(crawled: Crawled) -> None:
    shown = _show(crawled, "frigate")
    assert shown["cluster"] == {"id": shown["id"], "first": shown["id"], "members": [
        {k: shown[k] for k in ("id", "source", "title", "published", "first_seen")}]}


def test_reindex_and_another_ingest_order_give_the_same_clusters(
        crawled: Crawled, tmp_path: Path) -> None:
    db = crawled.data / "archive.db"
    before = _clusters(db)
    assert before
    # The WARC files in reverse order, one at a time, into a fresh archive.
    with Archive(tmp_path / "reverse.db") as fresh:
        for path in reversed(list_warcs(crawled.data / "warcs")):
            ingest_files(fresh, [path], None, workers=1)
    assert _clusters(tmp_path / "reverse.db") == before
    crawled.cli("reindex")
    assert _clusters(db) == before


def test_search_group_folds_a_story_into_one_row(crawled: Crawled) -> None:
    plain = json.loads(crawled.cli("search", "Idlib", "--format", "json").stdout)
    grouped = json.loads(crawled.cli("search", "Idlib", "--group", "--format", "json").stdout)
    assert len(grouped) < len(plain)
    assert sum(h["grouped"] for h in grouped) == len(plain)
    assert max(h["cluster_size"] for h in grouped) >= 2
    table = crawled.cli("search", "Idlib", "--group").stdout
    assert "cluster_size" in table.splitlines()[0]


@pytest.fixture(scope="module")
def client(crawled: Crawled) -> Iterator[TestClient]:
    app = create_app(crawled.data, crawled.config, "http://127.0.0.1:9")
    with TestClient(app) as c:
        yield c


def test_article_page_shows_the_timeline_and_the_diff_against_the_first(
        client: TestClient, crawled: Crawled) -> None:
    copy_key, original_key = WIRE_PAIRS[0]
    original = _show(crawled, original_key)
    page = client.get(f"/articles/{original['id']}")
    assert page.status_code == 200
    section = page.text.split('<section id="cluster">', 1)[1].split("</section>", 1)[0]
    size = len(original["cluster"]["members"])  # the wire copy, and coverage in other languages
    assert size >= 2
    assert f"Story across outlets ({size})" in section
    assert '<td class="delay">first</td>' in section
    assert '<td class="delay">+2 h 15 min</td>' in section
    assert BY_KEY[copy_key]["source"] in section
    assert 'class="ddel"' in section  # the headlines differ word by word
    api = client.get(f"/api/articles/{original['id']}").json()
    later = next(t for t in api["timeline"] if t["after_first"] == 2 * 3600 + 15 * 60)
    assert {f["name"] for f in later["fields"]} >= {"title"}
    assert 0.3 < later["same_words"] < 1


def test_grouped_search_page_and_api(client: TestClient) -> None:
    plain = client.get("/api/search", params={"q": "Idlib"}).json()
    grouped = client.get("/api/search", params={"q": "Idlib", "group": "1"}).json()
    assert grouped["grouped"] is True
    assert grouped["query"]["group"] == "1"
    assert grouped["total"] == plain["total"]  # totals count articles
    assert len(grouped["hits"]) < len(plain["hits"])
    sizes = {h["cluster_size"] for h in grouped["hits"]}
    assert max(sizes) >= 2
    page = client.get("/", params={"q": "Idlib", "group": "1"})
    assert 'name="group" value="1" checked' in page.text
    assert f"{max(sizes)} articles in this story" in page.text
    assert client.get("/api/search", params={"q": "Idlib", "group": "x"}).status_code == 400


def test_one_event_in_english_russian_and_turkish_through_shared_entities(
        crawled: Crawled) -> None:
    """The S-400 story, its wire copy, and the Russian and Turkish coverage of the same
    event: one cluster, the other languages linked through the gazetteer entities the
    ingest tagged in each text (Cyrillic С-400 and Turkish İdlib included)."""
    keys = ["s400", "aa_wire_s400", "ru_s400", "aa_tr_s400"]
    ids = {k: _show(crawled, k)["id"] for k in keys}
    found = dict(_clusters(crawled.data / "archive.db"))
    assert len({found.get(ids[k]) for k in keys} - {None}) == 1, found
    assert all(ids[k] in found for k in keys), found
    with sqlite3.connect(crawled.data / "archive.db") as conn:
        kinds = {r[0] for r in conn.execute("SELECT kind FROM story_links")}
    assert {"text", "entities"} <= kinds
