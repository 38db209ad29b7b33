"""Source health: each source's normal volume, learned from its history, and its problems.

Pure functions over rows (:func:`assess`) with ``now`` passed in; the SQL that fetches the
rows is built by pure functions too (:func:`volume_sql`, :func:`runs_sql`) and executed by
:func:`check_health`. The rules (thresholds in :class:`HealthRules`):

``normal_daily``
    the median number of new articles (by ``first_seen``) per 24 hours over the 28 days
    before the current day (the 24 h ending at ``now`` are left out, since they are what is
    being judged); only whole days after the source's first article count, and at least
    7 of them are needed ("enough history"), else it is unknown and ``quiet`` is never
    raised.
``quiet``
    the source ran at least once in the window, yet brought at most 20 % of the articles
    it normally brings in that window. The window is 24 h, widened a day at a time (up to
    7) for low-volume sources until at least 3 articles would be expected; a source too
    sparse even for 7 days is never flagged quiet.
``extraction``
    of the articles first seen in the last 48 h (at least 5), half or more have no body,
    or half or more have no published date, and that share rose by at least 25 points
    over the 28 days before (taken as 0 when those had fewer than 5 articles).
``failing``
    the last 3 runs of the source (within 7 days) all failed: a status other than ``ok``
    or ``finished``, or every fetched page failed.
``blocked``
    the last 2 runs (within 7 days) were blocked: status ``blocked``, or blocked answers
    (403/429/503, challenge pages) for at least half the pages.

Articles are counted in hour buckets, so window edges are exact to the hour.

Alerts (:func:`record_health_alerts`): a newly flagged problem (source and flag) raises one
alert; it stays open, raising nothing more, until a run finds the flag gone, which records
a ``resolved`` alert; flagged again later, it raises again. They are stored in ``alerts``
with the reserved watchlist :data:`scheduler.monitor.alerts.HEALTH`: ``article_id`` holds
``<source>:<flag>``, ``version`` counts the problem's raisings and resolutions, ``kind`` is
the flag or ``resolved``. The description of a problem is not stored (no column for it):
it is recomputed from the current assessment when delivered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from archive.store.db import Archive
from archive.store.health import SourceHealth
from scheduler.monitor.alerts import HEALTH, Alert, insert_alerts


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

