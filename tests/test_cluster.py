"""The cluster mode end to end: a real redis-server, real ``mediawatch worker`` and
``mediawatch ingest --follow`` processes, the sample newsroom on 127.0.0.1 (its two
sources; :func:`sources_text` serves more newsrooms as more sources), and a
single-process crawl of the same site as the reference.

* three workers and one ingest give the archive a single-process crawl gives (the export,
  capture times aside), over two runs (the second one incremental: validators, known
  articles, an edited story), asking the newsroom for exactly what the single process asks;
  the sources are spread over the workers; no worker has an ``archive.db``;
* ``kill -9`` of a worker mid-crawl loses nothing: its source is crawled again once the
  lease expires and its ``.open`` file is recovered and loaded;
* Redis restarted mid-run (append-only file) loses no job;
* the lease itself: one holder, renewal and release by the holder only, expiry.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from archive.store.connection import connect as connect_db
from scheduler.cluster import connect
from scheduler.cluster.lease import SourceLease
from scheduler.cluster.status import ingest_backlog
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import MEDIAWATCH
from tests.redis_server import RedisServer, redis_binary
from tests.s3_server import S3Server
from tests.test_ingest_ledger import without_clusters

if TYPE_CHECKING:
    from pathlib import Path

# Generous: the CI machine is slow and shared; a wait ends as soon as its condition holds.
DEADLINE = 240.0
# Long enough that a loaded machine never loses a live crawl's lease or RQ heartbeat (either
# would start a second crawl of the source), short enough that a dead worker's job comes back.
LEASE = 8
SLOW_PAGE = "madrid-summit.html"
ENV = {k: v for k, v in os.environ.items() if k != "MEDIAWATCH_REDIS_URL"}
ENV["MEDIAWATCH_ALLOW_PRIVATE"] = "1"


def sources_text(bases: list[str], redis_url: str | None) -> str:
    """Both outlets of every newsroom (ids of the second one get a ``2``), and
    ``[cluster]`` when ``redis_url`` is given."""
    # One request at a time per host: an article listed both in a feed and on a section
    # page is then always found through the feed first (with the feed's hints, such as its
    # author), in one process as on a worker, so the two archives can be compared.
    first = render_sources(bases[0]).replace("per_domain_concurrency = 8",
                                             "per_domain_concurrency = 1")
    head, *blocks = first.split("[[source]]\n")
    text = head + "".join("[[source]]\n" + b for b in blocks)
    for n, base in enumerate(bases[1:], 2):
        for block in render_sources(base).split("[[source]]\n")[1:]:
            text += "[[source]]\n" + re.sub(r'^id = "([^"]+)"$', rf'id = "\g<1>{n}"', block,
                                             flags=re.M)
    if redis_url:
        text += f'\n[cluster]\nredis_url = "{redis_url}"\nlease = "{LEASE}s"\n'
    return text


def wait_until(condition: Callable[[], bool], what: str, logs: list[Path] | None = None,
               deadline: float = DEADLINE) -> None:
    stop = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > stop:
            detail = "\n".join(f"--- {p}\n{p.read_text(errors='replace')[-2500:]}"
                               for p in logs or [] if p.exists())
            raise AssertionError(f"gave up waiting for {what}\n{detail}")
        time.sleep(0.1)


def run(config: Path, data: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data), *args],
                            capture_output=True, text=True, timeout=900, env=env or ENV,
                            check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


RUN_SPECIFIC = ("first_seen", "last_seen", "capture_time", "warc_file", "warc_offset",
                "replay_url")


def differences(got: list[dict[str, object]], want: list[dict[str, object]]) -> list[str]:
    """Readable differences of two exports (empty when equal)."""
    if len(got) != len(want):
        return [f"{len(got)} articles, want {len(want)}"]
    return [f"{w.get('url')}: {k}: {g.get(k)!r} != {w.get(k)!r}"
            for g, w in zip(got, want, strict=True) for k in w if g.get(k) != w.get(k)]


def export(config: Path, data: Path) -> list[dict[str, object]]:
    """The archive's export without the capture times and where the capture sits (a run's
    clock and its WARC file layout, not its content; the payload digest stays compared)."""
    rows = [json.loads(line) for line in run(config, data, "export").splitlines()]
    return [{k: v for k, v in r.items() if k not in RUN_SPECIFIC} for r in rows]


@dataclass
class Newsrooms:
    rooms: list[Newsroom]
    single: Path  # sources file without [cluster]
    exports: list[list[dict[str, object]]]  # single-process archive after edition 1, 2
    hits: list[Counter[tuple[str, str]]]  # what each single-process run asked for

    def mark(self) -> list[int]:
        return [len(r.hits) for r in self.rooms]

    def since(self, mark: list[int]) -> Counter[tuple[str, str]]:
        return Counter((str(n), *h) for n, r in enumerate(self.rooms)
                       for h in r.hits[mark[n]:])

    def edition(self, value: int) -> None:
        for room in self.rooms:
            room.edition = value


@pytest.fixture(scope="module")
def newsrooms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Newsrooms]:
    """The newsroom, and the reference: a single-process crawl of edition 1, then 2."""
    redis_binary()  # skips before the reference crawl when there is no redis-server
    work = tmp_path_factory.mktemp("single")
    with Newsroom(slow_seconds=0.3) as one:
        state = Newsrooms([one], work / "sources.toml", [], [])
        state.single.write_text(sources_text([one.base_url], None))
        for edition in (1, 2):
            state.edition(edition)
            mark = state.mark()
            run(state.single, work / "data", "crawl")
            state.hits.append(state.since(mark))
            state.exports.append(export(state.single, work / "data"))
        state.edition(1)
        yield state


@dataclass
class Cluster:
    """Worker and ingest processes around one Redis and one archive folder."""

    tmp: Path
    redis: RedisServer
    config: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=lambda: dict(ENV))

    @property
    def archive(self) -> Path:
        return self.tmp / "archive"

    def log(self, name: str) -> Path:
        return self.tmp / f"{name}.log"

    def spawn(self, name: str, data: Path, *args: str) -> subprocess.Popen[bytes]:
        with open(self.log(name), "ab") as out:
            proc = subprocess.Popen(
                [MEDIAWATCH, "--config", str(self.config), "--data", str(data), *args],
                stdout=out, stderr=subprocess.STDOUT, env=self.env)
        self.procs[name] = proc
        return proc

    def worker(self, name: str, shared: bool = True) -> subprocess.Popen[bytes]:
        """``mediawatch worker`` with a data folder of its own, writing to the archive's
        WARC folder (the shared directory), or else to its own (an object store's spool)."""
        shared_dir = ("--warcs", str(self.archive / "warcs")) if shared else ()
        return self.spawn(name, self.tmp / name, "worker", *shared_dir)

    def ingest(self, *options: str) -> subprocess.Popen[bytes]:
        return self.spawn("ingest", self.archive, *options, "ingest", "--follow",
                          "--interval", "0.3")

    def workers_registered(self, n: int) -> None:
        from rq import Queue, Worker

        queue = Queue("mediawatch", connection=connect(self.redis.url))
        wait_until(lambda: len(Worker.all(queue=queue)) >= n, f"{n} workers",
                   [self.log(k) for k in self.procs])

    def enqueue(self, *ids: str) -> list[str]:
        out = run(self.config, self.archive, "crawl", "--cluster", *ids)
        return re.findall(r"\((crawl-[^)]+)\)", out)

    def wait_finished(self, jobs: list[str]) -> None:
        from rq.job import Job

        redis = connect(self.redis.url)

        def done() -> bool:
            try:
                return all(str(Job.fetch(j, connection=redis).get_status().value) == "finished"
                           for j in jobs)
            except Exception:  # Redis restarting
                return False
        wait_until(done, f"jobs {jobs}", [self.log(k) for k in self.procs])

    def wait_loaded(self, also: Callable[[], bool] = lambda: True) -> None:
        def loaded() -> bool:
            files, _, opened = ingest_backlog(self.archive / "warcs", self.archive / "archive.db")
            return files == 0 and opened == 0 and (self.archive / "archive.db").exists() \
                and also()
        wait_until(loaded, "the ingest to load every file", [self.log("ingest")])

    def runs(self) -> list[dict[str, object]]:
        return list(json.loads(run(self.config, self.archive, "runs", "--format", "json")))

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def worker_folders(self) -> set[str]:
        return {p.parent.name for p in (self.archive / "warcs").rglob("*.warc.gz")}


@pytest.fixture
def cluster(tmp_path: Path, newsrooms: Newsrooms) -> Iterator[Cluster]:
    redis = RedisServer(tmp_path / "redis").start()
    config = tmp_path / "sources.toml"
    config.write_text(sources_text([r.base_url for r in newsrooms.rooms], redis.url))
    state = Cluster(tmp_path, redis, config)
    try:
        yield state
    finally:
        state.stop_all()
        redis.stop()


def test_three_workers_and_an_ingest_give_the_single_process_archive(
        cluster: Cluster, newsrooms: Newsrooms) -> None:
    workers = [cluster.worker(f"w{n}") for n in (1, 2, 3)]
    watchlists = cluster.tmp / "watchlists.toml"
    watchlists.write_text('[[watchlist]]\nname = "s400"\nquery = "S-400"\nmax_age_days = 0\n')
    ingest = cluster.ingest("--watchlists", str(watchlists))
    cluster.workers_registered(3)
    for edition in (1, 2):
        newsrooms.edition(edition)
        mark = newsrooms.mark()
        jobs = cluster.enqueue()
        assert len(jobs) == 2
        cluster.wait_finished(jobs)
        cluster.wait_loaded()
        asked = newsrooms.since(mark)
        # The same requests as one process makes: nothing fetched twice (the one URL asked
        # twice is the 500 Scrapy retries once, in both), nothing known fetched again.
        assert asked == newsrooms.hits[edition - 1]
        assert not differences(export(cluster.config, cluster.archive),
                               newsrooms.exports[edition - 1])
        if edition == 1:
            # Two jobs on three idle workers: two workers took one each.
            assert len(cluster.worker_folders()) == 2
    newsrooms.edition(1)
    runs = json.loads(run(cluster.config, cluster.archive, "runs", "--format", "json"))
    assert sorted(r["source"] for r in runs) == ["anatolia"] * 2 + ["northwind"] * 2
    status = json.loads(run(cluster.config, cluster.archive, "cluster", "--format", "json"))
    assert len(status["workers"]) == 3
    assert (status["queued"], status["running"], status["failed"]) == ([], [], [])
    assert status["ingest_backlog"] == {"files": 0, "bytes": 0, "open": 0}
    ingest.send_signal(signal.SIGTERM)
    assert ingest.wait(DEADLINE) == 0  # a clean exit
    # The watchlist's alerts come from the ingest (workers deliver none).
    assert "alerts: s400 " in cluster.log("ingest").read_text()
    for proc in workers:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(DEADLINE) == 0
    # Workers never had an archive: none exists anywhere in their folders.
    crawled = [n for n in ("w1", "w2", "w3") if (cluster.tmp / n / "snapshots").is_dir()]
    assert len(crawled) >= 2  # the second round may have gone to the third
    for name in ("w1", "w2", "w3"):
        assert not list((cluster.tmp / name).rglob("archive.db*"))


def test_a_worker_killed_mid_crawl_loses_nothing(cluster: Cluster,
                                                  newsrooms: Newsrooms) -> None:
    room = newsrooms.rooms[0]
    room.slow_seconds = 60.0  # northwind's crawl stops at the slow page, WARC file open
    first = cluster.worker("w1")
    cluster.workers_registered(1)
    mark = len(room.hits)
    jobs = cluster.enqueue("northwind")
    wait_until(lambda: any(SLOW_PAGE in p for _, p in room.hits[mark:]), "the slow page",
               [cluster.log("w1")])
    left = list((cluster.archive / "warcs").rglob("northwind-*.warc.gz.open"))
    assert left, "the crawl has an open WARC file"
    first.send_signal(signal.SIGKILL)
    first.wait()
    room.slow_seconds = 0.3
    cluster.worker("w2")  # another machine: takes the job once the lease has expired
    cluster.wait_finished(jobs)
    assert not any(p.exists() for p in left)  # recovered by the next worker
    recovered = [p.with_name(p.name.removesuffix(".open")) for p in left]
    assert all(p.exists() for p in recovered)
    cluster.ingest()
    cluster.wait_loaded()
    with connect_db(cluster.archive / "archive.db", readonly=True) as db:
        complete = {r[0] for r in db.execute("SELECT name FROM warc_files WHERE complete")}
    assert {p.name for p in recovered} <= complete
    # Only northwind is in yet: its stories' clusters lack anatolia's copies (without_clusters).
    want = [r for r in newsrooms.exports[0] if r["source"] == "northwind"]
    assert not differences(without_clusters(export(cluster.config, cluster.archive)),
                           without_clusters(want))


def test_redis_restarted_mid_run_loses_no_job(cluster: Cluster, newsrooms: Newsrooms) -> None:
    room = newsrooms.rooms[0]
    room.slow_seconds = 3.0
    try:
        cluster.worker("w1")
        cluster.workers_registered(1)
        mark = len(room.hits)
        jobs = cluster.enqueue()  # two jobs, one worker: one waits in the queue
        wait_until(lambda: any(SLOW_PAGE in p for _, p in room.hits[mark:]),
                   "a crawl under way", [cluster.log("w1")])
        cluster.redis.restart()
        cluster.ingest()
        cluster.wait_finished(jobs)
        cluster.wait_loaded()
    finally:
        room.slow_seconds = 0.3
    assert not differences(export(cluster.config, cluster.archive), newsrooms.exports[0])


def test_workers_hand_over_warc_files_through_an_object_store(
        cluster: Cluster, newsrooms: Newsrooms) -> None:
    """``[cluster] warc_store``: workers write into a spool of their own and upload each
    closed file; the ingest downloads and loads them; the archive is the same."""
    from archive.warc.objectstore import StoreLocation, list_objects

    s3 = S3Server(cluster.tmp / "s3").start()
    try:
        s3.client().create_bucket(Bucket="desk")
        cluster.env.update(s3.env)
        cluster.config.write_text(cluster.config.read_text() + 'warc_store = "s3://desk/warcs"\n')
        workers = [cluster.worker(f"w{n}", shared=False) for n in (1, 2)]
        cluster.ingest()
        cluster.workers_registered(2)
        jobs = cluster.enqueue()
        cluster.wait_finished(jobs)
        client = s3.client()

        def all_downloaded() -> bool:
            with connect_db(cluster.archive / "archive.db", readonly=True) as db:
                done = {r[0] for r in db.execute("SELECT name FROM warc_files WHERE complete")}
            return {n for _, _, n, _ in list_objects(client, StoreLocation("desk", "warcs"))} \
                <= done
        cluster.wait_loaded(all_downloaded)
        assert not differences(export(cluster.config, cluster.archive), newsrooms.exports[0])
        objects = list(list_objects(client, StoreLocation("desk", "warcs")))
        assert {n for _, _, n, _ in objects} == \
            {p.name for p in (cluster.archive / "warcs").rglob("*.warc.gz")}
        assert len({w for _, w, _, _ in objects}) == 2  # one folder per worker that crawled
        status = json.loads(run(cluster.config, cluster.archive, "cluster", "--format", "json",
                                env=cluster.env))
        assert status["ingest_backlog"] == {"files": 0, "bytes": 0, "open": 0,
                                            "store_files": 0, "store_bytes": 0}
        for proc in workers:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(DEADLINE) == 0
        # Uploaded files leave the workers' spools; nothing ever went to a shared folder.
        for name in ("w1", "w2"):
            assert not list((cluster.tmp / name).rglob("*.warc.gz*"))
    finally:
        s3.stop()


def test_a_crawl_skipped_for_a_held_lease_logs_its_run(cluster: Cluster) -> None:
    redis = connect(cluster.redis.url)
    other = SourceLease(redis, "mediawatch", "northwind", "someone else", 600)
    assert other.acquire()
    cluster.worker("w1")
    cluster.ingest()
    cluster.workers_registered(1)
    jobs = cluster.enqueue("northwind")
    cluster.wait_finished(jobs)
    wait_until(lambda: cluster.runs() != [], "the skipped run's row", [cluster.log("ingest")])
    (row,) = cluster.runs()
    assert (row["source"], row["status"]) == ("northwind", "skipped")
    assert "lease held by someone else" in str(row["reason"])
    cluster.wait_loaded()
    assert not list((cluster.archive / "warcs").rglob("northwind-2*.warc.gz"))  # not crawled


def test_the_ingest_recovers_what_a_dead_worker_left(cluster: Cluster,
                                                     newsrooms: Newsrooms) -> None:
    """A worker killed mid-crawl whose source no worker crawls again: the ingest closes
    the ``.open`` file it left (once the source's lease is free) and loads it."""
    room = newsrooms.rooms[0]
    room.slow_seconds = 60.0
    try:
        first = cluster.worker("w1")
        cluster.workers_registered(1)
        mark = len(room.hits)
        cluster.enqueue("northwind")
        wait_until(lambda: any(SLOW_PAGE in p for _, p in room.hits[mark:]), "the slow page",
                   [cluster.log("w1")])
        left = list((cluster.archive / "warcs").rglob("northwind-*.warc.gz.open"))
        assert left, "the crawl has an open WARC file"
        first.send_signal(signal.SIGKILL)
        first.wait()
        cluster.ingest()
        cluster.wait_loaded()
    finally:
        room.slow_seconds = 0.3
    recovered = [p.with_name(p.name.removesuffix(".open")) for p in left]
    with connect_db(cluster.archive / "archive.db", readonly=True) as db:
        complete = {r[0] for r in db.execute("SELECT name FROM warc_files WHERE complete")}
        articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert {p.name for p in recovered} <= complete
    assert articles > 0  # what the dead crawl captured is in the archive


def test_schedule_enqueues_due_sources_once(cluster: Cluster) -> None:
    from rq import Queue

    queue = Queue("mediawatch", connection=connect(cluster.redis.url))
    service = cluster.spawn("schedule", cluster.archive, "schedule")
    # Neither source ever ran: both are due now, and become jobs (no worker takes them).
    wait_until(lambda: len(queue.get_job_ids()) == 2, "two queued jobs",
               [cluster.log("schedule")])
    assert sorted(j.meta["source"] for j in queue.get_jobs()) == ["anatolia", "northwind"]
    out = run(cluster.config, cluster.archive, "crawl", "--cluster", "northwind")
    assert "northwind: already queued or running" in out
    assert len(queue.get_job_ids()) == 2
    service.send_signal(signal.SIGTERM)
    assert service.wait(DEADLINE) == 0
    assert not (cluster.archive / "warcs").exists()  # nothing crawled here


def test_the_lease_has_one_holder_and_expires(tmp_path: Path) -> None:
    redis_server = RedisServer(tmp_path / "redis").start()
    try:
        redis = connect(redis_server.url)
        # Long leases for the holder rules (no clock in them), a short one for the expiry.
        mine = SourceLease(redis, "q", "northwind", "a", 600)
        theirs = SourceLease(redis, "q", "northwind", "b", 600)
        assert mine.acquire()
        assert not theirs.acquire()
        assert not theirs.renew()
        theirs.release()  # not theirs to release
        assert mine.holder() == "a"
        redis.pexpire(mine.key, 1000)
        assert mine.renew()  # its full life again
        assert redis.pttl(mine.key) > 500_000
        mine.release()
        assert mine.holder() is None
        short = SourceLease(redis, "q", "northwind", "a", 1)
        assert short.acquire()
        wait_until(lambda: short.holder() is None, "the lease to expire")
        assert not short.renew()
        assert theirs.acquire()
        short.release()
        assert theirs.holder() == "b"
        theirs.release()
        assert theirs.holder() is None
    finally:
        redis_server.stop()
