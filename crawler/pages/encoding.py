"""Bytes to text for captured HTML, and a sniff for bodies that are not text at all.

The order follows what browsers do (and what ``w3lib.encoding.html_to_unicode`` does):
byte-order mark, then the HTTP ``charset``, then ``<meta charset>`` / ``<meta http-equiv>``,
then detection. Labels are resolved the WHATWG way, so ``iso-8859-1`` decodes as
windows-1252 and ``iso-8859-9`` as windows-1254, which is what those pages really contain.

Two deliberate deviations. A body that is valid UTF-8 and not plain ASCII is decoded as
UTF-8 whatever the labels say: text in a legacy encoding is practically never valid UTF-8
by accident, while UTF-8 pages mislabelled ``ISO-8859-1`` or ``GB2312`` are common. And
when the HTTP charset cannot decode the body but the page's own declaration can, the
page wins: servers that add a default charset to every response while serving
windows-1251 files exist, and the alternative is an archive of replacement characters.
"""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING

from w3lib.encoding import (
    html_body_declared_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

if TYPE_CHECKING:
    from archive.models import CapturedResponse

__all__ = ["decode_html", "looks_binary"]

_SCAN_BYTES = 64 * 1024  # declarations after a long <head> full of scripts still count
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_MAGIC = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b",
          b"\x00\x00\x01\x00", b"ID3", b"OggS", b"RIFF", b"\x7fELF", b"MZ")
_CONTROL = bytes(range(0, 9)) + bytes(range(14, 27)) + bytes(range(28, 32))


def decode_html(response: CapturedResponse) -> str:
    """The text of ``response.body``: BOM > HTTP charset > meta declaration > detection."""
    body = response.body or b""
    bom_encoding, bom = read_bom(body)
    if bom_encoding is not None and bom is not None:
        return to_unicode(body[len(bom):], bom_encoding)
    if _is_utf8(body):
        return body.decode("utf-8")
    declared = _declared_encoding(body)
    http = _resolve(response.charset)
    if http is not None:
        if _decodes(body, http) or declared is None or not _decodes(body, declared):
            return to_unicode(body, http)
        return to_unicode(body, declared)
    if declared is not None:
        return to_unicode(body, declared)
    return to_unicode(body, _detect(body))


def looks_binary(body: bytes) -> bool:
    """True when ``body`` is evidently not text: a known binary signature, NUL bytes, or
    more than 10% control bytes in its first 4 KiB (UTF-16/32 with a BOM is text)."""
    if not body:
        return False
    if read_bom(body)[0] is not None:
        return False
    head = body[:4096]
    if head.startswith(_MAGIC) or b"\x00" in head:
        return True
    controls = len(head) - len(head.translate(None, _CONTROL))
    return controls > len(head) * 0.10


def _is_utf8(body: bytes) -> bool:
    """Valid UTF-8 with at least one multi-byte sequence. Legacy-encoded text (cp1251,
    cp1254, GB2312...) is practically never valid UTF-8, so such a body is UTF-8 whatever
    the header or the meta says: servers that label UTF-8 pages ISO-8859-1 are common."""
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _resolve(label: str | None) -> str | None:
    if not label:
        return None
    try:
        encoding = resolve_encoding(label)
        if encoding is None:
            return None
        codecs.lookup(encoding)
    except (LookupError, ValueError):
        return None
    # w3lib's BOM-less utf-16/32 need an explicit byte order, as html_to_unicode does.
    return encoding + "-be" if encoding in {"utf-16", "utf-32"} else encoding


def _declared_encoding(body: bytes) -> str | None:
    encoding = _resolve(html_body_declared_encoding(body))
    if encoding is None:
        match = _META_CHARSET.search(body[:_SCAN_BYTES])
        if match:
            encoding = _resolve(match.group(1).decode("ascii", "replace"))
    return encoding


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _detect(body: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 (most undeclared pages), else charset detection
    on a sample, else windows-1252 (which decodes any byte)."""
    sample = body[:_SCAN_BYTES]
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte sequence cut by the sample boundary is still UTF-8.
        if exc.start >= len(sample) - 3 and len(body) > len(sample):
            return "utf-8"
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # optional: trafilatura pulls it in, but do not depend on that
        return "cp1252"
    best = from_bytes(sample).best()
    return _resolve(best.encoding if best else None) or "cp1252"
