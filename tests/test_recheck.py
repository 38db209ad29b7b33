"""Learned re-checks (crawler/recheck.py): edit history -> checkpoints, and the budget rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archive.models import KnownArticle
from archive.store.crawlstate import EditHabits
from crawler.incremental import recheck_due, recheck_due_since
from crawler.recheck import HORIZON, QUIET_RECHECK, recheck_schedule

H = 3600
DEFAULT = (H, 6 * H, 24 * H, 72 * H)


@pytest.mark.parametrize(("habits", "expected"), [
    pytest.param(None, DEFAULT, id="no-history"),
    pytest.param(EditHabits(4, 4, (2 * H,) * 4), DEFAULT, id="too-few-articles"),
    pytest.param(EditHabits(40, 0), (QUIET_RECHECK,), id="never-edits-one-recheck"),
    # Every article edited within two hours: checkpoints where the edits were seen, the
    # probe at the configured last checkpoint (it never comes earlier).
    pytest.param(EditHabits(20, 20, (H, H, 2 * H, 2 * H, 2 * H)), (H, 2 * H, 72 * H),
                 id="early-editor"),
    # Edits seen four to six days after first seen: checkpoints there, the probe past
    # them (twice the latest delay), well past the configured 72 h.
    pytest.param(EditHabits(20, 10, tuple(d * 24 * H for d in (4, 4, 5, 5, 5, 6))),
                 (96 * H, 120 * H, 144 * H, 288 * H), id="late-editor-past-72h"),
    # One article in ten edited: fewer checkpoints than configured (four -> two).
    pytest.param(EditHabits(50, 5, (3 * H, 5 * H, 10 * H, 20 * H, 30 * H)),
                 (30 * H, 72 * H), id="rare-editor-fewer"),
    # Delays are rounded up to the hour and capped at the horizon.
    pytest.param(EditHabits(10, 10, (90, 40 * 24 * H)), (H, HORIZON), id="rounded-and-capped"),
])
def test_recheck_schedule(habits: EditHabits | None, expected: tuple[int, ...]) -> None:
    assert recheck_schedule(habits, DEFAULT) == expected


def test_schedule_is_ascending_distinct_and_within_the_horizon() -> None:
    for edited in range(0, 21, 3):
        delays = tuple((i * 7919) % (50 * 24 * H) for i in range(edited * 3))
        schedule = recheck_schedule(EditHabits(20, edited, delays), DEFAULT)
        assert list(schedule) == sorted(set(schedule))
        assert schedule
        assert all(0 < s <= HORIZON for s in schedule)
        assert len(schedule) <= len(DEFAULT)


def test_no_configured_checkpoints_means_no_rechecks() -> None:
    assert recheck_schedule(EditHabits(20, 20, (H,)), ()) == ()


def test_rate() -> None:
    assert EditHabits(8, 2).rate == 0.25
    assert EditHabits(0, 0).rate == 0.0


NOW = datetime(2024, 5, 10, 12, tzinfo=UTC)


def known(age_h: float, fetched_h_after_first: float) -> KnownArticle:
    first = NOW - timedelta(hours=age_h)
    return KnownArticle("a", "https://n.example/a", "T", None, first,
                        first + timedelta(hours=fetched_h_after_first), False,
                        "https://n.example/a")


def test_a_late_checkpoint_makes_an_old_article_due() -> None:
    # Five days old, last fetched at its 72 h re-check: done by the configured checkpoints,
    # due by a late editor's learned ones (96 h passed since).
    article = known(5 * 24, 73)
    assert not recheck_due(article, NOW, DEFAULT)
    late = recheck_schedule(EditHabits(20, 10, (96 * H,) * 6), DEFAULT)
    assert recheck_due(article, NOW, late)
    assert recheck_due_since(article, NOW, late) == article.first_seen + timedelta(hours=96)


def test_due_since_is_the_earliest_checkpoint_missed() -> None:
    article = known(30, 0.5)  # fetched once, 30 minutes after first seen
    assert recheck_due_since(article, NOW, DEFAULT) == article.first_seen + timedelta(hours=1)
    assert recheck_due_since(known(30, 25), NOW, DEFAULT) is None
