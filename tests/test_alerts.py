"""Watchlist alerts: matching rules (archive/alerts.py) and delivery (scheduler/alerts.py)
to a real Atom file, a real HTTP receiver and a real SMTP server, all on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from aiosmtpd.controller import Controller

from archive.config.watchlists import SmtpSettings, Watchlist, Watchlists, parse_watchlists
from archive.models import Article, WarcLocation
from archive.store.db import Archive, CaptureRef
from scheduler.monitor.alerts import list_deliveries
from scheduler.monitor.delivery import RetryPolicy, after_run
from scheduler.monitor.watchlists import match_sql, record_alerts

NOW = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
_OFFSETS = itertools.count(1)


def story(n: int, title: str, body: str = "Text.", *, source: str = "sputnik",
          language: str | None = "en", tags: tuple[str, ...] = (),
          published: datetime | None = NOW - timedelta(hours=3)) -> Article:
    """Article number ``n`` (its URL is fixed by ``n``, so the same ``n`` is the same story)."""
    return Article(url=f"https://news.example/{source}/{n}", source=source, title=title,
                   lead=f"Lead of {title}.", body=body, language=language, tags=tags,
                   published=published, short_url=f"https://news.example/s/{source}{n}")


def store(archive: Archive, article: Article, fetched: datetime = NOW - timedelta(hours=1)) -> str:
    """Upsert ``article`` as captured at ``fetched``; return its article id."""
    offset = next(_OFFSETS)
    archive.upsert(article, CaptureRef(
        location=WarcLocation("crawl-1.warc.gz", offset, 100), url=article.url, status=200,
        fetched_at=fetched, digest=f"sha1:{offset}", record_id=f"<urn:uuid:{offset}>",
        kind="article", source=article.source))
    aid = archive.resolve(article.url)
    assert aid is not None
    return aid


def watchlist(query: str = "S-400", **kwargs: Any) -> Watchlist:
    """A watchlist built the way the loader builds it."""
    lines = [f"name = {kwargs.pop('name', 's400')!r}", f"query = {query!r}"]
    lines += [f"{key} = {json.dumps(value)}" for key, value in kwargs.items()]
    smtp = '[smtp]\nhost = "127.0.0.1"\nfrom = "mediawatch@example.org"\n'  # for `email`
    return parse_watchlists(smtp + "[[watchlist]]\n" + "\n".join(lines)).watchlists[0]


def kinds(alerts: list[Any]) -> list[tuple[str, int, str]]:
    return [(a.article_id, a.version, a.kind) for a in alerts]


# --------------------------------------------------------------------------- matching


def test_an_article_alerts_once_per_watchlist(archive: Archive) -> None:
    aid = store(archive, story(1, "Turkey receives S-400 batch"))
    store(archive, story(2, "Fishing quotas agreed"))
    lists = [watchlist(), watchlist("Turkey", name="turkey")]
    first = record_alerts(archive, lists, NOW)
    assert [(a.watchlist, a.article_id, a.version, a.kind) for a in first] == [
        ("s400", aid, 1, "new"), ("turkey", aid, 1, "new")]
    assert record_alerts(archive, lists, NOW + timedelta(hours=1)) == []
    # The same page fetched again unchanged is no new version.
    store(archive, story(1, "Turkey receives S-400 batch"), NOW + timedelta(hours=1))
    assert record_alerts(archive, lists, NOW + timedelta(hours=2)) == []


def test_a_new_version_that_matches_alerts_as_update(archive: Archive) -> None:
    aid = store(archive, story(1, "Turkey receives S-400 batch"))
    assert kinds(record_alerts(archive, [watchlist()], NOW)) == [(aid, 1, "new")]
    store(archive, story(1, "Turkey receives S-400 batch", "Updated: a second batch."),
          NOW + timedelta(hours=1))
    assert kinds(record_alerts(archive, [watchlist()], NOW + timedelta(hours=2))) == [
        (aid, 2, "update")]


def test_a_version_that_stops_matching_raises_nothing_and_a_later_match_is_an_update(
        archive: Archive) -> None:
    aid = store(archive, story(1, "Turkey receives S-400 batch"))
    record_alerts(archive, [watchlist()], NOW)
    store(archive, story(1, "Turkey receives air defence batch"), NOW + timedelta(hours=1))
    assert record_alerts(archive, [watchlist()], NOW + timedelta(hours=1)) == []
    store(archive, story(1, "Turkey receives S-400 batch again"), NOW + timedelta(hours=2))
    assert kinds(record_alerts(archive, [watchlist()], NOW + timedelta(hours=2))) == [
        (aid, 3, "update")]


def test_first_match_on_a_later_version_is_new(archive: Archive) -> None:
    aid = store(archive, story(1, "Air defence talks"))
    assert record_alerts(archive, [watchlist()], NOW) == []
    store(archive, story(1, "Air defence talks: S-400 on the table"), NOW + timedelta(hours=1))
    assert kinds(record_alerts(archive, [watchlist()], NOW + timedelta(hours=1))) == [
        (aid, 2, "new")]


@pytest.mark.parametrize(("fetched_ago", "published_ago", "alerts"), [
    pytest.param(timedelta(hours=1), timedelta(hours=3), True, id="fresh"),
    pytest.param(timedelta(hours=25), timedelta(hours=26), False, id="fetched-before-lookback"),
    pytest.param(timedelta(hours=1), timedelta(days=30), False, id="old-story-first-crawled-now"),
    pytest.param(timedelta(hours=1), None, True, id="no-date-first-seen-now"),
])
def test_old_articles_do_not_flood_a_new_watchlist(
        archive: Archive, fetched_ago: timedelta, published_ago: timedelta | None,
        alerts: bool) -> None:
    published = NOW - published_ago if published_ago is not None else None
    store(archive, story(1, "S-400 story", published=published), NOW - fetched_ago)
    assert bool(record_alerts(archive, [watchlist()], NOW)) is alerts


@pytest.mark.parametrize(("day", "alerts"), [
    pytest.param(datetime(2024, 5, 3, tzinfo=UTC), True, id="a-week-ago-counts-its-whole-day"),
    pytest.param(datetime(2024, 5, 2, tzinfo=UTC), False, id="eight-days-ago"),
])
def test_day_only_story_is_as_recent_as_its_day(archive: Archive, day: datetime,
                                                alerts: bool) -> None:
    """Stored as the bare day, a story dated 3 May is within a week of 10 May 12:00 (the day
    ends after the cut-off), one dated 2 May is not."""
    article = story(1, "S-400 story", published=day)
    article = dataclasses.replace(article, published_precision="day")
    store(archive, article)
    found = record_alerts(archive, [watchlist(max_age_days=7)], NOW)
    assert bool(found) is alerts


@pytest.mark.parametrize(("max_age_days", "alerts"), [
    pytest.param(7, False, id="default-week"),
    pytest.param(40, True, id="longer"),
    pytest.param(0, True, id="any-age"),
])
def test_max_age_days(archive: Archive, max_age_days: int, alerts: bool) -> None:
    store(archive, story(1, "S-400 story", published=NOW - timedelta(days=30)))
    found = record_alerts(archive, [watchlist(max_age_days=max_age_days)], NOW)
    assert bool(found) is alerts


def test_an_update_to_an_old_story_still_alerts(archive: Archive) -> None:
    old = NOW - timedelta(days=20)
    aid = store(archive, story(1, "S-400 contract", published=old), old)
    assert record_alerts(archive, [watchlist()], old + timedelta(hours=1)) != []
    store(archive, story(1, "S-400 contract cancelled", published=old), NOW - timedelta(hours=1))
    assert kinds(record_alerts(archive, [watchlist()], NOW)) == [(aid, 2, "update")]


def test_removed_articles_raise_nothing(archive: Archive) -> None:
    aid = store(archive, story(1, "S-400 story"))
    archive.db.execute("UPDATE articles SET removed_at = ? WHERE id = ?", ["2024-05-10T11:30:00Z",
                                                                           aid])
    assert record_alerts(archive, [watchlist()], NOW) == []


@pytest.mark.parametrize(("filters", "expected"), [
    pytest.param({}, [1, 2, 3, 4], id="no-filter"),
    pytest.param({"sources": ["tass"]}, [2], id="sources"),
    pytest.param({"sources": ["tass", "anadolu"]}, [2, 3], id="two-sources"),
    pytest.param({"language": "en"}, [1, 3], id="language-en-matches-en-GB"),
    pytest.param({"language": "ru"}, [2], id="language-ru"),
    pytest.param({"tags": ["defence"]}, [1, 2], id="tag-any-case"),
    pytest.param({"tags": ["Turkey", "Navy"]}, [3, 4], id="any-of-tags"),
    pytest.param({"sources": ["sputnik"], "tags": ["Navy"]}, [4], id="source-and-tag"),
])
def test_filters(archive: Archive, filters: dict[str, Any], expected: list[int]) -> None:
    ids = {
        1: store(archive, story(1, "S-400 in Syria", language="en-GB", tags=("Defence",))),
        2: store(archive, story(2, "С-400 S-400 поставки", source="tass", language="ru",
                                tags=("DEFENCE",))),
        3: store(archive, story(3, "S-400 row", source="anadolu", tags=("Turkey",))),
        4: store(archive, story(4, "S-400 at sea", language=None, tags=("Navy",))),
    }
    found = {a.article_id for a in record_alerts(archive, [watchlist(**filters)], NOW)}
    assert found == {ids[n] for n in expected}


def test_match_sql_binds_every_value() -> None:
    sql, params = match_sql(watchlist(sources=["tass"], tags=["x'); DROP TABLE alerts; --"]),
                            NOW)
    assert "DROP" not in sql
    assert params["tag0"] == "x'); drop table alerts; --"
    assert params["since"] == "2024-05-09T12:00:00Z"


# --------------------------------------------------------------------------- receivers


class Receiver:
    """A real HTTP server on 127.0.0.1 recording JSON POSTs; answers ``statuses`` in turn,
    then 200."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mailbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = closed_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


def config(**kwargs: Any) -> Watchlists:
    """A Watchlists value with one S-400 watchlist (kwargs: its delivery keys)."""
    smtp = kwargs.pop("smtp", None)
    return Watchlists(path="w.toml", watchlists=(watchlist(**kwargs),), smtp=smtp)


def no_sleep(slept: list[float]) -> Any:
    return slept.append


# --------------------------------------------------------------------------- delivery


def test_atom_feed_has_the_alerts_newest_first(archive: Archive, tmp_path: Path) -> None:
    aid1 = store(archive, story(1, "Turkey receives S-400 batch"))
    summary = after_run(archive, config(), tmp_path, NOW)
    assert summary.matches["s400"] == {"new": 1}
    assert summary.lines() == ["alerts: s400 1 new -> atom"]
    # Matched in the same run, entries follow the fetch order: the newest capture first.
    store(archive, story(1, "Turkey receives S-400 batch", "Second batch."),
          NOW - timedelta(minutes=10))
    aid2 = store(archive, story(2, "India tests S-400", published=NOW), NOW)
    after_run(archive, config(), tmp_path, NOW + timedelta(minutes=30))
    path = tmp_path / "alerts" / "s400.atom"
    feed = feedparser.parse(path.read_bytes())
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [(e.title, e.link) for e in feed.entries] == [
        ("[new] India tests S-400", "https://news.example/sputnik/2"),
        ("[update, version 2] Turkey receives S-400 batch", "https://news.example/sputnik/1"),
        ("[new] Turkey receives S-400 batch", "https://news.example/sputnik/1"),
    ]
    assert [e.tags[0].term for e in feed.entries] == ["new", "update", "new"]
    assert feed.entries[0].id == f"urn:mediawatch:alert:s400:{aid2}:1"
    assert feed.entries[1].id == f"urn:mediawatch:alert:s400:{aid1}:2"
    assert feed.entries[0].summary == "Lead of India tests S-400."
    assert [p.name for p in (tmp_path / "alerts").iterdir() if p.suffix == ".tmp"] == []
    logged = list_deliveries(archive, "s400")
    assert [(d["channel"], d["status"], d["kind"]) for d in logged] == [
        ("atom", "delivered", "new"), ("atom", "delivered", "update"),
        ("atom", "delivered", "new")]


def test_atom_entry_of_a_day_only_story_has_no_invented_time(archive: Archive,
                                                             tmp_path: Path) -> None:
    """Atom's published is a date-time: a story known only by its day leaves it out rather
    than claim midnight; the feed stays valid."""
    day = dataclasses.replace(story(1, "Turkey receives S-400 batch",
                                    published=datetime(2024, 5, 10, tzinfo=UTC)),
                              published_precision="day")
    store(archive, day)
    store(archive, story(2, "India tests S-400", published=NOW), NOW)
    after_run(archive, config(), tmp_path, NOW + timedelta(minutes=30))
    text = (tmp_path / "alerts" / "s400.atom").read_text()
    feed = feedparser.parse(text.encode())
    assert not feed.bozo, feed.get("bozo_exception")
    published = {e.title: e.get("published") for e in feed.entries}
    assert published == {"[new] India tests S-400": "2024-05-10T12:00:00Z",
                         "[new] Turkey receives S-400 batch": None}
    assert "T00:00:00" not in text


def test_health_feed_is_written_even_when_empty(archive: Archive, tmp_path: Path) -> None:
    after_run(archive, Watchlists(path="w.toml"), tmp_path, NOW)
    feed = feedparser.parse((tmp_path / "alerts" / "source-health.atom").read_bytes())
    assert not feed.bozo
    assert feed.entries == []


def test_webhook_receives_the_alert_as_json(archive: Archive, tmp_path: Path) -> None:
    from scheduler.monitor.links import write_serve_origins

    aid = store(archive, story(1, "Turkey receives S-400 batch", tags=("Defence",)))
    write_serve_origins(tmp_path, "http://127.0.0.1:8080", "http://127.0.0.1:8081")
    with Receiver() as receiver:
        summary = after_run(archive, config(webhook=receiver.url), tmp_path, NOW)
    assert receiver.bodies == [{
        "watchlist": "s400", "kind": "new", "id": aid, "version": 1,
        "url": "https://news.example/sputnik/1", "short_url": "https://news.example/s/sputnik1",
        "title": "Turkey receives S-400 batch", "source": "sputnik",
        "published": "2024-05-10T09:00:00Z", "language": "en",
        "lead": "Lead of Turkey receives S-400 batch.",
        "snippet": "Lead of Turkey receives S-400 batch.", "matched_at": "2024-05-10T12:00:00Z",
        "archive_url": f"http://127.0.0.1:8080/articles/{aid}#versions",
        "capture_url": "http://127.0.0.1:8081/replay/20240510110000/"
                       "https://news.example/sputnik/1",
    }]
    assert summary.lines() == ["alerts: s400 1 new -> atom, webhook"]
    webhook = [d for d in list_deliveries(archive) if d["channel"] == "webhook"]
    assert [(d["status"], d["attempts"], d["target"]) for d in webhook] == [
        ("delivered", 1, receiver.url)]


def test_webhook_answering_500_is_retried_with_backoff(archive: Archive, tmp_path: Path) -> None:
    store(archive, story(1, "S-400 batch"))
    slept: list[float] = []
    with Receiver([500, 503]) as receiver:
        after_run(archive, config(webhook=receiver.url), tmp_path, NOW,
                  retry=RetryPolicy(tries=3, backoff=2.0), sleep=no_sleep(slept))
    assert len(receiver.bodies) == 3
    assert slept == [2.0, 4.0]
    logged = sorted((d for d in list_deliveries(archive) if d["channel"] == "webhook"),
                    key=lambda d: d["attempts"])
    assert [(d["status"], d["attempts"]) for d in logged] == [
        ("failed", 1), ("failed", 2), ("delivered", 3)]
    assert "HTTP Error 500" in logged[0]["error"]


def test_failed_webhook_is_retried_on_later_runs_then_given_up(archive: Archive,
                                                               tmp_path: Path) -> None:
    store(archive, story(1, "S-400 batch"))
    store(archive, story(2, "S-400 second story"))
    url = f"http://127.0.0.1:{closed_port()}/hook"
    retry = RetryPolicy(tries=2, max_attempts=3, backoff=0.5)
    slept: list[float] = []
    summary = after_run(archive, config(webhook=url), tmp_path, NOW, retry=retry,
                        sleep=no_sleep(slept))
    assert summary.lines() == [
        "alerts: s400 2 new -> atom, webhook (failed: webhook; retried next run)"]
    # The first alert used its two tries; the second waits: the target is down.
    assert summary.count("s400", "webhook", "failed") == 2
    assert slept == [0.5]
    # Run 2: the first alert's last attempt; runs 3 and 4: the second alert's three.
    for hours in (1, 2, 3):
        after_run(archive, config(webhook=url), tmp_path, NOW + timedelta(hours=hours),
                  retry=retry, sleep=no_sleep(slept))
    rows = [d for d in list_deliveries(archive) if d["channel"] == "webhook"]
    by_alert: dict[str, list[tuple[int, str]]] = {}
    for d in sorted(rows, key=lambda d: d["attempts"]):
        by_alert.setdefault(d["article"], []).append((d["attempts"], d["status"]))
    assert sorted(by_alert.values()) == [
        [(1, "failed"), (2, "failed"), (3, "gave_up")],
        [(1, "failed"), (2, "failed"), (3, "gave_up")],
    ]
    assert all("Connection refused" in d["error"] for d in rows)
    # Given up: later runs leave them alone, and the receiver coming back changes nothing.
    with Receiver() as receiver:
        after_run(archive, config(webhook=receiver.url.replace("/hook", "/other")), tmp_path,
                  NOW + timedelta(hours=4), retry=retry, sleep=no_sleep(slept))
        after_run(archive, config(webhook=url), tmp_path, NOW + timedelta(hours=5),
                  retry=retry, sleep=no_sleep(slept))
    assert len(receiver.bodies) == 2  # a new target gets the pending alerts once


def test_failed_delivery_succeeds_on_a_later_run(archive: Archive, tmp_path: Path) -> None:
    store(archive, story(1, "S-400 batch"))
    with Receiver([500, 500]) as receiver:
        after_run(archive, config(webhook=receiver.url), tmp_path, NOW,
                  retry=RetryPolicy(tries=2), sleep=no_sleep([]))
        assert len(receiver.bodies) == 2
        after_run(archive, config(webhook=receiver.url), tmp_path, NOW + timedelta(hours=1),
                  retry=RetryPolicy(tries=2), sleep=no_sleep([]))
        after_run(archive, config(webhook=receiver.url), tmp_path, NOW + timedelta(hours=2),
                  retry=RetryPolicy(tries=2), sleep=no_sleep([]))
    assert len(receiver.bodies) == 3
    statuses = [d["status"] for d in list_deliveries(archive) if d["channel"] == "webhook"]
    assert sorted(statuses) == ["delivered", "failed", "failed"]


def test_email_reaches_a_local_smtp_server(archive: Archive, tmp_path: Path,
                                           smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    store(archive, story(1, "Turkey receives S-400 batch"))
    store(archive, story(2, "India tests S-400"))
    smtp = SmtpSettings(host="127.0.0.1", port=port, sender="mediawatch@example.org")
    summary = after_run(archive, config(email="analyst@example.org", smtp=smtp), tmp_path, NOW)
    assert summary.lines() == ["alerts: s400 2 new -> atom, email"]
    assert len(mailbox.messages) == 1
    envelope = mailbox.messages[0]
    assert envelope.rcpt_tos == ["analyst@example.org"]
    message = message_from_bytes(envelope.content)
    assert message["Subject"] == "mediawatch s400: 2 new"
    body = message.get_payload(decode=True).decode().replace("\r\n", "\n")
    assert "[new] Turkey receives S-400 batch\nhttps://news.example/sputnik/1" in body
    assert "[new] India tests S-400" in body
    emails = [d for d in list_deliveries(archive) if d["channel"] == "email"]
    assert [(d["status"], d["attempts"], d["target"]) for d in emails] == [
        ("delivered", 1, "analyst@example.org")] * 2
    after_run(archive, config(email="analyst@example.org", smtp=smtp), tmp_path,
              NOW + timedelta(hours=1))
    assert len(mailbox.messages) == 1


def test_unreachable_smtp_server_is_logged_not_raised(archive: Archive, tmp_path: Path) -> None:
    store(archive, story(1, "S-400 batch"))
    smtp = SmtpSettings(host="127.0.0.1", port=closed_port(), sender="mediawatch@example.org")
    summary = after_run(archive, config(email="a@example.org", smtp=smtp), tmp_path, NOW,
                        retry=RetryPolicy(tries=1), sleep=no_sleep([]))
    assert summary.count("s400", "email", "failed") == 1
    (row,) = [d for d in list_deliveries(archive) if d["channel"] == "email"]
    assert row["status"] == "failed"
    assert "SMTP 127.0.0.1" in row["error"]


# --------------------------------------------------------------------------- CLI


def cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    from click.testing import CliRunner

    from scheduler.cli import main

    root = Path(__file__).resolve().parents[1]
    result = CliRunner().invoke(main, ["--config", str(root / "config" / "sources.toml"),
                                       "--data", str(tmp_path), *args])
    return result.exit_code, result.output


def test_alerts_command_lists_deliveries(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        aid = store(archive, story(1, "Turkey receives S-400 batch"))
        after_run(archive, config(), tmp_path, NOW)
    code, out = cli(tmp_path, "alerts", "--watchlist", "s400", "--format", "json")
    assert code == 0
    (row,) = json.loads(out)
    assert (row["watchlist"], row["article"], row["kind"], row["channel"], row["status"],
            row["attempts"], row["time"]) == ("s400", aid, "new", "atom", "delivered", 1,
                                              "2024-05-10T12:00:00Z")
    code, out = cli(tmp_path, "alerts", "--watchlist", "other")
    assert (code, out) == (0, "no alerts delivered\n")
    code, out = cli(tmp_path, "alerts")
    assert out.splitlines()[0].split() == ["time", "watchlist", "article", "title", "kind",
                                           "channel", "status", "attempts"]


def test_sources_command_shows_every_configured_source(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        store(archive, story(1, "S-400", source="tass"), datetime.now(UTC))
    code, out = cli(tmp_path, "sources", "--format", "json")
    assert code == 0
    rows = {row["source"]: row for row in json.loads(out)}
    assert "sputnik" in rows
    assert rows["sputnik"]["articles"] == 0
    assert (rows["tass"]["articles"], rows["tass"]["new_24h"], rows["tass"]["flags"]) == (
        1, 1, [])


def test_watchlists_option_and_environment(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.config import ConfigError
    from scheduler.cli import Context, main
    from scheduler.monitor.delivery import alert_lines

    monkeypatch.chdir(tmp_path)  # no config/watchlists.toml here: no watchlists, no alerts
    assert not Context("sources.toml", str(tmp_path)).watchlists().configured
    assert alert_lines(tmp_path, None, NOW) == []
    with pytest.raises(ConfigError, match=r"absent\.toml: no such file"):
        Context("sources.toml", str(tmp_path), "absent.toml").watchlists()
    monkeypatch.setenv("MEDIAWATCH_WATCHLISTS", "from-env.toml")
    assert main.make_context("mediawatch", ["alerts"]).params["watchlists_path"] == (
        "from-env.toml")
    assert main.make_context("mediawatch", ["--watchlists", "w.toml", "alerts"]).params[
        "watchlists_path"] == "w.toml"


def test_bad_watchlists_file_after_a_crawl_is_a_warning(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    from scheduler.monitor.delivery import alert_lines

    bad = tmp_path / "w.toml"
    bad.write_text('[[watchlist]]\nname = "x"\n', encoding="utf-8")
    assert alert_lines(tmp_path, str(bad), NOW) == []
    assert "alerts skipped: " in capsys.readouterr().err


def test_crawl_delivers_watchlist_alerts_end_to_end(tmp_path: Path) -> None:
    """`mediawatch crawl` of the sample newsroom, twice (a story is edited in between):
    matches go to the Atom feed and to a real webhook, the edit as an update."""
    import subprocess
    import sys

    from scheduler.newsroom.server import Newsroom
    from scheduler.newsroom.sources import render_sources

    root = Path(__file__).resolve().parents[1]
    data = tmp_path / "data"
    with Newsroom() as newsroom, Receiver() as receiver:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        lists = tmp_path / "watchlists.toml"
        lists.write_text(  # the newsroom's stories are years old: no age limit
            '[[watchlist]]\nname = "geneva"\nquery = "Geneva"\nmax_age_days = 0\n'
            f'webhook = "{receiver.url}"\n', encoding="utf-8")
        outputs = []
        for edition in (1, 2):
            newsroom.edition = edition
            result = subprocess.run(
                [sys.executable, "-m", "scheduler.cli", "--config", str(sources), "--data",
                 str(data), "--watchlists", str(lists), "crawl", "northwind"],
                cwd=root, capture_output=True, text=True, timeout=120, check=False)
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
    assert "alerts: geneva 1 new -> atom, webhook" in outputs[0]
    assert "alerts: geneva 1 update -> atom, webhook" in outputs[1]
    assert [(b["kind"], b["version"], b["source"]) for b in receiver.bodies] == [
        ("new", 1, "northwind"), ("update", 2, "northwind")]
    feed = feedparser.parse((data / "alerts" / "geneva.atom").read_bytes())
    assert [e.tags[0].term for e in feed.entries] == ["update", "new"]
    assert feed.entries[0].link == receiver.bodies[1]["url"]


def test_watchlist_edits_kinds_filter_updates_since_the_last_alert(archive: Archive) -> None:
    numbers = watchlist(edits=["number"])
    body = "Officials said 14 S-400 launchers arrived."
    aid = store(archive, story(1, "S-400 deliveries", body), NOW - timedelta(hours=3))
    assert kinds(record_alerts(archive, [numbers], NOW - timedelta(hours=3))) == [(aid, 1, "new")]
    # a wording edit: no update alert for a watchlist asking for numbers
    store(archive, story(1, "S-400 deliveries", body.replace("arrived", "landed")),
          NOW - timedelta(hours=2))
    assert record_alerts(archive, [numbers], NOW - timedelta(hours=2)) == []
    # a number edit: compared with v1 (the version last alerted), it has a number change
    store(archive, story(1, "S-400 deliveries", body.replace("arrived", "landed")
                         .replace("14", "16")), NOW - timedelta(hours=1))
    assert kinds(record_alerts(archive, [numbers], NOW)) == [(aid, 3, "update")]
