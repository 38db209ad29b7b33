"""Article identity and deduplication: the one place where the rules are written down.

Everything here is pure (no database, no clock, no network): given the same pages in the
same order, :mod:`archive.store.db` reaches the same ids, aliases and versions, which is what lets
``mediawatch reindex`` rebuild ``archive.db`` from the WARC files alone.

URL normalization (:func:`normalize_url`)
-----------------------------------------
Every URL is compared in normalized form. Only absolute ``http``/``https`` URLs are
accepted (anything else raises :class:`UrlError`).

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
   Tracking parameters (:data:`TRACKING_PARAMS` and names starting with one of
   :data:`TRACKING_PREFIXES`, compared case-insensitively) are removed, as are empty
   ``&&`` pieces; a query left empty disappears together with its ``?``.
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
gave, less tracking parameters (:func:`strip_tracking`): what a reader would click,
``http`` stays ``http``. Comparisons always use the normalized form.

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
A new article's identity key is its normalized short URL if it has one, else its
normalized canonical URL, else its normalized URL. Its id is the first 12 hex digits of
the SHA-1 of that key (48 bits: a collision is expected only past ~16 million articles).
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
stripped), else the record's URL, compared by :func:`link_key` (normalized like
:func:`normalize_url` but *keeping* tracking parameters, because a tagged link is another
way in to the page). For a capture of a page:

* no matching article: ``INSERTED``, version 1.
* the capture's link was never fetched with content for this article before (an AMP copy,
  a short link, a tracking-parameter variant, a mobile rendering): ``DUPLICATE``, whether
  or not its text differs: different renderings of one story must not create spurious
  versions. Its aliases and capture row are added and it becomes that link's baseline.
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
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus, urlsplit

if TYPE_CHECKING:
    from archive.models import Article

__all__ = [
    "ALIAS_KINDS",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "Match",
    "Outcome",
    "UrlError",
    "alias_records",
    "article_aliases",
    "article_id",
    "article_id_candidates",
    "choose_match",
    "content_hash",
    "decide_outcome",
    "identity_key",
    "is_tracking_param",
    "link_key",
    "normalize_text",
    "normalize_url",
    "strip_tracking",
    "try_normalize_url",
]


class UrlError(ValueError):
    """A URL that cannot be normalized (not absolute http(s), bad host or port)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{reason}: {url!r}")
        self.url = url
        self.reason = reason


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

#: Query parameters removed by :func:`normalize_url` (lowercase; matched case-insensitively).
#: Click ids of ad networks, e-mail and analytics campaign tags, share/referrer markers.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        # click identifiers
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "ysclid", "twclid", "ttclid", "li_fat_id", "igshid", "igsh", "rb_clickid",
        # e-mail and marketing automation
        "mc_cid", "mc_eid", "_hsenc", "_hsmi", "mkt_tok", "vero_id", "vero_conv",
        "oly_anon_id", "oly_enc_id",
        # analytics and campaign tags (Google, Yandex/Openstat, Adobe, Webtrends, AT Internet,
        # comScore, Matomo/Piwik, Microsoft, news sites' own)
        "_ga", "_gl", "_openstat", "s_cid", "wt.mc_id", "xtor", "ito", "icid", "cmpid", "cmp",
        "ocid", "at_medium", "at_campaign", "at_custom1", "at_custom2", "at_custom3",
        "at_custom4", "at_link_id", "at_link_origin", "at_link_type", "at_format",
        "at_bbc_team", "at_ptr_name", "ns_mchannel", "ns_source", "ns_campaign",
        "ns_linkname", "ns_fee", "pk_campaign", "pk_kwd", "pk_source", "pk_medium",
        "pk_content", "mtm_campaign", "mtm_kwd", "mtm_source", "mtm_medium", "mtm_content",
        "mtm_cid", "mtm_group", "mtm_placement",
        # share and referrer markers
        "ref", "ref_src", "ref_url", "smid", "smtyp", "sr_share", "__twitter_impression",
        "fb_action_ids", "fb_action_types", "fb_ref", "fb_source",
    }
)  # fmt: skip

#: Parameter name prefixes that mark a tracking parameter (``utm_source``, ``utm_medium``...).
TRACKING_PREFIXES: tuple[str, ...] = ("utm_",)

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_SUB_DELIMS = frozenset("!$&'()*+,;=")
_PATH_SAFE = _UNRESERVED | _SUB_DELIMS | frozenset(":@/")
_QUERY_SAFE = _UNRESERVED | _SUB_DELIMS | frozenset(":@/?")
_HEX = frozenset("0123456789abcdefABCDEF")
_STRIPPED = str.maketrans("", "", "\t\r\n")
_SPACES = re.compile(r"\s+")
_ID_LENGTH = 12


def is_tracking_param(name: str) -> bool:
    """True when query parameter ``name`` (raw or percent-encoded) is a tracking parameter."""
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """Normalize ``url`` as described in the module docstring.

    >>> normalize_url("HTTP://WWW.Example.com:80/a/./b/../c?utm_source=x&id=2#top")
    'https://www.example.com/a/c?id=2'

    Raises :class:`UrlError` for anything but an absolute http(s) URL.
    """
    return _normalize(url, drop_tracking=True)


def link_key(url: str) -> str:
    """The identity of a *link* (not of a document): :func:`normalize_url` without removing
    tracking parameters, or the stripped text of a URL that cannot be normalized.

    Each link a story is fetched under gets its own text baseline (see "Versions and
    outcomes" in the module docstring).
    """
    try:
        return _normalize(url, drop_tracking=False)
    except UrlError:
        return url.strip()


def _normalize(url: str, drop_tracking: bool) -> str:
    text = url.translate(_STRIPPED).strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:  # bad port, bad IPv6 literal
        raise UrlError(url, f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UrlError(url, "not an absolute http(s) URL")
    host = _normalize_host(url, parts.hostname or "")
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = _remove_dot_segments(_normalize_escapes(parts.path, _PATH_SAFE)) or "/"
    if not path.startswith("/"):
        path = "/" + path
    query = _normalize_query(parts.query, drop_tracking)
    return f"https://{netloc}{path}" + (f"?{query}" if query else "")


def strip_tracking(url: str) -> str:
    """``url`` with its tracking parameters removed and nothing else changed.

    For URLs that are going to be fetched: scheme, host, path, the other parameters and
    their encoding stay exactly as written (unlike :func:`normalize_url`). A URL without
    tracking parameters, or one that cannot be parsed, is returned unchanged.

    >>> strip_tracking("http://Example.com/a?utm_source=rss&id=2#top")
    'http://Example.com/a?id=2#top'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pieces = [
        (p, bool(p) and is_tracking_param(p.split("=", 1)[0])) for p in parts.query.split("&")
    ]
    if not any(tracking for _piece, tracking in pieces):
        return url
    kept = "&".join(piece for piece, tracking in pieces if piece and not tracking)
    return parts._replace(query=kept).geturl()


def try_normalize_url(url: str | None) -> str | None:
    """:func:`normalize_url`, or None for a missing or unusable URL (never raises)."""
    if not url:
        return None
    try:
        return normalize_url(url)
    except UrlError:
        return None


def _normalize_host(url: str, host: str) -> str:
    host = host.rstrip(".")
    if not host:
        raise UrlError(url, "no host")
    if ":" in host:  # IPv6 literal; urlsplit removed the brackets
        return f"[{host}]"
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UrlError(url, "invalid internationalized host name") from None
    if any(ch in host for ch in " %/\\@"):
        raise UrlError(url, "invalid host name")
    return host.lower()


def _normalize_escapes(text: str, safe: frozenset[str]) -> str:
    """Percent-encoding normalized per RFC 3986 6.2.2 (see the module docstring)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 5.2.4, for an absolute path."""
    if "." not in path:
        return path
    segments = path.split("/")
    output: list[str] = []
    for segment in segments[1:]:
        if segment == ".":
            continue
        if segment == "..":
            if output:
                output.pop()
            continue
        output.append(segment)
    if segments[-1] in (".", ".."):
        output.append("")  # "/a/b/.." -> "/a/"
    return "/" + "/".join(output)


def _normalize_query(query: str, drop_tracking: bool) -> str:
    kept = []
    for piece in query.split("&"):
        if not piece:
            continue
        if drop_tracking and is_tracking_param(piece.split("=", 1)[0]):
            continue
        kept.append(_normalize_escapes(piece, _QUERY_SAFE))
    return "&".join(kept)


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
    Raises :class:`UrlError` when ``article.url`` itself cannot be normalized.
    """
    return [(norm, kind) for norm, kind, _original in alias_records(article, *fetched)]


def identity_key(article: Article) -> str:
    """The URL a new article's id is derived from: short URL, else canonical, else URL.

    Uses the same filtering as :func:`article_aliases` (an unusable or site-root short or
    canonical URL is passed over).
    """
    aliases = article_aliases(article)
    for wanted in ("short", "canonical"):
        for url, kind in aliases:
            if kind == wanted:
                return url
    return normalize_url(article.url)


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
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    return _SPACES.sub(" ", text).strip()


def content_hash(article: Article) -> str:
    """SHA-1 hex of normalized title, lead and body (see the module docstring)."""
    joined = "\x1f".join(normalize_text(t) for t in (article.title, article.lead, article.body))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()


def decide_outcome(new_hash: str, current_hash: str | None, previous_hash: str | None) -> Outcome:
    """Outcome of a capture carrying ``new_hash``.

    ``current_hash`` is the matched article's current version hash (None: no article
    matched); ``previous_hash`` the hash of the latest earlier capture through the same
    link (:func:`link_key`) for that article (None: never fetched with content).
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
