"""``mediawatch sources --check``: does each source's current profile still parse its pages?

For one source: its newest archived article capture (read from its WARC file where the
``captures`` table says it is) is parsed again with the source's **current** profile
(:meth:`Source.at` of now), and the fields it yields are compared with the source's last
:data:`~archive.store.fieldcheck.BASELINE` articles by the rule of
:func:`archive.store.fieldcheck.lost_fields` (the ``extraction`` health flag's rule too).

The baseline's fields are the archive's (the ``articles`` rows); their methods are those of
each baseline article's newest capture parsed with the profile valid when it was captured
(what the archive's own parse did), so a selector that stopped matching shows even where a
generic fallback still fills the field. A capture parsed as "not an article" counts as an
article with no fields; a source without any readable capture is reported, not an error.
"""

from __future__ import annotations

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

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    import sqlite_utils

    from archive.config.sources import Source
    from archive.models import CapturedResponse
    from archive.store.db import Archive

__all__ = ["CHECK_COLUMNS", "SourceCheck", "check_source", "check_sources"]

#: ``mediawatch sources --check``'s table columns.
CHECK_COLUMNS = ("source", "status", "profile", "captured", "baseline", "lost", "capture")
# How many captures, newest first, are tried before a source is "unreadable".
_TRIES = 5
_CAPTURES = """SELECT warc_file, "offset", length, fetched_at, url FROM captures
WHERE {where} AND kind = 'article' AND status = 200 AND article_id IS NOT NULL
  AND coalesce(outcome, '') != 'duplicate'
ORDER BY fetched_at DESC, id DESC LIMIT :tries"""


@dataclass(slots=True)
class SourceCheck:
    """One source's check: ``status`` is ``ok``, ``flagged``, ``too few articles`` (fewer
    than :data:`~archive.store.fieldcheck.MIN_BASELINE` to compare with), ``no captures``
    or ``unreadable``; ``lost`` the fields the newest capture lost (:class:`FieldLoss`)."""

    source: str
    status: str
    profile: str | None = None
    capture: str | None = None
    captured: str | None = None
    baseline: int = 0
    lost: list[FieldLoss] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)
    note: str | None = None

    @property
    def flagged(self) -> bool:
        """True when the profile lost a field."""
        return bool(self.lost)

    def row(self) -> dict[str, Any]:
        """JSON-ready; the table shows ``lost`` as one line."""
        return {"source": self.source, "status": self.status, "profile": self.profile,
                "capture": self.capture, "captured": self.captured, "baseline": self.baseline,
                "lost": [loss.as_dict() for loss in self.lost], "fields": self.fields,
                "note": self.note}

    def table_row(self) -> dict[str, Any]:
        """:meth:`row` for the text table."""
        return {**self.row(), "lost": losses_text(self.lost) or self.note or "",
                "profile": self.profile or "(source keys)"}


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
        if original.revisit is None:
            return original
    raise LookupError(f"{revisit.captured.url}: the record its revisit refers to is not "
                      "archived")


def _methods(captured: CapturedResponse, source: Source) -> dict[str, str]:
    """The checked fields of a capture parsed with ``source`` (its profile applied by the
    capture's date), with their methods; empty when it is not an article."""
    if captured.content_type not in HTML_TYPES:
        return {}
    page = ArticlePage(captured, source)
    try:
        methods = page.field_methods()
    except NotAnArticle:
        return {}
    return {name: methods[name] for name in CHECKED_FIELDS if name in methods}


def _captures(db: sqlite_utils.Database, where: str, params: dict[str, Any]
              ) -> list[dict[str, Any]]:
    return list(db.query(_CAPTURES.format(where=where), {**params, "tries": _TRIES}))


def _baseline(db: sqlite_utils.Database, warc_dir: Path, source: Source,
              max_payload: int) -> list[FieldMethods]:
    """The source's last articles: their fields from the archive, with the methods their
    newest readable capture gives under the profile of its capture date."""
    rows = db.query("SELECT * FROM articles WHERE source = ? ORDER BY first_seen DESC, pk DESC"
                    " LIMIT ?", [source.id, BASELINE])
    out: list[FieldMethods] = []
    for row in rows:
        stored = row_fields(row)
        parsed: dict[str, str] = {}
        for capture in _captures(db, "article_id = :aid", {"aid": row["id"]}):
            try:
                parsed = _methods(_read(db, warc_dir, capture, max_payload), source)
            except (WarcError, LookupError):
                continue
            break
        out.append({name: parsed.get(name) or how for name, how in stored.items()})
    return out


def check_source(archive: Archive, warc_dir: Path, source: Source,
                 max_payload: int = DEFAULT_MAX_PAYLOAD) -> SourceCheck:
    """Check ``source``'s current profile against its newest capture (module docstring)."""
    db = archive.db
    current = replace(source.at(None), profiles=())  # now's profile, whatever the capture date
    check = SourceCheck(source.id, "no captures", profile=current.profile)
    problems = []
    for capture in _captures(db, "source = :source", {"source": source.id}):
        try:
            captured = _read(db, warc_dir, capture, max_payload)
        except (WarcError, LookupError) as exc:
            problems.append(str(exc))
            continue
        check.capture, check.fields = captured.url, _methods(captured, current)
        check.captured = parse_utc(capture["fetched_at"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        break
    if check.capture is None:
        if problems:
            check.status, check.note = "unreadable", problems[0]
        return check
    baseline = _baseline(db, warc_dir, source, max_payload)
    check.baseline = len(baseline)
    check.lost = lost_fields([check.fields], baseline)
    check.status = "flagged" if check.lost else "ok"
    if len(baseline) < MIN_BASELINE:
        check.status = "too few articles"
        check.note = f"{len(baseline)} articles archived; {MIN_BASELINE} needed to judge"
    if not check.fields:
        check.note = "the newest capture is not an article with this profile"
    return check


def check_sources(archive: Archive, warc_dir: Path, sources: Iterable[Source],
                  max_payload: int = DEFAULT_MAX_PAYLOAD) -> list[SourceCheck]:
    """:func:`check_source` for each of ``sources``, in order."""
    return [check_source(archive, warc_dir, source, max_payload) for source in sources]
