"""Seal a WACZ that py-wacz wrote: add the WARCs' timestamp tokens and sign the package.

py-wacz writes the WACZ (its WARCs, index, pages and ``datapackage.json``) but signs only by
calling a signing web service (authsign). :func:`seal_wacz` rewrites the zip once: every
member is copied as it is (the WARCs stay stored, uncompressed, as WACZ requires), the
tokens are added as ``timestamps/<warc name>.tsr`` and listed in ``datapackage.json`` with
their SHA-256 like every other file, and ``datapackage-digest.json`` gets the hash of the
new ``datapackage.json`` and, with a key, the anonymous ``signedData``
(:func:`archive.evidence.signing.sign_hash`). ``wacz validate`` still accepts the result.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from archive.evidence.signing import sign_hash

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey

__all__ = ["DATAPACKAGE", "DIGEST", "TIMESTAMPS", "seal_wacz"]

DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
#: The folder of the WACZ that holds ``<warc name>.tsr`` tokens.
TIMESTAMPS = "timestamps/"


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def seal_wacz(path: str | Path, tokens: Mapping[str, bytes],
              key: EllipticCurvePrivateKey | None, software: str = "mediawatch") -> None:
    """Add ``tokens`` (WARC base name -> token) to the WACZ at ``path`` and sign it with
    ``key`` (None: tokens and digest only). The file is replaced in one rename."""
    path = Path(path)
    tmp = path.with_name(path.name + ".sealing")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as out:
        package = json.loads(src.read(DATAPACKAGE))
        for info in src.infolist():
            if info.filename in (DATAPACKAGE, DIGEST):
                continue
            with src.open(info) as reader, out.open(info, "w") as writer:
                shutil.copyfileobj(reader, writer, 1024 * 1024)
        for name, token in sorted(tokens.items()):
            member = TIMESTAMPS + name + ".tsr"
            out.writestr(zipfile.ZipInfo(member, _zip_time(package)), token)
            package["resources"].append({"name": name + ".tsr", "path": member,
                                         "hash": _sha256(token), "bytes": len(token)})
        package_bytes = json.dumps(package, indent=2).encode("utf-8")
        digest: dict[str, object] = {"path": DATAPACKAGE, "hash": _sha256(package_bytes)}
        if key is not None:
            digest["signedData"] = sign_hash(str(digest["hash"]), package["created"], key,
                                             software)
        out.writestr(zipfile.ZipInfo(DATAPACKAGE, _zip_time(package)), package_bytes,
                     zipfile.ZIP_DEFLATED)
        out.writestr(zipfile.ZipInfo(DIGEST, _zip_time(package)),
                     json.dumps(digest, indent=2), zipfile.ZIP_DEFLATED)
    os.replace(tmp, path)


def _zip_time(package: dict[str, object]) -> tuple[int, int, int, int, int, int]:
    # The package's own creation time, so that the members' dates agree with it.
    created = str(package.get("created") or "1980-01-01T00:00:00Z")
    date, _, clock = created.rstrip("Z").partition("T")
    y, mo, d = (int(x) for x in date.split("-"))
    h, mi, s = (int(float(x)) for x in (clock or "0:0:0").split(":"))
    return (y, mo, d, h, mi, s)
