"""``mediawatch cluster``: the workers, the queued, running and failed crawls, and the
ingest backlog (closed WARC files in the shared directory that the ledger does not have
completely yet; with an object store, also the objects it has not downloaded and loaded),
as rows for the CLI's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from redis import Redis

__all__ = ["ClusterStatus", "cluster_status", "ingest_backlog", "store_backlog"]


@dataclass(slots=True)
class ClusterStatus:
    """What ``mediawatch cluster`` prints."""

    workers: list[dict[str, Any]] = field(default_factory=list)
    queued: list[dict[str, Any]] = field(default_factory=list)
    running: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    backlog_files: int = 0
    backlog_bytes: int = 0
    open_files: int = 0
    #: With ``[cluster] warc_store``: objects not loaded yet (files, bytes); else None.
    store_backlog: tuple[int, int] | None = None

    def as_json(self) -> dict[str, Any]:
        """Everything, JSON-able."""
        backlog = {"files": self.backlog_files, "bytes": self.backlog_bytes,
                   "open": self.open_files}
        if self.store_backlog is not None:
            backlog["store_files"], backlog["store_bytes"] = self.store_backlog
        return {"workers": self.workers, "queued": self.queued, "running": self.running,
                "failed": self.failed, "ingest_backlog": backlog}


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return ""
    seconds = int((now - (when if when.tzinfo else when.replace(tzinfo=UTC))).total_seconds())
    return f"{seconds}s ago" if seconds < 120 else f"{seconds // 60}m ago"


def _job_row(job: Any, now: datetime) -> dict[str, Any]:
    meta = job.meta or {}
    return {"job": job.id, "source": meta.get("source", ""),
            "worker": job.worker_name or "", "enqueued": _ago(job.enqueued_at, now),
            "started": _ago(job.started_at, now), "retries_left": job.retries_left,
            "error": (job.exc_info or "").strip().splitlines()[-1:] or ""}


def cluster_status(redis: Redis, queue_name: str, warc_dir: Path, db_path: Path,
                   now: datetime | None = None, failed_limit: int = 20,
                   warc_store: str | None = None) -> ClusterStatus:
    """The cluster's state now (``archive.db`` opened read-only for the backlog)."""
    from rq import Queue, Worker
    from rq.job import Job

    now = now or datetime.now(UTC)
    queue = Queue(queue_name, connection=redis)
    status = ClusterStatus()
    for worker in Worker.all(queue=queue):
        job = worker.get_current_job()
        status.workers.append({
            "worker": worker.name, "state": str(worker.get_state()),
            "source": (job.meta or {}).get("source", "") if job else "",
            "heartbeat": _ago(worker.last_heartbeat, now),
            "done": worker.successful_job_count, "failed": worker.failed_job_count})

    def rows(ids: list[str]) -> list[dict[str, Any]]:
        jobs = Job.fetch_many(ids, connection=redis)
        return [_job_row(j, now) for j in jobs if j is not None]
    status.queued = rows(queue.get_job_ids())
    status.running = rows(queue.started_job_registry.get_job_ids())
    status.failed = rows(queue.failed_job_registry.get_job_ids(desc=True)[:failed_limit])
    files, size, opened = ingest_backlog(warc_dir, db_path)
    status.backlog_files, status.backlog_bytes, status.open_files = files, size, opened
    if warc_store:
        status.store_backlog = store_backlog(warc_store, db_path)
    return status


def store_backlog(warc_store: str, db_path: Path) -> tuple[int, int]:
    """Objects of the WARC store the ledger does not have completely (count, bytes)."""
    from archive.warc.objectstore import StoreLocation, list_objects, s3_client
    from scheduler.cluster.ingestside import loaded_names

    done = loaded_names(db_path)
    sizes = [size for _, _, name, size in
             list_objects(s3_client(), StoreLocation.parse(warc_store)) if name not in done]
    return len(sizes), sum(sizes)


def ingest_backlog(warc_dir: Path, db_path: Path) -> tuple[int, int, int]:
    """Closed WARC files not completely loaded (count, bytes), and files still ``.open``."""
    from archive.store.connection import connect
    from archive.warc.reader import list_warcs

    done: set[str] = set()
    if db_path.is_file():
        conn = connect(db_path, readonly=True)
        try:
            done = {r[0] for r in conn.execute("SELECT name FROM warc_files WHERE complete")}
        finally:
            conn.close()
    pending = [p for p in list_warcs(warc_dir) if p.name not in done]
    opened = sum(1 for _ in warc_dir.rglob("*.warc.gz.open")) if warc_dir.exists() else 0
    return len(pending), sum(p.stat().st_size for p in pending), opened
