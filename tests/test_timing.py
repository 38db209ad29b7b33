"""The pure scheduling logic with literal times: triggers, next fire times, catch-up once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archive.config import ConfigError
from scheduler.timing import first_slot_after, next_fire_time, plan_start, trigger_for

NOW = datetime(2026, 11, 29, 12, 7, 30, tzinfo=UTC)


def at(hh: int, mm: int, ss: int = 0, day: int = 29) -> datetime:
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=UTC)


@pytest.mark.parametrize(
    ("schedule", "anchor", "expected"),
    [
        pytest.param("every 30m", at(11, 0), at(12, 30), id="interval-keeps-rhythm"),
        pytest.param("every 30m", at(12, 7, 30), at(12, 7, 30), id="interval-at-anchor"),
        pytest.param("every 2s", at(12, 7, 29), at(12, 7, 31), id="seconds"),
        pytest.param("every 1d", at(6, 0, day=27), at(6, 0, day=30), id="daily"),
        pytest.param("*/15 * * * *", at(0, 0), at(12, 15), id="cron-quarter"),
        pytest.param("0 6 * * mon-fri", at(0, 0), at(6, 0, day=30), id="cron-weekday"),
        pytest.param("0 6 * * sat,sun", at(0, 0), datetime(2026, 12, 5, 6, 0, tzinfo=UTC),
                     id="cron-weekend"),  # 2026-11-29 is a Sunday, already past 06:00
    ],
)
def test_next_fire_time(schedule: str, anchor: datetime, expected: datetime) -> None:
    assert next_fire_time(trigger_for(schedule, anchor), NOW) == expected


def test_triggers_are_apscheduler_3_in_utc() -> None:
    interval = trigger_for("every 2h", at(1, 0))
    cron = trigger_for("5 4 * * *", at(1, 0))
    assert isinstance(interval, IntervalTrigger)
    assert interval.interval == timedelta(hours=2)
    assert isinstance(cron, CronTrigger)
    assert interval.timezone == UTC
    assert cron.timezone == UTC


def test_bad_cron_and_naive_times_are_rejected() -> None:
    with pytest.raises(ConfigError, match="bad cron line"):
        trigger_for("99 * * * *", NOW)
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_start("every 1h", None, datetime(2026, 11, 29, 12, 0))


@pytest.mark.parametrize(
    ("schedule", "last", "expected"),
    [
        pytest.param("every 30m", at(11, 50), at(12, 20), id="interval"),
        pytest.param("*/15 * * * *", at(12, 0), at(12, 15), id="cron-run-on-slot"),
        pytest.param("*/15 * * * *", at(11, 59, 59), at(12, 0), id="cron-run-before-slot"),
    ],
)
def test_first_slot_after_last_run(schedule: str, last: datetime, expected: datetime) -> None:
    assert first_slot_after(schedule, last) == expected


def test_never_run_source_runs_once_at_start() -> None:
    plan = plan_start("every 1h", None, NOW)
    assert (plan.run_now, plan.next_run, plan.anchor) == (True, NOW, NOW)


@pytest.mark.parametrize(
    ("schedule", "last"),
    [
        pytest.param("every 30m", at(11, 37, 30), id="interval-one-slot-exactly"),
        pytest.param("every 30m", at(2, 0), id="interval-twenty-slots"),
        pytest.param("*/15 * * * *", at(12, 0, day=27), id="cron-two-days"),
        pytest.param("0 6 * * *", at(6, 0, day=28), id="cron-daily-one-slot"),
    ],
)
def test_missed_runs_are_caught_up_exactly_once(schedule: str, last: datetime) -> None:
    plan = plan_start(schedule, last, NOW)
    assert plan.run_now
    assert plan.next_run == NOW
    # Once: the slot after the catch-up run is in the future, never another past slot.
    trigger = trigger_for(schedule, plan.anchor)
    after = trigger.get_next_fire_time(plan.next_run, NOW)
    assert after is not None
    assert after > NOW


@pytest.mark.parametrize(
    ("schedule", "last", "expected"),
    [
        pytest.param("every 30m", at(11, 50), at(12, 20), id="interval"),
        pytest.param("*/15 * * * *", at(12, 0), at(12, 15), id="cron"),
        pytest.param("0 6 * * *", at(6, 0), at(6, 0, day=30), id="cron-daily"),
    ],
)
def test_no_catch_up_when_nothing_was_missed(schedule: str, last: datetime,
                                             expected: datetime) -> None:
    plan = plan_start(schedule, last, NOW)
    assert not plan.run_now
    assert plan.next_run == expected
    # The job's trigger agrees with the plan: the interval keeps the last run's rhythm.
    assert next_fire_time(trigger_for(schedule, plan.anchor), NOW) == expected


def test_catch_up_rhythm_restarts_from_the_catch_up_run() -> None:
    plan = plan_start("every 30m", at(9, 0), NOW)
    trigger = trigger_for("every 30m", plan.anchor)
    assert trigger.get_next_fire_time(plan.next_run, NOW) == NOW + timedelta(minutes=30)
