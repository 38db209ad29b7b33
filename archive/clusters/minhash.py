"""MinHash signatures of article texts (datasketch), as stored in the archive.

A signature is :data:`NUM_PERM` unsigned 32-bit values (``affine32`` scheme, seed
:data:`SEED`), stored as bytes: :func:`to_bytes` / :func:`from_bytes`. Signatures made by
another scheme, seed or permutation count are not comparable, which is why the scheme is
named here rather than left to the library's default (datasketch 2.0 changed it) and why
datasketch is pinned (pyproject.toml, constraints.txt). Changing any of these means a
``mediawatch reindex``.
"""

from __future__ import annotations

import numpy as np
from datasketch import LeanMinHash, MinHash

__all__ = ["NUM_PERM", "SCHEME", "SEED", "from_bytes", "signature", "similarity", "to_bytes"]

#: 128 permutations: the Jaccard estimate's standard error is about 0.04 at 0.5, small
#: enough for the text rule's threshold; a signature is 512 bytes.
NUM_PERM = 128
SEED = 1
SCHEME = "affine32"
_DTYPE = np.uint32
# One hasher whose permutations are computed once (MinHash.bulk-style reuse).
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


def signature(shingles: set[str]) -> LeanMinHash:
    """The MinHash of a set of shingles (the empty set gives the empty signature)."""
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME,
                permutations=_TEMPLATE.permutations)
    if shingles:
        m.update_batch([s.encode("utf-8") for s in sorted(shingles)])
    return LeanMinHash(m)


def to_bytes(sig: LeanMinHash) -> bytes:
    """The stored form of ``sig``: its hash values, little-endian uint32."""
    return np.asarray(sig.hashvalues, dtype=_DTYPE).astype("<u4").tobytes()


def from_bytes(data: bytes) -> LeanMinHash:
    """A signature read back from :func:`to_bytes`."""
    values = np.frombuffer(data, dtype="<u4").astype(_DTYPE)
    return LeanMinHash(seed=SEED, hashvalues=values, scheme=SCHEME)


def similarity(a: LeanMinHash, b: LeanMinHash) -> float:
    """The estimated Jaccard similarity of two signatures (symmetric)."""
    return float(a.jaccard(b))
