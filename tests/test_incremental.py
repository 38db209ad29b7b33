"""Incremental-crawling policy (pure) and block-page detection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archive.models import FetchState, Hints, KnownArticle, SourceState
from crawler.incremental import (
    Policy,
    RunHealth,
    article_fetch_reason,
    conditional_headers,
    is_due,
    listed_title_key,
    next_interval,
    next_source_state,
    recheck_due,
    retry_after_seconds,
)
from crawler.pages.blockpage import block_reason

NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)
H = timedelta(hours=1)
POLICY = Policy()


def known(first_seen_ago: timedelta, last_fetched_ago: timedelta, *, title: str = "Deal signed",
          removed: bool = False, unfetched_alias: bool = False) -> KnownArticle:
    return KnownArticle("a1", "https://n.example/a", title, None, NOW - first_seen_ago,
                        NOW - last_fetched_ago, removed, "https://n.example/a?utm_source=rss",
                        unfetched_alias)


@pytest.mark.parametrize(("first", "last", "due"), [
    pytest.param(30 * 60, 30 * 60, False, id="fresh-not-due"),
    pytest.param(2 * 3600, 2 * 3600, True, id="1h-checkpoint-passed"),
    pytest.param(2 * 3600, 30 * 60, False, id="1h-checkpoint-done"),
    pytest.param(7 * 3600, 5 * 3600, True, id="6h-checkpoint-passed"),
    pytest.param(100 * 3600, 1 * 3600, False, id="all-checkpoints-done"),
    pytest.param(100 * 3600, 99 * 3600, True, id="72h-checkpoint-missed-while-down"),
])
def test_recheck_by_age(first: int, last: int, due: bool) -> None:
    article = known(timedelta(seconds=first), timedelta(seconds=last))
    assert recheck_due(article, NOW, POLICY.recheck) is due


@pytest.mark.parametrize(("article", "hints", "reason"), [
    pytest.param(None, None, "new", id="unknown-link"),
    pytest.param(known(timedelta(minutes=10), timedelta(minutes=5)), None,
                 None, id="known-not-due"),
    pytest.param(known(timedelta(minutes=10), timedelta(minutes=5)),
                 Hints(title="Deal  SIGNED"), None, id="same-title-in-listing"),
    pytest.param(known(timedelta(minutes=10), timedelta(minutes=5)),
                 Hints(title="Deal collapses"), "changed", id="listing-shows-new-title"),
    pytest.param(known(2 * H, 2 * H), None, "recheck", id="due-for-recheck"),
    pytest.param(known(2 * H, 2 * H, removed=True), None, None, id="taken-down-not-rechecked"),
    pytest.param(known(timedelta(minutes=10), timedelta(minutes=5), unfetched_alias=True),
                 None, "alias", id="declared-short-link-never-fetched"),
])
def test_article_fetch_reason(article: KnownArticle | None, hints: Hints | None,
                              reason: str | None) -> None:
    assert article_fetch_reason(article, hints, NOW, POLICY) == reason


def test_listing_title_is_compared_with_what_the_listing_said_before() -> None:
    article = known(timedelta(minutes=10), timedelta(minutes=5), title="Deal signed in Ankara")
    feed_headline = Hints(title="Turkey, Russia sign deal")  # the feed's own headline
    key = listed_title_key(feed_headline)
    assert key is not None
    assert listed_title_key(Hints()) is None
    # First time: compared with the archived title (differs: re-fetch once)...
    assert article_fetch_reason(article, feed_headline, NOW, POLICY) == "changed"
    # ...then with the headline the listing gave last time: stable, no re-fetch every run.
    assert article_fetch_reason(article, feed_headline, NOW, POLICY, key) is None
    assert article_fetch_reason(article, Hints(title=" turkey, RUSSIA sign deal "), NOW,
                                POLICY, key) is None
    assert article_fetch_reason(article, Hints(title="Deal collapses"), NOW, POLICY,
                                key) == "changed"


def test_conditional_headers_and_due() -> None:
    assert conditional_headers(None) == {}
    state = FetchState("u", "s", "feed", etag='"x1"', last_modified="Wed, 01 May 2024 10:00:00 GMT",
                       next_fetch=NOW + H)
    assert conditional_headers(state) == {"If-None-Match": '"x1"',
                                          "If-Modified-Since": "Wed, 01 May 2024 10:00:00 GMT"}
    assert not is_due(state, NOW)
    assert is_due(state, NOW + 2 * H)
    assert is_due(None, NOW)


@pytest.mark.parametrize(("current", "unchanged", "total", "new", "expected"), [
    pytest.param(None, False, 20, 15, 300, id="first-poll-mostly-new-stays-at-min"),
    pytest.param(3600, False, 20, 15, 1800, id="mostly-new-halves"),
    pytest.param(3600, False, 20, 1, 7200, id="mostly-known-doubles"),
    pytest.param(3600, False, 20, 6, 3600, id="in-between-keeps"),
    pytest.param(3600, True, 0, 0, 7200, id="not-modified-doubles"),
    pytest.param(20000, True, 0, 0, 21600, id="capped-at-max"),
    pytest.param(10, False, 10, 10, 300, id="raised-to-min"),
])
def test_adaptive_poll_interval(current: int | None, unchanged: bool, total: int, new: int,
                                expected: int) -> None:
    assert next_interval(current, unchanged=unchanged, total=total, new=new,
                         policy=POLICY) == expected


@pytest.mark.parametrize(("value", "seconds"), [
    ("120", 120), (" 7 ", 7), ("Thu, 02 May 2024 13:00:00 GMT", 3600),
    ("Thu, 02 May 2024 11:00:00 GMT", 0), ("soon", None), ("", None), (None, None),
])
def test_retry_after(value: str | None, seconds: int | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_source_state_backs_off_and_recovers() -> None:
    state = SourceState("tass")
    failed = RunHealth(listings_failed=3)
    for n, wait in enumerate([600, 1200, 2400, 4800], start=1):
        state = next_source_state(state, failed, NOW, POLICY)
        assert (state.status, state.consecutive_failures) == ("failing", n)
        assert state.backoff_until == NOW + timedelta(seconds=wait)
    state = next_source_state(state, failed, NOW, POLICY)
    assert state.status == "unhealthy"
    assert state.consecutive_failures == 5
    for _ in range(10):
        state = next_source_state(state, failed, NOW, POLICY)
    assert state.backoff_until == NOW + timedelta(seconds=POLICY.backoff_max)
    assert next_source_state(state, RunHealth(listings_ok=1, listings_failed=2), NOW,
                             POLICY) == SourceState("tass")


@pytest.mark.parametrize(("health", "status"), [
    pytest.param(RunHealth(listings_blocked=2, retry_after=7200), "blocked", id="listings-429"),
    pytest.param(RunHealth(listings_ok=2, articles_ok=3, articles_blocked=5), "blocked",
                 id="most-articles-challenged"),
    pytest.param(RunHealth(listings_ok=2, articles_ok=20, articles_blocked=1), "ok",
                 id="one-503-article-is-not-a-block"),
])
def test_blocked_sources(health: RunHealth, status: str) -> None:
    state = next_source_state(SourceState("aa"), health, NOW, POLICY)
    assert state.status == status
    if health.retry_after:
        assert state.backoff_until == NOW + timedelta(seconds=health.retry_after)


CLOUDFLARE = (b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
              b"<h1>Checking your browser before accessing example.com.</h1></body></html>")
ARTICLE_WITH_CAPTCHA_FORM = (b"<html><head><title>Frigate deal</title></head><body><article>"
                             + b"<p>The navy signed.</p>" * 4000
                             + b"<form><div class='g-recaptcha'></div>Verify you are human"
                             b"</form></article></body></html>")


@pytest.mark.parametrize(("status", "body", "reason"), [
    pytest.param(429, b"", "http 429", id="429"),
    pytest.param(403, b"<html>Forbidden</html>", "http 403", id="403"),
    pytest.param(503, b"", "http 503", id="503"),
    pytest.param(200, CLOUDFLARE, "challenge: just a moment...", id="cloudflare-200"),
    pytest.param(200, b"<html><body>Pardon Our Interruption</body></html>",
                 "challenge: pardon our interruption", id="distil"),
    pytest.param(200, ARTICLE_WITH_CAPTCHA_FORM, None, id="big-article-with-captcha-form"),
    pytest.param(200, b"<html><body><p>Ministers met.</p></body></html>", None, id="article"),
    pytest.param(404, b"not found", None, id="404-is-not-a-block"),
])
def test_block_pages(status: int, body: bytes, reason: str | None) -> None:
    assert block_reason(status, body) == reason


def test_failed_article_fetches_are_retried_with_backoff_then_left() -> None:
    from crawler.incremental import MAX_RETRIES, is_retryable, retry_delay

    policy = Policy(poll_min=300, poll_max=3600)
    assert [retry_delay(n, policy) for n in range(1, MAX_RETRIES + 1)] == [
        300, 600, 1200, 2400, 3600, None]
    assert is_retryable("HttpError", 502)
    assert is_retryable("TimeoutError", None)
    assert not is_retryable("HttpError", 404)
    assert not is_retryable("HttpError", 503)
    assert not is_retryable("IgnoreRequest", None)  # robots.txt, offsite, redirect loops
