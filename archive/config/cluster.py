"""The ``[cluster]`` table of ``config/sources.toml``: crawl workers on several machines.

``redis_url`` (optional; ``MEDIAWATCH_REDIS_URL`` in the environment wins): the Redis
server the crawl queue lives in (``redis://host:6379/0``). Without it mediawatch runs on
one machine exactly as before; with it ``mediawatch schedule`` and ``crawl --cluster``
enqueue one job per source's crawl and ``mediawatch worker`` processes run them
(:mod:`scheduler.cluster`). ``queue`` (default ``mediawatch``): the queue's name, so
several archives can share one Redis. ``lease`` (a duration, default ``60s``): how long a
source's lease lives without renewal, i.e. how soon after a worker dies its source is
crawled again (workers renew it every third of that). ``warc_store`` (optional,
``s3://bucket/prefix``): WARC files reach the ingest through S3-compatible object storage
instead of a shared directory (:mod:`archive.warc.objectstore`; endpoint and credentials
from the standard ``AWS_*`` environment variables).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from archive.config.files import ConfigError, no_unknown
from archive.config.schedules import parse_duration

__all__ = ["REDIS_ENV", "ClusterSettings", "parse_cluster"]

#: The environment variable that switches the cluster mode on (and wins over the file).
REDIS_ENV = "MEDIAWATCH_REDIS_URL"
_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """The ``[cluster]`` table; every key optional. No ``redis_url``: no cluster."""

    redis_url: str | None = None
    queue: str = "mediawatch"
    lease: float = 60.0
    warc_store: str | None = None

    @property
    def enabled(self) -> bool:
        """Whether crawls go through the Redis queue."""
        return bool(self.redis_url)

    def from_environment(self, environ: dict[str, str] | None = None) -> ClusterSettings:
        """These settings with ``MEDIAWATCH_REDIS_URL`` applied (when set and not empty)."""
        url = (os.environ if environ is None else environ).get(REDIS_ENV, "").strip()
        if not url:
            return self
        check_redis_url(url, REDIS_ENV, REDIS_ENV)
        return ClusterSettings(url, self.queue, self.lease, self.warc_store)


def check_redis_url(value: str, path: str, key: str) -> str:
    """``value`` when it is a redis://, rediss:// or unix:// URL; else :class:`ConfigError`."""
    parts = urlsplit(value)
    if parts.scheme not in _SCHEMES or not (parts.netloc or parts.path):
        raise ConfigError(path, None, key, f"not a redis:// URL: {value!r}")
    return value


def check_store_url(value: str, path: str, key: str) -> str:
    """``value`` when it is an ``s3://bucket[/prefix]`` URL; else :class:`ConfigError`."""
    parts = urlsplit(value)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(path, None, key, f"not an s3://bucket/prefix URL: {value!r}")
    return value


def parse_cluster(raw: Any, path: str) -> ClusterSettings:
    """Validate the ``[cluster]`` table (pure; ``path`` only for messages)."""
    if not isinstance(raw, dict):
        raise ConfigError(path, None, "cluster", "must be a table")
    no_unknown(raw, set(ClusterSettings.__slots__), path, None, "cluster.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"cluster.{key}"
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(path, None, name, "must be a non-empty string")
        if key == "redis_url":
            values[key] = check_redis_url(value.strip(), path, name)
        elif key == "warc_store":
            values[key] = check_store_url(value.strip(), path, name)
        elif key == "queue":
            values[key] = value.strip()
        else:
            try:
                seconds = parse_duration(value)
            except ConfigError as exc:
                raise ConfigError(path, None, name, exc.msg) from None
            if seconds < 3:
                raise ConfigError(path, None, name, "must be at least 3s")
            values[key] = seconds
    return ClusterSettings(**values)
