"""What replay says about the capture it serves: ``mediawatch replay URL --info``.

Pure functions over a :class:`~archive.replay.lookup.Replayed`: the capture as JSON (where
its record lives, its digest, and for a revisit the record it resolves to), the status
line as stored, and how far the capture is from the time asked for.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from archive.replay.rules import parse_when

if TYPE_CHECKING:
    from archive.replay.lookup import Replayed
    from archive.replay.rules import Capture
    from archive.warc.reader import StoredResponse

#: ``--at`` further than this from the capture served gets a note saying how far. An hour:
#: closer than that, the capture is what the page said at that time for any purpose an
#: analyst cites it for; further, a reader must know the page may have changed between.
FAR = 3600


def status_line(stored: StoredResponse) -> str:
    """The HTTP status line as the record stores it (``HTTP/1.1 304 Not Modified`` for a
    304 revisit, not the status of the capture whose payload it repeats)."""
    return f"{stored.protocol or 'HTTP/1.1'} {stored.captured.status} {stored.reason}".rstrip()


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def capture_fields(capture: Capture) -> dict[str, Any]:
    """One capture's index entry: URL, time, status, record location and digest."""
    return {
        "url": capture.url,
        "timestamp": capture.timestamp,
        "fetched_at": _iso(capture.fetched_at),
        "status": capture.status,
        "warc_file": capture.warc_file,
        "offset": capture.offset,
        "length": capture.length,
        "record_id": capture.record_id,
        "payload_digest": capture.digest,
    }


def capture_info(found: Replayed) -> dict[str, Any]:
    """The capture ``found`` serves, as ``replay --info`` prints it: its
    :func:`capture_fields`, its stored ``status_line``, ``revisit`` (the revisit profile,
    or null for a full response) and ``resolves_to`` (for a revisit, the fields of the
    capture whose payload it repeats; else null)."""
    record = found.record if found.record is not None else found.stored
    return {
        **capture_fields(found.capture),
        "status_line": status_line(record),
        "revisit": found.capture.revisit,
        "resolves_to": capture_fields(found.original) if found.original is not None
        else None,
    }


def citation(capture: Capture, permalink: str, title: str | None = None,
             article_id: str | None = None) -> str:
    """A citation of one capture, to paste into a report: title, URL, capture time, status,
    the article's id in the archive, the payload digest, the WARC record id and the
    permalink that replays exactly this capture."""
    head = f"\u201c{title}\u201d. " if title else ""
    details = [f"archived capture {_iso(capture.fetched_at)} (HTTP {capture.status})"]
    if article_id:
        details.append(f"mediawatch article {article_id}")
    if capture.digest:
        details.append(f"payload digest {capture.digest}")
    if capture.record_id:
        details.append(f"WARC record {capture.record_id}")
    return f"{head}{capture.url}. {', '.join(details)}. Permalink: {permalink}"


def describe_gap(seconds: float) -> str:
    """A duration in its two largest units: ``3 days 4 hours``, ``5 minutes``."""
    left = int(abs(seconds))
    parts: list[str] = []
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts[:2]) or "0 seconds"


# How long the period a timestamp of this many digits names lasts (its precision).
_PERIOD = {8: timedelta(days=1), 10: timedelta(hours=1), 12: timedelta(minutes=1),
           14: timedelta(0)}


def asked_period(value: str) -> tuple[datetime, datetime]:
    """The period an ``--at`` value names, as ``[start, end)``: ``2024`` is the whole
    year, ``20240301`` and ``2024-03-01`` the whole day; a full 14-digit timestamp or an ISO
    date and time is an instant (``start == end``). Raises ValueError as
    :func:`~archive.replay.rules.parse_when`."""
    start = parse_when(value)
    if value.isdigit():
        if len(value) == 4:
            return start, start.replace(year=start.year + 1)
        if len(value) == 6:
            month = start.month % 12 + 1
            return start, start.replace(year=start.year + (month == 1), month=month)
        return start, start + _PERIOD.get(len(value), timedelta(0))
    if "T" not in value and " " not in value.strip() and len(value.strip()) == 10:
        return start, start + timedelta(days=1)  # an ISO date: the whole day
    return start, start


def distance_note(at: str, fetched_at: datetime, far: int = FAR) -> str | None:
    """``nearest capture is 3 days 4 hours after --at`` when the capture served lies more
    than ``far`` seconds outside the period ``at`` names (:func:`asked_period`, measured
    from its nearer end); None when it is close enough."""
    start, end = asked_period(at)
    if fetched_at < start:
        gap = (start - fetched_at).total_seconds()
        side = "before"
    else:
        gap = max(0.0, (fetched_at - end).total_seconds())
        side = "after"
    if gap <= far:
        return None
    return f"nearest capture is {describe_gap(gap)} {side} --at {at}"
