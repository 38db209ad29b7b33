"""Schedule expressions and durations, parsed here (pure) so config validation and the
scheduler agree on one grammar.

A schedule is a 5-field cron line (``*/15 * * * *``, read in UTC) or ``every N<unit>`` with
unit ``s``, ``m``, ``h`` or ``d``: ``every 30m``, ``every 2h``, ``every 1d``. Second
intervals (``every 2s``) exist for tests and demos; no real outlet should be polled that
often. A duration (``[crawl] run_timeout``, ``misfire_grace``) is ``N<unit>`` with the same
units (``90s``, ``10m``, ``1h``) or a bare number of seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$", re.IGNORECASE)
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


class ScheduleError(ValueError):
    """The schedule string is neither ``every N<unit>`` nor a 5-field cron expression."""


@dataclass(frozen=True, slots=True)
class Schedule:
    """Either a fixed interval (``interval_seconds``) or a cron expression (``cron``)."""

    interval_seconds: int | None = None
    cron: str | None = None


def parse_schedule(text: str) -> Schedule:
    """Parse ``every 30m`` (or ``every 2s`` for tests) or a cron line such as ``*/15 * * * *``."""
    text = text.strip()
    if m := EVERY.match(text):
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
        if seconds < 1:
            raise ScheduleError(f"interval too short: {text!r} (at least 1 second)")
        return Schedule(interval_seconds=seconds)
    fields = text.split()
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        return Schedule(cron=text)
    raise ScheduleError(f"not a schedule: {text!r} (use 'every 30m', 'every 2h' or a cron line)")


def parse_duration(value: object) -> float:
    """Seconds from ``"90s"``, ``"10m"``, ``"1h"``, ``"1d"`` or a number of seconds (> 0)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[(m.group(2) or "s").lower()]
    else:
        raise ScheduleError(f"not a duration: {value!r} (use e.g. '90s', '10m' or '1h')")
    if seconds <= 0:
        raise ScheduleError(f"duration must be positive: {value!r}")
    return seconds
