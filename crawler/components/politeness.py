"""Per-host politeness that holds: ``per_domain_concurrency`` and ``delay`` per host, for
every crawler in the process.

Scrapy's downloader (2.19, asyncio reactor) starts a request's transfer in a task that runs
only on the next turn of the event loop, while its queue loop counts free transfer slots by
the transfers already started. With no delay the loop never breaks, so it started every
queued request of a host at once: ``per_domain_concurrency = 1`` gave 7 requests at once
with ``concurrency = 8``. And each crawler has its own downloader and slots, so sources on
one host (``mediawatch crawl`` runs them all in one process) each had their own limit.

:class:`PoliteDownloader` (the ``DOWNLOADER`` setting) counts a request as transferring
when it is taken off the queue, and keeps one count of transfers and one time of the last
request start per host for all crawlers in the process (:class:`HostGate`): a host gets at
most its slot's concurrency at once and ``delay`` between request starts, whichever source
asks. A transfer that ends wakes the queues of every crawler waiting for that host.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from time import monotonic
from typing import TYPE_CHECKING

from scrapy.core.downloader import Downloader, Slot
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred

__all__ = ["HostGate", "PoliteDownloader"]


@dataclass(slots=True)
class HostGate:
    """Transfers under way and the last request start, per host (slot key), over every
    :class:`PoliteDownloader` of the process."""

    transferring: dict[str, int] = field(default_factory=dict)
    last_start: dict[str, float] = field(default_factory=dict)
    downloaders: weakref.WeakSet[PoliteDownloader] = field(default_factory=weakref.WeakSet)

    def start(self, key: str, now: float) -> None:
        """A transfer to ``key`` begins now."""
        self.transferring[key] = self.transferring.get(key, 0) + 1
        self.last_start[key] = now

    def finish(self, key: str) -> None:
        """A transfer to ``key`` ended: wake every downloader with requests for it."""
        left = self.transferring.get(key, 0) - 1
        if left > 0:
            self.transferring[key] = left
        else:
            self.transferring.pop(key, None)
        for downloader in list(self.downloaders):
            downloader.wake(key)


#: The process's gate: one reactor, one set of hosts.
GATE = HostGate()


class PoliteDownloader(Downloader):
    """Scrapy's downloader with per-host concurrency and delay counted at dequeue time and
    shared with the other crawlers of the process (see the module docstring)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.gate = GATE
        self.gate.downloaders.add(self)

    def _slot_key(self, slot: Slot) -> str | None:
        # Slots do not know their key and cannot be weakly referenced; there are few.
        return next((k for k, s in self.slots.items() if s is slot), None)

    def wake(self, key: str) -> None:
        """Process this downloader's queue for ``key``, if it has one (a transfer to that
        host ended, maybe another crawler's)."""
        slot = self.slots.get(key)
        if slot is not None and slot.queue:
            self._process_queue(slot)

    def _process_queue(self, slot: Slot) -> None:
        """Start queued requests while the host has transfer room and its delay is over.

        Replaces Scrapy's: the request joins ``slot.transferring`` (and the host's count)
        before the loop looks at the free slots again, not when its task first runs.
        """
        if slot.latercall or not slot.queue:
            return
        key = self._slot_key(slot)
        if key is None:  # not one of ours (closed): Scrapy's own rules
            super()._process_queue(slot)
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            last = max(slot.lastseen, self.gate.last_start.get(key, 0.0))
            penalty = delay - now + last
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and self._room(key, slot) > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)
            self.gate.start(key, now)
            _schedule_coro(self._transfer(key, slot, request, queue_dfd))
            if delay:
                # One request per delay: the next start is timed by the call above.
                self._process_queue(slot)
                break

    def _room(self, key: str, slot: Slot) -> int:
        """Transfers that may start now for this host (slot)."""
        return min(slot.free_transfer_slots(),
                   slot.concurrency - self.gate.transferring.get(key, 0))

    async def _transfer(self, key: str, slot: Slot, request: Request,
                        queue_dfd: Deferred[Response]) -> None:
        """Scrapy's transfer, then the host's count released and its waiters woken.

        (Scrapy's ``_download`` wakes this slot's queue when it ends, while the host's
        count still holds this transfer; ``finish`` wakes it again once released.)
        """
        try:
            await self._wait_for_download(slot, request, queue_dfd)
        finally:
            self.gate.finish(key)

    def close(self) -> None:
        """Stop taking part in the process's per-host counts."""
        self.gate.downloaders.discard(self)
        super().close()
