"""Source health (archive/health.py): normal volume, quiet sources, failing extraction,
failing and blocked runs, and the alerts they raise (scheduler/alerts.py)."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import feedparser
import pytest

from archive.config.watchlists import HealthTargets, Watchlists
from archive.models import Article, WarcLocation
from archive.store.db import Archive, CaptureRef
from archive.store.health import (
    Bucket,
    RunFigures,
    SourceHealth,
    assess,
    check_health,
    normal_daily_volume,
)
from scheduler.monitor.delivery import after_run
from scheduler.monitor.health import health_transitions

if TYPE_CHECKING:
    from pathlib import Path

NOW = datetime(2024, 5, 30, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def buckets(per_day: dict[int, int], source: str = "tass", *, no_body: int = 0,
            no_date: int = 0) -> list[Bucket]:
    """``per_day[k]`` articles first seen k days (plus one hour) before NOW; ``no_body`` /
    ``no_date`` of each day's articles lack a body / a date."""
    return [Bucket(source, NOW - k * DAY - timedelta(hours=1), n, min(no_body, n),
                   min(no_date, n)) for k, n in per_day.items()]


def history(days: int, per_day: int, recent: int) -> dict[int, int]:
    """``per_day`` articles on each of ``days`` past days, ``recent`` in the last 24 h."""
    return {0: recent} | {k: per_day for k in range(1, days + 1)}


def run(hours_ago: float, status: str = "ok", pages: int = 10, failed: int = 0,
        blocked: int = 0, source: str = "tass") -> RunFigures:
    return RunFigures(source, NOW - timedelta(hours=hours_ago), status, pages, failed, blocked)


def flags(health: list[SourceHealth]) -> dict[str, list[str]]:
    return {h.source: [f.kind for f in h.flags] for h in health}


def judge(per_day: dict[int, int], runs: list[RunFigures] | None = None,
          first_seen_days: int | None = None, **bucket_kw: int) -> SourceHealth:
    first = max(per_day) if first_seen_days is None else first_seen_days
    first_seen = NOW - first * DAY - timedelta(hours=1)
    total = sum(per_day.values())
    (health,) = assess({"tass": (total, first_seen)}, buckets(per_day, **bucket_kw),
                       runs if runs is not None else [run(2)], {}, NOW)
    return health


# --------------------------------------------------------------------------- volume


@pytest.mark.parametrize(("per_day", "first_seen_days", "expected"), [
    pytest.param(history(28, 10, 0), 28, 10.0, id="four-weeks-of-ten"),
    pytest.param({**history(28, 10, 0), 3: 40, 4: 0}, 28, 10.0, id="median-ignores-outliers"),
    pytest.param(history(10, 6, 0), 10, 6.0, id="ten-days-enough"),
    pytest.param(history(6, 6, 0), 6, None, id="six-days-not-enough"),
    pytest.param({1: 5, 2: 5}, 20, 0.0, id="silent-days-count-as-zero"),
])
def test_normal_daily_volume(per_day: dict[int, int], first_seen_days: int,
                             expected: float | None) -> None:
    first_seen = NOW - first_seen_days * DAY - timedelta(hours=1)
    assert normal_daily_volume(buckets(per_day), first_seen, NOW) == expected


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize(("per_day", "runs", "first_seen_days", "quiet"), [
    pytest.param(history(14, 10, 0), None, None, True, id="nothing-today"),
    pytest.param(history(14, 10, 2), None, None, True, id="far-fewer-than-normal"),
    pytest.param(history(14, 10, 3), None, None, False, id="a-slow-day"),
    pytest.param(history(14, 10, 12), None, None, False, id="normal-day"),
    pytest.param(history(5, 10, 0), None, None, False, id="not-enough-history"),
    pytest.param(history(14, 10, 0), [run(30)], None, False, id="not-crawled-in-window"),
    pytest.param(history(14, 10, 0), [], None, False, id="never-crawled"),
    pytest.param({k: 1 for k in range(3, 15)}, [run(60)], 14, True,
                 id="low-volume-window-widens-to-3-days"),
    pytest.param({k: 1 for k in range(3, 15)} | {1: 1}, [run(60)], 14, False,
                 id="low-volume-one-in-3-days-is-fine"),
    pytest.param({10: 1}, [run(2)], 20, False, id="too-sparse-to-judge"),
])
def test_quiet(per_day: dict[int, int], runs: list[RunFigures] | None,
               first_seen_days: int | None, quiet: bool) -> None:
    health = judge(per_day, runs, first_seen_days)
    assert ("quiet" in [f.kind for f in health.flags]) is quiet


def test_quiet_detail() -> None:
    (flag,) = judge(history(14, 10, 1)).flags
    assert flag.detail == "1 new article(s) in the last 24 h, normally 10"


@pytest.mark.parametrize(("recent", "before", "expected"), [
    pytest.param({"no_body": 4}, {}, "4 of 6 articles in the last 48 h have no body (0% before)",
                 id="bodies-missing"),
    pytest.param({"no_date": 6}, {}, "6 of 6 articles in the last 48 h have no published date"
                                     " (0% before)", id="dates-missing"),
    pytest.param({"no_body": 2}, {}, None, id="a-few-missing"),
    pytest.param({"no_date": 6}, {"no_date": 5}, None, id="always-without-dates"),
    pytest.param({"no_body": 6}, {"no_body": 2}, "6 of 6 articles in the last 48 h have no body"
                                                 " (40% before)", id="rising"),
])
def test_extraction(recent: dict[str, int], before: dict[str, int],
                    expected: str | None) -> None:
    per_recent = buckets({0: 6}, **recent)
    per_before = buckets({k: 5 for k in range(3, 12)}, **before)
    (health,) = assess({"tass": (51, NOW - 12 * DAY)}, per_recent + per_before, [run(1)], {},
                       NOW)
    found = [f.detail for f in health.flags if f.kind == "extraction"]
    assert found == ([expected] if expected else [])


def test_extraction_needs_enough_recent_articles() -> None:
    (health,) = assess({"tass": (4, NOW - DAY)}, buckets({0: 4}, no_body=4), [run(1)], {}, NOW)
    assert health.flags == ()


@pytest.mark.parametrize(("runs", "expected"), [
    pytest.param([run(3), run(2), run(1)], [], id="all-ok"),
    pytest.param([run(3, "failed"), run(2, "killed"), run(1, "timeout")], ["failing"],
                 id="three-failed"),
    pytest.param([run(4, "failed"), run(3, "failed"), run(2, "failed"), run(1)], [],
                 id="recovered"),
    pytest.param([run(2, "failed"), run(1, "failed")], [], id="two-failures-not-yet"),
    pytest.param([run(3, failed=10), run(2, failed=10), run(1, failed=10)], ["failing"],
                 id="every-page-failed"),
    pytest.param([run(3, failed=4), run(2, failed=4), run(1, failed=4)], [],
                 id="some-pages-failed"),
    pytest.param([run(2, blocked=6), run(1, blocked=10)], ["blocked"], id="blocked-answers"),
    pytest.param([run(2, "blocked", pages=1), run(1, "blocked", pages=1)], ["blocked"],
                 id="blocked-status"),
    pytest.param([run(2, blocked=2), run(1, blocked=2)], [], id="a-few-blocked-pages"),
    pytest.param([run(24 * 8, "failed"), run(24 * 7.5, "failed"), run(1, "failed")], [],
                 id="old-failures-out-of-window"),
])
def test_run_flags(runs: list[RunFigures], expected: list[str]) -> None:
    (health,) = assess({}, [], runs, {}, NOW)
    assert [f.kind for f in health.flags] == expected


def test_transitions_raise_once_and_resolve() -> None:
    quiet = SourceHealth("tass", 1, 10.0, 0, None, None, (judge(history(14, 10, 0)).flags))
    fine = SourceHealth("tass", 1, 10.0, 9, None, None, ())
    other = SourceHealth("nato", 1, None, 0, None, None, ())
    assert health_transitions([quiet, other], {}) == [("tass:quiet", 1, "quiet")]
    assert health_transitions([quiet], {"tass:quiet": (1, "quiet")}) == []
    assert health_transitions([fine], {"tass:quiet": (1, "quiet")}) == [
        ("tass:quiet", 2, "resolved")]
    assert health_transitions([quiet], {"tass:quiet": (2, "resolved")}) == [
        ("tass:quiet", 3, "quiet")]
    # A source not assessed this time keeps its open problem.
    assert health_transitions([other], {"tass:quiet": (1, "quiet")}) == []


# --------------------------------------------------------------------------- on an archive

_OFFSETS = itertools.count(1)


def add(archive: Archive, n: int, fetched: datetime, *, source: str = "tass",
        body: str | None = "Body text.", published: datetime | None = None) -> None:
    offset = next(_OFFSETS)
    url = f"https://{source}.example/news/{n}"
    archive.upsert(
        Article(url=url, source=source, title=f"Story {n}", body=body,
                published=published or fetched),
        CaptureRef(location=WarcLocation("w.warc.gz", offset, 10), url=url, status=200,
                   fetched_at=fetched, digest=f"sha1:{offset}", record_id=f"<urn:{offset}>",
                   kind="article", source=source))


def log_run(archive: Archive, started: datetime, source: str = "tass", status: str = "ok",
            **figures: int) -> None:
    archive.log_run({"source": source, "started": started, "finished": started,
                     "status": status, "pages": 10, **figures})


def fill(archive: Archive, days: int = 14, per_day: int = 5, source: str = "tass") -> None:
    """``per_day`` articles a day for ``days`` days before the last 24 h."""
    n = itertools.count(1)
    for day in range(1, days + 1):
        for i in range(per_day):
            add(archive, next(n), NOW - day * DAY - timedelta(hours=i + 1), source=source)


def test_check_health_on_an_archive(archive: Archive) -> None:
    fill(archive)
    fill(archive, days=3, per_day=2, source="nato")
    add(archive, 900, NOW - timedelta(hours=2), source="nato", body=None)
    log_run(archive, NOW - timedelta(hours=1))
    log_run(archive, NOW - timedelta(hours=1), source="nato")
    report = check_health(archive, NOW)
    assert [(h.source, h.articles, h.normal_daily, h.new_24h, h.last_status)
            for h in report] == [("nato", 7, None, 1, "ok"), ("tass", 70, 5.0, 0, "ok")]
    assert flags(report) == {"nato": [], "tass": ["quiet"]}


def test_failures_kept_in_run_extra_count(archive: Archive) -> None:
    # crawl.py logs its per-source figure as "failures", which lands in the extra JSON.
    for hours in (3, 2, 1):
        archive.log_run({"source": "tass", "started": NOW - timedelta(hours=hours),
                         "status": "ok", "pages": 4, "failures": 4})
    assert flags(check_health(archive, NOW)) == {"tass": ["failing"]}


class Receiver:
    """A real loopback HTTP server keeping the JSON bodies it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_health_alert_raised_once_delivered_and_resolved(archive: Archive,
                                                         tmp_path: Path) -> None:
    fill(archive)
    receiver = Receiver()
    config = Watchlists(path="w.toml", health=HealthTargets(webhook=receiver.url))
    try:
        log_run(archive, NOW - timedelta(hours=1))
        first = after_run(archive, config, tmp_path, NOW)
        log_run(archive, NOW + timedelta(hours=1))
        second = after_run(archive, config, tmp_path, NOW + timedelta(hours=2))
        for i in range(6):  # the source comes back
            add(archive, 1000 + i, NOW + timedelta(hours=2, minutes=i))
        log_run(archive, NOW + timedelta(hours=3))
        third = after_run(archive, config, tmp_path, NOW + timedelta(hours=3))
    finally:
        receiver.close()
    assert first.lines() == ["health: tass quiet raised"]
    assert second.lines() == []
    assert third.lines() == ["health: tass quiet resolved"]
    assert [(b["source"], b["problem"], b["state"], b["detail"]) for b in receiver.bodies] == [
        ("tass", "quiet", "raised", "0 new article(s) in the last 24 h, normally 5"),
        ("tass", "quiet", "resolved", "quiet problem of source tass resolved"),
    ]
    feed = feedparser.parse((tmp_path / "alerts" / "source-health.atom").read_bytes())
    assert not feed.bozo
    assert [e.title for e in feed.entries] == ["[resolved] tass: quiet", "[problem] tass: quiet"]
