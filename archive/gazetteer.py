"""Which gazetteer entities a text mentions, and which spellings a query name stands for
(pure; the gazetteer itself is :mod:`archive.config.entities`).

A spelling is matched as the sequence of folded keys of its words
(:func:`archive.folding.word_key`), so ``Şoygu``, ``Шойгу`` and ``Shoigu`` in a text all
match the spelling ``Shoigu``; the last word of a spelling may carry a Russian or Ukrainian
case ending (``Лаврову``, ``Минобороны России``: :func:`archive.folding.stem_keys`).
Acronym spellings (all capitals, at most five letters: ``UN``, ``US``, ``ООН``) match only
words written in capitals, so French ``un`` is not the United Nations, and they are compared
letter for letter after transliteration, without the phonetic rules: ``ICC`` is not ``IS``,
``SA`` is not ``США``.

At each word only the longest spelling that starts there counts: ``Минобороны Украины``
names Ukraine's ministry, not Russia's (whose spelling ``Минобороны`` it starts with); a
spelling that starts at a later word still counts (its ``Украины`` names Ukraine too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from anyascii import anyascii

from archive.folding import stem_keys, word_key

if TYPE_CHECKING:
    from archive.config.entities import Entity, Gazetteer

__all__ = ["Matcher", "entities_in", "entities_named", "matcher", "spelling_keys"]

_WORD = re.compile(r"[^\W_]+")
_ACRONYM_MAX = 5
_MEMO = 1_000_000  # words remembered as starting a spelling or not


def spelling_keys(text: str) -> tuple[str, ...]:
    """The folded keys of the words of ``text``, in order."""
    return tuple(k for k in (word_key(w) for w in _WORD.findall(text)) if k)


def _acronym(spelling: str) -> bool:
    letters = [ch for ch in spelling if ch.isalpha()]
    return 0 < len(letters) <= _ACRONYM_MAX and all(ch.isupper() for ch in letters)


def acronym_keys(text: str) -> tuple[str, ...]:
    """The keys of an acronym's words: transliterated letters, no phonetic folding."""
    return tuple(anyascii(w).upper() for w in _WORD.findall(text))


@dataclass(frozen=True, slots=True)
class Matcher:
    """Spelling key sequences -> entity ids (``acronyms``: sequences that match capitals
    only), the longest sequence length, and the entities by id."""

    phrases: dict[tuple[str, ...], frozenset[str]]
    acronyms: dict[tuple[str, ...], frozenset[str]]
    longest: int
    entities: dict[str, Entity]
    #: Every proper prefix of a spelling's key sequence, and the first keys a word's
    #: stems may start (a text is scanned once: most words start nothing).
    prefixes: frozenset[tuple[str, ...]] = frozenset()
    #: The first keys of the spellings; and, filled as texts are read, whether a word key
    #: may start a spelling (itself or one of its stems is a first key).
    starts: frozenset[str] = frozenset()
    relevant: dict[str, bool] = field(default_factory=dict)
    #: The same, by the word as written (saves folding the words that start nothing).
    surface: dict[str, bool] = field(default_factory=dict)

    def may_start(self, key: str) -> bool:
        """Whether a word with this key may start a spelling (memoized)."""
        known = self.relevant.get(key)
        if known is None:
            known = key in self.starts or any(s in self.starts for s in stem_keys(key))
            if len(self.relevant) < _MEMO:
                self.relevant[key] = known
        return known


@lru_cache(maxsize=8)
def matcher(gazetteer: Gazetteer) -> Matcher:
    """The :class:`Matcher` of a gazetteer (built once per gazetteer)."""
    phrases: dict[tuple[str, ...], set[str]] = {}
    acronyms: dict[tuple[str, ...], set[str]] = {}
    for entity in gazetteer.entities:
        for spelling in entity.aliases:
            acronym = _acronym(spelling)
            keys = acronym_keys(spelling) if acronym else spelling_keys(spelling)
            if keys:
                (acronyms if acronym else phrases).setdefault(keys, set()).add(entity.id)
    longest = max((len(k) for k in (*phrases, *acronyms)), default=0)
    # An acronym's first word may start a spelling under its folded key too (the scan
    # folds every word once), so its folded prefixes count as well.
    folded = [tuple(word_key(w) for w in k) for k in acronyms]
    prefixes = frozenset(k[:n] for k in (*phrases, *acronyms, *folded)
                         for n in range(1, len(k)))
    starts = frozenset(k[0] for k in (*phrases, *folded))
    return Matcher({k: frozenset(v) for k, v in phrases.items()},
                   {k: frozenset(v) for k, v in acronyms.items()}, longest,
                   {e.id: e for e in gazetteer.entities}, prefixes, starts)


def entities_in(m: Matcher, *texts: str | None) -> set[str]:
    """Ids of the entities whose spellings occur in ``texts`` (module docstring)."""
    found: set[str] = set()
    for text in texts:
        if not text:
            continue
        words = _WORD.findall(text)
        surface = m.surface
        i = 0
        while i < len(words):
            word = words[i]
            starts = surface.get(word)
            if starts is None:
                starts = m.may_start(word_key(word))
                if len(surface) < _MEMO:
                    surface[word] = starts
            if not starts:
                i += 1
                continue  # most words start no spelling: one dict lookup each
            best: tuple[int, frozenset[str]] = (0, frozenset())
            for n in range(1, min(m.longest, len(words) - i) + 1):
                span = words[i:i + n]
                seq = tuple(word_key(w) for w in span)
                # An acronym written in capitals is read letter for letter before any
                # folded spelling (BRICS is not a spelling of Paris that folds alike).
                ids: set[str] = set()
                if all(w.isupper() or w.isdigit() for w in span):
                    ids |= m.acronyms.get(tuple(anyascii(w).upper() for w in span), set())
                if not ids:
                    ids |= m.phrases.get(seq, set())
                    for stem in stem_keys(seq[-1]):
                        ids |= m.phrases.get((*seq[:-1], stem), set())
                if ids:
                    best = (n, frozenset(ids))
                if seq not in m.prefixes and tuple(
                        anyascii(w).upper() for w in span) not in m.prefixes:
                    break  # no longer spelling starts with these words
            found |= best[1]
            i += 1
    return found


def entities_named(m: Matcher, text: str) -> set[str]:
    """Ids of the entities ``text`` (a query term or phrase) is a spelling of, whole."""
    keys = spelling_keys(text)
    if not keys:
        return set()
    found = set(m.phrases.get(keys, frozenset()))
    if any(ch.isalpha() for ch in text) and _acronym(text):
        found |= m.acronyms.get(acronym_keys(text), frozenset())
    for stem in stem_keys(keys[-1]):
        found |= m.phrases.get((*keys[:-1], stem), frozenset())
    return found
