"""Text normalization and word shingles for near-duplicate detection (pure functions)."""

from __future__ import annotations

import re

from anyascii import anyascii

__all__ = ["SHINGLE_SIZE", "normalize", "shingles", "title_key"]

#: Words per shingle: three words survive a wire desk's light edits (a changed word breaks
#: three shingles, not a sentence) and still rarely occur in unrelated stories.
SHINGLE_SIZE = 3
_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str | None) -> str:
    """``text`` as the words compared for copies: transliterated to Latin letters
    (anyascii), lowercased, one space between words, punctuation gone.

    The one normalizer of this package (the folding of issue 11 may replace it): a copy in
    another script (``С-400``, ``Шойгу``) shares its words with the Latin one.
    """
    return " ".join(_WORD.findall(anyascii(text or "").lower()))


def title_key(title: str | None) -> str:
    """The title compared by the same-source rule: :func:`normalize`."""
    return normalize(title)


def shingles(text: str | None, size: int = SHINGLE_SIZE) -> set[str]:
    """The word ``size``-shingles of ``normalize(text)``; a text of fewer words is one
    shingle, an empty one none."""
    words = normalize(text).split()
    if len(words) <= size:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + size]) for i in range(len(words) - size + 1)}
