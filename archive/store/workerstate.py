"""Apply what a cluster worker's crawl learned (its crawl-state record) to the archive.

The values are those a crawl on one machine writes itself at its end
(:class:`crawler.components.state.IncrementalState`,
:class:`crawler.components.session.CrawlSession`): the listings' fetch states, the
source's health and the run's row. :func:`state_payload` turns them into the JSON of the
record (:mod:`archive.warc.crawlstate`); :func:`apply_crawl_state` writes them when the
ingest reaches that record, after the crawl's capture files (the file sorts after them).

The rule of the one-machine crawl holds: validators and last titles take effect only with
the captures they refer to, so they are applied only when the crawl finished and every
capture file it names is completely loaded (the ingest ledger); otherwise only the
``Retry-After`` marks are. Applying a record twice (a killed ingest, a ``reindex``) writes
the same states again and logs its run once.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archive.models import FetchState, SourceState
from archive.store import ledger
from archive.store.crawlstate import save_states
from archive.times import parse_utc, utc_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    from archive.store.db import Archive

__all__ = ["apply_crawl_state", "state_payload"]


def _jsonable(value: object) -> Any:
    return utc_text(value) if isinstance(value, datetime) else value


def state_payload(source: str, fetches: Iterable[FetchState], after: SourceState | None,
                  run: dict[str, Any], warc_files: Iterable[str], finished: bool,
                  now: datetime) -> dict[str, Any]:
    """The JSON of a crawl-state record."""
    return {"source": source, "finished": finished, "saved": utc_text(now),
            "warc_files": sorted(warc_files),
            "fetches": [{k: _jsonable(v) for k, v in asdict(f).items()} for f in fetches],
            "source_state": ({k: _jsonable(v) for k, v in asdict(after).items()}
                             if after is not None else None),
            "run": run}


def _time(value: object) -> datetime | None:
    return parse_utc(str(value)) if value else None


def _fetch(raw: dict[str, Any]) -> FetchState:
    return FetchState(**{**raw, "next_fetch": _time(raw.get("next_fetch"))})


def _source(raw: dict[str, Any]) -> SourceState:
    return SourceState(**{**raw, "backoff_until": _time(raw.get("backoff_until"))})


def apply_crawl_state(archive: Archive, payload: dict[str, Any]) -> int:
    """Write one crawl-state record's states and run; the number of fetch states written."""
    fetches = [_fetch(f) for f in payload.get("fetches") or []]
    loaded = set(payload.get("warc_files") or []) <= ledger.complete_files(archive)
    if not (payload.get("finished") and loaded):
        fetches = [f for f in fetches if f.digest is None]  # Retry-After marks only
    raw_source = payload.get("source_state")
    saved = _time(payload.get("saved"))
    assert saved is not None
    with archive.transaction():
        save_states(archive, fetches, _source(raw_source) if raw_source else None, saved)
        run = payload.get("run")
        if run and not _logged(archive, str(run.get("source")), str(run.get("started"))):
            archive.log_run(run)
    return len(fetches)


def _logged(archive: Archive, source: str, started: str) -> bool:
    """Whether the run of ``source`` that started at ``started`` is in the log already."""
    stamp = utc_text(parse_utc(started))
    return archive.db.execute("SELECT 1 FROM runs WHERE source = ? AND started = ?",
                              [source, stamp]).fetchone() is not None
