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
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import GzippingWrapper, WARCWriter

from archive.faults import stop_here
from archive.models import PriorCapture, WarcLocation

log = logging.getLogger(__name__)

#: The gzip level of each record: zlib's default, as wget and Heritrix write. warcio's own
#: level 9 costs about 50 % more CPU in the crawl's process (6.5 against 4.3 ms per page on
#: the real pages of ../shared/eval/aeb) for files 0.6 % smaller.
GZIP_LEVEL = 6

#: A response whose payload is compressed already (a ``Content-Encoding`` below, or an image,
#: audio or video type) goes into its gzip member stored (level 0): deflate cannot shrink
#: such bytes, and level 6 spent about 1 ms per news page searching them for matches (the
#: AEB pages gzip-encoded on the wire: 0.07 % larger records, stored at 1/20 of the CPU).
COMPRESSED_ENCODINGS = frozenset({"gzip", "x-gzip", "br", "deflate", "zstd", "compress"})
COMPRESSED_TYPES = ("image/", "audio/", "video/", "font/woff2", "application/zip",
                    "application/gzip", "application/pdf")


def record_level(rec_type: str, encoding: str | None, content_type: str | None) -> int:
    """The gzip level of one record (pure): 0 for a response whose payload is compressed
    already (:data:`COMPRESSED_ENCODINGS`, :data:`COMPRESSED_TYPES`, svg aside), else
    :data:`GZIP_LEVEL`."""
    if rec_type != "response":
        return GZIP_LEVEL
    if encoding and encoding.strip().lower() in COMPRESSED_ENCODINGS:
        return 0
    kind = (content_type or "").split(";")[0].strip().lower()
    return 0 if kind.startswith(COMPRESSED_TYPES) and kind != "image/svg+xml" else GZIP_LEVEL


class _LevelGzip(GzippingWrapper):
    """warcio's per-record gzip member, compressed at a chosen level."""

    def __init__(self, out: BinaryIO, level: int):
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS + 16)
        self.out = out


class _WarcWriter(WARCWriter):
    """warcio's writer with :class:`_LevelGzip` records at :func:`record_level` (made with
    ``gzip=False``: warcio would wrap ``out`` in its own level-9 wrapper)."""

    def _write_warc_record(self, out: BinaryIO, record: Any) -> None:
        http = record.http_headers
        level = record_level(record.rec_type,
                             http.get_header("Content-Encoding") if http else None,
                             http.get_header("Content-Type") if http else None)
        super()._write_warc_record(_LevelGzip(out, level), record)


WARC_VERSION = "WARC/1.1"


METADATA_URN = "urn:mediawatch:metadata:"


REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


# Twisted has already de-chunked the body, so the header would lie about the payload.
_DROP_HEADERS = frozenset({"transfer-encoding"})


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
    paths in order. ``on_close(path)`` runs for each file once it has its final name (the
    crawl passes :func:`archive.warc.cdxj.index_closed_warc`, so derived indexes are the
    caller's choice, not the writer's). Not thread-safe: Scrapy calls it from the reactor
    thread only.
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
        on_close: Callable[[Path], object] | None = None,
    ):
        self.directory = Path(directory)
        self.source = source
        self.max_size = max_size
        self.host = host or socket.gethostname()
        self.software = software
        self.operator = operator
        self._clock = clock or (lambda: datetime.now(UTC))
        self._on_close = on_close
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
        self._writer = _WarcWriter(self._file, gzip=False, warc_version=WARC_VERSION)
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
        return self._finish()

    def abort(self, keep: int) -> Path | None:
        """After a failed write (a full disk): cut the current file back to its first
        ``keep`` bytes (its complete exchanges) and close it like :meth:`close`."""
        if self._file is None:
            return None
        with suppress(OSError):  # its buffered bytes may not fit on the disk either
            self._file.close()
        os.truncate(self.directory / (self._name + ".open"), keep)
        return self._finish()

    def _finish(self) -> Path:
        stop_here("closing")  # test hook (archive/faults.py)
        final = self.directory / self._name
        os.replace(self.directory / (self._name + ".open"), final)
        stop_here("closed")  # test hook (archive/faults.py)
        self._file = self._writer = None
        self.closed_files.append(final)
        if self._on_close is not None:
            self._on_close(final)
        return final

    def _write(self, record: object) -> WarcLocation:
        assert self._file is not None
        assert self._writer is not None
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
        with self._unit():
            return self._write_exchange(ex, prior)

    @contextmanager
    def _unit(self) -> Iterator[None]:
        """Rotate when due, then run the block as one unit: a write in it that fails (a full
        disk) leaves none of it in the file, which ends where the unit began; a new file
        whose warcinfo record did not fit is removed."""
        start = 0
        try:
            if self._file is None or self._file.tell() >= self.max_size:
                self.close()
                self._open()
            assert self._file is not None
            start = self._file.tell()
            yield
        except OSError:
            if start:
                self.abort(start)
            elif self._file is not None:
                with suppress(OSError):
                    self._file.close()
                (self.directory / (self._name + ".open")).unlink(missing_ok=True)
                self._file = self._writer = None
            raise

    def _write_exchange(self, ex: Exchange, prior: PriorCapture | None) -> WrittenExchange:
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
        stop_here("mid-exchange")  # test hook (archive/faults.py)
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
        assert self._file is not None
        # Flushed per exchange, so that a full disk fails the exchange that did not fit
        # (which is then cut off), never a later one.
        self._file.flush()
        if self._file.tell() >= self.max_size:
            self.close()
        return WrittenExchange(location, response_id, written, digest, profile)

    def write_resource(self, uri: str, payload: bytes, content_type: str, when: datetime,
                       headers: dict[str, str] | None = None,
                       record_type: str = "resource") -> WarcLocation:
        """Write one ``resource`` record (a screenshot: content made by mediawatch, not
        fetched) with the extra WARC ``headers`` (``WARC-Refers-To`` and the like);
        ``record_type`` ``metadata`` for what a crawl learned (a cluster worker's state).

        Rotation happens before the record, as for exchanges; a write that fails (a full
        disk) cuts the file back to where the record began."""
        with self._unit():
            assert self._file is not None
            assert self._writer is not None
            record = self._writer.create_warc_record(
                uri, record_type, payload=io.BytesIO(payload), length=len(payload),
                warc_content_type=content_type,
                warc_headers_dict={"WARC-Record-ID": _record_id(), "WARC-Date": warc_date(when),
                                   **(headers or {})})
            location = self._write(record)
            self._file.flush()
            return location

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

