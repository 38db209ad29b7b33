"""``mediawatch import``: other tools' archives become searchable articles.

A WARC written here with warcio directly (as another tool would: response and request
records, no mediawatch metadata) from the sample newsroom served on 127.0.0.1, imported with
the real ``mediawatch`` command in a subprocess: its story pages become articles of the
source given (or ``import``), searchable and exportable; its listings, errors and feeds stay
captures; ``reindex`` gives the same archive. Then the third-party files of
../shared/eval/warcs (skipped when absent).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc.importer import import_stamp, imported_source
from crawler.ingest import ingest_order
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.newsroom.stories import CHALLENGE_PATH, NON_ARTICLES, STORIES
from tests.conftest import MEDIAWATCH
from tests.test_ingest_ledger import without_clusters

if TYPE_CHECKING:
    from tests.conftest import Crawled

# ../shared beside the repository (a git worktree elsewhere points at it with the variable).
EVAL_WARCS = Path(os.environ.get("MEDIAWATCH_EVAL_WARCS") or
                  Path(__file__).resolve().parents[2] / "shared" / "eval" / "warcs")
FETCHED_AT = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
# Not HTML: captures only, never parsed.
OTHER_PATHS = ["/northwind/rss.xml", "/robots.txt"]
# The live blog is an article by the page-type rules: the newsroom's crawl leaves it out
# only for its size ([crawl] max_page_size), which an import without that config allows.
LIVE_BLOG = "/northwind/2021/08/08/live-blog.html"
PATHS = [s["canonical"] for s in STORIES] + [p for p in NON_ARTICLES if p != LIVE_BLOG] \
    + OTHER_PATHS


def fetch(base: str, path: str) -> tuple[str, int, str, list[tuple[str, str]], bytes]:
    """One GET as a plain client makes it (no redirects followed, no gzip asked for)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        # http.client de-chunks the body: the header no longer describes the bytes kept.
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() != "transfer-encoding"]
        return f"HTTP/1.{resp.version % 10}", resp.status, resp.reason, headers, body
    finally:
        conn.close()


def write_foreign_warc(base: str, paths: list[str], out: Path) -> int:
    """A gzip WARC of ``paths`` under ``base`` written with warcio alone, one second
    apart; returns the number of response records."""
    with open(out, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warcinfo_record(out.name, {"software": "test"}))
        for n, path in enumerate(paths):
            url = base + path
            protocol, status, reason, headers, body = fetch(base, path)
            date = FETCHED_AT.replace(second=n % 60, minute=8 + n // 60)
            warc_date = date.strftime("%Y-%m-%dT%H:%M:%SZ")
            http_headers = StatusAndHeaders(f"{status} {reason}", headers, protocol=protocol)
            response = writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=http_headers,
                warc_headers_dict={"WARC-Date": warc_date})
            request = writer.create_warc_record(
                url, "request", payload=BytesIO(b""), warc_headers_dict={
                    "WARC-Date": warc_date,
                    "WARC-Concurrent-To": response.rec_headers["WARC-Record-ID"]},
                http_headers=StatusAndHeaders(f"GET {path} HTTP/1.1",
                                              [("Host", urlsplit(url).netloc)],
                                              is_http_request=True))
            writer.write_record(response)
            writer.write_record(request)
    return len(paths)


def cli(data: Path, *args: str, config: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The real ``mediawatch`` command on ``data`` (no sources file unless ``config``)."""
    return subprocess.run(
        [MEDIAWATCH, "--config", str(config or data / "no-sources.toml"), "--data", str(data),
         *args], capture_output=True, text=True, timeout=600, check=False)


def export(data: Path) -> list[dict[str, Any]]:
    result = cli(data, "export")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def foreign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    """The newsroom's story pages, listings, error pages and feeds in a WARC another tool
    wrote: (the newsroom's base URL, the file, its response record count)."""
    work = tmp_path_factory.mktemp("foreign")
    with Newsroom(slow_seconds=0.1) as newsroom:
        warc = work / "other-tool.warc.gz"
        count = write_foreign_warc(newsroom.base_url, PATHS, warc)
        yield newsroom.base_url, warc, count


def test_import_makes_story_pages_articles_of_the_given_source(
        foreign: tuple[str, Path, int], tmp_path: Path) -> None:
    base, warc, count = foreign
    data = tmp_path / "data"
    result = cli(data, "import", str(warc), "--source", "partner-feed")
    assert result.returncode == 0, result.stderr
    # The summary names the input path and gives records, articles and non-articles.
    line, = result.stdout.splitlines()
    assert line.startswith(f"{warc}: {count} records, {len(STORIES)} articles "
                           f"({len(STORIES)} new), {count - len(STORIES)} non-articles (")
    imported, = (data / "warcs").iterdir()
    assert imported.name.endswith("-other-tool@partner-feed.warc.gz")
    assert imported.read_bytes() == warc.read_bytes()  # the other tool's bytes, as they were
    assert imported_source(imported.name) == "partner-feed"

    articles = export(data)
    assert {a["source"] for a in articles} == {"partner-feed"}
    assert sorted(a["url"] for a in articles) == sorted(base + s["canonical"] for s in STORIES)
    titles = {a["url"]: a["title"] for a in articles}
    for story in STORIES:
        assert titles[base + story["canonical"]] == story["title"]
    # Listings, errors, redirects, a challenge page and feeds are never articles.
    never = {base + p for p in PATHS[len(STORIES):]}
    assert base + CHALLENGE_PATH in never
    assert not never & set(titles)

    # Searchable: each story's terms find it.
    for story in STORIES[:4]:
        found = cli(data, "search", story["search_terms"][0], "--format", "json")
        assert found.returncode == 0, found.stderr
        urls = {hit["url"] for hit in json.loads(found.stdout)}
        assert base + story["canonical"] in urls, story["key"]

    # The archive is a function of the WARCs: reindex finds the source in the file's name.
    before = export(data)
    rebuilt = cli(data, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert export(data) == before


def test_import_without_source_uses_import_and_is_idempotent(
        foreign: tuple[str, Path, int], tmp_path: Path) -> None:
    _, warc, count = foreign
    data = tmp_path / "data"
    first = cli(data, "import", str(warc))
    assert first.returncode == 0, first.stderr
    assert f"{count} records, {len(STORIES)} articles" in first.stdout
    imported, = (data / "warcs").iterdir()
    assert "@" not in imported.name
    assert {a["source"] for a in export(data)} == {"import"}

    again = cli(data, "import", str(warc))
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{warc}: already imported as {imported.name}; nothing new\n"
    # The same bytes under another name and another source: refused, nothing doubled.
    copy = tmp_path / "copy.warc.gz"
    copy.write_bytes(warc.read_bytes())
    other = cli(data, "import", str(copy), "--source", "other")
    assert other.returncode == 2
    assert f"copy.warc.gz: already imported with source 'import' as {imported.name}" \
        in other.stderr
    assert [p.name for p in (data / "warcs").iterdir()] == [imported.name]
    assert len(export(data)) == len(STORIES)

    bad = cli(data, "import", str(warc), "--source", "Not Valid")
    assert bad.returncode == 2
    assert "--source" in bad.stderr


def test_pages_the_crawl_archived_join_their_articles(crawled: Crawled,
                                                      tmp_path: Path) -> None:
    """Identity as for crawled pages: another tool's copies of one outlet's stories,
    imported as that source, are captures of the articles the crawl archived (same ids, no
    new article); matching is per source (archive.store.identity), so as another source
    they are articles of their own."""
    # Not the story edition 2 takes down: its URL answers a redirect then.
    northwind = [s["canonical"] for s in STORIES
                 if s["source"] == "northwind" and not s["removed_edition2"]]
    warc = tmp_path / "same-site.warc.gz"
    write_foreign_warc(crawled.base, northwind, warc)
    before = {a["id"]: a for a in export(crawled.data)}
    result = cli(crawled.data, "import", str(warc), "--source", "northwind",
                 config=crawled.config)
    assert result.returncode == 0, result.stderr
    n = len(northwind)
    assert f": {n} records, {n} articles (0 new), 0 non-articles" in result.stdout
    after = {a["id"]: a for a in export(crawled.data)}
    assert set(after) == set(before)
    shown = cli(crawled.data, "show", crawled.base + northwind[0], "--format", "json",
                config=crawled.config)
    assert shown.returncode == 0, shown.stderr
    assert any(c["warc_file"].endswith("@northwind.warc.gz")
               for c in json.loads(shown.stdout)["captures"])

    other = tmp_path / "other-outlet.warc.gz"
    write_foreign_warc(crawled.base, northwind[:1], other)
    result = cli(crawled.data, "import", str(other), "--source", "partner",
                 config=crawled.config)
    assert ": 1 records, 1 articles (1 new)" in result.stdout
    imported = export(crawled.data)
    assert cli(crawled.data, "reindex", config=crawled.config).returncode == 0
    rebuilt = {a["id"]: a for a in export(crawled.data)}
    assert set(rebuilt) - set(after) == {a for a in rebuilt if rebuilt[a]["source"] == "partner"}
    # The partner's copy joins the story's cluster, which is named by its smallest member
    # id (the copy's, in some runs: ids follow URLs, whose port changes): clusters are
    # compared with the archive as it was before the reindex, the rest with the import's.
    assert without_clusters([rebuilt[k] for k in after]) == without_clusters(list(after.values()))
    assert rebuilt == {a["id"]: a for a in imported}


def test_between_crawls_and_reindexed_the_archive_is_the_same(tmp_path: Path) -> None:
    """Imported between two crawls, another tool's copy of the edited story makes version
    2 (its text came first); reindex must load the files in the same order (the import time
    is in the imported file's name) and give the same versions, captures and all."""
    data = tmp_path / "data"
    config = tmp_path / "sources.toml"
    with Newsroom(slow_seconds=0.1) as newsroom:
        config.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        assert cli(data, "crawl", config=config).returncode == 0
        newsroom.edition = 2
        edited = [s["canonical"] for s in STORIES if s["changes"] and s["source"] == "northwind"]
        assert edited
        warc = tmp_path / "edition-2.warc.gz"
        write_foreign_warc(newsroom.base_url, edited, warc)
        imported = cli(data, "import", str(warc), "--source", "northwind", config=config)
        assert imported.returncode == 0, imported.stderr
        assert cli(data, "crawl", config=config).returncode == 0

    def everything() -> dict[str, Any]:
        shown = {}
        for article in export(data):
            result = cli(data, "show", article["id"], "--format", "json", config=config)
            assert result.returncode == 0, result.stderr
            shown[article["id"]] = json.loads(result.stdout)
        return shown
    before = everything()
    story = before[next(a["id"] for a in export(data) if a["url"].endswith(edited[0]))]
    # Version 2 is the imported copy's (captured at FETCHED_AT), not the second crawl's.
    assert [v["fetched_at"] for v in story["versions"]][1] == "2024-05-06T07:08:00Z"
    assert cli(data, "reindex", config=config).returncode == 0
    assert everything() == before


def test_imported_source_and_time_are_read_from_the_name() -> None:
    assert imported_source("import-0123456789-example.warc.gz") == "import"
    assert imported_source("import-0123456789-a-b@my-src_2.warc") == "my-src_2"
    assert imported_source("import-20240101120000123-0123456789-x@y.warc.gz") == "y"
    assert imported_source("northwind-20240101000000000-00001-h.warc.gz") is None
    assert import_stamp("import-20240101120000123-0123456789-x@y.warc.gz") == \
        "20240101120000123"
    assert import_stamp("import-0123456789-example.warc.gz") is None


def test_ingest_order_puts_an_import_between_the_crawls_around_it() -> None:
    names = ["northwind-20240101120000999-00001-h.warc.gz",
             "import-0123456789-old-style.warc.gz",
             # an imported crawl file: its own name's time must not count
             "import-20240101120000500-abcdef0123-northwind-20230101000000000-00001-h.warc.gz",
             "anatolia-20240101120000100-00001-h.warc.gz",
             "import-20240101120000999-0123456789-x@y.warc.gz",
             "foreign.warc.gz"]
    assert [p.name for p in sorted(map(Path, names), key=ingest_order)] == [
        "anatolia-20240101120000100-00001-h.warc.gz",
        "import-20240101120000500-abcdef0123-northwind-20230101000000000-00001-h.warc.gz",
        "northwind-20240101120000999-00001-h.warc.gz",
        "import-20240101120000999-0123456789-x@y.warc.gz",
        "foreign.warc.gz",
        "import-0123456789-old-style.warc.gz"]


def eval_files() -> list[Path]:
    if not EVAL_WARCS.is_dir():
        return []
    return sorted(p for p in EVAL_WARCS.rglob("*") if p.is_file() and p.name.endswith(
        (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz", ".bad")))


@pytest.mark.eval
def test_third_party_files_import_with_articles_and_reindex_alike(tmp_path: Path) -> None:
    files = eval_files()
    if not files:
        pytest.skip("../shared/eval/warcs is absent")
    data = tmp_path / "data"
    result = cli(data, "import", "--source", "thirdparty", *map(str, files))
    assert result.returncode == 2  # the broken files are refused
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    refused = {e.split(": ", 2)[2].split(":", 1)[0] for e in result.stderr.splitlines()
               if e.startswith("mediawatch: error: ")}
    for path in files:
        said = [line for line in lines if line.startswith(f"{path}: ")]
        # Each input is either summarised (named by its path) or refused (named by its name).
        assert said or path.name in refused, path
    records = new = 0
    for line in lines:
        if m := re.match(r".*?: (\d+) records, (\d+) articles \((\d+) new\), (\d+) non-articles",
                         line):
            total, articles, fresh, others = map(int, m.groups())
            assert articles + others == total
            records, new = records + total, new + fresh
        else:  # the same bytes given twice (a WACZ and its WARC, copies in two repos)
            assert re.match(r".*?: (same content as .*|already imported as .*); nothing new$",
                            line), line
    assert records > 100
    exported = export(data)
    # iana.org pages (with a date in their markup) and a British Library news page.
    assert len(exported) == new >= 10
    assert {a["source"] for a in exported} == {"thirdparty"}
    rebuilt = cli(data, "reindex")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert export(data) == exported
