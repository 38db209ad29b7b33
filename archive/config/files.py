"""What every config loader shares: the one :class:`ConfigError`, reading and parsing a
TOML file, and the unknown-key check."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ConfigError", "no_unknown", "parse_toml", "read_text"]


class ConfigError(ValueError):
    """A bad config value: says which file, which entry and which key, because a typo
    that silently fell back to a default would go unnoticed for months.

    The message reads ``<file>: <kind> '<entry>': key '<key>': <msg>``, each part present
    only when known: ``config/sources.toml: source 'tass': key 'selectors.headline':
    unknown key (allowed: ...)``. ``kind`` names what an entry is (``source``,
    ``watchlist``). A value checked outside any file (a schedule string given to
    :func:`archive.config.parse_schedule`) has ``file`` None; its loader re-raises the
    error with the file, entry and key filled in.
    """

    def __init__(self, file: str | Path | None, entry: str | None, key: str | None,
                 msg: str, *, kind: str = "source") -> None:
        self.file = str(file) if file is not None else None
        self.entry, self.key, self.msg, self.kind = entry, key, msg, kind
        parts = [self.file] if self.file is not None else []
        if entry:
            parts.append(f"{kind} {entry!r}")
        if key:
            parts.append(f"key {key!r}")
        super().__init__(": ".join([*parts, msg]))

    @property
    def source(self) -> str | None:
        """The source the bad value belongs to (None for other kinds of entry)."""
        return self.entry if self.kind == "source" else None

    @property
    def watchlist(self) -> str | None:
        """The watchlist the bad value belongs to (None for other kinds of entry)."""
        return self.entry if self.kind == "watchlist" else None


def read_text(path: Path, *, missing_ok: bool = False) -> str | None:
    """The text of a config file, None when it does not exist and ``missing_ok``; an
    unreadable file raises :class:`ConfigError`."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if missing_ok:
            return None
        raise ConfigError(path, None, None, "cannot read: No such file or directory"
                          ) from None
    except OSError as exc:
        raise ConfigError(path, None, None, f"cannot read: {exc.strerror or exc}") from exc


def parse_toml(text: str, path: str | Path) -> dict[str, Any]:
    """TOML ``text`` as a dict; invalid TOML raises :class:`ConfigError` naming ``path``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, None, f"invalid TOML: {exc}") from exc


def no_unknown(table: Mapping[str, Any], allowed: set[str] | frozenset[str],
               path: str | Path, entry: str | None, prefix: str = "", *,
               kind: str = "source") -> None:
    """Raise :class:`ConfigError` for the first key of ``table`` that is not ``allowed``."""
    for key in table:
        if key not in allowed:
            raise ConfigError(path, entry, prefix + key,
                              f"unknown key (allowed: {', '.join(sorted(allowed))})",
                              kind=kind)
