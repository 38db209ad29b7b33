"""``mediawatch sources --check``: does each source's current profile still parse its pages?

For one source, the newest archived capture of each of its :data:`CURRENT` most recently
captured articles (read from the WARC file where the ``captures`` table says it is) is parsed
again with the source's **current** profile (:meth:`Source.at` of now), and the fields these
give are compared with the source's last :data:`~archive.store.fieldcheck.BASELINE` articles
by the rule of :func:`archive.store.fieldcheck.lost_fields` (the ``extraction`` health flag's
rule too).

Like is compared with like: each baseline article is its newest capture parsed again, with
the profile valid when that capture was made (what the archive's own parse did), so that a
selector that stopped matching shows even where a generic fallback still fills the field,
and a field the archive took from a feed (not the page) is on neither side. A baseline
article whose capture cannot be read counts with the fields of its ``articles`` row.

Why the newest captures of several articles, not only the newest one: pages of one outlet
differ (a story without a visible date line, one whose standfirst is missing), and one odd
page must not raise a broken profile; a field counts as lost when at least half of them lose
it. A capture parsed as "not an article" counts as an article with no fields. A source with
no readable capture is reported, not an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from archive.models import WarcLocation
from archive.store.fieldcheck import (
    BASELINE,
    CHECKED_FIELDS,
    MIN_BASELINE,
    FieldLoss,
    FieldMethods,
    losses_text,
    lost_fields,
    row_fields,
)
from archive.times import parse_utc
from archive.warc.payload import DEFAULT_MAX_PAYLOAD
from archive.warc.reader import StoredResponse, WarcError, read_response
from crawler.pages.listings import ArticlePage, NotAnArticle
from crawler.pages.markup import HTML_TYPES

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    import sqlite_utils

    from archive.config.sources import Source
    from archive.models import CapturedResponse
    from archive.store.db import Archive

__all__ = ["CHECK_COLUMNS", "CURRENT", "SourceCheck", "check_source", "check_sources"]

#: ``mediawatch sources --check``'s table columns.
CHECK_COLUMNS = ("source", "status", "profile", "checked", "baseline", "lost", "capture")
#: How many of a source's most recently captured articles are parsed with the current profile.
CURRENT = 3
# Article captures of one article, newest first, revisits included (a recheck of an
# unchanged page is one). A duplicate's URL (an AMP copy, a wire copy: its
# first capture's outcome) is another page's markup, and left out.
_CAPTURES = """SELECT c.warc_file, c."offset", c.length, c.fetched_at, c.url, c.article_id
FROM captures c
WHERE {where} AND c.kind = 'article' AND c.status = 200 AND c.article_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM captures d
                  WHERE d.url_norm = c.url_norm AND d.outcome = 'duplicate')
ORDER BY c.fetched_at DESC, c.id DESC LIMIT :limit"""


@dataclass(slots=True)
class SourceCheck:
    """One source's check: ``status`` is ``ok``, ``flagged``, ``too few articles`` (fewer
    than :data:`~archive.store.fieldcheck.MIN_BASELINE` to compare with), ``no captures`` or
    ``unreadable``; ``captures`` the re-extracted captures (url, captured, fields with their
    methods), newest first; ``lost`` the fields they lost (:class:`FieldLoss`)."""

    source: str
    status: str
    profile: str | None = None
    captures: list[dict[str, Any]] = field(default_factory=list)
    baseline: int = 0
    lost: list[FieldLoss] = field(default_factory=list)
    note: str | None = None

    @property
    def flagged(self) -> bool:
        """True when the profile lost a field."""
        return bool(self.lost)

    def row(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"source": self.source, "status": self.status, "profile": self.profile,
                "baseline": self.baseline, "lost": [loss.as_dict() for loss in self.lost],
                "captures": self.captures, "note": self.note}

    def table_row(self) -> dict[str, Any]:
        """One line of the text table: the newest capture, how many were checked."""
        newest = self.captures[0] if self.captures else {}
        return {"source": self.source, "status": self.status,
                "profile": self.profile or "(source keys)", "checked": len(self.captures),
                "baseline": self.baseline, "lost": losses_text(self.lost) or self.note or "",
                "capture": newest.get("url")}


def _read(db: sqlite_utils.Database, warc_dir: Path, row: dict[str, Any],
          max_payload: int) -> CapturedResponse:
    """The captured response of a ``captures`` row, a revisit resolved against the record it
    refers to. Raises :class:`WarcError` or :class:`LookupError`."""
    stored = read_response(warc_dir, WarcLocation(row["warc_file"], row["offset"],
                                                  row["length"]), max_payload)
    if stored.revisit is not None:
        stored = stored.with_payload(_original(db, warc_dir, stored, max_payload))
    if stored.too_large:
        raise WarcError(f"{row['warc_file']}@{row['offset']}: payload larger than "
                        f"{max_payload} bytes")
    return stored.captured


def _original(db: sqlite_utils.Database, warc_dir: Path, revisit: StoredResponse,
              max_payload: int) -> StoredResponse:
    info = revisit.revisit
    assert info is not None
    rows = db.execute(
        'SELECT warc_file, "offset", length FROM captures WHERE record_id = ? OR '
        "(url = ? AND digest = ?) ORDER BY fetched_at DESC",
        [info.refers_to_id or "", revisit.captured.url, revisit.digest or ""]).fetchall()
    for warc_file, offset, length in rows:
        original = read_response(warc_dir, WarcLocation(warc_file, offset, length), max_payload)
        if original.too_large:
            raise WarcError(f"{warc_file}@{offset}: payload larger than {max_payload} bytes")
        if original.revisit is None:
            return original
    raise LookupError(f"{revisit.captured.url}: the record its revisit refers to is not "
                      "archived")


def _methods(captured: CapturedResponse, source: Source) -> dict[str, str]:
    """The checked fields of a capture parsed with ``source`` (its profile applied by the
    capture's date), with their methods; empty when it is not an article, or the parser
    failed on it (as ``ingest`` counts a parse error, and goes on)."""
    if captured.content_type not in HTML_TYPES:
        return {}
    page = ArticlePage(captured, source)
    try:
        methods = page.field_methods()
    except NotAnArticle:
        return {}
    except Exception:  # one bad page must not stop the check
        log.exception("%s: the parser failed", captured.url)
        return {}
    return {name: methods[name] for name in CHECKED_FIELDS if name in methods}


def _baseline(db: sqlite_utils.Database, warc_dir: Path, source: Source,
              max_payload: int) -> list[FieldMethods]:
    """The fields of the source's last articles, each from its newest readable capture
    parsed with the profile of its capture date (else from its ``articles`` row)."""
    rows = db.query("SELECT * FROM articles WHERE source = ? ORDER BY first_seen DESC, pk DESC"
                    " LIMIT ?", [source.id, BASELINE])
    out: list[FieldMethods] = []
    for row in rows:
        fields: FieldMethods = row_fields(row)
        for capture in db.query(_CAPTURES.format(where="c.article_id = :aid"),
                                {"aid": row["id"], "limit": 3}):
            try:
                fields = _methods(_read(db, warc_dir, capture, max_payload), source)
            except (WarcError, LookupError):
                continue
            break
        out.append(fields)
    return out


def check_source(archive: Archive, warc_dir: Path, source: Source,
                 max_payload: int = DEFAULT_MAX_PAYLOAD) -> SourceCheck:
    """Check ``source``'s current profile against its newest captures (module docstring)."""
    db = archive.db
    current = replace(source.at(None), profiles=())  # now's profile, whatever the capture date
    check = SourceCheck(source.id, "no captures", profile=current.profile)
    problems = []
    # Most recently captured first (``last_seen``: an article's newest capture, revisits
    # included), then each one's newest capture: index lookups, never a scan of captures.
    latest = db.execute("SELECT id FROM articles WHERE source = ? ORDER BY last_seen DESC,"
                        " pk DESC LIMIT ?", [source.id, 20 * CURRENT]).fetchall()
    for (aid,) in latest:
        for capture in db.query(_CAPTURES.format(where="c.article_id = :aid"),
                                {"aid": aid, "limit": 3}):
            try:
                captured = _read(db, warc_dir, capture, max_payload)
            except (WarcError, LookupError) as exc:
                problems.append(str(exc))
                continue
            check.captures.append({
                "url": captured.url, "fields": _methods(captured, current),
                "captured": parse_utc(capture["fetched_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")})
            break
        if len(check.captures) == CURRENT:
            break
    if not check.captures:
        if problems:
            check.status, check.note = "unreadable", problems[0]
        return check
    baseline = _baseline(db, warc_dir, source, max_payload)
    check.baseline = len(baseline)
    check.lost = lost_fields([c["fields"] for c in check.captures], baseline)
    check.status = "flagged" if check.lost else "ok"
    if len(baseline) < MIN_BASELINE:
        check.status = "too few articles"
        check.note = f"{len(baseline)} articles archived; {MIN_BASELINE} needed to judge"
    elif not any(c["fields"] for c in check.captures):
        check.note = "no capture is an article with this profile"
    return check


def check_sources(archive: Archive, warc_dir: Path, sources: Iterable[Source],
                  max_payload: int = DEFAULT_MAX_PAYLOAD) -> list[SourceCheck]:
    """:func:`check_source` for each of ``sources``, in order."""
    return [check_source(archive, warc_dir, source, max_payload) for source in sources]
