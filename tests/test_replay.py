"""Replay: the pure rules of archive.replay, then the Starlette app over a real archive
(WARC records written by the crawler's writer, ingested by the crawler's ingest), the
``mediawatch replay`` / ``import`` commands and the third-party WARCs of ../shared/eval."""

from __future__ import annotations

import gzip
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from archive.replay.app import create_replay_app
from archive.replay.rewrite import rewrite_css, rewrite_html, rewrite_refresh, rewrite_srcset
from archive.replay.rules import (
    Capture,
    content_security_policy,
    format_timestamp,
    nearest_capture,
    parse_timestamp,
    replay_headers,
    resolve_revisit,
    split_replay_target,
    timemap,
)
from archive.store.db import Archive
from archive.warc.importer import import_files
from archive.warc.reader import iter_responses, list_warcs
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.ingest import ingest_files
from scheduler.cli import main

EVAL_WARCS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "warcs"
T0 = datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)


def cap(url: str, when: datetime, **kw: object) -> Capture:
    return Capture(warc_file="f.warc.gz", offset=kw.pop("offset", 0), length=1,  # type: ignore[arg-type]
                   url=url, status=200, fetched_at=when, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(("ts", "expected"), [
    ("20240301120000", datetime(2024, 3, 1, 12, tzinfo=UTC)),
    ("2024", datetime(2024, 1, 1, tzinfo=UTC)),
    ("202402", datetime(2024, 2, 1, tzinfo=UTC)),
], ids=["full", "year", "month"])
def test_parse_timestamp(ts: str, expected: datetime) -> None:
    assert parse_timestamp(ts) == expected


@pytest.mark.parametrize("ts", ["", "2024x", "202401011200001"], ids=["empty", "letters", "15"])
def test_parse_timestamp_rejects(ts: str) -> None:
    with pytest.raises(ValueError, match="not a timestamp"):
        parse_timestamp(ts)


def test_nearest_capture_picks_closest_in_time() -> None:
    early = cap("http://a.test/", datetime(2024, 1, 1, tzinfo=UTC))
    late = cap("http://a.test/", datetime(2024, 6, 1, tzinfo=UTC))
    assert nearest_capture([early, late], "http://a.test/", datetime(2024, 2, 1, tzinfo=UTC)) \
        is early
    assert nearest_capture([early, late], "http://a.test/", datetime(2024, 5, 1, tzinfo=UTC)) \
        is late


def test_nearest_capture_prefers_exact_url_and_earlier_on_tie() -> None:
    exact = cap("http://a.test/?utm_source=x", datetime(2024, 1, 1, tzinfo=UTC))
    closer = cap("http://a.test/", T0)
    assert nearest_capture([exact, closer], "http://a.test/?utm_source=x", T0) is exact
    before = cap("http://a.test/", datetime(2024, 3, 1, 11, tzinfo=UTC))
    after = cap("http://a.test/", datetime(2024, 3, 1, 13, tzinfo=UTC))
    assert nearest_capture([after, before], "http://a.test/", T0) is before
    assert nearest_capture([], "http://a.test/", T0) is None


def test_resolve_revisit_by_record_id_then_url_and_digest() -> None:
    original = cap("http://a.test/", datetime(2024, 1, 1, tzinfo=UTC), record_id="<urn:1>",
                   digest="sha1:X")
    other = cap("http://a.test/", datetime(2024, 2, 1, tzinfo=UTC), record_id="<urn:2>",
                digest="sha1:X", offset=5)
    by_id = cap("http://a.test/", T0, revisit="p", refers_to="<urn:1>", digest="sha1:X")
    assert resolve_revisit(by_id, [other, original]) is original
    by_digest = cap("http://a.test/", T0, revisit="p", digest="sha1:X")
    assert resolve_revisit(by_digest, [original, other]) is other  # nearest before
    elsewhere = cap("http://b.test/", T0, revisit="p", digest="sha1:X")
    assert resolve_revisit(elsewhere, [original]) is None
    agnostic = cap("http://b.test/", T0, revisit="p", digest="sha1:X")
    assert resolve_revisit(agnostic, [original], refers_to_uri="http://a.test/") is original


def test_resolve_not_modified_revisit_without_digest() -> None:
    original = cap("http://a.test/", datetime(2024, 1, 1, tzinfo=UTC))
    later = cap("http://a.test/", datetime(2024, 9, 1, tzinfo=UTC), offset=9)
    revisit = cap("http://a.test/", T0, revisit="p")
    assert resolve_revisit(revisit, [original, later], not_modified=True) is original
    assert resolve_revisit(revisit, [original]) is None


HEADERS = [("Content-Type", "text/html; charset=windows-1251"), ("Set-Cookie", "sid=1"),
           ("set-cookie", "b=2"), ("Strict-Transport-Security", "max-age=1"),
           ("Content-Security-Policy", "script-src *"), ("Connection", "close"),
           ("Link", "<https://cdn.test/x.css>; rel=preload"), ("Server", "nginx"),
           ("Content-Encoding", "gzip"), ("Location", "/next"), ("Vary", "A"), ("Vary", "B")]


@pytest.mark.parametrize("raw", [False, True], ids=["rewritten", "id_"])
def test_replay_headers_rules(raw: bool) -> None:
    out = replay_headers(HEADERS, url="http://a.test/page", fetched_at=T0,
                         origin="http://127.0.0.1:8081", ts="20240301120000",
                         content_type="text/html; charset=utf-8", content_length=42, raw=raw)
    names = [n.lower() for n, _ in out]
    assert not any("cookie" in n for n in names)
    assert "strict-transport-security" not in names
    assert "connection" not in names
    assert ("X-Archive-Orig-Strict-Transport-Security", "max-age=1") in out
    assert ("X-Archive-Orig-Content-Security-Policy", "script-src *") in out
    assert dict(out)["Content-Type"] == "text/html; charset=utf-8"
    assert dict(out)["Content-Length"] == "42"
    assert [v for n, v in out if n == "Content-Security-Policy"] == [
        content_security_policy("http://127.0.0.1:8081")]
    assert dict(out)["Memento-Datetime"] == "Fri, 01 Mar 2024 12:00:00 GMT"
    link = dict(out)["Link"]
    assert '<http://a.test/page>; rel="original"' in link
    assert '<http://127.0.0.1:8081/replay/http://a.test/page>; rel="timegate"' in link
    assert "/replay/timemap/link/http://a.test/page>; rel=\"timemap\"" in link
    assert "content-encoding" not in names
    assert "cdn.test" not in link
    expected_location = ("/replay/20240301120000id_/http://a.test/next" if raw
                         else "/replay/20240301120000/http://a.test/next")
    assert dict(out)["Location"] == expected_location
    vary = [v for n, v in out if n == ("Vary" if raw else "X-Archive-Orig-Vary")]
    assert vary == ["A", "B"]
    assert (("Server", "nginx") in out) is raw


def test_csp_forbids_scripts_and_other_origins() -> None:
    csp = content_security_policy("http://127.0.0.1:8081")
    assert csp.startswith("sandbox;")
    assert "default-src 'self' http://127.0.0.1:8081;" in csp
    assert "script-src 'none'" in csp
    assert "allow-" not in csp


BASE = "http://news.test/world/story.html"
TS = "20240301120000"


@pytest.mark.parametrize(("snippet", "expected"), [
    ('<a href="other.html">x</a>', 'href="/replay/20240301120000/http://news.test/world/other.html"'),
    ('<a href="#top">x</a>', 'href="#top"'),
    ('<a href="mailto:a@b.test">x</a>', 'href="mailto:a@b.test"'),
    ('<img src="//cdn.test/p.jpg">', 'src="/replay/20240301120000/http://cdn.test/p.jpg"'),
    ('<img srcset="/a.jpg 1x, /b.jpg 2x">',
     'srcset="/replay/20240301120000/http://news.test/a.jpg 1x, '
     '/replay/20240301120000/http://news.test/b.jpg 2x"'),
    ('<link rel="stylesheet" href="/s.css" integrity="sha384-x" crossorigin="anonymous">',
     '<link rel="stylesheet" href="/replay/20240301120000/http://news.test/s.css">'),
    ('<script src="https://evil.test/x.js"></script>',
     'src="/replay/20240301120000/https://evil.test/x.js"'),
    ('<form action="https://evil.test/post" method="post"></form>',
     'action="/replay/20240301120000/https://evil.test/post"'),
    ('<iframe src="/embed"></iframe>', 'src="/replay/20240301120000/http://news.test/embed"'),
    ('<video poster="/p.png" src="/v.mp4"></video>',
     'poster="/replay/20240301120000/http://news.test/p.png"'),
    ('<meta http-equiv="refresh" content="5; url=/moved">',
     'content="5; url=/replay/20240301120000/http://news.test/moved"'),
    ('<div style="background: url(\'/bg.png\')">x</div>',
     "url('/replay/20240301120000/http://news.test/bg.png')"),
    ('<style>@import "/a.css"; p { background: url(/b.png) }</style>',
     '@import "/replay/20240301120000/http://news.test/a.css"; '
     "p { background: url(/replay/20240301120000/http://news.test/b.png) }"),
    ('<object data="/f.swf"></object>', 'data="/replay/20240301120000/http://news.test/f.swf"'),
], ids=["relative-link", "fragment", "mailto", "protocol-relative-img", "srcset",
        "stylesheet-integrity", "script-src", "form-action", "iframe", "video-poster",
        "meta-refresh", "inline-style", "style-block", "object-data"])
def test_rewrite_html_attribute(snippet: str, expected: str) -> None:
    out = rewrite_html(f"<html><head></head><body>{snippet}</body></html>", BASE, TS)
    assert expected in out


def test_rewrite_html_base_href_changes_base_and_is_rewritten() -> None:
    html = ('<html><head><base href="http://static.test/dir/"></head>'
            '<body><a href="p.html">x</a></body></html>')
    out = rewrite_html(html, BASE, TS)
    assert 'href="/replay/20240301120000/http://static.test/dir/"' in out
    assert 'href="/replay/20240301120000/http://static.test/dir/p.html"' in out


def test_rewrite_html_keeps_doctype_and_text() -> None:
    out = rewrite_html("<!DOCTYPE html><html><body><p>Кремль</p></body></html>", BASE, TS)
    assert out.startswith("<!DOCTYPE html>\n")
    assert "Кремль" in out
    assert not rewrite_html("<p>x</p>", BASE, TS).startswith("<!DOCTYPE")


@pytest.mark.parametrize(("func", "value", "expected"), [
    (rewrite_srcset, "a.jpg 480w,b.jpg 800w", "/replay/20240301120000/http://news.test/world/"
                                              "a.jpg 480w,b.jpg 800w"),
    (rewrite_refresh, "0;URL='http://x.test/'", "0; url=/replay/20240301120000/http://x.test/"),
    (rewrite_css, "a{b:url(data:image/png;base64,xx)}", "a{b:url(data:image/png;base64,xx)}"),
], ids=["srcset-no-space-is-one-url", "refresh-quoted", "css-data-url-kept"])
def test_rewrite_helpers(func: object, value: str, expected: str) -> None:
    assert func(value, BASE, TS) == expected  # type: ignore[operator]


@pytest.mark.parametrize(("path", "query", "expected"), [
    ("http://a.test/x", "", "http://a.test/x"),
    ("https:/a.test/x", "q=1", "https://a.test/x?q=1"),
    ("a.test/x", "", "http://a.test/x"),
], ids=["plain", "merged-slashes", "no-scheme"])
def test_split_replay_target(path: str, query: str, expected: str) -> None:
    assert split_replay_target(path, query) == expected


def test_timemap_link_format() -> None:
    caps = [cap("http://a.test/", datetime(2024, 1, 1, tzinfo=UTC)), cap("http://a.test/", T0)]
    text = timemap("http://a.test/", caps, "http://r.test")
    assert text.splitlines() == [
        '<http://a.test/>; rel="original",',
        '<http://r.test/replay/timemap/link/http://a.test/>; rel="self"; '
        'type="application/link-format",',
        '<http://r.test/replay/http://a.test/>; rel="timegate",',
        '<http://r.test/replay/20240101000000/http://a.test/>; rel="first memento"; '
        'datetime="Mon, 01 Jan 2024 00:00:00 GMT",',
        '<http://r.test/replay/20240301120000/http://a.test/>; rel="last memento"; '
        'datetime="Fri, 01 Mar 2024 12:00:00 GMT"',
    ]


# --------------------------------------------------------------------------- the app

PAGE = ("<!DOCTYPE html><html><head><title>Summit</title>"
        '<link rel="stylesheet" href="/site.css"></head><body><h1>Summit ends</h1>'
        '<a href="/next.html">next</a><img src="/missing.png"></body></html>')


def exchange(url: str, body: bytes, when: datetime, status: int = 200,
             headers: tuple[tuple[str, str], ...] = (("Content-Type", "text/html"),),
             reason: str = "OK") -> Exchange:
    return Exchange(url, "GET", "/", (), "HTTP/1.1", status, reason, headers, body, when,
                    metadata={"source": "test", "kind": "other"})


@dataclass
class Site:
    data: Path
    client: TestClient


def build_archive(data: Path) -> None:
    writer = RotatingWarcWriter(data / "warcs", "test", host="h")
    v1 = PAGE.encode()
    first = writer.write_exchange(exchange("http://news.test/a.html", v1, T0,
                                           headers=(("Content-Type", "text/html"),
                                                    ("Set-Cookie", "sid=42; Path=/"))))
    # A later fetch of the same bytes: written as an identical-payload-digest revisit.
    second = writer.write_exchange(
        exchange("http://news.test/a.html", v1, datetime(2024, 6, 1, tzinfo=UTC)),
        first.as_prior("http://news.test/a.html", T0))
    assert second.revisit is not None
    writer.write_exchange(exchange("http://news.test/a.html",
                                   PAGE.replace("Summit ends", "Summit resumes").encode(),
                                   datetime(2024, 9, 1, tzinfo=UTC)))
    writer.write_exchange(exchange("http://news.test/site.css",
                                   b"body{background:url(/bg.png)}", T0,
                                   headers=(("Content-Type", "text/css"),)))
    writer.write_exchange(exchange("http://news.test/old", b"", T0, status=301,
                                   headers=(("Location", "/a.html"),), reason="Moved"))
    writer.write_exchange(exchange("http://news.test/logo.png", b"\x89PNG\r\n\x1a\nxx", T0,
                                   headers=(("Content-Type", "image/png"),)))
    writer.close()
    with Archive(data / "archive.db") as archive:
        report = ingest_files(archive, list_warcs(data / "warcs"), None, workers=1)
    assert report.errors == []


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("replay")
    build_archive(data)
    with TestClient(create_replay_app(data), base_url="http://127.0.0.1:8081") as client:
        yield Site(data, client)


def test_app_replays_nearest_capture_rewritten(site: Site) -> None:
    r = site.client.get("/replay/20240301120000/http://news.test/a.html")
    assert r.status_code == 200
    assert "Summit ends" in r.text
    assert 'href="/replay/20240301120000/http://news.test/next.html"' in r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["memento-datetime"] == "Fri, 01 Mar 2024 12:00:00 GMT"
    assert r.headers["content-security-policy"] == content_security_policy(
        "http://127.0.0.1:8081")
    assert "set-cookie" not in r.headers
    assert not r.cookies
    later = site.client.get("/replay/20241231/http://news.test/a.html")
    assert "Summit resumes" in later.text


def test_app_resolves_revisit_to_original_payload(site: Site) -> None:
    r = site.client.get("/replay/20240601000000/http://news.test/a.html")
    assert r.status_code == 200
    assert r.headers["memento-datetime"] == "Sat, 01 Jun 2024 00:00:00 GMT"
    assert "Summit ends" in r.text


def test_app_id_mode_serves_original_bytes(site: Site) -> None:
    r = site.client.get("/replay/20240301120000id_/http://news.test/a.html")
    assert r.content == PAGE.encode()
    assert r.headers["content-type"] == "text/html"
    assert "set-cookie" not in r.headers
    assert "content-security-policy" in r.headers
    png = site.client.get("/replay/20240301120000id_/http://news.test/logo.png")
    assert png.content == b"\x89PNG\r\n\x1a\nxx"


def test_app_rewrites_css_and_redirects(site: Site) -> None:
    css = site.client.get("/replay/20240301120000/http://news.test/site.css")
    assert css.text == "body{background:url(/replay/20240301120000/http://news.test/bg.png)}"
    r = site.client.get("/replay/20240301120000/http://news.test/old", follow_redirects=False)
    assert r.status_code == 301
    assert r.headers["location"] == "/replay/20240301120000/http://news.test/a.html"


def test_app_never_captured_is_404_inside_archive(site: Site) -> None:
    r = site.client.get("/replay/20240301120000/http://news.test/missing.png")
    assert r.status_code == 404
    assert "Not in the archive" in r.text
    assert "content-security-policy" in r.headers


def test_app_lists_captures_and_timemap(site: Site) -> None:
    listing = site.client.get("/replay/*/http://news.test/a.html")
    assert listing.status_code == 200
    for ts in ("20240301120000", "20240601000000", "20240901000000"):
        assert f'href="/replay/{ts}/http://news.test/a.html"' in listing.text
        assert f'href="/replay/{ts}id_/http://news.test/a.html"' in listing.text
    assert "(revisit)" in listing.text
    tm = site.client.get("/replay/timemap/link/http://news.test/a.html")
    assert tm.headers["content-type"] == "application/link-format"
    assert tm.text.count('rel="') == 6  # original, self, timegate, 3 mementos
    gate = site.client.get("/replay/http://news.test/a.html", follow_redirects=False,
                           headers={"Accept-Datetime": "Sat, 01 Jun 2024 00:00:00 GMT"})
    assert gate.status_code == 302
    assert gate.headers["location"] == "/replay/20240601000000/http://news.test/a.html"


def test_cli_replay_prints_stored_response(site: Site) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--data", str(site.data), "replay", "http://news.test/a.html",
                                  "--at", "20240301"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("HTTP/1.1 200 OK\nContent-Type: text/html\n")
    assert "Set-Cookie: sid=42; Path=/" in result.output
    assert "Summit ends" in result.output
    raw = runner.invoke(main, ["--data", str(site.data), "replay", "http://news.test/logo.png",
                               "--raw"])
    assert raw.stdout_bytes.endswith(b"\x89PNG\r\n\x1a\nxx")
    missing = runner.invoke(main, ["--data", str(site.data), "replay", "http://nowhere.test/"])
    assert missing.exit_code == 2
    assert "not in the archive" in missing.stderr


# --------------------------------------------------------------------------- imports


def test_import_refuses_broken_files_and_keeps_archive(tmp_path: Path) -> None:
    data = tmp_path / "data"
    build_archive(data)
    good = list_warcs(data / "warcs")[0]
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(good.read_bytes()[:-200])
    bad_zip = tmp_path / "bad.wacz"
    with zipfile.ZipFile(bad_zip, "w") as zf:
        zf.writestr("datapackage.json", "{}")
    not_gzip = tmp_path / "x.warc.gz"
    not_gzip.write_bytes(gzip.compress(b"hello") + b"garbage")
    before = sorted(p.name for p in (data / "warcs").iterdir())
    result = import_files([cut, bad_zip, not_gzip], data / "warcs")
    assert result.ready == []
    assert len(result.errors) == 3
    assert all("\n" not in e for e in result.errors)
    assert result.errors[0].startswith("cut.warc.gz: ")
    assert result.errors[1] == "bad.wacz: not a WACZ (no archive/*.warc[.gz] member)"
    assert sorted(p.name for p in (data / "warcs").iterdir()) == before


def test_import_wacz_member_and_replay(tmp_path: Path) -> None:
    source = tmp_path / "source"
    build_archive(source)
    wacz = tmp_path / "site.wacz"
    with zipfile.ZipFile(wacz, "w") as zf:
        zf.writestr("archive/data.warc.gz", list_warcs(source / "warcs")[0].read_bytes())
        zf.writestr("datapackage.json", "{}")
    data = tmp_path / "data"
    result = import_files([wacz], data / "warcs")
    assert result.errors == []
    assert len(result.ready) == 1
    assert import_files([wacz], data / "warcs").ready == result.ready  # idempotent
    with Archive(data / "archive.db") as archive:
        ingest_files(archive, result.ready, None, workers=1)
    client = TestClient(create_replay_app(data))
    assert "Summit ends" in client.get("/replay/2024/http://news.test/a.html").text


def eval_files() -> list[Path]:
    if not EVAL_WARCS.is_dir():
        return []
    return sorted(p for p in EVAL_WARCS.rglob("*") if p.is_file() and p.name.endswith(
        (".warc", ".warc.gz", ".arc", ".arc.gz", ".wacz", ".bad")))


@pytest.mark.eval
def test_third_party_warcs_load_and_replay(tmp_path: Path) -> None:
    files = eval_files()
    if not files:
        pytest.skip("../shared/eval/warcs is absent")
    data = tmp_path / "data"
    result = import_files(files, data / "warcs")
    refused = {e.split(":", 1)[0] for e in result.errors}
    assert {"bad.arc", "example-bad.warc.gz.bad", "example-bad-non-chunked.warc.gz",
            "example-wrong-chunks.warc.gz", "invalid_example_1.wacz"} <= refused
    assert all("\n" not in e and "Traceback" not in e for e in result.errors)
    with Archive(data / "archive.db") as archive:
        ingest_files(archive, result.ready, None, workers=1)
    client = TestClient(create_replay_app(data))
    checked = 0
    for path in result.ready:
        first = next((s for s in iter_responses(path) if s.revisit is None
                      and "html" in s.captured.content_type), None)
        if first is None:
            continue
        ts = format_timestamp(first.captured.fetched_at)
        r = client.get(f"/replay/{ts}/{first.captured.url}", follow_redirects=False)
        assert r.status_code == first.captured.status == 200, (path.name, first.captured.url)
        assert "text/html" in r.headers["content-type"]
        checked += 1
    assert checked >= 20

