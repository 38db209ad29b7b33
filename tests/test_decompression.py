"""Gzip bombs: no stored payload expands past ``[crawl] max_page_size``, on any path that
decodes one (ingest, reindex, replay, ``replay --raw``, import, extract), for gzip, deflate
and brotli; the over-limit record is counted as such and the other records still load.

Memory is measured, not timed: each command runs in a fresh process whose peak RSS is
compared with the same command on the same archive without the bomb."""

from __future__ import annotations

import gzip
import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import brotli
import pytest
from warcio.statusandheaders import StatusAndHeaders

from archive.config.sources import parse_config
from archive.replay.lookup import ReplayStore
from archive.store.db import Archive
from archive.warc.payload import PayloadTooLarge, decode_payload
from archive.warc.reader import iter_responses
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.extract import extract_path
from crawler.ingest import ingest_files
from tests.conftest import MEDIAWATCH
from tests.test_ingest import article_html

if TYPE_CHECKING:
    from pathlib import Path

MB = 1024**2
BOMB_SIZE = 50 * MB
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
SOURCES = ('[crawl]\nmax_page_size = "1MB"\n\n[[source]]\nid = "wire"\n'
           'feeds = ["http://127.0.0.1:1/rss.xml"]\nlanguage = "en"\n')
BOMB_URL = "http://127.0.0.1:1/a/2.html"


def _deflate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODERS = {
    "gzip": ("gzip", gzip.compress),
    "x-gzip": ("x-gzip", gzip.compress),
    "deflate": ("deflate", _deflate),
    "raw-deflate": ("deflate", _raw_deflate),
    "br": ("br", lambda data: brotli.compress(data, quality=1)),
}


def headers(encoding: str) -> StatusAndHeaders:
    return StatusAndHeaders("200 OK", [("Content-Encoding", encoding)], protocol="HTTP/1.1")


@pytest.mark.parametrize("name", list(ENCODERS), ids=list(ENCODERS))
def test_decoding_stops_at_the_bound(name: str) -> None:
    encoding, encode = ENCODERS[name]
    page = article_html(1)
    assert decode_payload(encode(page), headers(encoding), max_size=MB) == page
    assert decode_payload(encode(b"x" * MB), headers(encoding), max_size=MB) == b"x" * MB
    with pytest.raises(PayloadTooLarge, match="max_page_size"):
        decode_payload(encode(b"\0" * BOMB_SIZE), headers(encoding), max_size=MB)


def test_a_stored_payload_over_the_bound_is_not_decoded() -> None:
    with pytest.raises(PayloadTooLarge):
        decode_payload(b"a" * (MB + 1), None, max_size=MB)


def write_crawl(directory: Path, encoding: str | None) -> Path:
    """Five article pages; the third is a gzip bomb when ``encoding`` is given, else plain."""
    writer = RotatingWarcWriter(directory, "wire", host="test", clock=lambda: T0)
    for n in range(5):
        body, extra = article_html(n), ()
        if n == 2 and encoding is not None:
            kind, encode = ENCODERS[encoding]
            body, extra = encode(b"\0" * BOMB_SIZE), (("Content-Encoding", kind),)
        writer.write_exchange(Exchange(
            url=f"http://127.0.0.1:1/a/{n}.html", method="GET", request_target="/",
            request_headers=(), protocol="HTTP/1.1", status=200, reason="OK",
            headers=(("Content-Type", "text/html; charset=utf-8"), *extra), body=body,
            fetched_at=T0 + timedelta(seconds=n), metadata={"source": "wire",
                                                           "kind": "article"}))
    path = writer.close()
    assert path is not None
    return path


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_ingest_counts_the_bomb_and_loads_the_rest(tmp_path: Path, encoding: str) -> None:
    path = write_crawl(tmp_path / "warcs", encoding)
    archive = Archive(tmp_path / "archive.db")
    try:
        report = ingest_files(archive, [path], parse_config(SOURCES), workers=1)
        assert report.total("inserted") == 4
        assert report.total("too_large") == 1
        (bomb,) = (s for s in iter_responses(path) if s.captured.url == BOMB_URL)
        assert bomb.too_large
        assert bomb.captured.body == b""
        assert report.errors == [f"{path.name}@{bomb.location.offset}: {BOMB_URL}: payload "
                                 "larger than max_page_size; not parsed"]
        assert archive.resolve(BOMB_URL) is None
    finally:
        archive.close()
    store = ReplayStore(tmp_path, max_payload=MB)
    at = T0 + timedelta(days=1)
    assert store.lookup(BOMB_URL, at) is None  # never served, never expanded
    found = store.lookup("http://127.0.0.1:1/a/3.html", at)
    assert found is not None
    assert found.stored.captured.body == article_html(3)
    pages = {url: error for url, _, error in extract_path(path, max_payload=MB)}
    assert pages[BOMB_URL] == f"payload larger than {MB} bytes"
    assert sum(error is None for error in pages.values()) == 4


PEAK = ("import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


def peak_kib(*args: str) -> tuple[int, int]:
    """(exit code, peak RSS in KiB) of ``mediawatch args`` run in a fresh process."""
    out = subprocess.run([sys.executable, "-c", PEAK, MEDIAWATCH, *args],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    code, peak = out.split()
    return int(code), int(peak)


COMMANDS = {
    "reindex": ("reindex",),
    "import": ("import", "{warc}"),
    "extract": ("extract", "{warc}"),
    "replay": ("replay", BOMB_URL),
    "replay-raw": ("replay", "--raw", BOMB_URL),
}


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_no_command_expands_a_bomb_into_memory(tmp_path: Path, command: str) -> None:
    peaks = {}
    for label, encoding in (("plain", None), ("bomb", "gzip")):
        base = tmp_path / label
        base.mkdir()
        (base / "sources.toml").write_text(SOURCES, encoding="utf-8")
        data = base / "data"
        kept = write_crawl(base / "out", encoding)
        warc = data / "warcs" / kept.name
        warc.parent.mkdir(parents=True)
        warc.write_bytes(kept.read_bytes())
        common = ("--config", str(base / "sources.toml"), "--data", str(data))
        if command.startswith("replay"):
            assert peak_kib(*common, "reindex")[0] == 0
        args = [a.format(warc=kept) for a in COMMANDS[command]]
        peaks[label] = peak_kib(*common, *args)[1]
    # The bomb unpacks to 50 MB; at most the bound (10 MB by default) may be held.
    assert peaks["bomb"] - peaks["plain"] < 16 * 1024, peaks


def test_the_commands_use_the_configured_max_page_size(tmp_path: Path) -> None:
    """A page that unpacks to 2 MB is within the 10 MB default but over this config's 1 MB:
    extract, import and replay all hold to the config's bound."""
    (tmp_path / "sources.toml").write_text(SOURCES, encoding="utf-8")
    writer = RotatingWarcWriter(tmp_path / "in", "wire", host="test", clock=lambda: T0)
    for n, body in enumerate((article_html(0), gzip.compress(b"<p>" + b"a" * 2 * MB))):
        writer.write_exchange(Exchange(
            url=f"http://127.0.0.1:1/a/{n}.html", method="GET", request_target="/",
            request_headers=(), protocol="HTTP/1.1", status=200, reason="OK",
            headers=(("Content-Type", "text/html"), ("Content-Encoding", "gzip")) if n
            else (("Content-Type", "text/html"),), body=body, fetched_at=T0,
            metadata={"source": "wire", "kind": "article"}))
    warc = writer.close()
    assert warc is not None

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([MEDIAWATCH, "--config", str(tmp_path / "sources.toml"),
                               "--data", str(tmp_path / "data"), *args],
                              capture_output=True, text=True, timeout=120, check=False)

    extracted = cli("extract", str(warc))
    assert (f"http://127.0.0.1:1/a/1.html: not extracted: payload larger than {MB} bytes"
            in extracted.stderr)
    imported = cli("import", str(warc))
    assert "payload larger than max_page_size; not parsed" in imported.stderr
    assert cli("replay", "--raw", "http://127.0.0.1:1/a/0.html").returncode == 0
    refused = cli("replay", "--raw", "http://127.0.0.1:1/a/1.html")
    assert refused.returncode != 0
    assert refused.stdout == ""


def test_the_replay_app_takes_the_bound_it_is_given(tmp_path: Path) -> None:
    """`serve` passes `[crawl] max_page_size` to the replay app: a payload over it is never
    decoded there, while the same capture replays under the default bound."""
    from starlette.testclient import TestClient

    from archive.replay.app import create_replay_app
    from archive.replay.rules import format_timestamp

    path = write_crawl(tmp_path / "warcs", None)
    with Archive(tmp_path / "archive.db") as archive:
        ingest_files(archive, [path], parse_config(SOURCES), workers=1)
    url = "http://127.0.0.1:1/a/3.html"
    raw = f"/replay/{format_timestamp(T0 + timedelta(seconds=3))}id_/{url}"
    assert TestClient(create_replay_app(tmp_path)).get(raw).content == article_html(3)
    small = create_replay_app(tmp_path, max_payload=len(article_html(3)) // 2)
    answer = TestClient(small).get(raw)
    assert answer.status_code == 404
    assert article_html(3) not in answer.content
