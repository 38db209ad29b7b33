"""Crawl-state records: what a cluster worker's crawl learned, carried back in a WARC file.

A crawl on one machine writes its polling state, its source's health and its run row
straight into ``archive.db``. A cluster worker never opens ``archive.db``: when its crawl
ends it writes the same values as one JSON ``metadata`` record
(``urn:mediawatch:crawlstate:<source>``, ``Content-Type: application/json``) in a file of
its own, ``<source>-crawlstate-<timestamp>-<serial>-<host>.warc.gz``, closed (renamed from
``.open``) after the crawl's capture files. Named so, it sorts after the captures it refers
to, and the ingest knows from the name alone to apply it
(:func:`archive.store.workerstate.apply_crawl_state`) rather than look for responses in it:
the state takes effect together with the captures, and ``reindex`` gives it again, so the
archive stays a function of the WARC files.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from archive.warc.cdxj import index_closed_warc
from archive.warc.notices import QuietArchiveIterator as ArchiveIterator
from archive.warc.writer import RotatingWarcWriter

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["STATE_URN", "is_state_file", "read_crawl_state", "write_crawl_state"]

STATE_URN = "urn:mediawatch:crawlstate:"
SUFFIX = "-crawlstate"
_FILE = re.compile(r"-crawlstate-\d{17}-\d{5}-.*\.warc(\.gz)?$")


def is_state_file(name: str) -> bool:
    """Whether a WARC file name is a crawl-state file."""
    return bool(_FILE.search(name))


def write_crawl_state(directory: Path, source: str, state: dict[str, Any],
                      when: datetime | None = None, host: str | None = None) -> Path:
    """Write ``state`` (JSON-able) as the one metadata record of a new crawl-state file in
    ``directory``; the closed file's path."""
    writer = RotatingWarcWriter(directory, source + SUFFIX, host=host,
                                software="mediawatch cluster worker",
                                on_close=index_closed_warc)
    payload = json.dumps(state, ensure_ascii=False, sort_keys=True).encode("utf-8")
    writer.write_resource(STATE_URN + source, payload, "application/json",
                          when or datetime.now(UTC), record_type="metadata")
    closed = writer.close()
    assert closed is not None
    return closed


def read_crawl_state(path: Path) -> list[dict[str, Any]]:
    """The crawl-state payloads of ``path``, in file order (other records are skipped)."""
    found: list[dict[str, Any]] = []
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            if record.rec_type != "metadata" or not uri.startswith(STATE_URN):
                continue
            found.append(json.loads(record.content_stream().read().decode("utf-8")))
    return found
