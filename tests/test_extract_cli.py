"""``mediawatch extract`` on what users actually hand it (issue 10): a saved page without
``--url``, a gzip-compressed page, WARC files holding records of other kinds, ARC and WACZ
files, and files with nothing to extract. Each test runs the real command in a subprocess."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc.reader import WarcError
from crawler.extract import extract_path, file_kind
from tests.conftest import MEDIAWATCH
from tests.test_ingest import article_html

ROOT = Path(__file__).resolve().parents[1]
SPUTNIK = ROOT / "tests" / "fixtures" / "pages" / "sputnik_selectors.html"
STORY = "https://news.example.org/2024/05/01/story-7"


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MEDIAWATCH, "--config", str(ROOT / "config" / "sources.toml"),
                           "--data", str(tmp_path / "data"), "extract", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def page(canonical: str | None = None) -> bytes:
    html = article_html(7)
    if canonical:
        html = html.replace(b"</head>", f'<link rel="canonical" href="{canonical}"></head>'
                            .encode())
    return html


def warc_bytes(records: list[tuple[str, bytes]], *, gz: bool = True) -> bytes:
    """Response records (url, HTML body) written by warcio, as another tool would."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gz)
    for url, body in records:
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Date": "2024-05-01T10:00:00Z"}))
    return out.getvalue()


def arc_bytes(url: str, body: bytes) -> list[bytes]:
    """The records of an ARC v1 file (Internet Archive's format before WARC) of one HTTP
    response: its header record, then the response."""
    header_body = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    filedesc = (f"filedesc://test.arc 127.0.0.1 20240501100000 text/plain "
                f"{len(header_body)}\n").encode() + header_body + b"\n"
    http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    record = (f"{url} 127.0.0.1 20240501100000 text/html {len(http)}\n".encode() + http + b"\n")
    return [filedesc, record]


def test_saved_page_without_url_takes_its_canonical_url(tmp_path: Path) -> None:
    saved = tmp_path / "story.html"
    saved.write_bytes(page(canonical=STORY))
    done = cli(tmp_path, str(saved), "--format", "json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["url"] == STORY
    assert f"story.html: no --url given; parsed as {STORY} (its canonical link)" in done.stderr


def test_saved_page_without_url_or_canonical_gets_a_placeholder(tmp_path: Path) -> None:
    saved = tmp_path / "my story.html"
    saved.write_bytes(page())
    done = cli(tmp_path, str(saved), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == "https://saved-page.invalid/my%20story.html"
    assert "a placeholder (the page names no canonical URL; pass --url)" in done.stderr


def test_gzip_page_is_decompressed(tmp_path: Path) -> None:
    saved = tmp_path / "story.html.gz"
    saved.write_bytes(gzip.compress(page(canonical=STORY)))
    done = cli(tmp_path, str(saved), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"] == "Story 7 headline"


def test_gzip_page_is_never_expanded_past_the_bound(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<html><body>" + b"a" * 3_000_000 + b"</body></html>"))
    with pytest.raises(WarcError, match=r"larger than max_page_size \(1000000 bytes\) once "
                       "decompressed"):  # one line, exit 2 at the CLI
        list(extract_path(bomb, max_payload=1_000_000))


def test_one_non_http_record_does_not_stop_the_warc(tmp_path: Path) -> None:
    warc = tmp_path / "other-tool.warc.gz"
    warc.write_bytes(warc_bytes([("file:///home/user/notes.html", page()),
                                 ("urn:x-tool:log", b"<html>log</html>"),
                                 (STORY, page())]))
    done = cli(tmp_path, str(warc), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["url"] for line in done.stdout.splitlines()] == [STORY]
    assert "1 of 1 pages extracted; 2 records skipped (2 not an http(s) URL)" in done.stderr


def test_arc_file_is_read_as_an_archive(tmp_path: Path) -> None:
    arc = tmp_path / "old-crawl.arc.gz"
    arc.write_bytes(b"".join(map(gzip.compress, arc_bytes(STORY, page()))))  # per record
    assert file_kind(arc.read_bytes()[:4096]) == "arc"
    done = cli(tmp_path, str(arc), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == STORY
    plain = tmp_path / "old-crawl.arc"
    plain.write_bytes(b"".join(arc_bytes(STORY, page())))
    assert json.loads(cli(tmp_path, str(plain), "--format", "json").stdout)["url"] == STORY


def test_wacz_file_is_read_as_an_archive(tmp_path: Path) -> None:
    wacz = tmp_path / "capture.wacz"
    with zipfile.ZipFile(wacz, "w") as zf:
        zf.writestr("archive/data.warc.gz", warc_bytes([(STORY, page())]))
        zf.writestr("datapackage.json", "{}")
    done = cli(tmp_path, str(wacz), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == STORY


def test_uncompressed_warc_with_another_name_is_still_a_warc(tmp_path: Path) -> None:
    warc = tmp_path / "capture.bin"
    warc.write_bytes(warc_bytes([(STORY, page())], gz=False))
    done = cli(tmp_path, str(warc), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == STORY


def test_nothing_extracted_is_exit_1_with_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "listing.warc.gz"
    empty.write_bytes(warc_bytes([("file:///x.html", page())]))
    done = cli(tmp_path, str(empty))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == ("mediawatch: error: listing.warc.gz (warc): 0 of 0 pages extracted;"
                           " 1 records skipped (1 not an http(s) URL); nothing extracted\n")
    junk = tmp_path / "notes.html"
    junk.write_text("<html><body><p>hello</p></body></html>")
    done = cli(tmp_path, str(junk), "--url", "https://example.org/notes")
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == ("mediawatch: error: notes.html (html): 0 of 1 "
                                            "pages extracted; nothing extracted")


def test_json_names_the_method_of_each_field(tmp_path: Path) -> None:
    """With the source's selectors, the fields its profile selects say ``selectors``; the
    others say where they came from."""
    done = cli(tmp_path, str(SPUTNIK), "--url", "https://sputniknews.com/20201129/s400.html",
               "--source", "sputnik", "--format", "json")
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    methods = record["methods"]
    assert methods["body"] == "selectors"
    assert methods["title"] in {"selectors", "jsonld", "meta", "h1", "title_element"}
    assert set(methods) <= {k for k, v in record.items() if v not in (None, "", [])}
    without = json.loads(cli(tmp_path, str(SPUTNIK), "--url",
                             "https://sputniknews.com/20201129/s400.html",
                             "--format", "json").stdout)
    assert without["methods"]["body"] != "selectors"
    text = cli(tmp_path, str(SPUTNIK), "--url", "https://sputniknews.com/20201129/s400.html")
    assert "methods: " in text.stdout
    assert "body=" in text.stdout


def test_methods_follow_the_precedence(tmp_path: Path) -> None:
    saved = tmp_path / "story.html"
    saved.write_bytes(page(canonical=STORY).replace(
        b"</head>", b'<script type="application/ld+json">{"@type": "NewsArticle", '
                    b'"headline": "From JSON-LD", "author": {"name": "Ann Lee"}}</script></head>'))
    record = json.loads(cli(tmp_path, str(saved), "--format", "json").stdout)
    assert (record["title"], record["methods"]["title"]) == ("From JSON-LD", "jsonld")
    assert record["methods"]["authors"] == "jsonld"
    assert record["methods"]["published"] == "meta"
    assert record["methods"]["canonical_url"] == "link_rel"
    assert record["methods"]["language"] == "html_lang"
    assert "modified" not in record["methods"]


def test_warc_date_is_kept(tmp_path: Path) -> None:
    """Records read from archives keep the capture time (no clock involved)."""
    warc = tmp_path / "a.warc.gz"
    warc.write_bytes(warc_bytes([(STORY, page())]))
    pages = list(extract_path(warc))
    assert pages[0][1] is not None
    assert pages[0][1].published == datetime(2024, 5, 1, 9, tzinfo=UTC)


def test_import_keeps_the_payload_of_arc_records() -> None:
    from archive.warc.importer import arc_to_warc

    body = page()
    converted = gzip.decompress(arc_to_warc(b"".join(arc_bytes(STORY, body)), "test.arc"))
    assert body in converted
