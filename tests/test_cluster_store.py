"""The cluster's WARC hand-off pieces against real servers on 127.0.0.1: the S3 object
store (moto's server mode; :mod:`archive.warc.objectstore`, the worker's
:class:`scheduler.cluster.publish.Publisher`) and the ingest's recovery of the ``.open``
files of dead workers (a real ``redis-server``; :mod:`scheduler.cluster.ingestside`).
The end-to-end runs with workers and an ingest are in ``tests/test_cluster.py``."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from archive.config.cluster import ClusterSettings
from archive.config.files import ConfigError
from archive.config.sources import parse_sources
from archive.store.db import Archive
from archive.warc.crawlstate import write_crawl_state
from archive.warc.objectstore import StoreLocation, download_new, list_objects, upload
from archive.warc.reader import list_warcs
from archive.warc.writer import RotatingWarcWriter
from crawler.ingest import ingest_files
from scheduler.cluster import connect
from scheduler.cluster.ingestside import orphan_source, recover_orphans
from scheduler.cluster.lease import SourceLease
from scheduler.cluster.publish import Publisher
from tests.redis_server import RedisServer
from tests.s3_server import S3Server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BUCKET = "mediawatch-test"
WHERE = StoreLocation(BUCKET, "desk/warcs")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
SOURCE = '[[source]]\nid = "a"\nname = "A"\nfeeds = ["https://a.example/rss"]\n'


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = S3Server(tmp_path_factory.mktemp("s3")).start()
    server.client().create_bucket(Bucket=BUCKET)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def client(s3: S3Server) -> Iterator[Any]:
    """The server's client, the bucket emptied after each test."""
    c = s3.client()
    yield c
    for obj in c.list_objects_v2(Bucket=BUCKET).get("Contents") or []:
        c.delete_object(Bucket=BUCKET, Key=obj["Key"])


def closed_warc(folder: Path, source: str, payload: bytes = b"<p>story</p>") -> Path:
    writer = RotatingWarcWriter(folder, source, host="h")
    writer.write_resource(f"https://{source}.example/story", payload, "text/html", NOW)
    closed = writer.close()
    assert closed is not None
    return closed


def open_warc(folder: Path, source: str) -> Path:
    """A WARC file left ``.open`` by a writer that died after one complete record."""
    writer = RotatingWarcWriter(folder, source, host="h")
    writer.write_resource(f"https://{source}.example/story", b"<p>story</p>", "text/html",
                          NOW)
    assert writer._file is not None
    writer._file.flush()
    (found,) = folder.glob("*.open")
    return found


def test_store_urls_and_keys() -> None:
    assert StoreLocation.parse("s3://bucket/a/b/") == StoreLocation("bucket", "a/b")
    assert StoreLocation.parse("s3://bucket") == StoreLocation("bucket", "")
    assert WHERE.key("w1", "a-1.warc.gz") == "desk/warcs/w1/a-1.warc.gz"
    assert WHERE.relative("desk/warcs/w1/a-1.warc.gz") == ("w1", "a-1.warc.gz")
    assert WHERE.relative("desk/other/w1/a-1.warc.gz") is None
    assert WHERE.relative("desk/warcs/w1/sub/a-1.warc.gz") is None
    assert WHERE.relative("desk/warcs/../x/a.warc.gz") is None
    with pytest.raises(ValueError, match="not an s3"):
        StoreLocation.parse("/mnt/warcs")
    with pytest.raises(ValueError, match="worker/file"):
        WHERE.key("..", "a.warc.gz")


def test_warc_store_key_in_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MEDIAWATCH_REDIS_URL", raising=False)
    config = parse_sources('[cluster]\nredis_url = "redis://10.0.0.5/0"\n'
                           'warc_store = "s3://archive/warcs"\n' + SOURCE)
    assert config.cluster == ClusterSettings("redis://10.0.0.5/0", warc_store="s3://archive/warcs")
    monkeypatch.setenv("MEDIAWATCH_REDIS_URL", "redis://127.0.0.1/0")
    assert config.cluster_settings.warc_store == "s3://archive/warcs"  # kept by the env
    with pytest.raises(ConfigError) as err:
        parse_sources('[cluster]\nwarc_store = "/mnt/warcs"\n' + SOURCE, "sources.toml")
    assert err.value.key == "cluster.warc_store"


def test_uploaded_files_are_downloaded_once_and_whole(client: Any, tmp_path: Path) -> None:
    spool = tmp_path / "spool" / "w1"
    files = [closed_warc(spool, "a"), closed_warc(spool, "b", b"<p>other</p>" * 5000)]
    for path in files:
        upload(client, WHERE, "w1", path)
    with pytest.raises(ValueError, match="open WARC"):
        upload(client, WHERE, "w1", open_warc(tmp_path / "spool" / "w2", "c"))
    archive = tmp_path / "archive" / "warcs"
    got = download_new(client, WHERE, archive)
    assert [p.relative_to(archive).as_posix() for p in got] == \
        sorted(f"w1/{p.name}" for p in files)
    for path in files:
        assert (archive / "w1" / path.name).read_bytes() == path.read_bytes()
    assert download_new(client, WHERE, archive) == []  # already there
    # A file the ledger has (its copy deleted since) is not fetched again.
    (archive / "w1" / files[0].name).unlink()
    assert download_new(client, WHERE, archive, {files[0].name}.__contains__) == []


def test_a_half_uploaded_object_is_never_downloaded(client: Any, tmp_path: Path) -> None:
    path = closed_warc(tmp_path / "spool" / "w1", "a", os.urandom(6_000_000))  # 2 parts
    key = WHERE.key("w1", path.name)
    body = path.read_bytes()
    part_size = 5 * 1024 * 1024  # S3's smallest part but the last
    upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    first = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1,
                               Body=body[:part_size])
    archive = tmp_path / "archive" / "warcs"
    assert download_new(client, WHERE, archive) == []  # one part up: nothing to see
    assert list_warcs(archive) == []
    second = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=2,
                                Body=body[part_size:])
    client.complete_multipart_upload(
        Bucket=BUCKET, Key=key, UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first["ETag"]},
                                   {"PartNumber": 2, "ETag": second["ETag"]}]})
    (got,) = download_new(client, WHERE, archive)
    assert got.read_bytes() == body


def test_a_bad_copy_is_never_put_in_place(client: Any, tmp_path: Path) -> None:
    path = closed_warc(tmp_path / "spool" / "w1", "a")
    client.put_object(Bucket=BUCKET, Key=WHERE.key("w1", path.name), Body=path.read_bytes(),
                      Metadata={"sha256": "0" * 64})  # what the worker said it sent
    archive = tmp_path / "archive" / "warcs"
    assert download_new(client, WHERE, archive) == []
    assert not list((archive / "w1").iterdir())  # no file, no temporary left
    upload(client, WHERE, "w1", path)  # the worker uploads it again: now it is whole
    assert [p.name for p in download_new(client, WHERE, archive)] == [path.name]


class Recording:
    """The real client, noting the order of the uploads."""

    def __init__(self, client: Any):
        self.client = client
        self.keys: list[str] = []

    def upload_file(self, filename: str, bucket: str, key: str, **kwargs: Any) -> None:
        self.keys.append(key.rsplit("/", 1)[1])
        self.client.upload_file(filename, bucket, key, **kwargs)


def test_publisher_uploads_closed_files_state_last_and_empties_the_spool(
        client: Any, tmp_path: Path) -> None:
    folder = tmp_path / "spool" / "w1"
    recorder = Recording(client)
    publisher = Publisher(f"s3://{BUCKET}/desk/warcs", folder, interval=0.05, client=recorder)
    publisher.start()
    first = closed_warc(folder, "a")
    deadline = time.monotonic() + 60
    while first.name not in recorder.keys:  # uploaded while the crawl goes on
        assert time.monotonic() < deadline, "the closed file was not uploaded"
        time.sleep(0.05)
    still_open = open_warc(tmp_path / "spool" / "w1", "b")
    state = write_crawl_state(folder, "a", {"source": "a"}, NOW, host="h")
    second = closed_warc(folder, "a")
    recovered = closed_warc(tmp_path / "spool" / "dead", "a")
    assert publisher.finish([recovered]) == []
    # The rest in name order (times in the names), the crawl state last.
    assert recorder.keys == [first.name, *sorted([recovered.name, second.name]), state.name]
    stored = {(w, n) for _, w, n, _ in list_objects(client, WHERE)}
    assert stored == {("w1", first.name), ("w1", second.name), ("w1", state.name),
                      ("dead", recovered.name)}
    assert sorted(p.name for p in folder.iterdir()) == [still_open.name]  # never uploaded
    assert not recovered.exists()


def test_the_ingest_recovers_the_open_file_of_a_dead_worker(tmp_path: Path) -> None:
    assert orphan_source("north-wind-20261202120000000-00000-h.warc.gz.open") == "north-wind"
    assert orphan_source("a-crawlstate-20261202120000000-00000-h.warc.gz.open") == "a"
    assert orphan_source("a-20261202120000000-00000-h.warc.gz") is None
    server = RedisServer(tmp_path / "redis").start()
    try:
        redis = connect(server.url)
        settings = ClusterSettings(server.url, "q", 3.0)
        warcs = tmp_path / "warcs"
        held, free = open_warc(warcs / "w1", "held"), open_warc(warcs / "w2", "free")
        recent = open_warc(warcs / "w3", "recent")
        old = time.time() - 60
        for path in (held, free):
            os.utime(path, (old, old))
        worker = SourceLease(redis, "q", "held", "a live worker", 30)
        assert worker.acquire()  # its crawl goes on: the file is its own
        assert recover_orphans(redis, settings, warcs) == [free.with_suffix("")]
        assert held.exists()
        assert recent.exists()
        assert not free.exists()
        assert [p.name for p in list_warcs(warcs)] == [free.with_suffix("").name]
        assert worker.holder() == "a live worker"
        assert SourceLease(redis, "q", "free", "x", 3).holder() is None  # released
    finally:
        server.stop()


def test_cluster_status_counts_the_objects_not_loaded(client: Any, s3: S3Server,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from scheduler.cluster.status import store_backlog

    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    path = closed_warc(tmp_path / "spool" / "w1", "a")
    upload(client, WHERE, "w1", path)
    url = f"s3://{BUCKET}/desk/warcs"
    assert store_backlog(url, tmp_path / "archive.db") == (1, path.stat().st_size)
    with Archive(tmp_path / "archive.db") as archive:
        ingest_files(archive, download_new(client, WHERE, tmp_path / "warcs"), None)
    assert store_backlog(url, tmp_path / "archive.db") == (0, 0)
