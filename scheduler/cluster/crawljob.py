"""What a crawl worker runs for one job: take the source's lease, crawl, let it go.

RQ runs :func:`crawl_source` in a work-horse process forked for the job, so each crawl has
a fresh Twisted reactor. The crawl is the one ``mediawatch crawl`` runs
(:func:`crawler.crawl.run_crawl`, the same Scrapy components) in the worker mode
(:mod:`crawler.components.workermode`): no ``archive.db``; the job's snapshot is the
crawl's view of the archive; WARC files go to ``<shared WARC dir>/<worker name>/`` as
``.open`` and are renamed when closed; what the crawl learned goes into a crawl-state
record beside them; the ``.open`` files a dead worker left for this source are recovered
first. With an object store (``[cluster] warc_store``) the folder is the worker's local
spool and :class:`scheduler.cluster.publish.Publisher` uploads each closed file. A job that
does not crawl (the lease held elsewhere, a back-off) sends a ``skipped`` run row in a
crawl-state file. The ingest (``mediawatch ingest --follow``) loads them all.

The worker process sets where things go in its environment (:mod:`scheduler.cluster.worker`):
``MEDIAWATCH_WORKER_DATA`` (its own data folder: config, snapshot, locks, logs) and
``MEDIAWATCH_WORKER_WARCS`` (the shared WARC directory). The horse dies with its worker
(``PR_SET_PDEATHSIG``): a worker killed with ``kill -9`` takes its crawl along, as a
machine that dies would, and its lease then expires.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.cluster import connect
from scheduler.cluster.lease import LeaseKeeper, SourceLease

if TYPE_CHECKING:
    from scheduler.cluster.publish import Publisher

__all__ = ["DATA_ENV", "WARCS_ENV", "crawl_source", "die_with_parent", "worker_name"]

log = logging.getLogger(__name__)

DATA_ENV = "MEDIAWATCH_WORKER_DATA"
WARCS_ENV = "MEDIAWATCH_WORKER_WARCS"
REDIS_ENV = "MEDIAWATCH_WORKER_REDIS"


def die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (elsewhere: no-op)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def worker_name() -> str:
    """The RQ worker's name in the horse (RQ sets ``RQ_WORKER_ID``), else host and pid."""
    return os.environ.get("RQ_WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}"


def crawl_source(source_id: str, config_text: str, config_name: str, snapshot: bytes,
                 scheduled: bool, lease: float, queue: str) -> dict[str, Any]:
    """Crawl ``source_id`` once under its lease; a summary (RQ keeps it as the result)."""
    from archive.store.snapshot import unpack_snapshot

    die_with_parent()
    data = Path(os.environ.get(DATA_ENV) or "data")
    shared = Path(os.environ.get(WARCS_ENV) or data / "warcs")
    name = worker_name()
    job_id = os.environ.get("RQ_JOB_ID", "")
    redis: Any = connect(os.environ[REDIS_ENV])
    held = SourceLease(redis, queue, source_id, f"{name} {job_id}", lease)
    # A dead worker's lease runs out within one lease time: wait that long, not longer (a
    # live holder means the source is being crawled: this job has nothing to do).
    started = datetime.now(UTC)
    if not held.wait(lease + 1):
        holder = held.holder()
        log.warning("%s: lease held by %s; not crawled", source_id, holder)
        skipped = skipped_run(source_id, started, f"lease held by {holder}", config_text,
                              config_name, data, shared / name)
        return {"source": source_id, "worker": name, "skipped": "lease held",
                "warc_files": skipped}
    keeper = LeaseKeeper(held)
    keeper.start()
    try:
        return _crawl(source_id, config_text, config_name,
                      unpack_snapshot(snapshot, data / "snapshots" / f"{source_id}.db"),
                      scheduled, data, shared, name)
    finally:
        keeper.stop()
        try:
            held.release()
        except Exception as exc:  # Redis away: the lease expires by itself
            log.warning("could not release %s: %s", held.key, exc)


def _write_config(data: Path, config_name: str, config_text: str) -> Path:
    config_path = data / "config" / config_name
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(config_text, encoding="utf-8")
    return config_path


def _publisher(store_url: str | None, folder: Path) -> Publisher | None:
    """The uploader of the crawl's files when they go to an object store (started)."""
    if not store_url:
        return None
    from scheduler.cluster.publish import Publisher

    publisher = Publisher(store_url, folder)
    publisher.start()
    return publisher


def _skipped_state(source_id: str, started: datetime, reason: str, folder: Path) -> list[str]:
    """Write a crawl-state file that holds only the ``skipped`` run row of a crawl that did
    not run (as ``mediawatch crawl`` logs one on one machine); its name."""
    from archive.store.workerstate import state_payload
    from archive.warc.crawlstate import write_crawl_state
    from crawler.figures import skipped_record

    now = datetime.now(UTC)
    run = skipped_record(source_id, started, now, reason)
    path = write_crawl_state(folder, source_id,
                             state_payload(source_id, [], None, run, [], False, now), now)
    return [path.name]


def skipped_run(source_id: str, started: datetime, reason: str, config_text: str,
                config_name: str, data: Path, folder: Path) -> list[str]:
    """A job that found its source's lease held: its ``skipped`` run row goes to the
    ingest in a crawl-state file (uploaded too when WARC files go to an object store)."""
    from archive.config.sources import load_config

    store = load_config(_write_config(data, config_name, config_text)).cluster.warc_store
    written = _skipped_state(source_id, started, reason, folder)
    if store:
        from scheduler.cluster.publish import Publisher

        Publisher(store, folder).finish()
    return written


def _crawl(source_id: str, config_text: str, config_name: str, state_db: Path,
           scheduled: bool, data: Path, shared: Path, name: str) -> dict[str, Any]:
    from archive.config.sources import load_config
    from crawler.crawl import run_crawl
    from crawler.figures import RECOVERED_STAT, SKIPPED_STAT, WARC_FILES_STAT

    config = load_config(_write_config(data, config_name, config_text))
    source = config.source(source_id)
    started = datetime.now(UTC)
    publisher = _publisher(config.cluster.warc_store, shared / name)
    try:
        results = run_crawl(
            config, [source], data, ingest=False, scheduled=scheduled,
            log_file=data / "logs" / f"worker-{started:%Y%m%d}.log",
            extra={"MEDIAWATCH_WORKER": True, "MEDIAWATCH_STATE_DB": str(state_db),
                   "MEDIAWATCH_WARC_DIR": str(shared / name),
                   "MEDIAWATCH_SHARED_WARCS": str(shared), "MEDIAWATCH_SCREENSHOTS": False})
    except BaseException:
        if publisher is not None:  # what the crawl closed still reaches the ingest
            publisher.finish()
        raise
    stats = results[0][1] if results else {}
    written = [Path(p).name for p in stats.get(WARC_FILES_STAT) or []]
    if stats.get(SKIPPED_STAT):  # back-off, low disk space: the run row still travels
        written += _skipped_state(source_id, started, str(stats[SKIPPED_STAT]),
                                  shared / name)
    failed = publisher.finish(Path(p) for p in stats.get(RECOVERED_STAT) or []) \
        if publisher is not None else []
    return {"source": source_id, "worker": name,
            "pages": int(stats.get("response_received_count", 0)),
            "warc_files": written, "skipped": stats.get(SKIPPED_STAT),
            "finish_reason": stats.get("finish_reason"),
            "not_uploaded": [p.name for p in failed]}
