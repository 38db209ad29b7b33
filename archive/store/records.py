"""Pure mapping between the archive's value objects, its table rows and its records.

:class:`CaptureRef` and the functions here validate and serialize what
:class:`archive.store.db.Archive` stores (times via :func:`archive.times.utc_text`, lists as
JSON) and build the article records it returns (:data:`EXPORT_FIELDS`);
:mod:`archive.store.articles` and :mod:`archive.store.lookups` execute. The field rules are
those of :mod:`archive.store.identity`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from archive.store.identity import Outcome, alias_records, article_id, identity_key
from archive.store.schema import FTS_TABLE, ArchiveError
from archive.store.urls import strip_tracking, try_normalize_url
from archive.times import NaiveTimeError, page_date_text, parse_utc, utc_text

if TYPE_CHECKING:
    from archive.models import Article, WarcLocation

__all__ = [
    "CAPTURE_KINDS",
    "EXPORT_FIELDS",
    "PUBLISHED_FIELDS",
    "CaptureRef",
    "article_columns",
    "article_dict",
    "article_record",
    "export_sql",
    "merge_fields",
    "run_row",
]

#: Discovery kinds a capture may have (``requisite``: a stylesheet, image, font, icon or
#: script an article page needs; a capture only, never parsed as an article).
CAPTURE_KINDS = frozenset({"article", "feed", "sitemap", "section", "robots", "requisite",
                           "other"})

_RUN_INT_FIELDS = (
    "pages", "failed", "new", "updated", "unchanged", "duplicates", "removed", "blocked",
    "warc_bytes", "revisit_bytes",
)  # fmt: skip
_RUN_TEXT_FIELDS = ("source", "status")
_RUN_TIME_FIELDS = ("started", "finished")
_METADATA_FIELDS = (
    "url", "canonical_url", "amp_url", "authors", "modified", "section",
    "tags", "language", "image", "body_method",
)  # fmt: skip
#: ``published`` and what says how to read it change together, never one without the others.
PUBLISHED_FIELDS = (
    "published", "published_local", "published_precision", "published_from", "published_zone",
)  # fmt: skip
_TEXT_FIELDS = ("title", "lead", "body")


@dataclass(frozen=True, slots=True)
class CaptureRef:
    """One WARC response (or revisit) record as the archive indexes it.

    ``digest`` is the WARC-Payload-Digest, ``record_id`` the WARC-Record-ID, ``kind`` how
    the URL was discovered (one of :data:`CAPTURE_KINDS`), ``source`` the configured
    source name. ``fetched_at`` must be timezone-aware. ``requested_url`` is the URL the
    crawler originally asked for when it differs from ``url``: the first URL of the
    redirect chain, or the tagged link whose tracking parameters were stripped before the
    fetch (it is an alias, and it is the capture's link for versions: see
    :mod:`archive.store.identity`). ``redirect_to`` is the absolute target (Location header) of a
    3xx record: the redirecting URL becomes an alias of the article it leads to.
    ``revisit`` is the WARC-Profile of a revisit record (None for a response record) and
    ``refers_to`` the WARC-Record-ID of the response it repeats, when known.
    """

    location: WarcLocation
    url: str
    status: int
    fetched_at: datetime
    digest: str | None = None
    record_id: str | None = None
    kind: str = "article"
    source: str | None = None
    requested_url: str | None = None
    redirect_to: str | None = None
    revisit: str | None = None
    refers_to: str | None = None

    @property
    def link(self) -> str:
        """The link the capture was fetched through: ``requested_url``, else ``url``."""
        return self.requested_url or self.url

    def __post_init__(self) -> None:
        utc_text(self.fetched_at, f"fetched_at of {self.url}", ArchiveError)
        if self.kind not in CAPTURE_KINDS:
            raise ArchiveError(
                f"capture kind {self.kind!r} of {self.url} is not one of "
                f"{', '.join(sorted(CAPTURE_KINDS))}"
            )


def export_sql(match: str | None = None) -> tuple[str, dict[str, Any]]:
    """SQL and parameters listing articles in export order (published or first seen, id).

    ``match`` is an FTS5 MATCH expression (see :func:`archive.store.search.fts_expression`)
    restricting the list to full-text matches.
    """
    where = ""
    params: dict[str, Any] = {}
    if match is not None:
        where = f"WHERE a.pk IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :match)\n"
        params["match"] = match
    sql = (
        "SELECT a.*, (SELECT json_group_array(original) FROM aliases AS al"
        " WHERE al.article_id = a.id) AS alias_originals\n"
        "FROM articles AS a\n"
        f"{where}"
        "ORDER BY coalesce(a.published, a.first_seen), a.id"
    )
    return sql, params


def _empty(value: object) -> bool:
    return value is None or value == "" or value == "[]"


def article_columns(article: Article, records: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The ``articles`` columns an :class:`Article` provides (validated, serialized).

    URL fields hold the URLs as the page gave them less tracking parameters
    (:func:`archive.store.urls.strip_tracking`), and only those that are aliases (see
    :func:`archive.store.identity.alias_records`). An article's ``url`` is its canonical URL when
    the page names one: an AMP copy or a short link's target fetched first must not become
    the address users see.
    """
    where = f"of {article.url}"
    known = {url for url, _kind, _original in records}

    def alias(raw: str | None) -> str | None:
        norm = try_normalize_url(raw)
        return strip_tracking(raw.strip()) if raw and norm in known else None

    published, modified = article.published, article.modified
    return {
        "source": article.source,
        "url": alias(article.canonical_url) or alias(article.url),
        "canonical_url": alias(article.canonical_url),
        "short_url": alias(article.short_url),
        "amp_url": alias(article.amp_url),
        "title": article.title,
        "lead": article.lead,
        "body": article.body,
        "authors": json.dumps(list(article.authors), ensure_ascii=False),
        "published": _stored_time(published, article.published_precision, f"published {where}"),
        "published_local": article.published_local if published else None,
        "published_precision": article.published_precision if published else None,
        "published_from": article.published_from if published else None,
        "published_zone": article.published_zone if published else None,
        "modified": _stored_time(modified, article.modified_precision, f"modified {where}"),
        "section": article.section,
        "tags": json.dumps(list(article.tags), ensure_ascii=False),
        "language": article.language,
        "image": article.image,
        "body_method": article.body_method,
    }


def _stored_time(value: datetime | None, precision: str | None, what: str) -> str | None:
    """A page date as stored (:func:`archive.times.page_date_text`), or None."""
    return page_date_text(value, precision, what, ArchiveError) if value is not None else None


def merge_fields(
    current: Mapping[str, Any], new: Mapping[str, Any], outcome: Outcome, refresh: bool
) -> dict[str, Any]:
    """Column changes for an existing article (rules in :mod:`archive.store.identity`).

    ``UPDATED`` replaces the text and, like a ``refresh`` (an ``UNCHANGED`` capture of the
    current text), takes every non-empty metadata value of the new capture; otherwise only
    empty fields are filled. ``short_url`` is only ever filled.
    """
    changes: dict[str, Any] = {}
    take_new = outcome is Outcome.UPDATED or refresh
    for name in _METADATA_FIELDS:
        value = new[name]
        if _empty(value):
            continue
        if (take_new or _empty(current[name])) and current[name] != value:
            changes[name] = value
    if not _empty(new["published"]) and (take_new or _empty(current["published"])) and any(
            current.get(name) != new.get(name) for name in PUBLISHED_FIELDS):
        changes.update({name: new.get(name) for name in PUBLISHED_FIELDS})
    if _empty(current["short_url"]) and not _empty(new["short_url"]):
        changes["short_url"] = new["short_url"]
    if outcome is Outcome.UPDATED:
        changes.update({name: new[name] for name in _TEXT_FIELDS})
    return changes


#: The fields of an exported article, in order (``show`` adds ``versions`` and ``captures``).
EXPORT_FIELDS: tuple[str, ...] = (
    "id", "url", "canonical_url", "short_url", "amp_url", "aliases", "source", "title",
    "authors", "published", "published_local", "published_precision", "published_from",
    "published_zone", "modified", "section", "tags", "language", "lead", "body",
    "image", "body_method", "first_seen", "last_seen", "version",
)  # fmt: skip


def article_dict(row: Mapping[str, Any], aliases: list[str]) -> dict[str, Any]:
    """An ``articles`` row as :meth:`Archive.show` and :meth:`Archive.export` give it."""
    return {
        "id": row["id"],
        "url": row["url"],
        "canonical_url": row["canonical_url"],
        "short_url": row["short_url"],
        "amp_url": row["amp_url"],
        "aliases": sorted(aliases),
        "source": row["source"],
        "title": row["title"],
        "authors": json.loads(row["authors"]),
        "published": row["published"],
        # None for rows loaded before migration 0008 until a reindex parses them again.
        "published_local": row.get("published_local"),
        "published_precision": row.get("published_precision"),
        "published_from": row.get("published_from"),
        "published_zone": row.get("published_zone"),
        "modified": row["modified"],
        "section": row["section"],
        "tags": json.loads(row["tags"]),
        "language": row["language"],
        "lead": row["lead"],
        "body": row["body"],
        "image": row["image"],
        "body_method": row["body_method"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "version": row["version"],
    }


def article_record(article: Article, *fetched: str | None) -> dict[str, Any]:
    """An article parsed outside the archive, in the shape of an export record.

    ``id`` is the id a new article would get (it differs if the archive already knows
    the story, or on an id collision); ``first_seen``, ``last_seen`` and ``version`` are
    None; ``url`` is the URL the page was parsed under (``extract`` reports on that page).
    Raises :class:`archive.store.urls.UrlError` when ``article.url`` is unusable.
    """
    records = alias_records(article, *fetched)
    columns = article_columns(article, records)
    row = {
        **columns,
        "url": article.url,
        "id": article_id(identity_key(article)),
        "first_seen": None,
        "last_seen": None,
        "version": None,
    }
    return article_dict(row, [original for _url, _kind, original in records])


def run_row(run: Mapping[str, Any]) -> dict[str, Any]:
    """The ``runs`` row for one run dict (see :meth:`archive.store.db.Archive.log_run`)."""
    row: dict[str, Any] = {}
    extra: dict[str, Any] = dict(run.get("extra") or {})
    for key, value in run.items():
        if key in ("extra", "id"):  # a row read back by Archive.runs() can be logged again
            continue
        if key in _RUN_TIME_FIELDS:
            row[key] = _run_time(key, value)
        elif key in _RUN_INT_FIELDS:
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ArchiveError(f"run {key} must be an integer, got {value!r}")
            row[key] = value
        elif key in _RUN_TEXT_FIELDS:
            row[key] = value
        else:
            extra[key] = value
    row["extra"] = json.dumps(extra, ensure_ascii=False, sort_keys=True, default=_json_value)
    return row


def _run_time(key: str, value: object) -> object:
    """A run's start or end as stored: aware datetimes and ISO 8601 strings in UTC."""
    if isinstance(value, str):
        try:
            value = parse_utc(value, require_offset=True)
        except NaiveTimeError as exc:
            raise ArchiveError(f"run {key} {exc}") from None
        except ValueError:
            raise ArchiveError(f"run {key} is not an ISO 8601 time: {value!r}") from None
    if isinstance(value, datetime):
        return utc_text(value, f"run {key}", ArchiveError)
    if value is not None:
        raise ArchiveError(f"run {key} must be a datetime, got {value!r}")
    return None


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return utc_text(value, "run value", ArchiveError)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value) if isinstance(value, (set, frozenset)) else list(value)
    return str(value)
