"""A real RFC 3161 time-stamping authority on 127.0.0.1 for the evidence tests.

:func:`make_tsa_ca` makes a test CA and a TSA certificate signed by it (critical
``timeStamping`` extended key usage, as RFC 3161 requires) with the ``openssl`` command;
:class:`LocalTsa` is a tiny HTTP server whose every POST is answered by ``openssl ts
-reply`` with that certificate. Nothing is mocked: the tokens are OpenSSL's.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

OPENSSL = shutil.which("openssl")

_CONFIG = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ ca_ext ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ tsa_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ tsa ]
default_tsa = tsa_section
[ tsa_section ]
dir = {dir}
serial = $dir/serial
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class TsaFiles:
    """The test CA and the TSA's files."""

    dir: Path
    ca_pem: Path
    config: Path


def _openssl(*args: str, cwd: Path) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


def make_tsa_ca(folder: Path) -> TsaFiles:
    """A CA ("mediawatch test CA") and a TSA certificate it signed, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "openssl.cnf"
    config.write_text(_CONFIG.format(dir=folder), encoding="utf-8")
    (folder / "serial").write_text("01\n", encoding="ascii")
    _openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
             "-subj", "/CN=mediawatch test CA", "-config", str(config),
             "-extensions", "ca_ext", cwd=folder)
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=mediawatch test TSA",
             "-config", str(config), cwd=folder)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "tsa.pem", "-days", "3650",
             "-extfile", str(config), "-extensions", "tsa_ext", cwd=folder)
    return TsaFiles(folder, folder / "ca.pem", config)


class _Handler(http.server.BaseHTTPRequestHandler):
    files: TsaFiles
    requests: list[bytes]
    gate: threading.Event | None

    def do_POST(self) -> None:
        query = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.requests.append(query)
        if self.gate is not None:  # a slow TSA: answers once the test opens the gate
            self.gate.wait(30)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "req.tsq").write_bytes(query)
            done = subprocess.run(
                [str(OPENSSL), "ts", "-reply", "-config", str(self.files.config),
                 "-queryfile", "req.tsq", "-out", "resp.tsr"],
                cwd=tmp, capture_output=True)
            if done.returncode != 0:
                self.send_error(400, done.stderr.decode(errors="replace")[:200])
                return
            body = (Path(tmp) / "resp.tsr").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class LocalTsa:
    """``with LocalTsa(files) as tsa:`` serves on ``tsa.url``; ``tsa.requests`` holds the
    time-stamp queries it received. With ``gate``, every answer waits for it to be set."""

    def __init__(self, files: TsaFiles, port: int = 0, gate: threading.Event | None = None):
        handler = type("Handler", (_Handler,), {"files": files, "requests": [],
                                                 "gate": gate})
        self.requests: list[bytes] = handler.requests
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LocalTsa:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    """A port nothing listens on (for a TSA that is down)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
