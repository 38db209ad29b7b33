"""``mediawatch verify``: is a WARC or WACZ file intact, signed and timestamped as it says?

One :class:`Verdict` per file, each a list of problems (empty: valid) and of notes:

* **WARC** (``.warc``, ``.warc.gz``): every record's ``WARC-Block-Digest`` and
  ``WARC-Payload-Digest`` (warcio's digest checker, what ``warcio check`` runs; a revisit's
  payload digest names another record's payload and is not checked), and a file that cannot
  be read to its end (damaged gzip, cut record) is named with the offset where reading
  stopped. With a ``<name>.tsr`` beside it, the token must be an RFC 3161 token of the
  file's SHA-256 (:func:`archive.evidence.timestamps.check_token`).
* **WACZ**: every file against its SHA-256 in ``datapackage.json`` (and no file left out of
  it), ``datapackage.json`` against ``datapackage-digest.json``, the anonymous signature
  (:func:`archive.evidence.signing.verify_signed_data`) and its ``created`` against the
  package's, every WARC inside as above, and every ``timestamps/<warc>.tsr`` against the
  WARC of that name inside the package.

The TSA's signature on a token is checked only against trusted TSA certificates (``roots``:
``[evidence] tsa_ca`` or ``verify --tsa-ca``); without them the note says so.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from warcio.exceptions import ArchiveLoadFailed

from archive.evidence.seal import DATAPACKAGE, DIGEST, TIMESTAMPS
from archive.evidence.signing import verify_signed_data
from archive.evidence.timestamps import check_token, file_sha256, token_path
from archive.times import utc_text
from archive.warc.notices import QuietArchiveIterator as ArchiveIterator

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from cryptography import x509

__all__ = ["Verdict", "verify_file", "verify_files", "verify_wacz", "verify_warc"]

_CHUNK = 1024 * 1024
_SHOWN = 5  # problems per line; a badly damaged file would otherwise print pages


@dataclass(slots=True)
class Verdict:
    """What is wrong with one file (``problems``; empty when it is valid) and what was
    found out along the way (``notes``: records checked, signer, timestamp)."""

    path: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def line(self) -> str:
        """``<path>: ok (<notes>)`` or ``<path>: <problem>; <problem>``."""
        if self.ok:
            return f"{self.path}: ok" + (f" ({'; '.join(self.notes)})" if self.notes else "")
        shown = self.problems[:_SHOWN]
        more = len(self.problems) - len(shown)
        return f"{self.path}: " + "; ".join(shown) + (f"; and {more} more" if more else "")


def _drain(stream: IO[bytes]) -> None:
    while stream.read(_CHUNK):
        pass


def check_records(stream: IO[bytes], where: str = "") -> tuple[int, list[str], int]:
    """Read every record of a WARC stream checking its digests: (records, problems,
    records that carry no digest to check).

    ``where`` prefixes each problem (the member name inside a WACZ).
    """
    problems: list[str] = []
    records = unchecked = 0
    iterator = ArchiveIterator(stream, check_digests=True)
    try:
        for record in iterator:
            # The raw stream: digests are of the bytes as stored (Content-Encoding included),
            # and nothing needs decoding.
            _drain(record.raw_stream)
            records += 1
            if record.digest_checker.passed is None and record.rec_type != "revisit":
                unchecked += 1
            if record.digest_checker.passed is False:
                rid = record.rec_headers.get_header("WARC-Record-ID")
                offset = iterator.get_record_offset()
                what = "; ".join(str(p) for p in record.digest_checker.problems)
                problems.append(f"{where}record {rid} at offset {offset}: {what}")
    except (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError,
            zipfile.BadZipFile) as exc:
        # warcio's position is unreliable in a file that is not one gzip member per record.
        offset = iterator.offset if records else 0
        near = f" (near offset {offset})" if offset >= 0 else ""
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        problems.append(f"{where}unreadable after record {records}{near}: {first[:120]}")
    return records, problems, unchecked


def _token_note(verdict: Verdict, name: str, token: bytes, digest: bytes,
                roots: Sequence[x509.Certificate]) -> None:
    check = check_token(token, digest, roots)
    if not check.ok:
        verdict.problems.append(f"{name}: {check.problem}")
        return
    when = utc_text(check.time) if check.time else "?"
    trust = "" if check.trusted else ", TSA signature not checked: no tsa_ca"
    verdict.notes.append(f"timestamp {when} by {check.tsa or 'unknown TSA'}{trust}")


def verify_warc(path: str | Path, roots: Sequence[x509.Certificate] = ()) -> Verdict:
    """Check one WARC file on disk and the ``.tsr`` token beside it, if any."""
    path = Path(path)
    verdict = Verdict(path)
    with open(path, "rb") as fh:
        records, problems, unchecked = check_records(fh)
    verdict.problems += problems
    verdict.notes.append(f"{records} records"
                         + (f", {unchecked} without digests" if unchecked else ""))
    token = token_path(path)
    if token.exists():
        _token_note(verdict, token.name, token.read_bytes(), file_sha256(path), roots)
    return verdict


def _member_sha256(archive: zipfile.ZipFile, name: str) -> bytes:
    digest = hashlib.sha256()
    with archive.open(name) as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def verify_wacz(path: str | Path, roots: Sequence[x509.Certificate] = ()) -> Verdict:
    """Check one WACZ: hashes, signature, the WARCs inside and their tokens.

    The function the importer can call before loading a WACZ (``verdict.ok``,
    ``verdict.line()``).
    """
    path = Path(path)
    verdict = Verdict(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        verdict.problems.append(f"not a readable zip ({exc})")
        return verdict
    with archive:
        _check_package(archive, verdict, roots)
    return verdict


def _check_package(archive: zipfile.ZipFile, verdict: Verdict,
                   roots: Sequence[x509.Certificate]) -> None:
    names = set(archive.namelist())
    if DATAPACKAGE not in names:
        verdict.problems.append(f"no {DATAPACKAGE}")
        return
    try:
        package_bytes = archive.read(DATAPACKAGE)
        package = json.loads(package_bytes)
        resources = {r["path"]: r for r in package.get("resources", [])}
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile, zlib.error) as exc:
        verdict.problems.append(f"{DATAPACKAGE} unreadable ({exc})")
        return
    sha = {}
    for member in sorted(names - {DATAPACKAGE, DIGEST}):
        if member.endswith("/"):
            continue
        try:
            sha[member] = _member_sha256(archive, member)
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            verdict.problems.append(f"{member}: unreadable ({exc})")
            continue
        listed = resources.get(member)
        if listed is None:
            verdict.problems.append(f"{member}: not listed in {DATAPACKAGE}")
        elif _listed_sha256(listed) != sha[member].hex():
            verdict.problems.append(f"{member}: SHA-256 differs from {DATAPACKAGE}")
    for missing in sorted(set(resources) - names):
        verdict.problems.append(f"{missing}: listed in {DATAPACKAGE} but missing")
    _check_digest(archive, names, package, package_bytes, verdict)
    warcs = sorted(m for m in sha if m.startswith("archive/"))
    total = without = 0
    for member in warcs:
        try:
            with archive.open(member) as fh:
                records, problems, unchecked = check_records(fh, f"{member}: ")
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            records, problems, unchecked = 0, [f"{member}: unreadable ({exc})"], 0
        total += records
        without += unchecked
        verdict.problems += problems
    verdict.notes.insert(0, f"{len(warcs)} WARC files, {total} records"
                         + (f", {without} without digests" if without else ""))
    _check_tokens(archive, sha, verdict, roots)


def _listed_sha256(resource: dict[str, Any]) -> str | None:
    """The hex SHA-256 a ``datapackage.json`` resource lists: ``hash: "sha256:<hex>"``
    (WACZ 1.1), or ``stats.hash`` with ``hashing: "sha256"`` (the WACZ 1.0 layout)."""
    value = resource.get("hash") or (resource.get("stats") or {}).get("hash")
    if not isinstance(value, str):
        return None
    algorithm, _, hexdigest = value.rpartition(":")
    if (algorithm or resource.get("hashing") or "sha256") != "sha256":
        return None
    return hexdigest.lower()


def _check_digest(archive: zipfile.ZipFile, names: Iterable[str], package: dict[str, object],
                  package_bytes: bytes, verdict: Verdict) -> None:
    if DIGEST not in names:
        verdict.notes.append("not signed")
        return
    try:
        digest = json.loads(archive.read(DIGEST))
    except (ValueError, zipfile.BadZipFile, zlib.error) as exc:
        verdict.problems.append(f"{DIGEST} unreadable ({exc})")
        return
    expected = "sha256:" + hashlib.sha256(package_bytes).hexdigest()
    if digest.get("hash") != expected:
        verdict.problems.append(f"{DATAPACKAGE}: SHA-256 differs from {DIGEST}")
    signed = digest.get("signedData")
    if not signed:
        verdict.notes.append("not signed")
        return
    # The signature covers the digest file's hash; whether that is the hash of this
    # datapackage.json was checked above.
    check = verify_signed_data(signed, str(digest.get("hash")))
    if not check.ok:
        verdict.problems.append(f"{DIGEST}: {check.problem}")
    elif signed.get("created") != package.get("created"):
        verdict.problems.append(f"{DIGEST}: signed 'created' differs from {DATAPACKAGE}")
    else:
        verdict.notes.append(f"signed by key {check.fingerprint}")


def _check_tokens(archive: zipfile.ZipFile, sha: dict[str, bytes], verdict: Verdict,
                  roots: Sequence[x509.Certificate]) -> None:
    for member in sorted(m for m in sha if m.startswith(TIMESTAMPS) and m.endswith(".tsr")):
        warc = "archive/" + member[len(TIMESTAMPS):-len(".tsr")]
        if warc not in sha:
            verdict.problems.append(f"{member}: no {warc} in the package to check it against")
            continue
        _token_note(verdict, member, archive.read(member), sha[warc], roots)


def verify_file(path: str | Path, roots: Sequence[x509.Certificate] = ()) -> Verdict:
    """Check a WACZ (by its ``.wacz`` name or zip signature) or else a WARC file."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        return Verdict(path, [f"cannot read ({exc.strerror or exc})"])
    if path.suffix.lower() == ".wacz" or head == b"PK\x03\x04":
        return verify_wacz(path, roots)
    return verify_warc(path, roots)


def verify_files(paths: Iterable[str | Path],
                 roots: Sequence[x509.Certificate] = ()) -> list[Verdict]:
    """One verdict per path, in order."""
    return [verify_file(p, roots) for p in paths]
