"""WARC write/read round trip: offsets, repeated headers, encodings, rotation, damage."""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.warc.reader import WarcError, iter_responses, list_warcs, read_response
from archive.warc.writer import (
    GZIP_LEVEL,
    Exchange,
    RotatingWarcWriter,
    record_level,
    warc_filename,
)

WHEN = datetime(2020, 11, 29, 23, 25, 1, 123456, tzinfo=UTC)
PAGE = "<html><body><p>Министр обороны: С-400</p></body></html>".encode()


def exchange(url: str = "http://127.0.0.1:8000/news/a.html?id=1&utm_source=rss", *,
             body: bytes = PAGE, headers: tuple[tuple[str, str], ...] = (),
             metadata: dict[str, object] | None = None) -> Exchange:
    return Exchange(
        url=url, method="GET", request_target="/news/a.html?id=1&utm_source=rss",
        request_headers=(("Host", "127.0.0.1:8000"), ("User-Agent", "mediawatch-test")),
        protocol="HTTP/1.1", status=200, reason="OK",
        headers=(("Content-Type", "text/html; charset=utf-8"), *headers), body=body,
        fetched_at=WHEN, ip_address="127.0.0.1",
        metadata=metadata or {"source": "northwind", "kind": "article"})


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    warcio = Path(sys.executable).with_name("warcio")
    return subprocess.run([str(warcio), "check", str(path)], capture_output=True, text=True,
                          check=False)


def test_filename_pattern() -> None:
    assert warc_filename("tass", WHEN, 3, "crawler-1") == \
        "tass-20201129232501123-00003-crawler-1.warc.gz"


def test_round_trip_keeps_bytes_headers_offsets(tmp_path: Path) -> None:
    gz = gzip.compress(PAGE)
    writer = RotatingWarcWriter(tmp_path, "northwind", host="test", clock=lambda: WHEN)
    first = writer.write_exchange(exchange(
        body=gz, headers=(("Content-Encoding", "gzip"), ("Set-Cookie", "a=1"),
                          ("Set-Cookie", "b=2"), ("Transfer-Encoding", "chunked")),
        metadata={"source": "northwind", "kind": "article",
                  "redirect_urls": ["http://127.0.0.1:8000/s/Ab3x"]}))
    second = writer.write_exchange(exchange(url="http://127.0.0.1:8000/b"))
    assert any(p.name.endswith(".warc.gz.open") for p in tmp_path.iterdir())
    path = writer.close()
    assert path is not None
    assert path.name.endswith(".warc.gz")
    assert not any(p.name.endswith(".open") for p in tmp_path.iterdir())
    assert warcio_check(path).returncode == 0

    records = list(iter_responses(path))
    assert [r.captured.url for r in records] == [
        "http://127.0.0.1:8000/news/a.html?id=1&utm_source=rss", "http://127.0.0.1:8000/b"]
    first_read = records[0]
    assert first_read.location == first.response
    assert first_read.captured.body == PAGE  # content-encoding undone on read
    headers = first_read.captured.headers
    assert [v for k, v in headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert ("Content-Encoding", "gzip") in headers
    assert not any(k.lower() == "transfer-encoding" for k, _ in headers)
    assert first_read.captured.redirect_urls == ("http://127.0.0.1:8000/s/Ab3x",)
    assert first_read.captured.fetched_at == WHEN
    assert first_read.captured.metadata["kind"] == "article"
    assert read_response(tmp_path, second.response).captured.url == "http://127.0.0.1:8000/b"

    # The payload on disk is still the gzip stream as received.
    with open(path, "rb") as fh:
        fh.seek(first.response.offset)
        member = gzip.decompress(fh.read(first.response.length))
    assert gz in member
    assert b"GET /news/a.html?id=1&utm_source=rss HTTP/1.1" in gzip.decompress(path.read_bytes())
    # Each record is its own gzip member at zlib's default level (GZIP_LEVEL), not warcio's
    # 9, and one whose payload is gzip already is stored (level 0): the header's XFL byte
    # is 2 for level 9, 4 for levels 0 and 1, 0 for the default.
    with open(path, "rb") as fh:
        fh.seek(first.response.offset)
        stored = fh.read(10)
        fh.seek(second.response.offset)
        deflated = fh.read(10)
    assert stored[:3] == deflated[:3] == b"\x1f\x8b\x08"
    assert (stored[8], deflated[8]) == (4, 0)


@pytest.mark.parametrize(("rec_type", "encoding", "content_type", "level"), [
    ("response", "gzip", "text/html", 0),
    ("response", " BR ", "text/html", 0),
    ("response", None, "image/jpeg", 0),
    ("response", None, "video/mp4; codecs=avc1", 0),
    ("response", None, "image/svg+xml", GZIP_LEVEL),
    ("response", "identity", "text/html; charset=utf-8", GZIP_LEVEL),
    ("response", None, None, GZIP_LEVEL),
    ("request", "gzip", "image/png", GZIP_LEVEL),
    ("metadata", None, None, GZIP_LEVEL),
])
def test_record_level(rec_type: str, encoding: str | None, content_type: str | None,
                      level: int) -> None:
    assert record_level(rec_type, encoding, content_type) == level


def test_metadata_record_has_its_own_target_uri(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "n", host="t")
    writer.write_exchange(exchange())
    text = gzip.decompress(writer.close().read_bytes()).decode("utf-8")  # type: ignore[union-attr]
    assert "WARC-Target-URI: urn:mediawatch:metadata:http://127.0.0.1:8000/news/a.html" in text
    assert text.count("WARC-Concurrent-To") == 2
    assert text.count("WARC-Type: warcinfo") == 1


def test_rotation_at_size_limit(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "n", host="t", max_size=1000)
    for i in range(4):
        writer.write_exchange(exchange(url=f"http://127.0.0.1:8000/{i}"))
    writer.close()
    files = list_warcs(tmp_path)
    assert len(files) == 4
    urls = [r.captured.url for f in files for r in iter_responses(f)]
    assert urls == [f"http://127.0.0.1:8000/{i}" for i in range(4)]
    assert all(warcio_check(f).returncode == 0 for f in files)


def test_truncated_file_yields_what_is_whole_then_fails_clearly(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "n", host="t")
    writer.write_exchange(exchange(url="http://127.0.0.1:8000/whole"))
    cut_at = writer.write_exchange(exchange(url="http://127.0.0.1:8000/cut")).response
    path = writer.close()
    assert path is not None
    path.write_bytes(path.read_bytes()[: cut_at.offset + cut_at.length // 2])
    seen = []

    def read_all() -> None:
        for record in iter_responses(path):
            seen.append(record.captured.url)

    with pytest.raises(WarcError, match=path.name):
        read_all()
    assert seen == ["http://127.0.0.1:8000/whole"]


def test_bad_gzip_payload_is_kept_as_received(tmp_path: Path) -> None:
    writer = RotatingWarcWriter(tmp_path, "n", host="t")
    writer.write_exchange(exchange(body=b"not gzip at all",
                                   headers=(("Content-Encoding", "gzip"),)))
    (record,) = iter_responses(writer.close())  # type: ignore[arg-type]
    assert record.captured.body == b"not gzip at all"


EVAL_WARCS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "warcs"


@pytest.mark.eval
@pytest.mark.skipif(not EVAL_WARCS.is_dir(), reason="no ../shared/eval/warcs")
def test_third_party_warcs_read_or_fail_clearly() -> None:
    """WARC/ARC files written by other tools (broken ones included): every file is either
    read or refused with a WarcError naming it; nothing else escapes."""
    files = [p for p in EVAL_WARCS.rglob("*") if p.is_file()
             and (".warc" in p.name or p.name.endswith((".arc", ".arc.gz")))]
    assert len(files) > 20
    read = 0
    refused: list[tuple[str, str]] = []
    for path in files:
        try:
            read += sum(1 for _ in iter_responses(path))
        except WarcError as exc:
            refused.append((path.name, str(exc)))
    assert all(name in message for name, message in refused), refused
    assert read > 100


def test_revisits_identical_payload_and_not_modified(tmp_path: Path) -> None:
    from dataclasses import replace

    from archive.warc.writer import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED, payload_digest

    writer = RotatingWarcWriter(tmp_path, "northwind", host="test", clock=lambda: WHEN)
    url = "http://127.0.0.1:8000/feed.xml"
    page = PAGE + random.Random(1).randbytes(8000)  # incompressible, like a real page
    first = writer.write_exchange(exchange(url, body=page))
    prior = first.as_prior(url, WHEN)
    assert first.revisit is None
    assert first.digest == payload_digest(page)
    same = writer.write_exchange(exchange(url, body=page), prior)
    changed = writer.write_exchange(exchange(url, body=page + b"<!-- edited -->"), prior)
    not_modified = writer.write_exchange(
        replace(exchange(url, body=b""), status=304, reason="Not Modified"), prior)
    unknown_304 = writer.write_exchange(
        replace(exchange(url + "?x", body=b""), status=304, reason="Not Modified"))
    path = writer.close()
    assert path is not None
    assert warcio_check(path).returncode == 0
    assert (same.revisit, changed.revisit, not_modified.revisit, unknown_304.revisit) == (
        REVISIT_IDENTICAL, None, REVISIT_NOT_MODIFIED, REVISIT_NOT_MODIFIED)
    # A revisit costs its headers, not a second copy of the page.
    assert same.response.length < first.response.length // 2

    records = list(iter_responses(path))
    assert [r.revisit is not None for r in records] == [False, True, False, True, True]
    revisit = records[1].revisit
    assert revisit is not None
    assert not revisit.not_modified
    assert (revisit.refers_to_uri, revisit.refers_to_date, revisit.refers_to_id) == (
        url, WHEN, first.record_id)
    assert records[1].captured.body == b""
    assert records[1].digest == first.digest
    resolved = records[1].with_payload(records[0])
    assert resolved.captured.body == page
    assert resolved.captured.status == 200
    nm = records[3]
    assert nm.revisit is not None
    assert nm.revisit.not_modified
    assert nm.captured.status == 304
    assert nm.with_payload(records[0]).captured.status == 200
    assert records[4].revisit is not None
    assert records[4].revisit.refers_to_uri is None
    assert read_response(tmp_path, same.response).revisit == revisit


def test_recover_open_file_cuts_after_last_complete_record(tmp_path: Path) -> None:
    from archive.warc.repair import recover_open_file

    writer = RotatingWarcWriter(tmp_path, "northwind", host="test", clock=lambda: WHEN)
    writer.write_exchange(exchange(url="http://127.0.0.1:8000/kept"))
    cut = writer.write_exchange(exchange(url="http://127.0.0.1:8000/cut")).response
    path = writer.close()
    assert path is not None
    orphan = path.with_name(path.name + ".open")
    orphan.write_bytes(path.read_bytes()[: cut.offset + cut.length // 2])
    path.unlink()
    recovered = recover_open_file(orphan)
    assert recovered == path
    assert not orphan.exists()
    assert recovered.stat().st_size == cut.offset
    assert warcio_check(recovered).returncode == 0
    assert [r.captured.url for r in iter_responses(recovered)] == ["http://127.0.0.1:8000/kept"]


@pytest.mark.parametrize("cut", [10, 50, 200], ids=["10-bytes", "50-bytes", "200-bytes"])
def test_a_file_cut_inside_its_last_gzip_member_is_reported(tmp_path: Path, cut: int) -> None:
    from archive.warc.repair import recover_open_file

    writer = RotatingWarcWriter(tmp_path, "northwind", host="test", clock=lambda: WHEN)
    for i in range(2):
        writer.write_exchange(exchange(url=f"http://127.0.0.1:8000/{i}"))
    path = writer.close()
    assert path is not None
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - cut])  # inside the last (metadata) record's member
    read = []

    def read_all() -> None:
        for record in iter_responses(path):
            read.append(record.captured.url)

    with pytest.raises(WarcError, match="truncated"):
        read_all()
    assert read == ["http://127.0.0.1:8000/0", "http://127.0.0.1:8000/1"]
    orphan = path.rename(path.with_name(path.name + ".open"))
    recovered = recover_open_file(orphan)
    assert warcio_check(recovered).returncode == 0
    assert len(recovered.read_bytes()) < len(data) - cut
