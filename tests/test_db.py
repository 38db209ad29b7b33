"""The SQLite archive: identity, versions, captures, determinism, migrations, run log."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive.models import Article, WarcLocation
from archive.store.db import Archive, ArchiveError, CaptureRef, Outcome
from archive.store.identity import article_id
from archive.store.records import EXPORT_FIELDS, article_record, export_sql
from archive.store.schema import rebuild_fts

DESKTOP = "https://news.example/2024/05/01/s-400-deal"
CANONICAL = DESKTOP
SHORT = "https://news.example/s/12345"
AMP = "https://news.example/amp/2024/05/01/s-400-deal"
STORY_ID = article_id(CANONICAL)  # its identity key: the canonical URL on its own site

STORY = Article(
    url=DESKTOP + "?utm_source=rss&utm_medium=feed",
    source="example",
    title="Turkey signs S-400 deal",
    lead="Ankara confirms the purchase.",
    body="The defence ministry said the S-400 systems will arrive in November.",
    authors=("A. Writer",),
    published=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
    published_local="2024-05-01T12:30:00+03:00",
    published_precision="minute",
    published_from="jsonld",
    published_zone="offset",
    section="Defence",
    tags=("Turkey", "Russia"),
    language="en",
    canonical_url=CANONICAL,
    short_url=SHORT,
    amp_url=AMP,
    image="https://news.example/img/1.jpg",
    body_method="selectors",
    aliases=("http://news.example/2024/05/01/s-400-deal",),
)


def at(day: int, hour: int = 12) -> datetime:
    """A capture time in May 2024, UTC."""
    return datetime(2024, 5, day, hour, tzinfo=UTC)


def cap(
    offset: int,
    url: str,
    when: datetime,
    *,
    status: int = 200,
    kind: str = "article",
    file: str = "crawl-1.warc.gz",
) -> CaptureRef:
    """A capture reference at ``offset`` of ``file``."""
    return CaptureRef(
        location=WarcLocation(file, offset, 1000 + offset),
        url=url,
        status=status,
        fetched_at=when,
        digest=f"sha1:D{offset}",
        record_id=f"<urn:uuid:{offset:08d}>",
        kind=kind,
        source="example",
    )


def test_insert(archive: Archive) -> None:
    outcome = archive.upsert(STORY, cap(0, STORY.url, at(1)))
    assert outcome is Outcome.INSERTED
    shown = archive.show(STORY_ID)
    assert shown is not None
    assert {k: v for k, v in shown.items() if k not in ("versions", "captures", "cluster")} == {
        "id": STORY_ID,
        "url": DESKTOP,
        "canonical_url": CANONICAL,
        "short_url": SHORT,
        "amp_url": AMP,
        "aliases": [CANONICAL, AMP, SHORT],  # STORY.url and the http alias: = CANONICAL
        "source": "example",
        "title": "Turkey signs S-400 deal",
        "authors": ["A. Writer"],
        "published": "2024-05-01T09:30:00Z",
        "published_local": "2024-05-01T12:30:00+03:00",
        "published_precision": "minute",
        "published_from": "jsonld",
        "published_zone": "offset",
        "modified": None,
        "section": "Defence",
        "tags": ["Turkey", "Russia"],
        "language": "en",
        "lead": "Ankara confirms the purchase.",
        "body": "The defence ministry said the S-400 systems will arrive in November.",
        "image": "https://news.example/img/1.jpg",
        "body_method": "selectors",
        "first_seen": "2024-05-01T12:00:00Z",
        "last_seen": "2024-05-01T12:00:00Z",
        "version": 1,
        "removed_at": None,
        "removed": None,
        "flags": [],
        "entities": shown["entities"],  # checked below
    }
    # The gazetteer entities of the text (config/entities.toml), by name; a fuller gazetteer
    # may know more.
    assert [e for e in shown["entities"] if e["id"] in ("ankara", "s-400", "turkey")] == [
        {"id": "ankara", "name": "Ankara", "kind": "place"},
        {"id": "s-400", "name": "S-400", "kind": "weapon"},
        {"id": "turkey", "name": "Turkey", "kind": "country"}]
    assert [v["version"] for v in shown["versions"]] == [1]
    # Alone in its story: a cluster of one (tests/test_clusters.py has the rest).
    assert shown["cluster"]["id"] == STORY_ID
    assert [m["id"] for m in shown["cluster"]["members"]] == [STORY_ID]
    assert shown["captures"] == [
        {
            "warc_file": "crawl-1.warc.gz",
            "offset": 0,
            "length": 1000,
            "fetched_at": "2024-05-01T12:00:00Z",
            "status": 200,
            "url": STORY.url,
            "digest": "sha1:D0",
            "record_id": "<urn:uuid:00000000>",
            "kind": "article",
            "outcome": "inserted",
        }
    ]
    assert archive.stats() == {"articles": 1, "versions": 1, "aliases": 3, "captures": 1}


def test_the_parent_directory_is_created_and_wal_is_on(tmp_path: Path) -> None:
    with Archive(tmp_path / "deep" / "er" / "archive.db") as opened:
        assert opened.db.journal_mode == "wal"
        assert opened.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_same_story_under_many_urls_is_one_article(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    # the short link redirects: the 301 record, then the article page reached through it
    archive.record_capture(cap(1, SHORT, at(2), status=301))
    via_short = replace(STORY, url=DESKTOP)
    short_capture = replace(cap(2, DESKTOP, at(2)), requested_url=SHORT)
    assert archive.upsert(via_short, short_capture) is Outcome.DUPLICATE
    # a tagged link is another way in: a duplicate the first time
    tracked = replace(STORY, url=DESKTOP + "?fbclid=abc&utm_campaign=x")
    assert archive.upsert(tracked, cap(3, tracked.url, at(3))) is Outcome.DUPLICATE
    # the AMP copy renders the text differently: no new version
    amp = replace(
        STORY,
        url=AMP,
        body="The defence ministry said the S-400 systems arrive in November. Share this.",
        amp_url=None,
    )
    assert archive.upsert(amp, cap(4, AMP, at(3))) is Outcome.DUPLICATE
    # a mobile page known only by its canonical link
    mobile = Article(url="https://m.news.example/s-400", source="example", canonical_url=CANONICAL)
    assert archive.upsert(mobile, cap(5, mobile.url, at(4))) is Outcome.DUPLICATE
    # each link fetched again, same text
    again = replace(cap(6, DESKTOP, at(5)), requested_url="http://NEWS.example/s/12345")
    assert archive.upsert(via_short, again) is Outcome.UNCHANGED
    assert archive.upsert(amp, cap(7, AMP, at(5))) is Outcome.UNCHANGED

    assert archive.stats() == {"articles": 1, "versions": 1, "aliases": 4, "captures": 8}
    shown = archive.show(SHORT)
    assert shown is not None
    assert shown["aliases"] == ["https://m.news.example/s-400", CANONICAL, AMP, SHORT]
    assert shown["body"] == STORY.body
    assert shown["last_seen"] == "2024-05-05T12:00:00Z"
    assert [(c["offset"], c["outcome"]) for c in shown["captures"]] == [
        (0, "inserted"),
        (1, None),  # the short link's redirect, found through the alias
        (2, "duplicate"),
        (3, "duplicate"),
        (4, "duplicate"),
        (5, "duplicate"),
        (6, "unchanged"),
        (7, "unchanged"),
    ]


def test_a_link_reached_through_a_redirect_is_an_alias(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    extensionless = "https://news.example/2024/05/01/s-400-deal-short"
    capture = replace(cap(1, DESKTOP, at(2)), requested_url=extensionless)
    assert archive.upsert(replace(STORY, url=DESKTOP), capture) is Outcome.DUPLICATE
    assert archive.resolve(extensionless) == STORY_ID


def test_changed_content_makes_a_new_version_and_keeps_the_old_text(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    edited = replace(
        STORY,
        title="Turkey signs S-400 deal, US warns",
        body="The defence ministry said the S-400 systems will arrive in December.",
        modified=datetime(2024, 5, 2, 8, 0, tzinfo=timezone(timedelta(hours=3))),
    )
    assert archive.upsert(edited, cap(1, DESKTOP, at(2))) is Outcome.UPDATED
    shown = archive.show(STORY_ID)
    assert shown is not None
    assert shown["version"] == 2
    assert shown["title"] == "Turkey signs S-400 deal, US warns"
    assert shown["modified"] == "2024-05-02T05:00:00Z"
    assert [(v["version"], v["fetched_at"], v["title"]) for v in shown["versions"]] == [
        (1, "2024-05-01T12:00:00Z", "Turkey signs S-400 deal"),
        (2, "2024-05-02T12:00:00Z", "Turkey signs S-400 deal, US warns"),
    ]
    assert shown["versions"][0]["body"] == STORY.body
    assert shown["first_seen"] == "2024-05-01T12:00:00Z"
    assert shown["last_seen"] == "2024-05-02T12:00:00Z"
    # back to the first text: that is a change too
    assert archive.upsert(STORY, cap(2, DESKTOP, at(3))) is Outcome.UPDATED
    assert archive.stats()["versions"] == 3


def test_whitespace_and_case_changes_are_not_versions(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    shouted = replace(STORY, title="TURKEY SIGNS S-400 DEAL", body="  " + STORY.body + "\n")
    assert archive.upsert(shouted, cap(1, DESKTOP, at(2))) is Outcome.UNCHANGED
    assert archive.show(STORY_ID)["title"] == "Turkey signs S-400 deal"


def test_unchanged_moves_last_seen_only(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    before = archive.show(STORY_ID)
    assert archive.upsert(STORY, cap(1, DESKTOP, at(5))) is Outcome.UNCHANGED
    after = archive.show(STORY_ID)
    assert before is not None
    assert after is not None
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {"last_seen", "captures"}
    assert after["last_seen"] == "2024-05-05T12:00:00Z"
    assert archive.stats() == {"articles": 1, "versions": 1, "aliases": 3, "captures": 2}


def test_unchanged_text_refreshes_metadata_but_duplicates_only_fill_gaps(
    archive: Archive,
) -> None:
    first = replace(STORY, image=None, section=None)
    archive.upsert(first, cap(0, DESKTOP, at(1)))
    amp = replace(STORY, url=AMP, section="AMP section", image="https://news.example/amp.jpg")
    assert archive.upsert(amp, cap(1, AMP, at(2))) is Outcome.DUPLICATE
    shown = archive.show(STORY_ID)
    assert (shown["section"], shown["image"]) == ("AMP section", "https://news.example/amp.jpg")
    assert shown["url"] == DESKTOP  # filled fields only: url was set
    later = replace(STORY, section="World", modified=at(3), tags=())
    assert archive.upsert(later, cap(2, DESKTOP, at(3))) is Outcome.UNCHANGED
    shown = archive.show(STORY_ID)
    assert shown["section"] == "World"
    assert shown["modified"] == "2024-05-03T12:00:00Z"
    assert shown["tags"] == ["Turkey", "Russia"]  # the newer capture had none: kept
    assert shown["version"] == 1


def test_the_storys_own_page_wins_whichever_rendering_came_first(tmp_path: Path) -> None:
    """A crawl fetches the AMP page and the story's page in either order (concurrency):
    the archive must read the same, with the page's text as version 1 and one version."""
    amp = replace(STORY, url=AMP, lead="AMP summary.", tags=(), short_url=None,
                  section=None, image="https://news.example/amp.jpg")
    page = replace(STORY, image=None)
    captures = [(amp, cap(0, AMP, at(1))), (page, cap(1, DESKTOP, at(1, 13)))]
    results = {}
    for order in (captures, captures[::-1]):
        path = tmp_path / f"{len(results)}" / "archive.db"
        with Archive(path) as archive:
            outcomes = [archive.upsert(a, c) for a, c in order]
            shown = archive.show(STORY_ID)
            assert shown is not None
            results[len(results)] = {k: v for k, v in shown.items()
                                     if k not in ("first_seen", "last_seen", "captures")}
            assert outcomes == [Outcome.INSERTED, Outcome.DUPLICATE]
            assert archive.stats()["versions"] == 1
    amp_then_page, page_then_amp = results[0], results[1]
    for shown in (amp_then_page, page_then_amp):
        assert (shown["lead"], shown["url"], shown["tags"]) == (
            STORY.lead, DESKTOP, ["Turkey", "Russia"])
        assert shown["image"] == "https://news.example/amp.jpg"  # a gap the AMP page filled
        [version] = shown["versions"]
        assert version["lead"] == STORY.lead
    for shown in (amp_then_page, page_then_amp):
        for version in shown["versions"]:
            version.pop("fetched_at", None)
    assert amp_then_page == page_then_amp


def test_a_changed_amp_copy_updates_against_its_own_baseline(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    amp = replace(STORY, url=AMP, body="AMP rendering of the text.")
    assert archive.upsert(amp, cap(1, AMP, at(2))) is Outcome.DUPLICATE
    assert archive.upsert(amp, cap(2, AMP, at(3))) is Outcome.UNCHANGED
    desktop = replace(STORY, url=DESKTOP)
    assert archive.upsert(desktop, cap(3, DESKTOP, at(3))) is Outcome.UNCHANGED
    amp_edited = replace(amp, body="AMP rendering of the corrected text.")
    assert archive.upsert(amp_edited, cap(4, AMP, at(4))) is Outcome.UPDATED
    assert archive.show(STORY_ID)["body"] == "AMP rendering of the corrected text."


def test_resolve_by_every_alias_and_by_id(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    for name in (
        STORY_ID,
        f"  {STORY_ID} ",
        SHORT,
        "http://NEWS.example/s/12345#comments",
        CANONICAL,
        DESKTOP + "?utm_source=twitter",
        STORY.url,
        AMP,
        "http://news.example/2024/05/01/s-400-deal",
    ):
        assert archive.resolve(name) == STORY_ID, name
    for unknown in ("", "000000000000", "https://news.example/other", "not a url"):
        assert archive.resolve(unknown) is None
        assert archive.show(unknown) is None


def feed_and_crawl(archive: Archive) -> None:
    """A fixed sequence of calls, as ingest makes them, touching every code path."""
    archive.record_capture(cap(0, "https://news.example/robots.txt", at(1, 6), kind="robots"))
    archive.record_capture(cap(1, "https://news.example/rss", at(1, 6), kind="feed"))
    archive.upsert(STORY, cap(2, DESKTOP, at(1, 7)))
    other = Article(
        url="https://news.example/2024/05/02/talks",
        source="example",
        title="Министр обороны провёл переговоры",
        body="Переговоры прошли в Анкаре в ноябре.",
        language="ru",
    )
    archive.upsert(other, cap(3, other.url, at(2, 7)))
    archive.upsert(replace(STORY, url=AMP, body="AMP text"), cap(4, AMP, at(2, 8)))
    archive.upsert(replace(STORY, body="Corrected text."), cap(5, DESKTOP, at(3, 7)))
    archive.record_capture(cap(6, "https://news.example/gone", at(3, 8), status=404))
    archive.upsert(other, cap(7, other.url, at(4, 7)))


def test_redirects_make_aliases_whichever_comes_first(archive: Archive) -> None:
    short = "https://nws.example/x1"
    bare = "https://news.example/2024/05/01/s-400-deal-bare"

    def redirect(offset: int, url: str, to: str, kind: str = "article") -> CaptureRef:
        return replace(cap(offset, url, at(1), status=301, kind=kind), redirect_to=to)

    # a chain recorded before the page arrives: short link -> bare URL -> page
    archive.record_capture(redirect(0, short, bare))
    archive.record_capture(redirect(1, bare, DESKTOP + "?utm_source=x"))
    archive.record_capture(redirect(2, "https://news.example/latest", DESKTOP, kind="section"))
    archive.upsert(replace(STORY, short_url=None), cap(3, DESKTOP, at(1)))
    story_id = article_id(CANONICAL)
    assert archive.resolve(short) == archive.resolve(bare) == story_id
    assert archive.resolve("https://news.example/latest") is None
    # a redirect recorded after the page
    archive.record_capture(redirect(4, "https://news.example/?p=77", bare))
    assert archive.resolve("https://news.example/?p=77") == story_id
    kinds = dict(archive.db.execute("SELECT original, kind FROM aliases"))
    assert kinds[short] == kinds[bare] == kinds["https://news.example/?p=77"] == "redirect"
    assert [c["offset"] for c in archive.show(story_id)["captures"]] == [0, 1, 3, 4]


def test_the_same_calls_give_the_same_archive(tmp_path: Path) -> None:
    exports, shows = [], []
    for name in ("one.db", "two.db"):
        with Archive(tmp_path / name) as opened:
            feed_and_crawl(opened)
            exports.append(list(opened.export()))
            shows.append([opened.show(item["id"]) for item in exports[-1]])
    assert exports[0] == exports[1]
    assert shows[0] == shows[1]
    assert [(item["id"], item["version"]) for item in exports[0]] == [
        (STORY_ID, 2),
        (article_id("https://news.example/2024/05/02/talks"), 1),
    ]


def test_reingesting_a_record_changes_nothing(archive: Archive) -> None:
    feed_and_crawl(archive)
    before = (archive.stats(), list(archive.export()))
    assert archive.upsert(STORY, cap(2, DESKTOP, at(1, 7))) is Outcome.UNCHANGED
    archive.record_capture(cap(1, "https://news.example/rss", at(1, 6), kind="feed"))
    assert (archive.stats(), list(archive.export())) == before


def test_captures_are_recorded_for_non_articles(archive: Archive) -> None:
    archive.record_capture(cap(0, "https://news.example/robots.txt", at(1), kind="robots"))
    archive.record_capture(cap(1, "https://news.example/rss", at(1), kind="feed"))
    archive.record_capture(cap(2, "https://news.example/sitemap.xml", at(1), kind="sitemap"))
    archive.record_capture(cap(3, "https://news.example/missing", at(1), status=404))
    archive.record_capture(cap(4, "dns:news.example", at(1), kind="other"))
    assert archive.stats() == {"articles": 0, "versions": 0, "aliases": 0, "captures": 5}
    rows = list(archive.db.query('SELECT kind, status, url_norm FROM captures ORDER BY "offset"'))
    assert rows == [
        {"kind": "robots", "status": 200, "url_norm": "https://news.example/robots.txt"},
        {"kind": "feed", "status": 200, "url_norm": "https://news.example/rss"},
        {"kind": "sitemap", "status": 200, "url_norm": "https://news.example/sitemap.xml"},
        {"kind": "article", "status": 404, "url_norm": "https://news.example/missing"},
        {"kind": "other", "status": 200, "url_norm": None},
    ]


def test_a_recorded_capture_is_completed_by_upsert(archive: Archive) -> None:
    archive.record_capture(cap(0, DESKTOP, at(1)))
    assert archive.upsert(STORY, cap(0, DESKTOP, at(1))) is Outcome.INSERTED
    assert archive.stats()["captures"] == 1
    assert archive.show(STORY_ID)["captures"][0]["outcome"] == "inserted"


def test_linked_capture_moves_last_seen(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    archive.record_capture(cap(1, DESKTOP, at(4)), article_id=STORY_ID)  # a revisit record
    archive.record_capture(cap(2, DESKTOP, at(6), status=404), article_id=STORY_ID)
    shown = archive.show(STORY_ID)
    assert shown["last_seen"] == "2024-05-04T12:00:00Z"
    assert [c["status"] for c in shown["captures"]] == [200, 200, 404]
    with pytest.raises(ArchiveError, match="unknown article"):
        archive.record_capture(cap(3, DESKTOP, at(7)), article_id="ffffffffffff")


def test_two_existing_articles_are_never_merged(
    archive: Archive, caplog: pytest.LogCaptureFixture
) -> None:
    first = Article(url="https://news.example/a", source="example", title="A")
    second = Article(url="https://news.example/b", source="example", title="B")
    archive.upsert(first, cap(0, first.url, at(1)))
    archive.upsert(second, cap(1, second.url, at(1)))
    # a page of B whose canonical link names A: the canonical match wins, B is not merged
    confused = Article(
        url="https://news.example/b", source="example", title="B", canonical_url=first.url
    )
    with caplog.at_level(logging.WARNING, logger="archive.store.db"):
        outcome = archive.upsert(confused, cap(2, confused.url, at(2)))
    assert outcome is Outcome.DUPLICATE
    assert "not merged" in caplog.text
    assert archive.stats()["articles"] == 2
    assert archive.resolve("https://news.example/b") == article_id("https://news.example/b")


def test_wire_copies_in_other_outlets_stay_separate(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    copy = Article(
        url="https://wire.example/s-400",
        source="wire",
        title=STORY.title,
        body=STORY.body,
        canonical_url=CANONICAL,
    )
    assert archive.upsert(copy, cap(1, copy.url, at(2))) is Outcome.INSERTED
    ids = [item["id"] for item in archive.export()]
    assert len(set(ids)) == 2
    copy_id = archive.resolve("https://wire.example/s-400")
    # Its identity key is its own URL (a canonical on another site is passed over); the
    # canonical alias stays with STORY.
    assert copy_id == article_id("https://wire.example/s-400")
    assert archive.resolve(CANONICAL) == STORY_ID


def test_id_collisions_fall_back_to_the_source(archive: Archive) -> None:
    first = Article(url="https://wire.example/x", source="wire", short_url=CANONICAL)
    archive.upsert(first, cap(0, first.url, at(1)))
    assert archive.resolve(first.url) == STORY_ID  # key CANONICAL, taken first by the wire copy
    assert archive.upsert(STORY, cap(1, DESKTOP, at(2))) is Outcome.INSERTED
    # (DESKTOP, the canonical URL, stays with the wire copy that claimed it first)
    assert archive.resolve(SHORT) == article_id(f"example {CANONICAL}")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: cap(0, DESKTOP, datetime(2024, 5, 1)), id="naive-capture"),
        pytest.param(lambda: cap(0, DESKTOP, at(1), kind="nonsense"), id="bad-kind"),
    ],
)
def test_bad_capture_refs_are_rejected(make: object) -> None:
    with pytest.raises(ArchiveError):
        make()  # type: ignore[operator]


def test_naive_article_dates_and_bad_urls_are_rejected(archive: Archive) -> None:
    with pytest.raises(ArchiveError, match=r"published .* timezone-aware"):
        archive.upsert(replace(STORY, published=datetime(2024, 5, 1)), cap(0, DESKTOP, at(1)))
    with pytest.raises(ArchiveError, match="not an absolute"):
        archive.upsert(Article(url="/news/1", source="example"), cap(1, DESKTOP, at(1)))
    assert archive.stats() == {"articles": 0, "versions": 0, "aliases": 0, "captures": 0}


def test_a_failed_transaction_stores_nothing(archive: Archive) -> None:
    with archive.transaction():
        archive.upsert(STORY, cap(0, DESKTOP, at(1)))
        archive.record_capture(cap(1, "https://news.example/rss", at(1), kind="feed"))
    assert archive.stats()["captures"] == 2

    def fail_half_way() -> None:
        with archive.transaction():
            archive.upsert(replace(STORY, body="Changed"), cap(2, DESKTOP, at(2)))
            raise RuntimeError("ingest failed half-way")

    with pytest.raises(RuntimeError):
        fail_half_way()
    assert archive.stats() == {"articles": 1, "versions": 1, "aliases": 3, "captures": 2}


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    with Archive(path) as first:
        first.upsert(STORY, cap(0, DESKTOP, at(1)))
        schema = first.db.schema
    for _ in range(2):
        with Archive(path) as again:
            assert again.db.schema == schema
            assert [r["name"] for r in again.db.query("SELECT name FROM _sqlite_migrations")] == [
                "0001_initial", "0002_operations", "0003_capture_revisits",
                "0004_date_ordered_rowids", "0005_fts_content_quoted", "0006_fts_filter_column",
                "0007_ingest_ledger", "0008_published_detail", "0009_screenshots",
                "0010_folding_entities", "0011_story_clusters", "0012_edit_habits",
                "0013_entity_filter_tokens", "0014_fold_terms_by_word",
                "0015_article_dates_by_rowid",
            ]
            assert again.stats()["articles"] == 1


def test_open_readonly(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    with Archive(path) as writer:
        writer.upsert(STORY, cap(0, DESKTOP, at(1)))
    with Archive.open_readonly(path) as reader:
        assert reader.resolve(SHORT) == STORY_ID
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.upsert(STORY, cap(1, DESKTOP, at(2)))
    with pytest.raises(ArchiveError, match="no archive"):
        Archive.open_readonly(tmp_path / "missing.db")


def test_export_order_and_query(archive: Archive) -> None:
    undated = Article(url="https://news.example/undated", source="example", title="Undated note")
    old = replace(STORY, published=datetime(2020, 1, 1, tzinfo=UTC))
    archive.upsert(undated, cap(0, undated.url, at(1)))
    archive.upsert(old, cap(1, old.url, at(2)))
    assert [item["title"] for item in archive.export()] == [
        "Turkey signs S-400 deal",
        "Undated note",
    ]
    assert [item["id"] for item in archive.export("undated")] == [
        article_id("https://news.example/undated")
    ]
    assert list(archive.export("nothing-like-this")) == []
    assert "versions" not in next(archive.export())


def test_export_sql_is_pure() -> None:
    sql, params = export_sql('"x"')
    assert params == {"match": '"x"'}
    assert "MATCH :match" in sql
    assert export_sql()[1] == {}


def test_fts_stays_consistent_through_updates(archive: Archive) -> None:
    feed_and_crawl(archive)
    archive.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    rebuild_fts(archive.db)
    archive.db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
    assert [item["id"] for item in archive.export("corrected")] == [STORY_ID]
    assert list(archive.export("november")) == []  # the old text is no longer current


def test_run_log(archive: Archive) -> None:
    archive.log_run(
        {
            "source": "example",
            "started": datetime(2024, 5, 1, 6, tzinfo=UTC),
            "finished": datetime(2024, 5, 1, 6, 5, tzinfo=UTC),
            "status": "ok",
            "pages": 12,
            "failed": 1,
            "new": 3,
            "updated": 1,
            "unchanged": 7,
            "duplicates": 0,
            "warc_bytes": 123456,
            "spider_version": "1.0",
        }
    )
    archive.log_run({"source": "other", "started": "2024-05-01T08:00:00+03:00", "status": "failed"})
    runs = archive.runs()
    assert [r["source"] for r in runs] == ["other", "example"]
    (example,) = archive.runs("example")
    assert example["started"] == "2024-05-01T06:00:00Z"
    assert example["pages"] == 12
    assert example["extra"] == {"spider_version": "1.0"}
    assert runs[0]["started"] == "2024-05-01T05:00:00Z"
    # runs read back can be logged again (reindex copies the log to the new database)
    archive.log_run(example)
    assert {k: v for k, v in archive.runs("example")[1].items() if k != "id"} == {
        k: v for k, v in example.items() if k != "id"
    }
    archive.db.execute("DELETE FROM runs WHERE id = 3")
    with pytest.raises(ArchiveError):
        archive.log_run({"started": datetime(2024, 5, 1)})
    with pytest.raises(ArchiveError):
        archive.log_run({"pages": "many"})
    with pytest.raises(ArchiveError):
        archive.log_run({"started": "yesterday"})
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    archive.reset()
    assert archive.stats() == {"articles": 0, "versions": 0, "aliases": 0, "captures": 0}
    assert len(archive.runs()) == 2


def test_ingested_files_and_checkpoint(archive: Archive) -> None:
    assert archive.ingested_files() == set()
    archive.mark_ingested("crawl-1.warc.gz", 10)
    archive.mark_ingested("crawl-1.warc.gz", 12)
    archive.mark_ingested("crawl-2.warc.gz", 3)
    assert archive.ingested_files() == {"crawl-1.warc.gz", "crawl-2.warc.gz"}
    archive.checkpoint()
    assert Path(f"{archive.path}-wal").stat().st_size == 0
    archive.reset()
    assert archive.ingested_files() == set()


def test_records_of_show_and_export_have_the_export_fields(archive: Archive) -> None:
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    (exported,) = archive.export()
    assert tuple(exported) == EXPORT_FIELDS
    assert tuple(archive.show(STORY_ID))[: len(EXPORT_FIELDS)] == EXPORT_FIELDS


def test_article_record_is_the_export_shape_of_a_parsed_page(archive: Archive) -> None:
    record = article_record(STORY)
    assert tuple(record) == EXPORT_FIELDS
    archive.upsert(STORY, cap(0, DESKTOP, at(1)))
    (exported,) = archive.export()
    differing = {k for k in EXPORT_FIELDS if record[k] != exported[k]}
    # extract reports the URL the page was parsed under; the archive shows the canonical one
    assert differing == {"first_seen", "last_seen", "version", "url"}
    assert (record["url"], exported["url"]) == (STORY.url, CANONICAL)
    assert record["version"] is None


def test_rowids_follow_article_dates_and_old_archives_are_renumbered(tmp_path: Path) -> None:
    from archive.store.schema import date_key

    path = tmp_path / "archive.db"
    dates = [datetime(2024, 5, d, 9, 30, tzinfo=UTC) for d in (3, 1, 2)] + [
        datetime(2024, 5, 2, 9, 30, tzinfo=UTC)]  # two stories in the same second
    with Archive(path) as archive:
        for n, when in enumerate(dates):
            story = replace(STORY, url=f"https://news.example/{n}", canonical_url=None,
                            short_url=None, amp_url=None, aliases=(), title=f"Story {n}",
                            published=when)
            archive.upsert(story, cap(n, story.url, at(5)))
        rows = archive.db.execute("SELECT pk, published, title FROM articles ORDER BY pk"
                                  ).fetchall()
        assert [r[2] for r in rows] == ["Story 1", "Story 2", "Story 3", "Story 0"]
        assert rows[0][0] == date_key("2024-05-01T09:30:00Z")
        assert rows[2][0] == rows[1][0] + 1  # the same second: the next free rowid
        # An archive written before rowids were dates: scramble them, replay migration 0004.
        for n, (pk, _published, _title) in enumerate(rows):  # reversed, small rowids
            archive.db.execute("UPDATE articles SET pk = ? WHERE pk = ?", [len(rows) - n, pk])
        archive.db.execute("DELETE FROM _sqlite_migrations WHERE name = '0004_date_ordered_rowids'")
        archive.db.conn.commit()
    with Archive(path) as again:
        titles = [r[0] for r in again.db.execute("SELECT title FROM articles ORDER BY pk")]
        # Date order; the two stories of one second in either order.
        assert (titles[0], set(titles[1:3]), titles[3]) == (
            "Story 1", {"Story 2", "Story 3"}, "Story 0")
        hits = again.db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH"
                                " 'story' ORDER BY rowid").fetchall()
        assert [h[0] for h in hits] == [r[0] for r in again.db.execute(
            "SELECT pk FROM articles ORDER BY pk")]
