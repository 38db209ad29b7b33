"""Names in every script: the folded key (pure), the index words, inflection."""

from __future__ import annotations

import sqlite3

import pytest

from archive.folding import fold, index_words, inflected_keys, stem_keys, word_key


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        pytest.param(["Shoigu", "Shoygu", "Şoygu", "Шойгу", "SHojgu", "Schoigu", "Choïgou"],
                     "soigu", id="shoigu"),
        pytest.param(["Чавушоглу", "Cavusoglu", "Çavuşoğlu", "Tschawuschoglu"], "savusoglu",
                     id="cavusoglu"),
        pytest.param(["С-400", "S-400", "S 400", "C-400"], "s400", id="s-400-cyrillic-es"),
        pytest.param(["Су-57", "Su-57"], "su57", id="su-57"),
        pytest.param(["Zelensky", "Zelenskyy", "Зеленский", "Зеленський"], "zelenski",
                     id="zelensky"),
        pytest.param(["Lavrov", "Лавров", "Lawrow"], "lavrov", id="lavrov"),
        pytest.param(["Erdogan", "Erdoğan", "Эрдоган", "ERDOĞAN"], "erdogan", id="erdogan"),
        pytest.param(["Fidan", "Фидан", "Фідан"], "fidan", id="fidan"),
        pytest.param(["Ёлка", "Елка"], "elka", id="yo-is-e"),
    ],
)
def test_spellings_of_one_name_share_a_key(spellings: list[str], key: str) -> None:
    assert {fold(s) for s in spellings} == {key}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param("Shoigu", "Lavrov", id="names"),
        pytest.param("S-400", "S-300", id="designators"),
        pytest.param("С-400", "Ш-400", id="es-is-not-sha"),
        pytest.param("Putin", "Patriot", id="words"),
    ],
)
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert fold(a) != fold(b)


def test_single_letters_and_numbers_are_only_transliterated() -> None:
    # A designator's letter keeps its identity: "ш" is not the phonetic "s" of "sh".
    assert [word_key(w) for w in ("с", "s", "ш", "400", "x")] == ["s", "s", "sh", "400", "x"]


TEXT = ("Erdoğan'ın Zelenskyy's İstanbul'da Шойгу С-400 ёлка x_y café Kasım "
        "Київ سيرغي شويغو 中国 Su-57")


def test_index_words_are_the_tokens_sqlite_indexes() -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'row')")
    # The archive folds ı and ё itself before indexing (archive.store.query.FOLD).
    conn.execute("INSERT INTO t VALUES (?)", [TEXT.replace("ı", "i").replace("ё", "е")])
    indexed = {row[0] for row in conn.execute("SELECT term FROM v")}
    assert set(index_words(TEXT)) == indexed


def test_turkish_and_english_apostrophe_suffixes_are_words_of_their_own() -> None:
    # The tokenizer splits at the apostrophe: "Erdoğan'ın" holds the word "erdogan".
    assert index_words("Erdoğan'ın Ankara’da Zelenskyy's") == [
        "erdogan", "in", "ankara", "da", "zelenskyy", "s"]


@pytest.mark.parametrize(
    ("form", "base"),
    [
        pytest.param("Лаврова", "Lavrov", id="genitive"),
        pytest.param("Лаврову", "Lavrov", id="dative"),
        pytest.param("Лавровым", "Lavrov", id="instrumental"),
        pytest.param("Путине", "Putin", id="prepositional"),
        pytest.param("Зеленского", "Zelensky", id="adjectival-genitive"),
        pytest.param("Зеленському", "Zelensky", id="ukrainian-dative"),
        pytest.param("Москвы", "Moskva", id="feminine-genitive"),
        pytest.param("России", "Россия", id="ija-genitive"),
        pytest.param("Турцию", "Турция", id="ija-accusative"),
    ],
)
def test_case_endings_lead_back_to_the_name(form: str, base: str) -> None:
    assert word_key(form) in inflected_keys(word_key(base))
    assert word_key(base) in stem_keys(word_key(form))


def test_short_keys_are_never_inflected() -> None:
    assert inflected_keys("nato") == []
    assert stem_keys("natoa") == ()


def test_the_translate_table_strips_what_the_per_character_rule_strips() -> None:
    """``index_words`` strips Latin diacritics through a lazily filled ``str.translate``
    table; it must map every character as :func:`archive.folding._plain_latin` does."""
    from archive.folding import _PLAIN_LATIN, _plain_latin

    chars = "".join(chr(c) for c in range(0x80, 0x3000) if not 0xD800 <= c < 0xE000)
    chars += "\u1e9e\u1ef3\U0001d400\ufb01"
    assert chars.translate(_PLAIN_LATIN) == "".join(_plain_latin(ch) for ch in chars)
    assert index_words("Çavuşoğlu’s “İstanbul” — Ёлка") == [
        "cavusoglu", "s", "istanbul", "елка"]
