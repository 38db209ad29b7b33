"""WARC capture I/O: the typed values the rest of mediawatch sees, a rotating writer and readers.

warcio stays behind this module: callers see :class:`CapturedResponse` and :class:`WarcLocation`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import brotli
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataException, ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed

from archive.models import CapturedResponse, WarcLocation
from archive.times import parse_utc
from archive.warc.writer import METADATA_URN

if TYPE_CHECKING:
    from warcio.recordloader import ArcWarcRecord
    from warcio.statusandheaders import StatusAndHeaders

log = logging.getLogger(__name__)


class WarcError(ValueError):
    """A WARC file or record that cannot be read: says which file and where."""


@dataclass(frozen=True, slots=True)
class Revisit:
    """What a revisit record says it repeats: its profile and the capture it refers to."""

    profile: str
    refers_to_uri: str | None
    refers_to_date: datetime | None
    refers_to_id: str | None

    @property
    def not_modified(self) -> bool:
        """A 304 answer (server-not-modified profile)."""
        return self.profile.endswith("/server-not-modified")


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """A response or revisit record read back: the parsed capture, where it is, and its
    payload digest. For a revisit, ``revisit`` is set and ``captured.body`` is empty until
    resolved against the record it refers to (:meth:`with_payload`)."""

    captured: CapturedResponse
    location: WarcLocation
    digest: str | None
    protocol: str
    reason: str
    revisit: Revisit | None = None

    def with_payload(self, original: StoredResponse) -> StoredResponse:
        """This revisit with the payload of the capture it refers to (its headers too when
        the answer was a 304, which has none worth parsing)."""
        captured = replace(self.captured, body=original.captured.body)
        if self.revisit is not None and self.revisit.not_modified:
            captured = replace(captured, headers=original.captured.headers,
                               status=original.captured.status)
        return replace(self, captured=captured)


def iter_responses(path: str | Path) -> Iterator[StoredResponse]:
    """Every response and revisit record of a WARC file with its metadata record attached,
    in file order.

    Raises :class:`WarcError` (file name and offset) on a truncated or corrupt file, after
    yielding every complete record before the damage.
    """
    path = Path(path)
    pending: StoredResponse | None = None
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            last = end = 0
            it = ArchiveIterator(fh)
            for record in it:
                if record.rec_type in ("response", "revisit"):
                    stored = _stored(record, it, path.name)
                    if pending is not None:
                        yield pending
                    pending = stored
                elif record.rec_type == "metadata":
                    target = record.rec_headers.get_header("WARC-Target-URI") or ""
                    payload = record.content_stream().read()
                    it.read_to_end(record)
                    _check_complete(record, path.name, it)
                    if pending is not None and target == METADATA_URN + pending.captured.url:
                        yield _with_metadata(pending, payload)
                        pending = None
                else:
                    it.read_to_end(record)
                    _check_complete(record, path.name, it)
                last = it.get_record_offset()
                end = last + it.get_record_length()
            fh.seek(end)
            if end == size and not _member_complete(fh, last, end):
                raise WarcError(f"{path.name}: truncated: the last record (offset {last}) "
                                "ends before its gzip member does")
            if end < size and fh.read(64).strip(b"\r\n"):
                # warcio stops quietly at a cut gzip member; a reader of evidence must not.
                # (Uncompressed files may end with the last record's CRLF pair: fine.)
                raise WarcError(f"{path.name}: truncated or corrupt at offset {end} "
                                f"({size - end} bytes unreadable)")
    except (OSError, EOFError, ValueError, zlib.error, ArchiveLoadFailed) as exc:
        if pending is not None:
            yield pending
        if isinstance(exc, WarcError):
            raise
        raise WarcError(f"{path.name}: unreadable WARC data ({type(exc).__name__}: {exc})"
                        ) from exc
    if pending is not None:
        yield pending


def read_response(directory: str | Path, location: WarcLocation) -> StoredResponse:
    """The response or revisit record at ``location`` (one seek), without its metadata."""
    path = Path(directory) / location.file
    try:
        with open(path, "rb") as fh:
            fh.seek(location.offset)
            it = ArchiveIterator(fh)
            record = next(iter(it))
            if record.rec_type not in ("response", "revisit"):
                raise WarcError(
                    f"{location.file}@{location.offset}: a {record.rec_type} record, not a response"
                )
            return _stored(record, it, location.file, location.offset)
    except (OSError, StopIteration, EOFError, zlib.error) as exc:
        raise WarcError(f"{location.file}@{location.offset}: cannot read record ({exc})") from exc


def _stored(record: ArcWarcRecord, it: ArchiveIterator, name: str, base: int = 0) -> StoredResponse:
    rec_headers = record.rec_headers
    http = record.http_headers
    raw = record.raw_stream.read()
    it.read_to_end(record)
    _check_complete(record, name, it)
    body = decode_payload(raw, http, f"{name}: {rec_headers.get_header('WARC-Target-URI')}")
    offset = it.get_record_offset()
    length = it.get_record_length()
    status_line = (http.get_statuscode() or "0") if http is not None else "0"
    reason = ""
    if http is not None and http.statusline:
        parts = http.statusline.split(" ", 1)
        reason = parts[1] if len(parts) > 1 else ""
    captured = CapturedResponse(
        url=rec_headers.get_header("WARC-Target-URI") or "",
        status=int(status_line) if status_line.isdigit() else 0,
        headers=tuple(http.headers) if http is not None else (),
        body=body,
        fetched_at=_parse_warc_date(rec_headers.get_header("WARC-Date")),
        record_id=rec_headers.get_header("WARC-Record-ID"),
    )
    revisit = None
    if record.rec_type == "revisit":
        refers_date = rec_headers.get_header("WARC-Refers-To-Date")
        revisit = Revisit(
            profile=rec_headers.get_header("WARC-Profile") or "",
            refers_to_uri=rec_headers.get_header("WARC-Refers-To-Target-URI"),
            refers_to_date=_parse_warc_date(refers_date) if refers_date else None,
            refers_to_id=rec_headers.get_header("WARC-Refers-To"),
        )
    return StoredResponse(
        captured=captured,
        location=WarcLocation(name, base + offset, length),
        digest=rec_headers.get_header("WARC-Payload-Digest"),
        protocol=(http.protocol if http is not None else "") or "HTTP/1.1",
        reason=reason,
        revisit=revisit,
    )


def decode_payload(raw: bytes, http: StatusAndHeaders | None, where: str = "") -> bytes:
    """Undo Transfer-Encoding (other tools' WARCs may keep it) and Content-Encoding.

    A body that claims gzip but is not stays as received: the capture is kept and the page
    parser decides what it is, rather than losing the record.
    """
    if http is None or not raw:
        return raw
    encoding = (http.get_header("Content-Encoding") or "").strip().lower() or None
    chunked = "chunked" in (http.get_header("Transfer-Encoding") or "").lower()
    if encoding not in (None, "identity", "gzip", "x-gzip", "deflate", "br"):
        return raw
    decomp = {"x-gzip": "gzip", "identity": None}.get(encoding or "", encoding)
    try:
        if chunked:
            raw = ChunkedDataReader(io.BytesIO(raw)).read()
        if decomp == "br":
            # warcio's brotli path breaks on current brotli releases (no unused_data).
            return brotli.decompress(raw)
        if decomp:
            return BufferedReader(io.BytesIO(raw), decomp_type=decomp).read()
        return raw
    except (OSError, EOFError, ValueError, zlib.error, ChunkedDataException,
            brotli.error) as exc:
        log.warning(
            "%s: cannot decode %s payload (%s); keeping it as received",
            where,
            encoding or "chunked",
            exc,
        )
    return raw


def _with_metadata(stored: StoredResponse, payload: bytes) -> StoredResponse:
    try:
        meta = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning(
            "%s: metadata record for %s is not JSON", stored.location.file, stored.captured.url
        )
        return stored
    if not isinstance(meta, dict):
        return stored
    redirects = tuple(str(u) for u in meta.get("redirect_urls") or ())
    captured = replace(stored.captured, metadata=meta, redirect_urls=redirects)
    return replace(stored, captured=captured)


def _parse_warc_date(value: str | None) -> datetime:
    if not value:
        return datetime.fromtimestamp(0, UTC)
    return parse_utc(value)


def list_warcs(directory: str | Path) -> list[Path]:
    """Closed WARC files in ``directory`` (recursively), oldest name first."""
    directory = Path(directory)
    if not directory.exists():
        return []
    files = [
        p
        for p in directory.rglob("*")
        if p.is_file() and (p.name.endswith(".warc.gz") or p.name.endswith(".warc"))
    ]
    return sorted(files, key=lambda p: p.name)


def exchange_spans(path: str | Path, responses: Iterable[tuple[int, int, str | None]]
                   ) -> Iterator[tuple[int, int]]:
    """(offset, length) of the records that make up each exchange in ``path``: the file's
    warcinfo record, then for each ``(offset, length, record_id)`` of a response or revisit
    record, that record and the records concurrent to it (``WARC-Concurrent-To``: its
    request and metadata) that follow it. For copying exchanges byte for byte."""
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        first = next(iter(it), None)
        if first is not None and first.rec_type == "warcinfo":
            it.read_to_end(first)
            yield it.get_record_offset(), it.get_record_length()
        for offset, length, record_id in responses:
            yield offset, length
            if not record_id:
                continue
            fh.seek(offset + length)
            follow = ArchiveIterator(fh)  # its offsets count from the start of the file
            for record in follow:
                if record.rec_headers.get_header("WARC-Concurrent-To") != record_id:
                    break
                follow.read_to_end(record)
                yield follow.get_record_offset(), follow.get_record_length()


def _member_complete(fh: BinaryIO, start: int, end: int) -> bool:
    """True unless the bytes ``start:end`` are a gzip member cut before its trailer (zlib
    and warcio both read a cut member without complaint). Plain WARCs are not checked."""
    fh.seek(start)
    data = fh.read(end - start)
    if not data.startswith(b"\x1f\x8b"):
        return True
    inflater = zlib.decompressobj(31)
    try:
        inflater.decompress(data)
    except zlib.error:
        return False
    return inflater.eof


def _check_complete(record: ArcWarcRecord, name: str, it: ArchiveIterator) -> None:
    # A record cut short (truncated file, bad gzip member) leaves bytes of its declared
    # Content-Length unread; warcio itself does not complain.
    missing = getattr(getattr(record, "raw_stream", None), "limit", 0) or 0
    if missing > 0:
        raise WarcError(f"{name}: record at offset {it.get_record_offset()} is truncated "
                        f"({missing} bytes missing)")

