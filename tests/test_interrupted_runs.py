"""Runs recorded when they start: a crawl killed together with the service is still logged.

End to end with real processes: ``mediawatch schedule`` crawls the sample newsroom, whose
slow page keeps the crawl busy; the service and its crawl are then killed with SIGKILL, each
process group at once, as a cgroup kill (``systemctl kill``, an OOM kill of the unit) does.
The restarted service must see the run (no "never ran") and ``mediawatch runs`` must show
it ``failed``, reason ``interrupted``. Below it, the rule itself on real processes: a
``running`` row whose process is dead (or a zombie) is closed, a live one is not.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from archive.store.db import Archive
from archive.store.runowner import RunOwner, start_token
from scheduler.newsroom.server import Newsroom
from scheduler.runlog import run_records, schedule_listing
from scheduler.service import read_config
from tests.test_service import (
    MEDIAWATCH,
    logged_runs,
    newsroom_sources,
    service_log,
    wait_until,
)

if TYPE_CHECKING:
    from pathlib import Path

SLOW_PAGE = "madrid-summit.html"


def spawn_service(config: Path, data: Path, out: Path) -> subprocess.Popen[bytes]:
    """``mediawatch schedule`` in a process group of its own (so it can be killed whole)."""
    with open(out, "ab") as sink:
        return subprocess.Popen(
            [MEDIAWATCH, "--config", str(config), "--data", str(data), "schedule"],
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "MEDIAWATCH_ALLOW_PRIVATE": "1"})


def test_service_killed_with_its_crawl_leaves_an_interrupted_run(tmp_path: Path) -> None:
    data, config, out = tmp_path / "data", tmp_path / "sources.toml", tmp_path / "service.out"
    with Newsroom(slow_seconds=120.0) as newsroom:
        config.write_text(newsroom_sources(newsroom.base_url, {"northwind": "every 1h"}))
        proc = spawn_service(config, data, out)
        try:
            wait_until(lambda: any(SLOW_PAGE in path for _, path in newsroom.hits),
                       "the crawl to reach the slow page", out)
            match = re.search(r"northwind: crawl started \(pid (\d+)\)", out.read_text())
            assert match is not None, out.read_text()
            crawl_pid = int(match.group(1))
            # The crawl runs in a session of its own: kill both groups, back to back.
            os.killpg(proc.pid, signal.SIGKILL)
            os.killpg(crawl_pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        wait_until(lambda: start_token(crawl_pid) is None, "the crawl to be gone")
        newsroom.slow_seconds = 0.1
        before = len(service_log(data))
        restarted = spawn_service(config, data, out)
        try:
            wait_until(lambda: "northwind:" in service_log(data)[before:],
                       "the restarted service to plan northwind", out)
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert restarted.wait(90) == 0
    text = service_log(data)[before:]
    assert "never ran" not in text
    assert "was interrupted (its process is gone): logged as failed" in text
    assert "northwind: next run" in text  # within the hour after the interrupted start
    (row,) = logged_runs(data, "northwind")
    assert row["status"] == "failed"
    assert row["extra"]["reason"] == "interrupted"
    assert row["extra"]["pid"] == crawl_pid
    runs = subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data), "runs",
                           "--format", "json"], capture_output=True, text=True, check=True)
    (shown,) = json.loads(runs.stdout)
    assert (shown["source"], shown["status"], shown["reason"]) == (
        "northwind", "failed", "interrupted")


def dead_owner() -> RunOwner:
    """The owner of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    owner = RunOwner(child.pid, RunOwner.current().host, start_token(child.pid))
    assert owner.token is not None
    assert owner.alive()
    child.send_signal(signal.SIGKILL)
    child.wait()
    return owner


def test_running_rows_of_gone_processes_are_closed_live_ones_kept(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    here = RunOwner.current()
    with Archive(tmp_path / "archive.db") as archive:
        dead = archive.start_run("dead", now, dead_owner())
        live = archive.start_run("live", now)  # this process
        # The pid of this process, recorded by an earlier process that had it: gone.
        reused = archive.start_run("reused", now, RunOwner(here.pid, here.host, "x:1"))
        far_new = archive.start_run("far", now, RunOwner(1, "elsewhere", None))
        far_old = archive.start_run("far", now - timedelta(days=2),
                                    RunOwner(1, "elsewhere", None))
        assert sorted(archive.fail_interrupted_runs(now)) == sorted([dead, reused, far_old])
        assert archive.fail_interrupted_runs(now) == []  # done once
        status = {r["id"]: (r["status"], r["extra"].get("reason")) for r in archive.runs()}
        assert status[dead] == status[reused] == status[far_old] == ("failed", "interrupted")
        assert status[live] == status[far_new] == ("running", None)
        archive.finish_run(live, {"source": "live", "started": now, "finished": now,
                                  "status": "ok", "pages": 3})
        (row,) = archive.runs("live")
        assert (row["status"], row["pages"]) == ("ok", 3)
        assert "pid" not in row["extra"]  # only a running row needs its process


def test_runs_and_schedule_list_close_interrupted_runs(tmp_path: Path) -> None:
    config = tmp_path / "sources.toml"
    config.write_text(newsroom_sources("http://127.0.0.1:9", {"northwind": "every 1h"}))
    now = datetime.now(UTC).replace(microsecond=0)
    with Archive(tmp_path / "archive.db") as archive:
        archive.start_run("northwind", now - timedelta(minutes=5), dead_owner())
        (listed,) = schedule_listing(read_config(config), archive, now)
        assert (listed["last_status"], listed["reason"]) == ("failed", "interrupted")
        assert listed["next_run"] != "now (due)"  # the interrupted run counts as a start
        archive.start_run("northwind", now - timedelta(minutes=1), dead_owner())
        shown = run_records(archive, "northwind", now)
    assert [(r["status"], r["reason"]) for r in shown] == [("failed", "interrupted")] * 2
