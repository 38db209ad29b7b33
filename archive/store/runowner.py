"""Which process a ``running`` run belongs to, and whether that process is gone.

A crawl logs its run as ``running`` when it starts (:meth:`archive.store.db.Archive.start_run`)
and completes the same row when it ends. A process killed with ``kill -9`` (or with its whole
cgroup) never completes it; whoever opens the run log next (a crawl, the service, ``mediawatch
runs``, ``schedule --list``) asks :func:`interrupted` and marks such a row ``failed``, reason
``interrupted``, so the run is never lost and the service never says "never ran".

The owner is recorded as the pid, the host name and, on Linux, a start token: the boot id
and the process's start time in clock ticks (``/proc/<pid>/stat``), so a pid reused by a later
process after a reboot or a long time does not keep a dead run ``running``. A row of
another host cannot be checked; it counts as interrupted once older than ``max_age``.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from archive.times import parse_utc

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

__all__ = ["DEFAULT_MAX_AGE", "INTERRUPTED", "RunOwner", "interrupted", "start_token"]

#: The reason a run whose process is gone is logged with.
INTERRUPTED = "interrupted"
#: How old a ``running`` row of another host must be to count as interrupted.
DEFAULT_MAX_AGE = timedelta(days=1)


def start_token(pid: int) -> str | None:
    """``<boot id>:<start ticks>`` of process ``pid``: None when it does not exist or has
    exited (a zombie), or where ``/proc`` is missing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its end.
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):  # a zombie has exited: nobody reaped it yet (no init)
        return None
    return f"{boot}:{fields[19]}"  # field 22 of the whole line: starttime


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


@dataclass(frozen=True, slots=True)
class RunOwner:
    """The process that runs a crawl: pid, host and start token (module docstring)."""

    #: The items of a run's ``extra`` that hold its owner.
    KEYS: ClassVar[tuple[str, ...]] = ("pid", "host", "pid_token")

    pid: int
    host: str
    token: str | None

    @classmethod
    def current(cls) -> RunOwner:
        """This process."""
        pid = os.getpid()
        return cls(pid, socket.gethostname(), start_token(pid))

    def extra(self) -> dict[str, Any]:
        """The owner as items of the run's ``extra`` JSON."""
        return dict(zip(self.KEYS, (self.pid, self.host, self.token), strict=True))

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any]) -> RunOwner | None:
        """The owner recorded in a run's ``extra`` (None for rows without one)."""
        pid, host = extra.get("pid"), extra.get("host")
        if not isinstance(pid, int) or not isinstance(host, str):
            return None
        token = extra.get("pid_token")
        return cls(pid, host, token if isinstance(token, str) else None)

    def alive(self) -> bool:
        """Whether this process still runs (on this host: the caller checks the host)."""
        if self.token is not None:
            return start_token(self.pid) == self.token
        return _pid_alive(self.pid)


def interrupted(row: Mapping[str, Any], host: str, now: datetime,
                max_age: timedelta = DEFAULT_MAX_AGE) -> bool:
    """Whether run ``row`` (as :meth:`~archive.store.db.Archive.runs` gives it) is
    ``running`` but its process is gone: dead on this ``host``, or, on another host or
    with no owner recorded, started more than ``max_age`` before ``now``."""
    if row.get("status") != "running":
        return False
    owner = RunOwner.from_extra(row.get("extra") or {})
    if owner is not None and owner.host == host:
        return not owner.alive()
    started = row.get("started")
    return not isinstance(started, str) or parse_utc(started) < now - max_age
