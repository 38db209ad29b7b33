"""The linking rules and the clusters they make (pure functions; see the package docstring).

Every rule is symmetric in its two articles and looks only at their current fields, and a
cluster is a connected component named by its smallest member id, so the clusters are the
same whatever order the articles were stored in (``tests/test_clusters_order.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from archive.clusters.minhash import similarity
from archive.times import parse_utc

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import numpy as np

__all__ = [
    "DISTINCTIVE_KINDS",
    "ENTITY_WINDOW",
    "MIN_JACCARD",
    "MIN_SHARED_ENTITIES",
    "MIN_SHINGLES",
    "TEXT_THRESHOLD",
    "TEXT_WINDOW",
    "TITLE_WINDOW",
    "Link",
    "StoryKey",
    "components",
    "containment",
    "entity_link",
    "language_of",
    "moment",
    "text_link",
    "text_score",
    "title_link",
]

#: Media Cloud's window for the same-source, same-title rule.
TITLE_WINDOW = timedelta(days=7)
#: Wire copies run within hours of the original, rewrites within days; the LSH index of an
#: ingest run holds the signatures of this window around each article it links.
TEXT_WINDOW = timedelta(days=7)
#: Estimated share of the shorter text's shingles found in the other (containment, from
#: the Jaccard estimate and the two set sizes): a wire copy is often cut or extended by the
#: outlet that runs it, which Jaccard similarity punishes. In the sample newsroom the
#: Anatolia copy of a Northwind story shares about 75 % of its shingles with it,
#: unrelated stories under 2 %.
TEXT_THRESHOLD = 0.5
#: ...and a Jaccard estimate of at least this: a two-paragraph brief is "contained" in
#: the long feature that quotes it, without being a copy of it. It is also the similarity
#: the LSH index is tuned to find (:data:`archive.clusters.index.LSH_PARAMS`).
MIN_JACCARD = 0.25
#: Texts with fewer shingles (a title and a line) are left to the title rule: a handful of
#: shingles say nothing about copying.
MIN_SHINGLES = 8
#: Coverage of one event in two languages: shared entities, within this time.
ENTITY_WINDOW = timedelta(hours=48)
MIN_SHARED_ENTITIES = 3
#: At least one shared entity of these kinds: countries and organisations alone (Turkey,
#: Russia, NATO) are shared by half of a day's defence news.
DISTINCTIVE_KINDS = frozenset({"person", "weapon"})


@dataclass(frozen=True, slots=True)
class StoryKey:
    """What the rules read of one article (also its row in ``story_signatures``)."""

    id: str
    source: str
    language: str | None
    title_key: str
    at: datetime  # published, else first seen (UTC)
    signature: np.ndarray | None  # uint32 MinHash; None: fewer than MIN_SHINGLES shingles
    size: int = 0  # number of shingles


@dataclass(frozen=True, slots=True, order=True)
class Link:
    """One stored link: ``a < b`` (ids), the rule that made it and its score."""

    a: str
    b: str
    kind: str
    score: float

    @staticmethod
    def of(x: str, y: str, kind: str, score: float) -> Link:
        """A link between ``x`` and ``y`` in its stored orientation."""
        a, b = sorted((x, y))
        return Link(a, b, kind, round(score, 4))


def moment(published: str | None, first_seen: str) -> datetime:
    """When an article came out, for the windows: its published time (a bare day is that
    day's midnight UTC), else its first capture."""
    return parse_utc(published or first_seen)


def language_of(language: str | None) -> str | None:
    """The primary language subtag, lowercased (``en-GB`` -> ``en``), or None."""
    return language.split("-")[0].strip().lower() or None if language else None


def _within(a: StoryKey, b: StoryKey, window: timedelta) -> bool:
    return abs(a.at - b.at) <= window


def title_link(a: StoryKey, b: StoryKey) -> Link | None:
    """The same-source rule: same source, same non-empty title key, within 7 days."""
    if (a.id != b.id and a.source == b.source and a.title_key
            and a.title_key == b.title_key and _within(a, b, TITLE_WINDOW)):
        return Link.of(a.id, b.id, "title", 1.0)
    return None


def containment(jaccard: float, n: int, m: int) -> float:
    """The share of the smaller of two sets (sizes ``n``, ``m``) in the other, given their
    Jaccard similarity: ``|A & B| = J (n + m) / (1 + J)``."""
    if min(n, m) <= 0:
        return 0.0
    return min(1.0, jaccard * (n + m) / ((1 + jaccard) * min(n, m)))


def text_score(jaccard: float, n: int, m: int) -> float | None:
    """The text rule on a pair's Jaccard estimate and shingle counts: the containment when
    the pair is a copy (Jaccard >= :data:`MIN_JACCARD` and containment >=
    :data:`TEXT_THRESHOLD`), else None. The time window is checked by the caller."""
    if jaccard < MIN_JACCARD:
        return None
    score = containment(jaccard, n, m)
    return score if score >= TEXT_THRESHOLD else None


def text_link(a: StoryKey, b: StoryKey) -> Link | None:
    """The near-duplicate rule: within the window, estimated Jaccard >=
    :data:`MIN_JACCARD` and containment >= :data:`TEXT_THRESHOLD` (the score)."""
    if a.id == b.id or a.signature is None or b.signature is None:
        return None
    if not _within(a, b, TEXT_WINDOW):
        return None
    score = text_score(similarity(a.signature, b.signature), a.size, b.size)
    return Link.of(a.id, b.id, "text", score) if score is not None else None


def entity_link(a: StoryKey, b: StoryKey, shared: Iterable[str],
                kinds: Mapping[str, str]) -> Link | None:
    """The cross-language rule: languages known and different, within 48 h, at least
    :data:`MIN_SHARED_ENTITIES` shared entities of which one is a person or weapon
    (``kinds``: entity id -> kind; an entity of unknown kind is not distinctive)."""
    shared = set(shared)
    la, lb = language_of(a.language), language_of(b.language)
    if a.id == b.id or la is None or lb is None or la == lb:
        return None
    if len(shared) < MIN_SHARED_ENTITIES or not _within(a, b, ENTITY_WINDOW):
        return None
    if not any(kinds.get(e) in DISTINCTIVE_KINDS for e in shared):
        return None
    return Link.of(a.id, b.id, "entities", float(len(shared)))


def components(ids: Iterable[str], links: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Union-find over ``links``: each of ``ids`` (and each linked id) -> its cluster id,
    the smallest id of its component."""
    parent: dict[str, str] = {i: i for i in ids}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            # The smaller id is the root, so a root is always its component's smallest id.
            lo, hi = sorted((ra, rb))
            parent[hi] = lo
    return {x: find(x) for x in list(parent)}
