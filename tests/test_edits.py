"""Every edit, classified, end to end: the sample newsroom crawled twice with the real
``mediawatch crawl`` (edition 2 retitles and rewrites the Geneva summit story), then
``mediawatch diff`` and ``edits`` as subprocesses, the ``/edits`` page and the article page
through Starlette's TestClient, and watchlists with ``edits`` kinds alerting (or not) during
those crawls."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from archive.web.app import create_app
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import MEDIAWATCH, Crawled

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

OLD_TITLE = "Presidents Open Geneva Summit With Low Expectations, Aides Say"
NEW_TITLE = "Geneva Summit Ends With Deal to Launch Strategic Stability Dialogue"
WATCHLISTS = """
[[watchlist]]
name = "geneva-any"
query = "Geneva"
max_age_days = 0

[[watchlist]]
name = "geneva-headlines"
query = "Geneva"
max_age_days = 0
edits = ["headline"]

[[watchlist]]
name = "geneva-numbers"
query = "Geneva"
max_age_days = 0
edits = ["number"]
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """Like conftest's ``crawled``, with the watchlists above in force for both crawls."""
    work = tmp_path_factory.mktemp("edits")
    (work / "watchlists.toml").write_text(WATCHLISTS, encoding="utf-8")
    with Newsroom() as newsroom:
        config = work / "sources.toml"
        config.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        state = Crawled(newsroom.base_url, config, work / "data", [], newsroom.hits)
        for edition in (1, 2):
            newsroom.edition = edition
            state.outputs.append(state.cli("--watchlists", str(work / "watchlists.toml"),
                                           "crawl").stdout)
        yield state


def cli(site: Crawled, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MEDIAWATCH, "--config", str(site.config), "--data", str(site.data),
                           *args], capture_output=True, text=True, timeout=120, check=False)


def geneva_id(site: Crawled) -> str:
    with sqlite3.connect(site.data / "archive.db") as conn:
        (aid,) = conn.execute("SELECT id FROM articles WHERE title = ?", [NEW_TITLE]).fetchone()
    return str(aid)


def test_diff_json_classifies_the_geneva_edit(site: Crawled) -> None:
    result = cli(site, "diff", geneva_id(site), "--format", "json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert (record["from"]["version"], record["to"]["version"]) == (1, 2)
    assert record["changes"][0] == {**record["changes"][0], "kind": "headline",
                                    "old": OLD_TITLE, "new": NEW_TITLE}
    assert {"headline", "paragraph_added", "paragraph_removed", "text"} <= set(record["kinds"])
    assert record["kinds"] == sorted({c["kind"] for c in record["changes"]},
                                     key=record["kinds"].index)
    title = record["words"]["title"]
    assert ["+", "Ends "] in title
    assert "".join(t for op, t in title if op != "+") == OLD_TITLE


def test_diff_text_by_url_and_version_errors(site: Crawled) -> None:
    with sqlite3.connect(site.data / "archive.db") as conn:
        (url,) = conn.execute("SELECT url FROM articles WHERE title = ?", [NEW_TITLE]
                              ).fetchone()
    result = cli(site, "diff", url)
    assert result.returncode == 0, result.stderr
    assert f"[headline] title: {OLD_TITLE!r} -> {NEW_TITLE!r}" in result.stdout
    assert "[-Presidents Open -]Geneva Summit {+Ends +}With" in result.stdout
    bad = cli(site, "diff", url, "--from", "1", "--to", "5")
    assert bad.returncode == 2
    assert "no version 5" in bad.stderr
    assert cli(site, "diff", "https://nowhere.example/x").returncode != 0


def test_edits_lists_the_edit_with_its_kinds(site: Crawled) -> None:
    rows = json.loads(cli(site, "edits", "--format", "json").stdout)
    assert [(r["id"], r["version"]) for r in rows] == [(geneva_id(site), 2)]
    assert "headline" in rows[0]["kinds"]
    table = cli(site, "edits", "--kind", "headline").stdout
    assert geneva_id(site) in table
    assert "headline" in table
    assert cli(site, "edits", "--kind", "number").stdout.strip() == "no edits"
    assert cli(site, "edits", "--source", "anatolia").stdout.strip() == "no edits"
    assert cli(site, "edits", "--since", "2999-01-01").stdout.strip() == "no edits"
    assert cli(site, "edits", "--kind", "bogus").returncode == 2


@pytest.fixture(scope="module")
def client(site: Crawled) -> Iterator[TestClient]:
    with TestClient(create_app(site.data, site.config, "http://127.0.0.1:1")) as test_client:
        yield test_client


def test_edits_page_and_api(client: TestClient, site: Crawled) -> None:
    page = client.get("/edits")
    assert page.status_code == 200
    assert f'href="/articles/{geneva_id(site)}#versions"' in page.text
    assert '<span class="kind">headline</span>' in page.text
    assert 'href="/edits">Edited</a>' in page.text
    assert "No edits match" in client.get("/edits?kind=number").text
    api = client.get("/api/edits?kind=headline").json()
    assert [e["id"] for e in api["edits"]] == [geneva_id(site)]
    assert client.get("/api/edits?kind=bogus").status_code == 400
    assert client.get("/edits?since=yesterdayish").status_code == 400


def test_article_page_diff_is_word_level(client: TestClient, site: Crawled) -> None:
    page = client.get(f"/articles/{geneva_id(site)}").text
    assert '<div class="diff"><del class="ddel">Presidents Open </del>Geneva Summit ' \
           '<ins class="dadd">Ends </ins>With' in page
    assert '<pre class="diff">' not in page


def test_watchlist_edits_kinds_decide_update_alerts(site: Crawled) -> None:
    with sqlite3.connect(site.data / "archive.db") as conn:
        rows = conn.execute("SELECT watchlist, version, kind FROM alerts WHERE article_id = ?"
                            " ORDER BY watchlist, version", [geneva_id(site)]).fetchall()
    assert rows == [("geneva-any", 1, "new"), ("geneva-any", 2, "update"),
                    ("geneva-headlines", 1, "new"), ("geneva-headlines", 2, "update"),
                    ("geneva-numbers", 1, "new")]


def test_readme_documents_diff_edits_and_watchlist_edits() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    for needle in ("mediawatch diff", "mediawatch edits", "/edits", 'edits = ["headline"'):
        assert needle in readme
