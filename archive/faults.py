"""Test hook for crash tests: a process stops itself at a named stage so that a test can
``kill -9`` it at a known point (no sleeping, no guessing).

``MEDIAWATCH_TEST_STOP_AT`` is a comma list of stages, each ``name`` or ``name:N`` (stop at
the N-th time the stage is reached, default the first). When :func:`stop_here` reaches a
listed stage, the process sends itself SIGSTOP; the test waits for that with
``os.waitpid(pid, os.WUNTRACED)`` (or reads ``/proc/<pid>/stat`` for a grandchild) and sends
SIGKILL. Unset in production, where :func:`stop_here` costs one dictionary lookup.

``MEDIAWATCH_TEST_INGEST_STOP_AFTER=N`` (:data:`crawler.ingest.STOP_HOOK`, the older hook)
is short for ``MEDIAWATCH_TEST_STOP_AT=loading`` with batches of N records.

The stages, in the order a crawl reaches them (``tests/test_fault_matrix.py`` kills at each):

* ``fetched`` - a response's three records (response, request, metadata) are written to the
  ``.open`` WARC file (:class:`crawler.components.capture.WarcCapture`);
* ``mid-exchange`` - the response record is written, its request and metadata records not
  (:meth:`archive.warc.writer.RotatingWarcWriter.write_exchange`);
* ``closing`` - the last record is written and the file closed, not yet renamed;
* ``closed`` - renamed to ``*.warc.gz``, its CDXJ index not yet written;
* ``indexing`` - the index is written to its temporary name, not yet renamed
  (:func:`archive.warc.cdxj.write_cdxj`);
* ``indexed`` - the crawl's files are closed and indexed, the ingest has not begun
  (:class:`crawler.components.ingest.IngestOnClose`);
* ``loading`` - a batch of records is committed to ``archive.db`` (:mod:`crawler.ingest`);
* ``loaded`` - the ingest is committed, the listing state not yet saved;
* ``state-saved`` - the listing state is saved, the run's row not yet completed
  (:class:`crawler.components.session.CrawlSession`).

This module lives in ``archive`` (standard library only) so that the WARC code can call it
without importing ``crawler``.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

STOP_AT = "MEDIAWATCH_TEST_STOP_AT"
INGEST_STOP_AFTER = "MEDIAWATCH_TEST_INGEST_STOP_AFTER"

_reached: Counter[str] = Counter()


def _wanted(stage: str) -> int | None:
    """At which arrival at ``stage`` the environment asks to stop (None: never)."""
    for item in os.environ.get(STOP_AT, "").split(","):
        name, _, count = item.strip().partition(":")
        if name == stage:
            return int(count) if count.isdigit() and int(count) > 0 else 1
    after = os.environ.get(INGEST_STOP_AFTER, "")
    if stage == "loading" and after.isdigit() and int(after) > 0:
        return 1
    return None


def stop_here(stage: str) -> None:
    """Stop this process (SIGSTOP) if ``MEDIAWATCH_TEST_STOP_AT`` names ``stage`` and this is
    the arrival it asks for; else do nothing. See the module docstring."""
    if STOP_AT not in os.environ and INGEST_STOP_AFTER not in os.environ:
        return
    _reached[stage] += 1
    if _wanted(stage) == _reached[stage]:
        os.kill(os.getpid(), signal.SIGSTOP)
