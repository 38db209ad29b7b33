"""WACZ export: the captures behind a result set, byte for byte, pages, ``wacz validate``."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.config.sources import parse_config
from archive.models import PriorCapture
from archive.store.db import Archive
from archive.warc.wacz import (
    CaptureRecord,
    WaczError,
    captures_sql,
    page_entries,
    pages_jsonl,
    write_wacz,
)
from archive.warc.writer import METADATA_URN, Exchange, RotatingWarcWriter
from crawler.ingest import ingest_files

BIN = Path(sys.executable).parent
BASE = "http://127.0.0.1:1"
CONFIG = parse_config(f'[[source]]\nid = "wire"\nfeeds = ["{BASE}/rss.xml"]\nlanguage = "en"\n')
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
TOPICS = {0: "air defence deliveries to Idlib", 1: "the Brussels summit agenda",
          2: "ammunition production in Idlib province"}


def article_html(n: int) -> bytes:
    paras = "".join(f"<p>Paragraph {i} of story {n}: the defence ministers discussed "
                    f"{TOPICS[n]}, and the talks went on late into the night.</p>"
                    for i in range(5))
    return (f'<html lang="en"><head><title>Story {n}</title>'
            f'<meta property="og:type" content="article">'
            f'<meta property="article:published_time" content="2024-05-01T09:00:00Z">'
            f"</head><body><article><h1>Story {n} headline</h1>{paras}</article></body></html>"
            ).encode()


def exchange(path: str, body: bytes, when: datetime, kind: str = "article",
             ctype: str = "text/html; charset=utf-8") -> Exchange:
    return Exchange(url=BASE + path, method="GET", request_target=path,
                    request_headers=(("Host", "127.0.0.1:1"),), protocol="HTTP/1.1",
                    status=200, reason="OK", headers=(("Content-Type", ctype),), body=body,
                    fetched_at=when, metadata={"source": "wire", "kind": kind})


@dataclass
class Site:
    data: Path
    warcs: list[Path]

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "mediawatch"), "--data", str(self.data), *args],
                              capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """Three stories and a feed; an hour later story 0 again, identical: a revisit record
    in a second file that refers to the first."""
    data = tmp_path_factory.mktemp("wacz") / "data"
    first = RotatingWarcWriter(data / "warcs", "wire", host="test", clock=lambda: T0)
    first.write_exchange(exchange("/rss.xml", b"<rss/>", T0, "feed", "application/rss+xml"))
    written = [first.write_exchange(exchange(f"/a/{n}.html", article_html(n),
                                             T0 + timedelta(seconds=n + 1)))
               for n in TOPICS]
    later = T0 + timedelta(hours=1)
    second = RotatingWarcWriter(data / "warcs", "wire", host="test", clock=lambda: later)
    prior = PriorCapture(f"{BASE}/a/0.html", T0 + timedelta(seconds=1), written[0].record_id,
                         written[0].digest)
    revisit = second.write_exchange(exchange("/a/0.html", article_html(0), later), prior)
    assert revisit.revisit is not None
    files = [p for p in (first.close(), second.close()) if p is not None]
    archive = Archive(data / "archive.db")
    ingest_files(archive, files, CONFIG, workers=1)
    archive.close()
    return Site(data, files)


def members(path: Path) -> list[bytes]:
    """The gzip members of a WARC file, each a whole record as stored."""
    out = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            it.read_to_end(record)
            out.append((it.get_record_offset(), it.get_record_length()))
        fh.seek(0)
        data = fh.read()
    return [data[offset:offset + length] for offset, length in out]


def records_in(wacz: Path) -> list[tuple[str, str, str]]:
    """(WARC file, record type, target URI) of every record inside ``wacz``."""
    found = []
    with zipfile.ZipFile(wacz) as zf:
        for name in sorted(n for n in zf.namelist() if n.startswith("archive/")):
            with zf.open(name) as fh:
                for record in ArchiveIterator(fh):
                    found.append((name.removeprefix("archive/"), record.rec_type,
                                  record.rec_headers.get_header("WARC-Target-URI") or ""))
    return found


def export(site: Site, tmp_path: Path, query: str | None) -> Path:
    archive = Archive(site.data / "archive.db")
    try:
        report = write_wacz(archive, site.data / "warcs", tmp_path / "out.wacz", query)
    finally:
        archive.close()
    return report.path


def test_export_of_a_query_holds_exactly_its_captures(site: Site, tmp_path: Path) -> None:
    wacz = export(site, tmp_path, "Idlib")
    first, second = (p.name for p in site.warcs)
    page0, page2 = f"{BASE}/a/0.html", f"{BASE}/a/2.html"
    assert records_in(wacz) == [
        (first, "warcinfo", ""),
        (first, "response", page0), (first, "request", page0),
        (first, "metadata", METADATA_URN + page0),
        (first, "response", page2), (first, "request", page2),
        (first, "metadata", METADATA_URN + page2),
        (second, "warcinfo", ""),
        (second, "revisit", page0), (second, "request", page0),
        (second, "metadata", METADATA_URN + page0),
    ]  # story 1 (no Idlib) and the feed stay out


def test_records_are_copied_byte_for_byte(site: Site, tmp_path: Path) -> None:
    wacz = export(site, tmp_path, None)
    with zipfile.ZipFile(wacz) as zf:
        for source in site.warcs:
            info = zf.getinfo("archive/" + source.name)
            assert info.compress_type == zipfile.ZIP_STORED  # seekable for replay tools
            inside = tmp_path / source.name
            inside.write_bytes(zf.read(info))
            assert set(members(inside)) <= set(members(source))
    assert [t for _, t, _ in records_in(wacz)].count("response") == 3


def test_pages_come_from_the_articles(site: Site, tmp_path: Path) -> None:
    wacz = export(site, tmp_path, "Idlib")
    with zipfile.ZipFile(wacz) as zf:
        lines = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]
        index = gzip.decompress(zf.read("indexes/index.cdx.gz")).decode()
    assert lines[0]["format"] == "json-pages-1.0"
    pages = sorted((p["url"], p["ts"], p["title"]) for p in lines[1:])
    assert pages == [  # story 0: its latest 200 capture, the revisit an hour later
        (f"{BASE}/a/0.html", "2024-05-01T11:00:00Z", "Story 0 headline"),
        (f"{BASE}/a/2.html", "2024-05-01T10:00:03Z", "Story 2 headline"),
    ]
    assert "1,0,0,127:1)/a/0.html 20240501110000 " in index
    assert "1,0,0,127:1)/a/2.html 20240501100003 " in index


def test_wacz_validate_accepts_the_export(site: Site, tmp_path: Path) -> None:
    result = site.cli("export", "--format", "wacz", "--query", "Idlib",
                      "--output", str(tmp_path / "idlib.wacz"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "2 articles, 2 pages, 3 captures" in result.stderr
    check = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(tmp_path / "idlib.wacz")],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "the passed WACZ is valid" in check.stdout


def test_export_output_option_writes_jsonl_and_csv_to_a_file(site: Site,
                                                             tmp_path: Path) -> None:
    for fmt in ("jsonl", "csv"):
        to_stdout = site.cli("export", "--format", fmt)
        to_file = site.cli("export", "--format", fmt, "--output", str(tmp_path / f"a.{fmt}"))
        assert to_stdout.returncode == 0, to_stdout.stderr
        assert to_file.returncode == 0, to_file.stderr
        assert to_file.stdout == ""
        assert (tmp_path / f"a.{fmt}").read_text(encoding="utf-8") == to_stdout.stdout
        if fmt == "jsonl":
            assert len(to_stdout.stdout.splitlines()) == 3  # the three stories


def test_nothing_matching_is_a_one_line_error(site: Site, tmp_path: Path) -> None:
    result = site.cli("export", "--format", "wacz", "--query", "Kaliningrad",
                      "--output", str(tmp_path / "none.wacz"))
    assert result.returncode == 2
    assert result.stderr == "mediawatch: error: no articles match 'Kaliningrad'\n"
    assert not (tmp_path / "none.wacz").exists()
    with pytest.raises(WaczError, match="archive is empty"):
        write_wacz(Archive(tmp_path / "empty.db"), tmp_path, tmp_path / "x.wacz")


def test_captures_sql_includes_unlinked_captures_of_aliases() -> None:
    sql, params = captures_sql(["a1", "b2"])
    assert params == {"a0": "a1", "a1": "b2"}
    assert "article_id IN (:a0, :a1)" in sql
    assert "article_id IS NULL AND url_norm IN" in sql
    assert captures_sql([])[0].count("IN (NULL)") == 2  # valid SQL, matches nothing


def test_page_entries_pick_the_latest_ok_capture() -> None:
    def cap(offset: int, status: int, when: str, article: str | None = "a") -> CaptureRecord:
        return CaptureRecord("f.warc.gz", offset, 10, None, f"{BASE}/{offset}", status, when,
                             article, None)
    captures = [cap(1, 200, "2024-05-01T10:00:00Z"), cap(2, 200, "2024-05-02T10:00:00Z"),
                cap(3, 404, "2024-05-03T10:00:00Z"), cap(4, 200, "2024-05-04T10:00:00Z", None)]
    pages = page_entries([{"id": "a", "title": "Т-72"}, {"id": "b", "title": "none"}],
                         captures)
    assert pages == [{"id": "a", "url": f"{BASE}/2", "ts": "2024-05-02T10:00:00Z",
                      "title": "Т-72"}]
    assert pages_jsonl(pages).splitlines() == [
        '{"format": "json-pages-1.0", "id": "pages", "title": "mediawatch articles"}',
        '{"id": "a", "url": "http://127.0.0.1:1/2", "ts": "2024-05-02T10:00:00Z", '
        '"title": "Т-72"}']


def test_datasette_finds_the_full_text_index(site: Site) -> None:
    """Datasette 0.65's own detection query (``detect_fts_sql``): the FTS table of
    ``articles`` is found through its ``content="articles"`` option (README: Datasette)."""
    archive = Archive(site.data / "archive.db")
    try:
        found = [row[0] for row in archive.db.execute(
            "SELECT name FROM sqlite_master WHERE rootpage = 0 AND ("
            " sql LIKE :quoted ESCAPE char(92) OR sql LIKE :bracketed ESCAPE char(92)"
            " OR (tbl_name = 'articles' AND sql LIKE '%VIRTUAL TABLE%USING FTS%'))",
            {"quoted": '%VIRTUAL TABLE%USING FTS%content="articles"%',
             "bracketed": "%VIRTUAL TABLE%USING FTS%content=[articles]%"})]
        # What Datasette then runs for ?_search=Idlib (rowid of articles = the fts rowid).
        titles = [row[0] for row in archive.db.execute(
            "SELECT title FROM articles WHERE rowid IN (SELECT rowid FROM articles_fts"
            " WHERE articles_fts MATCH :search) ORDER BY title", {"search": '"Idlib"'})]
    finally:
        archive.close()
    assert found == ["articles_fts"]
    assert titles == ["Story 0 headline", "Story 2 headline"]
