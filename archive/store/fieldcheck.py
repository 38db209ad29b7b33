"""Which fields of a source's articles went missing: the one rule behind
``mediawatch sources --check`` and the ``extraction`` health flag.

A site that changes its markup breaks its profile silently: the profile's selector matches
nothing, and the field is either lost or rescued by a generic fallback (JSON-LD, OpenGraph,
trafilatura), which is often worse (a title with the site's suffix, a body with promo lines).
Both show against the source's own history, so the rule compares *current* articles (one
re-extracted capture, or the articles first seen lately) with a *baseline*: the source's last
:data:`BASELINE` articles before them.

Each article is a :data:`FieldMethods`: the fields it has (of :data:`CHECKED_FIELDS`), each
with the method that produced it (``selectors``, ``jsonld``, ``meta``...) or ``""`` where that
is not known (the archive keeps only ``body_method`` and ``published_from``). A field is lost
(:func:`lost_fields`) when most (:data:`MOST`, 80 %) of the baseline has it and

* ``missing``: at least half of the current articles lack it; or else
* ``fallback``: most of the baseline got it from the profile's ``selectors`` and at least
  half of the current articles got it by another known method (the selector stopped
  matching).

"Most" is 80 %, not a bare majority, because an outlet's pages differ: a field its selector
finds on 7 pages of 10 (a date line some stories lack) is not one whose absence says the
profile broke.

Nothing is judged against fewer than :data:`MIN_BASELINE` baseline articles.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BASELINE", "CHECKED_FIELDS", "MIN_BASELINE", "MOST", "FieldLoss", "FieldMethods",
           "losses_text", "lost_fields", "row_fields"]

#: The fields the rule looks at, in report order.
CHECKED_FIELDS = ("title", "lead", "body", "published", "authors", "section", "tags",
                  "short_url", "language")
#: How many of a source's latest articles make its baseline.
BASELINE = 20
#: The share of the baseline that must have a field (or get it by selectors) to judge it.
MOST = 0.8
#: Fewer baseline articles than this: no judgement (a new source has no history yet).
MIN_BASELINE = 5
#: The method names of a field taken by the profile's own selector (dates say ``selector``).
SELECTORS = frozenset({"selectors", "selector"})

#: Field name -> the method that produced it (``""``: unknown); absent fields are left out.
FieldMethods = Mapping[str, str]

# Where an articles row (or an export record) keeps the method of a field.
_STORED_METHODS = {"body": "body_method", "published": "published_from"}


@dataclass(frozen=True, slots=True)
class FieldLoss:
    """One field the current articles lost: ``kind`` is ``missing`` or ``fallback``;
    ``had`` of ``baseline`` baseline articles had it (``fallback``: from the selectors);
    ``now``: the method the current articles got it by instead (``fallback`` only)."""

    field: str
    kind: str
    had: int
    baseline: int
    now: str | None = None

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"{self.field} missing ({self.had}/{self.baseline} had it)"
        return f"{self.field} by {self.now}, not selectors ({self.had}/{self.baseline})"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"field": self.field, "kind": self.kind, "had": self.had,
                "baseline": self.baseline, "now": self.now}


def _has_value(value: Any) -> bool:
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):  # authors and tags are JSON lists in a row
            try:
                return bool(json.loads(value))
            except ValueError:
                return True
    return value not in (None, "", (), [])


def row_fields(row: Mapping[str, Any]) -> dict[str, str]:
    """The checked fields an ``articles`` row (or an article record) has, with the method
    where the row keeps it (``body_method``, ``published_from``), else ``""``."""
    out = {}
    for name in CHECKED_FIELDS:
        if _has_value(row.get(name)):
            out[name] = str(row.get(_STORED_METHODS.get(name, "")) or "")
    return out


def lost_fields(current: Sequence[FieldMethods], baseline: Sequence[FieldMethods],
                min_baseline: int = MIN_BASELINE) -> list[FieldLoss]:
    """The fields ``current`` lost compared with ``baseline`` (module docstring), in
    :data:`CHECKED_FIELDS` order; none when either side is too small to judge."""
    if not current or len(baseline) < max(min_baseline, 1):
        return []
    size = len(baseline)
    out = []
    for name in CHECKED_FIELDS:
        had = sum(name in b for b in baseline)
        if had < MOST * size:
            continue  # not a field this source usually has
        lacking = sum(name not in c for c in current)
        if 2 * lacking >= len(current):
            out.append(FieldLoss(name, "missing", had, size))
            continue
        by_selector = sum(b.get(name) in SELECTORS for b in baseline)
        if by_selector < MOST * size:
            continue
        others = Counter(c[name] for c in current
                         if c.get(name) and c[name] not in SELECTORS)
        if 2 * sum(others.values()) >= len(current):
            out.append(FieldLoss(name, "fallback", by_selector, size,
                                 others.most_common(1)[0][0]))
    return out


def losses_text(losses: Sequence[FieldLoss]) -> str:
    """``title missing (...); body by jsonld, not ...``: one line for tables and flags."""
    return "; ".join(str(loss) for loss in losses)
