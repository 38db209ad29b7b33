"""A serving process freezes what it loaded at start, so that the collector's full
collections never walk the whole program in the middle of a search
(:func:`archive.web.serving.settle`)."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

from archive.web import serving

if TYPE_CHECKING:
    import pytest


def test_settle_builds_the_matcher_and_freezes_what_was_loaded() -> None:
    # In a child: freezing this test process would keep its objects for good.
    code = ("import gc; from archive.web.serving import settle; "
            "from archive.gazetteer import matcher; settle(); "
            "print(gc.get_freeze_count(), len(gc.get_objects()), "
            "matcher.cache_info().currsize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    frozen, tracked, matchers = (int(n) for n in out)
    assert frozen > 10_000  # the modules, the gazetteer and its matcher
    assert tracked < 100  # nothing left for a full collection to walk
    assert matchers == 1


def test_serve_settles_before_it_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(serving, "settle", lambda: calls.append("settle"))
    monkeypatch.setattr(serving, "_run", lambda *args: calls.append("run"))
    serving.serve([], workers=1)
    assert calls == ["settle", "run"]
