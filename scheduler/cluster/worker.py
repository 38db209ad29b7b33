"""``mediawatch worker``: RQ workers that run crawl jobs, and the sweep of abandoned jobs.

``--concurrency N`` runs N RQ worker processes (one crawl each at a time, each crawl in a
work-horse process of its own), supervised by this one: a worker that exits while the
command runs (Redis restarted under it, say) is started again; SIGTERM or Ctrl-C stops
them warmly (each finishes its crawl, RQ's warm shutdown) and the command exits. Every
worker process dies with the command (``PR_SET_PDEATHSIG``), and every crawl with its
worker: ``kill -9`` of the command is a dead machine.

RQ keeps a running job in its started-job registry as long as its worker's heartbeats
come; :class:`CrawlWorker` makes that life the source's lease time, so a dead worker's job
expires from it about when its lease does. The sweep (:func:`sweep`, every half lease,
by every ``mediawatch worker``) asks RQ to clean that registry: an expired job is retried
on the queue (RQ's ``AbandonedJobError`` path; ``Retry(max=3)`` from the enqueue), and the
next worker recovers the ``.open`` files of the dead crawl and crawls the source again.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import socket
import time
from typing import TYPE_CHECKING, Any

from rq import Queue, Worker

from scheduler.cluster import connect
from scheduler.cluster.crawljob import DATA_ENV, REDIS_ENV, WARCS_ENV, die_with_parent

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from pathlib import Path

    from rq.job import Job

    from archive.config.cluster import ClusterSettings

__all__ = ["CrawlWorker", "run_workers", "sweep"]

log = logging.getLogger(__name__)


class CrawlWorker(Worker):
    """An RQ worker whose running job stays registered for one lease time per heartbeat
    (RQ's default is a minute past its monitoring interval)."""

    lease: float = 60.0

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """One lease time (the job's own, else the worker's), in whole seconds."""
        kwargs: dict[str, Any] = job.kwargs or {}
        return math.ceil(float(kwargs.get("lease") or self.lease)) + 1


def sweep(redis: Any, queue_name: str) -> int:
    """Retry (or fail, when out of retries) the jobs of dead workers; how many there were."""
    queue = Queue(queue_name, connection=redis)
    registry = queue.started_job_registry
    expired = registry.get_expired_job_ids()
    if expired:
        registry.cleanup()
    return len(expired)


def _work(url: str, queue_name: str, name: str, lease: float) -> None:
    """One RQ worker process's life (the target of each child)."""
    die_with_parent()
    # A group of its own: a Ctrl-C in the terminal reaches the supervisor only, which then
    # asks each worker once for a warm shutdown (RQ takes a second signal as "kill now").
    os.setpgrp()
    # Loaded once here, not in every work-horse: each job's fork inherits them, so a crawl
    # starts in milliseconds instead of importing Scrapy and the page objects again.
    import crawler.crawl  # noqa: F401
    import scheduler.cluster.crawljob  # noqa: F401

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker = CrawlWorker([queue_name], connection=connect(url), name=name,
                         job_monitoring_interval=max(1, int(lease / 3)),
                         worker_ttl=max(20, int(lease) + 15))
    worker.lease = lease
    worker.work(with_scheduler=False)


def run_workers(settings: ClusterSettings, data_dir: Path, warc_dir: Path, concurrency: int,
                stop: threading.Event, on_event: Callable[[str], None] = log.info) -> None:
    """Run ``concurrency`` workers until ``stop`` is set; restart any that exits."""
    assert settings.redis_url
    os.environ.update({DATA_ENV: str(data_dir.resolve()), WARCS_ENV: str(warc_dir.resolve()),
                       REDIS_ENV: settings.redis_url})
    ctx = multiprocessing.get_context("fork")
    host = socket.gethostname()
    children: dict[int, multiprocessing.process.BaseProcess] = {}

    def start(slot: int) -> None:
        name = f"{host}-{os.getpid()}-{slot}-{int(time.time())}"
        proc = ctx.Process(target=_work, args=(settings.redis_url, settings.queue, name,
                                               settings.lease), name=name, daemon=False)
        proc.start()
        children[slot] = proc
        on_event(f"worker {name} started (pid {proc.pid})")

    for slot in range(concurrency):
        start(slot)
    redis = connect(settings.redis_url)
    beat = max(1.0, settings.lease / 2)
    try:
        while not stop.wait(beat):
            try:
                if n := sweep(redis, settings.queue):
                    on_event(f"{n} job(s) of dead workers put back on the queue")
            except Exception as exc:  # Redis restarting: sweep again at the next beat
                log.warning("sweep failed: %s", exc)
            for slot, proc in list(children.items()):
                if not proc.is_alive() and not stop.is_set():
                    on_event(f"worker {proc.name} exited ({proc.exitcode}); starting another")
                    start(slot)
    finally:
        for proc in children.values():  # warm shutdown: each finishes its crawl
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
        for proc in children.values():
            proc.join()
