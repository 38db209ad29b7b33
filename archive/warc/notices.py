"""warcio's complaints about a file, as values instead of text on stderr.

warcio reports two problems of a readable file on its own, outside the caller's control:

* a record not followed by the blank lines that end it (its ``Content-Length`` is probably
  wrong: the bytes it did not count are left over), written by ``ArchiveIterator`` with
  ``sys.stderr.write`` as three lines that dump the left-over bytes;
* a ``WARC-Target-URI`` with spaces (read with ``%20``), logged on the
  ``warcio.recordloader`` logger, which without logging configured also lands on stderr.

Every pass over a file (the import check, the CDXJ index, ingest) repeated them, raw bytes
included. :class:`QuietArchiveIterator` is warcio's iterator with both turned into calls of
``on_notice(offset, message)`` (one short line per problem, no file bytes): the reader
(:func:`archive.warc.reader.iter_responses`) passes them on as
:class:`~archive.warc.reader.Notice` values, so the one pass that reports (ingest) reports
each problem once. Code that has no use for them (a second pass, a repair) simply drops them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator

__all__ = ["NoticeSink", "QuietArchiveIterator"]

#: ``(offset, message)``: the offset of the record (or left-over bytes) the message is about.
NoticeSink = Callable[[int, str], None]
_URI_PREFIX = "Replacing spaces in invalid WARC-Target-URI: "
_SHOWN = 120  # characters of a URI quoted in a notice
_current = threading.local()  # the iterator parsing a record on this thread, if any


class _RouteWarcioLog(logging.Filter):
    """Hands warcio's log records made while a :class:`QuietArchiveIterator` parses a record
    to that iterator (and drops them from the log); others pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        iterator = getattr(_current, "iterator", None)
        if iterator is None:
            return True
        message = record.getMessage()
        if message.startswith(_URI_PREFIX):
            uri = message[len(_URI_PREFIX):]
            shown = uri if len(uri) <= _SHOWN else uri[:_SHOWN] + "..."
            message = f"WARC-Target-URI has spaces, read with %20: {shown!r}"
        iterator.notice(iterator.offset, message)
        return False


logging.getLogger("warcio.recordloader").addFilter(_RouteWarcioLog())


class QuietArchiveIterator(ArchiveIterator):
    """``warcio.archiveiterator.ArchiveIterator`` that passes its warnings to ``on_notice``
    (none: they are dropped) instead of writing them to stderr (module docstring)."""

    def __init__(self, fileobj: IO[bytes], *args: Any,
                 on_notice: NoticeSink | None = None, **kwargs: Any) -> None:
        super().__init__(fileobj, *args, **kwargs)
        self._on_notice = on_notice

    @property
    def reports(self) -> bool:
        """True when notices go somewhere (else the caller may log its own)."""
        return self._on_notice is not None

    def notice(self, offset: int, message: str) -> None:
        """Pass one problem on (or drop it without a sink)."""
        if self._on_notice is not None:
            self._on_notice(offset, message)

    def _next_record(self, next_line: Any) -> Any:
        previous = getattr(_current, "iterator", None)
        _current.iterator = self
        try:
            return super()._next_record(next_line)
        finally:
            _current.iterator = previous

    def _consume_blanklines(self) -> tuple[bytes | None, int]:
        # warcio 1.8's own loop, with its stderr dump of the left-over bytes replaced by a
        # notice (tests/test_warc_notices.py fails if warcio's output comes back).
        empty_size = 0
        first_line = True
        while True:
            line = self.reader.readline()
            if not line:
                return None, empty_size
            stripped = line.rstrip()
            if not stripped or first_line:
                empty_size += len(line)
                if stripped:
                    where = self.fh.tell() - self.reader.rem_length() - empty_size
                    self.err_count += 1
                    self.notice(self.offset, (
                        "not followed by the blank lines that end a record (unexpected "
                        f"bytes at offset {where}: its Content-Length is probably wrong)"))
                first_line = False
                continue
            return line, empty_size
