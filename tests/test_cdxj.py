"""CDXJ beside each closed WARC: pywb's indexer output, metadata under its URN, pywb replay."""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from archive.warc.cdxj import cdxj_lines, cdxj_path, index_closed_warc
from archive.warc.reader import list_warcs
from archive.warc.repair import recover_open_file
from archive.warc.writer import METADATA_URN, Exchange, RotatingWarcWriter, WrittenExchange

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
CDXJ_INDEXER = str(Path(sys.executable).with_name("cdxj-indexer"))
WHEN = datetime(2026, 3, 2, 9, 15, 7, 250000, tzinfo=UTC)
BASE = "http://127.0.0.1:8765"
PAGE = "<html><head><title>Idlib</title></head><body><p>С-400 в Идлибе</p></body></html>"


def exchange(path: str, *, body: str = PAGE, when: datetime = WHEN,
             ctype: str = "text/html; charset=utf-8") -> Exchange:
    return Exchange(
        url=BASE + path, method="GET", request_target=path,
        request_headers=(("Host", "127.0.0.1:8765"), ("User-Agent", "mediawatch-test")),
        protocol="HTTP/1.1", status=200, reason="OK",
        headers=(("Content-Type", ctype),), body=body.encode("utf-8"), fetched_at=when,
        metadata={"source": "northwind", "kind": "article", "found_on": BASE + "/rss.xml"})


def write_warc(directory: Path) -> tuple[Path, list[WrittenExchange]]:
    """A page, a second page, and a revisit of the first a day later (all with metadata)."""
    writer = RotatingWarcWriter(directory, "northwind", host="test", clock=lambda: WHEN,
                                on_close=index_closed_warc)
    first = writer.write_exchange(exchange("/news/idlib.html?id=7"))
    second = writer.write_exchange(exchange("/feed.json", body='{"items": []}',
                                            ctype="application/json"))
    again = writer.write_exchange(exchange("/news/idlib.html?id=7", when=WHEN + timedelta(1)),
                                  prior=first.as_prior(BASE + "/news/idlib.html?id=7", WHEN))
    path = writer.close()
    assert path is not None
    return path, [first, second, again]


def cli_index(warc: Path) -> str:
    """What pywb's ``cdxj-indexer`` command prints for ``warc``, sorted as pywb needs it."""
    result = subprocess.run([CDXJ_INDEXER, "--sort", str(warc)], capture_output=True,
                            text=True, check=True, cwd=warc.parent)
    return result.stdout


def parse(text: str) -> list[tuple[str, str, dict[str, str]]]:
    lines = []
    for line in text.splitlines():
        key, ts, body = line.split(" ", 2)
        lines.append((key, ts, json.loads(body)))
    return lines


def test_closing_a_warc_writes_the_index_pywb_indexer_prints(tmp_path: Path) -> None:
    warc, _ = write_warc(tmp_path)
    index = tmp_path / (warc.name + ".cdxj")
    assert cdxj_path(warc) == index
    assert index.read_text(encoding="utf-8") == cli_index(warc)
    assert sorted(p.name for p in tmp_path.iterdir()) == [warc.name, index.name]


def test_index_lines_point_at_each_record(tmp_path: Path) -> None:
    warc, (first, second, again) = write_warc(tmp_path)
    lines = parse(cdxj_path(warc).read_text(encoding="utf-8"))
    assert [(key, ts, fields.get("mime")) for key, ts, fields in lines] == [
        ("1,0,0,127:8765)/feed.json", "20260302091507", "application/json"),
        ("1,0,0,127:8765)/news/idlib.html?id=7", "20260302091507", "text/html"),
        ("1,0,0,127:8765)/news/idlib.html?id=7", "20260303091507", "warc/revisit"),
        (f"{METADATA_URN}{BASE}/feed.json", "20260302091507", "application/json"),
        (f"{METADATA_URN}{BASE}/news/idlib.html?id=7", "20260302091507", "application/json"),
        (f"{METADATA_URN}{BASE}/news/idlib.html?id=7", "20260303091507", "application/json"),
    ]
    by_offset = {int(fields["offset"]): fields for _, _, fields in lines}
    for written in (first, second, again):
        fields = by_offset[written.response.offset]
        assert int(fields["length"]) == written.response.length
        assert fields["filename"] == warc.name  # relative: the index sits beside the file
        assert fields["digest"] == written.digest
    assert all(re.fullmatch(r"\d{14}", ts) for _, ts, _ in lines)


def test_metadata_records_are_indexed_under_their_own_urn(tmp_path: Path) -> None:
    warc, _ = write_warc(tmp_path)
    lines = parse(cdxj_path(warc).read_text(encoding="utf-8"))
    metadata = [(key, f) for key, _, f in lines if f["url"].startswith(METADATA_URN)]
    pages = [(key, f) for key, _, f in lines if not f["url"].startswith(METADATA_URN)]
    assert len(metadata) == 3
    assert len(pages) == 3
    assert all(key == f["url"] for key, f in metadata)  # the URN itself, never a page SURT
    # Under a page's key there is only the page and its revisit: the JSON of the metadata
    # record of the same second can never be served in its place.
    page_keys = {key for key, _ in pages}
    assert not any(key in page_keys for key, _ in metadata)
    assert {f["mime"] for key, f in pages if key.endswith("idlib.html?id=7")} == {
        "text/html", "warc/revisit"}


def test_recovered_open_file_gets_its_index(tmp_path: Path) -> None:
    live = tmp_path / "live"
    writer = RotatingWarcWriter(live, "northwind", host="test", clock=lambda: WHEN,
                                on_close=index_closed_warc)
    writer.write_exchange(exchange("/news/idlib.html?id=7"))
    (open_file,) = live.glob("*.warc.gz.open")
    killed = tmp_path / "killed"
    killed.mkdir()
    left = shutil.copy(open_file, killed / open_file.name)  # as a SIGKILL leaves it
    with open(left, "ab") as fh:
        fh.write(b"\x1f\x8b\x08\x00 half a record")
    final = recover_open_file(left, on_close=index_closed_warc)
    assert cdxj_path(final).read_text(encoding="utf-8") == cli_index(final)
    assert len(parse(cli_index(final))) == 2  # the page and its metadata record


def test_list_warcs_ignores_the_indexes(tmp_path: Path) -> None:
    warc, _ = write_warc(tmp_path)
    assert cdxj_path(warc).exists()
    assert list_warcs(tmp_path) == [warc]


def test_index_unchanged_after_wacz_is_imported(tmp_path: Path) -> None:
    warc, _ = write_warc(tmp_path)
    import wacz.waczindexer  # noqa: F401 - it appends "warcinfo" to CDXJIndexer's defaults

    assert "".join(cdxj_lines(warc)) == cli_index(warc)


def test_unreadable_file_is_logged_not_raised(tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    bad = tmp_path / "broken.warc.gz"
    # A gzip header followed by bytes that do not inflate: no record can be read.
    bad.write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(256)) * 4)
    with caplog.at_level(logging.WARNING):
        assert index_closed_warc(bad) is None
    assert "broken.warc.gz: CDXJ index not written" in caplog.text
    assert not cdxj_path(bad).exists()


def test_pywb_replays_the_page_not_its_metadata_record(tmp_path: Path) -> None:
    """pywb 2.10 from PyPI, in its own venv (bench/out/pywb-venv, built once): both a
    collection made of our WARC + CDXJ as they are, and one made with ``wb-manager add``,
    serve each page itself at the second its metadata record shares."""
    warc, _ = write_warc(tmp_path)
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "pywb_check.py"), str(warc)],
                            capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    assert figures["pages"] == 1
    assert figures["index"] == {"replayed": 1, "failures": []}
    assert figures["wb_manager_add"] == {"replayed": 1, "failures": []}
