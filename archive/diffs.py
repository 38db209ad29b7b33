"""Every edit, classified: word-level diffs between two versions of an article (pure).

Functions over the versions' texts (``title``, ``lead``, ``body``, as stored in the
``versions`` table); nothing here reads or writes the archive. Edits are computed at query
time (``mediawatch diff`` and ``edits``, the article page, ``/edits``, watchlist ``edits``)
and cached nowhere, so they always follow the classifier.

Each change has one ``kind``, the first of this list that fits it:

``headline``
    the title changed (one change for the whole title).
``paragraph_added`` / ``paragraph_removed``
    a whole paragraph of the lead or body appeared or disappeared (no paragraph of the
    other version resembles it).
``date``
    a changed date expression: a month or weekday name, an ISO or numeric date
    (``2021-06-16``, ``16.06.2021``), ``yesterday``/``today``/``tomorrow``, in the words
    that changed.
``number``
    a changed figure: the words that changed hold a digit (``14`` -> ``16``, ``1,200``).
``quote``
    a change inside quotation marks (``"..."``, ``“...”``, ``«...»``, ``„...“``): more
    quotes open than closed before it in its paragraph.
``entity``
    a capitalised-name change: every changed word, on each side that has words, starts
    with a capital letter and at least one of them is not the paragraph's first word
    (``Shoigu`` -> ``Belousov``, ``Lavrov`` -> ``Peskov``).
``text``
    any other wording change.

The lead often repeats the body's first paragraph; a change found in both (same kind, same
old and new words) is reported once, with ``fields = ["lead", "body"]``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["KINDS", "Change", "FieldDiff", "Segment", "changes", "edit_kinds", "field_diffs",
           "word_diff"]

KINDS: tuple[str, ...] = ("headline", "date", "number", "quote", "entity",
                          "paragraph_added", "paragraph_removed", "text")

#: ``(op, text)``: op ``=`` kept, ``-`` only in the old text, ``+`` only in the new one.
Segment = tuple[str, str]

# Words (with inner dots, commas, hyphens and apostrophes: 1,200 / 3.5 / S-400 / don't),
# runs of spaces, or one other character. Spaces are tokens so the diff keeps the layout.
_TOKEN = re.compile(r"\s+|\w+(?:[.,:'’/-]\w+)*|[^\w\s]")
_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|"
           "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|"
           "wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|tonight|"
           "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|"
           "декабря|ocak|şubat|mart|nisan|mayıs|haziran|temmuz|ağustos|eylül|ekim|kasım|"
           "aralık")
_DATE = re.compile(rf"(?i)\b(?:{_MONTHS})\b|\b\d{{4}}-\d{{2}}-\d{{2}}\b"
                   r"|\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b(?:1[89]|20)\d\d\b")
_DIGIT = re.compile(r"\d")
_CONTEXT_WORDS = 6
_COMMON_STARTS = frozenset({
    "a", "an", "the", "this", "that", "these", "those", "it", "its", "he", "she", "they",
    "we", "i", "you", "his", "her", "their", "our", "in", "on", "at", "by", "for", "from",
    "with", "but", "and", "or", "so", "as", "after", "before", "when", "while", "if", "then",
    "there", "here", "some", "many", "most", "all", "one", "two", "officials"})


@dataclass(slots=True)
class Change:
    """One classified change: ``old``/``new`` are the changed words (empty when only added
    or removed), ``before``/``after`` a few unchanged words around them, ``fields`` where it
    was found (``title``, ``lead``, ``body``), ``paragraph`` its index in the new version's
    field (the old one's for a removed paragraph)."""

    kind: str
    fields: list[str]
    old: str
    new: str
    before: str = ""
    after: str = ""
    paragraph: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON form (``mediawatch diff --format json``)."""
        return asdict(self)


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[Segment]:
    """Word-level diff of two texts: consecutive segments ``(op, text)`` whose ``=`` and
    ``-`` parts rebuild ``old`` and whose ``=`` and ``+`` parts rebuild ``new``. Changes
    separated only by spaces are joined into one."""
    a, b = _tokens(old), _tokens(new)
    out: list[Segment] = []
    for op, i1, i2, j1, j2 in _merged_opcodes(a, b):
        if op == "equal":
            out.append(("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", "".join(b[j1:j2])))
    return out


def _merged_opcodes(a: Sequence[str], b: Sequence[str],
                    gap: int = 0) -> list[tuple[str, int, int, int, int]]:
    """SequenceMatcher's opcodes with an equal run of at most ``gap`` words (and spaces)
    between two changes folded into one change (``14 people`` -> ``16 persons`` is one
    change, not two; with ``gap=1``, ``very hard and long`` -> ``hard but useful`` too)."""
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    merged: list[tuple[str, int, int, int, int]] = []
    for k, (op, i1, i2, j1, j2) in enumerate(ops):
        if (op == "equal" and merged and merged[-1][0] != "equal" and k + 1 < len(ops)
                and sum(1 for t in a[i1:i2] if t.strip()) <= gap):
            op = "replace"
        if op != "equal" and merged and merged[-1][0] != "equal":
            _, p1, _, q1, _ = merged.pop()
            merged.append(("replace", p1, i2, q1, j2))
        else:
            merged.append((op, i1, i2, j1, j2))
    return merged


def _inside_quote(prefix: str) -> bool:
    """Whether the text after ``prefix`` is inside quotation marks: an odd number of ``"``,
    or a curly or angled quote still open (``“`` closes ``„`` in German, opens in English)."""
    if prefix.count('"') % 2:
        return True
    stack: list[str] = []
    for ch in prefix:
        if ch in "«„" or (ch == "“" and not (stack and stack[-1] == "„")):
            stack.append(ch)
        elif ch in "»”“" and stack:
            stack.pop()
    return bool(stack)


def _is_entity(words: Sequence[str], at_start: bool) -> bool:
    names = [w for w in words if w[:1].isalpha()]
    if not names or not all(w[:1].isupper() for w in names):
        return False
    # A paragraph's first word is capitalised anyway: a name only if it is no common word.
    return not (at_start and names[0].casefold() in _COMMON_STARTS)


def _kind(old_words: str, new_words: str, prefix: str) -> str:
    both = f"{old_words} {new_words}"
    if _DATE.search(both):
        return "date"
    if _DIGIT.search(both):
        return "number"
    if _inside_quote(prefix):
        return "quote"
    at_start = not prefix.strip()
    sides = [_tokens(s) for s in (old_words, new_words) if s.strip()]
    if sides and all(_is_entity([t for t in side if t.strip()], at_start) for side in sides):
        return "entity"
    return "text"


def _context(text: str, *, tail: bool) -> str:
    words = text.split()
    return " ".join(words[-_CONTEXT_WORDS:] if tail else words[:_CONTEXT_WORDS])


def _paragraph_changes(old: str, new: str, fieldname: str, index: int) -> list[Change]:
    a, b = _tokens(old), _tokens(new)
    out = []
    # One word kept between two changes is read as one change (a reworded phrase).
    for op, i1, i2, j1, j2 in _merged_opcodes(a, b, gap=1):
        if op == "equal":
            continue
        old_words, new_words = (" ".join("".join(a[i1:i2]).split()),
                                " ".join("".join(b[j1:j2]).split()))
        if old_words == new_words:
            continue  # only spacing changed
        prefix = "".join(b[:j1]) if j2 > j1 or not i2 > i1 else "".join(a[:i1])
        out.append(Change(_kind(old_words, new_words, prefix), [fieldname], old_words,
                          new_words, _context("".join(b[:j1]), tail=True),
                          _context("".join(b[j2:]), tail=False),
                          index))
    return out


def _paragraphs(text: str | None) -> list[str]:
    return [p.strip() for p in (text or "").split("\n") if p.strip()]


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(None, _tokens(a), _tokens(b), autojunk=False).ratio() >= 0.4


def _field_changes(old: str | None, new: str | None, fieldname: str) -> list[Change]:
    """Paragraphs aligned first (added, removed, edited), then words within edited ones."""
    a, b = _paragraphs(old), _paragraphs(new)
    out: list[Change] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        olds, news = list(range(i1, i2)), list(range(j1, j2))
        # Pair each new paragraph with the first unpaired old one it resembles, in order.
        pairs: list[tuple[int, int]] = []
        cursor = 0
        for j in news:
            for pos in range(cursor, len(olds)):
                if _similar(a[olds[pos]], b[j]):
                    pairs.append((olds[pos], j))
                    cursor = pos + 1
                    break
        paired_old = {i for i, _ in pairs}
        paired_new = {j for _, j in pairs}
        for i in olds:
            if i not in paired_old:
                out.append(Change("paragraph_removed", [fieldname], a[i], "", paragraph=i))
        for j in news:
            if j not in paired_new:
                out.append(Change("paragraph_added", [fieldname], "", b[j], paragraph=j))
        for i, j in pairs:
            out.extend(_paragraph_changes(a[i], b[j], fieldname, j))
    return out


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """The classified changes from version ``old`` to version ``new`` (mappings with
    ``title``, ``lead`` and ``body``): the headline first, then lead and body changes in
    reading order, a change the lead shares with the body listed once."""
    out: list[Change] = []
    old_title, new_title = (old.get("title") or "").strip(), (new.get("title") or "").strip()
    if old_title != new_title:
        out.append(Change("headline", ["title"], old_title, new_title))
    seen: dict[tuple[str, str, str], Change] = {}
    for fieldname in ("lead", "body"):
        for change in _field_changes(old.get(fieldname), new.get(fieldname), fieldname):
            key = (change.kind, change.old, change.new)
            if key in seen:
                if fieldname not in seen[key].fields:
                    seen[key].fields.append(fieldname)
                continue
            seen[key] = change
            out.append(change)
    return out


def edit_kinds(found: Iterable[Change]) -> list[str]:
    """The distinct kinds of ``found``, in :data:`KINDS` order."""
    kinds = {c.kind for c in found}
    return [k for k in KINDS if k in kinds]


@dataclass(slots=True)
class FieldDiff:
    """The word diff of one field, for display."""

    name: str
    segments: list[Segment] = field(default_factory=list)


def field_diffs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldDiff]:
    """Word diffs of the title, lead and body that changed. The lead is left out when, in
    both versions, it only repeats the body's first paragraph (its changes show there)."""
    out = []
    for name in ("title", "lead", "body"):
        a, b = old.get(name) or "", new.get(name) or ""
        if a == b:
            continue
        if name == "lead" and _repeats_body(old) and _repeats_body(new):
            continue
        out.append(FieldDiff(name, word_diff(a, b)))
    return out


def _repeats_body(version: Mapping[str, Any]) -> bool:
    lead = (version.get("lead") or "").strip()
    first = next(iter(_paragraphs(version.get("body"))), "")
    return bool(lead) and (first.startswith(lead) or lead.startswith(first)) and bool(first)
