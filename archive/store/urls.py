"""URL normalization: the normalized form every URL is compared in, and tracking parameters.

Pure string functions (no database, no clock, no network). The rules :func:`normalize_url`
applies are written down with the other identity rules, in the docstring of
:mod:`archive.store.identity` ("URL normalization"); this module implements them, for the
archive (aliases, capture rows, lookups by URL), replay and the crawler (which strips
tracking parameters off links before fetching them).
"""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit

__all__ = [
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "UrlError",
    "is_tracking_param",
    "link_key",
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


def is_tracking_param(name: str) -> bool:
    """True when query parameter ``name`` (raw or percent-encoded) is a tracking parameter."""
    key = unquote_plus(name).strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def normalize_url(url: str) -> str:
    """Normalize ``url`` as described in the docstring of :mod:`archive.store.identity`.

    >>> normalize_url("HTTP://WWW.Example.com:80/a/./b/../c?utm_source=x&id=2#top")
    'https://www.example.com/a/c?id=2'

    Raises :class:`UrlError` for anything but an absolute http(s) URL.
    """
    return _normalize(url, drop_tracking=True)


def link_key(url: str) -> str:
    """The identity of a *link* (not of a document): :func:`normalize_url` without removing
    tracking parameters, or the stripped text of a URL that cannot be normalized.

    Each link a story is fetched under gets its own text baseline (see "Versions and
    outcomes" in the docstring of :mod:`archive.store.identity`).
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
    """Percent-encoding normalized per RFC 3986 6.2.2 (see :mod:`archive.store.identity`)."""
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
