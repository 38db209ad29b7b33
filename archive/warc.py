"""WARC capture I/O: the typed values the rest of mediawatch sees, a rotating writer and readers.

warcio stays behind this module: callers see :class:`CapturedResponse` and :class:`WarcLocation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message


@dataclass(frozen=True, slots=True)
class WarcLocation:
    """Where one record lives: ``file`` (name relative to the WARC directory), byte ``offset``
    of its gzip member and the member's compressed ``length`` — one seek away."""

    file: str
    offset: int
    length: int


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
