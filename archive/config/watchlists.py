"""Load and validate ``config/watchlists.toml``: saved searches that raise alerts.

A watchlist is a named search (the syntax of :func:`archive.store.search.fts_expression`) with
optional filters and delivery targets::

    [smtp]                        # needed only when a watchlist or [health] has `email`
    host = "smtp.example.org"
    port = 587
    from = "mediawatch@example.org"
    starttls = true
    user = "mediawatch"
    password_env = "MEDIAWATCH_SMTP_PASSWORD"   # the password is read from this variable

    [health]                      # where source-health alerts go besides the Atom feed
    webhook = "https://hooks.example.org/mediawatch"
    email = "desk@example.org"

    [web]                         # where alerts link the archived article and its capture
    base_url = "https://archive.example.org"     # the web interface (`mediawatch serve`)
    replay_url = "https://replay.example.org"    # its replay origin (--replay-port)

    [[watchlist]]
    name = "s400-deliveries"      # required, unique, [a-z0-9][a-z0-9_-]*: also a file name
    query = "S-400"               # required; names match in every script and spelling
    exact = false                 # true: match the words as typed (no widening)
    sources = ["sputnik", "tass"] # only these source ids (default: all)
    language = "en"               # only this language (primary subtag matches en-GB)
    tags = ["Defence"]            # an article matches when it has any of these tags
    max_age_days = 7              # `new` alerts only for stories this recent (0: any age)
    edits = ["headline", "number"] # `update` alerts only for edits of these kinds
                                  # (archive.diffs; default: any new version that matches)
    webhook = "https://hooks.example.org/s400"
    email = "analyst@example.org"

The file is parsed once into frozen dataclasses (:class:`Watchlists`). Unknown keys and bad
values raise :class:`~archive.config.files.ConfigError` naming the file, the watchlist and
the key, because a misspelt filter would otherwise silently widen a watchlist for months.
Source ids are not checked against ``config/sources.toml`` here (the sources file is
loaded on its own); an unknown id simply never matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.config.files import ConfigError, no_unknown, parse_toml, read_text
from archive.diffs import KINDS
from archive.store.query import QueryError, fts_expression

__all__ = [
    "DEFAULT_PATH",
    "HealthTargets",
    "SmtpSettings",
    "Watchlist",
    "Watchlists",
    "WebLinks",
    "load_watchlists",
    "parse_watchlists",
]

DEFAULT_PATH = Path("config/watchlists.toml")
#: Names become file names (``<data>/alerts/<name>.atom``); a leading ``_`` is reserved
#: for the archive's own feeds (``_health``).
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_SOURCE_ID = re.compile(r"^[a-z0-9_-]+$")
_TOP_KEYS = frozenset({"watchlist", "smtp", "health", "web"})
_WATCHLIST_KEYS = frozenset({"name", "query", "sources", "language", "tags", "max_age_days",
                             "edits", "webhook", "email", "exact"})
DEFAULT_MAX_AGE_DAYS = 7
_SMTP_KEYS = frozenset({"host", "port", "from", "starttls", "user", "password_env"})
_HEALTH_KEYS = frozenset({"webhook", "email"})
_WEB_KEYS = frozenset({"base_url", "replay_url"})


def _error(path: str | Path, watchlist: str | None, key: str | None, msg: str) -> ConfigError:
    """The :class:`ConfigError` of a bad value in a watchlists file."""
    return ConfigError(path, watchlist, key, msg, kind="watchlist")


@dataclass(frozen=True, slots=True)
class Watchlist:
    """One saved search: ``match`` is ``query`` translated to an FTS5 expression.

    ``max_age_days``: a ``new`` alert needs the story published (or first seen) within
    that many days; 0 means any age (see :mod:`scheduler.monitor.alerts`).
    ``edits``: when set, an ``update`` alert needs an edit with a change of one of these
    kinds (:data:`archive.diffs.KINDS`) since the version last alerted.
    ``exact``: match the words as typed; by default names are widened to every script and
    spelling at match time, as a search is (:func:`archive.store.search.widened_match`).
    """

    name: str
    query: str
    match: str
    sources: tuple[str, ...] = ()
    language: str | None = None
    tags: tuple[str, ...] = ()
    max_age_days: int = DEFAULT_MAX_AGE_DAYS
    edits: tuple[str, ...] = ()
    webhook: str | None = None
    email: str | None = None
    exact: bool = False


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """The ``[smtp]`` table; the password is read from ``password_env`` when sending."""

    host: str
    sender: str
    port: int = 25
    starttls: bool = False
    user: str | None = None
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class HealthTargets:
    """The ``[health]`` table: extra targets for source-health alerts."""

    webhook: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class WebLinks:
    """The ``[web]`` table: the origins alerts link to (no trailing slash), None when unset
    (then the origins ``mediawatch serve`` last wrote are used, see
    :mod:`scheduler.monitor.links`)."""

    base_url: str | None = None
    replay_url: str | None = None


@dataclass(frozen=True, slots=True)
class Watchlists:
    """The whole watchlists file; ``path`` is None when there is no file at all."""

    path: str | None = None
    watchlists: tuple[Watchlist, ...] = ()
    smtp: SmtpSettings | None = None
    health: HealthTargets = field(default_factory=HealthTargets)
    web: WebLinks = field(default_factory=WebLinks)

    @property
    def configured(self) -> bool:
        """True when a watchlists file was read (even one with only ``[health]``)."""
        return self.path is not None

    def __iter__(self) -> Iterator[Watchlist]:
        return iter(self.watchlists)

    def __len__(self) -> int:
        return len(self.watchlists)

    def get(self, name: str) -> Watchlist:
        """The watchlist called ``name``; :class:`ConfigError` naming the known ones."""
        for watchlist in self.watchlists:
            if watchlist.name == name:
                return watchlist
        known = ", ".join(w.name for w in self.watchlists) or "none"
        raise _error(self.path or "<no file>", name, None, f"unknown watchlist (known: {known})")


def load_watchlists(path: str | Path | None = None, *, required: bool = False) -> Watchlists:
    """Read and validate a watchlists file.

    ``path`` None means :data:`DEFAULT_PATH`. A missing file is "no watchlists" unless
    ``required`` (the user named the file), then it is an error.
    """
    path = Path(path) if path is not None else DEFAULT_PATH
    text = read_text(path, missing_ok=True)
    if text is None:
        if required:
            raise _error(path, None, None, "no such file")
        return Watchlists()
    return parse_watchlists(text, path)


def parse_watchlists(text: str, path: str | Path = "<string>") -> Watchlists:
    """Validate TOML ``text`` into :class:`Watchlists` (pure; ``path`` is for messages)."""
    data = parse_toml(text, path)
    _no_unknown(data, _TOP_KEYS, path, None)
    smtp = _parse_smtp(data["smtp"], path) if "smtp" in data else None
    health = _parse_health(data.get("health", {}), path)
    raw = data.get("watchlist", [])
    if not isinstance(raw, list):
        raise _error(path, None, "watchlist", "must be an array of tables ([[watchlist]])")
    watchlists = tuple(_parse_watchlist(item, path, i) for i, item in enumerate(raw))
    seen: set[str] = set()
    for watchlist in watchlists:
        if watchlist.name in seen:
            raise _error(path, watchlist.name, "name", "duplicate watchlist name")
        seen.add(watchlist.name)
    emails = [(w.name, w.email) for w in watchlists if w.email]
    if health.email:
        emails.append(("[health]", health.email))
    if emails and smtp is None:
        name = emails[0][0]
        raise _error(path, None if name == "[health]" else name, "email",
                             "e-mail delivery needs an [smtp] table")
    web = _parse_web(data.get("web", {}), path)
    return Watchlists(path=str(path), watchlists=watchlists, smtp=smtp, health=health, web=web)


def _no_unknown(table: Mapping[str, Any], allowed: frozenset[str], path: str | Path,
                watchlist: str | None, prefix: str = "") -> None:
    no_unknown(table, allowed, path, watchlist, prefix, kind="watchlist")


def _text(raw: Mapping[str, Any], key: str, path: str | Path, name: str | None,
          label: str | None = None) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise _error(path, name, label or key, "must be a non-empty string")
    return value.strip() if value is not None else None


def _webhook(raw: Mapping[str, Any], path: str | Path, name: str | None,
             label: str = "webhook") -> str | None:
    url = _text(raw, "webhook", path, name, label)
    if url is not None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _error(path, name, label, f"not an http(s) URL: {url!r}")
    return url


def _email(raw: Mapping[str, Any], path: str | Path, name: str | None,
           label: str = "email") -> str | None:
    address = _text(raw, "email", path, name, label)
    if address is not None and not _EMAIL.match(address):
        raise _error(path, name, label, f"not an e-mail address: {address!r}")
    return address


def _strings(raw: Mapping[str, Any], key: str, path: str | Path, name: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _error(path, name, key, "must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _parse_watchlist(raw: Any, path: str | Path, index: int) -> Watchlist:
    if not isinstance(raw, dict):
        raise _error(path, None, f"watchlist[{index}]", "must be a table")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise _error(path, str(name) if name else f"#{index + 1}", "name",
                             "required: lowercase letters, digits, '_' and '-', "
                             "starting with a letter or digit, at most 64")
    _no_unknown(raw, _WATCHLIST_KEYS, path, name)
    query = raw.get("query")
    if not isinstance(query, str):
        raise _error(path, name, "query", "required: a search query string")
    try:
        match = fts_expression(query)
    except QueryError as exc:
        raise _error(path, name, "query", str(exc)) from None
    sources = _strings(raw, "sources", path, name)
    for source in sources:
        if not _SOURCE_ID.match(source):
            raise _error(path, name, "sources", f"not a source id: {source!r}")
    language = _text(raw, "language", path, name)
    if language is not None and not _LANGUAGE.match(language.lower()):
        raise _error(path, name, "language", f"not a language code: {language!r}")
    max_age = raw.get("max_age_days", DEFAULT_MAX_AGE_DAYS)
    if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
        raise _error(path, name, "max_age_days",
                             f"must be a whole number of days, 0 for any age: {max_age!r}")
    exact = raw.get("exact", False)
    if not isinstance(exact, bool):
        raise _error(path, name, "exact", f"must be true or false: {exact!r}")
    edits = _strings(raw, "edits", path, name)
    for kind in edits:
        if kind not in KINDS:
            raise _error(path, name, "edits", f"not an edit kind: {kind!r} (one of "
                         f"{', '.join(KINDS)})")
    return Watchlist(
        name=name,
        query=query,
        match=match,
        sources=sources,
        language=language.lower() if language else None,
        tags=_strings(raw, "tags", path, name),
        max_age_days=max_age,
        edits=edits,
        webhook=_webhook(raw, path, name),
        email=_email(raw, path, name),
        exact=exact,
    )


def _parse_smtp(raw: Any, path: str | Path) -> SmtpSettings:
    if not isinstance(raw, dict):
        raise _error(path, None, "smtp", "must be a table ([smtp])")
    _no_unknown(raw, _SMTP_KEYS, path, None, "smtp.")
    host = _text(raw, "host", path, None, "smtp.host")
    if host is None:
        raise _error(path, None, "smtp.host", "required")
    sender = _text(raw, "from", path, None, "smtp.from")
    if sender is None or not _EMAIL.match(sender):
        raise _error(path, None, "smtp.from", "required: an e-mail address")
    port = raw.get("port", 25)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise _error(path, None, "smtp.port", f"not a port number: {port!r}")
    starttls = raw.get("starttls", False)
    if not isinstance(starttls, bool):
        raise _error(path, None, "smtp.starttls", "must be true or false")
    return SmtpSettings(
        host=host,
        sender=sender,
        port=port,
        starttls=starttls,
        user=_text(raw, "user", path, None, "smtp.user"),
        password_env=_text(raw, "password_env", path, None, "smtp.password_env"),
    )


def _parse_health(raw: Any, path: str | Path) -> HealthTargets:
    if not isinstance(raw, dict):
        raise _error(path, None, "health", "must be a table ([health])")
    _no_unknown(raw, _HEALTH_KEYS, path, None, "health.")
    return HealthTargets(webhook=_webhook(raw, path, None, "health.webhook"),
                         email=_email(raw, path, None, "health.email"))


def _parse_web(raw: Any, path: str | Path) -> WebLinks:
    if not isinstance(raw, dict):
        raise _error(path, None, "web", "must be a table ([web])")
    _no_unknown(raw, _WEB_KEYS, path, None, "web.")
    origins: dict[str, str | None] = {}
    for key in sorted(_WEB_KEYS):
        url = _text(raw, key, path, None, f"web.{key}")
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _error(path, None, f"web.{key}", f"not an http(s) URL: {url!r}")
            url = url.rstrip("/")
        origins[key] = url
    return WebLinks(**origins)
