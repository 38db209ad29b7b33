"""The coordinator's side: snapshot a source's crawl state and enqueue its crawl.

Whoever enqueues (``mediawatch crawl --cluster``, ``mediawatch schedule`` in cluster
mode) runs where ``archive.db`` is, opens it read-only and puts into each job what the
crawl will ask the archive (:mod:`archive.store.snapshot`), together with the text of the
sources file, so a worker needs neither the archive nor the config.

A source whose previous job is still queued or running is not enqueued again (its job
id is kept under ``mediawatch:job:<queue>:<source>``): a slow crawl never piles up jobs,
and a second snapshot never races the first crawl's state. Jobs are retried
(``Retry(max=3)``) when they fail or when their worker dies (RQ's abandoned-job path,
driven by :mod:`scheduler.cluster.worker`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from archive.store.snapshot import pack_snapshot, write_snapshot
from scheduler.cluster import PREFIX

if TYPE_CHECKING:
    from redis import Redis

    from archive.config.cluster import ClusterSettings
    from archive.config.sources import Config, Source

__all__ = ["ACTIVE", "JOB_FUNCTION", "Enqueued", "enqueue_crawls", "job_key"]

#: What a worker runs (by name: the enqueuing process never imports Scrapy).
JOB_FUNCTION = "scheduler.cluster.crawljob.crawl_source"
#: Job statuses that mean the source's crawl is still to come or under way.
ACTIVE = frozenset({"queued", "started", "scheduled", "deferred"})
RETRIES = 3


@dataclass(frozen=True, slots=True)
class Enqueued:
    """One source's outcome: the job id, or why none was made."""

    source: str
    job_id: str | None
    note: str

    def line(self) -> str:
        """What ``crawl --cluster`` prints for it."""
        return f"{self.source}: {self.note}" + (f" ({self.job_id})" if self.job_id else "")


def job_key(queue: str, source_id: str) -> str:
    """Where the id of ``source_id``'s last job is kept."""
    return f"{PREFIX}:job:{queue}:{source_id}"


def active_job(redis: Redis, queue: str, source_id: str) -> str | None:
    """The id of ``source_id``'s job that is queued or running, if any."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    raw = redis.get(job_key(queue, source_id))
    if raw is None:
        return None
    job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
    try:
        status = Job.fetch(job_id, connection=redis).get_status()
    except NoSuchJobError:
        return None
    return job_id if status is not None and str(status.value) in ACTIVE else None


def enqueue_crawls(redis: Redis, settings: ClusterSettings, config: Config,
                   sources: list[Source], db_path: Path, *, scheduled: bool = False,
                   now: datetime | None = None) -> list[Enqueued]:
    """Enqueue one crawl job per source (each with its snapshot); sources with a job
    still queued or running are left out."""
    from rq import Queue, Retry

    queue = Queue(settings.queue, connection=redis)
    config_text = Path(config.path).read_text(encoding="utf-8")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S%f")
    done: list[Enqueued] = []
    with tempfile.TemporaryDirectory(prefix="mediawatch-snapshot-") as tmp:
        for source in sources:
            if (running := active_job(redis, settings.queue, source.id)) is not None:
                done.append(Enqueued(source.id, running, "already queued or running"))
                continue
            snapshot = pack_snapshot(write_snapshot(db_path, source.id,
                                                    Path(tmp) / f"{source.id}.db"))
            job = queue.enqueue_call(
                JOB_FUNCTION, job_id=f"crawl-{source.id}-{stamp}",
                kwargs={"source_id": source.id, "config_text": config_text,
                        "config_name": Path(config.path).name, "snapshot": snapshot,
                        "scheduled": scheduled, "lease": settings.lease,
                        "queue": settings.queue},
                timeout=int(config.crawl.run_timeout) + 60, retry=Retry(max=RETRIES),
                description=f"crawl {source.id}", meta={"source": source.id},
                result_ttl=7 * 86400, failure_ttl=30 * 86400)
            redis.set(job_key(settings.queue, source.id), job.id)
            done.append(Enqueued(source.id, job.id, f"queued, {len(snapshot):,} bytes of state"))
    return done
