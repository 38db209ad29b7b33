"""Where alerts link to: the archived article (web interface) and the capture (replay).

An alert names the live page, which can change or vanish; evidence needs the archive's own
copy. Each watchlist alert therefore links the article page of the web interface
(``<base_url>/articles/<id>#versions``) and the replay permalink of the capture that holds
the announced version (``<replay_url>/replay/<YYYYmmddHHMMSS>/<url>``).

The feed is written by ``mediawatch crawl``, which does not know where the interface is
served, so the origins come from, per key:

1. ``[web] base_url`` / ``replay_url`` in the watchlists file (what readers outside this
   machine should use: a public host name, a reverse proxy);
2. else ``<data>/serve.json``, which ``mediawatch serve`` writes when it starts (the
   origins it prints; the last one started wins);
3. else none: the entry keeps its text and live link but has no archive links (a link to a
   guessed port would be worse than none).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from archive.config.watchlists import WebLinks
from archive.replay.rules import replay_path
from archive.web.views import replay_timestamp

__all__ = ["SERVE_FILE", "ArchiveLinks", "archive_links", "read_serve_origins",
           "resolve_origins", "write_serve_origins"]

SERVE_FILE = "serve.json"


@dataclass(frozen=True, slots=True)
class ArchiveLinks:
    """The archive's links of one alert: article page and capture permalink (None: unknown)."""

    article: str | None = None
    capture: str | None = None


def write_serve_origins(data_dir: str | Path, ui: str, replay: str) -> None:
    """Record the origins ``mediawatch serve`` answers on (atomically replaced)."""
    directory = Path(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"base_url": ui.rstrip("/"), "replay_url": replay.rstrip("/")})
    fd, tmp = tempfile.mkstemp(prefix=SERVE_FILE + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data + "\n")
        os.replace(tmp, directory / SERVE_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_serve_origins(data_dir: str | Path) -> WebLinks:
    """The origins in ``<data>/serve.json``; empty when absent or unreadable (the feed is
    then written without archive links rather than not at all)."""
    try:
        raw = json.loads((Path(data_dir) / SERVE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return WebLinks()
    if not isinstance(raw, dict):
        return WebLinks()
    values = [raw.get(key) for key in ("base_url", "replay_url")]
    return WebLinks(*(v if isinstance(v, str) and v.startswith(("http://", "https://"))
                      else None for v in values))


def resolve_origins(configured: WebLinks, data_dir: str | Path) -> WebLinks:
    """``[web]`` where set, else what ``mediawatch serve`` wrote (module docstring)."""
    if configured.base_url and configured.replay_url:
        return configured
    served = read_serve_origins(data_dir)
    return WebLinks(configured.base_url or served.base_url,
                    configured.replay_url or served.replay_url)


def archive_links(row: dict[str, Any] | Any, origins: WebLinks) -> ArchiveLinks:
    """The links of one alert row (columns ``article_id``, ``capture_url``,
    ``capture_fetched_at``) under ``origins`` (pure)."""
    article = capture = None
    if origins.base_url and row["article_id"]:
        article = f"{origins.base_url}/articles/{quote(str(row['article_id']), safe='')}#versions"
    if origins.replay_url and row["capture_url"] and row["capture_fetched_at"]:
        ts = replay_timestamp(str(row["capture_fetched_at"]))
        capture = origins.replay_url + replay_path(str(row["capture_url"]), ts)
    return ArchiveLinks(article, capture)
