"""Cluster mode: one source's crawl per job on a Redis queue, run by crawl workers on any
machine, loaded by one ingest (``[cluster] redis_url`` or ``MEDIAWATCH_REDIS_URL``).

The task queue is **RQ** (python-rq), not one written here, and not Celery or Dramatiq:

* the unit of work is one source's crawl, minutes long, a few hundred per hour: RQ's one
  job per forked work-horse process suits it exactly (a Twisted reactor runs once per
  process, so each crawl gets a fresh one), where Celery's prefork pool and Dramatiq's
  threads reuse processes;
* it needs Redis only (no second broker, no result backend to choose), stores every job
  in Redis, so an append-only Redis keeps queued jobs over a restart;
* it has what the lease needs: job timeouts, a started-job registry kept alive by worker
  heartbeats, retries of jobs whose worker died (its ``AbandonedJobError`` path), a failed
  job registry, and worker registration that ``mediawatch cluster`` lists;
* it is maintained, small, typed (``py.typed``) and pure Python.

Modules: :mod:`.lease` (one source on one worker at a time), :mod:`.enqueue` (the
coordinator: snapshot and enqueue), :mod:`.crawljob` (what a worker runs per job),
:mod:`.worker` (``mediawatch worker``: RQ workers and the abandoned-job sweep),
:mod:`.status` (``mediawatch cluster``), :mod:`.publish` (a worker's uploads to an S3 object
store, ``[cluster] warc_store``), :mod:`.ingestside` (what ``ingest --follow`` does first
each round: download from the store, close the ``.open`` files of dead workers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis

#: Redis key prefix of everything mediawatch keeps beside RQ's own keys.
PREFIX = "mediawatch"


def connect(url: str) -> Redis:
    """A Redis client for ``url`` (imported here so the CLI's light commands never load
    redis)."""
    from redis import Redis

    return Redis.from_url(url)
