"""A damaged record in the middle of a WARC file costs that record only: the reader
resynchronises at the next gzip member or ``WARC/1.`` header, reports each damaged region
once (file, offset, length, reason; never the bytes), and every intact record after it is
read, indexed, replayable. Import refuses files that hold no WARC record at all."""

from __future__ import annotations

import gzip
import subprocess
from typing import TYPE_CHECKING

import pytest

from archive.store.db import Archive
from archive.warc.importer import import_files
from archive.warc.reader import Damage, WarcError, iter_responses, read_response
from archive.warc.writer import RotatingWarcWriter
from crawler.reindex import rebuild
from tests.conftest import MEDIAWATCH
from tests.test_ingest import CONFIG, T0, article_html, write
from tests.test_warc import WHEN, exchange

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from archive.models import WarcLocation

URLS = [f"http://127.0.0.1:8000/story/{n}" for n in range(5)]
JUNK = b"<<JUNK-MARKER>>"


def five_records(tmp_path: Path) -> tuple[Path, list[WarcLocation]]:
    """A closed WARC of 5 exchanges (response, request, metadata: one gzip member each)."""
    writer = RotatingWarcWriter(tmp_path, "northwind", host="test", clock=lambda: WHEN)
    spans = [writer.write_exchange(exchange(url=u, body=article_html(n))).response
             for n, u in enumerate(URLS)]
    path = writer.close()
    assert path is not None
    return path, spans


def flip_bytes(data: bytes, at: WarcLocation) -> bytes:
    middle = at.offset + at.length // 2
    return data[:middle] + bytes(b ^ 0xFF for b in data[middle:middle + 8]) + data[middle + 8:]


def foreign_member(data: bytes, at: WarcLocation) -> bytes:
    # A whole, valid gzip member that holds no WARC record (another tool's junk).
    return (data[:at.offset] + gzip.compress(JUNK * 40)
            + data[at.offset + at.length:])


def raw_junk(data: bytes, at: WarcLocation) -> bytes:
    return data[:at.offset] + JUNK * 7 + data[at.offset + at.length:]


def cut_member(data: bytes, at: WarcLocation) -> bytes:
    # The member cut in two: the rest of the record is missing, the next member follows.
    return data[:at.offset + at.length // 2] + data[at.offset + at.length:]


DAMAGES: dict[str, Callable[[bytes, WarcLocation], bytes]] = {
    "flipped-bytes": flip_bytes, "foreign-gzip-member": foreign_member,
    "raw-junk-instead-of-member": raw_junk, "member-cut-short": cut_member,
}


@pytest.mark.parametrize("damage", list(DAMAGES), ids=list(DAMAGES))
@pytest.mark.parametrize("victim", [0, 2, 4], ids=["first", "middle", "last"])
def test_every_intact_record_is_read_and_the_damage_reported_once(
        tmp_path: Path, damage: str, victim: int) -> None:
    path, spans = five_records(tmp_path)
    path.write_bytes(DAMAGES[damage](path.read_bytes(), spans[victim]))
    found: list[Damage] = []
    urls = [s.captured.url for s in iter_responses(path, on_damage=found.append)]
    assert urls == [u for n, u in enumerate(URLS) if n != victim]
    assert len(found) == 1
    (region,) = found
    assert region.file == path.name
    assert region.offset == spans[victim].offset
    assert region.length > 0
    assert JUNK.decode() not in str(region)
    assert "\\x" not in str(region)
    # Without a callback: the same records, then one WarcError that names the region.
    seen = []
    # (A cut that lands in the record's header reads as a record cut short: the same
    # region, said as "record at offset N is truncated"; where it lands depends on the
    # random record ids.)
    with pytest.raises(WarcError, match=rf"{path.name}: (damaged region|record) at offset "
                                        rf"{spans[victim].offset}\b"):
        seen.extend(s.captured.url for s in iter_responses(path))
    assert seen == urls


def test_uncompressed_warc_resynchronises_at_the_next_warc_header(tmp_path: Path) -> None:
    path, _ = five_records(tmp_path)
    plain = gzip.decompress(path.read_bytes())  # the same records, one after the other
    marker = f"WARC-Target-URI: {URLS[2]}".encode()
    header = plain.rfind(b"WARC/1.", 0, plain.index(marker))
    broken = plain[:header] + b"XXXX" + plain[header + 4:]  # its version line destroyed
    target = tmp_path / "plain.warc"
    target.write_bytes(broken)
    found: list[Damage] = []
    urls = [s.captured.url for s in iter_responses(target, on_damage=found.append)]
    assert urls == [URLS[0], URLS[1], URLS[3], URLS[4]]
    (region,) = found
    assert region.reason == "not a WARC record"
    # From the end of the record before (its closing CRLF pair included) to the next header.
    assert header - 4 <= region.offset <= header
    # ... to the next record's header (the damaged response's request record).
    assert region.offset + region.length == broken.index(b"WARC/1.", header)


def test_two_damaged_regions_are_two_reports(tmp_path: Path) -> None:
    path, spans = five_records(tmp_path)
    data = flip_bytes(path.read_bytes(), spans[3])
    path.write_bytes(flip_bytes(data, spans[1]))
    found: list[Damage] = []
    urls = [s.captured.url for s in iter_responses(path, on_damage=found.append)]
    assert urls == [URLS[0], URLS[2], URLS[4]]
    assert [d.offset for d in found] == [spans[1].offset, spans[3].offset]


def test_reindex_keeps_the_records_after_the_damage_and_replay_finds_them(
        tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    path = write(warcs, [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200)
                         for n in range(5)], T0)
    archive = Archive(tmp_path / "scratch.db")
    # The third response's record: find it by reading the intact file once.
    third = [s for s in iter_responses(path)][2].location
    archive.close()
    path.write_bytes(flip_bytes(path.read_bytes(), third))
    report = rebuild(tmp_path / "archive.db", warcs, CONFIG)
    assert report.total("inserted") == 4
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{path.name}: damaged region at offset "
                                       f"{third.offset}, {third.length} bytes skipped (")
    archive = Archive(tmp_path / "archive.db")
    try:
        for n in (0, 1, 3, 4):
            assert archive.resolve(f"http://127.0.0.1:1/a/{n}.html") is not None
        assert archive.resolve("http://127.0.0.1:1/a/2.html") is None
    finally:
        archive.close()
    last = [s for s in iter_responses(path, on_damage=lambda d: None)][-1]
    assert read_response(warcs, last.location).captured.url == "http://127.0.0.1:1/a/4.html"


def test_import_refuses_a_damaged_file_naming_the_region(tmp_path: Path) -> None:
    path, spans = five_records(tmp_path / "in")
    path.write_bytes(flip_bytes(path.read_bytes(), spans[2]))
    result = import_files([path], tmp_path / "warcs")
    assert result.ready == []
    (error,) = result.errors
    assert error.startswith(f"{path.name}: damaged region at offset {spans[2].offset}, "
                            f"{spans[2].length} bytes skipped (")
    assert not (tmp_path / "warcs").exists() or not any((tmp_path / "warcs").iterdir())


NO_RECORD = {
    "empty-file": b"",
    "empty-gzip": gzip.compress(b""),
    "blank-lines": b"\r\n\r\n",
    "gzip-of-blank-lines": gzip.compress(b"\r\n"),
    "text": b"hello, this is not a WARC file\n",
}


@pytest.mark.parametrize("content", list(NO_RECORD.values()), ids=list(NO_RECORD))
def test_import_of_a_file_without_any_record_is_refused(tmp_path: Path, content: bytes
                                                        ) -> None:
    source = tmp_path / "empty.warc.gz"
    source.write_bytes(content)
    data = tmp_path / "data"
    result = subprocess.run([MEDIAWATCH, "--config", str(tmp_path / "none.toml"), "--data",
                             str(data), "import", str(source)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("mediawatch: error: empty.warc.gz: ")
    assert "Traceback" not in result.stderr
    warcs = data / "warcs"
    assert not warcs.exists() or list(warcs.iterdir()) == []
