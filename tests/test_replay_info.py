"""What replay says about the capture it serves: ``mediawatch replay --info`` (the record's
location and digest, a revisit and the capture it resolves to, a 304's stored status line,
how far the capture is from ``--at``), and the replay app's capture list (banner, digests, a
way back) and URL-prefix listing. On WARC records written by the crawler's writer and loaded
by its ingest; the pure helpers of :mod:`archive.replay.info` first."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from archive.replay.app import create_replay_app
from archive.replay.info import asked_period, citation, describe_gap, distance_note
from archive.replay.rules import Capture, prefix_bounds
from archive.store.db import Archive
from archive.warc.reader import iter_responses, list_warcs
from archive.warc.writer import REVISIT_NOT_MODIFIED, Exchange, RotatingWarcWriter
from archive.web.app import create_app
from crawler.ingest import ingest_files
from scheduler.cli import main
from tests.conftest import MEDIAWATCH

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

URL = "http://news.test/a.html"
PAGE = b"<html><head><title>Summit</title></head><body><h1>Summit ends</h1></body></html>"
T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
T304 = datetime(2024, 4, 1, 6, 30, 0, tzinfo=UTC)
T_SAME = datetime(2024, 9, 1, 0, 0, 0, tzinfo=UTC)
OTHERS = ["/a.html.bak", "/b/c.css", "/b/d.css", "/z.css"]


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
    for path in OTHERS:
        writer.write_exchange(Exchange(
            "http://news.test" + path, "GET", path, (), "HTTP/1.1", 200, "OK",
            (("Content-Type", "text/css"),), b"body{}", T0, metadata={"source": "test"}))
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
    full, not_modified = records(data)[:2]
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


@pytest.mark.parametrize("prefix", ["http://news.test/b/", "a", "a\U0010ffff", ""],
                         ids=["url", "letter", "max-char", "empty"])
def test_prefix_bounds_hold_exactly_the_strings_with_the_prefix(prefix: str) -> None:
    low, high = prefix_bounds(prefix)
    for text in [prefix, prefix + "x", prefix + "\U0010ffff", "b", "`", "http://news.test/c",
                 "http://news.test/b", "a\U0010ffff\U0010ffff"]:
        assert (low <= text and (high is None or text < high)) == text.startswith(prefix), text


def test_capture_list_has_banner_digests_and_a_way_back(data: Path) -> None:
    app = create_replay_app(data, ui_origin="http://127.0.0.1:8080")
    r = TestClient(app).get(f"/replay/*/{URL}")
    assert r.status_code == 200
    full, not_modified, same = records(data)[:3]
    for record in (full, not_modified, same):
        assert f"<code>{record['payload_digest']}</code>" in r.text
        assert f"<code>{record['warc_file']}@{record['offset']}</code>" in r.text
    assert "mediawatch archive" in r.text
    assert '<a href="http://127.0.0.1:8080/">&larr; mediawatch search</a>' in r.text
    assert f'href="/replay/20240901000000/{URL}">latest capture</a>' in r.text
    assert 'href="/replay/*/http://news.test/*">every captured URL under http://news.test/' \
        in r.text
    assert f'href="http://127.0.0.1:8080/replay-frame/20240401063000/{URL}"' in r.text
    # Without an interface beside it, no link leads there.
    alone = TestClient(create_replay_app(data)).get(f"/replay/*/{URL}")
    assert "8080" not in alone.text
    assert f'href="/replay/20240901000000/{URL}">latest capture</a>' in alone.text


def test_url_prefix_listing(data: Path) -> None:
    client = TestClient(create_replay_app(data))
    r = client.get("/replay/*/http://news.test/b/*")
    assert r.status_code == 200
    assert "2 URLs." in r.text
    for path in ("/b/c.css", "/b/d.css"):
        assert f'<a href="/replay/*/http://news.test{path}">http://news.test{path}</a>' \
            in r.text
    assert "z.css" not in r.text
    everything = client.get("/replay/*/http://news.test/*")
    assert "5 URLs." in everything.text
    assert (f'<a href="/replay/*/{URL}">{URL}</a></td><td>3</td>'
            f'<td><a href="/replay/20240301120000/{URL}">2024-03-01 12:00:00</a></td>'
            f'<td><a href="/replay/20240901000000/{URL}">2024-09-01 00:00:00</a>') \
        in everything.text.replace("\n", "")
    # "a.html*" is a prefix, not a URL: it takes the .bak copy too.
    assert "2 URLs." in client.get(f"/replay/*/{URL}*").text
    none = client.get("/replay/*/http://elsewhere.test/*")
    assert none.status_code == 404
    assert "No captured URL starts with http://elsewhere.test/" in none.text


def test_citation_names_title_url_time_archive_id_digest_and_permalink() -> None:
    capture = Capture(warc_file="f.warc.gz", offset=10, length=5, url=URL, status=200,
                      fetched_at=T0, digest="sha1:ABC", record_id="<urn:uuid:1>")
    assert citation(capture, "http://r.test/replay/20240301120000/" + URL, "Summit ends",
                    "a1b2c3d4e5f6") == (
        "\u201cSummit ends\u201d. http://news.test/a.html. archived capture "
        "2024-03-01T12:00:00Z (HTTP 200), mediawatch article a1b2c3d4e5f6, payload digest "
        "sha1:ABC, WARC record <urn:uuid:1>. "
        "Permalink: http://r.test/replay/20240301120000/http://news.test/a.html")


def test_frame_banner_shows_the_served_capture_digest_and_citation(data: Path) -> None:
    client = TestClient(create_app(data, data / "none.toml", "http://r.test"))
    not_modified = records(data)[1]
    # A day's timestamp: the banner names the capture replay serves, not the day asked for.
    page = client.get(f"/replay-frame/20240401/{URL}")
    assert page.status_code == 200
    assert "fetched 2024-04-01 06:30:00 UTC (HTTP 304, revisit, " \
        f"{not_modified['warc_file']}@{not_modified['offset']})" in page.text
    assert f'<code class="digest">{not_modified["payload_digest"]}</code>' in page.text
    permalink = f"http://r.test/replay/20240401063000/{URL}"
    assert f'<a href="{permalink}" target="_blank" rel="noreferrer">permalink</a>' in page.text
    cited = (f"{URL}. archived capture 2024-04-01T06:30:00Z (HTTP 304), payload digest "
             f"{not_modified['payload_digest']}, WARC record "
             f"{not_modified['record_id']}. Permalink: {permalink}")
    assert f'data-citation="{cited.replace("<", "&lt;").replace(">", "&gt;")}"' in page.text
    assert 'id="copy-citation"' in page.text
    missing = client.get("/replay-frame/2024/http://nowhere.test/")
    assert "not in the archive" in missing.text
    assert "copy-citation" not in missing.text


def test_citation_is_one_click_away_and_the_capture_list_leads_back(
        data: Path, browser: Any, free_port: Callable[[], int]) -> None:
    """In chromium against the real ``mediawatch serve``: the banner's button puts the
    citation on the clipboard, and the capture list it links to leads back to the
    interface."""
    port, replay_port = free_port(), free_port()
    proc = subprocess.Popen(
        [MEDIAWATCH, "--config", str(data / "none.toml"), "--data", str(data), "serve",
         "--port", str(port), "--replay-port", str(replay_port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ui = f"http://127.0.0.1:{port}"
    try:
        assert proc.stdout is not None
        assert "web interface" in proc.stdout.readline()
        context = browser.new_context()
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui)
        tab = context.new_page()
        tab.goto(f"{ui}/replay-frame/20240301120000/{URL}")
        tab.click("#copy-citation")
        tab.wait_for_function("document.getElementById('copy-citation').textContent "
                              "== 'Copied'")
        copied = tab.evaluate("navigator.clipboard.readText()")
        assert copied.startswith(f"{URL}. archived capture 2024-03-01T12:00:00Z (HTTP 200)")
        assert copied.endswith(
            f"Permalink: http://127.0.0.1:{replay_port}/replay/20240301120000/{URL}")
        tab.goto(f"http://127.0.0.1:{replay_port}/replay/*/{URL}")
        assert tab.locator("tbody tr").count() == 3
        tab.click("text=mediawatch search")
        assert tab.url == f"{ui}/"
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
