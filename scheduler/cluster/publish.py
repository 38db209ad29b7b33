"""A worker's side of the object store: upload the WARC files a crawl closes.

With ``[cluster] warc_store`` set, a crawl job writes its WARC files into the worker's own
local folder (``--warcs``, a spool) as in the shared-directory set-up, and
:class:`Publisher` uploads each file once it is closed (:mod:`archive.warc.objectstore`):
a thread in the crawling process looks every few seconds while the crawl runs, so the
ingest loads captures while the crawl goes on; at the crawl's end :meth:`Publisher.finish`
uploads what is left, the crawl-state file last (it is applied after the captures it names),
and deletes the local copies of every uploaded file and their CDXJ (the ingest indexes its
own copies), so a worker's disk does not fill. A file that fails to upload (the store
unreachable) stays in the spool and is uploaded by the next job of the same worker folder.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from archive.warc.cdxj import cdxj_path
from archive.warc.crawlstate import is_state_file
from archive.warc.objectstore import StoreLocation, s3_client, upload

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["Publisher", "closed_files"]

log = logging.getLogger(__name__)


def closed_files(folder: Path) -> list[Path]:
    """The closed WARC files of one worker folder, captures first, crawl states last."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.name.endswith((".warc.gz", ".warc"))]
    return sorted(found, key=lambda p: (is_state_file(p.name), p.name))


class Publisher(threading.Thread):
    """Uploads the closed files of ``folder`` (and any ``extra`` files named later)."""

    def __init__(self, store_url: str, folder: Path, interval: float = 2.0,
                 client: Any = None):
        super().__init__(name=f"publish {folder.name}", daemon=True)
        self.where = StoreLocation.parse(store_url)
        self.folder = folder
        self.interval = interval
        self.client = client if client is not None else s3_client()
        self.uploaded: list[Path] = []
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        """Upload closed capture files until :meth:`finish` (crawl states wait for it)."""
        while not self._stop_event.wait(self.interval):
            self._upload([p for p in closed_files(self.folder) if not is_state_file(p.name)])

    def finish(self, extra: Iterable[Path] = ()) -> list[Path]:
        """Stop the thread, upload every file left (``extra``: files of other folders,
        such as the ``.open`` files this crawl recovered), delete the uploaded local
        copies; the files that could not be uploaded."""
        self._stop_event.set()
        if self.is_alive():
            self.join()
        files = [*extra, *closed_files(self.folder)]
        files.sort(key=lambda p: (is_state_file(p.name), p.name))
        failed = [p for p in files if p.exists() and not self._upload([p])]
        for path in self.uploaded:
            path.unlink(missing_ok=True)
            cdxj_path(path).unlink(missing_ok=True)
        return failed

    def _upload(self, files: list[Path]) -> bool:
        ok = True
        with self._lock:
            for path in files:
                if path in self.uploaded:
                    continue
                try:
                    upload(self.client, self.where, path.parent.name, path)
                except Exception as exc:  # the store away: the next call tries again
                    log.error("%s: not uploaded (%s)", path.name, exc)
                    ok = False
                else:
                    self.uploaded.append(path)
        return ok
