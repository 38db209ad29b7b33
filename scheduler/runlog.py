"""Views of the run log (the ``runs`` table) for ``mediawatch runs``, ``schedule --list`` and
the web UI's sources page.

``mediawatch runs`` and ``schedule --list`` first mark the ``running`` rows whose process is
gone ``failed`` / ``interrupted`` (:meth:`~archive.store.db.Archive.fail_interrupted_runs`),
so a crawl killed with the service shows as what it is, not as still running.

Pure functions over the rows :meth:`archive.store.db.Archive.runs` returns (times as stored, ISO
8601 UTC text; ``extra`` parsed). Two writers add rows: the crawl subprocess (its figures,
status ``ok`` / ``skipped`` / Scrapy's finish reason) and the service (status ``failed``
with ``extra.reason`` when a crawl timed out, crashed, was killed or was interrupted).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from archive.config.files import ConfigError
from archive.times import parse_utc, utc_text
from scheduler.timing import plan_start

if TYPE_CHECKING:
    from pathlib import Path

    from archive.config.sources import Config
    from archive.store.db import Archive

RUN_FIELDS = ("source", "started", "finished", "status", "pages", "new", "updated",
              "unchanged", "removed", "failed", "blocked", "warc_bytes", "revisit_bytes")
RUN_TABLE_COLUMNS = ("source", "started", "duration_s", "status", "pages", "new", "updated",
                     "unchanged", "removed", "failed", "blocked", "warc_bytes", "reason")
SCHEDULE_COLUMNS = ("source", "schedule", "next_run", "last_run", "last_status",
                    "duration_s", "reason")


def parse_time(value: object) -> datetime | None:
    """A stored run time (``2026-11-29T12:00:00Z``) as an aware datetime; None stays None."""
    if not isinstance(value, str) or not value:
        return None
    return parse_utc(value)


def duration_s(row: Mapping[str, Any]) -> int | None:
    """Whole seconds from ``started`` to ``finished`` (None while unknown)."""
    started, finished = parse_time(row.get("started")), parse_time(row.get("finished"))
    if started is None or finished is None:
        return None
    return int((finished - started).total_seconds())


def run_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One run for output: :data:`RUN_FIELDS` first, then ``duration_s`` and ``reason``."""
    extra = row.get("extra") or {}
    record = {key: row.get(key) for key in RUN_FIELDS}
    record["duration_s"] = duration_s(row)
    record["reason"] = extra.get("reason") if isinstance(extra, Mapping) else None
    # Page requisites' WARC bytes (crawler/figures.py), kept in extra: 0 for older runs.
    record["requisite_bytes"] = (extra.get("requisite_bytes") if isinstance(extra, Mapping)
                                 else None) or 0
    return record


def last_started(rows: Iterable[Mapping[str, Any]]) -> datetime | None:
    """When the latest run of these rows started: what the catch-up rule looks at."""
    times = [t for t in (parse_time(r.get("started")) for r in rows) if t is not None]
    return max(times, default=None)


def last_result(rows: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The row that ended last.

    By end, not start: when the service stops a crawl that overran its time limit, the
    crawl may still log its own row (started a moment after the service's), and the
    service's ``failed`` row, written after the process exited, is the final word.
    """
    if not rows:
        return None
    return max(rows, key=lambda r: (r.get("finished") or r.get("started") or "",
                                    r.get("id") or 0))


def schedule_rows(config: Config, runs_by_source: Mapping[str, Sequence[Mapping[str, Any]]],
                  now: datetime) -> list[dict[str, Any]]:
    """``schedule --list``: each configured source with its schedule, when it runs next
    (by the catch-up rule, as if the service started ``now``), its last run and result."""
    out = []
    for src in config.sources:
        rows = runs_by_source.get(src.id, ())
        plan = plan_start(src.schedule, last_started(rows), now)
        last = last_result(rows)
        out.append({
            "source": src.id,
            "schedule": src.schedule,
            "next_run": "now (due)" if plan.run_now else _text(plan.next_run),
            "last_run": last.get("started") if last else None,
            "last_status": last.get("status") if last else None,
            "duration_s": duration_s(last) if last else None,
            "reason": (last.get("extra") or {}).get("reason") if last else None,
        })
    return out


def _text(value: datetime) -> str:
    return utc_text(value)


def schedule_listing(config: Config, archive: Archive, now: datetime) -> list[dict[str, Any]]:
    """``schedule --list``: :func:`schedule_rows` over the runs the archive has logged."""
    close_interrupted(archive, now)
    runs = {src.id: archive.runs(src.id) for src in config.sources}
    return schedule_rows(config, runs, now)


def close_interrupted(archive: Archive, now: datetime) -> None:
    """Mark the runs whose process is gone interrupted; a log that cannot be written to
    (a full disk) is shown as it is."""
    with suppress(sqlite3.OperationalError):
        archive.fail_interrupted_runs(now)


def run_records(archive: Archive, source: str | None = None,
                now: datetime | None = None) -> list[dict[str, Any]]:
    """``mediawatch runs``: every logged run (of one source), oldest first, as
    :func:`run_record` shapes it (interrupted runs closed first, as of ``now``)."""
    close_interrupted(archive, now or datetime.now(UTC))
    return [run_record(row) for row in archive.runs(source)]


def web_source_rows(config_path: str | Path
                    ) -> Callable[[Archive, datetime], list[dict[str, Any]]]:
    """The sources page's schedule columns (``schedule --list``), read from the sources
    file at each request, so that edits show without a restart; a broken file is shown
    as the sources found in the archive with the error as their status."""
    # Imported here: the service imports this module.
    from scheduler.service import read_config

    def rows(archive: Archive, now: datetime) -> list[dict[str, Any]]:
        try:
            config = read_config(config_path)
        except (ConfigError, OSError) as exc:
            return [{"source": s, "last_status": f"config error: {exc}"}
                    for s in sorted({r["source"] for r in archive.runs() if r["source"]})]
        names = {src.id: src.name for src in config.sources}
        return [{**row, "name": names.get(row["source"])}
                for row in schedule_listing(config, archive, now)]

    return rows
