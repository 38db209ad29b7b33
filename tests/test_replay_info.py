"""``mediawatch replay --info`` and what ``replay`` says about the capture it serves: the
record's location and digest, a revisit and the capture it resolves to, a 304's stored status
line, and how far the capture is from ``--at``. On WARC records written by the crawler's
writer and loaded by its ingest; the pure helpers of :mod:`archive.replay.info` first."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.replay.info import asked_period, describe_gap, distance_note
from archive.store.db import Archive
from archive.warc.reader import iter_responses, list_warcs
from archive.warc.writer import REVISIT_NOT_MODIFIED, Exchange, RotatingWarcWriter
from crawler.ingest import ingest_files
from scheduler.cli import main

URL = "http://news.test/a.html"
PAGE = b"<html><head><title>Summit</title></head><body><h1>Summit ends</h1></body></html>"
T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
T304 = datetime(2024, 4, 1, 6, 30, 0, tzinfo=UTC)
T_SAME = datetime(2024, 9, 1, 0, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0 seconds"), (1, "1 second"), (59, "59 seconds"), (3600, "1 hour"),
    (3 * 86400 + 4 * 3600 + 59, "3 days 4 hours"), (-90, "1 minute 30 seconds"),
], ids=["zero", "second", "seconds", "hour", "two-largest-units", "negative"])
def test_describe_gap(seconds: float, text: str) -> None:
    assert describe_gap(seconds) == text


@pytest.mark.parametrize(("value", "start", "end"), [
    ("2024", datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
    ("202412", datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
    ("20240301", datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC)),
    ("2024-03-01", datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 2, tzinfo=UTC)),
    ("2024030110", datetime(2024, 3, 1, 10, tzinfo=UTC), datetime(2024, 3, 1, 11, tzinfo=UTC)),
    ("20240301101500", datetime(2024, 3, 1, 10, 15, tzinfo=UTC),
     datetime(2024, 3, 1, 10, 15, tzinfo=UTC)),
    ("2024-03-01T10:15:00+02:00", datetime(2024, 3, 1, 8, 15, tzinfo=UTC),
     datetime(2024, 3, 1, 8, 15, tzinfo=UTC)),
], ids=["year", "month", "day", "iso-day", "hour", "instant", "iso-instant"])
def test_asked_period(value: str, start: datetime, end: datetime) -> None:
    assert asked_period(value) == (start, end)


def test_distance_note_only_when_far_outside_the_period_asked_for() -> None:
    assert distance_note("20240301", T0) is None  # inside the day asked for
    assert distance_note("20240301110000", T0) is None  # an hour is close enough
    assert distance_note("20240301105959", T0) == \
        "nearest capture is 1 hour 1 second after --at 20240301105959"
    assert distance_note("20240226080000", T0) == \
        "nearest capture is 4 days 4 hours after --at 20240226080000"
    assert distance_note("2025", T0) == "nearest capture is 305 days 12 hours before --at 2025"


def _exchange(status: int, reason: str, body: bytes, when: datetime) -> Exchange:
    return Exchange(URL, "GET", "/a.html", (), "HTTP/1.1", status, reason,
                    (("Content-Type", "text/html"),) if body else (("ETag", '"v1"'),),
                    body, when, metadata={"source": "test", "kind": "other"})


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A page captured in full, then answered 304, then fetched again unchanged (an
    identical-payload-digest revisit)."""
    data = tmp_path_factory.mktemp("info")
    writer = RotatingWarcWriter(data / "warcs", "test", host="h")
    first = writer.write_exchange(_exchange(200, "OK", PAGE, T0))
    prior = first.as_prior(URL, T0)
    assert writer.write_exchange(_exchange(304, "Not Modified", b"", T304), prior).revisit \
        == REVISIT_NOT_MODIFIED
    assert writer.write_exchange(_exchange(200, "OK", PAGE, T_SAME), prior).revisit
    writer.close()
    with Archive(data / "archive.db") as archive:
        assert ingest_files(archive, list_warcs(data / "warcs"), None, workers=1).errors == []
    return data


def replay(data: Path, *args: str) -> tuple[str, str]:
    result = CliRunner().invoke(main, ["--data", str(data), "replay", URL, *args])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def records(data: Path) -> list[dict[str, object]]:
    """Each record's expected fields, read from the WARC file itself."""
    path, = list_warcs(data / "warcs")
    return [{"url": s.captured.url, "status": s.captured.status, "warc_file": path.name,
             "offset": s.location.offset, "length": s.location.length,
             "record_id": s.captured.record_id, "payload_digest": s.digest}
            for s in iter_responses(path)]


def test_info_of_a_full_response(data: Path) -> None:
    out, err = replay(data, "--at", "20240301", "--info")
    assert err == ""
    info = json.loads(out)
    full = records(data)[0]
    assert info == {**full, "timestamp": "20240301120000", "fetched_at": "2024-03-01T12:00:00Z",
                    "status_line": "HTTP/1.1 200 OK", "revisit": None, "resolves_to": None}
    assert str(info["payload_digest"]).startswith("sha1:")


def test_info_of_a_304_revisit_names_the_record_it_resolves_to(data: Path) -> None:
    out, _ = replay(data, "--at", "20240401063000", "--info")
    info = json.loads(out)
    full, not_modified, _ = records(data)
    assert info["status"] == 304
    assert info["status_line"] == "HTTP/1.1 304 Not Modified"
    assert info["revisit"] == REVISIT_NOT_MODIFIED
    assert {k: info[k] for k in ("offset", "length", "record_id")} == \
        {k: not_modified[k] for k in ("offset", "length", "record_id")}
    assert info["resolves_to"] == {**full, "timestamp": "20240301120000",
                                   "fetched_at": "2024-03-01T12:00:00Z"}


def test_replay_of_a_304_shows_its_stored_status_line_and_the_page(data: Path) -> None:
    out, _ = replay(data, "--at", "20240401063000")
    assert out.startswith("HTTP/1.1 304 Not Modified\n")
    assert "Summit ends" in out
    same, _ = replay(data, "--at", "20240901")
    assert same.startswith("HTTP/1.1 200 OK\n")
    info = json.loads(replay(data, "--at", "20240901", "--info")[0])
    assert info["resolves_to"]["record_id"] == records(data)[0]["record_id"]


def test_at_far_from_every_capture_says_how_far(data: Path) -> None:
    out, err = replay(data, "--at", "20240226080000", "--info")
    assert err == "nearest capture is 4 days 4 hours after --at 20240226080000\n"
    assert json.loads(out)["timestamp"] == "20240301120000"
    _, err = replay(data, "--at", "2030")
    assert err == "nearest capture is 1948 days before --at 2030\n"
    _, err = replay(data)  # the latest capture, no time asked for: nothing to say
    assert err == ""
