"""Stored payloads back to the bytes a browser saw: Transfer-Encoding and Content-Encoding
undone, never beyond a size bound.

Every decompression of a stored body (gzip, deflate, brotli) goes through
:func:`decode_payload`, and each one stops as soon as its output would pass ``max_size``
(``[crawl] max_page_size``; :data:`DEFAULT_MAX_PAYLOAD` where no config is at hand). A
gzip bomb kept in a WARC (5 MB on the wire, 5 GB unpacked) therefore costs at most
``max_size`` bytes of memory and the time to inflate them, wherever it is read: ingest,
reindex, replay, import, extract.
"""

from __future__ import annotations

import io
import logging
import zlib
from typing import TYPE_CHECKING

import brotli
from warcio.bufferedreaders import ChunkedDataException, ChunkedDataReader

if TYPE_CHECKING:
    from collections.abc import Callable

    from warcio.statusandheaders import StatusAndHeaders

log = logging.getLogger(__name__)

#: CrawlSettings' default ``max_page_size``, for readers without a config.
DEFAULT_MAX_PAYLOAD = 10 * 1024**2

# Input is fed to the decompressors in slices and their output taken in steps, so that
# the peak is the bound plus one step (not twice the bound while a step is appended).
_SLICE = 64 * 1024
_STEP = 1024 * 1024


class PayloadTooLarge(ValueError):
    """A stored payload larger than the bound, as stored or once decoded."""

    def __init__(self, where: str, limit: int):
        super().__init__(f"{where}: payload larger than max_page_size ({limit} bytes) "
                         "once decoded; not expanded")
        self.where = where
        self.limit = limit


def decode_payload(raw: bytes, http: StatusAndHeaders | None, where: str = "",
                   max_size: int = DEFAULT_MAX_PAYLOAD,
                   on_problem: Callable[[str], object] | None = None) -> bytes:
    """Undo Transfer-Encoding (other tools' WARCs may keep it) and Content-Encoding.

    Raises :class:`PayloadTooLarge` when the payload, as stored or decoded, is larger than
    ``max_size``. A body that claims an encoding but is not encoded that way stays as
    received: the capture is kept and the page parser decides what it is, rather than
    losing the record. That is reported to ``on_problem`` (one line, without ``where``),
    else logged as a warning naming ``where``.
    """
    if len(raw) > max_size:
        raise PayloadTooLarge(where, max_size)
    if http is None or not raw:
        return raw
    encoding = (http.get_header("Content-Encoding") or "").strip().lower() or None
    chunked = "chunked" in (http.get_header("Transfer-Encoding") or "").lower()
    if encoding not in (None, "identity", "gzip", "x-gzip", "deflate", "br"):
        return raw
    try:
        if chunked:  # de-chunking only shrinks the data
            raw = ChunkedDataReader(io.BytesIO(raw)).read()
        if encoding == "br":
            return _unbrotli(raw, max_size, where)
        if encoding in ("gzip", "x-gzip"):
            return _inflate(raw, 16 + zlib.MAX_WBITS, max_size, where)
        if encoding == "deflate":
            # RFC 9110 deflate is zlib-wrapped; some servers send raw deflate.
            try:
                return _inflate(raw, zlib.MAX_WBITS, max_size, where)
            except zlib.error:
                return _inflate(raw, -zlib.MAX_WBITS, max_size, where)
        return raw
    except (OSError, EOFError, ValueError, zlib.error, ChunkedDataException,
            brotli.error) as exc:
        if isinstance(exc, PayloadTooLarge):
            raise
        problem = f"cannot decode {encoding or 'chunked'} payload ({exc}); kept as received"
        if on_problem is not None:
            on_problem(problem)
        else:
            log.warning("%s: %s", where, problem)
    return raw


def _inflate(data: bytes, wbits: int, limit: int, where: str) -> bytes:
    """zlib/gzip/raw deflate, following concatenated gzip members, at most ``limit`` bytes."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(wbits)
        pos = 0
        while not inflater.eof:
            if inflater.unconsumed_tail:
                chunk = inflater.unconsumed_tail
            elif pos < len(data):
                chunk, pos = data[pos:pos + _SLICE], pos + _SLICE
            else:
                chunk = b""  # all input taken: zlib may still hold output for it
            # max_length caps this call's output: the bomb never expands past the bound.
            piece = inflater.decompress(chunk, min(_STEP, limit + 1 - len(out)))
            out += piece
            if len(out) > limit:
                raise PayloadTooLarge(where, limit)
            if not chunk and not piece:
                break  # input ends before the stream does: keep what it gave, as browsers do
        rest = inflater.unused_data + data[pos:] if inflater.eof else b""
        if wbits > 0 and wbits & 16 and rest.startswith(b"\x1f\x8b"):
            data = rest
            continue
        return bytes(out)


def _unbrotli(data: bytes, limit: int, where: str) -> bytes:
    """Brotli, at most ``limit`` bytes (the output buffer limit holds each call's output)."""
    decoder = brotli.Decompressor()
    out = bytearray()
    pos = 0
    while True:
        if decoder.can_accept_more_data():
            if pos >= len(data):
                break
            chunk, pos = data[pos:pos + _SLICE], pos + _SLICE
        else:
            chunk = b""
        out += decoder.process(chunk, output_buffer_limit=min(_STEP, limit + 1 - len(out)))
        if len(out) > limit:
            raise PayloadTooLarge(where, limit)
        if decoder.is_finished():
            break
    return bytes(out)
