"""Value objects shared by the crawler's page objects and the archive.

They live in ``archive`` because dependencies point one way
(scheduler -> crawler -> archive): the page objects build these, the archive stores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Hints:
    """What a feed entry or news-sitemap entry said about an article before it was fetched.

    Used as the last fallback when the page itself lacks a field, and stored in the WARC
    metadata record so that ``reindex`` sees exactly what the crawl saw.
    """

    title: str | None = None
    published: datetime | None = None
    guid: str | None = None
    summary: str | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None

    def to_json(self) -> dict[str, object]:
        """JSON-safe dict (datetimes as ISO 8601), omitting empty values."""
        out: dict[str, object] = {}
        for name in ("title", "guid", "summary", "language"):
            value = getattr(self, name)
            if value:
                out[name] = value
        if self.published is not None:
            out["published"] = self.published.isoformat()
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
        return cls(
            title=_str_or_none(data.get("title")),
            published=datetime.fromisoformat(published) if isinstance(published, str) else None,
            guid=_str_or_none(data.get("guid")),
            summary=_str_or_none(data.get("summary")),
            authors=tuple(str(a) for a in data.get("authors") or ()),  # type: ignore[union-attr]
            tags=tuple(str(t) for t in data.get("tags") or ()),  # type: ignore[union-attr]
            language=_str_or_none(data.get("language")),
        )


def _str_or_none(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


@dataclass(frozen=True, slots=True)
class Article:
    """One parsed article page: what :class:`crawler.pages.ArticlePage` returns.

    ``url`` is the final URL the page was served under. ``aliases`` holds every other URL
    the page is known under (fetched URL and redirect chain, og:url, AMP URL, feed GUID when
    it is a URL); canonical and short URLs are kept in their own fields and are aliases too.
    Datetimes are timezone-aware. ``body_method`` records which extractor produced the body
    (``selectors``, ``jsonld``, ``trafilatura``, ``feed``).
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
