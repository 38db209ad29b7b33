"""Stories across outlets (archive/clusters, archive/store/clusters.py): the rules, the
stored clusters, their independence from the order articles arrive in, and the
cross-language rule over the entity table of the entity tagging."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from archive.clusters.index import StoryIndex, link_stories, rebuild_clusters
from archive.clusters.linking import components
from archive.clusters.shingles import normalize, shingles
from archive.models import Article, WarcLocation
from archive.store.clusters import cluster_of, entity_kinds, shared_entities
from archive.store.db import Archive, CaptureRef

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
WIRE = ("Turkish Foreign Minister Kemal Aydin said on Sunday that the fighting in Idlib "
        "will have no effect on the delivery of Russian S-400 air defence systems to Turkey. "
        "These are separate matters, Aydin told reporters in Munich when asked whether the "
        "contract was at risk. Turkey ordered four S-400 batteries under a contract worth "
        "about 2.5 billion dollars signed in 2017, and the first deliveries are due in "
        "the spring.")
OTHER = ("The navy commissioned two new frigates in a ceremony at the northern shipyard on "
         "Friday, the first of six ships ordered under the fleet renewal plan, the defence "
         "ministry said in a statement that gave no figure for the cost of the programme.")


def article(key: str, source: str, title: str, body: str, when: datetime,
            language: str = "en") -> Article:
    return Article(url=f"https://{source}.example/{key}", source=source, title=title,
                   body=body, published=when, language=language)


def upsert(archive: Archive, items: list[Article], offset: int = 0) -> list[str]:
    """Upsert ``items`` (not linked); their ids."""
    ids = []
    with archive.transaction():
        for i, item in enumerate(items):
            archive.upsert(item, CaptureRef(
                location=WarcLocation("crawl.warc.gz", offset + i, 100), url=item.url,
                status=200, fetched_at=T0 + timedelta(days=30), digest=f"sha1:{offset + i}",
                record_id=f"<urn:uuid:{offset + i}>", kind="article", source=item.source))
            aid = archive.resolve(item.url)
            assert aid is not None
            ids.append(aid)
    return ids


def store(archive: Archive, items: list[Article], offset: int = 0) -> list[str]:
    """Upsert ``items`` and link them as the ingest does (one batch); their ids."""
    with archive.transaction():
        ids = upsert(archive, items, offset)
        link_stories(archive.db.conn, ids)
    return ids


def members(archive: Archive) -> dict[str, str]:
    return dict(archive.db.execute("SELECT article_id, cluster_id FROM cluster_members"))


# --------------------------------------------------------------------------- pure parts


def test_normalize_transliterates_so_scripts_share_shingles() -> None:
    assert normalize("Поставки С-400 идут!") == "postavki s 400 idut"
    assert normalize("Şoygu, Çavuşoğlu") == "soygu cavusoglu"
    assert shingles("С-400 для Анкары") == shingles("S-400 dlya Ankary")


def test_signatures_are_datasketchs_minhash() -> None:
    """The signatures computed with numpy (datasketch's import loads scipy: too slow for a
    crawl's ingest) are datasketch's MinHash, affine32, seed 1, 128 permutations."""
    from datasketch import MinHash

    from archive.clusters.minhash import from_bytes, signature, similarity, to_bytes

    for text in (WIRE, OTHER, "С-400 для Анкары"):
        grams = shingles(text)
        reference = MinHash(num_perm=128, seed=1, scheme="affine32")
        reference.update_batch([g.encode("utf-8") for g in sorted(grams)])
        ours = signature(grams)
        assert ours.tolist() == reference.hashvalues.tolist()
        assert from_bytes(to_bytes(ours)).tolist() == ours.tolist()
    a, b = MinHash(num_perm=128, seed=1, scheme="affine32"), MinHash(
        num_perm=128, seed=1, scheme="affine32")
    a.update_batch([g.encode() for g in sorted(shingles(WIRE))])
    b.update_batch([g.encode() for g in sorted(shingles(WIRE.rsplit(".", 3)[0]))])
    assert similarity(signature(shingles(WIRE)), signature(shingles(WIRE.rsplit(".", 3)[0]))) \
        == a.jaccard(b)


@pytest.mark.parametrize(("links", "expected"), [
    ([], {"a": "a", "b": "b"}),
    ([("b", "c"), ("c", "a")], {"a": "a", "b": "a", "c": "a"}),
    ([("d", "c"), ("b", "a")], {"a": "a", "b": "a", "c": "c", "d": "c"}),
], ids=["alone", "chain", "two"])
def test_components_are_named_by_their_smallest_id(links: list[tuple[str, str]],
                                                    expected: dict[str, str]) -> None:
    assert components(["a", "b"], links) == expected


# --------------------------------------------------------------------------- the rules


def test_same_source_same_title_within_seven_days(archive: Archive) -> None:
    title = "Defence ministry: exercise ends"
    a, b, c, d = store(archive, [
        article("a", "tass", title, "Short one.", T0),
        article("b", "tass", "Defence Ministry — exercise ends!", "Other words.",
                T0 + timedelta(days=6)),
        article("c", "tass", title, "Third.", T0 + timedelta(days=30)),
        article("d", "ria", title, "Another outlet.", T0),
    ])
    assert members(archive) == {a: min(a, b), b: min(a, b)}
    kinds = {r[0] for r in archive.db.execute("SELECT kind FROM story_links")}
    assert kinds == {"title"}
    assert cluster_of(archive.db.conn, c) == {"id": c, "first": c, "members": [
        {"id": c, "source": "tass", "title": title,
         "published": "2024-05-31T09:00:00Z", "first_seen": "2024-05-31T09:00:00Z"}]}
    assert d not in members(archive)


def test_wire_copy_with_new_headline_across_outlets_and_scripts(archive: Archive) -> None:
    cut = WIRE.rsplit(".", 3)[0]  # the copy runs most of the text
    original, copy, unrelated = store(archive, [
        article("o", "northwind", "Idlib will not derail S-400 deliveries", WIRE,
                T0 + timedelta(hours=2)),
        article("w", "anatolia", "Ankara: S-400 deal safe despite Idlib", cut, T0),
        article("u", "northwind", "Navy commissions two frigates", OTHER, T0),
    ])
    assert members(archive) == {original: min(original, copy), copy: min(original, copy)}
    assert unrelated not in members(archive)
    shown = cluster_of(archive.db.conn, original)
    # The copy was published two hours earlier: it had the story first.
    assert shown["first"] == copy
    assert [m["source"] for m in shown["members"]] == ["anatolia", "northwind"]
    # The same wire text in Cyrillic letters (a Serbian outlet's Latin/Cyrillic edition).
    cyrillic = WIRE.translate(str.maketrans("abvgdeziklmnoprstufhcABVGDEZIKLMNOPRSTUFHC",
                                            "абвгдезиклмнопрстуфхцАБВГДЕЗИКЛМНОПРСТУФХЦ"))
    (serbian,) = store(archive, [article("sr", "tanjug", "Идлиб и С-400", cyrillic, T0,
                                         "sr")], offset=10)
    assert members(archive)[serbian] == min(original, copy, serbian)


def test_published_compared_as_instants_then_first_seen(archive: Archive) -> None:
    plus3 = datetime(2024, 5, 1, 11, 0, tzinfo=UTC).astimezone(
        datetime.now(UTC).astimezone().tzinfo or UTC)
    east, west = store(archive, [
        # 12:00+03:00 is 09:00Z: later on the clock, earlier in time than 10:00Z.
        article("e", "anatolia", "Idlib", WIRE,
                datetime.fromisoformat("2024-05-01T12:00:00+03:00")),
        article("w", "northwind", "Idlib", WIRE,
                datetime.fromisoformat("2024-05-01T10:00:00+00:00")),
    ])
    assert plus3  # (any local zone of the test machine: the stored values are UTC)
    assert cluster_of(archive.db.conn, west)["first"] == east


def test_a_new_version_that_is_no_longer_a_copy_leaves_the_cluster(archive: Archive
                                                                   ) -> None:
    a, b = store(archive, [article("a", "northwind", "One", WIRE, T0),
                           article("b", "anatolia", "Two", WIRE, T0)])
    assert set(members(archive)) == {a, b}
    store(archive, [article("b", "anatolia", "Two", OTHER, T0)], offset=5)
    assert members(archive) == {}
    assert list(archive.db.execute("SELECT count(*) FROM story_links")) == [(0,)]


# --------------------------------------------------------------------------- order


def _corpus() -> list[Article]:
    """Three stories in several copies, same-title pairs and loners, over two weeks."""
    rnd = random.Random(7)
    words = OTHER.split()
    items = []
    for n in range(24):
        when = T0 + timedelta(hours=13 * n)
        if n % 4 == 0:
            body = WIRE
        elif n % 4 == 1:
            body = " ".join(rnd.sample(words, len(words)))  # a loner
        elif n % 4 == 2:
            body = OTHER + " " + WIRE.split(".")[0]
        else:
            body = f"Briefing number {n}."
        title = "Morning briefing" if n % 4 == 3 else f"Story {n}"
        items.append(article(f"k{n}", ["tass", "ria", "aa"][n % 3], title, body, when))
    return items


def _state(archive: Archive) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    return (sorted(archive.db.execute("SELECT article_id, cluster_id FROM cluster_members")),
            sorted(archive.db.execute("SELECT a, b, kind, score FROM story_links")))


def test_clusters_do_not_depend_on_the_order_articles_arrive_in(tmp_path: Path) -> None:
    items = _corpus()
    states = []
    for n, order in enumerate([items, items[::-1], random.Random(3).sample(items, 24)]):
        with Archive(tmp_path / f"{n}.db") as archive:
            # Batches of different sizes: 1, 5 and all at once.
            size = [1, 5, 24][n]
            for start in range(0, 24, size):
                store(archive, order[start : start + size], offset=start)
            states.append(_state(archive))
    assert states[0][0], "the corpus makes clusters"
    assert states[0] == states[1] == states[2]


def test_rebuild_links_articles_already_archived(archive: Archive) -> None:
    a, b = store(archive, [article("a", "x", "One", WIRE, T0),
                           article("b", "y", "Two", WIRE, T0)])
    expected = _state(archive)
    for table in ("story_signatures", "story_links", "cluster_members"):
        archive.db.execute(f"DELETE FROM {table}")
    assert rebuild_clusters(archive.db.conn) == 2
    assert _state(archive) == expected
    assert StoryIndex(archive.db.conn).update([a, b]) == 0  # nothing changed since


# --------------------------------------------------------------------------- entities


def _tag(archive: Archive, aid: str, *entities: str) -> None:
    """Tag as the gazetteer would (ids of config/entities.toml; the ingest's own tagging
    of the text may have found some already)."""
    archive.db.conn.executemany("INSERT OR IGNORE INTO article_entities VALUES (?, ?)",
                                [(aid, e) for e in entities])


def test_no_entity_table_no_entity_links(archive: Archive) -> None:
    assert shared_entities(archive.db.conn, "x", T0, T0, 3) == {}


@pytest.mark.parametrize(("second", "lang", "hours", "linked"), [
    (("recep-tayyip-erdogan", "s-400", "idlib"), "ru", 20, True),
    (("recep-tayyip-erdogan", "s-400", "idlib"), "en", 20, False),  # same language
    (("recep-tayyip-erdogan", "s-400", "idlib"), "tr", 50, False),  # over 48 h
    (("recep-tayyip-erdogan", "s-400"), "tr", 1, False),                # two shared
    (("turkey", "russia", "idlib"), "tr", 1, False),  # no person/weapon
], ids=["ru-20h", "same-language", "50h", "two-shared", "places-only"])
def test_cross_language_link_through_shared_entities(
        archive: Archive, second: tuple[str, ...], lang: str, hours: int,
        linked: bool) -> None:
    en = article("en", "northwind", "Idlib will not derail S-400 deliveries", WIRE, T0)
    other = article("o", "other", "Заголовок", OTHER, T0 + timedelta(hours=hours), lang)
    # Tag as the entity tagging does at ingest, before the linking of the batch.
    with archive.transaction():
        for offset, item in enumerate([en, other]):
            archive.upsert(item, CaptureRef(
                location=WarcLocation("e.warc.gz", offset, 1), url=item.url, status=200,
                fetched_at=T0 + timedelta(days=9), digest="sha1:x", record_id=f"<{offset}>",
                kind="article", source=item.source))
        a, b = archive.resolve(en.url), archive.resolve(other.url)
        assert a is not None
        assert b is not None
        _tag(archive, a, "recep-tayyip-erdogan", "s-400", "idlib", "turkey",
             "russia")
        _tag(archive, b, *second)
        link_stories(archive.db.conn, [a, b])
    assert (set(members(archive)) == {a, b}) is linked


def test_entity_kinds_come_from_the_gazetteer(archive: Archive) -> None:
    assert entity_kinds(archive.db.conn, ["s-400", "idlib", "recep-tayyip-erdogan",
                                          "no-such-entity"]) == {
        "s-400": "weapon", "idlib": "place", "recep-tayyip-erdogan": "person"}


def test_order_with_entities_too(tmp_path: Path) -> None:
    items = [article(f"x{n}", f"s{n}", f"T{n}", f"Text {n} " + OTHER[: 20 * n],
                     T0 + timedelta(hours=n), ["en", "ru", "tr"][n % 3]) for n in range(6)]
    results = []
    for n, order in enumerate(itertools.islice(itertools.permutations(items), 0, 700, 350)):
        with Archive(tmp_path / f"{n}.db") as archive:
            for i, item in enumerate(order):
                with archive.transaction():
                    archive.upsert(item, CaptureRef(
                        location=WarcLocation("e.warc.gz", i, 1), url=item.url, status=200,
                        fetched_at=T0 + timedelta(days=9), digest="sha1:x",
                        record_id=f"<{i}>", kind="article", source=item.source))
                    aid = archive.resolve(item.url)
                    assert aid is not None
                    # The tags belong to the article (its text), not to its arrival.
                    _tag(archive, aid, "recep-tayyip-erdogan", "s-400",
                         ("idlib", "ankara")[int(item.url[-1]) % 2], "turkey")
                    link_stories(archive.db.conn, [aid])
            results.append(_state(archive))
    assert results[0][0]
    assert results[0] == results[1]


def test_an_ingest_run_loads_only_the_signatures_of_its_window(archive: Archive) -> None:
    old = [article(f"old{n}", "x", f"Old {n}", OTHER + f" {n}", T0 + timedelta(hours=n))
           for n in range(5)]
    recent = [article(f"new{n}", "y", f"New {n}", WIRE + f" {n}", T0 + timedelta(days=60 + n))
              for n in range(3)]
    store(archive, old + recent)
    index = StoryIndex(archive.db.conn)  # the next ingest run
    with archive.transaction():
        (fresh,) = upsert(archive, [article("c", "z", "Copy", WIRE, T0 + timedelta(days=61))],
                          offset=50)
        index.update([fresh])
    # Rows read: the copy (by seq, and again with its window) and the three recent ones.
    assert index.loaded == 5
    recent_ids = {archive.resolve(a.url) for a in recent}
    assert set(index.bands.row_of) == recent_ids | {fresh}
    assert members(archive)[fresh] == min({fresh} | recent_ids)


def test_band_index_finds_the_same_candidates_however_it_was_filled() -> None:
    import numpy as np

    from archive.clusters.bands import BandIndex

    rng = np.random.default_rng(5)
    sigs = rng.integers(0, 2**32, (600, 128), dtype=np.uint32)
    sigs[1, :60] = sigs[0, :60]  # shares bands with 0
    ids = [f"a{i}" for i in range(600)]
    bulk, single = BandIndex(128, 42, 3), BandIndex(128, 42, 3)
    bulk.add(ids, sigs, list(range(600)), [50] * 600)  # sorted at once
    for i in range(600):  # one by one: the pending dict, then sorts
        single.add([ids[i]], sigs[i : i + 1], [i], [50])
    for index in (bulk, single):
        found = [index.ids[r] for r in index.query(sigs[0])]
        assert found == ["a0", "a1"]
        assert index.jaccard(sigs[0], index.query(sigs[0])).tolist()[0] == 1.0
        index.remove("a1")
        assert [index.ids[r] for r in index.query(sigs[0])] == ["a0"]
        index.add(["a1"], sigs[1:2], [1], [50])  # back, in a new row
        assert sorted(index.ids[r] for r in index.query(sigs[0])) == ["a0", "a1"]
