"""WACZ export: the captures behind a result set, packed with the ``wacz`` package.

What goes in, for every article of the result set (all articles, or the full-text matches of
a query):

* every capture record of the article: its response and revisit records, plus the captures
  of its alias URLs that are linked to no article (a short link's redirect, a later 404), as
  :meth:`archive.store.db.Archive.show` lists them;
* the response each revisit refers to (``WARC-Refers-To``), wherever it is, so replay can
  resolve the revisit inside the WACZ;
* the request and metadata records of each of those exchanges (the records that follow the
  response with ``WARC-Concurrent-To`` pointing at it), and the warcinfo record of every
  source file.

Records are copied as the gzip members they are in the source files, byte for byte (the
WARC is the evidence; nothing is re-encoded), into one WARC per source file under the
source file's name, in their original order. ``pages/pages.jsonl`` has one entry per
article: its title, and the URL and time of its latest 200 capture. The ``wacz`` package
(Webrecorder's reference implementation of WACZ 1.1.1) then writes the zip: the WARCs
under ``archive/``, the compressed CDXJ index under ``indexes/``, the pages and
``datapackage.json`` with sha256 hashes. ``wacz validate`` accepts the result.

Which records belong to an exchange is read by :func:`archive.warc.reader.exchange_spans`;
everything else here is byte copying.

Signed (``export --format wacz --sign``, a ``signing_key``): a source file that has an RFC
3161 token (``<name>.warc.gz.tsr``) is copied *whole*, so that the token, which covers the
SHA-256 of the whole file, can be checked against the WARC in the package by anyone; the
tokens go in as ``timestamps/<name>.tsr`` and the package is signed
(:func:`archive.evidence.seal.seal_wacz`). Such a WARC can hold captures of other articles
than the query's; ``pages.jsonl`` still lists only the query's.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.times import parse_utc, utc_text
from archive.warc.reader import exchange_spans

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

    from archive.store.db import Archive

__all__ = [
    "CaptureRecord",
    "WaczError",
    "WaczReport",
    "captures_sql",
    "page_entries",
    "pages_jsonl",
    "referred_sql",
    "write_wacz",
]

PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "mediawatch articles"}


class WaczError(ValueError):
    """The export cannot be written: nothing matches, a source WARC is missing, or the
    ``wacz`` package refused; says which."""


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One response or revisit record the export includes (a ``captures`` row)."""

    warc_file: str
    offset: int
    length: int
    record_id: str | None
    url: str
    status: int
    fetched_at: str
    article_id: str | None
    refers_to: str | None


@dataclass(frozen=True, slots=True)
class WaczReport:
    """What :func:`write_wacz` wrote: the file, and how many articles, captures (response
    and revisit records), records in all and source WARC files went in."""

    path: Path
    articles: int
    pages: int
    captures: int
    records: int
    warc_files: int
    timestamps: int = 0
    signed: bool = False


_CAPTURE_COLUMNS = ('warc_file, "offset", length, record_id, url, status, fetched_at,'
                    " article_id, refers_to")


def _in_list(prefix: str, values: Sequence[str]) -> tuple[str, dict[str, str]]:
    params = {f"{prefix}{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{name}" for name in params) or "NULL", params


def captures_sql(article_ids: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Pure: the captures of ``article_ids``, as :meth:`Archive.show` lists them per
    article (linked ones, and unlinked ones of the articles' alias URLs)."""
    names, params = _in_list("a", article_ids)
    sql = (f"SELECT {_CAPTURE_COLUMNS} FROM captures WHERE article_id IN ({names})"
           f" OR (article_id IS NULL AND url_norm IN"
           f" (SELECT url FROM aliases WHERE article_id IN ({names})))"
           ' ORDER BY warc_file, "offset"')
    return sql, params


def referred_sql(record_ids: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Pure: the captures whose record ids are ``record_ids`` (what revisits refer to)."""
    names, params = _in_list("r", record_ids)
    return (f"SELECT {_CAPTURE_COLUMNS} FROM captures WHERE record_id IN ({names})"
            ' ORDER BY warc_file, "offset"'), params


def page_entries(articles: Iterable[Mapping[str, Any]], captures: Iterable[CaptureRecord]
                 ) -> list[dict[str, str]]:
    """Pure: one ``pages.jsonl`` entry per article that has a 200 capture.

    The entry points at the article's latest 200 capture (response or revisit), under the
    URL it was fetched from, so a replay tool finds it in the index; ``title`` is the
    article's current title, ``id`` its mediawatch id.
    """
    latest: dict[str, CaptureRecord] = {}
    for cap in captures:
        if cap.article_id is None or cap.status != 200:
            continue
        best = latest.get(cap.article_id)
        if best is None or (cap.fetched_at, cap.offset) > (best.fetched_at, best.offset):
            latest[cap.article_id] = cap
    pages = []
    for article in articles:
        found = latest.get(article["id"])
        if found is None:
            continue
        pages.append({"id": article["id"], "url": found.url,
                      "ts": utc_text(parse_utc(found.fetched_at)),
                      "title": article.get("title") or found.url})
    return pages


def pages_jsonl(pages: Iterable[Mapping[str, str]]) -> str:
    """Pure: the text of ``pages/pages.jsonl`` (the json-pages-1.0 header, then one line
    per page)."""
    lines = [json.dumps(PAGES_HEADER, ensure_ascii=False)]
    lines += [json.dumps(dict(page), ensure_ascii=False) for page in pages]
    return "\n".join(lines) + "\n"


def _rows(archive: Archive, query: tuple[str, dict[str, str]]) -> list[CaptureRecord]:
    sql, params = query
    return [CaptureRecord(**row) for row in archive.db.query(sql, params)]


def _exchange_spans(path: Path, captures: Iterable[CaptureRecord]) -> Iterator[tuple[int, int]]:
    """(offset, length) of the warcinfo record and of every capture's records in ``path``:
    the response or revisit, then the records concurrent to it that follow it."""
    return exchange_spans(path, ((c.offset, c.length, c.record_id) for c in captures))


def _copy_records(source: Path, target: Path, captures: Sequence[CaptureRecord]) -> int:
    """Copy the records of ``captures`` from ``source`` to ``target``, in file order."""
    spans = sorted(set(_exchange_spans(source, captures)))
    with open(source, "rb") as src, open(target, "wb") as out:
        for offset, length in spans:
            src.seek(offset)
            out.write(src.read(length))
    return len(spans)


def write_wacz(archive: Archive, warc_dir: str | Path, output: str | Path,
               query: str | None = None, *, title: str = "mediawatch export",
               sign_key: EllipticCurvePrivateKey | None = None) -> WaczReport:
    """Write the WACZ of the articles matching ``query`` (all when None) to ``output``;
    with ``sign_key``, timestamped files whole, their tokens, and signed.

    Raises :class:`WaczError` when no article matches, a WARC file named in the archive is
    missing, or the ``wacz`` package fails; :class:`archive.store.search.QueryError` for a bad
    query.
    """
    from archive.evidence.timestamps import token_path  # loads the cryptography libraries

    warc_dir, output = Path(warc_dir), Path(output)
    articles = list(archive.export(query))
    if not articles:
        raise WaczError(f"no articles match {query!r}" if query else "the archive is empty")
    captures = _rows(archive, captures_sql([a["id"] for a in articles]))
    known = {(c.warc_file, c.offset) for c in captures}
    referred = sorted({c.refers_to for c in captures if c.refers_to})
    captures += [c for c in _rows(archive, referred_sql(referred))
                 if (c.warc_file, c.offset) not in known]
    pages = page_entries(articles, captures)
    by_file: dict[str, list[CaptureRecord]] = {}
    for cap in sorted(captures, key=lambda c: (c.warc_file, c.offset)):
        by_file.setdefault(cap.warc_file, []).append(cap)
    with tempfile.TemporaryDirectory(prefix="mediawatch-wacz-") as tmp:
        work = Path(tmp)
        (work / "warcs").mkdir()
        records = 0
        tokens: dict[str, bytes] = {}
        for name, caps in by_file.items():
            source = warc_dir / name
            if not source.exists():
                raise WaczError(f"{source}: WARC file named in the archive is missing")
            token = token_path(source)
            if sign_key is not None and token.exists():
                tokens[Path(name).name] = token.read_bytes()
                shutil.copyfile(source, work / "warcs" / Path(name).name)
                records += len(set(_exchange_spans(source, caps)))
                continue
            records += _copy_records(source, work / "warcs" / Path(name).name, caps)
        (work / "pages.jsonl").write_text(pages_jsonl(pages), encoding="utf-8")
        desc = f"mediawatch articles matching {query!r}" if query else "all mediawatch articles"
        _run_wacz(["create", "-o", str(output), "-p", str(work / "pages.jsonl"),
                   "--title", title, "--desc", desc,
                   *sorted(str(p) for p in (work / "warcs").iterdir())])
    if sign_key is not None:
        from archive.evidence.seal import seal_wacz  # loads the cryptography libraries

        seal_wacz(output, tokens, sign_key)
    return WaczReport(output, len(articles), len(pages), len(captures), records, len(by_file),
                      len(tokens), sign_key is not None)


def _run_wacz(args: list[str]) -> None:
    # The package is a command line tool: it prints progress to stdout, which must not mix
    # with ours, and reports failure by its return value.
    from wacz.main import main as wacz_main

    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        status = wacz_main(args)
    if status != 0:
        raise WaczError(f"wacz {args[0]} failed: {said.getvalue().strip()[-500:]}")
