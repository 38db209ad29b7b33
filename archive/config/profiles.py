"""Site profiles: how one outlet's pages are parsed, as data, versioned by capture date.

Sites change their markup. A profile says how the pages of one period look: CSS/XPath
``selectors``, the visible ``date_format`` and ``timezone``, the page ``language``, and
rules for that outlet's furniture: ``drop`` (body paragraphs to remove, e.g. an agency's
subscription disclaimer), ``title_strip`` (a site suffix such as ``-新华网``),
``tags_exclude`` / ``authors_exclude`` (internal codes, bylines that are not people). Every
rule is a regular expression matched case-insensitively: ``drop``, ``tags_exclude`` and
``authors_exclude`` against the whole value (``re.fullmatch``), ``title_strip`` removed
wherever it matches (anchor it with ``$``).

A profile is valid from ``valid_from`` (inclusive) until ``valid_until`` (exclusive), both
capture times (a TOML date or date-time; a date means 00:00 UTC); either may be left out.
Windows of one source must not overlap. ``reindex`` parses each capture with the profile
valid when the capture was made (:meth:`archive.config.sources.Source.at`), so an archive
rebuilt in 2030 still parses 2024 pages with the 2024 markup.

Profiles live in ``profiles/<source id>.toml`` beside the sources file (``[[profile]]``
tables), or inline as ``[[source.profile]]``. A source's own ``selectors``, ``date_format``
and ``timezone`` keys stay valid: they are the fallback for captures no dated profile covers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from itertools import pairwise
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from archive.config.files import ConfigError, no_unknown, parse_toml, read_text

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["RULE_KEYS", "SELECTOR_FIELDS", "Profile", "check_windows", "load_profile_file",
           "parse_profiles", "rule_matches"]

SELECTOR_FIELDS = frozenset(
    {"title", "published", "modified", "authors", "lead", "body", "section", "tags", "short_url"}
)
#: The regex-list keys of a profile.
RULE_KEYS = ("drop", "title_strip", "tags_exclude", "authors_exclude")
_PROFILE_KEYS = {"valid_from", "valid_until", "note", "selectors", "date_format", "timezone",
                 "language", *RULE_KEYS}
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")


@dataclass(frozen=True, slots=True)
class Profile:
    """One period of one outlet's markup (see the module docstring)."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str | None = None
    selectors: Mapping[str, str] = field(default_factory=dict)
    date_format: str | None = None
    timezone: str | None = None
    language: str | None = None
    drop: tuple[str, ...] = ()
    title_strip: tuple[str, ...] = ()
    tags_exclude: tuple[str, ...] = ()
    authors_exclude: tuple[str, ...] = ()

    def covers(self, when: datetime | None) -> bool:
        """True when a capture made at ``when`` falls in this profile's window; ``None``
        (no capture time: a page read from a file) means now, so the current profile."""
        if when is None:
            return self.valid_until is None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return ((self.valid_from is None or when >= self.valid_from)
                and (self.valid_until is None or when < self.valid_until))

    @property
    def label(self) -> str:
        """``from..until`` in days, for logs and ``extract`` output."""
        start = self.valid_from.date().isoformat() if self.valid_from else ""
        end = self.valid_until.date().isoformat() if self.valid_until else ""
        return f"{start}..{end}"


def rule_matches(patterns: tuple[str, ...], value: str) -> bool:
    """True when ``value`` matches one of ``patterns`` whole (case-insensitive)."""
    return any(re.fullmatch(p, value.strip(), re.IGNORECASE | re.DOTALL) for p in patterns)


def _moment(value: Any, path: str | Path, sid: str, key: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(path, sid, key, f"not a date: {value!r} (use 2024-05-01)") from None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=UTC)
    raise ConfigError(path, sid, key, "must be a date such as 2024-05-01")


def _regexes(raw: dict[str, Any], key: str, path: str | Path, sid: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(path, sid, key, "must be a list of regular expressions")
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(path, sid, key, f"bad regex {pattern!r}: {exc}") from None
    return tuple(value)


def parse_selectors(raw: Any, path: str | Path, sid: str) -> dict[str, str]:
    """A validated ``selectors`` table (field name -> CSS or XPath)."""
    if not isinstance(raw, dict):
        raise ConfigError(path, sid, "selectors", "must be a table ([source.selectors])")
    no_unknown(raw, SELECTOR_FIELDS, path, sid, "selectors.")
    for key, sel in raw.items():
        if not isinstance(sel, str) or not sel.strip():
            raise ConfigError(path, sid, f"selectors.{key}", "must be a non-empty selector")
    return dict(raw)


def parse_timezone(value: Any, path: str | Path, sid: str) -> str | None:
    """An IANA zone name, checked against the zone database."""
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(path, sid, "timezone", f"unknown time zone {value!r} (use an "
                          "IANA name such as Europe/Moscow)") from None
    return str(value)


def parse_language(value: Any, path: str | Path, sid: str) -> str | None:
    """A language code such as ``en`` or ``pt-BR``."""
    if value is not None and (not isinstance(value, str) or not LANGUAGE.match(value)):
        raise ConfigError(path, sid, "language", f"not a language code: {value!r}")
    return value


def _text(raw: dict[str, Any], key: str, path: str | Path, sid: str) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(path, sid, key, "must be a non-empty string")
    return value


def _parse_profile(raw: Any, path: str | Path, sid: str) -> Profile:
    if not isinstance(raw, dict):
        raise ConfigError(path, sid, "profile", "must be a table ([[profile]])")
    no_unknown(raw, _PROFILE_KEYS, path, sid, "profile.")
    start = _moment(raw.get("valid_from"), path, sid, "profile.valid_from")
    end = _moment(raw.get("valid_until"), path, sid, "profile.valid_until")
    if start and end and end <= start:
        raise ConfigError(path, sid, "profile.valid_until", "must be after valid_from")
    rules = {key: _regexes(raw, key, path, sid) for key in RULE_KEYS}
    return Profile(valid_from=start, valid_until=end, note=_text(raw, "note", path, sid),
                   selectors=parse_selectors(raw.get("selectors", {}), path, sid),
                   date_format=_text(raw, "date_format", path, sid),
                   timezone=parse_timezone(raw.get("timezone"), path, sid),
                   language=parse_language(raw.get("language"), path, sid), **rules)


def parse_profiles(raw: Any, path: str | Path, sid: str) -> tuple[Profile, ...]:
    """Validate a list of profile tables, sorted by start; overlapping windows are an error."""
    if not isinstance(raw, list):
        raise ConfigError(path, sid, "profile", "must be an array of tables ([[profile]])")
    return check_windows([_parse_profile(item, path, sid) for item in raw], path, sid)


def check_windows(profiles: list[Profile] | tuple[Profile, ...], path: str | Path,
                  sid: str) -> tuple[Profile, ...]:
    """``profiles`` oldest first; :class:`ConfigError` when two windows overlap."""
    profiles = sorted(profiles, key=lambda p: p.valid_from or datetime.min.replace(tzinfo=UTC))
    for before, after in pairwise(profiles):
        if before.valid_until is None or (after.valid_from or before.valid_until) < \
                before.valid_until:
            raise ConfigError(path, sid, "profile", f"profiles {before.label} and "
                              f"{after.label} overlap: give the earlier one a valid_until")
    return tuple(profiles)


def load_profile_file(path: Path, sid: str) -> tuple[Profile, ...]:
    """The ``[[profile]]`` tables of ``path`` (empty when the file does not exist)."""
    text = read_text(path, missing_ok=True)
    if text is None:
        return ()
    data = parse_toml(text, path)
    no_unknown(data, {"profile"}, path, sid)
    return parse_profiles(data.get("profile", []), path, sid)
