"""The scheduler service: the real ``mediawatch schedule`` against the sample newsroom.

End to end: several scheduled cycles then SIGTERM (valid, closed WARC files), a crawl over
its time limit stopped and logged as failed with the next cycle going ahead, a run missed
while the service was down caught up once, SIGHUP applying a changed config, and the
``schedule --list`` / ``runs`` output. Two in-process tests stand a program that crashes or
ignores SIGTERM in for the crawl, to reach the exit-code and SIGKILL paths in seconds.

Waiting is polling the run log with a generous deadline, never a timing assertion.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archive.store.db import Archive, ArchiveError
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from scheduler.service import Service, crawl_command, failure_reason

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
WARCIO = str(Path(sys.executable).with_name("warcio"))
DEADLINE = 60.0


def newsroom_sources(base_url: str, schedules: dict[str, str], crawl: str = "") -> str:
    """The newsroom's sources file with only the sources in ``schedules``, on those
    schedules, plus extra ``[crawl]`` lines."""
    head, *blocks = render_sources(base_url).split("[[source]]\n")
    kept = []
    for block in blocks:
        match = re.search(r'^id = "([^"]+)"$', block, re.M)
        assert match is not None
        if match.group(1) in schedules:
            kept.append(re.sub(r'^schedule = ".*"$', f'schedule = "{schedules[match.group(1)]}"',
                               block, flags=re.M))
    assert len(kept) == len(schedules)
    return head.replace("[crawl]\n", "[crawl]\n" + crawl) + "".join(
        "[[source]]\n" + b for b in kept)


def logged_runs(data: Path, source: str | None = None) -> list[dict[str, Any]]:
    """The run log as it is now ([] while the service is still creating the database)."""
    db = data / "archive.db"
    if not db.exists():
        return []
    try:
        archive = Archive.open_readonly(db)
    except (ArchiveError, sqlite3.OperationalError):
        return []
    try:
        return archive.runs(source)
    finally:
        archive.close()


def wait_until(condition: Callable[[], bool], what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            detail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"gave up waiting for {what}\n{detail}")
        time.sleep(0.1)


@contextmanager
def service(config: Path, data: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``mediawatch schedule`` as a subprocess; stopped (and reaped) whatever happens."""
    with open(data.parent / "service.out", "wb") as out:
        proc = subprocess.Popen(
            [MEDIAWATCH, "--config", str(config), "--data", str(data), "schedule"],
            stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(90)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    proc.send_signal(sig)
    assert proc.wait(90) == 0


def service_log(data: Path) -> str:
    return "".join(p.read_text() for p in sorted((data / "logs").glob("schedule-*.log")))


def assert_warcs_closed_and_valid(data: Path) -> None:
    assert not list(data.rglob("*.open")), "a WARC file was left open"
    warcs = sorted((data / "warcs").glob("*.warc.gz"))
    assert warcs
    for warc in warcs:
        check = subprocess.run([WARCIO, "check", str(warc)], capture_output=True, text=True,
                               check=False)
        assert check.returncode == 0, f"{warc.name}: {check.stdout}{check.stderr}"


def finished_runs(data: Path, source: str) -> list[dict[str, Any]]:
    """The runs that have ended (a crawl logs its row as ``running`` when it starts)."""
    return [r for r in logged_runs(data, source) if r["status"] != "running"]


def ok_runs(data: Path, source: str) -> list[dict[str, Any]]:
    return [r for r in logged_runs(data, source) if r["status"] == "ok"]


# --------------------------------------------------------------------------- end to end


def test_service_crawls_each_source_on_schedule_and_stops_cleanly(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "sources.toml"
    with Newsroom(slow_seconds=0.2) as newsroom:
        config.write_text(newsroom_sources(newsroom.base_url,
                                           {"northwind": "every 2s", "anatolia": "every 2s"}))
        with service(config, data) as proc:
            wait_until(lambda: all(len(ok_runs(data, s)) >= 3 for s in ("northwind", "anatolia")),
                       "three ok runs per source", data.parent / "service.out")
            stop(proc)
    for source in ("northwind", "anatolia"):
        runs = logged_runs(data, source)
        assert len([r for r in runs if r["status"] == "ok"]) >= 3
        assert runs[0]["new"] > 0  # the first run archived the outlet's stories
        # A source never overlaps itself (max_instances=1).
        for before, after in itertools.pairwise(runs):
            assert after["started"] >= before["finished"], (before, after)
        # Only a crawl cut short by the stop may have failed.
        assert all(r["extra"].get("reason") == "interrupted"
                   for r in runs if r["status"] == "failed")
    assert_warcs_closed_and_valid(data)
    text = service_log(data)
    assert "northwind: never ran: running now" in text
    assert text.rstrip().endswith("mediawatch schedule: stopped")


def test_crawl_over_run_timeout_is_stopped_logged_failed_and_next_cycle_runs(
        tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "sources.toml"
    # The slow article answers after 5 s; the crawl may run for 3 s (a whole crawl of the
    # newsroom's northwind fits in that on a loaded machine).
    with Newsroom(slow_seconds=5.0) as newsroom:
        config.write_text(newsroom_sources(newsroom.base_url, {"northwind": "every 2s"},
                                           crawl='run_timeout = "3s"\n'))
        with service(config, data) as proc:
            wait_until(lambda: any(r["status"] == "failed" for r in logged_runs(data)),
                       "a failed run", data.parent / "service.out")
            newsroom.slow_seconds = 0.1
            failed_at = next(r for r in logged_runs(data) if r["status"] == "failed")["finished"]
            wait_until(lambda: any(r["status"] == "ok" and r["started"] >= failed_at
                                   for r in logged_runs(data)),
                       "an ok run after the failed one", data.parent / "service.out")
            stop(proc)
    runs = logged_runs(data, "northwind")
    failed = [r for r in runs if r["status"] == "failed"]
    assert failed[0]["extra"]["reason"] == "timeout"
    # One row per run: the stopped crawl's own row (with its figures) is marked failed.
    assert not [r for r in runs if r["status"] == "shutdown"]
    assert len({r["started"] for r in runs}) == len(runs)
    assert Path(failed[0]["extra"]["log"]).is_file()
    assert "crawl --scheduled northwind" in Path(failed[0]["extra"]["log"]).read_text()
    assert_warcs_closed_and_valid(data)  # SIGTERM let Scrapy close the WARC file
    assert "northwind: crawl exceeded run_timeout (3s)" in service_log(data)


def test_scheduled_runs_fetch_incrementally_write_revisits_and_deliver_alerts(
        tmp_path: Path) -> None:
    """The issue's whole loop under the real service: scheduled runs, the second fetching
    no archived article (revisits instead of copies), an edit picked up as a new version,
    and the watchlist alerts delivered to a real webhook and to the Atom feed."""
    import feedparser

    from tests.test_alerts import Receiver

    data, config = tmp_path / "data", tmp_path / "sources.toml"
    lists = tmp_path / "watchlists.toml"
    with Newsroom(slow_seconds=0.2) as newsroom, Receiver() as receiver:
        lists.write_text('[[watchlist]]\nname = "geneva"\nquery = "Geneva"\n'
                         f'max_age_days = 0\nwebhook = "{receiver.url}"\n', encoding="utf-8")
        # poll_min 1s: every 2 s cycle polls the listings again.
        config.write_text(newsroom_sources(newsroom.base_url, {"northwind": "every 2s"},
                                           crawl='poll_min = "1s"\n'))
        with subprocess.Popen(
                [MEDIAWATCH, "--config", str(config), "--data", str(data), "--watchlists",
                 str(lists), "schedule"], stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT) as proc:
            try:
                wait_until(lambda: len(ok_runs(data, "northwind")) >= 2, "two ok runs")
                articles_seen = {p for _, p in newsroom.hits if p.endswith(".html")}
                newsroom.edition = 2
                wait_until(lambda: any(r["updated"] for r in ok_runs(data, "northwind")),
                           "the edit archived as a new version")
                wait_until(lambda: len(receiver.bodies) >= 2, "the update alert")
            finally:
                stop(proc)
    runs = ok_runs(data, "northwind")
    assert runs[0]["new"] > 0
    assert runs[0]["revisit_bytes"] == 0
    assert runs[1]["new"] == 0
    assert runs[1]["revisit_bytes"] > 0
    assert runs[1]["warc_bytes"] < runs[0]["warc_bytes"] / 5
    assert articles_seen  # the first run fetched the articles, later runs did not re-fetch
    geneva = "/northwind/2021/06/16/geneva-summit.html"
    assert sum(1 for _, p in newsroom.hits if p == geneva) == 2  # first fetch, the edit
    assert [(b["kind"], b["version"]) for b in receiver.bodies] == [("new", 1), ("update", 2)]
    feed = feedparser.parse((data / "alerts" / "geneva.atom").read_bytes())
    assert [e.tags[0].term for e in feed.entries] == ["update", "new"]
    assert_warcs_closed_and_valid(data)


def test_missed_run_caught_up_once_and_sighup_applies_changes(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "sources.toml"
    now = datetime.now(UTC).replace(microsecond=0)
    with Archive(data / "archive.db") as archive:
        # Down for three hours: northwind missed three hourly slots, anatolia none.
        archive.log_run({"source": "northwind", "started": now - timedelta(hours=3),
                         "finished": now - timedelta(hours=3), "status": "ok"})
        archive.log_run({"source": "anatolia", "started": now - timedelta(minutes=10),
                         "finished": now - timedelta(minutes=10), "status": "ok"})
    with Newsroom(slow_seconds=0.2) as newsroom:
        config.write_text(newsroom_sources(newsroom.base_url,
                                           {"northwind": "every 1h", "anatolia": "every 1h"}))
        with service(config, data) as proc:
            wait_until(lambda: len(finished_runs(data, "northwind")) == 2,
                       "northwind's catch-up run", data.parent / "service.out")
            # SIGHUP: northwind dropped; anatolia every 5m, so its run 10 minutes ago
            # was missed under the new schedule and runs once now.
            config.write_text(newsroom_sources(newsroom.base_url, {"anatolia": "every 5m"}))
            proc.send_signal(signal.SIGHUP)
            wait_until(lambda: len(finished_runs(data, "anatolia")) == 2,
                       "anatolia's run after SIGHUP", data.parent / "service.out")
            stop(proc, signal.SIGINT)
    northwind, anatolia = logged_runs(data, "northwind"), logged_runs(data, "anatolia")
    assert [r["status"] for r in northwind] == ["ok", "ok"]  # once, not once per slot
    assert [r["status"] for r in anatolia] == ["ok", "ok"]
    text = service_log(data)
    assert "northwind: missed the run due" in text
    due = now - timedelta(minutes=10) + timedelta(hours=1)
    assert f"anatolia: next run {due:%Y-%m-%d %H:%M:%S}Z (every 1h)" in text
    assert "northwind: removed from the config, unscheduled" in text
    assert "anatolia: missed the run due" in text


def test_schedule_list_and_runs_output(tmp_path: Path) -> None:
    data, config = tmp_path / "data", tmp_path / "sources.toml"
    config.write_text(render_sources("http://127.0.0.1:9"))  # nothing is fetched here
    now = datetime.now(UTC).replace(microsecond=0)
    ran = now - timedelta(minutes=5)
    with Archive(data / "archive.db") as archive:
        archive.log_run({"source": "northwind", "started": "2026-01-05T10:00:00Z",
                         "finished": "2026-01-05T10:00:42Z", "status": "ok", "pages": 12,
                         "new": 3, "updated": 1, "unchanged": 8, "failed": 0,
                         "warc_bytes": 4096})
        archive.log_run({"source": "northwind", "started": "2026-01-05T10:30:00Z",
                         "finished": "2026-01-05T11:30:05Z", "status": "failed",
                         "extra": {"reason": "timeout", "log": "x.log"}})
        archive.log_run({"source": "anatolia", "started": ran, "finished": ran,
                         "status": "ok"})

    def cli(*args: str) -> str:
        result = subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data),
                                 *args], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        return result.stdout

    lines = cli("schedule", "--list").splitlines()
    assert lines[0].split() == ["source", "schedule", "next_run", "last_run", "last_status",
                                "duration_s", "reason"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert rows["northwind"].split() == ["northwind", "every", "30m", "now", "(due)",
                                         "2026-01-05T10:30:00Z", "failed", "3605", "timeout"]
    assert rows["anatolia"].split() == [
        "anatolia", "every", "1h", f"{ran + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}",
        f"{ran:%Y-%m-%dT%H:%M:%SZ}", "ok", "0"]

    runs = json.loads(cli("runs", "--format", "json"))
    assert [list(r)[:13] for r in runs] == [[
        "source", "started", "finished", "status", "pages", "new", "updated", "unchanged",
        "removed", "failed", "blocked", "warc_bytes", "revisit_bytes"]] * 3
    assert runs[0] == {
        "source": "northwind", "started": "2026-01-05T10:00:00Z",
        "finished": "2026-01-05T10:00:42Z", "status": "ok", "pages": 12, "new": 3,
        "updated": 1, "unchanged": 8, "removed": None, "failed": 0, "blocked": None,
        "warc_bytes": 4096, "revisit_bytes": None, "duration_s": 42, "reason": None,
        "requisite_bytes": 0}  # a run logged without the figure (as before requisites)
    assert (runs[1]["status"], runs[1]["reason"]) == ("failed", "timeout")
    assert json.loads(cli("runs", "--source", "anatolia", "--format", "json"))[0]["started"] \
        == f"{ran:%Y-%m-%dT%H:%M:%SZ}"
    table = cli("runs", "--source", "northwind").splitlines()
    assert table[0].split()[:4] == ["source", "started", "duration_s", "status"]
    assert len(table) == 4


# --------------------------------------------------------------------------- stand-in crawls

STUB_CONFIG = """[crawl]
run_timeout = "2s"

[[source]]
id = "stub"
feeds = ["http://127.0.0.1:9/feed.xml"]
schedule = "every 1s"
"""
# Ignores SIGTERM, says it started (its pid, in a file), then hangs.
HANG = ("import os, pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "pathlib.Path(sys.argv[1], str(os.getpid())).write_text(''); time.sleep(300)")


def test_crawl_ignoring_sigterm_is_killed_at_timeout_and_at_stop(tmp_path: Path) -> None:
    config, data, marks = tmp_path / "sources.toml", tmp_path / "data", tmp_path / "started"
    config.write_text(STUB_CONFIG)
    marks.mkdir()
    svc = Service(config, data, kill_grace=0.3,
                  command=lambda sid: [sys.executable, "-c", HANG, str(marks)])
    svc.start()
    try:
        # A second crawl starts only after the first was killed (max_instances=1).
        wait_until(lambda: len(list(marks.iterdir())) >= 2, "a second stand-in crawl")
    finally:
        svc.stop()
    reasons = [r["extra"]["reason"] for r in logged_runs(data, "stub")]
    assert reasons[0] == "timeout"
    assert reasons[-1] == "interrupted"
    assert all(r["status"] == "failed" for r in logged_runs(data, "stub"))
    for mark in marks.iterdir():  # SIGKILL reached every one of them
        with pytest.raises(ProcessLookupError):
            os.kill(int(mark.name), 0)


def test_crashing_crawl_is_logged_and_the_next_cycle_runs(tmp_path: Path) -> None:
    config, data = tmp_path / "sources.toml", tmp_path / "data"
    config.write_text(STUB_CONFIG)
    svc = Service(config, data, command=lambda sid: [sys.executable, "-c", "exit(3)"])
    svc.start()
    try:
        wait_until(lambda: len(logged_runs(data, "stub")) >= 2, "two crashed runs")
    finally:
        svc.stop()
    runs = logged_runs(data, "stub")
    assert {(r["status"], r["extra"]["reason"]) for r in runs} == {("failed", "exit code 3")}


@pytest.mark.parametrize(
    ("returncode", "timed_out", "interrupted", "expected"),
    [
        pytest.param(0, False, False, None, id="finished"),
        pytest.param(0, False, True, None, id="stopped-cleanly"),
        pytest.param(0, True, False, "timeout", id="timeout-then-clean-exit"),
        pytest.param(-9, True, False, "timeout", id="timeout-killed"),
        pytest.param(2, False, False, "exit code 2", id="crash"),
        pytest.param(-11, False, False, "killed by signal 11", id="segfault"),
        pytest.param(-9, False, True, "interrupted", id="killed-at-stop"),
    ],
)
def test_failure_reason(returncode: int, timed_out: bool, interrupted: bool,
                        expected: str | None) -> None:
    assert failure_reason(returncode, timed_out=timed_out, interrupted=interrupted) == expected


def test_crawl_command_is_the_scheduled_cli_crawl() -> None:
    assert crawl_command("c.toml", "d", "tass") == [
        sys.executable, "-m", "scheduler.cli", "--config", "c.toml", "--data", "d", "crawl",
        "--scheduled", "tass"]


def test_jobs_follow_the_config_and_a_broken_file_keeps_them(tmp_path: Path) -> None:
    config, data = tmp_path / "sources.toml", tmp_path / "data"
    ran = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    with Archive(data / "archive.db") as archive:
        for source in ("stub", "other"):
            archive.log_run({"source": source, "started": ran, "finished": ran,
                             "status": "ok"})
    other = '\n[[source]]\nid = "other"\nfeeds = ["http://127.0.0.1:9/o.xml"]\n' \
            'schedule = "every 1h"\n'
    config.write_text(STUB_CONFIG.replace("every 1s", "every 1h"))
    svc = Service(config, data, command=lambda sid: [sys.executable, "-c", "pass"])
    svc.start()
    try:
        jobs = {job.id: job for job in svc.scheduler.get_jobs()}
        assert list(jobs) == ["stub"]
        assert jobs["stub"].next_run_time == ran + timedelta(hours=1)  # nothing missed
        assert (jobs["stub"].max_instances, jobs["stub"].coalesce,
                jobs["stub"].misfire_grace_time) == (1, True, 600)

        config.write_text("[[source]\n")
        svc.reload()
        assert [job.id for job in svc.scheduler.get_jobs()] == ["stub"]

        config.write_text(STUB_CONFIG.replace("every 1s", "every 2h").replace(
            "[crawl]\n", '[crawl]\nmisfire_grace = "1m"\n') + other)
        svc.reload()
        jobs = {job.id: job for job in svc.scheduler.get_jobs()}
        assert sorted(jobs) == ["other", "stub"]
        assert jobs["stub"].next_run_time == ran + timedelta(hours=2)
        assert jobs["other"].next_run_time == ran + timedelta(hours=1)
        assert jobs["stub"].misfire_grace_time == 60

        config.write_text(other)
        svc.reload()
        assert [job.id for job in svc.scheduler.get_jobs()] == ["other"]
    finally:
        svc.stop()
    assert len(logged_runs(data)) == 2  # nothing ran: no slot was due
