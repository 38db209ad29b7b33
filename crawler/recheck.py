"""Learned re-checks: when to fetch an archived article again, from its source's edit habits.

Pure functions over values; :class:`crawler.components.state.IncrementalState` computes a
source's schedule once when its crawl opens and the spider applies it with
:func:`crawler.incremental.recheck_due`.

A re-check is the only way an edit the listing does not show (same title in the feed), or a
takedown, is caught, and it costs a request. Fixed checkpoints (``[crawl] recheck``: 1 h,
6 h, 24 h and 72 h) waste them on outlets that never change a word and miss outlets that
correct stories a week later. So each source's schedule is learned from the archive: the
``versions`` table says, for the articles it first saw in the last :data:`LEARN_DAYS` days
and fetched again since (an article fetched once could not show an edit), how many were
ever edited (**how often**) and how long after ``first_seen`` each later
version was captured (**how late**). The rule (:func:`recheck_schedule`):

* **Too little history** (fewer than :data:`MIN_ARTICLES` articles in the window): the
  configured checkpoints, unchanged.
* **Never edits** (no later version among them): a single re-check at
  :data:`QUIET_RECHECK` (24 h), still enough to catch most takedowns.
* **Edits**: as many checkpoints as the configured list has, scaled down in proportion when
  fewer than :data:`BUSY_RATE` (a quarter) of the articles are edited, at least two. All but
  the last are quantiles of the observed delays (with ``n - 1`` of them at the
  ``1/(n-1)``, ..., ``(n-1)/(n-1)`` quantiles: each interval between checkpoints holds about
  as many of the edits seen), rounded up to the hour; the last is a **probe** at twice the
  latest delay seen, never before the configured last checkpoint, so a source that edits
  late gets re-checks past 72 h, and one whose edits come later than ever seen can still
  show it. Nothing is re-checked later than :data:`HORIZON` (30 days) after first seen.

A delay is measured to the capture that found the new text, so it is an upper bound of the
edit's real time (the checkpoints that found it); learning from its own schedule, the
estimate drifts towards the checkpoints, which the probe keeps open-ended.

The number of re-check requests one crawl of a source makes is capped by
``recheck_budget`` (``[crawl]``, or per ``[[source]]``; 0: no re-checks): the articles whose
checkpoint passed longest ago go first, and those left over stay due for the next crawl
(a checkpoint counts as done only once the article was fetched after it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from archive.store.crawlstate import EditHabits

__all__ = ["BUSY_RATE", "HORIZON", "LEARN_DAYS", "MIN_ARTICLES", "QUIET_RECHECK",
           "EditHabits", "recheck_schedule"]

HOUR = 3600
#: How far back the archive is asked: articles first seen in the last this many days.
LEARN_DAYS = 90
#: Fewer articles than this in the window: the configured checkpoints are used.
MIN_ARTICLES = 5
#: The one re-check of a source that never edits (seconds after first seen).
QUIET_RECHECK = 24 * HOUR
#: At this share of edited articles or above, a source gets every checkpoint the
#: configuration allows; below it, proportionally fewer.
BUSY_RATE = 0.25
#: No re-check later than this after first seen (seconds).
HORIZON = 30 * 24 * HOUR


def _quantile(values: Sequence[int], q: float) -> int:
    """The ``q`` quantile of sorted ``values`` (nearest rank, so always an observed value)."""
    rank = max(1, math.ceil(q * len(values)))
    return values[min(rank, len(values)) - 1]


def _hour_up(seconds: int) -> int:
    return max(HOUR, math.ceil(seconds / HOUR) * HOUR)


def recheck_schedule(habits: EditHabits | None, configured: Sequence[int]) -> tuple[int, ...]:
    """The re-check checkpoints (seconds after first seen, ascending, distinct) for a source
    with these edit ``habits``; ``configured`` are the ``[crawl] recheck`` checkpoints (see
    the module docstring for the rule)."""
    defaults = tuple(sorted(set(configured)))
    if habits is None or habits.articles < MIN_ARTICLES or not defaults:
        return defaults
    if habits.edited == 0 or not habits.delays:
        return (min(QUIET_RECHECK, HORIZON),)
    most = max(2, len(defaults))
    n = max(2, min(most, math.ceil(most * habits.rate / BUSY_RATE)))
    delays = sorted(habits.delays)
    steps = n - 1
    points = {min(_hour_up(_quantile(delays, i / steps)), HORIZON) for i in range(1, steps + 1)}
    probe = min(max(2 * delays[-1], defaults[-1]), HORIZON)
    points.add(probe)
    return tuple(sorted(points))
