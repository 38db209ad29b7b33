"""What the sources and watchlists loaders share: their error, TOML parsing and the
unknown-key check."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar


class ConfigError(ValueError):
    """A bad config value: says which file, which entry (a source, a watchlist) and which
    key, because a typo that silently fell back to a default would go unnoticed for months.
    """

    entry_kind: ClassVar[str] = "source"

    def __init__(self, file: str | Path, entry: str | None, key: str | None, msg: str):
        self.file, self.entry, self.key, self.msg = str(file), entry, key, msg
        where = str(file)
        if entry:
            where += f": {self.entry_kind} {entry!r}"
        if key:
            where += f": key {key!r}"
        super().__init__(f"{where}: {msg}")

    @property
    def source(self) -> str | None:
        """The source (or watchlist) the bad value belongs to."""
        return self.entry


def parse_toml(text: str, path: str | Path, error: type[ConfigError] = ConfigError
               ) -> dict[str, Any]:
    """TOML ``text`` as a dict; invalid TOML raises ``error`` naming ``path``."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(path, None, None, f"invalid TOML: {exc}") from exc


def no_unknown(table: Mapping[str, Any], allowed: set[str] | frozenset[str],
               path: str | Path, entry: str | None, prefix: str = "",
               error: type[ConfigError] = ConfigError) -> None:
    """Raise ``error`` for the first key of ``table`` that is not ``allowed``."""
    for key in table:
        if key not in allowed:
            raise error(path, entry, prefix + key,
                        f"unknown key (allowed: {', '.join(sorted(allowed))})")
