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
    either of two rules. *Fields lost* (the rule of ``mediawatch sources --check``,
    :func:`archive.store.fieldcheck.lost_fields`): the articles first seen in the last 48 h
    (at least 3) are compared with the source's last 20 articles first seen before them
    (within the 28 days before); a field at least 80 % of those 20 have (title, lead, body,
    published, authors, section, tags, short_url, language) that half or more of the
    recent ones lack, or that 80 % of the 20 got from the profile's selectors and half or
    more of the recent ones by a fallback (only where the archive keeps the method:
    ``body_method``, ``published_from``), is flagged; fewer than 5 articles before: not
    judged. *Missing share* (kept: it also judges a source with no 20-article history):
    of the articles first seen in the last 48 h (at least 5), half or more have no body, or
    half or more have no published date, and that share rose by at least 25 points over the
    28 days before (taken as 0 when those had fewer than 5 articles).
``failing``
    the last 3 runs of the source (within 7 days) all failed: a status other than ``ok``
    or ``finished``, or every fetched page failed.
``blocked``
    the last 2 runs (within 7 days) were blocked: status ``blocked``, or blocked answers
    (403/429/503, challenge pages) for at least half the pages.

Articles are counted in hour buckets, so window edges are exact to the hour.

Alerts raised from these assessments are the operations layer's: :mod:`scheduler.monitor.health`.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from archive.store.fieldcheck import (
    BASELINE,
    CHECKED_FIELDS,
    FieldMethods,
    losses_text,
    lost_fields,
    row_fields,
)
from archive.times import parse_utc, utc_text

if TYPE_CHECKING:
    from archive.store.db import Archive

FLAGS = ("quiet", "extraction", "failing", "blocked")


_OK_STATUSES = frozenset({"ok", "finished"})


_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class HealthRules:
    """Thresholds of the health rules (module docstring)."""

    history_days: int = 28
    min_history_days: int = 7
    quiet_ratio: float = 0.2
    quiet_min_expected: float = 3.0
    quiet_max_days: int = 7
    extraction_window: timedelta = timedelta(hours=48)
    extraction_min_articles: int = 5
    extraction_share: float = 0.5
    extraction_rise: float = 0.25
    extraction_baseline: int = BASELINE
    # The fields-lost rule judges 3 recent articles already (one odd page is outvoted),
    # as ``sources --check`` judges the newest captures of 3 articles.
    extraction_min_recent: int = 3
    failing_runs: int = 3
    blocked_runs: int = 2
    runs_window: timedelta = timedelta(days=7)


DEFAULT_RULES = HealthRules()


@dataclass(frozen=True, slots=True)
class Bucket:
    """New articles of one source first seen in one hour (``hour`` is its start)."""

    source: str
    hour: datetime
    articles: int
    no_body: int = 0
    no_date: int = 0


@dataclass(frozen=True, slots=True)
class RunFigures:
    """The figures of one logged run that health looks at."""

    source: str
    started: datetime
    status: str | None
    pages: int = 0
    failed: int = 0
    blocked: int = 0

    @property
    def is_blocked(self) -> bool:
        """Blocked by the site: status ``blocked`` or blocked answers for half the pages."""
        return self.status == "blocked" or (
            self.blocked > 0 and 2 * self.blocked >= max(self.pages, 1))

    @property
    def is_failed(self) -> bool:
        """Failed (and not blocked): a bad status, or every fetched page failed."""
        if self.is_blocked:
            return False
        return self.status not in _OK_STATUSES or (self.failed > 0 and self.failed >= self.pages)


@dataclass(frozen=True, slots=True)
class Flag:
    """One problem of a source: ``kind`` is one of :data:`FLAGS`."""

    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One source's figures and flags at a moment."""

    source: str
    articles: int
    normal_daily: float | None
    new_24h: int
    last_run_at: str | None
    last_status: str | None
    flags: tuple[Flag, ...] = ()


def volume_sql(now: datetime, rules: HealthRules = DEFAULT_RULES) -> tuple[str, dict[str, Any]]:
    """SQL: new articles per source and hour over the history window, with how many lack
    a body or a published date. Columns: source, hour, articles, no_body, no_date."""
    sql = """SELECT source, substr(first_seen, 1, 13) AS hour, count(*) AS articles,
  sum(body IS NULL OR trim(body) = '') AS no_body, sum(published IS NULL) AS no_date
FROM articles
WHERE first_seen >= :since AND first_seen <= :until
GROUP BY source, hour
ORDER BY source, hour"""
    since = now - (rules.history_days + 1) * _DAY
    return sql, {"since": utc_text(since, "now"), "until": utc_text(now, "now")}


# Each checked field as 1 when the article has it, else NULL (no text is fetched).
_PRESENT = ",\n  ".join(
    f"CASE WHEN coalesce({name}, '[]') NOT IN ('[]', '') THEN 1 END AS {name}"
    if name in ("authors", "tags") else
    f"CASE WHEN trim(coalesce({name}, '')) != '' THEN 1 END AS {name}"
    for name in CHECKED_FIELDS)


def fields_sql(now: datetime, rules: HealthRules = DEFAULT_RULES
               ) -> tuple[str, dict[str, Any]]:
    """SQL: the checked fields of each source's articles first seen in the extraction window
    (``recent`` 1) and of its last ``extraction_baseline`` articles in the ``history_days``
    before it (``recent`` 0), as 1 or NULL, with ``body_method`` and ``published_from``."""
    sql = f"""SELECT * FROM (
  SELECT source, first_seen >= :since AS recent, body_method, published_from,
  {_PRESENT},
  row_number() OVER (PARTITION BY source, first_seen >= :since
                     ORDER BY first_seen DESC, pk DESC) AS n
  FROM articles WHERE first_seen >= :history AND first_seen <= :until)
WHERE recent OR n <= :baseline"""
    since = now - rules.extraction_window
    # The baseline is looked for in the history window only (as the volumes are), so the
    # query reads weeks of articles after every crawl, never the whole archive.
    history = since - rules.history_days * _DAY
    return sql, {"since": utc_text(since, "now"), "until": utc_text(now, "now"),
                 "history": utc_text(history, "now"), "baseline": rules.extraction_baseline}


def totals_sql() -> str:
    """SQL: articles per source with the first time one was seen."""
    return ("SELECT source, count(*) AS articles, min(first_seen) AS first_seen"
            " FROM articles GROUP BY source ORDER BY source")


def runs_sql(now: datetime, rules: HealthRules = DEFAULT_RULES) -> tuple[str, dict[str, Any]]:
    """SQL: runs started in the runs window, oldest first.

    ``failed`` falls back to the ``failures`` figure kept in ``extra`` by older run logs.
    """
    sql = """SELECT source, started, status, coalesce(pages, 0) AS pages,
  coalesce(failed, json_extract(extra, '$.failures'), 0) AS failed,
  coalesce(blocked, 0) AS blocked
FROM runs
WHERE source IS NOT NULL AND started >= :since AND started <= :until
ORDER BY started, id"""
    since = now - rules.runs_window
    return sql, {"since": utc_text(since, "now"), "until": utc_text(now, "now")}


def last_runs_sql() -> str:
    """SQL: the latest run of each source (any age). Columns: source, started, status."""
    return ("SELECT source, max(started) AS started, status FROM runs"
            " WHERE source IS NOT NULL GROUP BY source")


def normal_daily_volume(buckets: Iterable[Bucket], first_seen: datetime, now: datetime,
                        rules: HealthRules = DEFAULT_RULES) -> float | None:
    """Median new articles per 24 h over the history (module docstring); None when fewer
    than ``rules.min_history_days`` whole days of history precede the last 24 h."""
    counts: dict[int, int] = defaultdict(int)
    for bucket in buckets:
        ago = (now - bucket.hour) // _DAY  # 0: the current 24 h
        if 1 <= ago <= rules.history_days:
            counts[ago] += bucket.articles
    days = [k for k in range(1, rules.history_days + 1) if now - (k + 1) * _DAY >= first_seen]
    if len(days) < rules.min_history_days:
        return None
    return float(statistics.median(counts[k] for k in days))


def _quiet(buckets: Sequence[Bucket], runs: Sequence[RunFigures], normal: float | None,
           now: datetime, rules: HealthRules) -> Flag | None:
    if not normal:
        return None
    days = 1
    while normal * days < rules.quiet_min_expected and days < rules.quiet_max_days:
        days += 1
    expected = normal * days
    if expected < rules.quiet_min_expected:
        return None
    start = now - days * _DAY
    if not any(run.started >= start for run in runs):
        return None  # not crawled in the window: no evidence either way
    seen = sum(b.articles for b in buckets if b.hour >= start)
    if seen > expected * rules.quiet_ratio:
        return None
    return Flag("quiet", f"{seen} new article(s) in the last {days * 24} h, "
                         f"normally {expected:g}")


def _share(buckets: Iterable[Bucket], field: str) -> tuple[int, int]:
    total = missing = 0
    for bucket in buckets:
        total += bucket.articles
        missing += getattr(bucket, field)
    return missing, total


def _fields_lost(recent: Sequence[FieldMethods], baseline: Sequence[FieldMethods],
                 rules: HealthRules) -> str | None:
    if len(recent) < rules.extraction_min_recent:
        return None
    losses = lost_fields(recent, baseline)
    if not losses:
        return None
    hours = int(rules.extraction_window.total_seconds() // 3600)
    return (f"fields lost in the {len(recent)} articles of the last {hours} h against the "
            f"{len(baseline)} before: {losses_text(losses)}")


def _extraction(buckets: Sequence[Bucket], now: datetime, rules: HealthRules,
                fields: tuple[Sequence[FieldMethods], Sequence[FieldMethods]] = ((), ())
                ) -> Flag | None:
    lost = _fields_lost(*fields, rules)
    share = _missing_share(buckets, now, rules)
    problems = [p for p in (lost, share) if p]
    return Flag("extraction", "; ".join(problems)) if problems else None


def _missing_share(buckets: Sequence[Bucket], now: datetime, rules: HealthRules) -> str | None:
    start = now - rules.extraction_window
    recent = [b for b in buckets if b.hour >= start]
    before = [b for b in buckets if b.hour < start]
    problems = []
    for field, what in (("no_body", "no body"), ("no_date", "no published date")):
        missing, total = _share(recent, field)
        if total < rules.extraction_min_articles:
            return None
        share = missing / total
        old_missing, old_total = _share(before, field)
        old_share = old_missing / old_total if old_total >= rules.extraction_min_articles else 0.0
        if share >= rules.extraction_share and share - old_share >= rules.extraction_rise:
            hours = int(rules.extraction_window.total_seconds() // 3600)
            problems.append(f"{missing} of {total} articles in the last {hours} h have {what}"
                            f" ({old_share:.0%} before)")
    return "; ".join(problems) if problems else None


def _runs_flags(runs: Sequence[RunFigures], rules: HealthRules) -> list[Flag]:
    flags = []
    last = runs[-rules.failing_runs:]
    if len(last) == rules.failing_runs and all(run.is_failed for run in last):
        statuses = ", ".join(str(run.status) for run in last)
        flags.append(Flag("failing", f"the last {len(last)} runs failed ({statuses})"))
    last = runs[-rules.blocked_runs:]
    if len(last) == rules.blocked_runs and all(run.is_blocked for run in last):
        figures = ", ".join(f"{run.blocked}/{run.pages}" for run in last)
        flags.append(Flag("blocked", f"the last {len(last)} runs were blocked "
                                     f"(blocked/pages: {figures})"))
    return flags


def assess(totals: Mapping[str, tuple[int, datetime]], buckets: Iterable[Bucket],
           runs: Iterable[RunFigures], last_runs: Mapping[str, tuple[str, str | None]],
           now: datetime, rules: HealthRules = DEFAULT_RULES,
           fields: Mapping[str, tuple[Sequence[FieldMethods], Sequence[FieldMethods]]]
           | None = None) -> list[SourceHealth]:
    """Health of every source named in ``totals`` (articles, first seen), ``runs`` or
    ``last_runs`` (source -> latest run's start and status), sorted by source id.
    ``fields``: per source, the fields of its recent articles and of its baseline
    (:func:`fields_sql`), for the fields-lost rule of ``extraction``."""
    fields = fields or {}
    by_source: dict[str, list[Bucket]] = defaultdict(list)
    for bucket in buckets:
        by_source[bucket.source].append(bucket)
    runs_by: dict[str, list[RunFigures]] = defaultdict(list)
    for run in sorted(runs, key=lambda r: r.started):
        if now - rules.runs_window <= run.started <= now:
            runs_by[run.source].append(run)
    out = []
    for source in sorted(set(totals) | set(runs_by) | set(last_runs)):
        articles, first_seen = totals.get(source, (0, now))
        mine = by_source.get(source, [])
        normal = normal_daily_volume(mine, first_seen, now, rules)
        flags = [
            flag for flag in (_quiet(mine, runs_by[source], normal, now, rules),
                              _extraction(mine, now, rules, fields.get(source, ((), ()))))
            if flag is not None
        ]
        flags += _runs_flags(runs_by[source], rules)
        last_at, last_status = last_runs.get(source, (None, None))
        out.append(SourceHealth(
            source=source, articles=articles, normal_daily=normal,
            new_24h=sum(b.articles for b in mine if b.hour >= now - _DAY),
            last_run_at=last_at, last_status=last_status, flags=tuple(flags)))
    return out


def check_health(archive: Archive, now: datetime,
                 rules: HealthRules = DEFAULT_RULES) -> list[SourceHealth]:
    """Fetch the rows for :func:`assess` from ``archive`` and assess them."""
    db = archive.db
    totals = {row["source"]: (row["articles"], parse_utc(row["first_seen"]))
              for row in db.query(totals_sql())}
    sql, params = volume_sql(now, rules)
    buckets = [Bucket(row["source"], parse_utc(row["hour"]), row["articles"], row["no_body"],
                      row["no_date"]) for row in db.query(sql, params)]
    sql, params = runs_sql(now, rules)
    runs = [RunFigures(row["source"], parse_utc(row["started"]), row["status"], int(row["pages"]),
                       int(row["failed"]), int(row["blocked"])) for row in db.query(sql, params)]
    last_runs = {row["source"]: (row["started"], row["status"])
                 for row in db.query(last_runs_sql())}
    sql, params = fields_sql(now, rules)
    fields: dict[str, tuple[list[FieldMethods], list[FieldMethods]]] = defaultdict(
        lambda: ([], []))
    for row in db.query(sql, params):
        fields[row["source"]][0 if row["recent"] else 1].append(row_fields(row))
    return assess(totals, buckets, runs, last_runs, now, rules, fields)


def health_record(health: SourceHealth | None, source: str) -> dict[str, Any]:
    """A source's health as a JSON-ready dict (``mediawatch sources``); ``health`` None
    means nothing is known about the source yet."""
    if health is None:
        health = SourceHealth(source, 0, None, 0, None, None)
    return {
        "source": source, "articles": health.articles, "normal_daily": health.normal_daily,
        "new_24h": health.new_24h, "last_run": health.last_run_at,
        "last_status": health.last_status, "flags": [flag.kind for flag in health.flags],
        "problems": {flag.kind: flag.detail for flag in health.flags},
    }

