"""The bundled alias gazetteer (config/entities.toml) is well formed and useful.

Reads the file with tomllib only, so the data is checked on its own, whatever the code that
loads it (archive/config/entities.py) does. Every check is a pure function over the parsed
document; the last tests feed each one a broken document to show it would catch the fault.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ENTITIES_TOML = Path(__file__).resolve().parent.parent / "config" / "entities.toml"

KINDS = {"person", "country", "place", "organisation", "weapon"}
LANGUAGES = ("en", "ru", "uk", "tr", "ar", "fr", "de")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# A Soviet/Russian-style or Western designator: letters, a hyphen, then a digit (S-400,
# Su-57, Kh-101, Tu-22M3, F-16). Russian and Ukrainian text writes these in Cyrillic
# (С-400 with the letter Es, Су-57, Х-101, Ф-16), which is why each needs a Cyrillic form.
DESIGNATOR_RE = re.compile(r"\b[A-Za-z]{1,5}-\d")
CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")
ARABIC_RE = re.compile(r"[\u0600-\u06FF]")
WORD_RE = re.compile(r"[^\W_]+")
LATIN_RE = re.compile(r"[A-Za-z]")
# Letters only one of the two Cyrillic languages has: a Russian spelling with і/ї/є/ґ or a
# Ukrainian one with ы/э/ъ/ё was filed under the wrong language.
NOT_RUSSIAN_RE = re.compile(r"[іїєґІЇЄҐ]")
NOT_UKRAINIAN_RE = re.compile(r"[ыэъёЫЭЪЁ]")

# The seed ids the loader (archive/config/entities.py) and its tests rely on, with the kind.
REQUIRED = {
    "sergei-shoigu": "person",
    "sergey-lavrov": "person",
    "volodymyr-zelensky": "person",
    "recep-tayyip-erdogan": "person",
    "mevlut-cavusoglu": "person",
    "vladimir-putin": "person",
    "hakan-fidan": "person",
    "nato": "organisation",
    "united-nations": "organisation",
    "ministry-of-defence-russia": "organisation",
    "s-400": "weapon",
    "su-57": "weapon",
    "bayraktar-tb2": "weapon",
    "iskander": "weapon",
    "himars": "weapon",
    "patriot": "weapon",
    "idlib": "place",
    "turkey": "country",
    "russia": "country",
    "ukraine": "country",
    "syria": "country",
    "ankara": "place",
    "moscow": "place",
    "kyiv": "place",
    "united-states": "country",
}

# Rough floors per kind, so that the list stays balanced across the field.
KIND_FLOORS = {"person": 110, "organisation": 55, "weapon": 85}
PLACE_FLOOR = 80  # countries and places together


def load(path: Path = ENTITIES_TOML) -> list[dict[str, Any]]:
    """The [[entity]] tables of the gazetteer file."""
    with path.open("rb") as handle:
        document = tomllib.load(handle)
    entities = document.get("entity", [])
    assert isinstance(entities, list)
    return entities


def spellings(entity: dict[str, Any]) -> list[str]:
    """Every spelling of an entity, its display name included."""
    found = [entity["name"]] if isinstance(entity.get("name"), str) else []
    for lang in LANGUAGES:
        found.extend(entity.get(lang, []))
    return found


def bad_ids(entities: list[dict[str, Any]]) -> list[str]:
    """Ids that are missing, not a lowercase ascii slug, or used twice."""
    seen: set[str] = set()
    bad = []
    for entity in entities:
        ident = entity.get("id")
        if not isinstance(ident, str) or not ID_RE.match(ident) or ident in seen:
            bad.append(repr(ident))
        seen.add(str(ident))
    return bad


def bad_shapes(entities: list[dict[str, Any]]) -> list[str]:
    """Entities with an unknown key or kind, no name, fewer than 3 languages, or a
    spelling that is not a clean non-empty string in the script of its language."""
    bad = []
    allowed = {"id", "kind", "name", *LANGUAGES}
    for entity in entities:
        ident = entity.get("id")
        if set(entity) - allowed:
            bad.append(f"{ident}: unknown keys {sorted(set(entity) - allowed)}")
        if entity.get("kind") not in KINDS:
            bad.append(f"{ident}: kind {entity.get('kind')!r}")
        name = entity.get("name")
        if not isinstance(name, str) or not name.strip():
            bad.append(f"{ident}: no name")
        languages = [lang for lang in LANGUAGES if lang in entity]
        if len(languages) < 3:
            bad.append(f"{ident}: only {languages}")
        for lang in languages:
            values = entity[lang]
            if not isinstance(values, list) or not values:
                bad.append(f"{ident}.{lang}: not a non-empty list")
                continue
            for value in values:
                if not isinstance(value, str) or not value or value != value.strip():
                    bad.append(f"{ident}.{lang}: {value!r}")
                elif lang in ("ru", "uk") and not CYRILLIC_RE.search(value) and not (
                    DESIGNATOR_RE.search(value) or value.isupper()
                ):
                    # Latin forms are allowed in ru/uk only for designators and acronyms
                    # (F-16, HIMARS), which that press prints in Latin letters.
                    bad.append(f"{ident}.{lang}: {value!r} is not Cyrillic")
                elif lang == "ar" and not ARABIC_RE.search(value):
                    bad.append(f"{ident}.ar: {value!r} is not Arabic")
                elif lang in ("en", "tr", "fr", "de") and (
                    CYRILLIC_RE.search(value) or ARABIC_RE.search(value)
                ):
                    bad.append(f"{ident}.{lang}: {value!r} is not Latin")
                elif lang == "ru" and NOT_RUSSIAN_RE.search(value):
                    bad.append(f"{ident}.ru: {value!r} has Ukrainian letters")
                elif lang == "uk" and NOT_UKRAINIAN_RE.search(value):
                    bad.append(f"{ident}.uk: {value!r} has Russian letters")
                elif any(CYRILLIC_RE.search(w) and LATIN_RE.search(w)
                         for w in WORD_RE.findall(value)):
                    # A word mixing scripts is a look-alike typo (Latin C in С-400).
                    bad.append(f"{ident}.{lang}: {value!r} mixes Latin and Cyrillic letters")
    return bad


def designators_without_cyrillic(entities: list[dict[str, Any]]) -> list[str]:
    """Weapons named by a Latin designator (S-400) with no Cyrillic spelling (С-400)."""
    bad = []
    for entity in entities:
        if entity.get("kind") != "weapon":
            continue
        forms = spellings(entity)
        latin_designator = any(
            DESIGNATOR_RE.search(form) and not CYRILLIC_RE.search(form) for form in forms
        )
        if latin_designator and not any(CYRILLIC_RE.search(form) for form in forms):
            bad.append(str(entity.get("id")))
    return bad


def shared_spellings(entities: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Spellings (compared case-insensitively) listed under more than one id."""
    owners: dict[str, set[str]] = defaultdict(set)
    for entity in entities:
        for form in spellings(entity):
            if isinstance(form, str):
                owners[form.casefold()].add(str(entity.get("id")))
    return {form: sorted(ids) for form, ids in owners.items() if len(ids) > 1}


@pytest.fixture(scope="module")
def entities() -> list[dict[str, Any]]:
    return load()


def test_at_least_350_entities(entities: list[dict[str, Any]]) -> None:
    assert len(entities) >= 350


def test_every_kind_is_well_represented(entities: list[dict[str, Any]]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for entity in entities:
        counts[entity.get("kind", "?")] += 1
    for kind, floor in KIND_FLOORS.items():
        assert counts[kind] >= floor, (kind, counts[kind])
    assert counts["country"] + counts["place"] >= PLACE_FLOOR, dict(counts)


def test_ids_are_unique_slugs(entities: list[dict[str, Any]]) -> None:
    assert bad_ids(entities) == []


def test_entities_are_well_formed(entities: list[dict[str, Any]]) -> None:
    assert bad_shapes(entities) == []


def test_latin_designators_have_a_cyrillic_spelling(entities: list[dict[str, Any]]) -> None:
    assert designators_without_cyrillic(entities) == []


def test_no_spelling_belongs_to_two_entities(entities: list[dict[str, Any]]) -> None:
    assert shared_spellings(entities) == {}


def test_seed_ids_exist_with_their_kind(entities: list[dict[str, Any]]) -> None:
    kinds = {entity["id"]: entity.get("kind") for entity in entities}
    missing = {ident: kind for ident, kind in REQUIRED.items() if kinds.get(ident) != kind}
    assert missing == {}


def test_cross_script_spellings_of_the_issue_examples(entities: list[dict[str, Any]]) -> None:
    """The cases issue 11 measured: each must be joined by the gazetteer."""
    by_id = {entity["id"]: set(spellings(entity)) for entity in entities}
    assert {"Шойгу", "Shoigu", "Şoygu"} <= by_id["sergei-shoigu"]
    assert {"Чавушоглу", "Cavusoglu", "Çavuşoğlu"} <= by_id["mevlut-cavusoglu"]
    assert {"Selenskyj", "Zelensky", "Зеленский", "Зеленський"} <= by_id["volodymyr-zelensky"]
    assert {"NATO", "НАТО", "OTAN"} <= by_id["nato"]
    assert {"S-400", "С-400"} <= by_id["s-400"]
    assert "Минобороны" in by_id["ministry-of-defence-russia"]


# The checks themselves, on documents broken on purpose.

def _entity(ident: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": ident, "kind": "person", "name": ident.title(),
        "en": [ident.title()], "ru": [f"Имя {ident}"], "de": [ident.upper()],
    }
    base.update(extra)
    return base


def test_checks_catch_broken_documents() -> None:
    assert bad_ids([_entity("a-b"), _entity("a-b")]) == ["'a-b'"]
    assert bad_ids([_entity("Bad_Id")]) == ["'Bad_Id'"]
    assert bad_shapes([_entity("x", kind="ship")]) == ["x: kind 'ship'"]
    thin = _entity("x")
    del thin["de"]
    assert bad_shapes([thin]) == ["x: only ['en', 'ru']"]
    assert bad_shapes([_entity("x", ar=["Assad"])]) == ["x.ar: 'Assad' is not Arabic"]
    assert bad_shapes([_entity("x", ru=["Shoigu"])]) == ["x.ru: 'Shoigu' is not Cyrillic"]
    assert bad_shapes([_entity("x", ru=["Сергій"])]) == ["x.ru: 'Сергій' has Ukrainian letters"]
    assert bad_shapes([_entity("x", uk=["Пётр"])]) == ["x.uk: 'Пётр' has Russian letters"]
    latin_c = "\u0043у-57"  # Latin C, then Cyrillic у: the look-alike typo
    assert bad_shapes([_entity("x", ru=[latin_c])]) == [
        f"x.ru: {latin_c!r} mixes Latin and Cyrillic letters"
    ]
    weapon = _entity("s-1", kind="weapon", name="S-1", ru=["S-1"])
    assert designators_without_cyrillic([weapon]) == ["s-1"]
    assert designators_without_cyrillic([{**weapon, "uk": ["С-1"]}]) == []
    assert shared_spellings([_entity("a", en=["Same"]), _entity("b", en=["same"])]) == {
        "same": ["a", "b"]
    }
