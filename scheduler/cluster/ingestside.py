"""The ingest's side of the cluster (``mediawatch ingest --follow``), run before each round.

* **Object store** (``[cluster] warc_store``): download the WARC files workers uploaded
  that the archive does not have yet into ``<data>/warcs/<worker>/``, atomically
  (:func:`archive.warc.objectstore.download_new`); the round then loads them.
* **Orphaned ``.open`` files** (shared directory): a worker that died mid-crawl left its
  file ``.open``; the next worker that crawls the source recovers it, but a source that is
  never crawled again (taken out of the config, its jobs out of retries) would keep it
  open for ever. The ingest recovers an ``.open`` file that has not changed for two lease
  times, holding the source's lease while it does (:mod:`scheduler.cluster.lease`), so it
  never races a worker that crawls the source, and loads it in the same round.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from typing import TYPE_CHECKING

from archive.store.connection import connect as connect_db
from archive.warc.cdxj import index_closed_warc
from archive.warc.repair import recover_open_file

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from archive.config.cluster import ClusterSettings

__all__ = ["before_round", "loaded_names", "orphan_source", "recover_orphans"]

log = logging.getLogger(__name__)

# "<source>-<17-digit time>-<5-digit serial>-..." or "<source>-crawlstate-<time>-...": the
# writer's names (archive.warc.writer); the source id is what comes before.
_OPEN = re.compile(r"^(?P<source>.+?)-(?:crawlstate-)?\d{17}-\d{5}-.*\.warc(\.gz)?\.open$")


def orphan_source(name: str) -> str | None:
    """The source id of an ``.open`` WARC file's name, None for any other name."""
    found = _OPEN.match(name)
    return found.group("source") if found else None


def loaded_names(db_path: Path) -> set[str]:
    """The WARC files the ingest ledger has completely (read-only; none: empty)."""
    if not db_path.is_file():
        return set()
    conn = connect_db(db_path, readonly=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM warc_files WHERE complete")}
    finally:
        conn.close()


def recover_orphans(redis: object, settings: ClusterSettings, warc_dir: Path,
                    now: float | None = None) -> list[Path]:
    """Recover the ``.open`` files under ``warc_dir`` unchanged for two lease times whose
    source's lease is free (taken while recovering); the closed paths."""
    from scheduler.cluster.lease import SourceLease

    if not warc_dir.is_dir():
        return []
    now = time.time() if now is None else now
    token = f"ingest {socket.gethostname()}-{os.getpid()}"
    closed: list[Path] = []
    for path in sorted(warc_dir.rglob("*.open"), key=lambda p: p.name):
        source = orphan_source(path.name)
        try:
            idle = now - path.stat().st_mtime
        except FileNotFoundError:  # recovered or closed meanwhile
            continue
        if source is None or idle < 2 * settings.lease:
            continue
        lease = SourceLease(redis, settings.queue, source, token,  # type: ignore[arg-type]
                            settings.lease)
        if not lease.acquire():
            continue  # a worker crawls the source: it recovers the file itself
        try:
            if path.exists():
                closed.append(recover_open_file(path, on_close=index_closed_warc))
                log.warning("recovered %s, left open by a worker that died", path.name)
        finally:
            lease.release()
    return closed


def before_round(settings: ClusterSettings, warc_dir: Path,
                 db_path: Path) -> Callable[[], None] | None:
    """What ``ingest --follow`` runs before each round in cluster mode; None without a
    Redis or an object store. Errors are logged and the round goes on (Redis or the store
    away for a while must not stop the ingest of what is there)."""
    if not (settings.enabled or settings.warc_store):
        return None
    from scheduler.cluster import connect

    redis = connect(settings.redis_url) if settings.redis_url else None
    client = None

    def step() -> None:
        nonlocal client
        if settings.warc_store:
            from archive.warc.objectstore import StoreLocation, download_new, s3_client

            try:
                client = client or s3_client()
                have = loaded_names(db_path)
                got = download_new(client, StoreLocation.parse(settings.warc_store),
                                   warc_dir, have.__contains__)
                if got:
                    log.info("downloaded %d WARC file(s) from %s", len(got),
                             settings.warc_store)
            except Exception as exc:
                log.error("object store %s: %s", settings.warc_store, exc)
        if redis is not None:
            try:
                recover_orphans(redis, settings, warc_dir)
            except Exception as exc:
                log.error("recovery of open files: %s", exc)

    return step
