"""Fixtures that several test files share.

- ``archive``: a fresh, empty archive at ``<tmp>/data/archive.db`` (the product's layout).
- ``crawled``: the sample newsroom crawled twice with the real ``mediawatch crawl`` (edition 1,
  then edition 2, which edits one story), once per test module that asks for it: tests may
  change that archive (``reindex``), so modules do not share one.
- ``free_port``: a function returning a loopback port that nothing listens on yet.
- ``browser``: Debian's chromium driven by Playwright, once per module; tests that use it skip
  when chromium or Playwright is missing (``make test`` installs both).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.store.db import Archive
from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources

# Every test server is on 127.0.0.1, which the private-address policy refuses by default;
# tests of that policy remove this from their subprocesses' environment.
os.environ.setdefault("MEDIAWATCH_ALLOW_PRIVATE", "1")

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    """An empty archive in a fresh data folder, closed after the test."""
    with Archive(tmp_path / "data" / "archive.db") as opened:
        yield opened


@dataclass
class Crawled:
    """The sample newsroom after two crawls: its address, the sources file, the data folder,
    each crawl's stdout, and every (method, path) request the newsroom answered."""

    base: str
    config: Path
    data: Path
    outputs: list[str]
    hits: list[tuple[str, str]]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``mediawatch`` on this config and data; with ``check``, exit 0 is asserted."""
        result = subprocess.run(
            [MEDIAWATCH, "--config", str(self.config), "--data", str(self.data), *args],
            capture_output=True, text=True, timeout=300, check=False)
        if check:
            assert result.returncode == 0, result.stderr
        return result


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    """The sample newsroom crawled twice (edition 1, then 2) into a fresh folder; the
    newsroom keeps serving until the module's tests are done."""
    work = tmp_path_factory.mktemp("newsroom")
    with Newsroom() as newsroom:
        config = work / "sources.toml"
        config.write_text(render_sources(newsroom.base_url), encoding="utf-8")
        state = Crawled(newsroom.base_url, config, work / "data", [], newsroom.hits)
        for edition in (1, 2):
            newsroom.edition = edition
            state.outputs.append(state.cli("crawl").stdout)
        yield state


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """Call it for a loopback port that is free now (the OS picked it; a server binds it next)."""
    return _free_port


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless chromium (Debian's build; Playwright downloads none), closed after the module."""
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (make test installs it)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()
