"""MinHash signatures of article texts, as stored in the archive: datasketch's ``MinHash``
(scheme ``affine32``, seed :data:`SEED`, :data:`NUM_PERM` permutations, SHA-1 input hash),
computed here with numpy.

The values are exactly those of ``datasketch.MinHash(num_perm=128, seed=1,
scheme="affine32").update_batch(...)`` over the sorted shingles
(``tests/test_clusters.py`` compares them), but importing datasketch loads scipy (its LSH
module does, at import), 1 to 2 s per process: the crawl's ingest at close has no such time
(a crawl with a 2 s ``run_timeout`` failed every time). So the 20 lines of the scheme are
here, datasketch is the pinned reference (pyproject.toml, constraints.txt), and a stored
signature is :data:`NUM_PERM` little-endian uint32 values (:func:`to_bytes`). Changing the
scheme, seed or permutation count means a ``mediawatch reindex``.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["NUM_PERM", "SCHEME", "SEED", "from_bytes", "signature", "similarity", "to_bytes"]

#: 128 permutations: the Jaccard estimate's standard error is about 0.04 at 0.5; a stored
#: signature is 512 bytes.
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
_MAX = np.uint32(0xFFFFFFFF)
# datasketch's affine32 permutations h -> a * h + b mod 2**32 (a odd), from its seed.
_GEN = np.random.RandomState(SEED)
_A = (_GEN.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1))
_B = _GEN.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
# MurmurHash3's 32-bit finalizer, datasketch's pre-mix of the input hash.
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35),
         np.uint32(16))


def _sha1_32(data: bytes) -> int:
    # datasketch.hashfunc.sha1_hash32: the first four bytes of SHA-1, little-endian.
    return int.from_bytes(hashlib.sha1(data).digest()[:4], "little")


def signature(shingles: set[str]) -> np.ndarray:
    """The MinHash (``NUM_PERM`` uint32 values) of a set of shingles; the empty set gives
    the empty signature (every value 2**32 - 1)."""
    if not shingles:
        return np.full(NUM_PERM, _MAX, dtype=np.uint32)
    hv = np.array([_sha1_32(s.encode("utf-8")) for s in sorted(shingles)],
                  dtype=np.uint32).reshape(-1, 1)
    s1, m1, s2, m2, s3 = _FMIX
    with np.errstate(over="ignore"):
        hv = hv ^ (hv >> s1)
        hv = hv * m1
        hv = hv ^ (hv >> s2)
        hv = hv * m2
        hv = hv ^ (hv >> s3)
        return np.asarray((hv * _A + _B).min(axis=0), dtype=np.uint32)


def to_bytes(sig: np.ndarray) -> bytes:
    """The stored form of ``sig``: its values, little-endian uint32."""
    return np.asarray(sig, dtype="<u4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    """A signature read back from :func:`to_bytes`."""
    return np.frombuffer(data, dtype="<u4").astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of two signatures: the share of equal values (as
    datasketch's ``MinHash.jaccard``)."""
    return float(np.count_nonzero(a == b)) / NUM_PERM
