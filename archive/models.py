"""Value objects shared by the crawler's page objects and the archive.

They live in ``archive`` because dependencies point one way
(scheduler -> crawler -> archive): the page objects build these, the archive stores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message


@dataclass(frozen=True, slots=True)
class Hints:
    """What a feed entry or news-sitemap entry said about an article before it was fetched.

    Used as the last fallback when the page itself lacks a field, and stored in the WARC
    metadata record so that ``reindex`` sees exactly what the crawl saw. ``published`` is
    naive when the entry gave no offset (the article page reads it in the source's time
    zone); ``published_precision`` is ``second``, ``minute`` or ``day`` (None: not recorded,
    as in captures made before it was); ``published_from`` is ``feed`` or ``sitemap``.
    """

    title: str | None = None
    published: datetime | None = None
    published_precision: str | None = None
    published_from: str | None = None
    guid: str | None = None
    summary: str | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-safe dict (datetimes as ISO 8601), omitting empty values."""
        out: dict[str, object] = {}
        for name in ("title", "guid", "summary", "language", "published_precision",
                     "published_from"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.published is not None:
            day = self.published_precision == "day"
            out["published"] = (self.published.date() if day else self.published).isoformat()
        if self.authors:
            out["authors"] = list(self.authors)
        if self.tags:
            out["tags"] = list(self.tags)
        return out

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> Hints:
        """Inverse of :meth:`to_json`; tolerant of missing keys."""
        if not data:
            return cls()
        published = data.get("published")
        precision = _str_or_none(data.get("published_precision"))
        if isinstance(published, str) and len(published) == 10:
            precision = "day"  # a bare date is a day whatever else was recorded
        return cls(
            title=_str_or_none(data.get("title")),
            published=datetime.fromisoformat(published) if isinstance(published, str) else None,
            published_precision=precision,
            published_from=_str_or_none(data.get("published_from")),
            guid=_str_or_none(data.get("guid")),
            summary=_str_or_none(data.get("summary")),
            authors=_str_tuple(data.get("authors")),
            tags=_str_tuple(data.get("tags")),
            language=_str_or_none(data.get("language")),
        )


def _str_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _str_tuple(value: object) -> tuple[str, ...]:
    # JSON gives a list here; anything not iterable (null, a number) counts as empty
    return tuple(str(v) for v in value) if isinstance(value, Iterable) else ()


@dataclass(frozen=True, slots=True)
class Article:
    """One parsed article page: what :class:`crawler.pages.listings.ArticlePage` returns.

    ``url`` is the final URL the page was served under. ``aliases`` holds every other URL
    the page is known under (fetched URL and redirect chain, og:url, AMP URL, feed GUID when
    it is a URL); canonical and short URLs are kept in their own fields and are aliases too.
    Datetimes are timezone-aware UTC. ``published_precision`` is ``second``, ``minute`` or
    ``day`` (a day-only date: ``published`` is that day at 00:00 UTC, a label, and is stored
    as the bare date); ``published_local`` is the ISO 8601 text with the publisher's offset
    (None when the offset was only assumed); ``published_from`` where the date was found
    (``jsonld``, ``meta``, ``selector``, ``visible``, ``url``, ``feed``, ``sitemap``);
    ``published_zone`` how its offset was decided (``offset``, ``timezone``, ``page``,
    ``utc``; None for a day). ``modified_precision`` likewise for ``modified``, never before
    ``published``. ``body_method`` records which extractor produced the body (``selectors``,
    ``jsonld``, ``trafilatura``, ``feed``).
    """

    url: str
    source: str
    title: str | None = None
    lead: str | None = None
    body: str | None = None
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    modified: datetime | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    language: str | None = None
    canonical_url: str | None = None
    short_url: str | None = None
    amp_url: str | None = None
    image: str | None = None
    body_method: str | None = None
    aliases: tuple[str, ...] = field(default=())
    published_local: str | None = None
    published_precision: str | None = None
    published_from: str | None = None
    published_zone: str | None = None
    modified_precision: str | None = None


@dataclass(frozen=True, slots=True)
class WarcLocation:
    """Where one record lives: ``file`` (name relative to the WARC directory), byte ``offset``
    of its gzip member and the member's compressed ``length`` — one seek away."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True, slots=True)
class PriorCapture:
    """The last full capture of a URL: what a revisit record refers to."""

    url: str
    date: datetime
    record_id: str | None
    digest: str | None


@dataclass(frozen=True, slots=True)
class CapturedResponse:
    """One HTTP response as captured: the input of every page object.

    ``body`` is the payload with any Content-Encoding removed (the WARC keeps the bytes as
    received). ``headers`` keeps every value of repeated headers, in order. ``fetched_at`` is
    timezone-aware UTC. ``redirect_urls`` lists the URLs requested before this one when the
    fetch went through redirects (first = the URL originally asked for). ``metadata`` is the
    JSON of the capture's metadata record (source, discovery, hints).
    """

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    fetched_at: datetime
    redirect_urls: tuple[str, ...] = ()
    record_id: str | None = None
    metadata: dict[str, object] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    @property
    def content_type(self) -> str:
        """Media type without parameters, lowercased ('' when absent)."""
        value = self.header("Content-Type") or ""
        return value.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if the server sent one."""
        value = self.header("Content-Type")
        if not value:
            return None
        msg = Message()
        msg["content-type"] = value
        charset = msg.get_param("charset")
        return str(charset).strip().lower() if charset else None


@dataclass(frozen=True, slots=True)
class KnownArticle:
    """An archived article as the crawler sees it: when it was first and last fetched.

    ``link`` is the link its current text was last fetched through (the requested URL,
    tracking parameters and all): a re-fetch goes through the same link, since versions
    are compared per link (see :mod:`archive.store.identity`).
    """

    id: str
    url: str
    title: str | None
    modified: datetime | None
    first_seen: datetime
    last_fetched: datetime
    removed: bool
    link: str
    #: Found under a URL the page declared (its short link, canonical...) that was never
    #: fetched itself: fetch it once, to capture where it leads.
    unfetched_alias: bool = False


@dataclass(frozen=True, slots=True)
class FetchState:
    """Conditional-GET validators and adaptive poll interval of one listing URL."""

    url: str
    source: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = None
    interval_s: int | None = None
    next_fetch: datetime | None = None
    last_total: int | None = None
    last_new: int | None = None


@dataclass(frozen=True, slots=True)
class SourceState:
    """Health of a source's crawling: ``ok``, ``failing``, ``unhealthy`` or ``blocked``,
    with the time before which scheduled runs skip it."""

    source: str
    status: str = "ok"
    consecutive_failures: int = 0
    backoff_until: datetime | None = None
    reason: str | None = None

