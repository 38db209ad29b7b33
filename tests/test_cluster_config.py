"""``[cluster]`` in the sources file and ``MEDIAWATCH_REDIS_URL``: parsed, checked, off by
default; the crawl-state snapshot and record round trip (no Redis needed here)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from archive.config.cluster import ClusterSettings
from archive.config.files import ConfigError
from archive.config.sources import parse_sources
from archive.models import FetchState, SourceState
from archive.store.crawlstate import CrawlState, save_states
from archive.store.db import Archive
from archive.store.snapshot import pack_snapshot, unpack_snapshot, write_snapshot
from archive.store.workerstate import apply_crawl_state, state_payload
from archive.warc.crawlstate import is_state_file, read_crawl_state, write_crawl_state
from crawler.ingest import ingest_files, ingest_order

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
SOURCE = '[[source]]\nid = "a"\nname = "A"\nfeeds = ["https://a.example/rss"]\n'
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def test_no_cluster_table_means_no_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAWATCH_REDIS_URL", raising=False)
    config = parse_sources(SOURCE)
    assert config.cluster == ClusterSettings()
    assert not config.cluster_settings.enabled


def test_cluster_table_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAWATCH_REDIS_URL", raising=False)
    config = parse_sources('[cluster]\nredis_url = "redis://10.0.0.5:6379/1"\n'
                           'queue = "desk"\nlease = "90s"\n' + SOURCE)
    assert config.cluster_settings == ClusterSettings("redis://10.0.0.5:6379/1", "desk", 90.0)
    assert config.cluster_settings.enabled


def test_environment_switches_the_cluster_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAWATCH_REDIS_URL", "redis://127.0.0.1:7000/0")
    config = parse_sources('[cluster]\nqueue = "desk"\n' + SOURCE)
    assert config.cluster_settings == ClusterSettings("redis://127.0.0.1:7000/0", "desk")


@pytest.mark.parametrize(("table", "key"), [
    ('redis_url = "http://x"', "cluster.redis_url"),
    ('redis = "redis://x"', "cluster.redis"),
    ('lease = "1s"', "cluster.lease"),
    ('lease = "soon"', "cluster.lease"),
    ('queue = ""', "cluster.queue"),
], ids=["not-redis", "unknown-key", "lease-too-short", "lease-not-duration", "empty-queue"])
def test_bad_cluster_values_are_errors(table: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_sources(f"[cluster]\n{table}\n" + SOURCE, "sources.toml")
    assert err.value.key == key


@pytest.mark.parametrize("key", sorted(ClusterSettings.__slots__))
def test_cluster_key_is_documented(key: str) -> None:
    assert f"\n{key} = " in README


def test_snapshot_carries_the_source_state_only(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        save_states(archive, [FetchState("https://a.example/rss", "a", "feed", etag='"1"'),
                              FetchState("https://b.example/rss", "b", "feed", etag='"2"')],
                    SourceState("a", "failing", 2, NOW, "503"), NOW)
    snap = write_snapshot(tmp_path / "archive.db", "a", tmp_path / "snap" / "a.db")
    copy = unpack_snapshot(pack_snapshot(snap), tmp_path / "worker" / "a.db")
    view = CrawlState(copy)
    try:
        state = view.fetch_state("https://a.example/rss")
        assert state is not None
        assert state.etag == '"1"'
        assert view.fetch_state("https://b.example/rss") is None  # another source's
    finally:
        view.close()
    # No archive yet: an empty snapshot, which knows nothing.
    empty = write_snapshot(tmp_path / "none.db", "a", tmp_path / "snap" / "empty.db")
    view = CrawlState(empty)
    assert view.fetch_state("https://a.example/rss") is None
    view.close()


def test_crawl_state_record_takes_effect_at_ingest(tmp_path: Path) -> None:
    fetch = FetchState("https://a.example/rss", "a", "feed", etag='"9"', digest="sha1:X",
                       next_fetch=NOW)
    retry = FetchState("https://a.example/x", "a", "retry", next_fetch=NOW)
    run = {"source": "a", "started": NOW.isoformat(), "finished": NOW.isoformat(),
           "status": "ok", "pages": 3}
    payload = state_payload("a", [fetch, retry], SourceState("a"), run,
                            ["a-20261202120000000-00000-h.warc.gz"], True, NOW)
    path = write_crawl_state(tmp_path / "warcs" / "w1", "a", payload, NOW, host="h")
    assert is_state_file(path.name)
    assert ingest_order(path) > ingest_order(Path("a-20261202115959000-00003-h.warc.gz"))
    assert read_crawl_state(path) == [payload]
    with Archive(tmp_path / "archive.db") as archive:
        # The capture file it names is not loaded: only the Retry-After mark takes effect.
        assert apply_crawl_state(archive, payload) == 1
        # Loaded through the ingest (as the ledger's complete file, once): the run is
        # logged once however often the record is applied.
        archive.db.execute("INSERT INTO warc_files (name, records, loaded_to, complete)"
                           " VALUES ('a-20261202120000000-00000-h.warc.gz', 1, 1, 1)")
        ingest_files(archive, [path], None)
        stored = archive.db.execute("SELECT etag FROM fetch_state WHERE url = ?",
                                    [fetch.url]).fetchone()
        assert stored[0] == '"9"'
        assert [r["source"] for r in archive.runs("a")] == ["a"]
