"""Screenshots as evidence: each new article version rendered from its capture.

:func:`shoot` serves the data folder with the replay app (:func:`archive.replay.app.
create_replay_app`) on a loopback port of its own, opens each version's capture there in
Debian's chromium through Playwright (so the page is drawn from the archive, never from the
live site: the replay app answers only from the WARCs), and writes a full-page PNG of it as a
WARC ``resource`` record (:mod:`archive.warc.screenshots`) to a screenshot file of the
source, which is CDXJ-indexed when closed like every WARC file. The caller ingests that file,
which links each record to its version (``screenshots`` table).

Playwright's sync API refuses to run inside an asyncio loop (Scrapy's reactor may be one),
so :func:`shoot_in_thread` runs it in a thread of its own.

A browser that is missing or fails never raises: the versions not rendered are counted in
:attr:`ShotReport.failed` with one line of why.
"""

from __future__ import annotations

import logging
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.replay.rules import format_timestamp, replay_path
from archive.times import parse_utc
from archive.warc.cdxj import index_closed_warc
from archive.warc.screenshots import screenshot_source, screenshot_uri
from archive.warc.writer import RotatingWarcWriter

if TYPE_CHECKING:
    from archive.store.screenshots import VersionToShoot

log = logging.getLogger(__name__)

#: Debian's chromium; Playwright downloads no browser of its own.
CHROMIUM = Path("/usr/bin/chromium")
#: A desktop window, as the requisites' srcset choice assumes.
VIEWPORT = {"width": 1280, "height": 800}
#: Per page, for the load and for the screenshot (milliseconds).
PAGE_TIMEOUT_MS = 30_000


@dataclass(slots=True)
class ShotReport:
    """What :func:`shoot` did: the screenshot files written, the versions rendered and the
    ones that failed (``problem`` says why, one line)."""

    files: list[Path] = field(default_factory=list)
    rendered: int = 0
    failed: int = 0
    problem: str = ""


class ReplayServer:
    """The replay app on ``127.0.0.1`` (a port the system picks), in a thread."""

    def __init__(self, data_dir: Path):
        # Imported here: only a crawl with screenshots on loads the web stack
        # (tests/test_layering.py keeps starlette and uvicorn out of the crawler's imports).
        import uvicorn

        from archive.replay.app import create_replay_app

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port = self.sock.getsockname()[1]
        self.origin = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(create_replay_app(data_dir),
                                                    log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the replay server did not start")
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


def replay_url(origin: str, version: VersionToShoot) -> str:
    """Where the replay app serves the capture of ``version`` (its exact second)."""
    ts = format_timestamp(parse_utc(version.fetched_at))
    return origin + replay_path(version.url, ts)


def shoot(data_dir: Path, versions: list[VersionToShoot], *,
          executable: Path = CHROMIUM, clock: Any = None) -> ShotReport:
    """Render each of ``versions`` from its capture and write the PNGs to screenshot
    files (one file per source) in ``<data_dir>/warcs``. Never raises."""
    report = ShotReport()
    if not versions:
        return report
    now = clock or (lambda: datetime.now(UTC))
    writers: dict[str, RotatingWarcWriter] = {}
    try:
        if not executable.is_file():
            raise RuntimeError(f"no browser at {executable}")
        from playwright.sync_api import sync_playwright  # heavy: only when screenshots are on

        with ReplayServer(data_dir) as replay, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(executable), args=["--no-sandbox"])
            try:
                for version in versions:
                    try:
                        png = _render(browser, replay_url(replay.origin, version))
                    except Exception as exc:  # one page failing leaves the others
                        report.failed += 1
                        report.problem = f"{version.url}: {type(exc).__name__}: " \
                                         f"{str(exc).splitlines()[0] if str(exc) else ''}"
                        continue
                    writer = writers.get(version.source)
                    if writer is None:
                        writer = writers[version.source] = RotatingWarcWriter(
                            data_dir / "warcs", screenshot_source(version.source),
                            clock=now, on_close=index_closed_warc)
                    headers = {"WARC-Refers-To-Target-URI": version.url,
                               "WARC-Refers-To-Date": version.fetched_at}
                    if version.record_id:
                        headers["WARC-Refers-To"] = version.record_id
                    writer.write_resource(screenshot_uri(version.article_id, version.version),
                                          png, "image/png", now(), headers)
                    report.rendered += 1
            finally:
                browser.close()
    except Exception as exc:  # no browser, no Playwright, no port: the crawl goes on
        report.failed = len(versions) - report.rendered
        report.problem = f"{type(exc).__name__}: " \
                         f"{str(exc).splitlines()[0] if str(exc) else ''}"
    finally:
        for writer in writers.values():
            try:
                if (path := writer.close()) is not None:
                    report.files.append(path)
            except OSError as exc:
                report.problem = f"closing the screenshot file failed: {exc}"
    return report


def _render(browser: Any, url: str) -> bytes:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1,
                                  java_script_enabled=False)
    try:
        page = context.new_page()
        response = page.goto(url, timeout=PAGE_TIMEOUT_MS, wait_until="load")
        if response is None or response.status != 200:
            status = response.status if response is not None else "no answer"
            raise RuntimeError(f"replay answered {status}")
        return bytes(page.screenshot(full_page=True, type="png", timeout=PAGE_TIMEOUT_MS))
    finally:
        context.close()


def shoot_in_thread(data_dir: Path, versions: list[VersionToShoot],
                    executable: Path = CHROMIUM) -> ShotReport:
    """:func:`shoot` in a thread of its own (Playwright's sync API and a running asyncio
    loop do not mix), waited for."""
    out: list[ShotReport] = []
    thread = threading.Thread(target=lambda: out.append(shoot(data_dir, versions,
                                                              executable=executable)))
    thread.start()
    thread.join()
    return out[0] if out else ShotReport(failed=len(versions), problem="screenshot thread died")
