"""Schedule expressions: a 5-field cron line or ``every 30m`` / ``every 2h`` / ``every 1d``.

Parsed here (pure) so config validation and the scheduler agree on one grammar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$", re.IGNORECASE)
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
    """Parse ``every 30m`` or a cron line such as ``*/15 * * * *``."""
    text = text.strip()
    if m := EVERY.match(text):
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
        if seconds < 60:
            raise ScheduleError(f"interval too short: {text!r} (at least 1 minute)")
        return Schedule(interval_seconds=seconds)
    fields = text.split()
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        return Schedule(cron=text)
    raise ScheduleError(f"not a schedule: {text!r} (use 'every 30m', 'every 2h' or a cron line)")
