"""The one Scrapy -> :class:`archive.models.CapturedResponse` adapter."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from archive.models import CapturedResponse
from crawler.components.capture import header_pairs

if TYPE_CHECKING:
    from scrapy.http import Response


def to_captured(response: Response, fetched_at: datetime | None = None) -> CapturedResponse:
    """A Scrapy response (body already decompressed by the middleware) as a capture value."""
    return CapturedResponse(
        url=response.url,
        status=response.status,
        headers=header_pairs(response.headers),
        body=response.body,
        fetched_at=fetched_at or datetime.now(UTC),
        redirect_urls=tuple(response.meta.get("redirect_urls") or ()) if _has_meta(response)
        else (),
    )


def _has_meta(response: Response) -> bool:
    # Response.meta raises when the response is not tied to a request (in tests).
    try:
        response.meta  # noqa: B018
    except AttributeError:
        return False
    return True
