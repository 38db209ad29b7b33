"""The ``[evidence]`` table of ``config/sources.toml``: trusted timestamps and signing.

``tsa_url`` (optional): the RFC 3161 time-stamping authority every closed WARC file's
SHA-256 is sent to (none: no timestamps are asked for). ``tsa_ca`` (optional): a PEM file
of the TSA's CA certificate(s), the roots ``mediawatch verify`` checks tokens' signatures
against. ``signing_key`` (optional): the PEM private key ``export --format wacz --sign``
signs with (``mediawatch keygen PATH`` makes one). Relative paths are read from the
folder of the sources file, so the config means the same from any working directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archive.config.files import ConfigError, no_unknown

__all__ = ["EvidenceSettings", "parse_evidence"]


@dataclass(frozen=True, slots=True)
class EvidenceSettings:
    """The ``[evidence]`` table; every key optional."""

    tsa_url: str | None = None
    tsa_ca: Path | None = None
    signing_key: Path | None = None

    def scrapy_settings(self) -> dict[str, Any]:
        """The ``MEDIAWATCH_*`` settings the crawl's components read."""
        return {"MEDIAWATCH_TSA_URL": self.tsa_url or ""}


def parse_evidence(raw: Any, path: str | Path) -> EvidenceSettings:
    """Validate the ``[evidence]`` table (pure; ``path`` locates relative key paths)."""
    if not isinstance(raw, dict):
        raise ConfigError(path, None, "evidence", "must be a table")
    no_unknown(raw, set(EvidenceSettings.__slots__), path, None, "evidence.")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"evidence.{key}"
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(path, None, name, "must be a non-empty string")
        if key == "tsa_url":
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(path, None, name, f"not an http(s) URL: {value!r}")
            values[key] = value
        else:
            file = Path(value).expanduser()
            values[key] = file if file.is_absolute() else Path(path).parent / file
    return EvidenceSettings(**values)
