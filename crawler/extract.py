"""``mediawatch extract``: the article parser on a saved page or an archive file, no network.

What a file is, is decided by its bytes, not its name (:func:`file_kind`): a WARC (gzip per
record or not), an ARC (converted to WARC records in memory), a WACZ (its
``archive/*.warc[.gz]`` members), or a saved page, gzip-compressed (``.html.gz``) or not. No
payload is expanded past ``max_payload`` bytes (``[crawl] max_page_size``), gzip pages included.

A saved page has no URL of its own; without ``--url`` it is parsed under its canonical URL
(``<link rel=canonical>``, else ``og:url``) when the page names an absolute http(s) one, else
under :func:`placeholder_url` (``https://saved-page.invalid/<file name>``: ``.invalid`` can
never be a real host). :attr:`ExtractReport.url_note` says which. A saved page is parsed with
the source's current profile; an archive record with the profile valid when it was captured
(:meth:`archive.config.sources.Source.at`). :attr:`Extracted.profile` names the window used.

An archive record that cannot be a web page (a ``file:``, ``urn:``, ``dns:`` target) or is not
an HTML 200 answer is skipped and counted, never fatal: one odd record must not hide the
pages beside it. :class:`ExtractReport` carries the counts for the command's summary line.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from archive.models import Article, CapturedResponse
from archive.store.urls import try_normalize_url
from archive.warc.importer import arc_to_warc
from archive.warc.payload import DEFAULT_MAX_PAYLOAD
from archive.warc.reader import WarcError, iter_responses
from crawler.pages.listings import ArticlePage, NotAnArticle
from crawler.pages.markup import HTML_TYPES, absolute_url, html_selector, meta_map, rel_map

if TYPE_CHECKING:
    from archive.config.sources import Source

#: Host of the URL a saved page without --url and without a canonical URL is parsed under.
PLACEHOLDER_HOST = "saved-page.invalid"
_GZIP = b"\x1f\x8b"
_ZIP = b"PK\x03\x04"


@dataclass(slots=True)
class Extracted:
    """One page: its article and the method behind each field, or why it is not one;
    ``profile``: the window of the dated profile it was parsed with (``Source.profile``),
    None when the source's own keys applied or no source was given."""

    url: str
    article: Article | None = None
    error: str | None = None
    methods: dict[str, str] = field(default_factory=dict)
    profile: str | None = None


@dataclass(slots=True)
class ExtractReport:
    """What one ``extract`` run saw: the file's kind, pages tried and extracted, records
    skipped by reason, and how a saved page's URL was chosen."""

    kind: str = ""
    pages: int = 0
    extracted: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    url_note: str | None = None

    def summary(self, name: str) -> str:
        """One line: ``<name> (<kind>): N of M pages extracted; K records skipped (...)``."""
        line = f"{name} ({self.kind}): {self.extracted} of {self.pages} pages extracted"
        if self.skipped:
            why = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
            line += f"; {sum(self.skipped.values())} records skipped ({why})"
        return line


def file_kind(head: bytes) -> str:
    """``warc``, ``arc``, ``wacz``, ``html.gz`` or ``html`` from a file's first bytes."""
    if head.startswith(_ZIP):
        return "wacz"
    gzipped = head.startswith(_GZIP)
    if gzipped:
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)
        except zlib.error:
            return "html.gz"  # unreadable: the page reader says so
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"filedesc://"):
        return "arc"
    return "html.gz" if gzipped else "html"


def is_warc(path: Path) -> bool:
    """Whether ``path`` holds WARC records (by content; see :func:`file_kind`)."""
    return file_kind(_head(path)) == "warc"


def placeholder_url(path: Path) -> str:
    """``https://saved-page.invalid/<file name>``: a URL every part of mediawatch accepts
    and that can never be mistaken for a real page (RFC 6761 reserves ``.invalid``)."""
    return f"https://{PLACEHOLDER_HOST}/{quote(path.name)}"


def page_url(body: bytes, path: Path) -> tuple[str, str]:
    """The URL to parse a saved page under, and how it was found (module docstring)."""
    sel = html_selector(body[:1_000_000].decode("utf-8", "replace"))
    for how, hrefs in (("its canonical link", rel_map(sel).get("canonical", [])),
                       ("its og:url", meta_map(sel).get("og:url", []))):
        for href in hrefs:
            # Only an absolute URL will do: a relative one needs the URL we do not know.
            url = absolute_url(href.strip(), href)
            if url and try_normalize_url(url):
                return url, how
    return placeholder_url(path), "a placeholder (the page names no canonical URL; pass --url)"


def extract_pages(path: Path, *, url: str | None = None, source: Source | None = None,
                  max_payload: int = DEFAULT_MAX_PAYLOAD,
                  report: ExtractReport | None = None) -> Iterator[Extracted]:
    """Every page of ``path`` parsed (see the module docstring); counts go to ``report``.
    Raises :class:`WarcError` for an archive that cannot be read, or a page over the bound."""
    report = report if report is not None else ExtractReport()
    report.kind = kind = file_kind(_head(path))
    if kind == "warc":
        yield from _from_warc(path, url, source, max_payload, report)
    elif kind == "arc":
        with _spooled(arc_to_warc(path.read_bytes(), path.name), path.name) as warc:
            yield from _from_warc(warc, url, source, max_payload, report)
    elif kind == "wacz":
        for name, member in _wacz_members(path):
            with _spooled(member, name) as warc:
                yield from _from_warc(warc, url, source, max_payload, report)
    else:
        body = _read_page(path, kind, max_payload)
        if url is None:
            url, how = page_url(body, path)
            report.url_note = f"{path.name}: no --url given; parsed as {url} ({how})"
        captured = CapturedResponse(
            url=url, status=200, headers=(("Content-Type", "text/html"),), body=body,
            fetched_at=datetime.fromtimestamp(path.stat().st_mtime, UTC))
        # A saved page has no capture date (its mtime says when the file was written,
        # perhaps by a copy): the current profile parses it, as the README says.
        current = replace(source.at(None), profiles=()) if source else None
        yield _extract(captured, current, report)


def extract_path(path: Path, *, url: str | None = None, source: Source | None = None,
                 max_payload: int = DEFAULT_MAX_PAYLOAD
                 ) -> Iterator[tuple[str, Article | None, str | None]]:
    """``(url, article, None)`` per page, or ``(url, None, reason)`` when not an article
    (:func:`extract_pages` without the methods and the report)."""
    for page in extract_pages(path, url=url, source=source, max_payload=max_payload):
        yield page.url, page.article, page.error


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4096)


def _read_page(path: Path, kind: str, max_payload: int) -> bytes:
    data = path.read_bytes()
    if kind == "html.gz":
        data = _gunzip(data, path.name, max_payload)
    if len(data) > max_payload:
        raise WarcError(f"{path.name}: page larger than max_page_size ({max_payload} bytes)")
    return data


def _gunzip(data: bytes, name: str, limit: int) -> bytes:
    """The decompressed page, never more than ``limit`` bytes of it (a gzip bomb stops)."""
    out = bytearray()
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        for start in range(0, len(data), 64 * 1024):
            out += inflater.decompress(data[start:start + 64 * 1024], limit + 1 - len(out))
            while inflater.unconsumed_tail and len(out) <= limit:
                out += inflater.decompress(inflater.unconsumed_tail, limit + 1 - len(out))
            if len(out) > limit:
                raise WarcError(f"{name}: page larger than max_page_size ({limit} bytes) "
                                "once decompressed; not expanded")
            if inflater.eof:
                break
    except zlib.error as exc:
        raise WarcError(f"{name}: corrupt gzip data ({exc})") from exc
    return bytes(out)


def _wacz_members(path: Path) -> list[tuple[str, bytes]]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if n.startswith("archive/")
                     and re.search(r"\.warc(\.gz)?$", n, re.IGNORECASE)]
            if not names:
                raise WarcError(f"{path.name}: not a WACZ (no archive/*.warc[.gz] member)")
            return [(Path(n).name, zf.read(n)) for n in names]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
        raise WarcError(f"{path.name}: unreadable WACZ ({type(exc).__name__}: {exc})") from exc


@contextmanager
def _spooled(data: bytes, name: str) -> Iterator[Path]:
    """WARC bytes in a named temporary file (the WARC reader reads files), removed after."""
    with tempfile.TemporaryDirectory(prefix="mediawatch-extract-") as tmp:
        path = Path(tmp) / (name if name.endswith((".warc", ".warc.gz")) else name + ".warc")
        path.write_bytes(data)
        yield path


def _from_warc(path: Path, url: str | None, source: Source | None, max_payload: int,
               report: ExtractReport) -> Iterator[Extracted]:
    for stored in iter_responses(path, max_payload=max_payload):
        captured = stored.captured
        if not captured.url.lower().startswith(("http://", "https://")) \
                or try_normalize_url(captured.url) is None:
            report.skipped["not an http(s) URL"] += 1
            continue
        if stored.revisit is not None:
            report.skipped["revisit"] += 1
            continue
        if captured.status != 200 or captured.content_type not in HTML_TYPES:
            report.skipped["not an HTML 200 answer"] += 1
            continue
        if url and captured.url != url:
            continue
        if stored.too_large:
            report.pages += 1
            yield Extracted(captured.url, error=f"payload larger than {max_payload} bytes")
            continue
        yield _extract(captured, source, report)


def _extract(captured: CapturedResponse, source: Source | None,
             report: ExtractReport) -> Extracted:
    report.pages += 1
    page = ArticlePage(captured, source)
    profile = page.source.profile if page.source else None
    try:
        article = page.to_article()
    except NotAnArticle as exc:
        return Extracted(captured.url, error=str(exc), profile=profile)
    report.extracted += 1
    return Extracted(captured.url, article, methods=page.field_methods(), profile=profile)


__all__ = ["ExtractReport", "Extracted", "extract_pages", "extract_path", "file_kind",
           "is_warc", "page_url", "placeholder_url"]
