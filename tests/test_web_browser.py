"""The web interface in a real browser: Debian's chromium driven by Playwright against a real
``mediawatch serve`` (interface and replay on two loopback ports) over the sample newsroom,
crawled with the real CLI. Screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from scheduler.newsroom.stories import STORIES

if TYPE_CHECKING:
    from tests.conftest import Crawled

# Both skips come before the module's crawl: without a browser it would be wasted.
pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parent / "artifacts"
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="needs /usr/bin/chromium (make test installs it)")


@dataclass
class Served:
    ui: str
    replay: str
    outside: list[str]


@pytest.fixture(scope="module")
def served(crawled: Crawled, free_port: Callable[[], int]) -> Iterator[Served]:
    port, replay_port = free_port(), free_port()
    proc = subprocess.Popen(
        [MEDIAWATCH, "--config", str(crawled.config), "--data", str(crawled.data), "serve",
         "--port", str(port), "--replay-port", str(replay_port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once both servers listen
        assert "web interface" in line, proc.stderr.read() if proc.stderr else line
        yield Served(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{replay_port}", [])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


@pytest.fixture
def page(browser: object, served: Served) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]

    def only_loopback(route: object, request: object) -> None:
        host = urlsplit(request.url).hostname  # type: ignore[attr-defined]
        if host == "127.0.0.1" or request.url.startswith(("data:", "about:")):  # type: ignore[attr-defined]
            route.continue_()  # type: ignore[attr-defined]
        else:
            served.outside.append(request.url)  # type: ignore[attr-defined]
            route.abort()  # type: ignore[attr-defined]

    context.route("**/*", only_loopback)
    tab = context.new_page()
    yield tab
    context.close()


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_search_open_article_and_replay(page: object, served: Served) -> None:
    p = page
    p.goto(served.ui + "/")  # type: ignore[attr-defined]
    p.fill("input[name=q]", "S-400")  # type: ignore[attr-defined]
    p.press("input[name=q]", "Enter")  # type: ignore[attr-defined]
    p.wait_for_url("**/?q=S-400*")  # type: ignore[attr-defined]
    # S-400 in every script: the Latin and the Cyrillic ("С-400") stories (test_web.py).
    assert p.inner_text("#total").startswith("7 articles match")  # type: ignore[attr-defined]
    assert p.locator("figure.chart rect").count() >= 1  # type: ignore[attr-defined]
    shot(p, "search")

    p.click("text=Turkish FM Says Idlib Escalation")  # type: ignore[attr-defined]
    p.wait_for_url("**/articles/*")  # type: ignore[attr-defined]
    assert "Turkish FM Says Idlib Escalation" in p.inner_text("h1")  # type: ignore[attr-defined]
    assert "/s/Ab3x" in p.inner_text("#aliases")  # type: ignore[attr-defined]
    assert "anatolia" in p.inner_text("#cluster")  # type: ignore[attr-defined]
    shot(p, "article")

    p.click("#captures a.replay >> nth=0")  # type: ignore[attr-defined]
    p.wait_for_url("**/replay-frame/**")  # type: ignore[attr-defined]
    assert "Archived capture" in p.inner_text("#replay-banner")  # type: ignore[attr-defined]
    frame = p.frame_locator("iframe.replay")  # type: ignore[attr-defined]
    assert "Idlib" in frame.locator("body").inner_text(timeout=15000)
    assert p.get_attribute("iframe.replay", "sandbox") == ""  # type: ignore[attr-defined]
    assert p.get_attribute("iframe.replay", "src").startswith(served.replay + "/replay/")  # type: ignore[attr-defined,union-attr]
    shot(p, "replay")
    assert served.outside == []


def test_page_through_results(page: object, served: Served) -> None:
    p = page
    per_page = -(-len(STORIES) // 3)  # three pages, whatever the newsroom holds
    p.goto(served.ui + f"/?sort=newest&per_page={per_page}")  # type: ignore[attr-defined]
    seen: list[str] = []
    pages = -(-len(STORIES) // per_page)
    for number in range(1, pages + 1):
        assert f"page {number} of {pages}" in p.inner_text("#total")  # type: ignore[attr-defined]
        seen += p.locator("li.hit a.title").evaluate_all(  # type: ignore[attr-defined]
            "links => links.map(a => a.getAttribute('href'))")
        if number == 2:
            shot(p, "page-2")
        if number < pages:
            p.click("a[rel=next]")  # type: ignore[attr-defined]
            p.wait_for_url(f"**page={number + 1}*")  # type: ignore[attr-defined]
    assert p.locator("a[rel=next]").count() == 0  # type: ignore[attr-defined]
    assert len(seen) == len(set(seen)) == len(STORIES)
    p.click("a[rel=prev]")  # type: ignore[attr-defined]
    p.wait_for_url(f"**page={pages - 1}*")  # type: ignore[attr-defined]


def test_sources_page(page: object, served: Served) -> None:
    p = page
    p.goto(served.ui + "/sources")  # type: ignore[attr-defined]
    assert p.locator("tr.source").count() == 2  # type: ignore[attr-defined]
    assert "every" in p.inner_text("#source-northwind")  # type: ignore[attr-defined]
    shot(p, "sources")
