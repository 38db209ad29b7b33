"""The private-address policy on real crawls and webhook posts, loopback only.

127.0.0.1 is private: refused by default, allowed by ``MEDIAWATCH_ALLOW_PRIVATE=1``, by
``[crawl] allow_private = true`` and by a source's own ``allow_private``. (conftest sets the
variable for every other test; these remove it.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from crawler.components.addresses import ENV, is_private
from scheduler.monitor.delivery import DeliveryError, post_json
from tests.site_server import Site

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


@pytest.fixture
def no_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)


def crawl(tmp_path: Path, config: str, *, allow_env: bool = False) -> str:
    """``mediawatch crawl`` with this config; the crawl log's text."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "sources.toml"
    path.write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if allow_env:
        env[ENV] = "1"
    data = tmp_path / "data"
    result = subprocess.run([MEDIAWATCH, "--config", str(path), "--data", str(data), "crawl"],
                            capture_output=True, text=True, timeout=300, check=False, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return "".join(p.read_text(encoding="utf-8") for p in (data / "logs").glob("*.log"))


def feeds(site: Site, *names: str, own: str = "") -> str:
    return "".join(f'[[source]]\nid = "{n}"\nfeeds = ["{site.base_url}/feed/{n}.xml"]\n{own}\n'
                   for n in names)


def test_loopback_is_refused_by_default(site: Site, tmp_path: Path) -> None:
    log = crawl(tmp_path, "[crawl]\ndelay = 0\n" + feeds(site, "a"))
    assert site.hits == []  # not even robots.txt
    assert "is a private address" in log
    assert "'mediawatch/private_refused'" in log


def test_environment_allows_loopback(site: Site, tmp_path: Path) -> None:
    crawl(tmp_path, "[crawl]\ndelay = 0\n" + feeds(site, "a"), allow_env=True)
    assert sum("/art-" in p for p in site.hits) == 12


def test_crawl_table_allows_loopback(site: Site, tmp_path: Path) -> None:
    crawl(tmp_path, "[crawl]\ndelay = 0\nallow_private = true\n" + feeds(site, "a"))
    assert sum("/art-" in p for p in site.hits) == 12


def test_source_setting_wins_over_crawl_table(site: Site, tmp_path: Path) -> None:
    crawl(tmp_path, "[crawl]\ndelay = 0\n" + feeds(site, "a", own="allow_private = true")
          + feeds(site, "b"))
    assert sum(p.startswith("/a/art-") for p in site.hits) == 12
    assert not any(p.startswith(("/b/", "/feed/b")) for p in site.hits)
    site.hits.clear()
    crawl(tmp_path / "2", "[crawl]\ndelay = 0\nallow_private = true\n"
          + feeds(site, "a", own="allow_private = false"))
    assert site.hits == []


@pytest.mark.parametrize("address", ["127.0.0.1", "127.5.5.5", "::1", "10.1.2.3",
                                     "172.16.0.1", "192.168.1.1", "169.254.169.254",
                                     "100.64.0.1", "0.0.0.0", "fe80::1", "fc00::1",
                                     "::ffff:127.0.0.1", "224.0.0.1", "not-an-ip"])
def test_private_addresses(address: str) -> None:
    assert is_private(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.216.34", "2606:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert not is_private(address)  # classified only: nothing is sent anywhere


class Hook(ThreadingHTTPServer):
    """A webhook receiver on 127.0.0.1 that counts posts and redirects ``/moved``."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), HookHandler)
        self.posts = 0


class HookHandler(BaseHTTPRequestHandler):
    server: Hook

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.posts += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_to_loopback_is_refused_by_default(hook: Hook, no_allow: None) -> None:
    url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    with pytest.raises(DeliveryError, match="private address"):
        post_json(url, {"a": 1}, timeout=5)
    assert hook.posts == 0


def test_webhook_to_loopback_is_allowed_when_set(hook: Hook,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "1")
    post_json(f"http://127.0.0.1:{hook.server_address[1]}/hook", {"a": 1}, timeout=5)
    assert hook.posts == 1
