"""Load and validate ``config/sources.toml`` into frozen dataclasses.

The file is parsed once; everything downstream sees :class:`Config`, :class:`CrawlSettings`
and :class:`Source`. Unknown keys and bad values raise :class:`ConfigError` naming the file,
the source id and the key, because a typo in a selector name would otherwise silently fall
back to generic extraction for months.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from archive.config.cluster import ClusterSettings, parse_cluster
from archive.config.evidence import EvidenceSettings, parse_evidence
from archive.config.files import ConfigError, no_unknown, parse_toml, read_text
from archive.config.profiles import (
    SELECTOR_FIELDS,
    Profile,
    check_windows,
    load_profile_file,
    parse_language,
    parse_profiles,
    parse_selectors,
    parse_timezone,
)
from archive.config.schedules import parse_duration, parse_schedule

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["SELECTOR_FIELDS", "Config", "CrawlSettings", "Source", "load_sources",
           "parse_size", "parse_sources"]

SOURCE_ID = re.compile(r"^[a-z0-9_-]+$")
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2,
               "G": 1024**3, "GB": 1024**3}


@dataclass(frozen=True, slots=True)
class CrawlSettings:
    """The ``[crawl]`` table: defaults for every source."""

    user_agent: str = "mediawatch/0.1 (+https://github.com/mediawatch/mediawatch)"
    obey_robots: bool = True
    # Requests, redirects and webhooks to private, loopback or link-local addresses are
    # refused unless this (or a source's own, or MEDIAWATCH_ALLOW_PRIVATE=1) allows them.
    allow_private: bool = False
    concurrency: int = 16
    per_domain_concurrency: int = 2
    delay: float = 1.0
    timeout: float = 30.0
    max_page_size: int = 10 * 1024**2
    warc_max_size: int = 1024**3
    # A crawl stops cleanly when its data directory has less free space than this
    # (crawler/components/diskspace.py); 0 turns the check off.
    min_free_space: int = 200 * 1024**2
    # Read by the scheduler service, not by Scrapy: seconds, from "1h" / "10m" / "90s".
    run_timeout: float = 3600.0
    misfire_grace: float = 600.0
    # Incremental crawling (crawler/incremental.py): seconds, from durations in the file.
    recheck: tuple[float, ...] = (3600.0, 6 * 3600.0, 24 * 3600.0, 72 * 3600.0)
    # Re-check requests per crawl of a source (0: none), and whether each source's
    # checkpoints are learned from its edit history (crawler/recheck.py).
    recheck_budget: int = 100
    recheck_learn: bool = True
    poll_min: float = 300.0
    poll_max: float = 6 * 3600.0
    # Sitemap index chains (a hostile or broken site can nest them for ever): how deep
    # nested sitemaps are followed below a configured one, and how many sitemaps one source
    # fetches in one run. Sitemaps past either bound are counted and logged, never fetched.
    sitemap_depth: int = 5
    max_sitemaps: int = 500
    # Page requisites (crawler/pages/requisites.py): with every article page, fetch the
    # stylesheets, images, fonts, icons and scripts it needs, so that it replays as it looked;
    # per page at most max_requisites requests and, once their bytes reach
    # max_requisite_bytes, no more (a resource is also cut at the page's remaining budget).
    requisites: bool = True
    max_requisites: int = 60
    max_requisite_bytes: int = 5 * 1024**2
    # Screenshots as evidence (crawler/screenshots.py): each new article version rendered
    # from its capture through the replay app and stored as a WARC resource record.
    screenshots: bool = False

    def scrapy_settings(self) -> dict[str, Any]:
        """These values under the Scrapy setting names they drive."""
        return {
            "USER_AGENT": self.user_agent,
            "ROBOTSTXT_OBEY": self.obey_robots,
            "MEDIAWATCH_ALLOW_PRIVATE": self.allow_private,
            "CONCURRENT_REQUESTS": self.concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": self.per_domain_concurrency,
            "DOWNLOAD_DELAY": self.delay,
            "DOWNLOAD_TIMEOUT": self.timeout,
            "DOWNLOAD_MAXSIZE": self.max_page_size,
            "MEDIAWATCH_WARC_MAX_SIZE": self.warc_max_size,
            "MEDIAWATCH_MIN_FREE_SPACE": self.min_free_space,
            "MEDIAWATCH_RECHECK": list(self.recheck),
            "MEDIAWATCH_RECHECK_BUDGET": self.recheck_budget,
            "MEDIAWATCH_RECHECK_LEARN": self.recheck_learn,
            "MEDIAWATCH_POLL_MIN": self.poll_min,
            "MEDIAWATCH_POLL_MAX": self.poll_max,
            "MEDIAWATCH_SITEMAP_DEPTH": self.sitemap_depth,
            "MEDIAWATCH_MAX_SITEMAPS": self.max_sitemaps,
            "MEDIAWATCH_REQUISITES": self.requisites,
            "MEDIAWATCH_MAX_REQUISITES": self.max_requisites,
            "MEDIAWATCH_MAX_REQUISITE_BYTES": self.max_requisite_bytes,
            "MEDIAWATCH_SCREENSHOTS": self.screenshots,
        }


@dataclass(frozen=True, slots=True)
class Source:
    """One outlet: where to start, which links are articles, and how to parse its pages."""

    id: str
    name: str
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    schedule: str = "every 1h"
    language: str | None = None
    selectors: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    # IANA zone name (Europe/Moscow) zone-less page dates are read in; None: the offset of
    # the page's other dates, else UTC (see crawler.pages.pubdates).
    timezone: str | None = None
    # None: the [crawl] table's allow_private decides.
    allow_private: bool | None = None
    # None: the [crawl] table's requisites decides.
    requisites: bool | None = None
    # None: the [crawl] table's screenshots decides.
    screenshots: bool | None = None
    # None: the [crawl] table's recheck_budget decides.
    recheck_budget: int | None = None
    # Dated site profiles (archive.config.profiles), oldest first; :meth:`at` applies one.
    profiles: tuple[Profile, ...] = ()
    # The furniture rules of the applied profile (regexes; see archive.config.profiles).
    drop: tuple[str, ...] = ()
    title_strip: tuple[str, ...] = ()
    tags_exclude: tuple[str, ...] = ()
    authors_exclude: tuple[str, ...] = ()
    # The window of the profile :meth:`at` applied ("2024-01-01.."), None: the source's own keys.
    profile: str | None = None

    def at(self, when: datetime | None) -> Source:
        """This source as parsed for a capture made at ``when`` (None: now): the fields of
        the dated profile valid then replace the source's own; with none valid, the source's
        own ``selectors``/``date_format``/``timezone`` apply, unchanged."""
        found = next((p for p in self.profiles if p.covers(when)), None)
        if found is None:
            return self
        return replace(
            self, selectors={**self.selectors, **found.selectors},
            date_format=found.date_format or self.date_format,
            timezone=found.timezone or self.timezone, language=found.language or self.language,
            drop=found.drop, title_strip=found.title_strip, tags_exclude=found.tags_exclude,
            authors_exclude=found.authors_exclude, profile=found.label)

    def follows(self, url: str) -> bool:
        """True when ``url`` matches one of the ``follow`` regexes (all URLs when none set)."""
        return not self.follow or any(re.search(p, url) for p in self.follow)

    def allows(self, url: str) -> bool:
        """True when ``url``'s host is one of ``allowed_domains`` or a subdomain of one
        (every host when the list is empty)."""
        if not self.allowed_domains:
            return True
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    @property
    def start_urls(self) -> tuple[str, ...]:
        """Every configured entry point."""
        return self.feeds + self.sitemaps + self.sections


@dataclass(frozen=True, slots=True)
class Config:
    """The whole sources file."""

    path: str
    crawl: CrawlSettings
    sources: tuple[Source, ...]
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    #: ``[cluster]`` as written in the file; :attr:`cluster_settings` applies the environment.
    cluster: ClusterSettings = field(default_factory=ClusterSettings)

    @property
    def cluster_settings(self) -> ClusterSettings:
        """``[cluster]`` with ``MEDIAWATCH_REDIS_URL`` applied: the cluster mode in force."""
        return self.cluster.from_environment()

    def source(self, source_id: str) -> Source:
        """The source with this id; :class:`ConfigError` naming the known ids otherwise."""
        for src in self.sources:
            if src.id == source_id:
                return src
        known = ", ".join(s.id for s in self.sources)
        raise ConfigError(self.path, source_id, None, f"unknown source id (known: {known})")


def load_sources(path: str | Path) -> Config:
    """Read and validate a sources file."""
    path = Path(path)
    text = read_text(path)
    assert text is not None  # missing_ok is off: a missing file raised
    config = parse_sources(text, path)
    return replace(config, sources=tuple(_with_profile_file(src, path.parent / "profiles")
                                         for src in config.sources))


def _with_profile_file(src: Source, folder: Path) -> Source:
    """``src`` with the profiles of ``folder/<id>.toml`` (if any) after its inline ones."""
    dated = load_profile_file(folder / f"{src.id}.toml", src.id)
    if not dated:
        return src
    return replace(src, profiles=check_windows((*src.profiles, *dated),
                                               folder / f"{src.id}.toml", src.id))


def parse_sources(text: str, path: str | Path = "<string>") -> Config:
    """Validate TOML ``text`` into a :class:`Config` (pure; ``path`` is only for messages)."""
    data = parse_toml(text, path)
    no_unknown(data, {"crawl", "source", "evidence", "cluster"}, path, None)
    crawl = _parse_crawl(data.get("crawl", {}), path)
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list):
        raise ConfigError(path, None, "source", "must be an array of tables ([[source]])")
    sources = tuple(_parse_source(raw, path, i) for i, raw in enumerate(raw_sources))
    seen: set[str] = set()
    for src in sources:
        if src.id in seen:
            raise ConfigError(path, src.id, "id", "duplicate source id")
        seen.add(src.id)
    return Config(path=str(path), crawl=crawl, sources=sources,
                  evidence=parse_evidence(data.get("evidence", {}), path),
                  cluster=parse_cluster(data.get("cluster", {}), str(path)))


# Keys for which 0 would stop the crawl or every request: a limit, not an "off" switch.
_AT_LEAST_ONE = frozenset({"concurrency", "per_domain_concurrency", "max_sitemaps"})


def _parse_crawl(raw: Any, path: str | Path) -> CrawlSettings:
    if not isinstance(raw, dict):
        raise ConfigError(path, None, "crawl", "must be a table")
    defaults = CrawlSettings()
    no_unknown(raw, set(CrawlSettings.__slots__), path, None, "crawl.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        default = getattr(defaults, key)
        name = f"crawl.{key}"
        if key in ("max_page_size", "warc_max_size", "max_requisite_bytes"):
            values[key] = parse_size(value, path, name)
        elif key == "min_free_space":
            values[key] = 0 if value == 0 else parse_size(value, path, name)
        elif key in ("run_timeout", "misfire_grace", "poll_min", "poll_max"):
            values[key] = _duration(value, path, name)
        elif key == "recheck":
            if not isinstance(value, list):
                raise ConfigError(path, None, name, "must be a list of durations, e.g. ['1h']")
            values[key] = tuple(sorted(_duration(v, path, name) for v in value))
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(path, None, name, "must be true or false")
            values[key] = value
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(path, None, name, "must be a non-negative number")
            if isinstance(default, int) and not isinstance(value, int):
                raise ConfigError(path, None, name, "must be a whole number")
            if key in _AT_LEAST_ONE and value < 1:
                raise ConfigError(path, None, name, "must be at least 1")
            values[key] = value
        else:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(path, None, name, "must be a non-empty string")
            values[key] = value
    return CrawlSettings(**values)


def parse_size(value: Any, path: str | Path = "<string>", key: str = "size") -> int:
    """Bytes from an integer or a string such as ``"10MB"`` / ``"1 GB"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and (m := SIZE.match(value)):
        return int(float(m.group(1)) * _SIZE_UNITS[m.group(2).upper()])
    raise ConfigError(path, None, key, f"not a size: {value!r} (use bytes or e.g. '10MB')")


def _duration(value: Any, path: str | Path, key: str) -> float:
    try:
        return parse_duration(value)
    except ConfigError as exc:
        raise ConfigError(path, None, key, exc.msg) from None


_SOURCE_KEYS = {"id", "name", "feeds", "sitemaps", "sections", "follow", "allowed_domains",
                "schedule", "language", "selectors", "date_format", "allow_private",
                "timezone", "requisites", "screenshots", "profile", "recheck_budget"}


def _parse_source(raw: Any, path: str | Path, index: int) -> Source:
    if not isinstance(raw, dict):
        raise ConfigError(path, None, f"source[{index}]", "must be a table")
    sid = raw.get("id")
    if not isinstance(sid, str) or not SOURCE_ID.match(sid):
        raise ConfigError(path, str(sid) if sid else f"#{index + 1}", "id",
                          "required, lowercase letters, digits, '_' and '-' only")
    no_unknown(raw, _SOURCE_KEYS, path, sid)

    def strings(key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(path, sid, key, "must be a list of non-empty strings")
        return tuple(value)

    def urls(key: str) -> tuple[str, ...]:
        values = strings(key)
        for url in values:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(path, sid, key, f"not an http(s) URL: {url!r}")
        return values

    def text(key: str) -> str | None:
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(path, sid, key, "must be a non-empty string")
        return value

    follow = strings("follow")
    for pattern in follow:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(path, sid, "follow", f"bad regex {pattern!r}: {exc}") from exc

    schedule = text("schedule") or "every 1h"
    try:
        parse_schedule(schedule)
    except ConfigError as exc:
        raise ConfigError(path, sid, "schedule", exc.msg) from None

    selectors = parse_selectors(raw.get("selectors", {}), path, sid)

    allow_private = raw.get("allow_private")
    if allow_private is not None and not isinstance(allow_private, bool):
        raise ConfigError(path, sid, "allow_private", "must be true or false")
    requisites = raw.get("requisites")
    if requisites is not None and not isinstance(requisites, bool):
        raise ConfigError(path, sid, "requisites", "must be true or false")
    screenshots = raw.get("screenshots")
    if screenshots is not None and not isinstance(screenshots, bool):
        raise ConfigError(path, sid, "screenshots", "must be true or false")

    recheck_budget = raw.get("recheck_budget")
    if recheck_budget is not None and (isinstance(recheck_budget, bool) or not isinstance(
            recheck_budget, int) or recheck_budget < 0):
        raise ConfigError(path, sid, "recheck_budget", "must be a whole number, 0 or more")

    language = parse_language(text("language"), path, sid)
    zone = parse_timezone(text("timezone"), path, sid)
    src = Source(
        id=sid,
        name=text("name") or sid,
        feeds=urls("feeds"),
        sitemaps=urls("sitemaps"),
        sections=urls("sections"),
        follow=follow,
        allowed_domains=tuple(d.lower() for d in strings("allowed_domains")),
        schedule=schedule,
        language=language,
        selectors=selectors,
        date_format=text("date_format"),
        timezone=zone,
        allow_private=allow_private,
        requisites=requisites,
        screenshots=screenshots,
        recheck_budget=recheck_budget,
        profiles=parse_profiles(raw.get("profile", []), path, sid),
    )
    if not src.start_urls:
        raise ConfigError(path, sid, "feeds", "needs at least one feed, sitemap or section")
    return src


#: The names the sources loader had before :mod:`archive.config` gathered every loader.
load_config = load_sources
parse_config = parse_sources
