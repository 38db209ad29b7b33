"""The gazetteer: ``config/entities.toml``, the entities of the field with their spellings.

Schema (one ``[[entity]]`` table per entity; every spelling list optional)::

    [[entity]]
    id = "sergei-shoigu"        # lowercase ascii slug, unique
    kind = "person"             # person | country | place | organisation | weapon
    name = "Sergei Shoigu"      # English display name
    en = ["Shoigu"]             # spellings, one list per language:
    ru = ["Сергей Шойгу"]       #   en ru uk tr ar fr de
    ...

Where it is read from (:func:`gazetteer_paths`): the bundled file ``config/entities.toml``
of the mediawatch checkout, then, when ``MEDIAWATCH_ENTITIES`` names a file (or several,
separated by the OS path separator), those files in order: an entry whose ``id`` is already
known replaces it, a new ``id`` extends the list. Entity tags are derived data: after
changing the gazetteer, ``mediawatch reindex`` tags the archive again.

Pure apart from reading files: no database. Matching lives in :mod:`archive.gazetteer`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from archive.config.files import ConfigError, no_unknown, parse_toml, read_text

__all__ = [
    "BUNDLED",
    "ENV",
    "KINDS",
    "LANGUAGES",
    "Entity",
    "Gazetteer",
    "default_gazetteer",
    "gazetteer_paths",
    "load_entities",
    "parse_entities",
]

KINDS = ("person", "country", "place", "organisation", "weapon")
LANGUAGES = ("en", "ru", "uk", "tr", "ar", "fr", "de")
#: The bundled gazetteer, beside sources.toml in the checkout.
BUNDLED = Path(__file__).resolve().parents[2] / "config" / "entities.toml"
#: Extra gazetteer files of the user (module docstring).
ENV = "MEDIAWATCH_ENTITIES"
_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_KEYS = frozenset({"id", "kind", "name", *LANGUAGES})


@dataclass(frozen=True, slots=True)
class Entity:
    """One entity: ``id`` (slug), ``kind``, English ``name`` and its spellings by language."""

    id: str
    kind: str
    name: str
    spellings: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def aliases(self) -> tuple[str, ...]:
        """Every spelling (the display name first), each once."""
        names = [self.name, *(s for _lang, spellings in self.spellings for s in spellings)]
        return tuple(dict.fromkeys(names))


# eq=False: hashed by identity. The matcher is cached per gazetteer, and a value hash walks
# every spelling of every entity on each lookup (a millisecond per article at ingest).
@dataclass(frozen=True, slots=True, eq=False)
class Gazetteer:
    """The entities, in file order (ids unique)."""

    entities: tuple[Entity, ...] = ()

    def get(self, entity_id: str) -> Entity | None:
        """The entity ``entity_id``, or None."""
        return next((e for e in self.entities if e.id == entity_id), None)


def _strings(value: Any, path: str | Path, entry: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(path, entry, key, "must be a list of non-empty strings",
                          kind="entity")
    return tuple(v.strip() for v in value)


def _entity(table: Any, path: str | Path, index: int) -> Entity:
    if not isinstance(table, dict):
        raise ConfigError(path, f"#{index + 1}", None, "must be a table", kind="entity")
    entry = str(table.get("id", f"#{index + 1}"))
    no_unknown(table, _KEYS, path, entry, kind="entity")
    for key in ("id", "kind", "name"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(path, entry, key, "required, a non-empty string", kind="entity")
    if not _ID.fullmatch(table["id"]):
        raise ConfigError(path, entry, "id", "must be a lowercase ascii slug (a-z, 0-9, -)",
                          kind="entity")
    if table["kind"] not in KINDS:
        raise ConfigError(path, entry, "kind", f"must be one of {', '.join(KINDS)}",
                          kind="entity")
    spellings = tuple((lang, _strings(table[lang], path, entry, lang))
                      for lang in LANGUAGES if lang in table)
    return Entity(table["id"], table["kind"], table["name"].strip(), spellings)


def parse_entities(text: str, path: str | Path = "<entities>") -> Gazetteer:
    """Parse a gazetteer file's text (module docstring); :class:`ConfigError` when bad."""
    data = parse_toml(text, path)
    no_unknown(data, {"entity"}, path, None, kind="entity")
    tables = data.get("entity", [])
    if not isinstance(tables, list):
        raise ConfigError(path, None, "entity", "must be an array of tables ([[entity]])",
                          kind="entity")
    entities = [_entity(t, path, i) for i, t in enumerate(tables)]
    seen: set[str] = set()
    for entity in entities:
        if entity.id in seen:
            raise ConfigError(path, entity.id, "id", "duplicate id", kind="entity")
        seen.add(entity.id)
    return Gazetteer(tuple(entities))


def load_entities(*paths: str | Path) -> Gazetteer:
    """Load and merge gazetteer files in order: a later entry with a known id replaces it."""
    merged: dict[str, Entity] = {}
    for path in paths:
        text = read_text(Path(path))
        assert text is not None
        for entity in parse_entities(text, path).entities:
            merged[entity.id] = entity
    return Gazetteer(tuple(merged.values()))


def gazetteer_paths(env: str | None = None) -> tuple[Path, ...]:
    """The files the archive's gazetteer is read from: the bundled one (when present) and
    those named by ``env`` (default: the ``MEDIAWATCH_ENTITIES`` variable)."""
    extra = os.environ.get(ENV, "") if env is None else env
    paths = [BUNDLED] if BUNDLED.is_file() else []
    return (*paths, *(Path(p) for p in extra.split(os.pathsep) if p.strip()))


@lru_cache(maxsize=8)
def _cached(paths: tuple[Path, ...], stamps: tuple[float, ...]) -> Gazetteer:
    del stamps  # part of the cache key only: an edited file is read again
    return load_entities(*paths)


def default_gazetteer() -> Gazetteer:
    """The gazetteer of :func:`gazetteer_paths`, read once per change of its files."""
    paths = gazetteer_paths()
    stamps = tuple(p.stat().st_mtime if p.is_file() else 0.0 for p in paths)
    return _cached(paths, stamps)
