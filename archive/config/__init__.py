"""Every TOML file mediawatch reads, loaded and validated into frozen dataclasses.

* ``config/sources.toml`` (:func:`load_sources` -> :class:`Config`): the ``[crawl]``
  defaults (:class:`CrawlSettings`) and the ``[[source]]`` entries (:class:`Source`), with
  their schedules (:func:`parse_schedule`: ``every 30m`` or a cron line checked as the
  scheduler will read it) and durations (:func:`parse_duration`);
* the ``[evidence]`` table of ``config/sources.toml`` (:class:`EvidenceSettings`: TSA,
  its CA, signing key), parsed with the sources file into :attr:`Config.evidence`;
* ``config/watchlists.toml`` (:func:`load_watchlists` -> :class:`Watchlists`): saved
  searches (:class:`Watchlist`), ``[smtp]`` (:class:`SmtpSettings`) and ``[health]``
  (:class:`HealthTargets`).

Every bad value raises the one :class:`ConfigError`, naming the file, the entry (a source,
a watchlist) and the key. Pure apart from reading the file: no network, no database.
"""

from __future__ import annotations

from archive.config.evidence import EvidenceSettings
from archive.config.files import ConfigError
from archive.config.schedules import Schedule, check_cron, parse_duration, parse_schedule
from archive.config.sources import (
    Config,
    CrawlSettings,
    Source,
    load_sources,
    parse_size,
    parse_sources,
)
from archive.config.watchlists import (
    HealthTargets,
    SmtpSettings,
    Watchlist,
    Watchlists,
    load_watchlists,
    parse_watchlists,
)

__all__ = [
    "Config",
    "ConfigError",
    "CrawlSettings",
    "EvidenceSettings",
    "HealthTargets",
    "Schedule",
    "SmtpSettings",
    "Source",
    "Watchlist",
    "Watchlists",
    "check_cron",
    "load_sources",
    "load_watchlists",
    "parse_duration",
    "parse_schedule",
    "parse_size",
    "parse_sources",
    "parse_watchlists",
]
