"""Takedowns told apart from fetch failures, and the date flags, on the real newsroom.

The classifier (crawler/takedown.py) on literal answers; then the newsroom crawled with the
real ``mediawatch crawl``: edition 1, an older copy of one story imported (another tool's
WARC, captured 2024-05-06), then edition 2 with every article due for a re-check. Edition 2
redirects one story to its section page and replaces one with a "page removed" page served
with 200; the test withdraws a third (410) and makes a fourth answer 502 (a failure: retried,
never a takedown). The re-dated story failed on the first crawl, so the archive's first copy
of it is the imported one. The re-check also finds the number edit and the re-dated story. ``show``,
``edits``, the article page and the Edited page report them; ``reindex`` rebuilds them.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from archive.web.app import create_app
from crawler.takedown import is_front_or_section, soft_404, takedown_kind
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import STORIES
from tests.conftest import MEDIAWATCH
from tests.test_import import write_foreign_warc

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ART = "https://news.example/world/2024/03/05/story-1234.html"
PAGE_REMOVED = b"<html><head><title>Page not found | News</title></head><body></body></html>"


@pytest.mark.parametrize(("status", "url", "body", "location", "requested", "kind"), [
    pytest.param(404, ART, b"", None, None, "gone", id="404"),
    pytest.param(410, ART, b"", None, None, "gone", id="410"),
    pytest.param(301, ART, b"", "https://news.example/", None, "redirect", id="to-front"),
    pytest.param(302, ART, b"", "https://www.news.example/world/", None, "redirect",
                 id="to-section-www"),
    pytest.param(302, ART, b"", "https://news.example/world/2024/", None, "redirect",
                 id="to-directory-above"),
    pytest.param(301, ART, b"", "https://news.example/world/2024/03/06/moved-99.html", None,
                 None, id="to-another-article"),
    pytest.param(301, "https://news.example/s/Ab3x", b"", ART, None, None, id="short-link"),
    pytest.param(301, ART, b"", "https://other.example/", None, None, id="other-host"),
    pytest.param(200, "https://news.example/", b"<title>News</title>", None, ART, "redirect",
                 id="final-page-of-redirect-to-front"),
    pytest.param(200, ART, b"<title>Story</title>", None, ART + "?utm_source=rss", None,
                 id="tracking-stripped"),
    pytest.param(200, ART, PAGE_REMOVED, None, None, "soft_404", id="soft-404-en"),
    pytest.param(200, ART, "<h1>Bu haber yayından kaldırılmıştır</h1>".encode(), None, None,
                 "soft_404", id="soft-404-tr"),
    pytest.param(200, ART, "<title>Страница не найдена</title>".encode(), None, None,
                 "soft_404", id="soft-404-ru"),
    pytest.param(200, ART, b"<title>Flight 404 lands safely</title><p>The page was not found"
                 b" and has been removed.</p>", None, None, None, id="article-about-removal"),
    pytest.param(502, ART, b"Bad Gateway", None, None, None, id="5xx-is-a-failure"),
    pytest.param(503, ART, b"", None, None, None, id="503-is-a-failure"),
])
def test_takedown_kind(status: int, url: str, body: bytes, location: str | None,
                       requested: str | None, kind: str | None) -> None:
    assert takedown_kind(status, url, body, location, requested) == kind


def test_section_and_soft_404_rules() -> None:
    assert is_front_or_section("https://news.example/politics", ART)
    assert not is_front_or_section("https://news.example/politics/story.html", ART)
    assert not is_front_or_section(ART, ART)
    assert soft_404(b"<title>Error 404 - Anatolia</title>")
    assert not soft_404(b"<title>NATO ministers meet</title><h1>NATO ministers meet</h1>")


STORY = {s["key"]: s for s in STORIES}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("takedown")
    data, config = work / "data", work / "sources.toml"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data),
                                 *args], capture_output=True, text=True, timeout=600,
                                check=False)
        assert result.returncode == 0, result.stderr
        return result

    with Newsroom(slow_seconds=0.1) as newsroom:
        config.write_text(render_sources(newsroom.base_url).replace(
            "[crawl]\n", '[crawl]\nrecheck = ["1s"]\n'), encoding="utf-8")
        # The re-dated story fails on the first crawl; another tool captured it on
        # 2024-05-06, before the date it claims in edition 2.
        newsroom.failing.add(STORY["aa_redated"]["canonical"])
        cli("crawl")
        newsroom.failing.clear()
        warc = work / "older.warc.gz"
        write_foreign_warc(newsroom.base_url, [STORY["aa_redated"]["canonical"]], warc)
        cli("import", str(warc), "--source", "anatolia")
        newsroom.edition = 2
        newsroom.take_down(STORY["madrid"]["canonical"])
        newsroom.failing.add(STORY["frigate"]["canonical"])
        second = len(newsroom.hits)
        cli("crawl")
        hits = [p for _, p in newsroom.hits[second:]]
        third = len(newsroom.hits)
        cli("crawl")
        yield {"cli": cli, "data": data, "config": config, "base": newsroom.base_url,
               "rechecked": hits, "after": [p for _, p in newsroom.hits[third:]]}


def show(site: dict[str, Any], key: str) -> dict[str, Any]:
    out = site["cli"]("show", site["base"] + STORY[key]["canonical"], "--format", "json")
    return dict(json.loads(out.stdout))


@pytest.mark.parametrize(("key", "kind", "status"), [
    pytest.param("madrid", "gone", 410, id="410"),
    pytest.param("procurement", "redirect", 302, id="redirect-to-section"),
    pytest.param("aa_border", "soft_404", 200, id="page-removed-200"),
])
def test_takedowns_with_their_evidence(site: dict[str, Any], key: str, kind: str,
                                       status: int) -> None:
    shown = show(site, key)
    removed = shown["removed"]
    assert removed["kind"] == kind
    assert removed["at"] == shown["removed_at"]
    capture = removed["capture"]
    assert capture["status"] == status
    assert capture["fetched_at"] == removed["at"]
    assert capture["url"].endswith(STORY[key]["canonical"])
    assert shown["body"]  # the text stays
    # The evidence is the WARC record of that answer: one seek away.
    assert capture["record_id"] in {c["record_id"] for c in shown["captures"]}
    path = site["data"] / "warcs" / capture["warc_file"]
    with path.open("rb") as fh:
        fh.seek(capture["offset"])
        assert fh.read(capture["length"])[:2] == b"\x1f\x8b"  # a gzip member: the record
    text = site["cli"]("show", shown["id"]).stdout
    assert f"taken down: {removed['at']} ({kind}, evidence {status} " in text


def test_a_failure_is_no_takedown_and_is_retried(site: dict[str, Any]) -> None:
    shown = show(site, "frigate")
    assert shown["removed"] is None
    assert shown["removed_at"] is None
    assert 502 in {c["status"] for c in shown["captures"]}
    with sqlite3.connect(site["data"] / "archive.db") as conn:
        kinds = {r[0] for r in conn.execute("SELECT kind FROM fetch_state WHERE url LIKE ?",
                                            [f"%{STORY['frigate']['canonical']}%"])}
    assert "retry" in kinds  # tried again by a later crawl (poll_min after this one)


def test_taken_down_articles_are_not_rechecked_again(site: dict[str, Any]) -> None:
    for key in ("madrid", "procurement", "aa_border"):
        assert STORY[key]["canonical"] in site["rechecked"]
        assert STORY[key]["canonical"] not in site["after"]


def test_edits_lists_takedowns_and_flags(site: dict[str, Any]) -> None:
    rows = json.loads(site["cli"]("edits", "--takedowns", "--format", "json").stdout)
    assert {(r["id"], r["kind"]) for r in rows} == {
        (show(site, k)["id"], kind) for k, kind in
        (("madrid", "gone"), ("procurement", "redirect"), ("aa_border", "soft_404"))}
    assert all(r["evidence"] == f"{r['capture']['warc_file']}@{r['capture']['offset']}"
               for r in rows)
    only = json.loads(site["cli"]("edits", "--takedowns", "--source", "anatolia",
                                  "--format", "json").stdout)
    assert [r["kind"] for r in only] == ["soft_404"]
    table = site["cli"]("edits", "--takedowns").stdout
    assert "soft_404" in table
    assert "redirect" in table
    flags = json.loads(site["cli"]("edits", "--dates", "--flag", "backdated",
                                   "--format", "json").stdout)
    assert [f["id"] for f in flags] == [show(site, "aa_redated")["id"]]


def test_number_edit_is_listed_once(site: dict[str, Any]) -> None:
    aid = show(site, "drones")["id"]
    diff = json.loads(site["cli"]("diff", aid, "--format", "json").stdout)
    assert diff["kinds"] == ["number"]
    (change,) = diff["changes"]
    assert (change["old"], change["new"]) == ("12", "18")
    assert change["fields"] == ["lead", "body"]  # the lead repeats the first paragraph
    assert list(diff["words"]) == ["body"]  # and its word diff is shown once, in the body
    assert ["-", "12"] in diff["words"]["body"]
    assert ["+", "18"] in diff["words"]["body"]
    numbers = json.loads(site["cli"]("edits", "--kind", "number", "--format", "json").stdout)
    assert [r["id"] for r in numbers] == [aid]


def test_backdated_story_is_flagged(site: dict[str, Any]) -> None:
    shown = show(site, "aa_redated")
    assert shown["first_seen"] == "2024-05-06T07:08:00Z"  # the imported capture
    assert shown["published"] == "2024-06-03T07:00:00Z"  # what edition 2 claims
    assert [f["flag"] for f in shown["flags"]] == ["backdated"]
    assert "date flag: backdated" in site["cli"]("show", shown["id"]).stdout
    assert show(site, "drones")["flags"] == []


def test_pages_show_takedowns_and_flags(site: dict[str, Any]) -> None:
    with TestClient(create_app(site["data"], site["config"], "http://127.0.0.1:1")) as client:
        page = client.get(f"/articles/{show(site, 'procurement')['id']}").text
        assert "Taken down (redirect)" in page
        assert "redirects to the front or a section page" in page
        page = client.get(f"/articles/{show(site, 'drones')['id']}").text
        assert page.count('<span class="kind">number</span>') == 2  # heading + its one change
        assert "<h4>body</h4>" in page
        assert "<h4>lead</h4>" not in page
        assert '<del class="ddel">12</del><ins class="dadd">18</ins>' in page
        page = client.get(f"/articles/{show(site, 'aa_redated')['id']}").text
        assert '<span class="kind flag">backdated</span>' in page
        edited = client.get("/edits").text
        assert '<span class="kind takedown">soft_404</span>' in edited
        assert '<span class="kind flag">backdated</span>' in edited
        api = client.get("/api/edits?flag=backdated").json()
        assert [f["flag"] for f in api["date_flags"]] == ["backdated"]
        assert {t["kind"] for t in api["takedowns"]} == {"gone", "redirect", "soft_404"}
        assert client.get("/api/edits?flag=bogus").status_code == 400


def test_reindex_rebuilds_takedowns_and_flags(site: dict[str, Any]) -> None:
    def state() -> tuple[Any, ...]:
        takedowns = json.loads(site["cli"]("edits", "--takedowns", "--format", "json").stdout)
        flags = json.loads(site["cli"]("edits", "--dates", "--format", "json").stdout)
        return takedowns, flags
    before = state()
    assert before[0]
    assert before[1]
    site["cli"]("reindex")
    assert state() == before
