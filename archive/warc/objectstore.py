"""S3-compatible object storage: the second way a cluster worker's WARC files reach the
ingest (``[cluster] warc_store = "s3://bucket/prefix"``), beside a shared directory.

The client is **boto3** (AWS's own SDK, maintained, and the one every S3-compatible server
is tested against: MinIO, Ceph RGW, Garage, SeaweedFS, R2, moto). It reads the endpoint and
the credentials from the standard environment (``AWS_ENDPOINT_URL`` or
``AWS_ENDPOINT_URL_S3``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``) or any other place boto3 looks (``~/.aws``, an instance role), so
nothing of it is in mediawatch's config. It is imported only when a store is configured.

* **Workers** upload each *closed* WARC file (never an ``.open`` one) to
  ``<prefix>/<worker>/<file name>``, with its SHA-256 in the object's metadata
  (:func:`upload`), the crawl's capture files before its crawl-state file.
* **The ingest** lists the prefix and downloads every object it does not have yet into
  ``<warc dir>/<worker>/<file name>`` (:func:`download_new`): to a temporary name (which no
  WARC listing picks up), checked against the listed size and the SHA-256, then renamed, so
  the ingest never reads a half-downloaded file. A half-*uploaded* object is never seen:
  S3 makes an object visible only once its PUT (or multipart upload) is complete, and a
  listing holds only visible objects.

Objects are never deleted here: the bucket keeps them as the record (a lifecycle rule may
expire them once the ingest has them; the archive's own WARC folder holds every file).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

__all__ = ["StoreLocation", "download_new", "list_objects", "s3_client", "upload"]

log = logging.getLogger(__name__)

#: The metadata key (``x-amz-meta-sha256``) of an uploaded file's digest.
DIGEST_KEY = "sha256"
# Worker folder and file names as mediawatch writes them: no path separators, no "..".
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class StoreLocation:
    """A bucket and a key prefix (no leading or trailing slash; may be empty)."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, url: str) -> StoreLocation:
        """``s3://bucket/some/prefix`` -> ``StoreLocation("bucket", "some/prefix")``."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        return cls(parts.netloc, parts.path.strip("/"))

    def key(self, worker: str, name: str) -> str:
        """The object key of WARC file ``name`` written by ``worker``."""
        if not (_PART.match(worker) and _PART.match(name)):
            raise ValueError(f"not a worker/file name pair: {worker!r}/{name!r}")
        return "/".join(p for p in (self.prefix, worker, name) if p)

    def relative(self, key: str) -> tuple[str, str] | None:
        """``(worker, name)`` of an object key under this prefix, None for any other key."""
        rest = key[len(self.prefix) + 1:] if self.prefix else key
        if self.prefix and not key.startswith(self.prefix + "/"):
            return None
        worker, _, name = rest.partition("/")
        if not (_PART.match(worker) and _PART.match(name)):
            return None
        return worker, name


def s3_client() -> Any:
    """A boto3 S3 client configured from the environment (module docstring)."""
    import boto3

    return boto3.session.Session().client("s3")


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, hex."""
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def upload(client: Any, where: StoreLocation, worker: str, path: Path) -> str:
    """Upload the closed WARC file ``path`` as ``worker``'s; its object key. Uploading a
    file again writes the same object (the ingest takes whichever it sees first)."""
    if path.name.endswith(".open"):
        raise ValueError(f"{path.name}: an open WARC file is never uploaded")
    key = where.key(worker, path.name)
    client.upload_file(str(path), where.bucket, key,
                       ExtraArgs={"Metadata": {DIGEST_KEY: file_digest(path)}})
    return key


def list_objects(client: Any, where: StoreLocation) -> Iterator[tuple[str, str, str, int]]:
    """``(key, worker, name, size)`` of every WARC file object under the prefix."""
    paginator = client.get_paginator("list_objects_v2")
    prefix = f"{where.prefix}/" if where.prefix else ""
    for page in paginator.paginate(Bucket=where.bucket, Prefix=prefix):
        for obj in page.get("Contents") or []:
            found = where.relative(obj["Key"])
            if found is None or not found[1].endswith((".warc.gz", ".warc")):
                continue
            yield obj["Key"], found[0], found[1], int(obj["Size"])


def download_new(client: Any, where: StoreLocation, warc_dir: Path,
                 have: Callable[[str], bool] = lambda name: False) -> list[Path]:
    """Download every WARC file object not yet in ``warc_dir/<worker>/`` (and of which
    ``have(name)`` is false: the ledger's loaded files) atomically; the paths written.

    A download whose size or SHA-256 differs from the object's is removed and tried again
    at the next call (logged); other objects go on."""
    written: list[Path] = []
    for key, worker, name, size in list_objects(client, where):
        target = warc_dir / worker / name
        if target.exists() or have(name):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        # Not *.warc.gz: no WARC listing (the ingest's, `mediawatch cluster`'s) sees it.
        temp = target.with_name(f"{name}.{os.getpid()}.part")
        try:
            head = client.head_object(Bucket=where.bucket, Key=key)
            want = (head.get("Metadata") or {}).get(DIGEST_KEY)
            client.download_file(where.bucket, key, str(temp))
            got_size = temp.stat().st_size
            if got_size != size or (want is not None and file_digest(temp) != want):
                raise ValueError(f"{got_size} bytes, sha256 {file_digest(temp)[:12]}; "
                                 f"the object has {size} bytes, sha256 {(want or '?')[:12]}")
            os.replace(temp, target)
            written.append(target)
        except Exception as exc:  # boto3's errors, I/O, a bad copy: next round again
            log.error("%s: not downloaded (%s)", key, exc)
        finally:
            temp.unlink(missing_ok=True)
    return sorted(written, key=lambda p: p.name)
