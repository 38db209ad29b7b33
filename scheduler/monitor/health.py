"""Source health at the operations layer: its alerts, and the ``mediawatch sources`` view.

The assessment itself (each source's normal volume and its ``quiet``, ``extraction``,
``failing`` and ``blocked`` flags, with their thresholds) is :mod:`archive.store.health`,
which the web UI shares. This module turns assessments into alerts and rows:

Alerts (:func:`record_health_alerts`): a newly flagged problem (source and flag) raises one
alert; it stays open, raising nothing more, until a run finds the flag gone, which records
a ``resolved`` alert; flagged again later, it raises again. They are stored in ``alerts``
with the reserved watchlist :data:`scheduler.monitor.alerts.HEALTH`: ``article_id`` holds
``<source>:<flag>``, ``version`` counts the problem's raisings and resolutions, ``kind`` is
the flag or ``resolved``. The description of a problem is not stored (no column for it):
it is recomputed from the current assessment when delivered
(:mod:`scheduler.monitor.delivery`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from archive.store.health import SourceHealth, check_health, health_record
from scheduler.monitor.alerts import HEALTH, Alert, insert_alerts

if TYPE_CHECKING:
    from datetime import datetime

    from archive.config.sources import Config
    from archive.store.db import Archive

__all__ = ["SOURCE_COLUMNS", "health_transitions", "record_health_alerts", "source_rows"]

#: ``mediawatch sources``'s table columns (its JSON adds ``name``).
SOURCE_COLUMNS = ("source", "articles", "normal_daily", "new_24h", "last_run", "last_status",
                  "flags")


def health_transitions(report: Iterable[SourceHealth],
                       last: Mapping[str, tuple[int, str]]) -> list[tuple[str, int, str]]:
    """Problems to raise and to resolve: ``(key, version, kind)`` rows.

    ``last`` maps ``<source>:<flag>`` to the version and kind of its latest health alert.
    A flagged problem without an open alert is raised; an open alert of an assessed source
    whose flag is gone is resolved (kind ``resolved``).
    """
    out: list[tuple[str, int, str]] = []
    assessed: set[str] = set()
    flagged: set[str] = set()
    for health in report:
        assessed.add(health.source)
        for flag in health.flags:
            key = f"{health.source}:{flag.kind}"
            flagged.add(key)
            version, kind = last.get(key, (0, "resolved"))
            if kind == "resolved":
                out.append((key, version + 1, flag.kind))
    for key, (version, kind) in sorted(last.items()):
        if kind != "resolved" and key not in flagged and key.split(":", 1)[0] in assessed:
            out.append((key, version + 1, "resolved"))
    return out


def record_health_alerts(archive: Archive, report: Iterable[SourceHealth],
                         now: datetime) -> list[Alert]:
    """Record the health alerts :func:`health_transitions` asks for; return them."""
    # SQLite returns the bare column ``kind`` from the row holding max(version).
    rows = archive.db.execute(
        "SELECT article_id, max(version), kind FROM alerts WHERE watchlist = ?"
        " GROUP BY article_id", [HEALTH]).fetchall()
    last = {key: (version, kind) for key, version, kind in rows}
    changes = health_transitions(report, last)
    return insert_alerts(archive, [(HEALTH, key, version, kind) for key, version, kind in changes],
                         now)



def source_rows(config: Config, archive: Archive, now: datetime) -> list[dict[str, Any]]:
    """``mediawatch sources``: each configured source, in config order, with its name and
    health at ``now`` (a source the archive has never seen shows zero articles)."""
    report = {h.source: h for h in check_health(archive, now)}
    return [{"name": src.name, **health_record(report.get(src.id), src.id)}
            for src in config.sources]
