"""The error of a bad config file, shared by the sources and watchlists loaders."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


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
