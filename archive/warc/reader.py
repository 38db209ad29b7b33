"""WARC capture I/O: the typed values the rest of mediawatch sees, a rotating writer and readers.

warcio stays behind this module: callers see :class:`CapturedResponse` and :class:`WarcLocation`.
"""

from __future__ import annotations

import json
import logging
import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from warcio.bufferedreaders import ChunkedDataException
from warcio.exceptions import ArchiveLoadFailed

from archive.models import CapturedResponse, WarcLocation
from archive.times import parse_utc
from archive.warc.notices import QuietArchiveIterator as ArchiveIterator
from archive.warc.payload import DEFAULT_MAX_PAYLOAD, PayloadTooLarge, decode_payload
from archive.warc.writer import METADATA_URN

if TYPE_CHECKING:
    from warcio.recordloader import ArcWarcRecord

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
    resolved against the record it refers to (:meth:`with_payload`). ``too_large``: the
    payload is larger than the reader's bound, so ``captured.body`` is empty (the record is
    evidence that the page was fetched; its content is not expanded)."""

    captured: CapturedResponse
    location: WarcLocation
    digest: str | None
    protocol: str
    reason: str
    revisit: Revisit | None = None
    too_large: bool = False

    def with_payload(self, original: StoredResponse) -> StoredResponse:
        """This revisit with the payload of the capture it refers to (its headers too when
        the answer was a 304, which has none worth parsing)."""
        captured = replace(self.captured, body=original.captured.body)
        if self.revisit is not None and self.revisit.not_modified:
            captured = replace(captured, headers=original.captured.headers,
                               status=original.captured.status)
        return replace(self, captured=captured)


@dataclass(frozen=True, slots=True)
class Damage:
    """A region of a WARC file that holds no readable record: where it is and why it was
    skipped (never its bytes, which may be anything)."""

    file: str
    offset: int
    length: int
    reason: str
    to_end: bool = False  # the region runs to the end of the file

    def __str__(self) -> str:
        if self.reason.startswith("truncated"):
            # A record cut short (a full disk, an interrupted copy): said as such.
            return (f"{self.file}: record at offset {self.offset} is {self.reason}"
                    + ("" if self.to_end else f"; {self.length} bytes skipped"))
        return (f"{self.file}: damaged region at offset {self.offset}, {self.length} bytes "
                f"skipped ({self.reason})")


@dataclass(frozen=True, slots=True)
class Notice:
    """A problem warcio noticed in a record it could still read (a wrong Content-Length, a
    target URI with spaces; :mod:`archive.warc.notices`): one line, never the file's bytes."""

    file: str
    offset: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}: record at offset {self.offset}: {self.message}"


def iter_responses(path: str | Path, *, max_payload: int = DEFAULT_MAX_PAYLOAD,
                   on_damage: Callable[[Damage], object] | None = None,
                   on_notice: Callable[[Notice], object] | None = None
                   ) -> Iterator[StoredResponse]:
    """Every intact response and revisit record of a WARC file with its metadata record
    attached, in file order.

    A damaged region (a corrupt or foreign gzip member, a record cut short, bytes that are
    not a WARC record) is skipped: reading resumes at the next gzip member or ``WARC/1.``
    header that starts a readable record, so every intact record after the damage is read
    too. Each region is passed to ``on_damage`` (the caller reports it: ingest logs it and
    counts it as an error); without ``on_damage``, :class:`WarcError` (file name, first
    region's offset and reason) is raised once every intact record has been yielded. A
    payload larger than ``max_payload`` (stored or decoded) is not expanded: its record
    comes with ``too_large`` set and an empty body.

    Problems of records that are still read (:class:`Notice`) go to ``on_notice``, each
    once per pass; without it they are dropped (never written to stderr): the pass that
    loads the file (ingest) is the one that reports them.
    """
    path = Path(path)
    damages: list[Damage] = []

    def damaged(damage: Damage) -> None:
        damages.append(damage)
        if on_damage is not None:
            on_damage(damage)

    try:
        with open(path, "rb") as fh:
            yield from _read_resynchronising(fh, path.name, max_payload, damaged, on_notice)
    except OSError as exc:
        raise WarcError(f"{path.name}: cannot read ({exc.strerror or exc})") from exc
    if damages and on_damage is None:
        more = f" (and {len(damages) - 1} more damaged region(s))" if len(damages) > 1 else ""
        raise WarcError(f"{damages[0]}{more}")


# What warcio and zlib raise on damaged data, and how a damaged region is described.
# AttributeError: warcio reads a header block cut short before WARC-Target-URI as a record
# whose URI is None and fails on ``None.startswith`` (found by tests/test_fuzz_warc.py).
_DAMAGE = (EOFError, ValueError, AttributeError, zlib.error, ArchiveLoadFailed,
           ChunkedDataException)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ArchiveLoadFailed):
        return "not a WARC record"
    if isinstance(exc, zlib.error):
        return "corrupt gzip data"
    if isinstance(exc, WarcError):  # from _check_complete: "... is truncated (N bytes ...)"
        return "truncated" + str(exc).rpartition(" is truncated")[2]
    return f"unreadable record ({type(exc).__name__})"


def _read_resynchronising(fh: BinaryIO, name: str, max_payload: int,
                          damaged: Callable[[Damage], None],
                          on_notice: Callable[[Notice], object] | None = None
                          ) -> Iterator[StoredResponse]:
    size = os.fstat(fh.fileno()).st_size
    pos = 0
    pending: StoredResponse | None = None
    noticed: set[tuple[int, str]] = set()  # a region read again after a resync: once

    def notice(offset: int, message: str) -> None:
        if on_notice is not None and (offset, message) not in noticed:
            noticed.add((offset, message))
            on_notice(Notice(name, offset, message))

    while pos < size:
        fh.seek(pos)
        it = ArchiveIterator(fh, on_notice=notice)  # offsets count from the file's start
        last = end = pos
        reason: str | None = None
        try:
            for record in it:
                if record.format != "warc":
                    # warcio reads ARC too, and takes a damaged gzip member's raw bytes
                    # for an ARC header line: a "response" of garbage (found by
                    # tests/test_fuzz_warc.py). The WARC directory holds WARC only
                    # (import converts ARC), so anything else is a damaged region.
                    raise ArchiveLoadFailed(f"a {record.format} record, not WARC")
                if record.rec_type in ("response", "revisit"):
                    stored = _stored(record, it, name, max_payload)
                    if pending is not None:
                        yield pending
                    pending = stored
                elif record.rec_type == "metadata":
                    target = record.rec_headers.get_header("WARC-Target-URI") or ""
                    payload = record.content_stream().read(max_payload + 1)
                    it.read_to_end(record)
                    _check_complete(record, name, it)
                    if pending is not None and target == METADATA_URN + pending.captured.url:
                        yield _with_metadata(pending, payload[:max_payload])
                        pending = None
                else:
                    it.read_to_end(record)
                    _check_complete(record, name, it)
                    if not record.rec_headers.get_header("WARC-Type") and os.pread(
                            fh.fileno(), it.get_record_length(), it.get_record_offset()
                    ).strip(b"\r\n"):
                        # warcio yields blank lines, but also a header block cut short
                        # (a file ending in "WARC/1.0\r\n" and junk), as a record of no
                        # type without complaint: the second is a damaged region, not a
                        # record (found by tests/test_fuzz_warc.py).
                        raise WarcError(f"{name}: record at offset {it.get_record_offset()} "
                                        "is truncated (its header has no WARC-Type)")
                last = it.get_record_offset()
                end = last + it.get_record_length()
        except _DAMAGE as exc:
            reason = _reason(exc)
        # warcio's offsets are not to be trusted on data it could not read: keep moving on.
        end = min(max(end, pos), size)
        if reason is None:
            fh.seek(end)
            if end == size and end > pos and not _member_complete(fh, last, end):
                # zlib and warcio read a member cut before its trailer without complaint.
                if pending is not None and pending.location.offset == last:
                    pending = None  # that record is the one cut short: not intact
                damaged(Damage(name, last, size - last, "truncated: the last record's "
                               "gzip member is cut short", to_end=True))
                break
            if end >= size or not fh.read(64).strip(b"\r\n"):
                break  # (uncompressed files may end with the last record's CRLF pair)
            reason = "not a WARC record"  # warcio stopped quietly at bytes it cannot read
        if pending is not None:
            yield pending
            pending = None
        resume = _next_record_start(fh, end + 1, size)
        damaged(Damage(name, end, resume - end, reason, to_end=resume == size))
        pos = resume
    if pending is not None:
        yield pending


_GZIP_MAGIC = b"\x1f\x8b\x08"
_WARC_MAGIC = b"WARC/1."
_SCAN = 1 << 20


def _next_record_start(fh: BinaryIO, start: int, size: int) -> int:
    """The offset of the first gzip member or ``WARC/1.`` line at or after ``start`` that
    begins a WARC record (``size`` when there is none)."""
    pos = start
    while pos < size:
        fh.seek(pos)
        window = fh.read(_SCAN + 16)
        found = [i for i in (window.find(_GZIP_MAGIC), window.find(_WARC_MAGIC)) if i >= 0]
        if not found:
            pos += _SCAN
            continue
        candidate = pos + min(found)
        if _starts_record(fh, candidate):
            return candidate
        pos = candidate + 1
    return size


def _starts_record(fh: BinaryIO, offset: int) -> bool:
    fh.seek(offset)
    head = fh.read(4096)
    if head.startswith(_GZIP_MAGIC):
        try:
            head = zlib.decompressobj(31).decompress(head, 16)
        except zlib.error:
            return False
    return head.startswith((b"WARC/1.0\r\n", b"WARC/1.1\r\n", b"WARC/1.0\n", b"WARC/1.1\n"))


def read_response(directory: str | Path, location: WarcLocation,
                  max_payload: int = DEFAULT_MAX_PAYLOAD) -> StoredResponse:
    """The response or revisit record at ``location`` (one seek), without its metadata.
    A payload larger than ``max_payload`` comes back with ``too_large`` set and no body."""
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
            return _stored(record, it, location.file, max_payload)
    except WarcError:
        raise
    except (OSError, StopIteration, *_DAMAGE) as exc:
        raise WarcError(f"{location.file}@{location.offset}: cannot read record "
                        f"({_reason(exc)})") from exc


def _stored(record: ArcWarcRecord, it: ArchiveIterator, name: str,
            max_payload: int) -> StoredResponse:
    rec_headers = record.rec_headers
    if rec_headers.get_header("Content-Length") is None:
        # A header block cut short (a truncated file) parses as a record of no length:
        # Content-Length is mandatory, so its absence is damage (found by
        # tests/test_fuzz_warc.py: a record whose URI was cut to "http" was read).
        raise WarcError(f"{name}: record at offset {it.get_record_offset()} is truncated "
                        "(its header has no Content-Length)")
    http = record.http_headers
    # One byte over the bound is enough to know: the rest is skipped, never held.
    raw = record.raw_stream.read(max_payload + 1)
    it.read_to_end(record)
    _check_complete(record, name, it)
    url = rec_headers.get_header("WARC-Target-URI") or ""
    offset = it.get_record_offset()  # from the start of the file (warcio takes fh.tell())
    length = it.get_record_length()
    too_large = False
    try:
        # A payload kept as received is a notice of the reading pass that reports them
        # (ingest), not a warning from every pass over the file.
        sink = (lambda problem: it.notice(offset, problem)) if it.reports else None
        body = decode_payload(raw, http, f"{name}@{offset}: {url}", max_payload, sink)
    except PayloadTooLarge:
        body, too_large = b"", True  # the caller reports it (ingest counts it as an error)
    status_line = (http.get_statuscode() or "0") if http is not None else "0"
    reason = ""
    if http is not None and http.statusline:
        parts = http.statusline.split(" ", 1)
        reason = parts[1] if len(parts) > 1 else ""
    captured = CapturedResponse(
        url=url,
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
        location=WarcLocation(name, offset, length),
        digest=rec_headers.get_header("WARC-Payload-Digest"),
        protocol=(http.protocol if http is not None else "") or "HTTP/1.1",
        reason=reason,
        revisit=revisit,
        too_large=too_large,
    )


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

