"""Evidence: RFC 3161 tokens of closed WARC files, signed WACZ exports, ``mediawatch verify``.

A real TSA (``openssl ts -reply`` behind an HTTP server on 127.0.0.1, with a CA the tests
make; :mod:`tests.tsa`), real crawls of the sample newsroom, real WARC and WACZ files, and
tampering with one byte of each kind of file.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
import stat
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.config.files import ConfigError
from archive.config.sources import parse_config
from archive.evidence.signing import key_fingerprint, load_signing_key
from archive.evidence.timestamps import (
    TimestampQueue,
    check_token,
    file_sha256,
    load_certificates,
    timestamp_request,
    token_path,
)
from archive.evidence.verify import verify_file
from archive.store.db import Archive
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.ingest import ingest_files
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import MEDIAWATCH
from tests.tsa import OPENSSL, LocalTsa, TsaFiles, free_port, make_tsa_ca

pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is needed")

BIN = Path(sys.executable).parent
BASE = "http://127.0.0.1:1"
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def run(*args: str, config: Path | None = None, data: Path | None = None,
        ) -> subprocess.CompletedProcess[str]:
    """``mediawatch`` in a subprocess (exit code not checked)."""
    head = [MEDIAWATCH]
    if config is not None:
        head += ["--config", str(config)]
    if data is not None:
        head += ["--data", str(data)]
    return subprocess.run([*head, *args], capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> TsaFiles:
    """The test CA and TSA certificate, made with openssl."""
    return make_tsa_ca(tmp_path_factory.mktemp("tsa"))


def article(n: int) -> bytes:
    paras = "".join(f"<p>Paragraph {i} of story {n}: ministers discussed air defence in "
                    f"Idlib late into the night, officials said.</p>" for i in range(5))
    return (f'<html lang="en"><head><title>Story {n}</title>'
            f'<meta property="og:type" content="article">'
            f'<meta property="article:published_time" content="2024-05-01T09:00:00Z">'
            f"</head><body><article><h1>Story {n} headline</h1>{paras}</article></body></html>"
            ).encode()


def exchange(n: int) -> Exchange:
    return Exchange(url=f"{BASE}/a/{n}.html", method="GET", request_target=f"/a/{n}.html",
                    request_headers=(("Host", "127.0.0.1:1"),), protocol="HTTP/1.1",
                    status=200, reason="OK",
                    headers=(("Content-Type", "text/html; charset=utf-8"),), body=article(n),
                    fetched_at=T0 + timedelta(seconds=n), metadata={"source": "wire",
                                                                    "kind": "article"})


def flip(path: Path, offset: int) -> None:
    """Change one bit of one byte of ``path``, in place."""
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


# -- the request and the token
def test_timestamp_request_is_a_query_openssl_reads(tmp_path: Path) -> None:
    digest = bytes(range(32))
    query = tmp_path / "q.tsq"
    query.write_bytes(timestamp_request(digest, nonce=0x8123456789ABCDEF))
    text = subprocess.run([str(OPENSSL), "ts", "-query", "-in", str(query), "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "Hash Algorithm: sha256" in text
    assert "00 01 02 03 04 05 06 07-08 09 0a 0b 0c 0d 0e 0f" in text
    assert "Nonce: 0x8123456789ABCDEF" in text
    assert "Certificate required: yes" in text


def test_closed_warc_gets_a_token_openssl_accepts(ca: TsaFiles, tmp_path: Path) -> None:
    with LocalTsa(ca) as tsa:
        queue = TimestampQueue(tsa.url)
        writer = RotatingWarcWriter(tmp_path, "wire", host="test", on_close=queue.submit)
        writer.write_exchange(exchange(0))
        warc = writer.close()
        report = queue.close(30)
    assert warc is not None
    assert report.stamped == [token_path(warc)]
    assert report.errors == []
    done = subprocess.run([str(OPENSSL), "ts", "-verify", "-in", str(token_path(warc)),
                           "-data", str(warc), "-CAfile", str(ca.ca_pem)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "Verification: OK" in done.stdout
    check = check_token(token_path(warc).read_bytes(), file_sha256(warc),
                        load_certificates(ca.ca_pem))
    assert check.ok
    assert check.trusted
    assert check.tsa == "CN=mediawatch test TSA"


def test_closing_a_file_never_waits_for_the_tsa(ca: TsaFiles, tmp_path: Path) -> None:
    """The TSA holds its answer until the file is closed and the next one written: the
    writer went on meanwhile, and the token arrives afterwards."""
    gate = threading.Event()
    with LocalTsa(ca, gate=gate) as tsa:
        queue = TimestampQueue(tsa.url)
        writer = RotatingWarcWriter(tmp_path, "wire", host="test", max_size=1,
                                    on_close=queue.submit)
        writer.write_exchange(exchange(0))  # max_size=1: closed right after this exchange
        first = writer.closed_files[0]
        writer.write_exchange(exchange(1))
        assert len(writer.closed_files) == 2
        assert not token_path(first).exists()  # the TSA has not answered yet
        gate.set()
        report = queue.close(30)
    assert report.stamped == [token_path(p) for p in writer.closed_files]


def test_a_token_from_another_ca_is_not_trusted(ca: TsaFiles, tmp_path: Path) -> None:
    other = make_tsa_ca(tmp_path / "other")
    warc = tmp_path / "x.warc.gz"
    warc.write_bytes(b"x" * 100)
    with LocalTsa(ca) as tsa:
        from archive.evidence.timestamps import stamp_file

        stamp_file(warc, tsa.url)
    check = check_token(token_path(warc).read_bytes(), file_sha256(warc),
                        load_certificates(other.ca_pem))
    assert not check.ok
    assert "trusted TSA root" in str(check.problem)


# -- crawls: the TSA down, then back
@dataclass
class Crawl:
    config: Path
    data: Path

    @property
    def warcs(self) -> list[Path]:
        return sorted((self.data / "warcs").glob("*.warc.gz"))


def evidence_config(newsroom: Newsroom, tsa_port: int, ca: TsaFiles, key: Path | None,
                    folder: Path) -> Path:
    config = folder / "sources.toml"
    table = (f'\n[evidence]\ntsa_url = "http://127.0.0.1:{tsa_port}/tsa"\n'
             f'tsa_ca = "{ca.ca_pem}"\n')
    if key is not None:
        table += f'signing_key = "{key.name}"\n'  # relative: read from the config's folder
    config.write_text(render_sources(newsroom.base_url) + table, encoding="utf-8")
    return config


def test_tsa_down_never_fails_a_crawl_and_ingest_fetches_the_tokens_later(
        ca: TsaFiles, tmp_path: Path) -> None:
    port = free_port()
    with Newsroom() as newsroom:
        crawl = Crawl(evidence_config(newsroom, port, ca, None, tmp_path), tmp_path / "data")
        first = run("crawl", config=crawl.config, data=crawl.data)
        assert first.returncode == 0, first.stderr
        assert crawl.warcs, "the crawl wrote WARC files"
        assert not any(token_path(w).exists() for w in crawl.warcs)
        with LocalTsa(ca, port) as tsa:
            later = run("ingest", config=crawl.config, data=crawl.data)
            assert later.returncode == 0, later.stderr
            assert f"timestamped {len(crawl.warcs)} WARC file(s)" in later.stdout
            assert all(token_path(w).exists() for w in crawl.warcs)
            before = set(crawl.warcs)
            newsroom.edition = 2
            second = run("crawl", config=crawl.config, data=crawl.data)
            assert second.returncode == 0, second.stderr
            new = set(crawl.warcs) - before
            assert new
            assert all(token_path(w).exists() for w in new)
            assert len(tsa.requests) == len(crawl.warcs)
    verified = run("verify", *map(str, crawl.warcs), config=crawl.config)
    assert verified.returncode == 0, verified.stdout
    lines = verified.stdout.splitlines()
    assert len(lines) == len(crawl.warcs)
    assert all(": ok (" in line and "by CN=mediawatch test TSA" in line for line in lines)
    assert "not checked" not in verified.stdout


# -- verify catches one changed byte
@pytest.fixture
def stamped_warc(ca: TsaFiles, tmp_path: Path) -> Path:
    with LocalTsa(ca) as tsa:
        queue = TimestampQueue(tsa.url)
        writer = RotatingWarcWriter(tmp_path / "warcs", "wire", host="test",
                                    on_close=queue.submit)
        for n in range(3):
            writer.write_exchange(exchange(n))
        warc = writer.close()
        queue.close(30)
    assert warc is not None
    assert token_path(warc).exists()
    return warc


def test_verify_accepts_an_untouched_warc(stamped_warc: Path, ca: TsaFiles) -> None:
    verdict = verify_file(stamped_warc, load_certificates(ca.ca_pem))
    assert verdict.ok, verdict.line()
    assert verdict.notes[0] == "10 records"


def test_verify_catches_a_changed_byte_in_a_warc(stamped_warc: Path, ca: TsaFiles) -> None:
    flip(stamped_warc, stamped_warc.stat().st_size // 2)
    result = run("verify", "--tsa-ca", str(ca.ca_pem), str(stamped_warc))
    assert result.returncode == 1
    line = result.stdout.strip()
    assert line.startswith(f"{stamped_warc}: ")
    assert ": ok" not in line
    # The token no longer matches the file, whatever else the damage did.
    assert "differs from the one the token was issued for" in line


def test_verify_catches_a_changed_payload_by_its_digest(tmp_path: Path) -> None:
    """An uncompressed WARC whose payload changed: only the record digests can tell."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="WARC/1.1")
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(
        f"{BASE}/a.html", "response", payload=io.BytesIO(article(1)),
        length=len(article(1)), http_headers=http))
    warc = tmp_path / "plain.warc"
    warc.write_bytes(out.getvalue().replace(b"Paragraph 3 of story 1", b"Paragraph 3 of story 7"))
    verdict = verify_file(warc)
    assert not verdict.ok
    assert "payload digest failed" in verdict.line() or "block digest failed" in verdict.line()
    assert "at offset 0" in verdict.line()


def test_verify_catches_a_changed_byte_in_a_token(stamped_warc: Path, ca: TsaFiles) -> None:
    token = token_path(stamped_warc)
    found = re.search(rb"\x18\x0f(\d{14})Z", token.read_bytes())  # the TSA's genTime
    assert found is not None
    flip(token, found.start(1) + 13)  # the last digit of the seconds
    result = run("verify", "--tsa-ca", str(ca.ca_pem), str(stamped_warc))
    assert result.returncode == 1
    assert f"{token.name}: token not valid: the TSA's signature does not match" in result.stdout


# -- signed WACZ exports
@dataclass
class Exported:
    wacz: Path
    key: Path
    warcs: list[Path]
    config: Path
    data: Path


@pytest.fixture
def exported(ca: TsaFiles, tmp_path: Path) -> Exported:
    """An archive of three stories in two timestamped WARC files, exported signed."""
    key = tmp_path / "signing.pem"
    made = run("keygen", str(key))
    assert made.returncode == 0, made.stderr
    data = tmp_path / "data"
    with LocalTsa(ca) as tsa:
        queue = TimestampQueue(tsa.url)
        warcs = []
        for n in range(2):
            writer = RotatingWarcWriter(data / "warcs", "wire", host=f"h{n}",
                                        on_close=queue.submit)
            writer.write_exchange(exchange(n))
            if n == 1:
                writer.write_exchange(exchange(2))
            warcs.append(writer.close())
        queue.close(30)
        config = tmp_path / "sources.toml"
        config.write_text(f'[[source]]\nid = "wire"\nfeeds = ["{BASE}/rss.xml"]\n'
                          f'language = "en"\n\n[evidence]\ntsa_url = "{tsa.url}"\n'
                          f'tsa_ca = "{ca.ca_pem}"\nsigning_key = "signing.pem"\n',
                          encoding="utf-8")
    with Archive(data / "archive.db") as archive:
        ingest_files(archive, [w for w in warcs if w], parse_config(config.read_text()),
                     workers=1)
    wacz = tmp_path / "out.wacz"
    done = run("export", "--format", "wacz", "--sign", "--query", "Idlib", "--output",
               str(wacz), config=config, data=data)
    assert done.returncode == 0, done.stderr
    assert "signed, 2 timestamp tokens" in done.stderr
    return Exported(wacz, key, [w for w in warcs if w], config, data)


def test_signed_export_carries_tokens_and_a_valid_signature(exported: Exported) -> None:
    with zipfile.ZipFile(exported.wacz) as zf:
        names = set(zf.namelist())
        digest = json.loads(zf.read("datapackage-digest.json"))
        package = json.loads(zf.read("datapackage.json"))
        for warc in exported.warcs:
            # Whole files: the token covers the bytes in the package.
            assert zf.read(f"archive/{warc.name}") == warc.read_bytes()
            assert zf.read(f"timestamps/{warc.name}.tsr") == token_path(warc).read_bytes()
    assert {f"timestamps/{w.name}.tsr" for w in exported.warcs} <= names
    signed = digest["signedData"]
    assert signed["hash"] == digest["hash"]
    assert signed["created"] == package["created"]
    public = load_signing_key(exported.key).public_key()
    assert base64.b64decode(signed["publicKey"]) == public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    # Checked here as third-party verifiers of ArchiveWeb.page's signatures do: ECDSA with
    # SHA-256 over the hash string, the signature as raw r || s.
    raw = base64.b64decode(signed["signature"])
    half = len(raw) // 2
    public.verify(encode_dss_signature(int.from_bytes(raw[:half], "big"),
                                       int.from_bytes(raw[half:], "big")),
                  signed["hash"].encode(), ec.ECDSA(hashes.SHA256()))
    result = run("verify", str(exported.wacz), config=exported.config)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"{exported.wacz}: ok (2 WARC files, 11 records")
    assert f"signed by key {key_fingerprint(public)}" in result.stdout
    assert result.stdout.count("timestamp 20") == 2


def test_wacz_validate_accepts_the_signed_export(exported: Exported) -> None:
    done = subprocess.run([str(BIN / "wacz"), "validate", "-f", str(exported.wacz)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def _member_data_offset(wacz: Path, name: str) -> tuple[int, int]:
    with zipfile.ZipFile(wacz) as zf:
        info = zf.getinfo(name)
    with open(wacz, "rb") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(fh.read(2), "little"), \
            int.from_bytes(fh.read(2), "little")
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def test_verify_catches_a_changed_byte_in_a_wacz(exported: Exported) -> None:
    member = f"archive/{exported.warcs[0].name}"
    start, size = _member_data_offset(exported.wacz, member)
    flip(exported.wacz, start + size // 2)
    result = run("verify", str(exported.wacz), config=exported.config)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{exported.wacz}: {member}:")


def test_verify_catches_a_rewritten_datapackage(exported: Exported, tmp_path: Path) -> None:
    """Re-zipped with one word of datapackage.json changed: the signed digest catches it."""
    forged = tmp_path / "forged.wacz"
    with zipfile.ZipFile(exported.wacz) as src, zipfile.ZipFile(forged, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "datapackage.json":
                data = data.replace(b"mediawatch export", b"mediawatch exports")
            out.writestr(info, data)
    result = run("verify", str(forged), str(exported.wacz), config=exported.config)
    assert result.returncode == 1
    first, second = result.stdout.splitlines()
    assert first == (f"{forged}: datapackage.json: SHA-256 differs from"
                     " datapackage-digest.json")
    assert second.startswith(f"{exported.wacz}: ok")


def test_verify_catches_a_changed_signature(exported: Exported, tmp_path: Path) -> None:
    forged = tmp_path / "resigned.wacz"
    with zipfile.ZipFile(exported.wacz) as src, zipfile.ZipFile(forged, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "datapackage-digest.json":
                digest = json.loads(data)
                raw = bytearray(base64.b64decode(digest["signedData"]["signature"]))
                raw[5] ^= 0x01
                digest["signedData"]["signature"] = base64.b64encode(raw).decode()
                data = json.dumps(digest).encode()
            out.writestr(info, data)
    verdict = verify_file(forged)
    assert verdict.problems == ["datapackage-digest.json: signature does not match the"
                                " public key and hash"]


def test_export_sign_without_a_key_is_a_one_line_error(exported: Exported,
                                                       tmp_path: Path) -> None:
    config = tmp_path / "nokey.toml"
    config.write_text('[[source]]\nid = "wire"\nfeeds = ["http://127.0.0.1:1/rss.xml"]\n',
                      encoding="utf-8")
    done = run("export", "--format", "wacz", "--sign", "--output", str(tmp_path / "x.wacz"),
               config=config, data=exported.data)
    assert done.returncode == 2
    assert "--sign needs [evidence] signing_key" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


# -- keygen and config
def test_keygen_writes_a_private_key_once(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    first = run("keygen", str(key))
    assert first.returncode == 0
    assert first.stdout.startswith(f"wrote {key}: public key sha256:")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    again = run("keygen", str(key))
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert key.read_bytes() == before


def test_evidence_table_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "conf" / "sources.toml"
    config = parse_config('[evidence]\ntsa_url = "http://tsa.example/"\n'
                          'signing_key = "keys/k.pem"\n', path)
    assert config.evidence.tsa_url == "http://tsa.example/"
    assert config.evidence.signing_key == tmp_path / "conf" / "keys" / "k.pem"
    assert config.evidence.tsa_ca is None
    assert parse_config("").evidence.tsa_url is None
    with pytest.raises(ConfigError, match=r"key 'evidence\.tsa'"):
        parse_config('[evidence]\ntsa = "http://x/"\n')
    with pytest.raises(ConfigError, match="not an http"):
        parse_config('[evidence]\ntsa_url = "ftp://x/"\n')


def test_gzip_members_stay_intact_in_the_signed_wacz(exported: Exported) -> None:
    """The WARCs inside stay stored (uncompressed by zip), as replay tools need."""
    with zipfile.ZipFile(exported.wacz) as zf:
        for warc in exported.warcs:
            info = zf.getinfo(f"archive/{warc.name}")
            assert info.compress_type == zipfile.ZIP_STORED
            assert gzip.decompress(zf.read(info))[:8] == b"WARC/1.1"


# -- other tools' files (skipped without ../shared/eval)
EVAL_WARCS = Path(__file__).resolve().parents[2] / "shared" / "eval" / "warcs"


@pytest.mark.eval
@pytest.mark.skipif(not EVAL_WARCS.is_dir(), reason="no ../shared/eval/warcs")
@pytest.mark.parametrize(("name", "expected"), [
    # Signed anonymously by scrapy-webarchive: another tool's signature checks out.
    ("q-m_scrapy-webarchive/tests/data/warc_1_1/quotes.wacz",
     "ok (1 WARC files, 203 records, 1 without digests; signed by key sha256:"),
    # warcio's own test file with a wrong payload digest.
    ("webrecorder_warcio/test/data/example-digest.warc",
     "record <urn:uuid:a9c5c23a-0221-11e7-8fe3-0242ac120007> at offset 0: payload digest"
     " failed"),
    # WACZ 1.0 layout (stats.hash): still checked.
    ("webrecorder_py-wacz/tests/fixtures/valid_example_1.wacz",
     "ok (1 WARC files, 4 records, 2 without digests; not signed)"),
    ("webrecorder_py-wacz/tests/fixtures/valid_signed_example_1.wacz",
     "datapackage-digest.json: signed with a domain certificate (authsign profile)"),
], ids=["signed-wacz", "bad-digest", "wacz-1.0", "authsign-wacz"])
def test_verify_on_other_tools_files(name: str, expected: str) -> None:
    path = EVAL_WARCS / name
    if not path.exists():
        pytest.skip(f"{name} is not in ../shared/eval")
    assert verify_file(path).line().startswith(f"{path}: {expected}")


# -- import of a signed WACZ
def test_import_of_a_signed_wacz_verifies_it_and_keeps_its_tokens(exported: Exported,
                                                                  tmp_path: Path) -> None:
    other = tmp_path / "other"
    done = run("import", str(exported.wacz), config=exported.config, data=other)
    assert done.returncode == 0, done.stderr
    (summary,) = done.stdout.splitlines()
    assert summary.startswith(f"{exported.wacz}: 3 records, 3 articles")
    verified = summary.partition("; verify: ")[2]
    assert verified.startswith("ok (2 WARC files, ")
    assert "signed by key" in verified
    assert "by CN=mediawatch test TSA" in verified  # [evidence] tsa_ca: tokens checked
    imported = sorted((other / "warcs").glob("import-*.warc.gz"))
    assert len(imported) == 2
    assert all(token_path(w).exists() for w in imported)
    # The tokens match the imported files: `verify` checks them later.
    later = run("verify", *map(str, imported), config=exported.config)
    assert later.returncode == 0, later.stdout
    assert all(": ok (" in line and "by CN=mediawatch test TSA" in line
               for line in later.stdout.splitlines())


def test_import_refuses_a_signed_wacz_that_fails_verification(exported: Exported,
                                                              tmp_path: Path) -> None:
    member = f"archive/{exported.warcs[0].name}"
    start, size = _member_data_offset(exported.wacz, member)
    flip(exported.wacz, start + size // 2)
    other = tmp_path / "other"
    done = run("import", str(exported.wacz), config=exported.config, data=other)
    assert done.returncode == 2
    assert done.stderr.startswith(f"mediawatch: error: {exported.wacz.name}: refused, its "
                                  f"verification failed: {member}:")
    assert len(done.stderr.splitlines()) == 1
    assert not any((other / "warcs").glob("import-*"))  # nothing of it was imported


@pytest.mark.eval
@pytest.mark.skipif(not EVAL_WARCS.is_dir(), reason="no ../shared/eval/warcs")
@pytest.mark.parametrize(("name", "shown"), [
    ("q-m_scrapy-webarchive/tests/data/warc_1_1/quotes.wacz", "ok (1 WARC files"),
    ("webrecorder_py-wacz/tests/fixtures/valid_example_1.wacz", "ok (1 WARC files"),
    # A signature in a profile mediawatch cannot check is said, not taken for a forgery.
    ("webrecorder_py-wacz/tests/fixtures/valid_signed_example_1.wacz",
     "datapackage-digest.json: signed with a domain certificate"),
], ids=["signed-wacz", "unsigned-wacz", "authsign-wacz"])
def test_import_of_other_tools_wacz_shows_the_verification(name: str, shown: str,
                                                           tmp_path: Path) -> None:
    path = EVAL_WARCS / name
    if not path.exists():
        pytest.skip(f"{name} is not in ../shared/eval")
    done = run("import", str(path), data=tmp_path / "data")
    assert done.returncode == 0, done.stderr
    (summary,) = done.stdout.splitlines()
    assert summary.startswith(f"{path}: ")
    assert " records, " in summary
    assert summary.partition("; verify: ")[2].startswith(shown)
