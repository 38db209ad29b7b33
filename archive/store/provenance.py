"""Provenance columns of an export: where each exported text was captured.

An exported row is only evidence when it says which archived capture holds its text. Each
article gets the capture of its **current version** (the first capture with that
version's text fetched when the version was or later, else any capture with that text,
as alerts choose theirs) and these columns after the show fields
(:data:`PROVENANCE_FIELDS`):

``capture_time``, ``warc_file``, ``warc_offset``, ``payload_digest``
    the capture's fetch time (UTC), WARC file name, record offset and the WARC payload
    digest (``sha1:…``) as stored;
``replay_url``
    the replay permalink of that capture: ``<replay origin>/replay/<ts>/<url>``, or the
    path alone (``/replay/<ts>/<url>``) when the replay origin is not known;
``version``, ``edited``
    the version number and whether the article changed after its first version;
``cluster_id``
    the story across outlets the article belongs to (:mod:`archive.store.clusters`): the
    id ``show`` gives as ``cluster.id``, the article's own id when it is alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from archive.store.records import EXPORT_FIELDS, article_dict

if TYPE_CHECKING:
    import sqlite3

__all__ = ["EXPORT_COLUMNS", "PROVENANCE_FIELDS", "capture_join_sql", "export_rows", "provenance",
           "replay_timestamp", "with_provenance_sql"]

PROVENANCE_FIELDS: tuple[str, ...] = (
    "capture_time", "warc_file", "warc_offset", "payload_digest", "replay_url", "version",
    "edited", "cluster_id")

#: Every column of an export (CSV header, JSONL keys): the show fields, then provenance.
EXPORT_COLUMNS: tuple[str, ...] = (
    *EXPORT_FIELDS, *(f for f in PROVENANCE_FIELDS if f not in EXPORT_FIELDS))


def capture_join_sql(article: str, alias: str = "pc") -> str:
    """``LEFT JOIN captures AS <alias>``: the capture holding the current version of the
    article row ``article`` (columns ``id`` and ``version``; module docstring)."""
    return f"""LEFT JOIN captures AS {alias} ON {alias}.id = (
  SELECT c2.id FROM versions AS v2 JOIN captures AS c2
    ON c2.article_id = v2.article_id AND c2.content_hash = v2.content_hash
  WHERE v2.article_id = {article}.id AND v2.version = {article}.version
  ORDER BY c2.fetched_at < v2.fetched_at, c2.fetched_at, c2.id LIMIT 1)"""


def with_provenance_sql(sql_params: tuple[str, Mapping[str, Any]]
                        ) -> tuple[str, dict[str, Any]]:
    """An article export query (``a.*`` and ``alias_originals``, in export order: both
    ``export_sql`` functions) with the capture of each article's current version joined
    (module docstring); the order is kept (pure)."""
    inner, params = sql_params
    sql = f"""SELECT e.*, pc.fetched_at AS prov_fetched_at, pc.warc_file AS prov_warc_file,
  pc."offset" AS prov_offset, pc.digest AS prov_digest, pc.url AS prov_url,
  coalesce((SELECT cm.cluster_id FROM cluster_members AS cm WHERE cm.article_id = e.id),
           e.id) AS prov_cluster
FROM ({inner}) AS e
{capture_join_sql("e")}
ORDER BY coalesce(e.published, e.first_seen), e.id"""
    return sql, dict(params)


def export_rows(conn: sqlite3.Connection, sql_params: tuple[str, Mapping[str, Any]],
                replay_origin: str | None = None) -> Iterator[dict[str, Any]]:
    """Each exported article (:data:`EXPORT_COLUMNS`), read row by row."""
    sql, params = with_provenance_sql(sql_params)
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        yield {**article_dict(row, json.loads(row["alias_originals"])),
               **provenance(row, replay_origin)}


def replay_timestamp(fetched_at: str) -> str:
    """``2026-11-29T12:00:05Z`` -> ``20261129120005`` (the replay URL's timestamp)."""
    digits = "".join(ch for ch in fetched_at if ch.isdigit())
    return digits[:14].ljust(14, "0")


def provenance(row: Mapping[str, Any], replay_origin: str | None = None) -> dict[str, Any]:
    """The provenance fields of one export row (selected with the SQL above; pure)."""
    fetched, url = row["prov_fetched_at"], row["prov_url"]
    replay = (f"{(replay_origin or '').rstrip('/')}/replay/{replay_timestamp(fetched)}/{url}"
              if fetched and url else None)
    return {"capture_time": fetched, "warc_file": row["prov_warc_file"],
            "warc_offset": row["prov_offset"], "payload_digest": row["prov_digest"],
            "replay_url": replay, "version": row["version"],
            "edited": bool(row["version"] and row["version"] > 1),
            "cluster_id": row.get("prov_cluster")}
