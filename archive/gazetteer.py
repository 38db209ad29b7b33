"""Which gazetteer entities a text mentions, and which spellings a query name stands for
(pure; the gazetteer itself is :mod:`archive.config.entities`).

A spelling is matched as the sequence of folded keys of its words
(:func:`archive.folding.word_key`), so ``Şoygu``, ``Шойгу`` and ``Shoigu`` in a text all
match the spelling ``Shoigu``; the last word of a spelling may carry a Russian or Ukrainian
case ending (``Лаврову``, ``Минобороны России``: :func:`archive.folding.stem_keys`).
Acronym spellings (all capitals, at most five letters: ``UN``, ``US``, ``ООН``) match only
words written in capitals, so French ``un`` is not the United Nations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

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
            keys = spelling_keys(spelling)
            if keys:
                (acronyms if _acronym(spelling) else phrases).setdefault(keys, set()).add(
                    entity.id)
    longest = max((len(k) for k in (*phrases, *acronyms)), default=0)
    prefixes = frozenset(k[:n] for k in (*phrases, *acronyms) for n in range(1, len(k)))
    starts = frozenset(k[0] for k in (*phrases, *acronyms))
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
        for i, word in enumerate(words):
            starts = surface.get(word)
            if starts is None:
                starts = m.may_start(word_key(word))
                if len(surface) < _MEMO:
                    surface[word] = starts
            if not starts:
                continue  # most words start no spelling: one dict lookup each
            for n in range(1, min(m.longest, len(words) - i) + 1):
                seq = tuple(word_key(w) for w in words[i:i + n])
                if seq in m.phrases:
                    found |= m.phrases[seq]
                if seq in m.acronyms and all(w.isupper() or w.isdigit()
                                             for w in words[i:i + n]):
                    found |= m.acronyms[seq]
                for stem in stem_keys(seq[-1]):
                    stemmed = (*seq[:-1], stem)
                    if stemmed in m.phrases:
                        found |= m.phrases[stemmed]
                if seq not in m.prefixes:
                    break  # no longer spelling starts with these words
    return found


def entities_named(m: Matcher, text: str) -> set[str]:
    """Ids of the entities ``text`` (a query term or phrase) is a spelling of, whole."""
    keys = spelling_keys(text)
    if not keys:
        return set()
    found = set(m.phrases.get(keys, frozenset()))
    if any(ch.isalpha() for ch in text) and _acronym(text):
        found |= m.acronyms.get(keys, frozenset())
    for stem in stem_keys(keys[-1]):
        found |= m.phrases.get((*keys[:-1], stem), frozenset())
    return found
