"""The per-source lease: one source's crawl on one worker at a time, across machines.

A Redis key ``mediawatch:lease:<queue>:<source>`` set with ``SET NX PX`` to the holder's
token (worker name and job id). The holder renews it every third of its life
(:class:`LeaseKeeper`, a thread in the crawling process), and deletes it when the crawl is
done; renewal and release compare the token first (Lua), so a holder that lost the lease
can never extend or delete another's. A worker that dies stops renewing, and the lease
expires ``lease`` seconds later: the job RQ then hands to another worker (its retry of the
abandoned job) can take it.

Politeness holds by construction: a source's requests come from the one process holding
its lease, under that process's per-domain delay and concurrency.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from scheduler.cluster import PREFIX

if TYPE_CHECKING:
    from redis import Redis

__all__ = ["LeaseKeeper", "SourceLease", "lease_key"]

log = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def lease_key(queue: str, source_id: str) -> str:
    """The Redis key of ``source_id``'s lease in ``queue``."""
    return f"{PREFIX}:lease:{queue}:{source_id}"


class SourceLease:
    """The lease of one source, for one holder ``token``."""

    def __init__(self, redis: Redis, queue: str, source_id: str, token: str,
                 seconds: float):
        self.redis = redis
        self.key = lease_key(queue, source_id)
        self.token = token
        self.ms = max(1, int(seconds * 1000))

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (never blocks)."""
        return bool(self.redis.set(self.key, self.token, nx=True, px=self.ms))

    def wait(self, timeout: float, poll: float = 0.25) -> bool:
        """Take the lease, waiting up to ``timeout`` seconds for a holder's to expire."""
        deadline = time.monotonic() + timeout
        while True:
            if self.acquire():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(poll)

    def renew(self) -> bool:
        """Extend the lease by its full life; False when it is no longer ours."""
        return bool(self.redis.eval(_RENEW, 1, self.key, self.token, self.ms))

    def release(self) -> None:
        """Let the lease go, if it is still ours."""
        self.redis.eval(_RELEASE, 1, self.key, self.token)

    def holder(self) -> str | None:
        """The token of whoever holds the lease now."""
        value: Any = self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value


class LeaseKeeper(threading.Thread):
    """Renews a lease every third of its life until :meth:`stop`; a Redis that cannot be
    reached (restarting) is retried at the next beat, the crawl goes on meanwhile."""

    def __init__(self, lease: SourceLease):
        super().__init__(name=f"lease {lease.key}", daemon=True)
        self.lease = lease
        self._stop_event = threading.Event()
        self.lost = False

    def run(self) -> None:
        """Renew until stopped."""
        beat = self.lease.ms / 3000
        while not self._stop_event.wait(beat):
            try:
                if not self.lease.renew() and not self.lost:
                    self.lost = True
                    log.error("lost the lease %s", self.lease.key)
            except Exception as exc:  # redis down for a moment: try again next beat
                log.warning("could not renew %s: %s", self.lease.key, exc)

    def stop(self) -> None:
        """Stop renewing (the caller releases the lease)."""
        self._stop_event.set()
        self.join(5)
