"""warcio's own warnings (a target URI with spaces, a record not followed by its blank lines)
become one notice line per problem in mediawatch's reports, never raw bytes on stderr
(archive/warc/notices.py, archive/warc/reader.py, the import/ingest commands)."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.warc.reader import Notice, iter_responses

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


def _record(url: str, title: str, *headers: tuple[str, str]) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False)
    body = (f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<p>{'Text of the story. ' * 30}</p></article></body></html>").encode()
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                       *headers], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                  http_headers=http))
    return out.getvalue()


def odd_warc(path: Path, *, gzipped: bool = False) -> Path:
    """Three pages: the first with a space in its target URI, the second with a
    Content-Length 3 bytes short (so it is not followed by its blank lines)."""
    spaced = _record("http://example.com/news/a b.html", "Spaces story")
    short = _record("http://example.com/news/short.html", "Short story")
    length = re.search(rb"Content-Length: (\d+)", short)
    assert length is not None
    short = short.replace(length[0], b"Content-Length: %d" % (int(length[1]) - 3), 1)
    third = _record("http://example.com/news/c.html", "Third story")
    records = [spaced, short, third]
    path.write_bytes(b"".join(gzip.compress(r) for r in records) if gzipped
                     else b"".join(records))
    return path


def test_the_reader_passes_each_problem_once_and_writes_nothing(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = odd_warc(tmp_path / "odd.warc")
    notices: list[Notice] = []
    urls = [s.captured.url for s in iter_responses(path, on_notice=notices.append)]
    assert urls == ["http://example.com/news/a%20b.html", "http://example.com/news/short.html",
                    "http://example.com/news/c.html"]
    assert [(n.file, n.offset) for n in notices] == [("odd.warc", 0), ("odd.warc", 1117)]
    assert "WARC-Target-URI has spaces" in notices[0].message
    assert "Content-Length is probably wrong" in str(notices[1])
    list(iter_responses(path))  # no sink: dropped
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_a_real_import_prints_one_line_per_problem_and_no_bytes(tmp_path: Path) -> None:
    path = odd_warc(tmp_path / "odd.warc")
    result = subprocess.run(
        [MEDIAWATCH, "--config", str(ROOT / "config" / "sources.toml"), "--data",
         str(tmp_path / "data"), "import", str(path)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "3 records, 3 articles" in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(f"notice: {path}: record at offset 0: WARC-Target-URI has")
    assert lines[1].startswith(f"notice: {path}: record at offset 1117: not followed by")
    for raw in ("Remainder", "b'", "ml>", "Replacing spaces", "WARNING"):
        assert raw not in result.stderr


def test_ingest_of_a_gzipped_file_reports_the_notices(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "warcs").mkdir(parents=True)
    odd_warc(data / "warcs" / "crawl-odd.warc.gz", gzipped=True)
    result = subprocess.run(
        [MEDIAWATCH, "--config", str(ROOT / "config" / "sources.toml"), "--data", str(data),
         "ingest"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    notices = [line for line in result.stderr.splitlines() if line.startswith("notice: ")]
    assert len(notices) == 2, result.stderr
    assert all(line.startswith("notice: crawl-odd.warc.gz: record at offset ")
               for line in notices)
    assert "Remainder" not in result.stderr
    assert "Replacing spaces" not in result.stderr


def test_a_payload_kept_as_received_is_one_notice_of_the_import(tmp_path: Path) -> None:
    """A body that claims gzip but is not: kept as received, said once (not once per pass
    over the file, and never under the name of the import's temporary file)."""
    path = tmp_path / "claims-gzip.warc"
    path.write_bytes(_record("http://example.com/news/g.html", "Not gzip",
                             ("Content-Encoding", "gzip")))
    result = subprocess.run(
        [MEDIAWATCH, "--config", str(ROOT / "config" / "sources.toml"), "--data",
         str(tmp_path / "data"), "import", str(path)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"notice: {path}: record at offset 0: cannot decode gzip payload (Error -3 while "
        "decompressing data: incorrect header check); kept as received"]
