"""Screenshot records: how a rendered article version is written to and read from a WARC.

A screenshot is a ``resource`` record (content mediawatch made, not something it fetched):

* target URI ``urn:mediawatch:screenshot:<article id>:v<version>`` (:func:`screenshot_uri`),
  never the page URL, so replay and the CDXJ lookup of the page never meet the PNG;
* ``Content-Type: image/png``;
* ``WARC-Refers-To`` the record id of the capture it was rendered from, with
  ``WARC-Refers-To-Target-URI`` and ``WARC-Refers-To-Date`` (the page URL and capture
  time), so the record says what it shows without the database;
* ``WARC-Date`` the time it was rendered.

They go to files of their own, ``<source>-screenshots-<timestamp>-<serial>-<host>.warc.gz``
(:func:`screenshot_source`): named so, a file sorts after the crawl files it shows (its
timestamp is later) and ingest knows, from the name alone, to look for resource records in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from archive.models import WarcLocation
from archive.warc.notices import QuietArchiveIterator as ArchiveIterator

SCREENSHOT_URN = "urn:mediawatch:screenshot:"

#: What follows the source id in the name of a screenshot file.
SUFFIX = "-screenshots"

_URI = re.compile(r"^urn:mediawatch:screenshot:(?P<aid>.+):v(?P<version>\d+)$")
_FILE = re.compile(r"-screenshots-\d{17}-\d{5}-.*\.warc(\.gz)?$")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def screenshot_uri(article_id: str, version: int) -> str:
    """The target URI of the screenshot of one article version."""
    return f"{SCREENSHOT_URN}{article_id}:v{version}"


def screenshot_source(source: str) -> str:
    """The name stem (the writer's ``source``) of ``source``'s screenshot files."""
    return source + SUFFIX


def is_screenshot_file(name: str) -> bool:
    """Whether a WARC file name is one of the screenshot files."""
    return bool(_FILE.search(name))


@dataclass(frozen=True, slots=True)
class ScreenshotRecord:
    """One screenshot record as read back: where it is and what it shows."""

    location: WarcLocation
    article_id: str
    version: int
    refers_to: str | None
    page_url: str | None
    rendered_at: str


def parse_uri(uri: str) -> tuple[str, int] | None:
    """``(article id, version)`` of a screenshot target URI, or None for any other URI."""
    m = _URI.match(uri)
    return (m["aid"], int(m["version"])) if m else None


def iter_screenshots(path: str | Path) -> Iterator[ScreenshotRecord]:
    """The screenshot records of ``path`` in file order (other records are skipped)."""
    path = Path(path)
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            if record.rec_type != "resource":
                continue
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            key = parse_uri(uri)
            if key is None:
                continue
            offset = it.get_record_offset()
            record.content_stream().read()  # to the end of the record: its length is known
            length = it.get_record_length()
            headers = record.rec_headers
            yield ScreenshotRecord(WarcLocation(path.name, offset, length), key[0], key[1],
                                   headers.get_header("WARC-Refers-To"),
                                   headers.get_header("WARC-Refers-To-Target-URI"),
                                   headers.get_header("WARC-Date") or "")


def read_screenshot(directory: str | Path, location: WarcLocation) -> bytes:
    """The PNG bytes of the screenshot record at ``location`` (in ``directory``).

    Raises :class:`ValueError` when the record there is not a screenshot."""
    with open(Path(directory) / location.file, "rb") as fh:
        fh.seek(location.offset)
        for record in ArchiveIterator(fh):
            uri = record.rec_headers.get_header("WARC-Target-URI") or ""
            if record.rec_type != "resource" or parse_uri(uri) is None:
                break
            return bytes(record.content_stream().read())
    raise ValueError(f"{location.file}@{location.offset}: not a screenshot record")
