"""A full disk: the crawl stops cleanly with one line, nothing archived is damaged, read
commands still work, and once there is space again the next crawl completes the archive.

Real ``mediawatch`` processes crawl the sample newsroom (127.0.0.1) into a data directory
on a small tmpfs that the test mounts (root only: CI runs as root), filled with a ballast
file to the point each case needs:

* below ``min_free_space`` before the crawl starts: nothing is fetched;
* crossing it while the crawl writes its WARC file: the crawl stops at the next exchange;
* the disk really full (``min_free_space = 0``): writes fail with ENOSPC, in the WARC file,
  in archive.db and in the log file on the same disk.

Without a tmpfs, the same ENOSPC path is reached through ``RLIMIT_FSIZE`` (EFBIG), which
needs no privilege. Each case checks stderr (one ``mediawatch: error:`` line, no traceback,
no ``--- Logging error ---``), exit code 2, and after freeing space, the export against an
uninterrupted crawl's.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
from typing import TYPE_CHECKING

import pytest

from scheduler.newsroom.server import Newsroom
from scheduler.newsroom.sources import render_sources
from tests.conftest import MEDIAWATCH
from tests.test_ingest_ledger import cli, export, without_clusters
from tests.test_service import logged_runs

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

DISK = 24 * 1024**2  # the tmpfs: room for the code's data, not for a ballast on top


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The newsroom's base URL and an uninterrupted crawl of northwind (its data folder)."""
    work = tmp_path_factory.mktemp("disk-full")
    with Newsroom() as server:
        config = work / "sources.toml"
        config.write_text(render_sources(server.base_url), encoding="utf-8")
        cli(config, work / "reference", "crawl", "northwind")
        yield server.base_url, work / "reference"


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs mounted for the test (and unmounted after it)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def sources(base_url: str, path: Path, min_free_space: str) -> Path:
    """The newsroom's sources file with ``[crawl] min_free_space`` set."""
    text = render_sources(base_url).replace(
        "[crawl]\n", f'[crawl]\nmin_free_space = "{min_free_space}"\n', 1)
    path.write_text(text, encoding="utf-8")
    return path


def free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill(disk: Path, leave: int) -> Path:
    """Write a ballast file until only about ``leave`` bytes are free on ``disk``."""
    ballast = disk / "ballast"
    with open(ballast, "ab") as out:
        chunk = b"\0" * 65536
        while free(disk) - len(chunk) > leave:
            out.write(chunk)
            out.flush()
        while free(disk) > leave:
            out.write(b"\0" * 4096)
            out.flush()
    return ballast


def crawl(config: Path, data: Path, *, limit: int | None = None
          ) -> subprocess.CompletedProcess[str]:
    """``mediawatch crawl northwind``; with ``limit``, under ``RLIMIT_FSIZE`` (and SIGXFSZ
    ignored, so a write past it fails with EFBIG instead of killing the process)."""
    def limited() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return subprocess.run([MEDIAWATCH, "--config", str(config), "--data", str(data),
                           "crawl", "northwind"], capture_output=True, text=True, timeout=300,
                          check=False, preexec_fn=limited)


def assert_one_clean_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit 2 and one ``mediawatch: error:`` line naming the problem; no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "Logging error" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("mediawatch: error")]
    assert len(errors) == 1, result.stderr
    for word in ("disk full", *words):
        assert word in errors[0], errors[0]


def recovers(config: Path, data: Path, reference: Path, release: Callable[[], None]) -> None:
    """Free the space; the next crawl must bring the archive to the uninterrupted one."""
    release()
    cli(config, data, "crawl", "northwind")
    assert export(config, data) == export(config, reference)


def test_too_little_space_before_the_crawl(newsroom: tuple[str, Path], disk: Path,
                                           tmp_path: Path) -> None:
    base_url, reference = newsroom
    config = sources(base_url, tmp_path / "sources.toml", "20MB")
    data = disk / "data"
    ballast = fill(disk, 10 * 1024**2)
    result = crawl(config, data)
    assert_one_clean_line(result, str(data), "free", "min_free_space is 20 MB")
    assert not list((data / "warcs").glob("*.warc.gz*"))  # nothing fetched, nothing written
    recovers(config, data, reference, ballast.unlink)


def test_space_running_out_while_crawling(newsroom: tuple[str, Path], disk: Path,
                                          tmp_path: Path) -> None:
    base_url, reference = newsroom
    config = sources(base_url, tmp_path / "sources.toml", "4MB")
    data = disk / "data"
    cli(config, data, "runs")  # the archive exists: its few hundred kB are taken
    ballast = fill(disk, 4 * 1024**2 + 200 * 1024)  # some exchanges fit, not all
    result = crawl(config, data)
    assert_one_clean_line(result, "free")
    [run] = logged_runs(data, "northwind")
    assert run["status"] == "disk_full", run  # the run is logged, with why it stopped
    recovers(config, data, reference, ballast.unlink)


def test_a_really_full_disk(newsroom: tuple[str, Path], disk: Path, tmp_path: Path) -> None:
    base_url, reference = newsroom
    config = sources(base_url, tmp_path / "sources.toml", "0")
    data = disk / "data"
    cli(config, data, "crawl", "anatolia")  # an archive to keep intact
    before = export(config, data)
    ballast = fill(disk, 96 * 1024)
    result = crawl(config, data)
    assert_one_clean_line(result)
    # Read commands work on the full disk, and nothing archived was damaged.
    for args in (("search", "S-400"), ("runs",), ("export", "--format", "jsonl")):
        assert cli(config, data, *args).returncode == 0
    anatolia = [a for a in export(config, data) if a["source"] == "anatolia"]
    assert anatolia == before
    ballast.unlink()
    cli(config, data, "crawl", "northwind")
    assert without_clusters([a for a in export(config, data) if a["source"] == "northwind"]) \
        == without_clusters(export(config, reference))


def test_file_size_limit_without_a_tmpfs(newsroom: tuple[str, Path], tmp_path: Path) -> None:
    """The same ENOSPC class (EFBIG here) on any machine, no mount needed."""
    base_url, reference = newsroom
    config = sources(base_url, tmp_path / "sources.toml", "0")
    data = tmp_path / "data"
    result = crawl(config, data, limit=64 * 1024)  # the WARC file outgrows it
    assert_one_clean_line(result)
    recovers(config, data, reference, lambda: None)
