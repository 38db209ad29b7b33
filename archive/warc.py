"""WARC capture I/O: the typed values the rest of mediawatch sees, a rotating writer and readers.

warcio stays behind this module: callers see :class:`CapturedResponse` and :class:`WarcLocation`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import socket
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import BinaryIO

import brotli
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader, ChunkedDataException, ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.cdxj import index_closed_warc

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WarcLocation:
    """Where one record lives: ``file`` (name relative to the WARC directory), byte ``offset``
    of its gzip member and the member's compressed ``length`` — one seek away."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """One HTTP response as captured: the input of every page object.

    ``body`` is the payload with any Content-Encoding removed (the WARC keeps the bytes as
    received). ``headers`` keeps every value of repeated headers, in order. ``fetched_at`` is
    timezone-aware UTC. ``redirect_urls`` lists the URLs requested before this one when the
    fetch went through redirects (first = the URL originally asked for). ``metadata`` is the
    JSON of the capture's metadata record (source, discovery, hints).
    """

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    redirect_urls: tuple[str, ...] = ()
    record_id: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    @property
    def content_type(self) -> str:
        """Media type without parameters, lowercased ('' when absent)."""
        value = self.header("Content-Type") or ""
        return value.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if the server sent one."""
        value = self.header("Content-Type")
        if not value:
            return None
        msg = Message()
        msg["content-type"] = value
        charset = msg.get_param("charset")
        return str(charset).strip().lower() if charset else None


# --------------------------------------------------------------------------- writing

WARC_VERSION = "WARC/1.1"
METADATA_URN = "urn:mediawatch:metadata:"
REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Twisted has already de-chunked the body, so the header would lie about the payload.
_DROP_HEADERS = frozenset({"transfer-encoding"})


class WarcError(ValueError):
    """A WARC file or record that cannot be read: says which file and where."""


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP exchange as the crawler saw it, ready to be written.

    ``body`` is the payload exactly as received (still content-encoded). ``request_target`` is
    the path plus query of the request line. ``metadata`` becomes the JSON metadata record.
    """

    url: str
    method: str
    request_target: str
    request_headers: tuple[tuple[str, str], ...]
    protocol: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    ip_address: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PriorCapture:
    """The last full capture of a URL: what a revisit record refers to."""

    url: str
    date: datetime
    record_id: str | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class WrittenExchange:
    """Where the records of one exchange landed.

    ``revisit`` is the profile URI when the payload was written as a revisit record (then
    ``prior`` is the capture it refers to), else None. ``digest`` is the payload digest.
    """

    response: WarcLocation
    record_id: str
    bytes_written: int
    digest: str = ""
    revisit: str | None = None

    def as_prior(self, url: str, date: datetime) -> PriorCapture:
        """This capture as the one later revisits of ``url`` refer to."""
        return PriorCapture(url, date, self.record_id, self.digest)


def payload_digest(body: bytes) -> str:
    """``sha1:<base32>`` of the payload as written: the form warcio and Heritrix write."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def revisit_profile(status: int, body: bytes, prior: PriorCapture | None) -> str | None:
    """Pure: which revisit profile an answer gets, or None for a full response record.

    A 304 is a server-not-modified revisit (whether or not a prior capture is known); a 200
    whose payload is byte-identical to the prior capture of the same URL is an
    identical-payload-digest revisit, so a recrawl of an unchanged page costs a few hundred
    bytes instead of a second copy.
    """
    if status == 304:
        return REVISIT_NOT_MODIFIED
    if (status == 200 and body and prior is not None and prior.digest
            and prior.digest == payload_digest(body)):
        return REVISIT_IDENTICAL
    return None


def warc_filename(source: str, when: datetime, serial: int, host: str) -> str:
    """``{source}-{UTC timestamp}-{serial}-{host}.warc.gz`` (Heritrix-style, sortable by time)."""
    stamp = when.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
    safe_host = re.sub(r"[^A-Za-z0-9.-]", "_", host) or "localhost"
    return f"{source}-{stamp}-{serial:05d}-{safe_host}.warc.gz"


def warc_date(when: datetime) -> str:
    """WARC/1.1 date with microseconds, so captures of one second keep their order."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


class RotatingWarcWriter:
    """Writes exchanges to gzip WARC/1.1 files, one gzip member per record.

    Files are named ``*.warc.gz.open`` while written and renamed when closed; a new file is
    started when the current one passes ``max_size`` bytes. ``closed_files`` lists the final
    paths in order. Not thread-safe: Scrapy calls it from the reactor thread only.
    """

    def __init__(
        self,
        directory: str | Path,
        source: str,
        *,
        max_size: int = 1024**3,
        host: str | None = None,
        software: str = "mediawatch",
        operator: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ):
        self.directory = Path(directory)
        self.source = source
        self.max_size = max_size
        self.host = host or socket.gethostname()
        self.software = software
        self.operator = operator
        self._clock = clock or (lambda: datetime.now(UTC))
        self._serial = 0
        self._file: BinaryIO | None = None
        self._writer: WARCWriter | None = None
        self._name = ""
        self.closed_files: list[Path] = []
        self.records_written = 0
        self.bytes_written = 0

    # -- files
    def _open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        while True:
            self._name = warc_filename(self.source, self._clock(), self._serial, self.host)
            self._serial += 1
            path = self.directory / (self._name + ".open")
            if not path.exists() and not (self.directory / self._name).exists():
                break
        self._file = open(path, "xb")  # noqa: SIM115 - closed in close()
        self._writer = WARCWriter(self._file, gzip=True, warc_version=WARC_VERSION)
        info = {
            "software": self.software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
            "warc-format/warc-1.1/",
            "hostname": self.host,
            "isPartOf": self.source,
        }
        if self.operator:
            info["operator"] = self.operator
        self._write(self._writer.create_warcinfo_record(self._name, info))

    def close(self) -> Path | None:
        """Close the current file (if any) and rename it to its final name."""
        if self._file is None:
            return None
        self._file.close()
        final = self.directory / self._name
        os.replace(self.directory / (self._name + ".open"), final)
        self._file = self._writer = None
        self.closed_files.append(final)
        index_closed_warc(final)  # <name>.warc.gz.cdxj for pywb and other tools
        return final

    def _write(self, record: object) -> WarcLocation:
        assert self._file is not None and self._writer is not None
        offset = self._file.tell()
        self._writer.write_record(record)
        length = self._file.tell() - offset
        self.records_written += 1
        self.bytes_written += length
        return WarcLocation(self._name, offset, length)

    # -- records
    def write_exchange(self, ex: Exchange, prior: PriorCapture | None = None
                       ) -> WrittenExchange:
        """Write response (or revisit), request and metadata records for one exchange.

        ``prior`` is the last full capture of the same URL; see :func:`revisit_profile` for
        when the answer becomes a revisit record instead of a response record. The three
        records go to the same file; rotation happens before, never in between.
        """
        if self._file is None or self._file.tell() >= self.max_size:
            self.close()
            self._open()
        assert self._writer is not None
        date = warc_date(ex.fetched_at)
        response_id = _record_id()
        status_line = f"{ex.status} {ex.reason}".strip()
        http_headers = StatusAndHeaders(
            status_line,
            [(k, v) for k, v in ex.headers if k.lower() not in _DROP_HEADERS],
            protocol=ex.protocol or "HTTP/1.1",
        )
        warc_headers = {"WARC-Record-ID": response_id, "WARC-Date": date}
        if ex.ip_address:
            warc_headers["WARC-IP-Address"] = ex.ip_address
        digest = payload_digest(ex.body)
        profile = revisit_profile(ex.status, ex.body, prior)
        if profile is None:
            response = self._writer.create_warc_record(
                ex.url,
                "response",
                payload=io.BytesIO(ex.body),
                length=len(ex.body),
                http_headers=http_headers,
                warc_headers_dict=warc_headers,
            )
        else:
            response = self._revisit_record(ex.url, profile, http_headers, warc_headers,
                                            prior, digest)
        location = self._write(response)
        before = location.length

        request_headers = StatusAndHeaders(
            f"{ex.method} {ex.request_target} {ex.protocol or 'HTTP/1.1'}",
            list(ex.request_headers),
            is_http_request=True,
        )
        request = self._writer.create_warc_record(
            ex.url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=request_headers,
            warc_headers_dict={
                "WARC-Record-ID": _record_id(),
                "WARC-Date": date,
                "WARC-Concurrent-To": response_id,
            },
        )
        written = before + self._write(request).length

        meta = json.dumps(ex.metadata, ensure_ascii=False, sort_keys=True).encode("utf-8")
        metadata = self._writer.create_warc_record(
            METADATA_URN + ex.url,
            "metadata",
            payload=io.BytesIO(meta),
            length=len(meta),
            warc_content_type="application/json",
            warc_headers_dict={
                "WARC-Record-ID": _record_id(),
                "WARC-Date": date,
                "WARC-Concurrent-To": response_id,
            },
        )
        written += self._write(metadata).length
        if self._file is not None and self._file.tell() >= self.max_size:
            self.close()
        return WrittenExchange(location, response_id, written, digest, profile)

    def _revisit_record(self, url: str, profile: str, http_headers: StatusAndHeaders,
                        warc_headers: dict[str, str], prior: PriorCapture | None,
                        digest: str) -> object:
        assert self._writer is not None
        if prior is not None and prior.record_id:
            warc_headers["WARC-Refers-To"] = prior.record_id
        # The HTTP headers of this answer are kept; only the payload is left out. A 304 has
        # no payload of its own: its digest is the one of the capture it confirms.
        if prior is not None:
            record = self._writer.create_revisit_record(
                url, prior.digest or digest, prior.url, warc_date(prior.date),
                http_headers=http_headers, warc_headers_dict=warc_headers)
            record.rec_headers.replace_header("WARC-Profile", profile)
            return record
        record = self._writer.create_warc_record(url, "revisit", http_headers=http_headers,
                                                 warc_headers_dict=warc_headers)
        record.rec_headers.add_header("WARC-Profile", profile)
        return record


# --------------------------------------------------------------------------- reading


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


def _check_complete(record: object, name: str, it: ArchiveIterator) -> None:
    # A record cut short (truncated file, bad gzip member) leaves bytes of its declared
    # Content-Length unread; warcio itself does not complain.
    missing = getattr(getattr(record, "raw_stream", None), "limit", 0) or 0
    if missing > 0:
        raise WarcError(f"{name}: record at offset {it.get_record_offset()} is truncated "
                        f"({missing} bytes missing)")


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


def _stored(record: object, it: ArchiveIterator, name: str, base: int = 0) -> StoredResponse:
    rec_headers = record.rec_headers  # type: ignore[attr-defined]
    http = record.http_headers  # type: ignore[attr-defined]
    raw = record.raw_stream.read()  # type: ignore[attr-defined]
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
    if record.rec_type == "revisit":  # type: ignore[attr-defined]
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
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


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


def recover_open_file(path: str | Path) -> Path:
    """Close a ``*.warc.gz.open`` file left by a crawl that was killed: cut it after its
    last complete record and give it its final name. Returns the final path.

    Only call it for files no live writer owns (the crawl holds its source's lock).
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
    index_closed_warc(final)
    return final


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


def arc_to_warc(data: bytes, label: str) -> bytes:
    """An ARC file's records as gzip WARC/1.0 records (warcio's conversion; the ARC header
    becomes a warcinfo record). Raises :class:`WarcError` naming ``label`` for a record
    without a URL or without an HTTP response, or for unreadable data."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    try:
        it = ArchiveIterator(io.BytesIO(data), arc2warc=True)
        for record in it:
            if record.rec_type == "response":
                where = f"{label}: ARC record at offset {it.get_record_offset()}"
                if not record.rec_headers.get_header("WARC-Target-URI"):
                    raise WarcError(f"{where} has no URL")
                status = record.http_headers.get_statuscode() if record.http_headers else ""
                # A malformed ARC header (length -1, 'abc') leaves warcio reading the next
                # header line as the HTTP response: no status code means a broken record.
                if not (status or "").isdigit():
                    raise WarcError(f"{where} is malformed (no HTTP response)")
            writer.write_record(record)
    except (ArchiveLoadFailed, OSError, EOFError, ValueError, zlib.error) as exc:
        if isinstance(exc, WarcError):
            raise
        raise WarcError(f"{label}: unreadable ARC data ({type(exc).__name__}: {exc})") from exc
    return out.getvalue()
