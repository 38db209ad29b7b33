"""Incremental crawling policy: what to fetch again, how often to poll, when to back off.

Pure functions over values; the spider and :mod:`crawler.components.state` apply them.

* **Known articles are not fetched again** on every run. A listing link whose URL is an
  alias of an archived article is skipped unless the article is due for a re-check by age
  (each checkpoint once, to catch edits and takedowns: learned per source from its edit
  history, :mod:`crawler.recheck`; ``[crawl] recheck``, by default 1 h, 6 h, 24 h and 72 h
  after it was first seen, for a source without enough history), or the link is one the
  page declared (its short link) that was never fetched itself (fetched once, so that its
  redirects are captured), or the listing itself shows that it changed: its title there
  differs from the title the listing gave last time (the first time, from the archived
  title). Comparing listing with listing matters: many outlets'
  feeds carry a headline other than the page's, which must not mean "changed" every run.
* **Feeds, sitemaps and section pages** are fetched with conditional GET (ETag /
  If-Modified-Since). Some servers never answer 304 or lie about it, so the payload digest
  is compared too: an identical body counts as "not modified".
* **Adaptive polling per listing**, after Media Cloud: a listing whose links are mostly
  known (or that did not change) is polled half as often, one that brings mostly new links
  twice as often, within ``[crawl] poll_min`` and ``poll_max``. Scheduled runs skip
  listings that are not due; a manual ``mediawatch crawl`` fetches everything.
* **Failures back off.** A run in which no listing could be fetched is a failure; each one
  in a row doubles the back-off (``backoff_base`` up to ``backoff_max``) and after
  ``unhealthy_after`` of them the source is ``unhealthy``. Block answers (403 / 429 / 503,
  challenge pages) on the listings, or on at least half of the article fetches, mark the
  source ``blocked``. ``Retry-After`` is honoured: nothing is asked again before it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from archive.models import FetchState, Hints, KnownArticle, SourceState


@dataclass(frozen=True, slots=True)
class Policy:
    """The tunables of incremental crawling, all in seconds (``[crawl]`` keys)."""

    recheck: tuple[int, ...] = (3600, 6 * 3600, 24 * 3600, 72 * 3600)
    #: Re-check requests one crawl of a source may make (0: none); see crawler/recheck.py.
    recheck_budget: int = 100
    #: Learn each source's checkpoints from its edit history (False: ``recheck`` as given).
    recheck_learn: bool = True
    poll_min: int = 5 * 60
    poll_max: int = 6 * 3600
    backoff_base: int = 10 * 60
    backoff_max: int = 24 * 3600
    unhealthy_after: int = 5


def recheck_due_since(article: KnownArticle, now: datetime,
                      offsets: tuple[int, ...]) -> datetime | None:
    """The earliest re-check checkpoint passed since the article was last fetched (None:
    no re-check due). The spider re-checks those due longest first, within its budget."""
    for offset in sorted(offsets):
        due = article.first_seen + timedelta(seconds=offset)
        if due <= now and article.last_fetched < due:
            return due
    return None


def recheck_due(article: KnownArticle, now: datetime, offsets: tuple[int, ...]) -> bool:
    """True when a re-check checkpoint has passed since the article was last fetched."""
    return recheck_due_since(article, now, offsets) is not None


def _norm_title(title: str | None) -> str:
    return re.sub(r"\s+", " ", title or "").strip().casefold()


def listed_title_key(hints: Hints | None) -> str | None:
    """A digest of the title a listing gives for a link (None without one)."""
    if hints is None or not hints.title:
        return None
    return hashlib.sha1(_norm_title(hints.title).encode("utf-8")).hexdigest()


def listing_shows_change(article: KnownArticle, hints: Hints | None,
                         last_listed: str | None) -> bool:
    """True when the feed / sitemap entry's title changed since the listing last gave it
    (``last_listed``, a :func:`listed_title_key`), or, never recorded, differs from the
    archived title."""
    key = listed_title_key(hints)
    if key is None or hints is None:
        return False
    if last_listed is not None:
        return key != last_listed
    return bool(article.title) and _norm_title(hints.title) != _norm_title(article.title)


def article_fetch_reason(article: KnownArticle | None, hints: Hints | None, now: datetime,
                         policy: Policy, last_listed: str | None = None) -> str | None:
    """Why a listed article link should be fetched (``new``, ``alias``, ``changed``,
    ``recheck``), or None to skip it. ``last_listed`` is the title key the listing gave
    last time.

    ``alias``: the link is a URL the archived page declared (its short link...) that was
    never fetched itself, so where it leads (its redirects) was never captured; fetched
    once, through that link. Which links a crawl captures then does not depend on which of
    a story's URLs an earlier, interrupted crawl reached first.
    """
    if article is None:
        return "new"
    if article.unfetched_alias:
        return "alias"
    if listing_shows_change(article, hints, last_listed):
        return "changed"
    if not article.removed and recheck_due(article, now, policy.recheck):
        return "recheck"
    return None


def conditional_headers(state: FetchState | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for a listing fetched before."""
    headers: dict[str, str] = {}
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def is_due(state: FetchState | None, now: datetime) -> bool:
    """A listing (or a URL under Retry-After) may be fetched by a scheduled run."""
    return state is None or state.next_fetch is None or state.next_fetch <= now


def next_interval(current: int | None, *, unchanged: bool, total: int, new: int,
                  policy: Policy) -> int:
    """The next poll interval of a listing, from what this fetch brought."""
    interval = min(max(current or policy.poll_min, policy.poll_min), policy.poll_max)
    if unchanged or total == 0 or new / total <= 0.2:
        interval *= 2
    elif new / total >= 0.5:
        interval //= 2
    return min(max(interval, policy.poll_min), policy.poll_max)


def retry_after_seconds(value: str | None, now: datetime) -> int | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, int((when - now).total_seconds()))


#: Attempts at an article whose fetch keeps failing before it is left for good.
MAX_RETRIES = 6
#: Failure types worth a retry: the server or the network, not the page (404, robots,
#: redirect loops, oversized pages) and not blocks (they back off the source instead).
RETRYABLE_FAILURES = frozenset({
    "TimeoutError", "TCPTimedOutError", "ConnectionRefusedError", "ConnectionLost",
    "ConnectionDone", "ResponseNeverReceived", "DNSLookupError", "ConnectError",
})


def retry_delay(attempt: int, policy: Policy) -> int | None:
    """Seconds before retrying a failed article fetch after ``attempt`` failures, or None
    once it has failed :data:`MAX_RETRIES` times."""
    if attempt >= MAX_RETRIES:
        return None
    delay: int = policy.poll_min * 2 ** (attempt - 1)  # int ** int is typed Any
    return min(delay, policy.poll_max)


def is_retryable(failure_type: str, status: int | None) -> bool:
    """A failed fetch worth trying again later (see :data:`RETRYABLE_FAILURES`)."""
    if status is not None:
        return 500 <= status < 600 and status != 503
    return failure_type in RETRYABLE_FAILURES


def listing_state(url: str, source: str, kind: str, before: FetchState | None, *,
                  not_modified: bool, unchanged: bool, etag: str | None,
                  last_modified: str | None, digest: str, total: int, new: int,
                  now: datetime, policy: Policy) -> FetchState:
    """The state a listing fetch leaves: validators (kept from ``before`` when the answer
    has none), payload digest (``before``'s on a 304, whose body is empty), next poll."""
    interval = next_interval(before.interval_s if before else None, unchanged=unchanged,
                             total=total, new=new, policy=policy)
    return FetchState(
        url, source, kind,
        etag=etag or (before.etag if before else None),
        last_modified=last_modified or (before.last_modified if before else None),
        digest=before.digest if before and not_modified else digest,
        interval_s=interval, next_fetch=now + timedelta(seconds=interval),
        last_total=total if not unchanged else (before.last_total if before else 0),
        last_new=new)


def listed_link_state(url: str, source: str, seen: FetchState | None,
                      title_key: str) -> FetchState:
    """The title a listing gave for an article link; a link waiting for a retry keeps its
    kind, attempts and time."""
    if seen is not None and seen.kind == "retry":
        return replace(seen, digest=title_key)
    return FetchState(url, source, "listed", digest=title_key,
                      next_fetch=seen.next_fetch if seen else None)


def retry_state(link: str, source: str, seen: FetchState | None, now: datetime,
                policy: Policy) -> FetchState:
    """After a failed article fetch: a ``retry`` (see :func:`retry_delay`), or ``failed``
    for good once the attempts are used up."""
    attempt = (seen.last_total or 0) + 1 if seen is not None and seen.kind == "retry" else 1
    delay = retry_delay(attempt, policy)
    if delay is None:
        return FetchState(link, source, "failed", last_total=attempt)
    return FetchState(link, source, "retry", last_total=attempt,
                      next_fetch=now + timedelta(seconds=delay))


@dataclass(frozen=True, slots=True)
class RunHealth:
    """What one run of a source met: listings fetched or not, block answers."""

    listings_ok: int = 0
    listings_failed: int = 0
    listings_blocked: int = 0
    articles_ok: int = 0
    articles_blocked: int = 0
    retry_after: int | None = None


def next_source_state(prev: SourceState, run: RunHealth, now: datetime,
                      policy: Policy) -> SourceState:
    """The source's state after a run: reset on success, back off on failure or blocking."""
    blocked = (run.listings_blocked > 0 and run.listings_ok == 0) or (
        run.articles_blocked >= 2 and run.articles_blocked >= run.articles_ok)
    failed = run.listings_ok == 0 and (run.listings_failed + run.listings_blocked) > 0
    if not blocked and not failed:
        return SourceState(prev.source)
    failures = prev.consecutive_failures + 1
    wait = min(policy.backoff_base * 2 ** (failures - 1), policy.backoff_max)
    if run.retry_after is not None:
        wait = max(wait, run.retry_after)
    if blocked:
        status, reason = "blocked", "block answers (403/429/503 or challenge pages)"
    elif failures >= policy.unhealthy_after:
        status, reason = "unhealthy", f"{failures} failed runs in a row"
    else:
        status, reason = "failing", "no feed, sitemap or section page could be fetched"
    return SourceState(prev.source, status, failures, now + timedelta(seconds=wait), reason)
