"""Takedowns told apart from fetch failures (pure: a captured answer in, a kind or None out).

The ingest asks :func:`takedown_kind` about every article capture; when the URL is an alias
of an archived article and the answer is a takedown, the article is marked removed with the
time, the kind and the WARC record of that answer as evidence
(:func:`archive.store.articles.mark_removed`). Being derived from the WARC records, a
``reindex`` marks the same articles. The kinds:

``gone``
    the outlet answered 404 Not Found or 410 Gone.
``redirect``
    the article URL now redirects to the site's front page or a section page: a target on
    the same host (``www.`` ignored) whose path is ``/``, a directory above the article's
    own path (``/news/2021/05/story.html`` -> ``/news/``), or a short section-like path (at
    most two segments, no digit, no file extension: ``/world/``, ``/en/politics``). A
    redirect to another article (a moved story, a short link) is no takedown.
``soft_404``
    a 200 page whose ``<title>`` or first ``<h1>`` says the page is gone ("page not found",
    "this article has been removed", "sayfa bulunamadı", "haber kaldırıldı", "страница не
    найдена", "материал удалён", ...): the outlet serves its error page with status 200.
    Only the title and the headline are read, so an article *about* something removed is
    not taken for one.

Failures are no takedowns: a timeout, a refused connection, a DNS error or a 5xx answer
says nothing about the article, so the spider retries it
(:func:`crawler.incremental.is_retryable`) and the article stays as it was.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

__all__ = ["GONE_STATUSES", "TAKEDOWN_KINDS", "is_front_or_section", "soft_404",
           "takedown_kind"]

TAKEDOWN_KINDS: tuple[str, ...] = ("gone", "redirect", "soft_404")
GONE_STATUSES = frozenset({404, 410})

# Phrases of outlets' "page removed" pages, lowercased (English, Turkish, Russian, German,
# French, Spanish, Arabic). Matched in the title and first headline only.
_REMOVED = re.compile("|".join((
    r"\b(?:page|article|story|content|news|item)\s+(?:was\s+|has\s+been\s+)?"
    r"(?:not\s+found|removed|deleted|unavailable|withdrawn)",
    r"\b(?:has|have)\s+been\s+(?:removed|deleted|withdrawn|unpublished)",
    r"\bno\s+longer\s+(?:available|exists)", r"\b(?:does\s+not|doesn['’]t)\s+exist",
    r"^404\b", r"\berror\s+404\b", r"\b404\s+not\s+found",
    r"sayfa\s+bulunamad[ıi]", r"(?:haber|içerik|sayfa)\s+kald[ıi]r[ıi]ld[ıi]",
    r"kald[ıi]r[ıi]lm[ıi][şs]t[ıi]r", r"yay[ıi]ndan\s+kald[ıi]r[ıi]ld[ıi]",
    r"страница\s+не\s+найдена", r"материал\s+удал[её]н", r"страница\s+удалена",
    r"снят[аоы]?\s+с\s+публикации", r"не\s+существует",
    r"seite\s+nicht\s+gefunden", r"nicht\s+mehr\s+verf[üu]gbar",
    r"page\s+introuvable", r"n['’]existe\s+plus", r"a\s+été\s+supprimée?",
    r"p[áa]gina\s+no\s+encontrada",
    r"الصفحة\s+غير\s+موجودة", r"تم\s+حذف",
)))
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
# Only the head of the page is read: the title and the headline come early, and a hostile
# page must not make this slow.
_HEAD_BYTES = 256 * 1024


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub(" ", fragment))).strip().casefold()


def soft_404(body: bytes) -> bool:
    """True when the page's title or first headline says that it is gone."""
    head = body[:_HEAD_BYTES].decode("utf-8", errors="replace")
    found = [m.group(1) for m in (_TITLE.search(head), _H1.search(head)) if m]
    return any(_REMOVED.search(_text(part)) for part in found)


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    return host.removeprefix("www.")


def is_front_or_section(target: str, article: str) -> bool:
    """Whether a redirect from ``article`` to ``target`` lands on the site's front page or
    a section page (see the module docstring), not on another article."""
    t, a = urlsplit(target), urlsplit(article)
    if _host(t.netloc) != _host(a.netloc) or t.path == a.path:
        return False
    path = t.path or "/"
    if path == "/":
        return True
    if path.endswith("/") and a.path.startswith(path):
        return True
    segments = [s for s in path.split("/") if s]
    return (len(segments) <= 2 and not any(c.isdigit() for c in path)
            and "." not in segments[-1])


def takedown_kind(status: int, url: str, body: bytes, redirect_to: str | None,
                  requested: str | None = None) -> str | None:
    """The takedown an answer for an article URL shows (:data:`TAKEDOWN_KINDS`), or None.

    ``url`` is the URL answered, ``redirect_to`` the absolute ``Location`` of a 3xx, and
    ``requested`` the URL first asked for when redirects were followed (the final page of a
    redirect chain is read against it).
    """
    if status in GONE_STATUSES:
        return "gone"
    if 300 <= status < 400:
        return "redirect" if redirect_to and is_front_or_section(redirect_to, url) else None
    if status == 200:
        if requested and requested != url and is_front_or_section(url, requested):
            return "redirect"
        if soft_404(body):
            return "soft_404"
    return None
