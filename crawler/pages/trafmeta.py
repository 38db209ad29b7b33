"""trafilatura's metadata of a page, one field at a time and only when a field asks.

:func:`trafilatura.metadata.extract_metadata` computes every field at once: OpenGraph and
``<meta>`` tags, JSON-LD, title, author, URL, htmldate's date (its extensive search costs
more than the rest together), site name, categories, tags and license; 14 ms per real page
here, half of what ``trafilatura.extract`` costs for the whole body. The article page needs
these fields only as fallbacks (a title, author, section or tags that no markup gave; the
date only when our own candidates disagree or fall short), 40% of real pages need none.

:class:`TrafMetadata` gives the same values field by field. It follows
``extract_metadata`` (trafilatura 2.3.1, pinned in ``constraints.txt``) step for step: the
OpenGraph/``<meta>`` pass and the JSON-LD override first (shared by every field), then each
field's own fallback, and last ``Document.clean_and_trim`` applied to the one string.
No step reads a field another step computes except the date, which reads the URL; the steps
do not modify the tree (the author's pruning and htmldate work on copies). So the values
equal ``extract_metadata``'s: ``tests/test_parser_equivalence.py`` compares them on the
fixture pages and on the real pages of ``../shared/eval``.
"""

from __future__ import annotations

import logging
from functools import cached_property
from html import unescape
from typing import TYPE_CHECKING, Any

from trafilatura.metadata import (
    examine_meta,
    extract_author,
    extract_catstags,
    extract_meta_json,
    extract_title,
    extract_url,
)
from trafilatura.utils import line_processing

if TYPE_CHECKING:
    from lxml.html import HtmlElement
    from trafilatura.settings import Document

__all__ = ["TrafMetadata"]

logger = logging.getLogger(__name__)

#: ``Document.clean_and_trim``'s length limit for a string field.
_MAX_FIELD = 10000


def _trimmed(value: Any) -> Any:
    """``value`` as ``Document.clean_and_trim`` leaves a field: strings cut at 10,000
    characters, entities decoded, spaces and control characters normalized (None when
    nothing is left); other values as they are."""
    if not isinstance(value, str):
        return value
    if len(value) > _MAX_FIELD:
        value = value[:_MAX_FIELD - 1] + "…"
    return line_processing(unescape(value))


class TrafMetadata:
    """The fields of ``extract_metadata(tree, url, date_params)``, each computed on first use.

    ``tree`` is trafilatura's parse of the page (``trafilatura.utils.load_html``) and is
    only read. A step that raises is logged with the URL and leaves its field empty.
    """

    def __init__(self, tree: HtmlElement, url: str | None, date_params: dict[str, Any]):
        self.tree = tree
        self.default_url = url
        self.date_params = date_params

    @cached_property
    def _base(self) -> Document:
        """OpenGraph and ``<meta>`` tags, then the JSON-LD override (every field's start)."""
        metadata = examine_meta(self.tree)
        # extract_metadata drops a one-word meta author before reading JSON-LD
        if metadata.author and " " not in metadata.author:
            metadata.author = None
        try:
            metadata = extract_meta_json(self.tree, metadata)
        except Exception as err:  # extract_metadata's own guard: bugs in json_metadata.py
            logger.warning("%s: error in JSON metadata extraction: %s", self.default_url, err)
        return metadata

    @cached_property
    def title(self) -> str | None:
        """Meta / JSON-LD title, else ``extract_title`` (the one ``<h1>``, ``<title>``...)."""
        return _trimmed(self._base.title or extract_title(self.tree))

    @cached_property
    def author(self) -> str | None:
        """Meta / JSON-LD author, else ``extract_author`` (byline elements)."""
        return _trimmed(self._base.author or extract_author(self.tree))

    @cached_property
    def url(self) -> str | None:
        """Meta / JSON-LD URL, else the canonical link, else the page's URL."""
        return _trimmed(self._base.url or extract_url(self.tree, self.default_url))

    @cached_property
    def date(self) -> str | None:
        """htmldate's date (``YYYY-MM-DD``) with ``date_params`` and :attr:`url`."""
        from htmldate import find_date  # local: trafilatura imports it the same way

        # the URL before clean_and_trim, as extract_metadata passes it
        url = self._base.url or extract_url(self.tree, self.default_url)
        return _trimmed(find_date(self.tree, **{**self.date_params, "url": url}))

    @cached_property
    def categories(self) -> list[str]:
        """JSON-LD sections, else category links and ``article:section`` metas."""
        return self._base.categories or extract_catstags("category", self.tree)

    @cached_property
    def tags(self) -> list[str]:
        """``article:tag`` / keywords metas and JSON-LD keywords, else tag links."""
        return self._base.tags or extract_catstags("tag", self.tree)
