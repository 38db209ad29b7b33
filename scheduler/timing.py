"""When a source runs: APScheduler triggers from schedule strings, and the catch-up rule.

Pure: every function takes ``now`` (or the time it reasons about) and reads no clock, no
file and no database, so tests drive it with literal times.

The catch-up rule. The service keeps no schedule state of its own; the run log (the
``runs`` table) is the state. At start (and when a schedule changes) each source's *first
slot after its last run started* is compared with ``now``:

* never ran -> run once now;
* that slot is in the past -> at least one run was missed while the service was down ->
  run exactly **once** now (not once per missed slot: ten missed half-hours do not need ten
  crawls, the next crawl fetches whatever they would have);
* otherwise -> nothing was missed, the first run is that slot.

Interval schedules are anchored on the run they follow (the last run, or the catch-up run),
so ``every 30m`` keeps a 30-minute rhythm across restarts; cron schedules keep their wall
clock slots (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archive.config import ConfigError, Schedule, parse_schedule

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

__all__ = ["StartPlan", "first_slot_after", "next_fire_time", "plan_start", "trigger_for"]


def trigger_for(schedule: Schedule | str, anchor: datetime) -> BaseTrigger:
    """The APScheduler 3.x trigger for ``schedule`` (timezone UTC).

    ``anchor`` (aware) is the start of an interval's rhythm: slots fall at ``anchor + k *
    interval``. Cron triggers ignore it. A cron line APScheduler cannot read raises
    :class:`~archive.config.ConfigError` (``parse_schedule`` already refuses those).
    """
    schedule = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    _aware(anchor, "anchor")
    if schedule.interval_seconds is not None:
        return IntervalTrigger(seconds=schedule.interval_seconds, start_date=anchor,
                               timezone=UTC)
    assert schedule.cron is not None
    try:
        return CronTrigger.from_crontab(schedule.cron, timezone=UTC)
    except ValueError as exc:
        raise ConfigError(None, None, None, f"bad cron line {schedule.cron!r}: {exc}") from exc


def next_fire_time(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The trigger's first fire time at or after ``now`` (None when it never fires again)."""
    return trigger.get_next_fire_time(None, _aware(now, "now"))


def first_slot_after(schedule: Schedule | str, last_started: datetime) -> datetime:
    """The first scheduled slot strictly after a run that started at ``last_started``.

    Run-log times have whole seconds, so "strictly after" means from the next second on.
    """
    _aware(last_started, "last_started")
    schedule = parse_schedule(schedule) if isinstance(schedule, str) else schedule
    if schedule.interval_seconds is not None:
        return last_started + timedelta(seconds=schedule.interval_seconds)
    fire = next_fire_time(trigger_for(schedule, last_started),
                          last_started + timedelta(seconds=1))
    assert fire is not None  # a 5-field cron line always fires again
    return fire


@dataclass(frozen=True, slots=True)
class StartPlan:
    """How a source's job starts: ``run_now`` (first run or catch-up), the first fire time
    ``next_run`` and the interval ``anchor``; ``reason`` says why, for the log."""

    run_now: bool
    next_run: datetime
    anchor: datetime
    reason: str


def plan_start(schedule: Schedule | str, last_started: datetime | None,
               now: datetime) -> StartPlan:
    """Decide a source's first run when the service starts or its schedule changes.

    See the module docstring: never ran or missed at least one slot -> once now; otherwise
    the first slot after the last run.
    """
    _aware(now, "now")
    if last_started is None:
        return StartPlan(True, now, now, "never ran: running now")
    due = first_slot_after(schedule, last_started)
    if due <= now:
        return StartPlan(True, now, now,
                         f"missed the run due {due:%Y-%m-%d %H:%M:%S}Z: running once now")
    return StartPlan(False, due, last_started, f"next run {due:%Y-%m-%d %H:%M:%S}Z")


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {value.isoformat()}")
    return value
