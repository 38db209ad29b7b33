"""Screenshots as evidence, end to end: a real ``mediawatch crawl`` of the sample newsroom
(edition 1, then the edit of edition 2) with ``screenshots = true`` on one source renders
each new article version from its capture (replay app on 127.0.0.1, Debian's chromium) into
a WARC ``resource`` record; ``show --format json``, the web interface and ``reindex`` see
them. The other source says nothing, so the default (off) holds for it.

Kept short: each source is restricted to its feed and one or two stories (``follow``).
Skips when Debian's chromium or Playwright is missing (``make test`` installs both).
"""

from __future__ import annotations

import io
import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import uvicorn
from warcio.archiveiterator import ArchiveIterator

from archive.warc.cdxj import cdxj_path
from archive.web.app import create_app
from crawler.screenshots import CHROMIUM
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import Crawled

if TYPE_CHECKING:
    from pathlib import Path

SUMMIT = "/northwind/2021/06/16/geneva-summit.html"  # the story edition 2 edits
PNG = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(),
                                reason="needs /usr/bin/chromium (make test installs it)")


def _sources(base: str) -> str:
    """The newsroom's sources file cut down to the feeds and a few stories, with
    screenshots on for northwind only."""
    text = render_sources(base)
    cuts = {
        f'sitemaps = ["{base}/northwind/sitemap_index.xml"]\n': "",
        f'sections = ["{base}/northwind/military/", "{base}/northwind/ru/oborona/"]\n': "",
        f'sections = ["{base}/anatolia/world/"]\n': "",
        f'feeds = ["{base}/anatolia/atom.xml", "{base}/anatolia/broken.xml"]':
            f'feeds = ["{base}/anatolia/atom.xml"]',
    }
    for old, new in cuts.items():
        assert old in text, old
        text = text.replace(old, new)
    follow = {"/northwind/": "follow = ['/northwind/2021/']\nscreenshots = true",
              "/anatolia/": "follow = ['/anatolia/en/europe/']"}
    lines = [next((new for key, new in follow.items() if line.startswith(f"follow = ['{key}")),
                  line) for line in text.splitlines()]
    assert sum(line.startswith("follow = ['/") for line in lines) == 2
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    work = tmp_path_factory.mktemp("screenshots")
    with Newsroom(slow_seconds=0.2) as newsroom:
        config = work / "sources.toml"
        config.write_text(_sources(newsroom.base_url), encoding="utf-8")
        state = Crawled(newsroom.base_url, config, work / "data", [], newsroom.hits)
        for edition in (1, 2):
            newsroom.edition = edition
            state.outputs.append(state.cli("crawl").stdout)
        yield state


def _screenshot_records(data: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for path in sorted((data / "warcs").glob("*.warc.gz")):
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh)
            for record in it:
                if record.rec_type != "resource":
                    continue
                body = record.content_stream().read()  # before the offset, which reads on
                offset = it.get_record_offset()
                h = record.rec_headers
                out.append({"file": path.name, "offset": offset, "body": body,
                            "uri": h.get_header("WARC-Target-URI"),
                            "type": h.get_header("Content-Type"),
                            "refers_to": h.get_header("WARC-Refers-To"),
                            "page": h.get_header("WARC-Refers-To-Target-URI")})
    return out


def _show(crawled: Crawled, url: str) -> dict[str, object]:
    shown: dict[str, object] = json.loads(crawled.cli("show", url, "--format", "json").stdout)
    return shown


def _all_versions(crawled: Crawled) -> list[tuple[str, str, int, object]]:
    """(source, article id, version, screenshot) for every version of every article."""
    out = []
    for line in crawled.cli("export").stdout.splitlines():
        article = json.loads(line)
        shown = _show(crawled, article["id"])
        for v in shown["versions"]:  # type: ignore[attr-defined]
            out.append((article["source"], article["id"], v["version"], v["screenshot"]))
    return sorted(out)


def test_each_new_version_gets_a_png_resource_record(crawled: Crawled) -> None:
    records = _screenshot_records(crawled.data)
    versions = _all_versions(crawled)
    northwind = [(aid, n) for src, aid, n, _ in versions if src == "northwind"]
    assert len(northwind) >= 3  # the summit (2 versions) and other stories
    # One record per northwind version, none for anatolia (screenshots off by default).
    assert sorted(r["uri"] for r in records) == sorted(  # type: ignore[type-var]
        f"urn:mediawatch:screenshot:{aid}:v{n}" for aid, n in northwind)
    assert any(src == "anatolia" for src, _, _, _ in versions)
    assert all(shot is None for src, _, _, shot in versions if src == "anatolia")
    assert not list((crawled.data / "warcs").glob("anatolia-screenshots-*"))
    for r in records:
        assert str(r["file"]).startswith("northwind-screenshots-")
        assert r["type"] == "image/png"
        body = r["body"]
        assert isinstance(body, bytes)
        assert body.startswith(PNG)
        assert len(body) > 10_000  # a rendered page, not an empty canvas
        assert str(r["refers_to"]).startswith("<urn:uuid:")
        assert str(r["page"]).startswith(crawled.base + "/northwind/")
    # CDXJ-indexed like every other WARC file.
    for name in {str(r["file"]) for r in records}:
        index = cdxj_path(crawled.data / "warcs" / name).read_text()
        assert "urn:mediawatch:screenshot:" in index


def test_show_gives_each_version_its_screenshot_location(crawled: Crawled) -> None:
    shown = _show(crawled, crawled.base + SUMMIT)
    versions = shown["versions"]
    assert isinstance(versions, list)
    assert [v["version"] for v in versions] == [1, 2]
    records = {(r["file"], r["offset"]): r for r in _screenshot_records(crawled.data)}
    bodies = []
    for v in versions:
        shot = v["screenshot"]
        assert set(shot) == {"warc_file", "offset", "length"}
        record = records[(shot["warc_file"], shot["offset"])]
        assert record["uri"] == f"urn:mediawatch:screenshot:{shown['id']}:v{v['version']}"
        # The bytes at that location are that record (one gzip member, one seek away).
        with open(crawled.data / "warcs" / shot["warc_file"], "rb") as fh:
            fh.seek(shot["offset"])
            member = fh.read(shot["length"])
        assert next(iter(ArchiveIterator(io.BytesIO(member)))).content_stream().read() \
            == record["body"]
        bodies.append(record["body"])
    # Version 2 is the edited page: its rendering differs from version 1's.
    assert bodies[0] != bodies[1]


def _serve_ui(crawled: Crawled) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    app = create_app(crawled.data, crawled.config, "http://127.0.0.1:9")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "uvicorn did not start"
        threading.Event().wait(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()


def test_web_article_page_shows_and_serves_the_screenshots(crawled: Crawled) -> None:
    shown = _show(crawled, crawled.base + SUMMIT)
    aid = shown["id"]
    for ui in _serve_ui(crawled):
        with urllib.request.urlopen(f"{ui}/articles/{aid}") as resp:
            html = resp.read().decode()
        for n in (1, 2):
            assert f'src="/articles/{aid}/v{n}/screenshot.png"' in html
            with urllib.request.urlopen(f"{ui}/articles/{aid}/v{n}/screenshot.png") as resp:
                assert resp.headers["Content-Type"] == "image/png"
                assert resp.read().startswith(PNG)
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{ui}/articles/{aid}/v3/screenshot.png")
        assert missing.value.code == 404


def test_reindex_links_the_screenshots_again(crawled: Crawled) -> None:
    before = _all_versions(crawled)
    crawled.cli("reindex")
    after = _all_versions(crawled)
    assert after == before
    assert sum(shot is not None for _, _, _, shot in after) >= 3


def test_a_missing_browser_is_counted_not_raised(tmp_path: Path) -> None:
    from archive.store.screenshots import VersionToShoot
    from crawler.screenshots import shoot

    version = VersionToShoot("a1", 1, "http://example.test/", "2024-05-04T10:30:00Z", None, "s")
    report = shoot(tmp_path, [version], executable=tmp_path / "no-chromium")
    assert (report.rendered, report.failed, report.files) == (0, 1, [])
    assert "no browser at" in report.problem
