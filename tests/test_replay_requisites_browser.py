"""The page as it looked: a newsroom article crawled with its requisites replays like the
live page, pixel for pixel, in a real browser (Debian's chromium through Playwright).

The sample newsroom is crawled with the real ``mediawatch crawl``; the replay app serves the
data folder from a real uvicorn server on 127.0.0.1. Both pages are screenshot at a desktop
size and compared in the browser itself (two images drawn on a canvas). The newsroom's
script draws nothing, so the replay (which never runs scripts) may lack nothing. A second
crawl with ``requisites = false`` is the control: its replay must differ, so the comparison
can tell a styled page from a bare one.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from archive.replay.app import create_replay_app
from crawler.pages.requisites import DESKTOP_WIDTH
from scheduler.newsroom import assets
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import Crawled

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PATH = "/northwind/2020/11/29/s400-idlib.html"
VIEWPORT = {"width": DESKTOP_WIDTH, "height": 900}
# Share of pixels that may differ (by more than a small per-channel tolerance): text
# antialiasing may vary by a pixel here and there, a missing stylesheet or image changes
# tens of percent.
MAX_DIFF = 0.002

REAL_FONT = len(assets.font()) > 1000

_COMPARE = """async ([a, b]) => {
  const load = src => new Promise((ok, fail) => {
    const img = new Image(); img.onload = () => ok(img); img.onerror = fail; img.src = src; });
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.width !== y.width || x.height !== y.height)
    return {size: [x.width, x.height, y.width, y.height], differing: -1};
  const pixels = img => { const c = document.createElement("canvas");
    c.width = img.width; c.height = img.height; const g = c.getContext("2d");
    g.drawImage(img, 0, 0); return g.getImageData(0, 0, img.width, img.height).data; };
  const p = pixels(x), q = pixels(y);
  let differing = 0;
  for (let i = 0; i < p.length; i += 4)
    if (Math.abs(p[i] - q[i]) > 16 || Math.abs(p[i + 1] - q[i + 1]) > 16
        || Math.abs(p[i + 2] - q[i + 2]) > 16) differing++;
  return {size: [x.width, x.height], differing: differing / (p.length / 4)};
}"""


def _serve(data: Path, port: int) -> Iterator[str]:
    server = uvicorn.Server(uvicorn.Config(create_replay_app(data), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("uvicorn did not start")
        threading.Event().wait(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Newsroom, Crawled, Crawled]]:
    """The newsroom (still serving) crawled once with requisites and once without."""
    work = tmp_path_factory.mktemp("requisites")
    with Newsroom(slow_seconds=0.2) as newsroom:
        sources = render_sources(newsroom.base_url)
        crawls = []
        for name, text in (("with", sources),
                           ("without", sources.replace("[crawl]\n",
                                                       "[crawl]\nrequisites = false\n"))):
            config = work / f"{name}.toml"
            config.write_text(text, encoding="utf-8")
            crawl = Crawled(newsroom.base_url, config, work / name, [], newsroom.hits)
            crawl.outputs.append(crawl.cli("crawl").stdout)
            crawls.append(crawl)
        yield newsroom, crawls[0], crawls[1]


def _shot(browser: Any, url: str, name: str) -> tuple[str, dict[str, Any]]:
    """A full-page screenshot (as a data URL) of ``url`` and what the page loaded."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    try:
        page = context.new_page()
        response = page.goto(url)
        assert response is not None
        assert response.status == 200
        page.wait_for_load_state("networkidle")
        page.evaluate("document.fonts.ready")
        facts = page.evaluate("""() => ({
            font: document.fonts.check('30px "Northwind Headline"'),
            photo: document.querySelector('.media img').currentSrc,
            photoWidth: document.querySelector('.media img').naturalWidth,
            title: getComputedStyle(document.querySelector('.article__title')).fontFamily})""")
        ARTIFACTS.mkdir(exist_ok=True)
        png = page.screenshot(full_page=True)
        (ARTIFACTS / f"requisites-{name}.png").write_bytes(png)
    finally:
        context.close()
    return "data:image/png;base64," + base64.b64encode(png).decode(), facts


def _difference(browser: Any, a: str, b: str) -> dict[str, Any]:
    context = browser.new_context()
    try:
        result: dict[str, Any] = context.new_page().evaluate(_COMPARE, [a, b])
    finally:
        context.close()
    return result


def test_replay_renders_the_page_like_the_live_site(
        site: tuple[Newsroom, Crawled, Crawled], browser: Any,
        free_port: Callable[[], int]) -> None:
    newsroom, with_requisites, without = site
    live_url = newsroom.base_url + PATH
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    live, live_facts = _shot(browser, live_url, "live")
    # The live page really uses what the crawl must capture: the web font, the srcset
    # candidate the crawler picks for a desktop browser (800w for a 688px slot).
    # (The newsroom serves the system's DejaVu Sans Mono; without it, no font loads.)
    assert live_facts["font"] is REAL_FONT
    assert live_facts["photo"].endswith("/northwind/img/photo-800.png")
    assert live_facts["photoWidth"] > 0  # (density-corrected: 800 px at 800/688 x)

    for replay in _serve(with_requisites.data, free_port()):
        replayed, facts = _shot(browser, f"{replay}/replay/{now}/{live_url}", "replay")
    assert facts["font"] is REAL_FONT
    assert facts["photo"].endswith("/northwind/img/photo-800.png")
    assert facts["photoWidth"] == live_facts["photoWidth"]
    diff = _difference(browser, live, replayed)
    assert diff["differing"] >= 0, f"page sizes differ: {diff['size']}"
    assert diff["differing"] < MAX_DIFF, diff

    # The control: without requisites the same comparison sees a different page.
    for replay in _serve(without.data, free_port()):
        bare, bare_facts = _shot(browser, f"{replay}/replay/{now}/{live_url}", "bare")
    assert bare_facts["photoWidth"] == 0  # the image is not in that archive
    control = _difference(browser, live, bare)
    assert control["differing"] == -1 or control["differing"] > 10 * MAX_DIFF, control
