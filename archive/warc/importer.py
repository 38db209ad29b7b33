"""Bringing WARC, ARC and WACZ files written by other tools into ``<data>/warcs``.

Every file is checked completely before anything is copied: a damaged file is refused as a
whole with one line saying what and where, so an import never half-loads a file and never
touches what is already archived. What is accepted becomes a plain WARC file in the WARC
directory (the record; ``reindex`` rebuilds the database from it like from any crawl):

- WARC (gzip per record or uncompressed, whatever the file is called) is copied as it is;
- ARC is converted to WARC/1.0 records (:func:`archive.warc.importer.arc_to_warc`);
- WACZ (a zip) gives each of its ``archive/*.warc[.gz]`` members, each checked as a WARC.

**A WACZ is verified first** (:func:`archive.evidence.verify.verify_wacz`: hashes, signature,
record digests, timestamp tokens; the verdict is in :attr:`ImportResult.verdicts` and the
import summary shows it). One that claims to be evidence (signed, or carrying
``timestamps/*.tsr`` tokens) and fails is refused as a whole like a damaged file: a package
whose proof is broken must not enter the archive looking like proven evidence. An unsigned
WACZ is imported whatever its verdict says (it never claimed more), and so is one signed
in a profile mediawatch cannot check (authsign's domain certificates: the verdict says
so). The tokens of a WACZ are kept beside the WARC files they cover (``<imported
name>.tsr``; the imported file has the member's exact bytes, so the token still matches
it), where ``mediawatch verify`` checks them like a crawl's own.

Names are ``import-<stamp>-<first 10 hex of the content's sha256>-<name>[@<source>].warc[.gz]``
(``<stamp>``: the import's UTC time, ``YYYYmmddHHMMSSfff`` as in a crawl's file names):
importing the same content twice (under any name) is a no-op, and two tools'
``example.warc.gz`` do not collide. The caller ingests the returned paths
(:func:`crawler.ingest.ingest_files`; archive/ does not import crawler/).

**The import time lives in the file name** so that ``reindex``, which takes the files in
time order (:func:`crawler.ingest.ingest_order`), loads an imported file between the
crawls it was imported between: when it holds pages the archive also crawled, which
capture made version 2 depends on that order. Files imported before the stamp existed
(``import-<hash>-<name>``) come after every crawl's files.

**The source id lives in the file name.** Records written by other tools carry no
mediawatch metadata, so the articles found in them get the source given with
``import --source ID`` (``import`` when none is given: then the name has no ``@`` part). The
archive is a pure function of the WARC files and the config, so ``reindex`` must find that
id again; it reads it back from the name (:func:`imported_source`). A name, unlike a sidecar
file or a database row, travels with the WARC when ``warcs/`` is copied, and the imported
bytes stay exactly as the other tool wrote them (nothing is added to the file). One content
has one source: importing it again with another ``--source`` is refused; renaming the file
in ``warcs/`` and running ``reindex`` changes it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from warcio.exceptions import ArchiveLoadFailed
from warcio.warcwriter import WARCWriter

from archive.evidence.seal import DIGEST, TIMESTAMPS
from archive.evidence.signing import UNCHECKABLE
from archive.evidence.timestamps import token_path, write_token
from archive.evidence.verify import Verdict, verify_wacz
from archive.warc.notices import QuietArchiveIterator as ArchiveIterator
from archive.warc.payload import DEFAULT_MAX_PAYLOAD
from archive.warc.reader import WarcError, iter_responses

if TYPE_CHECKING:
    from cryptography import x509

#: The source of imported records that carry no mediawatch metadata, when none is given.
IMPORT_SOURCE = "import"
_SOURCE_ID = re.compile(r"^[a-z0-9_-]+$")  # as a configured source's id
# A name _final_name writes: the stem is sanitised to [A-Za-z0-9._-], so '@' only ever
# introduces the source.
_IMPORTED = re.compile(r"^import-(?:(?P<stamp>\d{17})-)?(?P<hash>[0-9a-f]{10})-"
                       r".*?(?:@(?P<source>[a-z0-9_-]+))?\.warc(?:\.gz)?$")

_GZIP = b"\x1f\x8b"
_ZIP = b"PK\x03\x04"


@dataclass(slots=True)
class ImportResult:
    """What an import accepted (``ready``: WARC files in the WARC directory, to ingest) and
    refused (``errors``: one line each, ``<file>: <reason>``)."""

    ready: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    records: dict[str, int] = field(default_factory=dict)
    #: Each input file given (as given) -> the WARC files it became (none when refused).
    inputs: dict[str, list[Path]] = field(default_factory=dict)
    #: Each WACZ given (as given) -> what verifying it found (also for a refused one).
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    #: Timestamp tokens taken from WACZ files, stored beside the WARC files they cover.
    tokens: list[Path] = field(default_factory=list)


def imported_source(name: str) -> str | None:
    """The source id of the records without mediawatch metadata in the WARC file called
    ``name``: the ``@<source>`` part of an imported file's name, ``import`` when it has
    none; None for a file that was not imported (a crawl's own file)."""
    if m := _IMPORTED.match(name):
        return m["source"] or IMPORT_SOURCE
    return None


def import_stamp(name: str) -> str | None:
    """The import time (``YYYYmmddHHMMSSfff``, UTC) in an imported file's name; None for
    a file that was not imported or was imported before names carried it."""
    m = _IMPORTED.match(name)
    return m["stamp"] if m else None


def check_source_id(source: str) -> str:
    """``source`` when it is a valid source id (as in sources.toml); ValueError otherwise."""
    if not _SOURCE_ID.match(source):
        raise ValueError(f"--source {source!r}: lowercase letters, digits, '_' and '-' only")
    return source


def _kind(head: bytes) -> str:
    if head.startswith(_ZIP):
        return "wacz"
    if head.startswith(_GZIP):
        try:
            head = gzip.GzipFile(fileobj=io.BytesIO(head)).read(16)
        except (OSError, EOFError, zlib.error):
            head = b""
    return "arc" if head.startswith(b"filedesc://") else "warc"


def _final_name(data_hash: str, name: str, gzipped: bool, source: str, stamp: str) -> str:
    stem = re.sub(r"(\.w?arc)?(\.gz)?(\.open|\.bad)?$", "", name, flags=re.IGNORECASE)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", stem) or "file"
    tag = "" if source == IMPORT_SOURCE else f"@{source}"
    return f"import-{stamp}-{data_hash[:10]}-{stem}{tag}.warc{'.gz' if gzipped else ''}"


def _imported_before(warc_dir: Path, data_hash: str) -> Path | None:
    """The file this content was imported as already, under whatever name and source."""
    if not warc_dir.is_dir():
        return None
    for path in sorted(warc_dir.glob(f"import-*{data_hash[:10]}-*")):
        m = _IMPORTED.match(path.name)
        if (m and m["hash"] == data_hash[:10] and path.is_file()
                and hashlib.sha256(path.read_bytes()).hexdigest() == data_hash):
            return path
    return None


def _has_record(path: Path) -> bool:
    """At least one WARC record of any type (an empty or foreign file has none)."""
    try:
        with open(path, "rb") as fh:
            # warcio reads blank lines as a record of no type: that is no record.
            return any(record.rec_type for record in ArchiveIterator(fh))
    except (EOFError, ValueError, zlib.error, ArchiveLoadFailed):
        return False


def _check_warc(path: Path, label: str, max_payload: int) -> int:
    """Response and revisit records in a complete, readable WARC that holds at least one
    record; raises WarcError."""
    count = 0
    try:
        for stored in iter_responses(path, max_payload=max_payload):
            if not stored.captured.url:
                raise WarcError(f"{label}: a response record at offset "
                                f"{stored.location.offset} has no target URI")
            count += 1
    except WarcError as exc:
        # iter_responses names the temporary file; say which file the user gave.
        message = str(exc).replace(path.name, label, 1)
        raise WarcError(message if message.startswith(label) else f"{label}: {message}"
                        ) from exc
    if count == 0 and not _has_record(path):
        # An empty file (a failed download, a crawl that wrote nothing) is not evidence.
        raise WarcError(f"{label}: no WARC record in it; nothing imported")
    return count


def _check_gzip(data: bytes, label: str) -> None:
    """Every gzip member complete. warcio reads a member cut short (a copy interrupted, a
    file still being written) as far as it goes without a word; evidence must not be
    silently incomplete."""
    if not data.startswith(_GZIP):
        return
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as gz:
            while gz.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise WarcError(f"{label}: truncated or corrupt gzip data ({exc})") from exc


def _accept(data: bytes, name: str, label: str, warc_dir: Path, result: ImportResult,
            max_payload: int, source: str, stamp: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    final = warc_dir / _final_name(digest, name, data.startswith(_GZIP), source, stamp)
    before = _imported_before(warc_dir, digest)
    if before is not None:
        had = imported_source(before.name)
        if had != source:
            # One content, one source: two copies would double every capture.
            raise WarcError(f"{label}: already imported with source {had!r} as "
                            f"{before.name}; to change its source, rename that file "
                            f"(@{source} before .warc) and run reindex")
        result.ready.append(before)
        return
    warc_dir.mkdir(parents=True, exist_ok=True)
    # Checked under a temporary name in the same directory, then renamed: a crawl or ingest
    # listing the directory never sees a file that is not complete and valid.
    # Named after the final file, so that a warning logged while checking names it.
    fd, tmp = tempfile.mkstemp(dir=warc_dir, prefix=f".{final.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        result.records[final.name] = _check_warc(Path(tmp), label, max_payload)
        # After the record check, which names a damaged region and its offset; this one
        # catches a last member cut before its trailer, which the records do not show.
        _check_gzip(data, label)
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    result.ready.append(final)


def _wacz_evidence(data: bytes) -> tuple[bool, dict[str, bytes]]:
    """Whether a WACZ claims to be evidence (a signature or tokens), and its tokens by the
    name of the WARC file each covers. Unreadable parts count as no claim here: the
    verification and the member check say what is wrong with them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            tokens = {n[len(TIMESTAMPS):-len(".tsr")]: zf.read(n) for n in names
                      if n.startswith(TIMESTAMPS) and n.endswith(".tsr")}
            signed = DIGEST in names and b'"signedData"' in zf.read(DIGEST)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError):
        return False, {}
    return signed or bool(tokens), tokens


def _wacz_members(data: bytes, label: str) -> list[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [n for n in zf.namelist() if n.startswith("archive/")
                     and re.search(r"\.warc(\.gz)?$", n, re.IGNORECASE)]
            if not names:
                raise WarcError(f"{label}: not a WACZ (no archive/*.warc[.gz] member)")
            return [(Path(n).name, zf.read(n)) for n in names]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise WarcError(f"{label}: unreadable WACZ ({type(exc).__name__}: {exc})") from exc


def import_files(paths: Iterable[str | Path], warc_dir: str | Path,
                 max_payload: int = DEFAULT_MAX_PAYLOAD,
                 source: str = IMPORT_SOURCE, now: datetime | None = None,
                 roots: Sequence[x509.Certificate] = ()) -> ImportResult:
    """Check and copy (or convert) ``paths`` into ``warc_dir``, their records without
    mediawatch metadata attributed to ``source``, named with the time ``now`` (default:
    the clock); see the module docstring. No payload is decoded past ``max_payload`` bytes
    while checking (gzip bombs). A WACZ's timestamp tokens are checked against the trusted
    TSA certificates ``roots`` (none: the verdict notes they were not checked).

    Never raises for a bad input file: it is refused with one line in ``errors``. Raises
    ValueError for an invalid ``source`` id.
    """
    warc_dir = Path(warc_dir)
    check_source_id(source)
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S%f")[:17]
    result = ImportResult()
    for path in map(Path, paths):
        label = path.name
        given = len(result.ready)
        result.inputs[str(path)] = []
        try:
            data = path.read_bytes()
            kind = _kind(data[:4096])
            if kind == "wacz":
                verdict = result.verdicts[str(path)] = verify_wacz(path, roots)
                claims, tokens = _wacz_evidence(data)
                if claims and any(not p.endswith(UNCHECKABLE) for p in verdict.problems):
                    raise WarcError(f"{label}: refused, its verification failed: "
                                    + verdict.line().removeprefix(f"{path}: "))
                members = _wacz_members(data, label)
                staged = ImportResult()
                before = set(warc_dir.iterdir()) if warc_dir.is_dir() else set()
                try:
                    for name, member in members:  # all members valid, or none imported
                        _accept(member, name, f"{label}!{name}", warc_dir, staged,
                                max_payload, source, stamp)
                except WarcError:
                    for done in staged.ready:
                        if done not in before:
                            done.unlink(missing_ok=True)
                    raise
                result.ready += staged.ready
                result.records.update(staged.records)
                for (name, _), final in zip(members, staged.ready, strict=True):
                    if name in tokens and not token_path(final).exists():
                        result.tokens.append(write_token(final, tokens[name]))
            elif kind == "arc":
                _accept(arc_to_warc(data, label), path.name, label, warc_dir, result,
                        max_payload, source, stamp)
            else:
                _accept(data, path.name, label, warc_dir, result, max_payload, source, stamp)
        except WarcError as exc:
            # warcio's messages span lines (and may start with an empty one): one line here.
            result.errors.append(" ".join(str(exc).split()))
        except OSError as exc:
            result.errors.append(f"{label}: {exc.strerror or exc}")
        result.inputs[str(path)] = result.ready[given:]
    return result


def arc_to_warc(data: bytes, label: str) -> bytes:
    """An ARC file's records as gzip WARC/1.0 records (warcio's conversion; the ARC header
    becomes a warcinfo record). Raises :class:`WarcError` naming ``label`` for a record
    without a URL or without an HTTP response, or for unreadable data.

    A response is rebuilt from its payload, read first: ``get_record_offset`` (for the error
    messages) reads a record to its end, after which warcio's ``write_record`` wrote the
    HTTP headers without the payload."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    try:
        it = ArchiveIterator(io.BytesIO(data), arc2warc=True)
        for record in it:
            if record.rec_type == "response":
                # Read before get_record_offset(), which reads the record to its end.
                payload = record.raw_stream.read()
                where = f"{label}: ARC record at offset {it.get_record_offset()}"
                if not record.rec_headers.get_header("WARC-Target-URI"):
                    raise WarcError(f"{where} has no URL")
                status = record.http_headers.get_statuscode() if record.http_headers else ""
                # A malformed ARC header (length -1, 'abc') leaves warcio reading the next
                # header line as the HTTP response: no status code means a broken record.
                if not (status or "").isdigit():
                    raise WarcError(f"{where} is malformed (no HTTP response)")
                record = writer.create_warc_record(
                    record.rec_headers.get_header("WARC-Target-URI"), "response",
                    payload=io.BytesIO(payload),
                    http_headers=record.http_headers, warc_headers_dict={
                        "WARC-Date": record.rec_headers.get_header("WARC-Date") or ""})
            writer.write_record(record)
    except (ArchiveLoadFailed, OSError, EOFError, ValueError, zlib.error) as exc:
        if isinstance(exc, WarcError):
            raise
        raise WarcError(f"{label}: unreadable ARC data ({type(exc).__name__}: {exc})") from exc
    return out.getvalue()

