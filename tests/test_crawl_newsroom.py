"""End to end: the real ``mediawatch crawl`` against the sample newsroom on 127.0.0.1.

Two crawls (the newsroom edits one story in between), then the checks the product promises:
valid WARCs, one article per story with all its aliases, versions, robots.txt obeyed, errors
counted without stopping the crawl, ``reindex`` reproducing the same export, search in
Russian and English.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from archive.store.db import Archive
from archive.warc.reader import iter_responses, list_warcs
from scheduler.newsroom.stories import NON_ARTICLES, ROBOTS_DISALLOWED, STORIES

if TYPE_CHECKING:
    from tests.conftest import Crawled

WARCIO = str(Path(sys.executable).with_name("warcio"))


@pytest.fixture
def archive(crawled: Crawled) -> Iterator[Archive]:
    # Here ``archive`` is the crawl's archive (conftest's is an empty one).
    db = Archive(crawled.data / "archive.db")
    yield db
    db.close()


def summary_row(output: str, source: str) -> dict[str, int]:
    lines = output.splitlines()
    header = lines[0].split()
    for line in lines[2:]:
        cells = line.split()
        if cells and cells[0] == source:
            return {k: int(v) for k, v in zip(header[1:], cells[1:], strict=True)}
    raise AssertionError(f"no summary row for {source}:\n{output}")


def test_summary_counts_pages_failures_and_articles(crawled: Crawled) -> None:
    northwind_1 = summary_row(crawled.outputs[0], "northwind")
    northwind_2 = summary_row(crawled.outputs[1], "northwind")
    anatolia_1 = summary_row(crawled.outputs[0], "anatolia")
    stories = {s["source"]: 0 for s in STORIES}
    for s in STORIES:
        stories[s["source"]] += 1
    assert northwind_1["new"] == stories["northwind"]
    assert anatolia_1["new"] == stories["anatolia"]
    assert northwind_1["failures"] >= 4  # 404, 500, 503, oversized page, ...
    assert northwind_1["robots"] >= 1
    assert northwind_1["duplicates"] >= 1  # the AMP copy linked from the section page
    assert northwind_2["new"] == 0
    assert northwind_2["updated"] == 1  # the edited story, re-fetched because its title
    # in the listings changed; the other archived stories are not fetched again at all
    assert northwind_2["unchanged"] == 0
    assert northwind_2["duplicates"] == 0
    assert northwind_2["pages"] < northwind_1["pages"]


def test_warc_files_are_valid_and_closed(crawled: Crawled) -> None:
    warcs = crawled.data / "warcs"
    files = list_warcs(warcs)
    assert len(files) >= 4  # two sources, two crawls
    assert not list(warcs.glob("*.open"))
    result = subprocess.run([WARCIO, "check", *map(str, files)], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_exchange_is_captured_as_received(crawled: Crawled) -> None:
    records = [r for f in list_warcs(crawled.data / "warcs") for r in iter_responses(f)]
    by_path: dict[str, list] = {}
    for r in records:
        by_path.setdefault(r.captured.url.removeprefix(crawled.base), []).append(r)
    assert "/robots.txt" in by_path
    assert {404, 500, 503, 301} <= {r.captured.status for r in records}
    feed = by_path["/northwind/rss.xml"][0]
    assert ("Content-Encoding", "gzip") in feed.captured.headers
    assert feed.captured.body.lstrip().startswith(b"<?xml")  # decoded on read...
    with open(crawled.data / "warcs" / feed.location.file, "rb") as fh:
        fh.seek(feed.location.offset)
        member = gzip.decompress(fh.read(feed.location.length))
    assert b"\x1f\x8b" in member  # ...but stored gzip-compressed, as it came
    s400 = next(s for s in STORIES if s["key"] == "s400")
    page = by_path[s400["canonical"]][0]
    assert len([v for k, v in page.captured.headers if k.lower() == "set-cookie"]) == 2
    assert page.captured.metadata["source"] == "northwind"
    assert page.captured.metadata["kind"] == "article"
    short = by_path[s400["short_url"]][0]
    assert short.captured.status == 301


def test_robots_txt_was_obeyed(crawled: Crawled) -> None:
    requested = {path.split("?")[0] for _, path in crawled.hits}
    assert "/robots.txt" in requested
    assert requested.isdisjoint(ROBOTS_DISALLOWED)


@pytest.mark.parametrize("story", STORIES, ids=[s["key"] for s in STORIES])
def test_each_story_is_one_article_under_all_its_urls(archive: Archive, crawled: Crawled,
                                                      story: dict) -> None:
    ids = {archive.resolve(crawled.base + url) for url in story["urls"]}
    assert len(ids) == 1, ids
    assert None not in ids, ids
    record = archive.show(crawled.base + story["canonical"])
    assert record is not None
    expected_title = story["title_edition2"] if story["changes"] else story["title"]
    assert record["title"] == expected_title
    assert record["language"] == story["language"]
    assert record["body"]
    assert len(record["versions"]) == (2 if story["changes"] else 1)
    if story["short_url"]:
        assert record["short_url"] == crawled.base + story["short_url"]
    # The full instant in UTC (a bare day for a day-only story), and beside it the time as
    # the publisher printed it, its precision, where it was found and how its zone was known.
    assert record["published"] == story["published_utc"]
    assert {k: record[k] for k in ("published_local", "published_precision", "published_from",
                                   "published_zone")} == {
        "published_local": story["published_local"],
        "published_precision": story["published_precision"],
        "published_from": story["published_from"],
        "published_zone": story["published_zone"],
    }
    assert record["modified"] is None or record["modified"] >= record["published"]


def test_changed_story_keeps_old_text(archive: Archive, crawled: Crawled) -> None:
    story = next(s for s in STORIES if s["changes"])
    record = archive.show(crawled.base + story["short_url"])
    assert record is not None
    titles = [v["title"] for v in record["versions"]]
    assert titles == [story["title"], story["title_edition2"]]
    assert record["versions"][0]["body"] != record["versions"][1]["body"]


@pytest.mark.parametrize("path", NON_ARTICLES)
def test_non_articles_are_not_stored(archive: Archive, crawled: Crawled, path: str) -> None:
    assert archive.resolve(crawled.base + path) is None


def test_wire_copy_is_a_separate_article(archive: Archive, crawled: Crawled) -> None:
    wire = next(s for s in STORIES if s["wire_copy_of"])
    original = next(s for s in STORIES if s["key"] == wire["wire_copy_of"])
    assert archive.resolve(crawled.base + wire["canonical"]) != \
        archive.resolve(crawled.base + original["canonical"])


def test_show_by_tracking_url_and_short_link(crawled: Crawled) -> None:
    story = next(s for s in STORIES if s["key"] == "s400")
    by_short = json.loads(crawled.cli("show", crawled.base + story["short_url"],
                                      "--format", "json").stdout)
    tracked = crawled.base + story["canonical"] + "?utm_source=twitter&fbclid=XYZ"
    by_tracked = json.loads(crawled.cli("show", tracked, "--format", "json").stdout)
    assert by_short["id"] == by_tracked["id"]
    for key in ("id", "url", "canonical_url", "short_url", "aliases", "source", "title",
                "authors", "published", "modified", "section", "tags", "language", "lead",
                "body", "versions", "captures"):
        assert key in by_short
    capture = by_short["captures"][0]
    assert set(capture) >= {"warc_file", "offset", "length", "fetched_at", "status"}
    unknown = crawled.cli("show", crawled.base + "/nowhere", check=False)
    assert unknown.returncode == 2
    assert "Traceback" not in unknown.stderr


@pytest.mark.parametrize(("query", "key"), [
    ("Idlib", "s400"), ("министр", "ru_s400"), ("С-400", "ru_s400"), ("Kasım OR sistemleri",
                                                                      "aa_tr_s400"),
])
def test_search_finds_english_russian_turkish(crawled: Crawled, query: str, key: str) -> None:
    hits = json.loads(crawled.cli("search", query, "--format", "json").stdout)
    story = next(s for s in STORIES if s["key"] == key)
    assert any(h["url"].endswith(story["canonical"]) or h["short_url"] ==
               crawled.base + (story["short_url"] or "") for h in hits), hits
    assert all({"id", "url", "short_url", "source", "title", "published", "snippet"} <= set(h)
               for h in hits)


@pytest.mark.parametrize("query", ['"unbalanced', "S-400 AND", "title:", "*", "NEAR(", "(("])
def test_hostile_queries_never_traceback(crawled: Crawled, query: str) -> None:
    result = crawled.cli("search", query, "--format", "json", check=False)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 2)
    if result.returncode == 2:
        assert len(result.stderr.strip().splitlines()) == 1


def test_reindex_reproduces_the_export(crawled: Crawled) -> None:
    before = crawled.cli("export").stdout
    assert before.count("\n") == len(STORIES)
    (crawled.data / "archive.db").unlink()
    for suffix in ("-wal", "-shm"):
        (crawled.data / f"archive.db{suffix}").unlink(missing_ok=True)
    crawled.cli("reindex")
    assert crawled.cli("export").stdout == before
    story = next(s for s in STORIES if s["changes"])
    again = json.loads(crawled.cli("show", crawled.base + story["canonical"],
                                   "--format", "json").stdout)
    assert len(again["versions"]) == 2


def test_extract_on_the_crawl_warcs(crawled: Crawled) -> None:
    warc = list_warcs(crawled.data / "warcs")[0]
    out = crawled.cli("extract", str(warc), "--format", "json").stdout
    pages = [json.loads(line) for line in out.splitlines()]
    assert pages
    assert all(p["url"] and p["title"] for p in pages)


def test_pywb_indexer_reads_the_warcs(crawled: Crawled) -> None:
    """cdxj-indexer (pywb's indexer) indexes the page itself under its own URL and the
    metadata record under its urn, so replay never serves the JSON for the page."""
    indexer = str(Path(sys.executable).with_name("cdxj-indexer"))
    files = list_warcs(crawled.data / "warcs")
    lines = subprocess.run([indexer, *map(str, files)], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    entries = [json.loads(line.split(" ", 2)[2]) for line in lines]
    s400 = crawled.base + next(s for s in STORIES if s["key"] == "s400")["canonical"]
    page = [e for e in entries if e["url"] == s400]
    assert page
    assert all(e["mime"] == "text/html" and e["status"] == "200" for e in page)
    metadata = [e for e in entries if e["url"].startswith("urn:mediawatch:metadata:")]
    assert len(metadata) == len([e for e in entries if "status" in e])


def test_search_filters_and_formats(crawled: Crawled) -> None:
    def ids(*args: str) -> list[str]:
        return [h["source"] + ":" + h["published"]
                for h in json.loads(crawled.cli("search", *args, "--format", "json").stdout)]

    # The wire copy went out at 00:10 Istanbul time, 21:10Z on the 29th: before Northwind's
    # 23:25Z, though its local date is the 30th. Who reported first is read in UTC.
    wire, original = "anatolia:2020-11-29T21:10:00Z", "northwind:2020-11-29T23:25:00Z"
    # Munich is named only by the story and its wire copy (Idlib, matched in every script,
    # also finds the Russian and Turkish coverage).
    both = ids("Munich")
    assert sorted(both) == [wire, original]
    assert ids("Munich", "--source", "anatolia") == [wire]
    assert ids("Munich", "--sort", "newest") == [original, wire]
    assert ids("Munich", "--since", "2020-11-30") == []
    assert sorted(ids("Munich", "--until", "2020-11-29")) == [wire, original]
    assert ids("Munich", "--since", "2020-11-29T22:00:00Z") == [original]
    assert ids("Munich", "--limit", "1") in ([wire], [original])
    assert all(h.startswith("northwind") for h in ids("С-400", "--lang", "ru"))
    csv_out = list(csv.reader(io.StringIO(crawled.cli("search", "Munich", "--format",
                                                      "csv").stdout)))
    assert csv_out[0][:4] == ["id", "published", "source", "title"]
    assert len(csv_out) == 3
    assert all("/amp/" not in row[6] for row in csv_out[1:])  # canonical URL, not the AMP copy
    table = crawled.cli("search", "title:Idlib").stdout
    assert "[Idlib]" in table or "Idlib" in table


def test_day_only_story_is_found_by_its_day(crawled: Crawled) -> None:
    """A story known only by its day is stored as that day (no invented midnight) and found
    by a search ending that day or starting later that day."""
    story = next(s for s in STORIES if s["published_precision"] == "day")
    record = json.loads(crawled.cli("show", crawled.base + story["canonical"],
                                    "--format", "json").stdout)
    assert record["published"] == story["published"] == "2022-03-15"
    assert "T00:00:00" not in json.dumps({k: v for k, v in record.items() if k != "captures"})

    def titles(*args: str) -> list[str]:
        out = crawled.cli("search", "paper", *args, "--format", "json").stdout
        return [h["title"] for h in json.loads(out)]

    assert story["title"] in titles("--until", "2022-03-15")
    assert story["title"] in titles("--since", "2022-03-15T18:00:00Z")
    assert story["title"] not in titles("--since", "2022-03-16")
    assert story["title"] not in titles("--until", "2022-03-14")
    text = crawled.cli("show", crawled.base + story["canonical"]).stdout
    assert "published: 2022-03-15 (local 2022-03-15, day, from selector)" in text


def test_offsets_of_three_desks(crawled: Crawled) -> None:
    """+03:00, +05:30 and -05:00: the zone-less date lines give way to JSON-LD's offsets."""
    expected = {
        "ru_s400": ("2020-11-30T10:15:00Z", "2020-11-30T13:15:00+03:00"),
        "delhi": ("2022-09-14T15:40:00Z", "2022-09-14T21:10:00+05:30"),
        "pentagon": ("2021-11-30T02:10:00Z", "2021-11-29T21:10:00-05:00"),
        "aa_tr_s400": ("2020-12-02T08:40:00Z", "2020-12-02T11:40:00+03:00"),
    }
    for key, (utc, local) in expected.items():
        story = next(s for s in STORIES if s["key"] == key)
        record = json.loads(crawled.cli("show", crawled.base + story["canonical"],
                                        "--format", "json").stdout)
        assert (record["published"], record["published_local"]) == (utc, local), key


def test_export_query_and_csv(crawled: Crawled) -> None:
    rows = [json.loads(line) for line in
            crawled.cli("export", "--query", "Munich").stdout.splitlines()]
    assert {r["source"] for r in rows} == {"northwind", "anatolia"}
    assert len(rows) == 2
    assert not {"versions", "captures"} & set(rows[0])
    csv_out = list(csv.reader(io.StringIO(crawled.cli("export", "--format", "csv").stdout)))
    assert len(csv_out) == len(STORIES) + 1


NAMES = ("names_en", "names_ru", "names_tr")  # one event in English, Russian and Turkish


@pytest.mark.parametrize("query", ["Cavusoglu", "Чавушоглу", "Çavuşoğlu", "Shoigu", "Шойгу",
                                   "Lavrov"])
def test_names_match_in_every_script(crawled: Crawled, query: str) -> None:
    hits = json.loads(crawled.cli("search", query, "--format", "json").stdout)
    keys = {s["key"] for s in STORIES if any(h["url"].endswith(s["canonical"]) for h in hits)}
    assert keys == set(NAMES), query


def test_exact_and_entity_options(crawled: Crawled) -> None:
    def keys(*args: str) -> set[str]:
        hits = json.loads(crawled.cli("search", *args, "--format", "json").stdout)
        return {s["key"] for s in STORIES if any(h["url"].endswith(s["canonical"])
                                                 for h in hits)}

    assert keys("Shoigu", "--exact") == {"names_en"}
    assert keys("Şoygu", "--exact") == {"names_tr"}
    assert keys("S-400", "--entity", "sergey-lavrov") == set(NAMES)
    assert keys("S-400", "--entity", "sergey-lavrov", "--lang", "ru") == {"names_ru"}
    unknown = crawled.cli("search", "S-400", "--entity", "nosuch", check=False)
    assert unknown.returncode == 2
    assert "unknown entity 'nosuch'" in unknown.stderr


def test_show_lists_the_entities_of_the_russian_story(crawled: Crawled) -> None:
    story = next(s for s in STORIES if s["key"] == "names_ru")
    record = json.loads(crawled.cli("show", crawled.base + story["canonical"], "--format",
                                    "json").stdout)
    ids = {e["id"] for e in record["entities"]}
    # Лавров, Чавушоглу, Шойгу, Эрдогана, Путину, Идлиб, С-400, Москве, России, Турции
    assert {"sergey-lavrov", "mevlut-cavusoglu", "sergei-shoigu", "recep-tayyip-erdogan",
            "vladimir-putin", "idlib", "s-400", "moscow", "russia", "turkey"} <= ids
    assert all(set(e) == {"id", "name", "kind"} for e in record["entities"])
