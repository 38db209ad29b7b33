"""CDXJ indexes beside closed WARC files, in the form pywb's indexer writes.

Every closed ``<name>.warc.gz`` gets a ``<name>.warc.gz.cdxj``: one line per response,
revisit, resource and metadata record, ``<SURT> <14-digit timestamp> <JSON>``, sorted, with
the WARC's base name in ``filename``. The lines are produced by ``cdxj_indexer`` (pywb's own
indexer library, the code behind the ``cdxj-indexer`` command), never by hand, so the file is
byte for byte what ``cdxj-indexer --sort <name>.warc.gz`` prints. pywb, ``wb-manager`` and
other CDXJ readers can use the WARC and its index directly (copy both into a collection's
``archive/`` and ``indexes/``; see the README).

Metadata records carry their own target URI (``urn:mediawatch:metadata:<url>``), so they are
indexed under that URN and a replay tool looking up the page URL finds only the page.

The index is derived data: it can always be rebuilt from the WARC (:func:`write_cdxj`), and
a missing or stale one is never an error for mediawatch itself.
"""

from __future__ import annotations

import glob
import io
import logging
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cdxj_indexer.main import CDXJIndexer
from warcio.exceptions import ArchiveLoadFailed

from archive.faults import stop_here
from archive.warc.notices import QuietArchiveIterator

__all__ = ["CDXJ_SUFFIX", "cdxj_lines", "cdxj_path", "index_closed_warc", "index_missing",
           "write_cdxj"]

log = logging.getLogger(__name__)

CDXJ_SUFFIX = ".cdxj"


class _PywbIndexer(CDXJIndexer):
    """``CDXJIndexer`` with its default record types frozen here.

    The ``wacz`` package appends ``warcinfo`` to ``CDXJIndexer.DEFAULT_RECORDS`` when it is
    imported (a class attribute, shared by the whole process); once the WACZ export has run,
    indexes written in the same process would otherwise gain warcinfo lines and stop
    matching what the ``cdxj-indexer`` command prints.
    """

    DEFAULT_RECORDS = ["response", "revisit", "resource", "metadata"]  # noqa: RUF012 - as upstream

    def _create_record_iter(self, input_: Any) -> QuietArchiveIterator:
        # warcio's iterator without its stderr warnings: ingest reports those problems once
        # (archive/warc/notices.py); the same options as warcio's Indexer.
        return QuietArchiveIterator(input_, no_record_parse=not self.record_parse,
                                    arc2warc=True, verify_http=self.verify_http)


def cdxj_path(warc: str | Path) -> Path:
    """Where the index of ``warc`` lives: the same name plus ``.cdxj``, in the same folder."""
    warc = Path(warc)
    return warc.with_name(warc.name + CDXJ_SUFFIX)


def cdxj_lines(warc: str | Path) -> list[str]:
    """The sorted CDXJ lines (each ending in a newline) of one WARC file.

    ``filename`` in each line is the WARC's base name, as pywb expects for an index that
    sits beside the files it describes.
    """
    out = io.StringIO()
    _PywbIndexer(out, [str(warc)], sort=True).process_all()
    return out.getvalue().splitlines(keepends=True)


def write_cdxj(warc: str | Path) -> Path:
    """Write (or rewrite) the index beside ``warc`` and return its path.

    Written to a temporary name and renamed, so a reader never sees half an index. The
    temporary name is this process's own: since :func:`index_missing`, two processes may
    index one file at once (a crawl that just closed it, another picking it up), and a
    shared name let one rename the other's half-written file into place.
    """
    target = cdxj_path(warc)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.writelines(cdxj_lines(warc))
    stop_here("indexing")  # test hook (archive/faults.py)
    os.replace(tmp, target)
    return target


def index_closed_warc(warc: str | Path) -> Path | None:
    """Write the index of a WARC file that was just closed; the writer's hook.

    A failure is logged with the file name and returns None instead of raising: the WARC
    is the record and is already safe under its final name, and the index can be rebuilt
    from it at any time with :func:`write_cdxj`, so a closing crawl must not fail over it.
    """
    try:
        return write_cdxj(warc)
    except (OSError, ValueError, EOFError, zlib.error, ArchiveLoadFailed) as exc:
        log.warning("%s: CDXJ index not written (%s)", Path(warc).name, exc)
        return None


def index_missing(warcs: Iterable[Path]) -> list[Path]:
    """Write the index of every closed WARC in ``warcs`` that has none; the paths written.

    A process killed after a file got its final name and before its index was renamed into
    place (``kill -9``, a power cut) leaves a closed file without an index, and nothing
    else would ever write it: the writer's ``on_close`` ran in the dead process, and the
    recovery of ``.open`` files does not see closed ones. The ingest calls this for the
    files it picks up as not completely loaded (:func:`crawler.ingest.pending_files`),
    which every such file is, since a crawl indexes its files before it loads them.
    The temporary index a killed writer left (``<index>.<pid>.tmp``) is removed.
    """
    written = []
    for warc in warcs:
        if not cdxj_path(warc).exists() and (index := index_closed_warc(warc)) is not None:
            log.warning("%s: CDXJ index was missing (written now)", warc.name)
            written.append(index)
            for stale in index.parent.glob(glob.escape(index.name) + ".*.tmp"):
                stale.unlink(missing_ok=True)
    return written
