"""Ingest from WARC: order, idempotence, damaged files, and parallel == serial."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from archive.config.sources import parse_config
from archive.store.db import Archive
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.ingest import ingest_files, ingest_order
from crawler.reindex import rebuild

if TYPE_CHECKING:
    from pathlib import Path

CONFIG = parse_config('[[source]]\nid = "wire"\nfeeds = ["http://127.0.0.1:1/rss.xml"]\n'
                      'language = "en"\n')
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def article_html(n: int, edit: str = "") -> bytes:
    paras = "".join(
        f"<p>Paragraph {i} of story {n}: the defence ministers met in Brussels to discuss "
        f"air defence deliveries, ammunition production and the next summit agenda.{edit}</p>"
        for i in range(5))
    return (f'<html lang="en"><head><title>Story {n}</title>'
            f'<meta property="og:type" content="article">'
            f'<link rel="shortlink" href="http://127.0.0.1:1/s/{n}">'
            f'<meta property="article:published_time" content="2024-05-01T09:00:00Z">'
            f"</head><body><article><h1>Story {n} headline</h1>{paras}</article></body></html>"
            ).encode()


def write(directory: Path, pages: list[tuple[str, bytes, int]], start: datetime,
          kind: str = "article") -> Path:
    clock = iter(start + timedelta(seconds=i) for i in range(10_000))
    writer = RotatingWarcWriter(directory, "wire", host="test", clock=lambda: start)
    for url, body, status in pages:
        writer.write_exchange(Exchange(
            url=url, method="GET", request_target="/", request_headers=(),
            protocol="HTTP/1.1", status=status, reason="OK",
            headers=(("Content-Type", "text/html; charset=utf-8"),), body=body,
            fetched_at=next(clock), metadata={"source": "wire", "kind": kind}))
    path = writer.close()
    assert path is not None
    return path


def export(db_path: Path) -> list[str]:
    archive = Archive(db_path)
    try:
        return [json.dumps(row, sort_keys=True) for row in archive.export()]
    finally:
        archive.close()


def test_files_are_ingested_in_capture_time_order(tmp_path: Path) -> None:
    names = ["wire-20240501100000000-00001-h.warc.gz", "anatolia-20240501090000000-00000-h"
             ".warc.gz", "foreign.warc.gz", "wire-20240501100000000-00000-h.warc.gz"]
    ordered = sorted((tmp_path / n for n in names), key=ingest_order)
    assert [p.name for p in ordered] == [names[1], names[3], names[0], names[2]]


def test_reingest_is_a_no_op_and_edits_become_versions(tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    first = write(warcs, [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200)
                          for n in range(3)], T0)
    archive = Archive(tmp_path / "archive.db")
    report = ingest_files(archive, [first], CONFIG, workers=1)
    assert report.outcomes["wire"]["inserted"] == 3
    assert ingest_files(archive, [first], CONFIG, workers=1).files == []  # already loaded
    second = write(warcs, [("http://127.0.0.1:1/a/0.html", article_html(0, " Updated."), 200),
                           ("http://127.0.0.1:1/a/1.html", article_html(1), 200)],
                   T0 + timedelta(hours=1))
    report = ingest_files(archive, [first, second], CONFIG, workers=1)
    assert dict(report.outcomes["wire"]) == {"updated": 1, "unchanged": 1}
    record = archive.show("http://127.0.0.1:1/s/0")
    assert record is not None
    assert len(record["versions"]) == 2
    assert "Updated." not in record["versions"][0]["body"]
    archive.close()


def test_damaged_file_keeps_what_came_before(tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    path = write(warcs, [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200)
                         for n in range(4)], T0)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 5])
    archive = Archive(tmp_path / "archive.db")
    report = ingest_files(archive, [path], CONFIG, workers=1)
    assert report.errors
    assert path.name in report.errors[0]
    assert 1 <= report.total("inserted") < 4
    assert archive.resolve("http://127.0.0.1:1/a/0.html") is not None
    archive.close()


def test_junk_and_non_articles_are_counted_not_stored(tmp_path: Path) -> None:
    path = write(tmp_path / "warcs", [
        ("http://127.0.0.1:1/a/junk.html", bytes(range(256)) * 40, 200),
        ("http://127.0.0.1:1/a/empty.html", b"", 200),
        ("http://127.0.0.1:1/a/gone.html", b"<html><body>Not found</body></html>", 404),
        ("http://127.0.0.1:1/a/ok.html", article_html(9), 200),
    ], T0)
    archive = Archive(tmp_path / "archive.db")
    report = ingest_files(archive, [path], CONFIG, workers=1)
    assert dict(report.outcomes["wire"]) == {"not_article": 2, "inserted": 1}
    assert archive.stats()["captures"] == 4
    archive.close()


def test_parallel_parse_gives_the_serial_result(tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    write(warcs, [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200)
                  for n in range(40)], T0)
    write(warcs, [(f"http://127.0.0.1:1/a/{n}.html", article_html(n, " Edit."), 200)
                  for n in range(0, 40, 3)], T0 + timedelta(days=1))
    files = sorted(warcs.iterdir())
    serial, parallel = tmp_path / "serial.db", tmp_path / "parallel.db"
    for db_path, workers in ((serial, 1), (parallel, 2)):
        archive = Archive(db_path)
        ingest_files(archive, files, CONFIG, workers=workers)
        archive.close()
    assert export(serial) == export(parallel)
    assert len(export(serial)) == 40


def test_rebuild_swaps_in_a_complete_database_and_keeps_runs(tmp_path: Path) -> None:
    warcs = tmp_path / "warcs"
    write(warcs, [(f"http://127.0.0.1:1/a/{n}.html", article_html(n), 200) for n in range(3)],
          T0)
    db_path = tmp_path / "archive.db"
    archive = Archive(db_path)
    ingest_files(archive, sorted(warcs.iterdir()), CONFIG)
    archive.log_run({"source": "wire", "started": T0.isoformat(), "finished": T0.isoformat(),
                     "status": "ok", "pages": 3})
    archive.close()
    before = export(db_path)
    report = rebuild(db_path, warcs, CONFIG)
    assert report.total("inserted") == 3
    assert export(db_path) == before
    archive = Archive(db_path)
    assert [r["source"] for r in archive.runs()] == ["wire"]
    archive.close()
    assert not list(tmp_path.glob("*.reindex*"))
