"""Repair of the WARC files a killed writer left behind: ``*.warc.gz.open`` files are cut
after their last complete record and given their final name.

Derived files (the CDXJ index) are the caller's job, through ``on_close``, as for the writer.
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Callable
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from archive.warc.notices import QuietArchiveIterator as ArchiveIterator
from archive.warc.reader import _check_complete, _member_complete

log = logging.getLogger(__name__)


def recover_open_file(path: str | Path,
                      on_close: Callable[[Path], object] | None = None) -> Path:
    """Close a ``*.warc.gz.open`` file left by a crawl that was killed: cut it after its
    last complete record and give it its final name. Returns the final path.

    ``on_close(final)`` runs once it has its final name, as for
    :class:`archive.warc.writer.RotatingWarcWriter` (the crawl indexes it there). Only call
    it for files no live writer owns (the crawl holds its source's lock).
    """
    path = Path(path)
    good = 0
    try:
        with open(path, "rb") as fh, open(path, "rb") as check:
            it = ArchiveIterator(fh)
            for record in it:
                it.read_to_end(record)
                _check_complete(record, path.name, it)
                start = it.get_record_offset()
                stop = start + it.get_record_length()
                if not _member_complete(check, start, stop):
                    break
                good = stop
    except (OSError, EOFError, ValueError, zlib.error, ArchiveLoadFailed) as exc:
        log.warning("%s: cut after the last complete record at %d (%s)", path.name, good, exc)
    with open(path, "r+b") as fh:
        fh.truncate(good)
    final = path.with_name(path.name.removesuffix(".open"))
    os.replace(path, final)
    if on_close is not None:
        on_close(final)
    return final

