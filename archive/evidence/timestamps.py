"""RFC 3161 trusted timestamps of closed WARC files: ``<name>.warc.gz.tsr`` beside each.

When a WARC file is closed and ``[evidence] tsa_url`` is set, the SHA-256 of the whole file
is sent to that time-stamping authority (TSA) and its answer, the DER ``TimeStampResp``
exactly as received, is stored as ``<name>.warc.gz.tsr``: the form ``openssl ts -reply``
writes and ``openssl ts -verify -in <name>.warc.gz.tsr -data <name>.warc.gz -CAfile ca.pem``
checks, so a third party needs nothing of mediawatch to check a file's time.

* The request is built here (:func:`timestamp_request`, a few bytes of DER): the
  ``rfc3161-client`` builder only takes the data itself, and a WARC file can be a gigabyte,
  so the file is hashed in chunks and only its digest is sent. Everything else (decoding the
  answer, checking its signature and certificate chain) is ``rfc3161-client``'s.
* A crawl never waits on the TSA: :class:`TimestampQueue` stamps files on a background
  thread as they close, and the crawl gives it a few seconds at its end. A TSA that is down
  or slow costs one warning per file and no failure; the file simply has no ``.tsr`` yet,
  and :func:`stamp_pending` (the next crawl of the source, ``mediawatch ingest``) asks
  again for every closed WARC without one. The token is written to a temporary name and
  renamed, so a half-written token never exists and two processes stamping the same file
  at once leave one good token.
"""

from __future__ import annotations

import hashlib
import logging
import os
import queue
import secrets
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from rfc3161_client import (
    PKIStatus,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from archive.warc.reader import list_warcs

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from datetime import datetime

    from rfc3161_client import TimeStampResponse

__all__ = [
    "TOKEN_SUFFIX",
    "StampReport",
    "TimestampError",
    "TimestampQueue",
    "TokenCheck",
    "check_token",
    "file_sha256",
    "load_certificates",
    "request_token",
    "stamp_file",
    "stamp_pending",
    "timestamp_request",
    "token_path",
    "unstamped",
]

log = logging.getLogger(__name__)

TOKEN_SUFFIX = ".tsr"
#: How long one request to the TSA may take before it counts as down.
DEFAULT_TIMEOUT = 10.0
_CHUNK = 1024 * 1024
# DER of the AlgorithmIdentifier for SHA-256 (OID 2.16.840.1.101.3.4.2.1, NULL parameters).
_SHA256_ALGORITHM = bytes.fromhex("300d06096086480165030402010500")
_SHA256_OID = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")


class TimestampError(ValueError):
    """No usable token: the TSA could not be reached, refused, or answered something that
    is not a token for the digest that was sent; says which."""


def token_path(warc: str | Path) -> Path:
    """Where the token of ``warc`` lives: the same name plus ``.tsr``, in the same folder."""
    warc = Path(warc)
    return warc.with_name(warc.name + TOKEN_SUFFIX)


def file_sha256(path: str | Path) -> bytes:
    """SHA-256 of a file, read in 1 MiB chunks (WARC files can be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


# -- DER, just enough for a TimeStampReq (RFC 3161 section 2.4.1)
def _der(tag: int, body: bytes) -> bytes:
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def _der_integer(value: int) -> bytes:
    # Two's complement, big-endian, shortest form: a leading 0 keeps a high bit positive.
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def timestamp_request(digest: bytes, nonce: int) -> bytes:
    """Pure: the DER ``TimeStampReq`` for a SHA-256 ``digest``, asking for the TSA's
    certificate in the answer (``certReq``) and carrying ``nonce`` (a non-negative int)."""
    if len(digest) != 32:
        raise ValueError("a SHA-256 digest is 32 bytes")
    imprint = _der(0x30, _SHA256_ALGORITHM + _der(0x04, digest))
    return _der(0x30, _der_integer(1) + imprint + _der_integer(nonce) + b"\x01\x01\xff")


def _granted(response: TimeStampResponse) -> bool:
    return PKIStatus(response.status) in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS)


def request_token(tsa_url: str, digest: bytes, *, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Ask ``tsa_url`` for a token of ``digest`` (SHA-256); the raw ``TimeStampResp``.

    The answer is checked before it is returned: granted, for this digest, with this
    request's nonce (a replayed or mixed-up answer is refused). Raises
    :class:`TimestampError` saying what went wrong.
    """
    nonce = secrets.randbits(63)
    request = urllib.request.Request(
        tsa_url, data=timestamp_request(digest, nonce), method="POST",
        headers={"Content-Type": "application/timestamp-query",
                 "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read()
    except urllib.error.HTTPError as exc:
        raise TimestampError(f"TSA answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TimestampError(f"TSA not reachable ({reason})") from None
    try:
        response = decode_timestamp_response(body)
    except ValueError as exc:
        raise TimestampError(f"TSA answer is not a time-stamp response ({exc})") from None
    if not _granted(response):
        said = "; ".join(response.status_string) or f"status {response.status}"
        raise TimestampError(f"TSA refused: {said}")
    info = response.tst_info
    if info.message_imprint.message != digest or info.nonce != nonce:
        raise TimestampError("TSA answered for another request (digest or nonce differ)")
    return body


def write_token(warc: Path, token: bytes) -> Path:
    """Store ``token`` as ``<warc>.tsr``: written aside, then renamed into place."""
    target = token_path(warc)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(token)
    os.replace(tmp, target)
    return target


def stamp_file(warc: str | Path, tsa_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Hash ``warc``, get its token from ``tsa_url`` and store it beside the file."""
    warc = Path(warc)
    return write_token(warc, request_token(tsa_url, file_sha256(warc), timeout=timeout))


def unstamped(warc_dir: str | Path, prefix: str = "") -> list[Path]:
    """Closed WARC files in ``warc_dir`` (as ingest lists them: ``.warc.gz`` and ``.warc``,
    sub-folders included, never ``.open``) whose name starts with ``prefix`` and that have
    no token yet, oldest name first."""
    return [p for p in list_warcs(warc_dir)
            if p.name.startswith(prefix) and not token_path(p).exists()]


@dataclass(slots=True)
class StampReport:
    """What a round of stamping did: tokens written, and one line per file that has none."""

    stamped: list[Path] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _stamp_logged(warc: Path, tsa_url: str, timeout: float, report: StampReport) -> None:
    try:
        report.stamped.append(stamp_file(warc, tsa_url, timeout=timeout))
    except (TimestampError, OSError) as exc:
        line = f"{warc.name}: no timestamp yet ({exc}); asked again by the next crawl or ingest"
        log.warning("%s", line)
        report.errors.append(line)


def stamp_pending(warc_dir: str | Path, tsa_url: str, prefix: str = "", *,
                  timeout: float = DEFAULT_TIMEOUT) -> StampReport:
    """Stamp every closed WARC file without a token (see :func:`unstamped`), in order.

    Once the TSA proves unreachable the round stops (one warning, not one per file): the
    files keep no token and the next round asks again.
    """
    report = StampReport()
    for warc in unstamped(warc_dir, prefix):
        _stamp_logged(warc, tsa_url, timeout, report)
        if report.errors and "not reachable" in report.errors[-1]:
            break
    return report


class TimestampQueue:
    """Stamps WARC files on one background thread, in the order they are submitted.

    :meth:`submit` is the writer's ``on_close`` hook: it only queues the path, so closing a
    file never waits on hashing or on the network. :meth:`close` waits (a bounded time) for
    the queue to empty and reports; what is left unstamped is asked for again later.
    """

    def __init__(self, tsa_url: str, *, timeout: float = DEFAULT_TIMEOUT):
        self.tsa_url = tsa_url
        self.timeout = timeout
        self.report = StampReport()
        self._queue: queue.Queue[Path | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="mediawatch-tsa", daemon=True)
        self._thread.start()

    def submit(self, warc: str | Path) -> None:
        """Queue ``warc`` for stamping (returns at once)."""
        self._queue.put(Path(warc))

    def submit_all(self, warcs: Iterable[Path]) -> None:
        """Queue several files (the unstamped ones a crawl finds when it starts)."""
        for warc in warcs:
            self.submit(warc)

    def _run(self) -> None:
        down = False
        while (warc := self._queue.get()) is not None:
            # Once the TSA proved unreachable the rest wait for the next round: one warning,
            # not one timeout per file.
            if down or not warc.exists() or token_path(warc).exists():
                continue
            _stamp_logged(warc, self.tsa_url, self.timeout, self.report)
            down = bool(self.report.errors) and "not reachable" in self.report.errors[-1]

    def close(self, wait: float = 30.0) -> StampReport:
        """Stop taking files and wait up to ``wait`` seconds for the queued ones."""
        self._queue.put(None)
        self._thread.join(wait)
        if self._thread.is_alive():
            log.warning("timestamps still pending after %.0fs: asked again by the next crawl"
                        " or ingest", wait)
        return self.report


# -- checking a token
@dataclass(frozen=True, slots=True)
class TokenCheck:
    """The verdict on one token: ``problem`` is None when it is a valid token of the file.

    ``time`` is the TSA's time (``genTime``), ``tsa`` the subject of its signing certificate,
    ``trusted`` whether the signature and chain were checked against trusted roots
    (``[evidence] tsa_ca`` or ``verify --tsa-ca``); without roots only the digest is.
    """

    problem: str | None
    time: datetime | None = None
    tsa: str | None = None
    trusted: bool = False

    @property
    def ok(self) -> bool:
        """True when the token is valid for the file."""
        return self.problem is None


def load_certificates(path: str | Path) -> list[x509.Certificate]:
    """The certificates of a PEM file (a TSA's CA, possibly with intermediates)."""
    return x509.load_pem_x509_certificates(Path(path).read_bytes())


def _signer(response: TimeStampResponse) -> x509.Certificate | None:
    certs = [x509.load_der_x509_certificate(c) for c in response.signed_data.certificates]
    for info in response.signed_data.signer_infos:
        for cert in certs:
            if cert.issuer == info.issuer and cert.serial_number == info.serial_number:
                return cert
    return None


def _why(error: VerificationError) -> str:
    text = str(error)
    if "signature failure" in text:
        return "the TSA's signature does not match the token"
    if "unable to get local issuer" in text or "certificate verify error" in text:
        return "the TSA's certificate does not lead to a trusted TSA root (tsa_ca)"
    return "the TSA's signature cannot be checked: " + text.split(": ", 1)[-1][:100]


def check_token(token: bytes, digest: bytes,
                roots: Sequence[x509.Certificate] = ()) -> TokenCheck:
    """Is ``token`` a valid RFC 3161 token of the SHA-256 ``digest``?

    Always checks that the TSA granted it and that its message imprint is ``digest``. With
    ``roots`` (the TSA's CA) also the token's signature, the TSA certificate's chain to one
    of them and its time-stamping key usage (``rfc3161-client``); without, the signature is
    not checked and ``trusted`` is False: a token alone does not say whom to trust.
    """
    try:
        return _check(decode_timestamp_response(token), digest, roots)
    except Exception as exc:
        # Parts are decoded lazily, by two libraries (rfc3161-client, cryptography's x509),
        # so a damaged token surfaces as any of their errors.
        return TokenCheck(f"not a valid time-stamp token ({str(exc)[:100]})")


def _check(response: TimeStampResponse, digest: bytes,
           roots: Sequence[x509.Certificate]) -> TokenCheck:
    if not _granted(response):
        return TokenCheck("the TSA did not grant this token")
    info = response.tst_info
    signer = _signer(response)
    tsa = signer.subject.rfc4514_string() if signer is not None else None
    if info.message_imprint.hash_algorithm != _SHA256_OID:
        return TokenCheck("token is not for a SHA-256 digest", info.gen_time, tsa)
    if info.message_imprint.message != digest:
        return TokenCheck("the file's SHA-256 differs from the one the token was issued for",
                          info.gen_time, tsa)
    if not roots:
        return TokenCheck(None, info.gen_time, tsa, trusted=False)
    # Only the roots are trusted: the TSA's certificate comes from the token itself, and
    # rfc3161-client trusts every certificate handed to its builder (intermediates too).
    try:
        VerifierBuilder(roots=list(roots)).build().verify(response, digest)
    except VerificationError as exc:
        return TokenCheck(f"token not valid: {_why(exc)}", info.gen_time, tsa, trusted=True)
    return TokenCheck(None, info.gen_time, tsa, trusted=True)
