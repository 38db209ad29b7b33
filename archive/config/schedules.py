"""Schedule expressions and durations, parsed here (pure) so that config validation and the
scheduler agree on one grammar.

A schedule is ``every N<unit>`` with unit ``s``, ``m``, ``h`` or ``d`` (``every 30m``,
``every 2h``, ``every 1d``) or a 5-field cron line read in UTC (``*/15 * * * *``). Second
intervals (``every 2s``) exist for tests and demos; no real outlet should be polled that
often. A duration (``[crawl] run_timeout``, ``misfire_grace``) is ``N<unit>`` with the same
units (``90s``, ``10m``, ``1h``) or a bare number of seconds.

Cron lines are checked here exactly as the scheduler will read them, APScheduler 3.x's
``CronTrigger.from_crontab``, so that a line the crawl's config check accepts is never
refused by ``mediawatch schedule`` (``tests/test_config.py`` compares the two on a list of
lines). The archive must not import APScheduler, hence this copy of its grammar. Fields:
minute 0-59, hour 0-23, day of month 1-31 (or ``last``), month 1-12 or ``jan``-``dec``,
day of week 0-6 or ``mon``-``sun``. Each field is a comma-separated list of ``*``,
``*/step``, ``N``, ``N-M``, ``N/step``, ``N-M/step`` and, in month and day of week, names
and name ranges (``mon-fri``). Two APScheduler 3.x facts to know when writing one:

* day-of-week numbers count from **Monday = 0** to Sunday = 6 (unlike crontab's Sunday = 0;
  ``7`` is refused): prefer names;
* what follows a name is ignored (``mon-fri/2`` means ``mon-fri``), and a step must not
  exceed the span it steps through (``59/1`` and ``*/60`` in the minute field are refused).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from archive.config.files import ConfigError

__all__ = ["CRON_FIELDS", "Schedule", "check_cron", "parse_duration", "parse_schedule"]

EVERY = re.compile(r"^every\s+(\d+)\s*(s|m|h|d)$", re.IGNORECASE)
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

#: The five fields of a cron line: name, lowest and highest value (APScheduler 3.x's).
CRON_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12),
    ("day_of_week", 0, 6),
)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# APScheduler's own patterns, anchored as it anchors them: the name pattern has no "$", so
# whatever follows a name or name range is ignored, as it is there.
_ALL = re.compile(r"\*(?:/(?P<step>\d+))?$")
_RANGE = re.compile(r"(?P<first>\d+)(?:-(?P<last>\d+))?(?:/(?P<step>\d+))?$")
_NAMES = re.compile(r"(?P<first>[a-z]+)(?:-(?P<last>[a-z]+))?", re.IGNORECASE)
_LAST_DAY = re.compile(r"last", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r" *, *")


@dataclass(frozen=True, slots=True)
class Schedule:
    """Either a fixed interval (``interval_seconds``) or a cron line (``cron``)."""

    interval_seconds: int | None = None
    cron: str | None = None


def parse_schedule(text: str) -> Schedule:
    """Parse ``every 30m`` (or ``every 2s`` for tests) or a cron line such as ``*/15 * * * *``.

    Raises :class:`ConfigError` without a file (the caller adds where the text came from).
    """
    text = text.strip()
    if m := EVERY.match(text):
        seconds = int(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
        if seconds < 1:
            raise ConfigError(None, None, None,
                              f"interval too short: {text!r} (at least 1 second)")
        return Schedule(interval_seconds=seconds)
    if len(text.split()) != 5:
        raise ConfigError(None, None, None, f"not a schedule: {text!r} "
                          "(use 'every 30m', 'every 2h' or a cron line)")
    check_cron(text)
    return Schedule(cron=text)


def check_cron(line: str) -> None:
    """Raise :class:`ConfigError` naming the field when APScheduler 3.x's
    ``CronTrigger.from_crontab`` would refuse ``line`` (module docstring); pure."""
    fields = line.split()
    if len(fields) != len(CRON_FIELDS):
        raise ConfigError(None, None, None, f"bad cron line {line!r}: {len(fields)} fields, "
                          "expected 5 (minute hour day month day_of_week)")
    for (name, low, high), field in zip(CRON_FIELDS, fields, strict=True):
        for expr in _LIST_SEPARATOR.split(field.strip()):
            problem = _cron_problem(expr, name, low, high)
            if problem is not None:
                raise ConfigError(None, None, None,
                                  f"bad cron line {line!r}: field {name} ({field!r}): "
                                  f"{problem}")


def _cron_problem(expr: str, name: str, low: int, high: int) -> str | None:
    """Why one list element of a cron field is refused, or None when it is fine."""
    if m := _ALL.match(expr):
        return _step_problem(m["step"], high - low)
    if m := _RANGE.match(expr):
        first = int(m["first"])
        last = int(m["last"]) if m["last"] is not None else None
        if m["step"] is not None and int(m["step"]) == 0:
            return "a step must be at least 1"
        if last is None and m["step"] is None:
            last = first
        if last is not None and first > last:
            return f"range {expr!r} starts after it ends"
        if first < low:
            return f"{first} is below the lowest value {low}"
        if last is not None and last > high:
            return f"{last} is above the highest value {high}"
        # APScheduler measures a stepped range up to its last value, or up to the field's
        # maximum when there is none (or when it is 0, which "or" skips): kept as it is.
        return _step_problem(m["step"], (last or high) - first)
    names = _MONTHS if name == "month" else _WEEKDAYS if name == "day_of_week" else None
    if names is not None and (m := _NAMES.match(expr)):
        first_name, last_name = m["first"].lower(), (m["last"] or "").lower()
        for value in (first_name, last_name):
            if value and value not in names:
                return f"unknown {'month' if name == 'month' else 'weekday'} name {value!r}"
        if last_name and names.index(first_name) > names.index(last_name):
            return f"range {expr!r} starts after it ends"
        return None
    if name == "day" and _LAST_DAY.match(expr):
        return None
    return f"cannot read {expr!r}"


def _step_problem(step: str | None, span: int) -> str | None:
    if step is None:
        return None
    if int(step) == 0:
        return "a step must be at least 1"
    if int(step) > span:
        return f"step {int(step)} is larger than the span it steps through ({span})"
    return None


def parse_duration(value: object) -> float:
    """Seconds from ``"90s"``, ``"10m"``, ``"1h"``, ``"1d"`` or a number of seconds (> 0).

    Raises :class:`ConfigError` without a file (the caller adds where the value came from).
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[(m.group(2) or "s").lower()]
    else:
        raise ConfigError(None, None, None,
                          f"not a duration: {value!r} (use e.g. '90s', '10m' or '1h')")
    if seconds <= 0:
        raise ConfigError(None, None, None, f"duration must be positive: {value!r}")
    return seconds
