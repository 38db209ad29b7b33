"""Article identity and deduplication: the one place where the rules are written down.

Everything here is pure (no database, no clock, no network): given the same pages in the
same order, :mod:`archive.store.articles` (the archive's write side) reaches the same ids,
aliases and versions, which is what lets ``mediawatch reindex`` rebuild ``archive.db`` from
the WARC files alone.

URL normalization (:func:`archive.store.urls.normalize_url`)
------------------------------------------------------------
Every URL is compared in normalized form (the code is in :mod:`archive.store.urls`). Only
absolute ``http``/``https`` URLs are accepted (anything else raises
:class:`~archive.store.urls.UrlError`).

1. Tabs and newlines are removed and surrounding whitespace stripped (as browsers do).
2. Scheme: ``http`` and ``https`` are the same document for a news site, so both become
   ``https``. A port is dropped when it is the default of the scheme the URL was written
   with (80 for http, 443 for https); any other port is kept.
3. Host: lowercased, a trailing dot removed, internationalized names converted to their
   ASCII (IDNA/punycode) form. ``www.`` is **kept**: ``www.example.com`` and
   ``example.com`` are different hosts on the web and some outlets serve different things
   on them; the canonical link, when the site has one, joins the two spellings anyway.
   User info (``user:password@``) is dropped: it never identifies a story and must never be
   stored.
4. Path: ``.``/``..`` segments resolved, an empty path becomes ``/``. The trailing slash
   is **kept** as written (``/a`` and ``/a/`` may be different resources). Case is kept
   (paths are case-sensitive).
5. Percent-encoding (RFC 3986 section 6.2.2): escapes of unreserved characters
   (``A-Z a-z 0-9 - . _ ~``) are decoded, every other escape is uppercased (``%2f`` ->
   ``%2F``), non-ASCII characters are encoded as UTF-8 escapes and characters that may not
   appear raw (space, ``"``, ``<``, ``|``...) are escaped; a stray ``%`` becomes ``%25``.
   Reserved characters keep their form: ``%2F`` is never turned into ``/``.
6. Query: parameters are **kept in their original order** (order can matter to the
   server, and sorting would make the stored URL differ from every URL seen in the wild).
   Tracking parameters (:data:`~archive.store.urls.TRACKING_PARAMS` and names starting with
   one of :data:`~archive.store.urls.TRACKING_PREFIXES`, compared case-insensitively) are
   removed, as are empty ``&&`` pieces; a query left empty disappears together with its
   ``?``.
7. The fragment is dropped (it is never sent to the server).

Aliases (:func:`article_aliases`)
---------------------------------
Every URL a story is known under is an alias, stored normalized (the first original
spelling seen is kept beside it). Kinds, in precedence order, which is also the order in
which a new page is matched against the archive:

``short``
    the short URL (rel=shortlink, rev=canonical, the site's "short URL" widget). When the
    site has one it is the article's stable public id.
``canonical``
    ``<link rel=canonical>``.
``url``
    the final URL the page was served under (:attr:`Article.url`).
``amp``
    the AMP URL.
``alias``
    every other URL the page object reported in :attr:`Article.aliases` (fetched URL and
    redirect chain, og:url, feed GUID when it is a URL); :class:`~archive.models.Article`
    does not say which is which.
``fetched``
    the URL of the WARC record the page came from and the URL originally requested
    (``CaptureRef.requested_url``), when they differ from all of the above.
``redirect``
    a URL whose recorded 3xx response (``CaptureRef.redirect_to``) leads to one of the
    article's URLs, directly or through a chain of redirects (at most 10 steps), in the
    same source, when the redirecting URL was requested as an article link (capture kind
    ``article``: a section's ``/latest`` pointing at today's story is no alias). Added
    whichever of the redirect and the page is ingested first, so a short link or an
    extensionless URL resolves to its story even when the crawler fetched the page only
    once, by another link.

A URL that is not an absolute http(s) URL (a ``tag:`` GUID, a relative link) is not an
alias and is skipped. A ``short``/``canonical``/``amp``/``alias`` URL pointing at the site
root (path ``/`` without query) is skipped when the page itself is not the root: sites that
put their home page in ``rel=canonical`` on every page would otherwise merge every story.
Each normalized URL appears once, under its first (highest-precedence) kind. The article's
``url``, ``canonical_url``, ``short_url`` and ``amp_url`` fields keep the spelling the page
gave, less tracking parameters (:func:`~archive.store.urls.strip_tracking`): what a reader
would click, ``http`` stays ``http``. Comparisons always use the normalized form.

Matching a page to an existing article (:func:`choose_match`)
-------------------------------------------------------------
Only articles of the **same source** are candidates: near-duplicates across outlets (wire
copies, syndicated stories carrying the original's canonical link) stay separate articles
(linking them comes later). Among same-source articles the page's aliases are tried in the
precedence order above: short URL first, then canonical, then every other alias. The first
hit is the article the page belongs to; its new aliases are added to it. When other
aliases point to a *different* article, the two are **never merged**: those aliases stay
with the article that has them, and a warning is logged. An alias URL belongs to exactly
one article (the first that claimed it).

Article ids (:func:`identity_key`, :func:`article_id`)
------------------------------------------------------
A new article's identity key is its normalized canonical URL when that is on the page's
own site, else its normalized short URL, else its normalized URL. The short URL still
identifies the story (it is matched first, above); the id's digits come from the canonical
URL because every representation of a story carries it (the page, its AMP and print
versions), while the short URL is usually printed on the page alone: keyed on the short
URL, the id would depend on which representation a crawl happened to fetch first, and two
runs of the same crawl, or a crawl and its rerun after a crash, would give one story two
ids. A canonical URL on another site (a syndicated copy pointing at the original) is
passed over, since the id would then depend on which outlet was ingested first. Its id is
the first 12 hex digits of the SHA-1 of that key (48 bits: a collision is expected only
past ~16 million articles).
The id is fixed when the article is first stored and never changes, even if a short URL
shows up later (that becomes an alias), so links to ``/a/<id>`` stay valid. If the id is
already taken by another article (a cross-source key, or a hash collision) the id of
``"<source> <key>"`` is used, then ``"<source> <key> #2"``, ``#3``...: still derived from
content and from the order of calls only, never from autoincrement counters.

Versions and outcomes (:func:`content_hash`, :func:`decide_outcome`)
---------------------------------------------------------------------
``content_hash`` is the SHA-1 of title, lead and body, each normalized (Unicode NFKC,
casefolded, invisible format characters such as soft hyphens and zero-width spaces removed,
runs of whitespace collapsed to one space, trimmed; a missing field counts as empty) and
joined with a unit separator. Every capture row stores the hash of what it carried. For a
capture of a page:

Each capture is also tied to the *link* it was fetched through: the URL originally
requested (``CaptureRef.requested_url``: the first URL of a redirect chain such as a short
link or an extensionless URL, or a tagged feed link whose tracking parameters the crawler
stripped), else the record's URL, compared by :func:`~archive.store.urls.link_key`
(normalized like :func:`~archive.store.urls.normalize_url` but *keeping* tracking
parameters, because a tagged link is another way in to the page). For a capture of a page:

* no matching article: ``INSERTED``, version 1.
* the capture's link was never fetched with content for this article before (an AMP copy,
  a short link, a tracking-parameter variant, a mobile rendering): ``DUPLICATE``, whether
  or not its text differs: different renderings of one story must not create spurious
  versions. Its aliases and capture row are added and it becomes that link's baseline.
  One exception makes the archive independent of the order a crawl happened to fetch the
  renderings in: when version 1 came from another rendering (its URL is not its canonical
  URL: an AMP or print page) and the story's own page (URL = canonical URL) arrives, the
  own page's text and metadata replace version 1's, as if it had come first.
* hash equal to the current version's, or to the previous capture *through the same
  link*: ``UNCHANGED``; only ``last_seen`` moves.
* otherwise: ``UPDATED``; a new version is stored (the old text stays in ``versions``) and
  the article's current fields become the new capture's.

Metadata (authors, dates, section, tags, language, image, body method, the page, canonical
and AMP URLs) never creates a version. It is taken from the capture that produced the current
version (``INSERTED``/``UPDATED``), and refreshed by a later ``UNCHANGED`` capture of the
current text (newer metadata of the same text is the better one, e.g. a ``modified``
date); a field the newer capture lacks keeps its old value. A ``DUPLICATE`` capture, or
one that repeats a non-current rendering, only fills fields that are still empty.
``short_url`` is set once and never replaced (it is the stable public id); title, lead and
body always equal the current version's text. ``first_seen``/``last_seen`` are the
earliest/latest capture time of the article. Times always come from the captures.

Re-ingesting a WARC record already stored (same file and offset) changes nothing and
reports ``UNCHANGED``, so ingest is idempotent.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archive.store.urls import normalize_url, try_normalize_url

if TYPE_CHECKING:
    from archive.models import Article

__all__ = [
    "ALIAS_KINDS",
    "DECLARED_ALIAS_KINDS",
    "Match",
    "Outcome",
    "alias_records",
    "article_aliases",
    "article_id",
    "article_id_candidates",
    "choose_match",
    "content_hash",
    "decide_outcome",
    "identity_key",
    "normalize_text",
]


class Outcome(StrEnum):
    """What storing one article capture did (see the module docstring)."""

    INSERTED = "inserted"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"


#: Alias kinds in precedence order (matching order; the kind kept for a repeated URL).
ALIAS_KINDS: tuple[str, ...] = (
    "short", "canonical", "url", "amp", "alias", "fetched", "redirect",
)  # fmt: skip
#: The kinds a page declares in its markup rather than a fetch reaching it: a URL of one of
#: these may never have been fetched itself (its redirects never captured).
DECLARED_ALIAS_KINDS: tuple[str, ...] = ("short", "canonical", "amp", "alias")

_SPACES = re.compile(r"\s+")
_ID_LENGTH = 12


def _is_root(url: str) -> bool:
    return urlsplit(url).path == "/" and "?" not in url


def alias_records(article: Article, *fetched: str | None) -> list[tuple[str, str, str]]:
    """:func:`article_aliases` with the original spelling: ``(normalized, kind, original)``."""
    page = normalize_url(article.url)
    page_is_root = _is_root(page)
    candidates: list[tuple[str | None, str]] = [
        (article.short_url, "short"),
        (article.canonical_url, "canonical"),
        (article.url, "url"),
        (article.amp_url, "amp"),
        *((alias, "alias") for alias in article.aliases),
        *((url, "fetched") for url in fetched),
    ]
    seen: set[str] = set()
    out: list[tuple[str, str, str]] = []
    for raw, kind in candidates:
        norm = page if kind == "url" else try_normalize_url(raw)
        if raw is None or norm is None or norm in seen:
            continue
        if kind not in ("url", "fetched") and not page_is_root and _is_root(norm):
            continue  # a home page in rel=canonical would merge every story of the site
        seen.add(norm)
        out.append((norm, kind, raw.strip()))
    return out


def article_aliases(article: Article, *fetched: str | None) -> list[tuple[str, str]]:
    """Every URL ``article`` is known under, as ``(normalized_url, kind)`` pairs.

    In precedence order (short, canonical, url, amp, alias, fetched), each normalized URL
    once. ``fetched`` are the URLs of the capture the page came from, if known (the
    record's URL and the URL originally requested).
    Raises :class:`~archive.store.urls.UrlError` when ``article.url`` itself cannot be
    normalized.
    """
    return [(norm, kind) for norm, kind, _original in alias_records(article, *fetched)]


def identity_key(article: Article) -> str:
    """The URL a new article's id is derived from: its canonical URL on the page's own
    site, else its short URL, else its URL (module docstring: "Article ids").

    Uses the same filtering as :func:`article_aliases` (an unusable or site-root short or
    canonical URL is passed over).
    """
    aliases = article_aliases(article)
    page = normalize_url(article.url)
    for wanted in ("canonical", "short"):
        for url, kind in aliases:
            if kind == wanted and (kind != "canonical" or same_site(url, page)):
                return url
    return page


def same_site(a: str, b: str) -> bool:
    """Whether two URLs are on one site: the same host once a leading ``www.``, ``m.``,
    ``mobile.`` or ``amp.`` label is dropped (the desktop, mobile and AMP hosts of a site)."""
    return _site_host(a) == _site_host(b)


def _site_host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    for prefix in ("www.", "m.", "mobile.", "amp."):
        if host.startswith(prefix):
            return host[len(prefix):]
    return host


def article_id(key: str) -> str:
    """Stable short id of an identity key: the first 12 hex digits of its SHA-1."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:_ID_LENGTH]


def article_id_candidates(key: str, source: str) -> Iterable[str]:
    """Ids to try in order for a new article (see "Article ids" in the module docstring)."""
    yield article_id(key)
    yield article_id(f"{source} {key}")
    n = 2
    while True:
        yield article_id(f"{source} {key} #{n}")
        n += 1


def normalize_text(text: str | None) -> str:
    """Text as compared for versions: NFKC, casefolded, no format characters, spaces collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).casefold()
    if not text.isascii():  # ASCII holds no format character
        bmp, astral = _format_chars()
        text = bmp.sub("", text)
        if _ASTRAL.search(text):  # rare, and the astral ranges make the class slow
            text = astral.sub("", text)
    return _SPACES.sub(" ", text).strip()


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@cache
def _format_chars() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Every character of Unicode category Cf (format: soft hyphen, zero-width spaces,
    bidi marks...) as character-class ranges, one pattern for the Basic Multilingual Plane
    and one for the rest. Taken from this Python's own Unicode database, so the hash stays
    what a per-character ``unicodedata.category`` test gives; a regex is ~5x faster on long
    bodies. Built once per process, in about 0.1 s."""
    ranges: list[list[int]] = []
    for code in range(sys.maxunicode + 1):
        if unicodedata.category(chr(code)) == "Cf":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])

    def pattern(spans: list[list[int]]) -> re.Pattern[str]:
        parts = [re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b)))
                 for a, b in spans]
        return re.compile("[" + "".join(parts) + "]+" if parts else "(?!)")

    return (pattern([r for r in ranges if r[1] < 0x10000]),
            pattern([r for r in ranges if r[1] >= 0x10000]))


def content_hash(article: Article) -> str:
    """SHA-1 hex of normalized title, lead and body (see the module docstring)."""
    joined = "\x1f".join(normalize_text(t) for t in (article.title, article.lead, article.body))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def decide_outcome(new_hash: str, current_hash: str | None, previous_hash: str | None) -> Outcome:
    """Outcome of a capture carrying ``new_hash``.

    ``current_hash`` is the matched article's current version hash (None: no article
    matched); ``previous_hash`` the hash of the latest earlier capture through the same
    link (:func:`~archive.store.urls.link_key`) for that article (None: never fetched with
    content).
    """
    if current_hash is None:
        return Outcome.INSERTED
    if previous_hash is None:
        return Outcome.DUPLICATE
    if new_hash in (current_hash, previous_hash):
        return Outcome.UNCHANGED
    return Outcome.UPDATED


@dataclass(frozen=True, slots=True)
class Match:
    """Result of :func:`choose_match`: the article a page belongs to and the conflicts.

    ``conflicts`` lists ``(alias_url, other_article_id)`` for aliases of the page that
    belong to a different same-source article (never merged); ``foreign`` lists aliases
    owned by articles of other sources.
    """

    article_id: str | None
    conflicts: tuple[tuple[str, str], ...] = ()
    foreign: tuple[tuple[str, str], ...] = ()


def choose_match(
    aliases: Sequence[tuple[str, str]],
    owners: Mapping[str, tuple[str, str]],
    source: str,
) -> Match:
    """Pick the existing article a page belongs to.

    ``aliases`` is :func:`article_aliases` of the page (precedence order); ``owners`` maps
    already-known alias URLs to ``(article_id, article_source)``. The first alias owned by
    an article of ``source`` wins; see the module docstring.
    """
    chosen: str | None = None
    conflicts: list[tuple[str, str]] = []
    foreign: list[tuple[str, str]] = []
    for url, _kind in aliases:
        owner = owners.get(url)
        if owner is None:
            continue
        owner_id, owner_source = owner
        if owner_source != source:
            foreign.append((url, owner_id))
        elif chosen is None:
            chosen = owner_id
        elif owner_id != chosen:
            conflicts.append((url, owner_id))
    return Match(chosen, tuple(conflicts), tuple(foreign))
