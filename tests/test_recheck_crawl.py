"""Learned re-checks end to end: real crawls of the newsroom, a real archive whose history
says that one outlet edits late.

The archive's clock is moved, not the wall clock's: after a first crawl, every article is
made five days old with its last fetch at 73 h (past the configured 72 h checkpoint), and
northwind's history gets later versions four to six days after first seen. The next crawl
re-checks northwind's articles (its learned checkpoints reach past 72 h) within the
``recheck_budget``, and none of anatolia's (too little history: the configured checkpoints,
all done). The cluster snapshot carries the same history.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from archive.store.crawlstate import CrawlState
from archive.store.snapshot import write_snapshot
from archive.times import parse_utc, utc_text
from crawler.recheck import LEARN_DAYS, recheck_schedule
from scheduler.newsroom.stories import STORIES
from tests.test_incremental_crawl import newsroom_site

if TYPE_CHECKING:
    from pathlib import Path

AGE = timedelta(days=5)
LAST_FETCH = timedelta(hours=73)
EDIT_DELAYS = (timedelta(days=4), timedelta(days=5), timedelta(days=6))
BUDGET = 3


def age_archive(db: Path, late_editor: str) -> None:
    """Make every article ``AGE`` old, last fetched ``LAST_FETCH`` after first seen; give
    ``late_editor``'s articles later versions ``EDIT_DELAYS`` after first seen."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, source, first_seen FROM articles").fetchall()
        for aid, source, first_seen in rows:
            first = parse_utc(first_seen)
            assert first is not None
            new_first = first - AGE
            conn.execute("UPDATE articles SET first_seen = ?, last_seen = ? WHERE id = ?",
                         [utc_text(new_first), utc_text(new_first + LAST_FETCH), aid])
            conn.execute("UPDATE captures SET fetched_at = ? WHERE article_id = ?",
                         [utc_text(new_first + LAST_FETCH), aid])
            if source != late_editor:
                continue
            v1 = conn.execute("SELECT url, title, lead, body, content_hash FROM versions"
                              " WHERE article_id = ? AND version = 1", [aid]).fetchone()
            conn.execute("UPDATE versions SET fetched_at = ? WHERE article_id = ?",
                         [utc_text(new_first), aid])
            for n, delay in enumerate(EDIT_DELAYS, start=2):
                conn.execute("INSERT INTO versions (article_id, version, fetched_at, url,"
                             " title, lead, body, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             [aid, n, utc_text(new_first + delay), *v1[:4], f"{v1[4]}-{n}"])


def rechecked(hits: list[tuple[str, str]], source: str) -> set[str]:
    """The keys of ``source``'s stories the newsroom served in a crawl, under any of their
    URLs (a re-check goes through the link the text came from: canonical, AMP or short)."""
    paths = {p.split("?")[0] for _, p in hits}
    return {s["key"] for s in STORIES if s["source"] == source
            and paths & {u.split("?")[0] for u in s["urls"]}}


def test_a_late_editing_source_gets_later_rechecks_within_its_budget(tmp_path: Path) -> None:
    for site in newsroom_site(tmp_path, f"recheck_budget = {BUDGET}\n"):
        site.crawl()
        db = site.data / "archive.db"
        age_archive(db, "northwind")

        # What the crawl will read: from the archive and from a cluster job's snapshot alike.
        view = CrawlState(db)
        snap = CrawlState(write_snapshot(db, "northwind", tmp_path / "snap.db"))
        try:
            now = datetime.now(UTC)
            habits = view.edit_habits("northwind", now, LEARN_DAYS)
            assert snap.edit_habits("northwind", now, LEARN_DAYS) == habits
            quiet = view.edit_habits("anatolia", now, LEARN_DAYS)
        finally:
            view.close()
            snap.close()
        northwind_articles = site.query("SELECT count(*) FROM articles WHERE source = ?",
                                        "northwind")[0][0]
        assert habits.articles == habits.edited == northwind_articles
        assert len(habits.delays) == len(EDIT_DELAYS) * northwind_articles
        schedule = recheck_schedule(habits, (3600, 6 * 3600, 24 * 3600, 72 * 3600))
        assert max(schedule) > 72 * 3600
        assert quiet.edited == 0

        second = site.crawl()
        first_batch = rechecked(second, "northwind")
        assert len(first_batch) == BUDGET  # due: all of them; the budget: three
        assert not rechecked(second, "anatolia")  # configured checkpoints, all done

        # Those over the budget stay due: the next crawl takes the next three.
        third = site.crawl()
        second_batch = rechecked(third, "northwind")
        assert len(second_batch) == BUDGET
        assert not first_batch & second_batch
