"""Signing keys and the WACZ anonymous signature (WACZ Signing and Verification 0.1.0).

A signed WACZ has a ``datapackage-digest.json`` whose ``hash`` is the SHA-256 of
``datapackage.json`` and whose ``signedData`` is the spec's *anonymous signature*:
``hash``, ``created`` (the datapackage's own ``created``, as ``wacz validate`` requires),
``software``, ``version``, ``signature`` (ECDSA with SHA-256 over the ``hash`` string,
base64) and ``publicKey`` (the key's SubjectPublicKeyInfo, DER, base64). The signature is
written in the raw ``r || s`` form that WebCrypto, and so ArchiveWeb.page and
ReplayWeb.page, use; :func:`verify_signed_data` also accepts the DER form authsign writes.

Why ``cryptography`` directly: the maintained WACZ signing libraries, ``authsign`` and
``wacz-signing``, implement the spec's other profile (a domain certificate from Let's
Encrypt over ACME, served by a signing web service), and py-wacz signs only by calling such
a service. mediawatch signs offline with a key file (``[evidence] signing_key``), which is
the anonymous profile: a few lines of ``cryptography``, already installed with Scrapy.
The public key identifies the signer only if it is published out of band: the fingerprint
:func:`key_fingerprint` prints is what to publish.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from archive.evidence.errors import SigningError

__all__ = [
    "SIGNATURE_VERSION",
    "UNCHECKABLE",
    "SignatureCheck",
    "SigningError",
    "key_fingerprint",
    "load_signing_key",
    "make_signing_key",
    "sign_hash",
    "verify_signed_data",
]

SIGNATURE_VERSION = "0.1.0"


def make_signing_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    """Write a new ECDSA P-384 private key (PKCS#8 PEM, mode 0600) to ``path``.

    P-384 is the curve ArchiveWeb.page signs with. An existing file is never overwritten:
    losing a key makes every export signed with it unattributable.
    """
    path = Path(path)
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningError(f"{path}: already exists (not overwritten)") from None
    except OSError as exc:
        raise SigningError(f"{path}: cannot write ({exc.strerror or exc})") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key.public_key()


def load_signing_key(path: str | Path) -> ec.EllipticCurvePrivateKey:
    """The EC private key in the PEM file ``path`` (unencrypted, as ``keygen`` writes)."""
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise SigningError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SigningError(f"{path}: not an ECDSA key (make one with `mediawatch keygen`)")
    return key


def _spki(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.DER,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def key_fingerprint(public: ec.EllipticCurvePublicKey) -> str:
    """``sha256:<hex>`` of the public key's SubjectPublicKeyInfo: what to publish."""
    return "sha256:" + hashlib.sha256(_spki(public)).hexdigest()


def sign_hash(hash_text: str, created: str, key: ec.EllipticCurvePrivateKey,
              software: str = "mediawatch") -> dict[str, str]:
    """The ``signedData`` of the anonymous signature of ``hash_text`` (``sha256:<hex>``)."""
    der = key.sign(hash_text.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    size = (key.curve.key_size + 7) // 8
    raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return {"hash": hash_text, "created": created, "software": software,
            "version": SIGNATURE_VERSION,
            "signature": base64.b64encode(raw).decode("ascii"),
            "publicKey": base64.b64encode(_spki(key.public_key())).decode("ascii")}


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    """The verdict on a ``signedData``: ``problem`` None when the signature is valid;
    ``fingerprint`` identifies the public key that made it (see :func:`key_fingerprint`)."""

    problem: str | None
    fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        """True when the signature is valid."""
        return self.problem is None


#: The problem of a signature mediawatch cannot check (not a wrong one): the importer does
#: not refuse a package for it.
UNCHECKABLE = ("signed with a domain certificate (authsign profile), which mediawatch "
               "cannot check: use `wacz validate --verify-auth`")


def verify_signed_data(signed: dict[str, Any], expected_hash: str) -> SignatureCheck:
    """Check an anonymous ``signedData`` against the ``hash`` it must sign."""
    if signed.get("hash") != expected_hash:
        return SignatureCheck("signedData.hash differs from the digest's hash")
    if "publicKey" not in signed or "signature" not in signed:
        return SignatureCheck(UNCHECKABLE)
    try:
        public = serialization.load_der_public_key(base64.b64decode(signed["publicKey"]))
        signature = base64.b64decode(signed["signature"])
    except (ValueError, TypeError) as exc:
        return SignatureCheck(f"signedData unreadable ({exc})")
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return SignatureCheck("signedData.publicKey is not an ECDSA key")
    fingerprint = key_fingerprint(public)
    size = (public.curve.key_size + 7) // 8
    if len(signature) == 2 * size:  # WebCrypto's raw r || s; else DER (authsign)
        signature = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                         int.from_bytes(signature[size:], "big"))
    try:
        public.verify(signature, signed["hash"].encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return SignatureCheck("signature does not match the public key and hash", fingerprint)
    return SignatureCheck(None, fingerprint)
