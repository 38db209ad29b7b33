"""The crawler's bounds against hostile sites, on real ``mediawatch crawl`` runs.

A small site on 127.0.0.1 (:mod:`tests.site_server`) serves endless sitemap index chains,
an index of 1000 sitemaps, and feeds of slow articles, and records what it was asked and
how many requests it answered at once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.site_server import Site

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


def crawl(tmp_path: Path, crawl_table: str, sources: str) -> str:
    """Run ``mediawatch crawl`` on this config; the crawl log's text."""
    config = tmp_path / "sources.toml"
    config.write_text(f"[crawl]\n{crawl_table}\n{sources}", encoding="utf-8")
    data = tmp_path / "data"
    result = subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data),
                             "crawl"], capture_output=True, text=True, timeout=300,
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return "".join(p.read_text(encoding="utf-8") for p in (data / "logs").glob("*.log"))


def source(sid: str, key: str, url: str) -> str:
    return f'[[source]]\nid = "{sid}"\n{key} = ["{url}"]\n'


def test_sitemap_index_chain_stops_at_the_default_depth(site: Site, tmp_path: Path) -> None:
    log = crawl(tmp_path, "delay = 0\nper_domain_concurrency = 8",
                source("chain", "sitemaps", f"{site.base_url}/chain/0.xml"))
    chain = [p for p in site.hits if p.startswith("/chain/")]
    # The configured index and 5 nested levels below it (sitemap_depth = 5 by default).
    assert chain == [f"/chain/{n}.xml" for n in range(6)]
    assert "/chain/6.xml" in log  # named in the one warning line, never fetched
    assert "not following sitemap" in log
    # /chain/5.xml names /chain/6.xml and /leaf/5.xml, both one level too deep.
    assert "'mediawatch/sitemaps/too_deep': 2" in log
    assert sorted(p for p in site.hits if p.startswith("/leaf/")) == [
        f"/leaf/{n}.xml" for n in range(5)]


def test_sitemap_depth_is_configurable(site: Site, tmp_path: Path) -> None:
    crawl(tmp_path, "delay = 0\nper_domain_concurrency = 8\nsitemap_depth = 2",
          source("chain", "sitemaps", f"{site.base_url}/chain/0.xml"))
    assert [p for p in site.hits if p.startswith("/chain/")] == [
        "/chain/0.xml", "/chain/1.xml", "/chain/2.xml"]


def test_sitemaps_per_source_per_run_are_bounded(site: Site, tmp_path: Path) -> None:
    log = crawl(tmp_path, "delay = 0\nper_domain_concurrency = 8\nmax_sitemaps = 20",
                source("wide", "sitemaps", f"{site.base_url}/wide.xml"))
    leaves = [p for p in site.hits if p.startswith("/leaf/")]
    assert len(leaves) == 19  # the configured index counts too: 20 sitemaps in all
    assert len(set(leaves)) == 19
    assert "'mediawatch/sitemaps/over_limit': 981" in log
    assert "981 sitemap(s) not followed" in log


@pytest.mark.parametrize("sources", [1, 2])
def test_per_domain_concurrency_holds_without_delay(site: Site, tmp_path: Path,
                                                    sources: int) -> None:
    """``per_domain_concurrency = 1`` with ``delay = 0``: never two requests at once to the
    host, whether one source or several sources on that host crawl in the same process."""
    feeds = "".join(source(name, "feeds", f"{site.base_url}/feed/{name}.xml")
                    for name in ("a", "b")[:sources])
    crawl(tmp_path, "delay = 0\nconcurrency = 8\nper_domain_concurrency = 1", feeds)
    assert sum("/art-" in p for p in site.hits) == 12 * sources
    assert site.max_in_flight == 1


def test_per_domain_concurrency_allows_that_many(site: Site, tmp_path: Path) -> None:
    crawl(tmp_path, "delay = 0\nconcurrency = 8\nper_domain_concurrency = 3",
          source("a", "feeds", f"{site.base_url}/feed/a.xml"))
    assert site.max_in_flight <= 3
