"""The archive queries of source health and ``sources --check`` on a large synthetic archive.

Builds (once, in a temporary folder unless ``--db`` names one) an ``archive.db`` of N
articles and 4 captures per article (one article capture, three requisites) spread over a
year across 20 sources, then times, in the same run:

1. ``check_health`` (every rule) and its two article scans: ``volume_sql`` (the volumes and
   the missing-share rule) and ``fields_sql`` (the fields-lost rule of ``extraction``);
2. the lookups of ``sources --check`` for every source (the latest articles, then each one's
   captures by index), against the scan of ``captures`` by source that it replaced.

No WARC file is read: this measures the queries only.

    python bench/health_queries.py [--articles 250000] [--db PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from archive.store import health
from archive.store.db import Archive
from archive.times import utc_text
from crawler.profilecheck import _CAPTURES

SOURCES = 20
NOW = datetime(2026, 12, 2, tzinfo=UTC)
# The query sources --check ran before it went through articles: every capture of a source.
_SCAN = _CAPTURES.format(where="c.source = :source")


def build(path: Path, articles: int) -> None:
    """A synthetic archive: ``articles`` articles, 4 captures each, over a year."""
    rng = random.Random(7)
    with Archive(path) as archive:
        conn = archive.db.conn
        conn.execute("PRAGMA foreign_keys = OFF")  # captures name articles inserted next
        arts, caps = [], []
        for i in range(articles):
            seen = utc_text(NOW - timedelta(seconds=rng.randrange(365 * 86400)))
            source = f"s{i % SOURCES}"
            arts.append((f"a{i}", source, f"https://x/{i}", "Title", "Lead", "Body " * 300,
                         '["A"]', "2024-01-01", '["t"]', "en", "selectors", "h", 1, seen, seen))
            for k in range(4):
                caps.append((f"f{i // 2000}.warc.gz", 4 * i + k, 100, f"https://x/{i}/{k}",
                             f"https://x/{i}/{k}", f"k{i}/{k}", 200, seen,
                             "article" if k == 0 else "requisite", source,
                             f"a{i}" if k == 0 else None, "inserted" if k == 0 else None))
        conn.executemany(
            "INSERT INTO articles (id, source, url, title, lead, body, authors, published, tags,"
            " language, body_method, content_hash, version, first_seen, last_seen)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", arts)
        conn.executemany(
            'INSERT INTO captures (warc_file, "offset", length, url, url_norm, link_key, status,'
            " fetched_at, kind, source, article_id, outcome) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            caps)
        conn.commit()


def timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=250_000)
    parser.add_argument("--db", type=Path, help="Archive to build (or reuse) here.")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="mediawatch-bench-")
    path = args.db or Path(tmp.name) / "archive.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        print(f"building {path}: {args.articles:,} articles, {4 * args.articles:,} captures")
        build(path, args.articles)
    with Archive.open_readonly(path) as archive:
        db = archive.db

        def run(sql_params: tuple[str, dict[str, object]]) -> None:
            list(db.query(*sql_params))

        def check_lookups() -> None:
            for s in range(SOURCES):
                latest = db.execute("SELECT id FROM articles WHERE source = ? ORDER BY"
                                    " last_seen DESC, pk DESC LIMIT 60", [f"s{s}"]).fetchall()
                baseline = db.execute("SELECT id FROM articles WHERE source = ? ORDER BY"
                                      " first_seen DESC, pk DESC LIMIT 20", [f"s{s}"]).fetchall()
                for (aid,) in latest[:3] + baseline:
                    list(db.query(_CAPTURES.format(where="c.article_id = :aid"),
                                  {"aid": aid, "limit": 3}))

        def check_scan() -> None:
            for s in range(SOURCES):
                list(db.query(_SCAN, {"source": f"s{s}", "limit": 60}))

        figures = {
            "check_health_s": timed(lambda: health.check_health(archive, NOW)),
            "volume_sql_s": timed(lambda: run(health.volume_sql(NOW))),
            "fields_sql_s": timed(lambda: run(health.fields_sql(NOW))),
            "check_lookups_s": timed(check_lookups),
            "check_scan_before_s": timed(check_scan),
        }
    for name, value in figures.items():
        print(f"{name:22} {value:8.3f}")
    print(json.dumps({"articles": args.articles, **{k: round(v, 3) for k, v in figures.items()}}))


if __name__ == "__main__":
    main()
