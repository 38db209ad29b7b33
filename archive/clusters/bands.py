"""A compact banded LSH index over MinHash signatures (numpy arrays, no object per entry).

The LSH scheme of datasketch's ``MinHashLSH`` (b bands of r rows; two signatures are
candidates when all r values of one band agree), kept in arrays: the signatures in one
``uint32`` matrix, and the 64-bit keys of every band of every entry (salted per band) in
one sorted array with their rows, searched with ``searchsorted``; rows added since the last
sort wait in a dict until they are a quarter of the sorted part.

Why not ``MinHashLSH`` itself (measured on this machine, 20,000 random signatures, 128
permutations): at 42 bands of 3 rows it costs 12.8 MB and 463 us per entry (1.3 GB and
46 s to load the 100,000 articles of a busy week), at 16 x 8 still 5.5 MB per thousand,
since each band keeps a Python set per key. This index loads 100,000 signatures in about
a few seconds (bench/stories.py). The signatures themselves are datasketch's
(:mod:`archive.clusters.minhash`), and a pair's Jaccard estimate is the same (the share of
equal values).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["BandIndex", "band_keys"]

_PRIME = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime: mixes the r values of a band
# One odd constant per band, so that equal values in two bands give two keys: the bands
# of every entry share one sorted array (one searchsorted per query, not one per band).
_SALTS = np.random.default_rng(20261203).integers(1, 2**63, 256, dtype=np.uint64) | 1


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The ``(n, bands)`` uint64 keys of ``(n, num_perm)`` signatures: the r values of each
    band folded into one number with the band's salt (equal bands give equal keys; others
    collide with probability about 2**-64)."""
    width = bands * rows
    keys = sigs[:, 0:width:rows].astype(np.uint64)
    with np.errstate(over="ignore"):
        for j in range(1, rows):
            keys *= _PRIME
            keys ^= sigs[:, j:width:rows]
        keys *= _SALTS[:bands]
        keys ^= keys >> np.uint64(29)
    return keys


class BandIndex:
    """Signatures by id with their time (epoch seconds) and shingle count; candidates by band.

    ``add`` replaces an id's entry; ``query`` gives the rows of live entries sharing a band
    with a signature; ``sigs``, ``ats``, ``sizes`` and ``ids`` are read by row.
    """

    def __init__(self, num_perm: int, bands: int, rows: int) -> None:
        if bands * rows > num_perm:
            raise ValueError(f"{bands} bands x {rows} rows exceed {num_perm} permutations")
        self.num_perm, self.bands, self.rows = num_perm, bands, rows
        self.sigs = np.empty((1024, num_perm), dtype=np.uint32)
        self.ats = np.empty(1024, dtype=np.int64)
        self.sizes = np.empty(1024, dtype=np.int64)
        self.alive = np.zeros(1024, dtype=bool)
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        if bands > len(_SALTS):
            raise ValueError(f"at most {len(_SALTS)} bands")
        self._keys = np.empty(0, dtype=np.uint64)  # every band key of the sorted part
        self._rows = np.empty(0, dtype=np.int32)  # the row of each
        self._sorted = 0  # rows below this are in the sorted arrays
        self._pending: dict[int, list[int]] = {}

    def __len__(self) -> int:
        return len(self.row_of)

    def _grow(self, n: int) -> None:
        size = len(self.ats)
        if n <= size:
            return
        new = max(n, 2 * size)
        for name in ("sigs", "ats", "sizes", "alive"):
            old = getattr(self, name)
            grown = np.zeros((new, *old.shape[1:]), dtype=old.dtype)
            grown[:size] = old
            setattr(self, name, grown)

    def add(self, ids: Sequence[str], sigs: np.ndarray, ats: Sequence[int],
            sizes: Sequence[int], defer: bool = False) -> None:
        """Add (or replace) entries: ``sigs`` is ``(len(ids), num_perm)`` uint32. With
        ``defer`` they are not searchable until :meth:`sort` (a load in chunks sorts once)."""
        if not ids:
            return
        for aid in ids:
            self.remove(aid)
        start = len(self.ids)
        self._grow(start + len(ids))
        end = start + len(ids)
        self.sigs[start:end] = sigs
        self.ats[start:end] = ats
        self.sizes[start:end] = sizes
        self.alive[start:end] = True
        self.ids.extend(ids)
        for row, aid in enumerate(ids, start):
            self.row_of[aid] = row
        # A bulk load (a window read from the database) is sorted at once; single
        # articles wait in the dict until they are a quarter of the sorted part.
        if defer:
            return
        if len(ids) >= 256 or end - self._sorted > max(4096, self._sorted // 4):
            self.sort()
        else:
            keys = band_keys(sigs, self.bands, self.rows)
            for row, row_keys in enumerate(keys.tolist(), start):
                for key in row_keys:
                    self._pending.setdefault(key, []).append(row)

    def remove(self, aid: str) -> None:
        """Forget ``aid`` (its row stays, dead, until the next sort)."""
        row = self.row_of.pop(aid, None)
        if row is not None:
            self.alive[row] = False

    def sort(self) -> None:
        """Put every entry (dead ones dropped) into the sorted part."""
        n = len(self.ids)
        live = np.flatnonzero(self.alive[:n]).astype(np.int32)
        keys = band_keys(self.sigs[live], self.bands, self.rows).ravel()
        order = np.argsort(keys)
        self._keys = keys[order]
        self._rows = np.repeat(live, self.bands)[order]
        self._sorted = n
        self._pending = {}

    def query(self, sig: np.ndarray) -> np.ndarray:
        """Rows of the live entries sharing at least one band with ``sig`` (sorted)."""
        keys = band_keys(sig.reshape(1, -1), self.bands, self.rows)[0]
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        found = [self._rows[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True)
                 if b > a]
        if self._pending:
            found += [np.asarray(extra, dtype=np.int32) for key in keys.tolist()
                      if (extra := self._pending.get(key))]
        if not found:
            return np.empty(0, dtype=np.int32)
        rows = np.unique(np.concatenate(found))
        return rows[self.alive[rows]]

    def jaccard(self, sig: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The Jaccard estimates of ``sig`` against the signatures of ``rows``."""
        return np.asarray((self.sigs[rows] == sig).sum(axis=1) / self.num_perm)
