"""One name in every script: the folded key that joins spellings of a name (pure).

Analysts search for ``Shoigu`` and expect ``Шойгу``, ``Şoygu``, ``Schoigu`` and
``Choïgou`` too. :func:`fold` turns a word (or a name, or a designator such as ``С-400``)
into a *folded key*; spellings of the same name get the same key:

1. **Transliteration** to Latin with anyascii (any script: Cyrillic, Turkish letters,
   Arabic, Greek...), then lowercase. ``Шойгу`` -> ``shoygu``, ``Çavuşoğlu`` -> ``cavusoglu``.
2. **Phonetic folding** of the variants that transliteration systems, languages and
   newsrooms spell differently (:data:`_RULES`, applied in order):

   * ``sch``, ``sh``, ``ch``, ``ş``/``ç`` (already ``s``/``c``), ``c``, ``tsch``, ``tch``,
     ``tsh``, ``zh`` -> ``s``: German ``Schoigu``, English ``Shoigu``, French ``Choïgou``,
     Turkish ``Şoygu``; ``Чавушоглу`` (``Chavushoglu``) = ``Çavuşoğlu`` (``Cavusoglu``).
     The price: ``c`` and ``s`` become one letter everywhere (``cell`` and ``sell`` share
     a key), which widens a search a little; ``--exact`` turns widening off;
   * ``y``, ``j``, ``ï`` (already ``i``) -> ``i``: ``Shoygu`` = ``SHojgu`` = ``Shoigu``;
   * ``w`` -> ``v``, ``ph`` -> ``f``, ``kh`` -> ``h``, ``x`` -> ``ks``, ``q`` -> ``k``,
     ``ou`` -> ``u`` (French), ``dj``/``dzh`` -> ``j`` -> ``i``;
   * doubled letters collapse (``Zelenskyy`` -> ``zelenski`` = ``Zelensky``).

3. **Designators** (:func:`fold` of a whole name of letters and digits: ``С-400``,
   ``Су-57``, ``TB2``): the pieces are joined without the hyphen or space, each letter
   piece transliterated as a word (Cyrillic ``С``, the look-alike of Latin ``C``, is the
   letter Es: ``s``), so Cyrillic ``С-400`` is ``s400`` like Latin ``S-400``, and a lone
   Latin ``C`` typed for the Cyrillic Es (``C-400`` in a Russian text) is read as ``s``.

Single letters and numbers are not folded phonetically (``ш`` stays ``sh``, so ``S-400``
does not widen to ``Ш-400``); :func:`word_key` is the key of one index token.

What folding cannot join (``Selenskyj``/``Zelensky``, ``Kyiv``/``Kiev``, ``НАТО``/``OTAN``,
Arabic names whose vowels are not written) is joined by the gazetteer
(:mod:`archive.config.entities`).

Inflection (:func:`inflected_keys`, :func:`stem_keys`): Turkish suffixes after an
apostrophe (``Erdoğan'ın``, ``Ankara'da``) and English ``'s`` are separate tokens already
(the index splits at apostrophes), so they need nothing. Russian and Ukrainian case
endings (``Лаврова``, ``Лаврову``, ``Лавровым``, ``Зеленского``) are matched by a small
list of folded endings (:data:`ENDINGS`): a query key also finds the indexed words whose
key is the query key plus one ending (or, for adjectival surnames in ``-ий``/``-ый``, the
stem plus an adjectival ending); keys of four letters or fewer are never extended.

:func:`index_words` gives the tokens SQLite FTS5's ``unicode61 remove_diacritics 2``
tokenizer indexes for a text (plus the archive's own ``ı``/``ё`` folding), so the
``fold_terms`` table can map keys to words the index really holds.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

__all__ = [
    "ENDINGS",
    "fold",
    "index_words",
    "inflected_keys",
    "stem_keys",
    "word_key",
]

#: Phonetic rules on the lowercase Latin transliteration, in order (module docstring).
_RULES: tuple[tuple[str, str], ...] = (
    ("tsch", "s"), ("sch", "s"), ("tch", "s"), ("tsh", "s"), ("dzh", "j"), ("dj", "j"),
    ("zh", "s"), ("sh", "s"), ("ch", "s"), ("ph", "f"), ("kh", "h"), ("ou", "u"),
    ("c", "s"), ("w", "v"), ("x", "ks"), ("q", "k"), ("y", "i"), ("j", "i"),
)
_DOUBLED = re.compile(r"(.)\1+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

#: Folded Russian/Ukrainian case endings a name may carry (:func:`inflected_keys`).
ENDINGS: tuple[str, ...] = ("a", "u", "e", "i", "om", "im", "oi", "ei", "iu", "ia", "ov",
                            "ami", "am", "ah", "ui")
#: Adjectival endings replacing a final ``i`` (``-ий``/``-ый``/``-ой``): ``Зеленского``.
_ADJECTIVE_ENDINGS: tuple[str, ...] = ("ogo", "omu", "im", "om", "oi", "ego", "emu", "em",
                                       "aia", "oi", "ui", "ie", "ih", "imi")
#: Keys this short are never extended or stemmed (``s``, ``un``, ``nato``).
_MIN_INFLECTED = 5


def _latin_lower(text: str) -> str:
    return anyascii(text).lower()


def _phonetic(latin: str) -> str:
    for old, new in _RULES:
        latin = latin.replace(old, new)
    return _DOUBLED.sub(r"\1", latin)


@lru_cache(maxsize=500_000)
def word_key(word: str) -> str:
    """The folded key of one token (a word of letters or digits, as the index holds it).

    Numbers and single letters are transliterated only (no phonetic rules), so a
    designator's letter keeps its identity. Pure.

    >>> word_key("Шойгу") == word_key("Schoigu") == word_key("Şoygu")
    True
    """
    latin = _NOT_ALNUM.sub("", _latin_lower(word.translate(_ARCHIVE_FOLD)))
    if len(word) <= 1 or len(latin) <= 1 or latin.isdigit():
        return latin
    return _phonetic(latin)


def _is_designator(name: str) -> bool:
    """Letters and digits both, in at most three pieces: ``С-400``, ``Su-57``, ``TB2``."""
    pieces = [p for p in re.split(r"[\s\-‐-―/]+", name.strip()) if p]
    text = "".join(pieces)
    return (0 < len(pieces) <= 3 and any(ch.isdigit() for ch in text)
            and any(ch.isalpha() for ch in text) and all(ch.isalnum() for ch in text))


def fold(name: str) -> str:
    """The folded key of a name, a word or a designator (module docstring). Pure.

    A multi-word name folds word by word, joined by single spaces; a designator becomes one
    key without separators (``С-400`` and ``S-400`` -> ``s400``; ``Су-57`` -> ``su57``).

    >>> fold("Çavuşoğlu") == fold("Чавушоглу") == fold("Cavusoglu")
    True
    >>> fold("С-400")
    's400'
    """
    if _is_designator(name):
        keys = [word_key(w) for w in index_words(name)]
        # A lone Latin "C" in a designator is the Cyrillic Es typed on a Latin keyboard.
        return "".join("s" if k == "c" else k for k in keys)
    words = (word_key(w) for w in index_words(name))
    return " ".join(w for w in words if w)


# unicode61 with remove_diacritics 2 strips diacritics from Latin letters only (``é``, ``ş``,
# ``ğ``), not from Cyrillic ``й``/``ї``; the archive folds ``ı`` and ``ё`` itself.
_LATIN_LIMIT = 0x250
# "İ" first: Python lowercases it to "i" plus a combining dot, which would split the word.
_ARCHIVE_FOLD = str.maketrans({"İ": "i", "ı": "i", "ё": "е", "Ё": "е"})
_TOKEN = re.compile(r"[^\W_]+")


def _plain_latin(ch: str) -> str:
    if ord(ch) < _LATIN_LIMIT or 0x1E00 <= ord(ch) <= 0x1EFF:
        return "".join(c for c in unicodedata.normalize("NFD", ch)
                       if not unicodedata.combining(c))
    return ch


class _PlainLatinTable(dict[int, str]):
    """:func:`_plain_latin` as a ``str.translate`` table, filled on first sight of each
    character: a text then costs one C-level lookup per character instead of a Python
    call (a curly quote or a dash makes nearly every news text non-ASCII)."""

    def __missing__(self, code: int) -> str:
        self[code] = plain = _plain_latin(chr(code))
        return plain


_PLAIN_LATIN = _PlainLatinTable()


def index_words(text: str) -> list[str]:
    """The tokens the FTS index holds for ``text``, in order (with repeats). Pure.

    Mirrors ``unicode61 remove_diacritics 2`` (letters and digits are token characters,
    anything else separates; lowercase; Latin diacritics removed) plus the archive's
    ``ı`` -> ``i`` and ``ё`` -> ``е``.
    """
    lowered = text.translate(_ARCHIVE_FOLD).lower()
    if not lowered.isascii():
        lowered = lowered.translate(_PLAIN_LATIN)
    return _TOKEN.findall(lowered)


def inflected_keys(key: str) -> list[str]:
    """Keys of the inflected forms a folded name key ``key`` may take (not ``key`` itself):
    ``lavrov`` -> ``lavrova``, ``lavrovu``...; ``zelenski`` -> ``zelenskogo``... Pure."""
    if len(key) < _MIN_INFLECTED or not key.isalpha():
        return []
    keys = [key + ending for ending in ENDINGS]
    if key.endswith("i"):
        keys += [key[:-1] + ending for ending in _ADJECTIVE_ENDINGS]
    if key.endswith("a"):
        keys += [key[:-1] + ending for ending in ("i", "e", "u", "oi", "ui", "ei")]
    if key.endswith("ia"):  # -ия: Россия, России (ии collapses), Россию, Россией
        keys += [key[:-1], key[:-1] + "u", key[:-1] + "ei", key[:-1] + "e"]
    return list(dict.fromkeys(k for k in keys if k != key))


@lru_cache(maxsize=500_000)
def stem_keys(key: str) -> tuple[str, ...]:
    """The base keys an inflected word key may come from (the inverse of
    :func:`inflected_keys`): ``lavrovim`` -> ``lavrov``, ``zelenskogo`` -> ``zelenski``.
    Used to tag entities in a text. Pure."""
    out: list[str] = []
    if not key.isalpha():
        return ()
    for ending in ENDINGS:
        base = key[: -len(ending)]
        if key.endswith(ending) and len(base) >= _MIN_INFLECTED:
            out.append(base)
    for ending in _ADJECTIVE_ENDINGS:
        base = key[: -len(ending)] + "i"
        if key.endswith(ending) and len(base) >= _MIN_INFLECTED:
            out.append(base)
    for ending in ("i", "e", "u", "oi", "ui", "ei"):
        base = key[: -len(ending)] + "a"
        if key.endswith(ending) and len(base) >= _MIN_INFLECTED:
            out.append(base)
    for ending in ("i", "iu", "iei", "ie"):  # -ия nouns (inflected_keys)
        base = key[: -len(ending)] + "ia"
        if key.endswith(ending) and len(base) >= _MIN_INFLECTED:
            out.append(base)
    return tuple(dict.fromkeys(k for k in out if k != key))
