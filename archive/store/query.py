"""The search query language: what a user (or a watchlist) types, translated into an FTS5
MATCH expression by :func:`fts_expression`. Pure: no SQLite, so config validation can
check a watchlist's query without loading the store.

Query syntax (:func:`fts_expression`)
-------------------------------------
* words: ``S-400 Patriot`` finds articles with all the words (each word is matched as
  the tokens it contains, so ``S-400`` is the phrase ``s 400``); case and diacritics do not
  matter (``cafe`` finds ``café``, ``министр`` finds ``Министр``);
* ``"quoted phrases"``;
* ``AND``, ``OR``, ``NOT`` in capitals (lowercase ``and`` is a word); ``AND NOT`` reads as
  ``NOT``. Precedence is FTS5's: ``NOT`` binds tightest, then ``AND`` (written or implied),
  then ``OR``; use parentheses to group;
* ``word*`` and ``"a phrase"*`` for prefixes;
* ``title:word``, ``lead:"a phrase"``, ``body:(a OR b)`` restrict to one column;
* parentheses.

Anything else is read as plain words, never as FTS5 syntax: unbalanced quotes and
parentheses, an operator with nothing on one side (``AND`` alone, ``S-400 OR``, leading
``NOT``), ``-``, ``^``, ``:``, ``NEAR(``, unknown ``column:`` names, a lone ``*``. Every
term is emitted as an FTS5 string (``"..."`` with ``""`` escaping) and the expression is
passed as a bound parameter, so no input can produce an FTS5 syntax error or reach SQL.
Control characters count as spaces. Pieces without any letter or digit (``*``, ``--``,
``(``) are dropped, because an empty FTS5 string matches nothing and would empty the whole
result; a query left with no words (``*``, ``-``, ``(((``) raises :class:`QueryError`.

Names in every script: :func:`fts_expression` takes an ``expand`` callback that widens each
term (not prefixes) into an OR of alternatives (:mod:`archive.store.names`); the syntax
itself is unchanged, and :func:`query_terms` lists the terms to widen. The same callback
may also spell out a one-word prefix (asked for as ``word*``, listed by
:func:`query_prefixes`) as the OR of the indexed words it stands for: the same matches,
without FTS5 reading every posting of every such word whenever a prefix cursor opens.

Languages: the index uses ``unicode61 remove_diacritics 2`` without stemming. Cyrillic is
case-folded (``министр`` = ``МИНИСТР``). unicode61 alone keeps Turkish dotless ``ı`` and
Russian ``ё`` as letters of their own (``kasim`` would not find ``Kasım``, ``елка`` would
not find ``ёлка``; ``İstanbul`` already folds to ``istanbul``), so the index and the query
terms both fold ``ı`` -> ``i`` and ``ё`` -> ``е`` (:data:`FOLD`): ``kasim``,
``Kasım`` and ``KASIM`` all find ``Kasım``. Words are matched whole: ``Kasımda`` needs
``kasım*``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from archive.folding import index_words

__all__ = ["FOLD", "FTS_COLUMNS", "MAX_QUERY_CHARS", "Expand", "QueryError", "fold_text",
           "fts_expression", "query_prefixes", "query_terms"]

#: A term's widening: the query term (a word or a phrase, as typed) -> the phrases it stands
#: for (index words joined by spaces; :func:`archive.store.names.expand_terms`), or None.
Expand = Callable[[str], "tuple[str, ...] | None"]

#: The searchable text columns of the FTS index (what a user's query and ``title:``
#: filters address).
FTS_COLUMNS = ("title", "lead", "body")

#: Letters the FTS index folds beyond what ``unicode61 remove_diacritics 2`` does, so that
#: people typing without them still find the text: Turkish dotless ``ı`` is a letter of its
#: own to unicode61 (``kasim`` would not find ``Kasım``; ``I``/``İ`` already fold to ``i``),
#: and Russian ``ё`` is not a diacritic form to it (``елка`` would not find ``ёлка``).
#: Applied to the indexed text by the triggers (:func:`archive.store.schema.fold_sql`) and
#: to query terms (:func:`fold_text`). Each replacement is one letter for one letter, so
#: token positions are unchanged and snippets, read from the unfolded ``articles`` row,
#: highlight the right words in their original spelling. The price: the index is not a
#: plain copy of the content table, so FTS5's ``'rebuild'`` command (and ``sqlite-utils
#: rebuild-fts``) must not be used (it would index unfolded text, which the delete trigger
#: then cannot remove) and ``'integrity-check'`` with rank 1 reports the difference;
#: :func:`archive.store.schema.rebuild_fts` rebuilds the index the right way, and the
#: plain ``'integrity-check'`` passes.
FOLD: tuple[tuple[str, str], ...] = (("ı", "i"), ("ё", "е"), ("Ё", "Е"))

MAX_QUERY_CHARS = 2000
_MAX_DEPTH = 16
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_SPECIAL = frozenset('()"')


class QueryError(ValueError):
    """A search that cannot be run; the message is one line, fit for the CLI and web UI."""


def fold_text(text: str) -> str:
    """``text`` with the :data:`FOLD` replacements applied (the query side)."""
    for old, new in FOLD:
        text = text.replace(old, new)
    return text


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "term", "lparen", "rparen", "op"
    text: str  # term text (unquoted), or operator name
    raw: str  # as typed, for reading the token as a plain word
    column: str | None = None
    prefix: bool = False


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _word(raw: str, column: str | None = None, text: str | None = None) -> _Token:
    text = raw if text is None else text
    stripped = text.rstrip("*")
    if stripped != text and _has_word(stripped):
        return _Token("term", stripped, raw, column, prefix=True)
    return _Token("term", text, raw, column)


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(_Token("lparen", "(", "("))
            i += 1
        elif ch == ")":
            tokens.append(_Token("rparen", ")", ")"))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:  # unbalanced: the quote is punctuation, the rest plain words
                i += 1
                continue
            start, phrase, i = i, text[i + 1 : end], end + 1
            prefix = i < n and text[i] == "*"
            i += prefix
            tokens.append(_Token("term", phrase, text[start:i], None, prefix))
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _SPECIAL:
                i += 1
            i = _lex_word(text, start, i, tokens)
    return tokens


def _lex_word(text: str, start: int, end: int, tokens: list[_Token]) -> int:
    """Append the token(s) of the word ``text[start:end]``; return where lexing goes on."""
    raw = text[start:end]
    if raw in _OPERATORS:
        tokens.append(_Token("op", raw, raw))
        return end
    name, colon, rest = raw.partition(":")
    column = name.lower()
    if not colon or column not in FTS_COLUMNS:
        tokens.append(_word(raw))
        return end
    if rest:
        tokens.append(_word(raw, column, rest))
        return end
    following = text[end : end + 1]
    if following == "(":
        tokens.append(_Token("lparen", "(", raw + "(", column))
        return end + 1
    if following == '"':
        close = text.find('"', end + 1)
        if close > 0:
            after = close + 1
            prefix = text[after : after + 1] == "*"
            phrase = text[end + 1 : close]
            tokens.append(_Token("term", phrase, text[start : after + prefix], column, prefix))
            return after + prefix
    tokens.append(_word(raw))  # "title:" with nothing after it
    return end


def _match_parens(tokens: list[_Token]) -> tuple[list[_Token], dict[int, int]]:
    """Pair parentheses; unmatched (or too deeply nested) ones become plain words."""
    tokens = list(tokens)
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for index, token in enumerate(tokens):
        if token.kind == "lparen":
            if len(stack) >= _MAX_DEPTH:
                tokens[index] = _word(token.raw)
            else:
                stack.append(index)
        elif token.kind == "rparen":
            if stack:
                pairs[stack.pop()] = index
            else:
                tokens[index] = _word(token.raw)
    for index in stack:
        tokens[index] = _word(tokens[index].raw)
    return tokens, pairs


def _quote(text: str) -> str:
    return '"' + fold_text(text).replace('"', '""') + '"'


def _term(token: _Token, expand: Expand | None = None) -> str | None:
    if not _has_word(token.text):
        return None
    rendered = _quote(token.text) + ("*" if token.prefix else "")
    if token.prefix:
        words = expand(token.text + "*") if expand is not None else None
        if words:
            rendered = "(" + " OR ".join(_quote(w) for w in words) + ")"
        others = None
    else:
        others = expand(token.text) if expand is not None else None
    if others:
        own = " ".join(index_words(token.text))
        extra = [_quote(p) for p in others if p != own]
        if extra:
            rendered = "(" + " OR ".join([rendered, *extra]) + ")"
    return f"{token.column} : {rendered}" if token.column else rendered


def _render(tokens: list[_Token], pairs: dict[int, int], start: int, end: int,
            expand: Expand | None = None) -> str | None:
    """FTS5 expression for ``tokens[start:end]``, or None when nothing is left."""
    units: list[tuple[str, str]] = []  # ("operand", expression) or ("op", name)
    i = start
    while i < end:
        token = tokens[i]
        if token.kind == "lparen":
            close = pairs[i]
            inner = _render(tokens, pairs, i + 1, close, expand)
            if inner is not None:
                group = f"{token.column} : ({inner})" if token.column else f"({inner})"
                units.append(("operand", group))
            i = close + 1
            continue
        if token.kind == "op":
            units.append(("op", token.text))
        elif token.kind == "term" and (term := _term(token, expand)) is not None:
            units.append(("operand", term))
        i += 1
    out: list[str] = []
    after_operand = False
    for k, (kind, value) in enumerate(units):
        if kind == "op":
            nxt, then = (units[j] if j < len(units) else ("end", "") for j in (k + 1, k + 2))
            if value == "AND" and after_operand and nxt == ("op", "NOT") and then[0] == "operand":
                continue  # "a AND NOT b" means "a NOT b"
            if after_operand and nxt[0] == "operand":
                out.append(value)
                after_operand = False
                continue
            value = _quote(value)  # an operator with nothing to join is a word
        if after_operand:
            out.append("AND")
        out.append(value)
        after_operand = True
    return " ".join(out) or None


def _check(text: str) -> str:
    if not text or not text.strip():
        raise QueryError("empty search query")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"search query too long ({len(text)} characters, at most {MAX_QUERY_CHARS})"
        )
    # Control characters are never searchable, and a NUL would end FTS5's reading early.
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)


def query_terms(text: str) -> list[str]:
    """The terms of a query that widening applies to: each word and quoted phrase as typed,
    prefixes (``word*``) left out. Pure; raises :class:`QueryError` like
    :func:`fts_expression`."""
    tokens, _pairs = _match_parens(_lex(_check(text)))
    return [t.text for t in tokens if t.kind == "term" and not t.prefix and _has_word(t.text)]


def query_prefixes(text: str) -> list[str]:
    """The one-word prefixes of a query (``negotiat*``), without their ``*``: those an
    ``expand`` callback may spell out (module docstring). Pure; raises
    :class:`QueryError` like :func:`fts_expression`."""
    tokens, _pairs = _match_parens(_lex(_check(text)))
    return [t.text for t in tokens
            if t.kind == "term" and t.prefix and len(index_words(t.text)) == 1]


def fts_expression(text: str, expand: Expand | None = None) -> str:
    """Translate the user's query syntax (module docstring) into an FTS5 MATCH expression.

    Pure and total: any input yields a valid expression or :class:`QueryError` (empty
    query, nothing searchable, too long). ``expand`` widens each term (not prefixes) into
    the OR of the phrases it returns (names in every script: :mod:`archive.store.names`);
    the term as typed stays first. ``expand("word*")`` may return the words a prefix stands
    for, which replace it.

    >>> fts_expression('title:"S-400" OR Patriot*')
    'title : "S-400" OR "Patriot"*'
    """
    text = _check(text)
    tokens, pairs = _match_parens(_lex(text))
    expression = _render(tokens, pairs, 0, len(tokens), expand)
    if expression is None:
        raise QueryError(f"nothing to search for in {text.strip()[:80]!r}: no letters or digits")
    return expression
