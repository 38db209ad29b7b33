"""``mediawatch extract``: the article parser on a saved HTML file or a WARC, no network."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from archive.models import Article, CapturedResponse
from archive.warc.payload import DEFAULT_MAX_PAYLOAD
from archive.warc.reader import iter_responses
from crawler.pages.listings import ArticlePage, NotAnArticle
from crawler.pages.markup import HTML_TYPES

if TYPE_CHECKING:
    from pathlib import Path

    from archive.config.sources import Source


def is_warc(path: Path) -> bool:
    """By name (``.warc``, ``.warc.gz``), as warcio's own tools decide."""
    return path.name.endswith((".warc", ".warc.gz", ".warc.gz.open"))


def extract_path(path: Path, *, url: str | None = None, source: Source | None = None,
                 max_payload: int = DEFAULT_MAX_PAYLOAD
                 ) -> Iterator[tuple[str, Article | None, str | None]]:
    """``(url, article, None)`` per page, or ``(url, None, reason)`` when not an article.
    No stored payload is decoded past ``max_payload`` bytes (``[crawl] max_page_size``)."""
    if is_warc(path):
        for stored in iter_responses(path, max_payload=max_payload):
            captured = stored.captured
            if captured.status != 200 or captured.content_type not in HTML_TYPES:
                continue
            if url and captured.url != url:
                continue
            if stored.too_large:
                yield captured.url, None, f"payload larger than {max_payload} bytes"
                continue
            yield _extract(captured, source)
        return
    captured = CapturedResponse(
        url=url or path.resolve().as_uri(), status=200,
        headers=(("Content-Type", "text/html"),), body=path.read_bytes(),
        fetched_at=datetime.fromtimestamp(path.stat().st_mtime, UTC))
    yield _extract(captured, source)


def _extract(captured: CapturedResponse, source: Source | None
             ) -> tuple[str, Article | None, str | None]:
    try:
        return captured.url, ArticlePage(captured, source).to_article(), None
    except NotAnArticle as exc:
        return captured.url, None, str(exc)
